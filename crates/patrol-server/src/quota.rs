//! WeCom's call-frequency limits, enforced when a server is configured to (`--quotas`): the
//! reference's §9. Per API (the route a call matched):
//!
//! - per corp: at most `corp_per_minute` calls a minute and `corp_per_hour` an hour;
//! - per client IP: at most `ip_per_minute` and `ip_per_hour`;
//! - at most `concurrent_per_api` calls running at once (45033, not counted in the windows).
//!
//! A call past a limit is answered 45009 and blocks its subject for that API: 60 seconds past a
//! minute limit, an hour past an hour limit, as WeCom documents; calls while blocked are answered
//! 45009 and not counted. Windows are whole minutes and hours of the server's clock, so a clock
//! set or advanced moves them. Memory is bounded: at most [`MAX_SUBJECTS`] windows are kept,
//! the stale ones dropped first; past that, a new subject is let through uncounted (and logged)
//! rather than grow.
//!
//! The rules are plain functions of the time they are given ([`Quotas::admit`]); the server
//! calls them with its clock.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Windows kept at most (per corp or IP, per API).
pub const MAX_SUBJECTS: usize = 100_000;

/// The limits of a server; `None` in `Config` means no quota at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaLimits {
    pub corp_per_minute: u64,
    pub corp_per_hour: u64,
    pub ip_per_minute: u64,
    pub ip_per_hour: u64,
    /// Calls of one API running at once (all corps); 0: no cap.
    pub concurrent_per_api: usize,
}

impl Default for QuotaLimits {
    /// WeCom's documented limits (OFF-90454); the concurrency cap is the 400 a community test
    /// saw 45033 at, as WeCom publishes no number.
    fn default() -> QuotaLimits {
        QuotaLimits {
            corp_per_minute: 10_000,
            corp_per_hour: 150_000,
            ip_per_minute: 20_000,
            ip_per_hour: 600_000,
            concurrent_per_api: 400,
        }
    }
}

impl QuotaLimits {
    /// The names of the limits, for messages.
    pub const NAMES: &'static str =
        "corp_per_minute, corp_per_hour, ip_per_minute, ip_per_hour, concurrent_per_api";

    /// Sets one limit from `NAME=N` (`concurrent_per_api=0`: no cap; the others at least 1).
    pub fn set(&mut self, assignment: &str) -> Result<(), String> {
        let (name, value) = assignment
            .split_once('=')
            .ok_or_else(|| format!("quota {assignment:?}: expected NAME=N"))?;
        let (name, value) = (name.trim(), value.trim());
        let number: u64 = value
            .parse()
            .map_err(|_| format!("quota {name}: {value:?} is not a whole number"))?;
        if number == 0 && name != "concurrent_per_api" {
            return Err(format!("quota {name} must be at least 1"));
        }
        match name {
            "corp_per_minute" => self.corp_per_minute = number,
            "corp_per_hour" => self.corp_per_hour = number,
            "ip_per_minute" => self.ip_per_minute = number,
            "ip_per_hour" => self.ip_per_hour = number,
            "concurrent_per_api" => {
                self.concurrent_per_api = usize::try_from(number)
                    .map_err(|_| format!("quota {name}: {number} is too large"))?;
            }
            _ => {
                return Err(format!(
                    "unknown quota {name:?}: expected one of {}",
                    QuotaLimits::NAMES
                ));
            }
        }
        Ok(())
    }
}

/// Who a window counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    Corp(i64),
    Ip(IpAddr),
}

/// Why a call was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 45009: past a frequency limit, or blocked for having been; until this time.
    Frequency { until: i64 },
    /// 45033: too many calls of this API running.
    Concurrency,
}

/// The calls of one subject to one API in the current minute and hour.
#[derive(Debug, Clone, Copy, Default)]
struct Window {
    minute: i64,
    in_minute: u64,
    hour: i64,
    in_hour: u64,
    blocked_until: i64,
}

impl Window {
    /// Whether nothing of this window matters any more at `now`.
    fn stale(&self, now: i64) -> bool {
        self.blocked_until <= now && self.hour < now.div_euclid(3600) * 3600
    }
}

/// The state of the quotas of one server.
#[derive(Debug)]
pub struct Quotas {
    limits: QuotaLimits,
    windows: Mutex<HashMap<(Subject, Arc<str>), Window>>,
    running: Mutex<HashMap<Arc<str>, Arc<AtomicUsize>>>,
}

