//! Access tokens and the database's keys in PostgreSQL. Tokens are stored only as keyed hashes,
//! beside the nonce they were derived from (`patrol_store::credentials`), under their corp.
//!
//! A token starts with its corp's key (16 hex digits) before the part derived from the app's
//! secret: checking a token reads the rows of one corp only (the tokens table is keyed by the
//! corp, like every table). A forged prefix names another corp, where the token's hash is not.

use patrol_domain::{AppKind, Caller, TokenGrant, TokenStatus};
use patrol_store::credentials::{secret_hash, token_for, token_hash};
use patrol_store::{EXPIRED_TOKEN_RETENTION, Result};
use tokio_postgres::Transaction;

use crate::PostgresStore;
use crate::error::Error;

/// Hex digits of the corp key in front of a token.
const CORP_PREFIX: usize = 16;

/// The length of a token without the prefix (`patrol_store::credentials::token_for`).
const BARE_TOKEN_LEN: usize = 64;

/// The token an app of corp `corp_key` gets for a row with this nonce.
fn token_of(corp_key: i64, secret: &str, nonce: &[u8; 32]) -> String {
    format!("{corp_key:016x}{}", token_for(secret, nonce))
}

/// The corp key a token names, if it starts with one.
fn corp_of(token: &str) -> Option<i64> {
    let prefix = token.get(..CORP_PREFIX)?;
    if !prefix
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        return None;
    }
    u64::from_str_radix(prefix, 16)
        .ok()
        .and_then(|key| i64::try_from(key).ok())
}

async fn grant_token_tx(
    tx: &Transaction<'_>,
    token_key: &[u8; 32],
    corp_key: i64,
    secret: &str,
    now: i64,
    ttl: i64,
    nonce: [u8; 32],
) -> Result<TokenGrant, Error> {
    let hash = secret_hash(secret).to_vec();
    let Some(app) = tx
        .query_opt(
            "SELECT agentid FROM apps WHERE corp_id = $1 AND secret_hash = $2 AND enabled
             ORDER BY agentid LIMIT 1",
            &[&corp_key, &hash],
        )
        .await?
    else {
        return Ok(TokenGrant::BadSecret);
    };
    let agentid: i64 = app.get(0);
    let live = tx
        .query_opt(
            "SELECT token_hash, nonce, expires_at FROM tokens
             WHERE corp_id = $1 AND agentid = $2 AND expires_at > $3
             ORDER BY expires_at DESC LIMIT 1",
            &[&corp_key, &agentid, &now],
        )
        .await?;
    if let Some(row) = live {
        let (stored, nonce, expires_at): (Vec<u8>, Vec<u8>, i64) =
            (row.get(0), row.get(1), row.get(2));
        if let Ok(nonce) = <[u8; 32]>::try_from(nonce) {
            // The same token again, derived from the secret the caller proved; a token made
            // under another secret (none should outlive a change of secret) is replaced.
            let token = token_of(corp_key, secret, &nonce);
            if token_hash(token_key, &token).as_slice() == stored.as_slice() {
                return Ok(TokenGrant::Granted { token, expires_at });
            }
        }
    }
    tx.execute(
        "DELETE FROM tokens WHERE corp_id = $1 AND agentid = $2 AND expires_at < $3",
        &[
            &corp_key,
            &agentid,
            &now.saturating_sub(EXPIRED_TOKEN_RETENTION),
        ],
    )
    .await?;
    let expires_at = now.saturating_add(ttl);
    let token = token_of(corp_key, secret, &nonce);
    tx.execute(
        "INSERT INTO tokens (corp_id, token_hash, agentid, expires_at, nonce)
         VALUES ($1, $2, $3, $4, $5)",
        &[
            &corp_key,
            &token_hash(token_key, &token).to_vec(),
            &agentid,
            &expires_at,
            &nonce.to_vec(),
        ],
    )
    .await?;
    Ok(TokenGrant::Granted { token, expires_at })
}

