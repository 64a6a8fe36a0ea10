//! [`TokenCache`]: valid tokens recently read, so that most calls need no query to authenticate.

use std::collections::HashMap;
use std::sync::Mutex;

use patrol_domain::{Caller, TokenStatus};

/// Valid tokens recently read. An entry is trusted for [`TokenCache::TRUST_SECONDS`] at most, and
/// every write that can revoke a token (a new secret, an app changed or deleted) must call
/// [`TokenCache::clear`], so a revocation through this store takes effect at once and one through
/// another process sharing the database within seconds. Bounded: at
/// [`TokenCache::MAX_ENTRIES`] it starts again empty.
#[derive(Debug, Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<String, CachedCaller>>,
}

#[derive(Debug)]
struct CachedCaller {
    caller: Caller,
    expires_at: i64,
    cached_at: i64,
}

impl TokenCache {
    /// How long an entry is trusted, in seconds.
    pub const TRUST_SECONDS: i64 = 2;
    /// The most entries held.
    pub const MAX_ENTRIES: usize = 10_000;

    /// The status of a cached token at `now`, if the cache still trusts its entry.
    pub fn get(&self, token: &str, now: i64) -> Option<TokenStatus> {
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = entries.get(token)?;
        if now - entry.cached_at >= Self::TRUST_SECONDS || now < entry.cached_at {
            return None;
        }
        Some(if now >= entry.expires_at {
            TokenStatus::Expired
        } else {
            TokenStatus::Valid(entry.caller.clone())
        })
    }

    /// Remembers a valid token read at `now`.
    pub fn put(&self, token: &str, caller: &Caller, expires_at: i64, now: i64) {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= Self::MAX_ENTRIES {
            entries.clear();
        }
        let entry = CachedCaller {
            caller: caller.clone(),
            expires_at,
            cached_at: now,
        };
        entries.insert(token.to_owned(), entry);
    }

    /// Forgets every token: after any write that can revoke one.
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}
