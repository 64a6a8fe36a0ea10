//! Access tokens and the cursor secret in SQLite.

use patrol_domain::{AppKind, Caller, TokenGrant, TokenStatus};
use patrol_store::EXPIRED_TOKEN_RETENTION;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::error::{Error, Result};

/// BLAKE3 of an app secret: only the hash is stored.
pub(crate) fn secret_hash(secret: &str) -> [u8; 32] {
    *blake3::hash(secret.as_bytes()).as_bytes()
}

/// The cursor secret, made once per database when it is created.
pub(crate) fn cursor_secret(conn: &Connection) -> Result<[u8; 32]> {
    let value: Vec<u8> = conn.query_row(
        "SELECT value FROM meta WHERE key = 'cursor_secret'",
        [],
        |r| r.get(0),
    )?;
    value.try_into().map_err(|_| {
        Error::Store(patrol_store::StoreError::Corrupt(
            "the stored cursor secret is not 32 bytes".into(),
        ))
    })
}

/// `gettoken` in the writer's transaction: see [`patrol_store::TokenStore::grant_token`].
pub(crate) fn grant_token_tx(
    tx: &Transaction<'_>,
    corpid: &str,
    hash: [u8; 32],
    now: i64,
    ttl: i64,
    candidate: String,
) -> Result<TokenGrant> {
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
            "SELECT token, expires_at FROM tokens WHERE app_id = ?1 AND expires_at > ?2
                     ORDER BY expires_at DESC LIMIT 1",
            params![app_key, now],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
        )
        .optional()?;
    if let Some((token, expires_at)) = live {
        return Ok(TokenGrant::Granted { token, expires_at });
    }
    tx.execute(
        "DELETE FROM tokens WHERE app_id = ?1 AND expires_at < ?2",
        params![app_key, now - EXPIRED_TOKEN_RETENTION],
    )?;
    let expires_at = now + ttl;
    tx.execute(
        "INSERT INTO tokens (token, app_id, expires_at) VALUES (?1, ?2, ?3)",
        params![candidate, app_key, expires_at],
    )?;
    Ok(TokenGrant::Granted {
        token: candidate,
        expires_at,
    })
}

/// A token's status, with its expiry when it is valid.
pub(crate) fn authenticate_query(
    conn: &Connection,
    token: &str,
    now: i64,
) -> Result<(TokenStatus, i64)> {
    let row = conn
        .prepare_cached(
            "SELECT t.expires_at, a.enabled, a.id, a.agentid, a.kind, a.patrol_enabled,
                        c.id, c.created_at
                 FROM tokens t JOIN apps a ON a.id = t.app_id JOIN corps c ON c.id = a.corp_id
                 WHERE t.token = ?1",
        )?
        .query_row([token], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, bool>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, bool>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, i64>(7)?,
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
    )) = row
    else {
        return Ok((TokenStatus::Unknown, 0));
    };
    let Some(kind) = AppKind::parse(&kind).filter(|_| enabled) else {
        return Ok((TokenStatus::Unknown, 0));
    };
    if expires_at <= now {
        // Remembered for the retention period (42001), then as good as never issued (40014).
        let status = if now - expires_at < EXPIRED_TOKEN_RETENTION {
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
        }),
        expires_at,
    ))
}