impl PostgresStore {
    /// A token's status, with its expiry when it is valid.
    async fn authenticate_query(&self, token: &str, now: i64) -> Result<(TokenStatus, i64)> {
        let hash = &token_hash(&self.inner.token_key, token).to_vec();
        // On the primary (a token just granted must work at once), again on a fresh connection
        // when the pooled one broke: every request of a token not cached starts here.
        let row = self
            .primary_read(|client| async move {
                // A token without the prefix was issued by a backend that puts none (SQLite) and
                // came with its database (`patrol migrate`): `moved_tokens`, a reference table,
                // names its corp. Either way the token's row is read in one corp.
                let corp_key: i64 = if token.len() == BARE_TOKEN_LEN {
                    match client
                        .query_opt(
                            &client.prepare_cached("SELECT corp_id FROM moved_tokens WHERE token_hash = $1").await?,
                            &[hash],
                        )
                        .await?
                    {
                        Some(row) => row.get(0),
                        None => return Ok(None),
                    }
                } else {
                    match corp_of(token) {
                        Some(corp_key) => corp_key,
                        None => return Ok(None),
                    }
                };
                Ok(client
                    .query_opt(
                        &client.prepare_cached("SELECT t.expires_at, a.enabled, a.agentid, a.kind, a.patrol_enabled,
                                c.created_at, a.resident_enabled, a.contact_enabled, t.corp_id
                         FROM tokens t
                         JOIN apps a ON a.corp_id = t.corp_id AND a.agentid = t.agentid
                         JOIN corps c ON c.id = t.corp_id
                         WHERE t.corp_id = $1 AND t.token_hash = $2").await?,
                        &[&corp_key, hash],
                    )
                    .await?)
            })
            .await?;
        let Some(row) = row else {
            return Ok((TokenStatus::Unknown, 0));
        };
        let corp_key: i64 = row.get(8);
        let expires_at: i64 = row.get(0);
        let enabled: bool = row.get(1);
        let kind: String = row.get(3);
        let Some(kind) = AppKind::parse(&kind).filter(|_| enabled) else {
            return Ok((TokenStatus::Unknown, 0));
        };
        if expires_at <= now {
            // Remembered for the retention period (42001), then as good as never issued (40014).
            let status = if now.saturating_sub(expires_at) < EXPIRED_TOKEN_RETENTION {
                TokenStatus::Expired
            } else {
                TokenStatus::Unknown
            };
            return Ok((status, expires_at));
        }
        let agentid: i64 = row.get(2);
        Ok((
            TokenStatus::Valid(Caller {
                corp_key,
                corp_created_at: row.get(5),
                // An app is its agentid within its corp.
                app_key: agentid,
                agentid,
                kind,
                patrol_enabled: row.get(4),
                resident_enabled: row.get(6),
                contact_enabled: row.get(7),
            }),
            expires_at,
        ))
    }
}

#[async_trait::async_trait]
impl patrol_store::TokenStore for PostgresStore {
    async fn cursor_secret(&self) -> Result<[u8; 32]> {
        let client = self.client().await?;
        Ok(crate::secret(&client, "cursor_secret").await?)
    }

    async fn grant_token(
        &self,
        corpid: &str,
        secret: &str,
        now: i64,
        ttl: i64,
        nonce: [u8; 32],
    ) -> Result<TokenGrant> {
        // PostgreSQL's text holds no NUL: such a corpid names no corp.
        if corpid.contains('\0') {
            return Ok(TokenGrant::UnknownCorp);
        }
        let corp_key: Option<i64> = self
            .primary_read(|client| async move {
                Ok(client
                    .query_opt("SELECT id FROM corps WHERE corpid = $1", &[&corpid])
                    .await?)
            })
            .await?
            .map(|row| row.get(0));
        let Some(corp_key) = corp_key else {
            return Ok(TokenGrant::UnknownCorp);
        };
        let token_key = self.inner.token_key;
        let secret = secret.to_owned();
        self.write(Some(corp_key), move |tx| {
            Box::pin(async move {
                grant_token_tx(tx, &token_key, corp_key, &secret, now, ttl, nonce).await
            })
        })
        .await
    }

    async fn authenticate(&self, token: &str, now: i64) -> Result<TokenStatus> {
        if let Some(status) = self.inner.tokens.get(token, now) {
            return Ok(status);
        }
        let (status, expires_at) = self.authenticate_query(token, now).await?;
        if let TokenStatus::Valid(caller) = &status {
            self.inner.tokens.put(token, caller, expires_at, now);
        }
        Ok(status)
    }
}

/// Empties the token cache after a write that revokes tokens (a secret replaced, an app
/// disabled, changed or deleted): see `patrol_store::TokenCache`.
pub(crate) fn revoked(store: &PostgresStore) {
    store.inner.tokens.clear();
}
