//! The one time rule of the CLI's output and input: every command (`patrol admin`, `orders`,
//! `stats`, `media`) shows times in one time zone, with its offset (`2026-11-01 08:00:00
//! +08:00`), and reads a date or date-time without `Z` or an offset in that same zone. The zone is
//! `--time-zone` / `PATROL_TIME_ZONE` / `time_zone` of the config file (the setting `patrol serve`
//! takes for the statistics' "today"), Asia/Shanghai by default: WeCom's and patrol's default
//! (decisions.md, "One time zone in the CLI"). jiff checks the calendar and does the
//! arithmetic; this file only decides which spellings are accepted.

use std::sync::OnceLock;

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::{Offset, TimeZone};

/// Asia/Shanghai, WeCom's time zone. Mainland China has kept UTC+8 all year round since 1991
/// (no daylight saving time), so a fixed offset is exact for every time WeCom can have recorded
/// and no time zone database is needed.
const SHANGHAI: TimeZone = TimeZone::fixed(jiff::tz::offset(8));

/// The zone set by [`set_zone`]; unset, Asia/Shanghai.
static ZONE: OnceLock<TimeZone> = OnceLock::new();

/// Sets the CLI's time zone from the `time_zone` setting (an IANA name); `None` keeps
/// Asia/Shanghai. Returns whether a zone was set. Once per process.
pub(crate) fn set_zone(name: Option<&str>) -> anyhow::Result<bool> {
    let Some(name) = name.map(str::trim).filter(|name| !name.is_empty()) else {
        return Ok(false);
    };
    let zone = zone_named(name).map_err(|problem| {
        anyhow::anyhow!(
            "{problem} (set by --time-zone, PATROL_TIME_ZONE or `time_zone` in the config file)"
        )
    })?;
    let _ = ZONE.set(zone);
    Ok(true)
}

/// A time zone by its IANA name, as `patrol serve --time-zone` takes it.
fn zone_named(name: &str) -> Result<TimeZone, String> {
    TimeZone::get(name).map_err(|_| {
        format!("unknown time zone {name:?}: expected an IANA name such as Asia/Shanghai or UTC")
    })
}

/// Asia/Shanghai as a static, for [`cli_zone`] to lend.
static DEFAULT_ZONE: TimeZone = SHANGHAI;

/// The CLI's time zone.
fn cli_zone() -> &'static TimeZone {
    ZONE.get().unwrap_or(&DEFAULT_ZONE)
}

/// What a `--*-since` value may look like, for error messages.
const EXPECTED: &str = "expected Unix seconds or a date/time such as 2026-11-01, \
                        2026-11-01T08:00:00 (in the CLI's time zone, Asia/Shanghai unless \
                        --time-zone says otherwise), 2026-11-01T08:00:00+08:00 or \
                        2026-11-01T00:00:00Z";

/// Reads a `--created-since` / `--modified-since` value as Unix seconds.
///
/// Accepted: Unix seconds (`1793462400`); a date (`2026-11-01`, midnight); a date and time
/// (`2026-11-01T08:00`, `2026-11-01T08:00:00`, `T` or a space between them, an optional
/// fraction of a second that rounds up, since the filters are "at or after"). Without a zone the
/// time is in the CLI's time zone (Asia/Shanghai, UTC+8, unless set otherwise); `Z` means UTC
/// and `+08:00`, `+0800` or `+08` (after the time or a space) name an offset.
pub(crate) fn parse_since(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("an empty time: {EXPECTED}"));
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<i64>()
            .map_err(|_| format!("{text} is too large for Unix seconds"));
    }
    if let Some(rest) = text.strip_prefix('-')
        && !rest.is_empty()
        && rest.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(format!(
            "{text} is before 1970: WeCom's filters take Unix seconds from 0"
        ));
    }
    let unix =
        parse_date_time(text).map_err(|problem| format!("{problem} in {text:?}: {EXPECTED}"))?;
    if unix < 0 {
        return Err(format!(
            "{text} is before 1970-01-01T00:00:00Z: WeCom's filters take Unix seconds from 0"
        ));
    }
    Ok(unix)
}

