//! A bound on log lines that a client can cause: a flood of refused requests (or of failed
//! administration logins) must not turn into unbounded disk use.
//!
//! [`LogLimit`] admits at most a fixed number of lines per second; the lines it drops are
//! counted, and the count is reported on the next line it admits (and kept in a total).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Lines per second admitted by default.
pub const DEFAULT_LINES_PER_SECOND: u32 = 20;

/// Admits at most `per_second` lines in each one-second window.
#[derive(Debug)]
pub struct LogLimit {
    per_second: u32,
    started: Instant,
    window: Mutex<Window>,
    dropped_total: AtomicU64,
}

#[derive(Debug, Default)]
struct Window {
    /// Seconds since `started` of the current window.
    second: u64,
    admitted: u32,
    /// Lines dropped since the last admitted one.
    dropped: u64,
}

impl Default for LogLimit {
    fn default() -> LogLimit {
        LogLimit::new(DEFAULT_LINES_PER_SECOND)
    }
}

impl LogLimit {
    pub fn new(per_second: u32) -> LogLimit {
        LogLimit {
            per_second,
            started: Instant::now(),
            window: Mutex::new(Window::default()),
            dropped_total: AtomicU64::new(0),
        }
    }

    /// Whether a line may be written now: `Some(n)` with the number of lines dropped since the
    /// last admitted one (to be reported in it), `None` to drop this one.
    pub fn admit(&self) -> Option<u64> {
        let second = self.started.elapsed().as_secs();
        let mut window = self
            .window
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if window.second != second {
            window.second = second;
            window.admitted = 0;
        }
        if window.admitted >= self.per_second {
            window.dropped += 1;
            self.dropped_total.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        window.admitted += 1;
        Some(std::mem::take(&mut window.dropped))
    }

    /// Lines dropped since this limit was made.
    pub fn dropped_total(&self) -> u64 {
        self.dropped_total.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_is_cut_to_the_limit_and_counted() {
        let limit = LogLimit::new(3);
        let admitted: Vec<_> = (0..10).map(|_| limit.admit()).collect();
        // Unless the second turned in the middle, 3 pass and 7 are dropped.
        let passed = admitted.iter().filter(|a| a.is_some()).count();
        assert!((3..=6).contains(&passed), "{admitted:?}");
        assert_eq!(limit.dropped_total(), 10 - passed as u64);
        assert_eq!(admitted[0], Some(0));
    }

    #[test]
    fn the_next_window_reports_what_was_dropped() {
        let limit = LogLimit::new(1);
        assert_eq!(limit.admit(), Some(0));
        let mut dropped = 0;
        let reported = loop {
            if let Some(reported) = limit.admit() {
                break reported;
            }
            dropped += 1;
            if dropped == 5 {
                std::thread::sleep(std::time::Duration::from_millis(1100));
            }
        };
        // The line admitted in the next second carries the count of those dropped before it.
        assert_eq!(reported, dropped);
        assert_eq!(limit.dropped_total(), dropped);
    }
}
