//! The one clock: everything that needs "now" (token expiry, the default time of an action, the
//! demo's anchor, request ids) reads it from a [`Clock`] handed down from the application state,
//! never from the system directly, so that tests, the emulator and the administration API can
//! hold or move time.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

/// Where patrol reads the time. A clock is in one of three [`ClockMode`]s: real (the system's
/// time), offset (the system's time moved by a number of seconds: it keeps running) or frozen (a
/// time that stands still until it is set, advanced or released). Cloning a clock shares it: a
/// change through one clone is read by all.
#[derive(Clone)]
pub struct Clock {
    setting: Arc<Mutex<Setting>>,
}

/// What a clock reads: the system's time, moved or not, or a time of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Setting {
    Real,
    Offset(i64),
    Frozen(i64),
}

/// How a clock runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockMode {
    /// The system's time.
    Real,
    /// The system's time moved by an offset: it keeps running.
    Offset,
    /// A time that stands still.
    Frozen,
}

impl ClockMode {
    /// The mode as the administration API and the log spell it: `real`, `offset`, `frozen`.
    pub fn name(self) -> &'static str {
        match self {
            ClockMode::Real => "real",
            ClockMode::Offset => "offset",
            ClockMode::Frozen => "frozen",
        }
    }
}

/// A reading of a clock: the time, how the clock runs, and how far it is from the system's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockReading {
    /// The time in Unix seconds.
    pub now: i64,
    pub mode: ClockMode,
    /// `now` minus the system's time, in seconds (0 when real; a frozen clock's grows more
    /// negative as real time passes).
    pub offset: i64,
}

/// A change of a clock: see [`Clock::change`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockChange {
    /// Reads `unix` from now on: a frozen clock stays frozen there, another one runs on from it.
    Set(i64),
    /// Moves the clock by that many seconds (back when negative), in its mode; a real clock
    /// becomes an offset one.
    Advance(i64),
    /// Stands still at the current time until set, advanced or released.
    Freeze,
    /// Reads the system's time again.
    Release,
}

/// The system's time in Unix seconds.
fn system_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl Setting {
    fn read(self, system: i64) -> ClockReading {
        match self {
            Setting::Real => ClockReading {
                now: system,
                mode: ClockMode::Real,
                offset: 0,
            },
            Setting::Offset(offset) => ClockReading {
                now: system.saturating_add(offset),
                mode: ClockMode::Offset,
                offset,
            },
            Setting::Frozen(now) => ClockReading {
                now,
                mode: ClockMode::Frozen,
                offset: now.saturating_sub(system),
            },
        }
    }

    /// The setting after `change` at the system's time `system`.
    fn changed(self, change: ClockChange, system: i64) -> Setting {
        let now = self.read(system).now;
        match (change, self) {
            (ClockChange::Set(unix), Setting::Frozen(_)) => Setting::Frozen(unix),
            (ClockChange::Set(unix), _) => Setting::Offset(unix.saturating_sub(system)),
            (ClockChange::Advance(seconds), Setting::Frozen(at)) => {
                Setting::Frozen(at.saturating_add(seconds))
            }
            (ClockChange::Advance(seconds), Setting::Offset(offset)) => {
                Setting::Offset(offset.saturating_add(seconds))
            }
            (ClockChange::Advance(seconds), Setting::Real) => Setting::Offset(seconds),
            (ClockChange::Freeze, _) => Setting::Frozen(now),
            (ClockChange::Release, _) => Setting::Real,
        }
    }
}

impl Clock {
    fn with(setting: Setting) -> Clock {
        Clock {
            setting: Arc::new(Mutex::new(setting)),
        }
    }

    /// The system's clock (real), which [`Clock::change`] may still move.
    pub fn system() -> Clock {
        Clock::with(Setting::Real)
    }

    /// A clock frozen at `unix` (seconds): it stands still until set, advanced or released.
    pub fn manual(unix: i64) -> Clock {
        Clock::with(Setting::Frozen(unix))
    }

    fn setting(&self) -> std::sync::MutexGuard<'_, Setting> {
        self.setting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The current time in Unix seconds.
    pub fn now(&self) -> i64 {
        self.reading().now
    }

    /// The current time, the mode and the offset, read together.
    pub fn reading(&self) -> ClockReading {
        let setting = *self.setting();
        setting.read(system_now())
    }

