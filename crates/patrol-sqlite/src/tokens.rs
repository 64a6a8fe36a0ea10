//! Access tokens and the database's keys in SQLite. Tokens are stored only as keyed hashes,
//! beside the nonce they were derived from (`patrol_store::credentials`).

use patrol_domain::{AppKind, Caller, TokenGrant, TokenStatus};
use patrol_store::EXPIRED_TOKEN_RETENTION;
use patrol_store::credentials::{token_for, token_hash};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::error::{Error, Result};

pub(crate) use patrol_store::credentials::secret_hash;

/// A 32-byte key of the `meta` table, made once per database when it is created.
pub(crate) fn meta_key(conn: &Connection, name: &str) -> Result<[u8; 32]> {
    let value: Vec<u8> = conn.query_row("SELECT value FROM meta WHERE key = ?1", [name], |r| {
        r.get(0)
    })?;
    value.try_into().map_err(|_| {
        Error::Store(patrol_store::StoreError::Corrupt(format!(
            "the stored {name} is not 32 bytes"
        )))
    })
}

/// The cursor secret.
pub(crate) fn cursor_secret(conn: &Connection) -> Result<[u8; 32]> {
    meta_key(conn, "cursor_secret")
}

/// The key of the stored token hashes.
pub(crate) fn token_key(conn: &Connection) -> Result<[u8; 32]> {
    meta_key(conn, "token_key")
}

/// `gettoken` in the writer's transaction: see [`patrol_store::TokenStore::grant_token`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn grant_token_tx(
    tx: &Transaction<'_>,
    token_key: &[u8; 32],
    corpid: &str,
    secret: &str,
    now: i64,
    ttl: i64,
    nonce: [u8; 32],
) -> Result<TokenGrant> {
    let hash = secret_hash(secret);
    let Some(corp_key) = tx
        .query_row("SELECT id FROM corps WHERE corpid = ?1", [corpid], |r| {
            r.get::<_, i64>(0)
        })
        .optional()?
    else {
        return Ok(TokenGrant::UnknownCorp);
    };
    let Some(app_key) = tx
        .query_row(
            "SELECT id FROM apps WHERE corp_id = ?1 AND secret_hash = ?2 AND enabled = 1",
            params![corp_key, hash.as_slice()],
            |r| r.get::<_, i64>(0),
        )
        .optional()?
    else {
        return Ok(TokenGrant::BadSecret);
    };
    let live = tx
        .query_row(
            "SELECT token_hash, nonce, expires_at FROM tokens WHERE app_id = ?1 AND expires_at > ?2
                     ORDER BY expires_at DESC LIMIT 1",
            params![app_key, now],
            |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            },
        )
        .optional()?;
    if let Some((stored, nonce, expires_at)) = live
        && let Ok(nonce) = <[u8; 32]>::try_from(nonce)
    {
        // The same token again, derived from the secret the caller proved; a token made under
        // another secret (none should outlive a change of secret) is replaced.
        let token = token_for(secret, &nonce);
        if token_hash(token_key, &token).as_slice() == stored.as_slice() {
            return Ok(TokenGrant::Granted { token, expires_at });
        }
    }
    tx.execute(
        "DELETE FROM tokens WHERE app_id = ?1 AND expires_at < ?2",
        params![app_key, now.saturating_sub(EXPIRED_TOKEN_RETENTION)],
    )?;
    let expires_at = now.saturating_add(ttl);
    let token = token_for(secret, &nonce);
    tx.execute(
        "INSERT INTO tokens (token_hash, app_id, expires_at, nonce) VALUES (?1, ?2, ?3, ?4)",
        params![
            token_hash(token_key, &token).as_slice(),
            app_key,
            expires_at,
            nonce.as_slice()
        ],
    )?;
    Ok(TokenGrant::Granted { token, expires_at })
}

/// A token's status, with its expiry when it is valid.
pub(crate) fn authenticate_query(
    conn: &Connection,
    token_key: &[u8; 32],
    token: &str,
    now: i64,
) -> Result<(TokenStatus, i64)> {
    let row = conn
        .prepare_cached(
            "SELECT t.expires_at, a.enabled, a.id, a.agentid, a.kind, a.patrol_enabled,
                        c.id, c.created_at, a.resident_enabled, a.contact_enabled
                 FROM tokens t JOIN apps a ON a.id = t.app_id JOIN corps c ON c.id = a.corp_id
                 WHERE t.token_hash = ?1",
        )?
        .query_row([token_hash(token_key, token).as_slice()], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, bool>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, bool>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, i64>(7)?,
                r.get::<_, bool>(8)?,
                r.get::<_, bool>(9)?,
            ))
        })
        .optional()?;
    let Some((
        expires_at,
        enabled,
        app_key,
        agentid,
        kind,
        patrol_enabled,
        corp_key,
        corp_created_at,
        resident_enabled,
        contact_enabled,
    )) = row
    else {
        return Ok((TokenStatus::Unknown, 0));
    };
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
    Ok((
        TokenStatus::Valid(Caller {
            corp_key,
            corp_created_at,
            app_key,
            agentid,
            kind,
            patrol_enabled,
            resident_enabled,
            contact_enabled,
        }),
        expires_at,
    ))
}
