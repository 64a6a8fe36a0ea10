//! The one clock: everything that needs "now" (token expiry, the default time of an action, the
//! demo's anchor, request ids) reads it from a [`Clock`] handed down from the application state,
//! never from the system directly, so that tests and the emulator can hold or move time.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Where patrol reads the time: the system clock, or a manual clock that stands still until it is
/// set or advanced. Cloning a manual clock shares it.
#[derive(Clone)]
pub struct Clock {
    source: Source,
}

#[derive(Clone)]
enum Source {
    System,
    Manual(Arc<AtomicI64>),
}

impl Clock {
    /// The system's clock.
    pub fn system() -> Clock {
        Clock {
            source: Source::System,
        }
    }

    /// A clock that reads `unix` (seconds) until [`Clock::set`] or [`Clock::advance`] moves it.
    pub fn manual(unix: i64) -> Clock {
        Clock {
            source: Source::Manual(Arc::new(AtomicI64::new(unix))),
        }
    }

    /// The current time in Unix seconds.
    pub fn now(&self) -> i64 {
        match &self.source {
            Source::System => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
            Source::Manual(now) => now.load(Ordering::Relaxed),
        }
    }

    /// Sets a manual clock; returns `false` (and changes nothing) on the system clock.
    pub fn set(&self, unix: i64) -> bool {
        match &self.source {
            Source::System => false,
            Source::Manual(now) => {
                now.store(unix, Ordering::Relaxed);
                true
            }
        }
    }

    /// Moves a manual clock by `seconds`; returns `false` (and changes nothing) on the system
    /// clock.
    pub fn advance(&self, seconds: i64) -> bool {
        match &self.source {
            Source::System => false,
            Source::Manual(now) => {
                now.fetch_add(seconds, Ordering::Relaxed);
                true
            }
        }
    }
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::system()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Source::System => f.write_str("Clock::system()"),
            Source::Manual(now) => write!(f, "Clock::manual({})", now.load(Ordering::Relaxed)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_stands_still_until_moved_and_is_shared_by_its_clones() {
        let clock = Clock::manual(1_700_000_000);
        let shared = clock.clone();
        assert_eq!(clock.now(), 1_700_000_000);
        assert!(shared.advance(60));
        assert_eq!(clock.now(), 1_700_000_060);
        assert!(clock.set(5));
        assert_eq!(shared.now(), 5);
    }

    #[test]
    fn the_system_clock_cannot_be_moved() {
        let clock = Clock::system();
        assert!(clock.now() > 1_700_000_000);
        assert!(!clock.set(5) && !clock.advance(5));
        assert!(clock.now() > 1_700_000_000);
    }
}