/// Unix seconds as wall-clock time in the CLI's time zone with its offset, `2026-11-01
/// 08:00:00 +08:00`: the one way every command shows a time. The number itself when it is out
/// of jiff's range (years -9999 to 9999).
pub(crate) fn show(unix: i64) -> String {
    in_zone(cli_zone(), unix, "%Y-%m-%d %H:%M:%S %:z")
}

/// [`show`] to the minute, for tables: `2026-11-01 08:00 +08:00`.
pub(crate) fn show_minutes(unix: i64) -> String {
    in_zone(cli_zone(), unix, "%Y-%m-%d %H:%M %:z")
}

fn in_zone(zone: &TimeZone, unix: i64, format: &str) -> String {
    match Timestamp::from_second(unix) {
        Ok(timestamp) => timestamp
            .to_zoned(zone.clone())
            .strftime(format)
            .to_string(),
        Err(_) => unix.to_string(),
    }
}

/// A date, or a date and time with an optional fraction and zone, as Unix seconds.
fn parse_date_time(text: &str) -> Result<i64, String> {
    let (local, zone) = split_zone(text);
    let bytes = local.as_bytes();
    let has_time = bytes.len() > 10;
    if !matches(&bytes[..bytes.len().min(10)], b"9999-99-99") {
        return Err("a date YYYY-MM-DD expected".into());
    }
    if has_time && !matches(&bytes[10..11], b"T") {
        return Err("a 'T' or a space expected between the date and the time".into());
    }
    let clock = bytes.get(11..).unwrap_or_default();
    let (clock, fraction) = match clock.get(8) {
        Some(b'.' | b',') => (&clock[..8], &clock[9..]),
        _ => (clock, &[][..]),
    };
    if has_time && !(matches(clock, b"99:99") || matches(clock, b"99:99:99")) {
        return Err("a time HH:MM or HH:MM:SS expected after the date".into());
    }
    if clock.len() == 8
        && bytes.len() > 19
        && (fraction.is_empty() || fraction.len() > 9 || !fraction.iter().all(u8::is_ascii_digit))
    {
        return Err("one to nine digits expected after the decimal point".into());
    }
    // Every field is ASCII digits now, at a fixed place.
    let field = |at: usize, len: usize| local.get(at..at + len).unwrap_or("0");
    let two = |at: usize| field(at, 2).parse().unwrap_or(0);
    let date = date(field(0, 4).parse().unwrap_or(0), two(5), two(8))?;
    let time = time(two(11), two(14), two(17))?;
    let zone = match zone {
        None => cli_zone().clone(),
        Some(_) if !has_time => return Err("a time expected before the time zone".into()),
        Some(zone) => TimeZone::fixed(offset(zone)?),
    };
    let timestamp = zone
        .to_timestamp(date.to_datetime(time))
        .map_err(|_| "a time out of range".to_owned())?;
    let round_up = fraction.iter().any(|&digit| digit != b'0');
    Ok(timestamp.as_second() + i64::from(round_up))
}

/// The text before the zone, and the zone (`Z` or an offset) if one follows a time.
fn split_zone(text: &str) -> (&str, Option<&str>) {
    if let Some(local) = text.strip_suffix(['Z', 'z']) {
        return (local, Some("Z"));
    }
    // A sign past the date's own dashes starts an offset.
    match text.get(10..).and_then(|time| time.find(['+', '-'])) {
        // A space may stand before the offset, as `show` writes it.
        Some(at) => (text[..10 + at].trim_end(), Some(&text[10 + at..])),
        None => (text, None),
    }
}

/// Whether `text` has the shape of `pattern`: `9` is a digit, `T` is `T`, `t` or a space, other
/// bytes stand for themselves.
fn matches(text: &[u8], pattern: &[u8]) -> bool {
    text.len() == pattern.len()
        && text.iter().zip(pattern).all(|(&byte, &want)| match want {
            b'9' => byte.is_ascii_digit(),
            b'T' => matches!(byte, b'T' | b't' | b' '),
            _ => byte == want,
        })
}

fn date(year: i16, month: i8, day: i8) -> Result<Date, String> {
    if !(1..=12).contains(&month) {
        return Err(format!("month {month} is not 01 to 12"));
    }
    let last_day = Date::new(year, month, 1).map_or(31, Date::days_in_month);
    Date::new(year, month, day).map_err(|_| {
        format!("day {day} is not 01 to {last_day} ({year:04}-{month:02} has {last_day} days)")
    })
}