    /// Changes the clock when the time it then reads is within `allowed` (the time a release
    /// or a freeze reads is always allowed); returns the reading after the change, or the time
    /// the change would have read (and changes nothing).
    pub fn change(
        &self,
        change: ClockChange,
        allowed: impl FnOnce(i64) -> bool,
    ) -> Result<ClockReading, i64> {
        let mut setting = self.setting();
        let system = system_now();
        let next = setting.changed(change, system);
        let reading = next.read(system);
        let checked = matches!(change, ClockChange::Set(_) | ClockChange::Advance(_));
        if checked && !allowed(reading.now) {
            return Err(reading.now);
        }
        *setting = next;
        Ok(reading)
    }

    /// Sets the clock to `unix` (a frozen clock stays frozen).
    pub fn set(&self, unix: i64) {
        let _ = self.change(ClockChange::Set(unix), |_| true);
    }

    /// Moves the clock by `seconds` (a frozen clock stays frozen).
    pub fn advance(&self, seconds: i64) {
        let _ = self.change(ClockChange::Advance(seconds), |_| true);
    }
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::system()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self.setting() {
            Setting::Real => f.write_str("Clock::system()"),
            Setting::Offset(offset) => write!(f, "Clock::system() {offset:+} s"),
            Setting::Frozen(now) => write!(f, "Clock::manual({now})"),
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
        shared.advance(60);
        assert_eq!(clock.now(), 1_700_000_060);
        clock.set(5);
        assert_eq!(shared.now(), 5);
        assert_eq!(clock.reading().mode, ClockMode::Frozen);
    }

    #[test]
    fn the_system_clock_is_real_until_changed_and_real_again_when_released() {
        let clock = Clock::system();
        let reading = clock.reading();
        assert_eq!(reading.mode, ClockMode::Real);
        assert_eq!(reading.offset, 0);
        assert!(reading.now > 1_700_000_000);

        let system = system_now();
        clock.advance(3600);
        let reading = clock.reading();
        assert_eq!((reading.mode, reading.offset), (ClockMode::Offset, 3600));
        assert!(reading.now >= system + 3600, "{reading:?}");

        clock.advance(-7200);
        assert_eq!(clock.reading().offset, -3600);

        clock.set(1_000_000_000);
        let reading = clock.reading();
        assert_eq!(reading.mode, ClockMode::Offset);
        assert!(
            (1_000_000_000..1_000_000_010).contains(&reading.now),
            "{reading:?}"
        );

        clock.change(ClockChange::Release, |_| false).unwrap();
        let reading = clock.reading();
        assert_eq!((reading.mode, reading.offset), (ClockMode::Real, 0));
        assert!(reading.now >= system);
    }

    #[test]
    fn a_frozen_clock_moves_only_when_set_or_advanced() {
        let clock = Clock::system();
        clock.set(2_000_000_000);
        let frozen = clock.change(ClockChange::Freeze, |_| false).unwrap();
        assert_eq!(frozen.mode, ClockMode::Frozen);
        let at = frozen.now;
        assert!((2_000_000_000..2_000_000_010).contains(&at), "{frozen:?}");
        clock.advance(-10);
        assert_eq!(clock.now(), at - 10);
        clock.set(1_900_000_000);
        assert_eq!(clock.reading().mode, ClockMode::Frozen);
        assert_eq!(clock.now(), 1_900_000_000);
        // Freezing a frozen clock keeps its time.
        clock.change(ClockChange::Freeze, |_| true).unwrap();
        assert_eq!(clock.now(), 1_900_000_000);
    }

    #[test]
    fn a_change_outside_the_allowed_times_changes_nothing() {
        let clock = Clock::manual(1_700_000_000);
        let allowed = |t: i64| (946_684_800..4_102_444_800).contains(&t);
        assert_eq!(
            clock.change(ClockChange::Set(5), allowed),
            Err(5),
            "set before 2000"
        );
        assert_eq!(
            clock.change(ClockChange::Advance(i64::MAX), allowed),
            Err(i64::MAX),
            "an advance saturates rather than overflowing"
        );
        assert_eq!(clock.now(), 1_700_000_000);
        assert_eq!(clock.reading().mode, ClockMode::Frozen);
        let moved = clock
            .change(ClockChange::Advance(-86_400), allowed)
            .unwrap();
        assert_eq!(moved.now, 1_699_913_600);
    }
}
