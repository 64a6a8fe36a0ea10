//! [`TokenCache`]: valid tokens recently read, so that most calls need no query to authenticate.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use patrol_domain::{Caller, TokenStatus};

/// Valid tokens recently read. An entry is trusted for [`TokenCache::TRUST_SECONDS`] at most, and
/// every write that can revoke a token (a new secret, an app changed or deleted) must call
/// [`TokenCache::clear`], so a revocation through this store takes effect at once and one through
/// another process sharing the database within seconds. Bounded: at
/// [`TokenCache::MAX_ENTRIES`] it starts again empty.
///
/// Expiry is judged on the server's clock (`now`, which the administration API may move); the
/// trust is bounded twice: by the server's clock (an entry read at a later `now`, or more than
/// [`TokenCache::TRUST_SECONDS`] before, is read again) and by the monotonic time since it was
/// read, so that a frozen or moved clock never keeps an entry trusted longer than that.
#[derive(Debug, Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<String, CachedCaller>>,
}

#[derive(Debug)]
struct CachedCaller {
    caller: Caller,
    expires_at: i64,
    cached_at: i64,
    /// When it was read, in monotonic time.
    read_at: Instant,
}

impl TokenCache {
    /// How long an entry is trusted, in seconds.
    pub const TRUST_SECONDS: i64 = 2;
    /// The most entries held.
    pub const MAX_ENTRIES: usize = 10_000;

    /// The status of a cached token at `now`, if the cache still trusts its entry.
    pub fn get(&self, token: &str, now: i64) -> Option<TokenStatus> {
        self.get_at(token, now, Instant::now())
    }

    fn get_at(&self, token: &str, now: i64, instant: Instant) -> Option<TokenStatus> {
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = entries.get(token)?;
        let trust = Duration::from_secs(Self::TRUST_SECONDS.unsigned_abs());
        if now.saturating_sub(entry.cached_at) >= Self::TRUST_SECONDS
            || now < entry.cached_at
            || instant.saturating_duration_since(entry.read_at) >= trust
        {
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
        self.put_at(token, caller, expires_at, now, Instant::now());
    }

    fn put_at(&self, token: &str, caller: &Caller, expires_at: i64, now: i64, instant: Instant) {
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
            read_at: instant,
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

#[cfg(test)]
mod tests {
    use super::*;
    use patrol_domain::AppKind;

    fn caller() -> Caller {
        Caller {
            corp_key: 1,
            corp_created_at: 1_700_000_000,
            app_key: 1,
            agentid: 1_000_002,
            kind: AppKind::Custom,
            patrol_enabled: true,
            resident_enabled: false,
            contact_enabled: false,
        }
    }

    const T: i64 = 1_800_000_000;

    fn cached(read_at: Instant) -> TokenCache {
        let cache = TokenCache::default();
        cache.put_at("tok", &caller(), T + 7200, T, read_at);
        cache
    }

    #[test]
    fn an_entry_is_trusted_two_seconds_of_the_servers_clock() {
        let at = Instant::now();
        let cache = cached(at);
        assert_eq!(
            cache.get_at("tok", T, at),
            Some(TokenStatus::Valid(caller()))
        );
        assert_eq!(
            cache.get_at("tok", T + 1, at),
            Some(TokenStatus::Valid(caller()))
        );
        assert_eq!(cache.get_at("tok", T + 2, at), None);
        assert_eq!(cache.get_at("other", T, at), None);
    }

    #[test]
    fn a_clock_moved_past_the_expiry_expires_the_entry_at_once() {
        let at = Instant::now();
        let cache = cached(at);
        // Within the trust, on the server's clock, a token past its expiry is expired.
        let cache_at_expiry = TokenCache::default();
        cache_at_expiry.put_at("tok", &caller(), T + 1, T, at);
        assert_eq!(
            cache_at_expiry.get_at("tok", T + 1, at),
            Some(TokenStatus::Expired)
        );
        // A jump far ahead is past the trust: the store is asked again.
        assert_eq!(cache.get_at("tok", T + 7200, at), None);
    }

    #[test]
    fn a_clock_moved_back_or_frozen_does_not_extend_the_trust() {
        let at = Instant::now();
        let cache = cached(at);
        // Back: read again at once.
        assert_eq!(cache.get_at("tok", T - 1, at), None);
        assert_eq!(cache.get_at("tok", T - 3600, at), None);
        // Frozen: the server's clock says no time passed, the monotonic time says two seconds.
        let later = at + Duration::from_secs(2);
        assert_eq!(cache.get_at("tok", T, later), None);
        let just_before = at + Duration::from_millis(1999);
        assert_eq!(
            cache.get_at("tok", T, just_before),
            Some(TokenStatus::Valid(caller()))
        );
    }

    #[test]
    fn a_revoking_write_empties_it() {
        let at = Instant::now();
        let cache = cached(at);
        cache.clear();
        assert_eq!(cache.get_at("tok", T, at), None);
    }
}