fn time(hour: i8, minute: i8, second: i8) -> Result<Time, String> {
    for (value, name, last) in [
        (hour, "hour", 23),
        (minute, "minute", 59),
        (second, "second", 59),
    ] {
        if value > last {
            return Err(format!("{name} {value} is not 00 to {last}"));
        }
    }
    Time::new(hour, minute, second, 0).map_err(|error| error.to_string())
}

/// `Z`, or an offset `+08`, `+0800` or `+08:00`.
fn offset(zone: &str) -> Result<Offset, String> {
    if zone == "Z" {
        return Ok(Offset::UTC);
    }
    let (sign, digits) = zone.split_at(1);
    let shaped = [&b"99"[..], b"9999", b"99:99"]
        .iter()
        .any(|pattern| matches(digits.as_bytes(), pattern));
    if !shaped {
        return Err("'Z' or an offset such as +08:00 expected after the time".into());
    }
    let hours: i32 = digits[..2].parse().unwrap_or(0);
    let minutes: i32 = match digits.len() {
        2 => 0,
        len => digits[len - 2..].parse().unwrap_or(0),
    };
    if hours > 23 || minutes > 59 {
        return Err(format!("offset {hours:02}:{minutes:02} is out of range"));
    }
    let seconds = (hours * 3600 + minutes * 60) * if sign == "-" { -1 } else { 1 };
    Offset::from_seconds(seconds).map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> i64 {
        parse_since(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    fn err(text: &str) -> String {
        match parse_since(text) {
            Ok(unix) => panic!("{text:?} parsed as {unix}"),
            Err(message) => message,
        }
    }

    #[test]
    fn unix_seconds_pass_through() {
        assert_eq!(ok("0"), 0);
        // Digits alone are always Unix seconds, even when they look like a year.
        assert_eq!(ok("2026"), 2026);
        assert_eq!(ok("1793462400"), 1_793_462_400);
        assert_eq!(ok(" 1793462400 "), 1_793_462_400);
        assert!(err("99999999999999999999").contains("too large"));
        assert!(err("-5").contains("before 1970"));
    }

    #[test]
    fn dates_and_times_without_a_zone_are_asia_shanghai() {
        // Checked against `date -d 2026-11-01T00:00:00+08:00 +%s`.
        assert_eq!(ok("2026-11-01"), 1_793_462_400);
        assert_eq!(ok("2026-11-01T00:00:00"), 1_793_462_400);
        assert_eq!(ok("2026-11-01T08:00"), 1_793_462_400 + 8 * 3600);
        assert_eq!(ok("2026-11-01 08:00:00"), 1_793_462_400 + 8 * 3600);
        assert_eq!(ok("2026-11-01t08:00:00"), 1_793_462_400 + 8 * 3600);
        assert_eq!(ok("2024-02-29T12:34:56"), 1_709_181_296);
        assert_eq!(ok("1970-01-01T08:00:00"), 0);
    }

    #[test]
    fn z_and_offsets_name_the_zone() {
        assert_eq!(ok("2026-11-01T08:00:00Z"), 1_793_520_000);
        assert_eq!(ok("2026-11-01T08:00:00z"), 1_793_520_000);
        assert_eq!(ok("2026-11-01T08:00Z"), 1_793_520_000);
        assert_eq!(ok("2026-11-01T08:00:00+08:00"), ok("2026-11-01T08:00:00"));
        assert_eq!(ok("2026-11-01T08:00:00+0800"), ok("2026-11-01T08:00:00"));
        assert_eq!(ok("2026-11-01T08:00:00+08"), ok("2026-11-01T08:00:00"));
        assert_eq!(ok("2026-11-01T08:00:00+05:00"), 1_793_502_000);
        assert_eq!(ok("2026-11-01T08:00:00-05:30"), 1_793_539_800);
        assert_eq!(ok("2026-11-01T08:00:00-00:00"), 1_793_520_000);
        assert_eq!(ok("2000-03-01T00:00:00Z"), 951_868_800);
        assert_eq!(ok("1970-01-01T00:00:00Z"), 0);
    }

    #[test]
    fn fractions_round_up_since_the_filters_are_inclusive() {
        assert_eq!(ok("2026-11-01T08:00:00.5Z"), 1_793_520_001);
        assert_eq!(ok("2026-11-01T08:00:00,000000001Z"), 1_793_520_001);
        assert_eq!(ok("2026-11-01T08:00:00.000Z"), 1_793_520_000);
        assert!(err("2026-11-01T08:00:00.Z").contains("decimal point"));
        assert!(err("2026-11-01T08:00:00.1234567891Z").contains("decimal point"));
    }

    #[test]
    fn calendars_are_checked() {
        assert_eq!(ok("2000-02-29"), ok("2000-02-28") + 86_400);
        assert!(err("2023-02-29").contains("2023-02 has 28 days"));
        assert!(err("2100-02-29").contains("28 days"));
        assert!(err("2026-04-31").contains("30 days"));
        assert!(err("2026-13-01").contains("month 13"));
        assert!(err("2026-00-01").contains("month 0"));
        assert!(err("2026-01-00").contains("day 0"));
        assert!(err("2026-11-01T24:00").contains("hour 24"));
        assert!(err("2026-11-01T23:60").contains("minute 60"));
        assert!(err("2026-11-01T23:59:60").contains("second 60"));
        assert!(err("2026-11-01T08:00:00+24:00").contains("offset"));
        assert!(err("2026-11-01T08:00:00+08:60").contains("offset"));
    }

    #[test]
    fn malformed_times_say_what_was_expected() {
        for text in [
            "",
            "   ",
            "yesterday",
            "2026-",
            "2026-1-01",
            "2026-11-1",
            "26-11-01",
            "20261-11-01",
            "2026/11/01",
            "2026-11-01T",
            "2026-11-01T8:00",
            "2026-11-01T08",
            "2026-11-01T08:00:0",
            "2026-11-01T08:00:00 Z",
            "2026-11-01T08:00:00+8",
            "2026-11-01T08:00:00+08:0",
            "2026-11-01T08:00:00+080",
            "2026-11-01T08:00:00+08000",
            "2026-11-01T08:00:00Zjunk",
            "2026-11-01Z",
            "2026-11-01x",
            "２０２６-11-01",
            "-",
            "1e9",
        ] {
            let message = err(text);
            assert!(message.contains("expected"), "{text:?}: {message}");
        }
    }

    #[test]
    fn times_before_1970_are_refused() {
        assert!(err("1969-12-31").contains("before 1970"));
        // Midnight in Shanghai is 16:00 UTC the day before.
        assert!(err("1970-01-01").contains("before 1970"));
        assert!(err("1970-01-01T07:59:59").contains("before 1970"));
    }

    #[test]
    fn times_show_in_asia_shanghai_with_the_offset_by_default() {
        assert_eq!(show(0), "1970-01-01 08:00:00 +08:00");
        assert_eq!(show(1_793_462_400), "2026-11-01 00:00:00 +08:00");
        assert_eq!(show(1_709_181_296), "2024-02-29 12:34:56 +08:00");
        assert_eq!(show(-28_801), "1969-12-31 23:59:59 +08:00");
        assert_eq!(show_minutes(1_709_181_296), "2024-02-29 12:34 +08:00");
        assert_eq!(show(i64::MAX), i64::MAX.to_string());
    }

    #[test]
    fn another_zone_shows_its_own_offset_daylight_saving_included() {
        let berlin = zone_named("Europe/Berlin").unwrap();
        let format = "%Y-%m-%d %H:%M:%S %:z";
        assert_eq!(
            in_zone(&berlin, 1_793_462_400, format),
            "2026-10-31 17:00:00 +01:00"
        );
        assert_eq!(
            in_zone(&berlin, 1_783_000_000, format),
            "2026-07-02 15:46:40 +02:00"
        );
        let utc = zone_named("UTC").unwrap();
        assert_eq!(in_zone(&utc, 0, format), "1970-01-01 00:00:00 +00:00");
        for bad in ["Mars/Olympus", "UTC+8", "+08:00", ""] {
            assert!(zone_named(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn printed_times_parse_back() {
        let mut unix = 0;
        while unix < 4_200_000_000 {
            for text in [
                show(unix),
                show(unix).replace(' ', "T").replacen("T+", "+", 1),
            ] {
                assert_eq!(ok(&text), unix, "{text}");
            }
            unix += 86_399 * 7 + 13;
        }
    }
}