/// A call of an API counted as running until dropped.
#[derive(Debug)]
pub struct Running(Arc<AtomicUsize>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Quotas {
    pub fn new(limits: QuotaLimits) -> Quotas {
        Quotas {
            limits,
            windows: Mutex::new(HashMap::new()),
            running: Mutex::new(HashMap::new()),
        }
    }

    pub fn limits(&self) -> QuotaLimits {
        self.limits
    }

    /// Counts a call of `api` by `subject` at `now`, or refuses it (45009).
    pub fn admit(&self, subject: Subject, api: &str, now: i64) -> Result<(), Refusal> {
        let (per_minute, per_hour) = match subject {
            Subject::Corp(_) => (self.limits.corp_per_minute, self.limits.corp_per_hour),
            Subject::Ip(_) => (self.limits.ip_per_minute, self.limits.ip_per_hour),
        };
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let key = (subject, Arc::<str>::from(api));
        if !windows.contains_key(&key) && windows.len() >= MAX_SUBJECTS {
            windows.retain(|_, window| !window.stale(now));
            if windows.len() >= MAX_SUBJECTS {
                tracing::warn!(
                    subjects = MAX_SUBJECTS,
                    "quota windows full: a call is let through uncounted"
                );
                return Ok(());
            }
        }
        let window = windows.entry(key).or_default();
        if window.blocked_until > now {
            return Err(Refusal::Frequency {
                until: window.blocked_until,
            });
        }
        let (minute, hour) = (now.div_euclid(60) * 60, now.div_euclid(3600) * 3600);
        if window.minute != minute {
            window.minute = minute;
            window.in_minute = 0;
        }
        if window.hour != hour {
            window.hour = hour;
            window.in_hour = 0;
        }
        if window.in_hour >= per_hour {
            window.blocked_until = now + 3600;
        } else if window.in_minute >= per_minute {
            window.blocked_until = now + 60;
        } else {
            window.in_minute += 1;
            window.in_hour += 1;
            return Ok(());
        }
        Err(Refusal::Frequency {
            until: window.blocked_until,
        })
    }

    /// Takes one of the running slots of `api`, or refuses the call (45033).
    pub fn start(&self, api: &str) -> Result<Option<Running>, Refusal> {
        let cap = self.limits.concurrent_per_api;
        if cap == 0 {
            return Ok(None);
        }
        // The APIs are the server's routes: a few dozen counters at most.
        let counter = {
            let mut running = self
                .running
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match running.get(api) {
                Some(counter) => counter.clone(),
                None => running.entry(Arc::from(api)).or_default().clone(),
            }
        };
        if counter.fetch_add(1, Ordering::AcqRel) >= cap {
            counter.fetch_sub(1, Ordering::AcqRel);
            return Err(Refusal::Concurrency);
        }
        Ok(Some(Running(counter)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const API: &str = "/cgi-bin/report/patrol/get_order_list";

    fn quotas(per_minute: u64, per_hour: u64) -> Quotas {
        Quotas::new(QuotaLimits {
            corp_per_minute: per_minute,
            corp_per_hour: per_hour,
            ip_per_minute: per_minute,
            ip_per_hour: per_hour,
            concurrent_per_api: 2,
        })
    }

    #[test]
    fn the_call_past_a_minute_limit_blocks_sixty_seconds() {
        let quotas = quotas(3, 100);
        let corp = || Subject::Corp(1);
        let t = 1_800_000_000; // A whole minute (and hour).
        assert_eq!(t % 3600, 0);
        for _ in 0..3 {
            assert_eq!(quotas.admit(corp(), API, t), Ok(()));
        }
        assert_eq!(
            quotas.admit(corp(), API, t + 5),
            Err(Refusal::Frequency { until: t + 65 })
        );
        // Blocked past the window's end, and refused calls do not count.
        assert!(quotas.admit(corp(), API, t + 64).is_err());
        assert_eq!(quotas.admit(corp(), API, t + 65), Ok(()));
        // Another corp, another API and an IP are counted apart.
        assert_eq!(quotas.admit(Subject::Corp(2), API, t), Ok(()));
        assert_eq!(quotas.admit(corp(), "/cgi-bin/gettoken", t + 5), Ok(()));
        assert_eq!(
            quotas.admit(Subject::Ip("127.0.0.1".parse().unwrap()), API, t + 5),
            Ok(())
        );
    }

    #[test]
    fn the_call_past_an_hour_limit_blocks_an_hour() {
        let quotas = quotas(100, 5);
        let t = 1_800_000_000; // A whole hour.
        for minute in 0..5 {
            assert_eq!(quotas.admit(Subject::Corp(1), API, t + minute * 60), Ok(()));
        }
        assert_eq!(
            quotas.admit(Subject::Corp(1), API, t + 600),
            Err(Refusal::Frequency { until: t + 4200 })
        );
        assert!(quotas.admit(Subject::Corp(1), API, t + 4199).is_err());
        assert_eq!(quotas.admit(Subject::Corp(1), API, t + 4200), Ok(()));
    }

    #[test]
    fn running_calls_are_capped_per_api_and_freed_when_done() {
        let quotas = quotas(100, 100);
        let first = quotas.start(API).unwrap();
        let _second = quotas.start(API).unwrap();
        assert_eq!(quotas.start(API).unwrap_err(), Refusal::Concurrency);
        assert!(quotas.start("/cgi-bin/gettoken").is_ok());
        drop(first);
        assert!(quotas.start(API).is_ok());
    }

    #[test]
    fn limits_are_set_by_name() {
        let mut limits = QuotaLimits::default();
        limits.set("corp_per_minute=5").unwrap();
        limits.set(" ip_per_hour = 7 ").unwrap();
        limits.set("concurrent_per_api=0").unwrap();
        assert_eq!(
            (
                limits.corp_per_minute,
                limits.ip_per_hour,
                limits.concurrent_per_api
            ),
            (5, 7, 0)
        );
        for bad in [
            "corp_per_minute",
            "corp_per_minute=0",
            "ip_per_minute=-1",
            "per_day=5",
        ] {
            assert!(limits.set(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn windows_stay_within_their_bound() {
        let quotas = quotas(1, 1);
        let t = 1_800_000_000;
        for n in 0..(MAX_SUBJECTS as i64 + 10) {
            let _ = quotas.admit(Subject::Corp(n), API, t);
        }
        assert_eq!(quotas.windows.lock().unwrap().len(), MAX_SUBJECTS);
        // An hour later the stale windows make room again, and new subjects are counted.
        assert_eq!(quotas.admit(Subject::Corp(-1), API, t + 7200), Ok(()));
        assert_eq!(quotas.windows.lock().unwrap().len(), 1);
    }
}
