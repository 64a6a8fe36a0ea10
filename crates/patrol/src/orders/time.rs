//! Times for `patrol orders`: reading `--created-since` / `--modified-since` (Unix seconds, or a
//! date or date-time in China Standard Time unless it ends with `Z` or an offset) and showing Unix
//! seconds as Asia/Shanghai wall-clock time.
//!
//! WeCom is a service of mainland China, whose one time zone, Asia/Shanghai, has been UTC+8 all
//! year round since 1991; a fixed offset is exact for every time WeCom can have recorded.

/// Asia/Shanghai's offset from UTC, in seconds.
const SHANGHAI_OFFSET: i64 = 8 * 3600;

/// What a `--*-since` value may look like, for error messages.
const EXPECTED: &str = "expected Unix seconds or a date/time such as 2026-11-01, \
                        2026-11-01T08:00:00 (Asia/Shanghai) or 2026-11-01T00:00:00Z";

/// Reads a `--created-since` / `--modified-since` value as Unix seconds.
///
/// Accepted: Unix seconds (`1793462400`); a date (`2026-11-01`, midnight); a date and time
/// (`2026-11-01T08:00`, `2026-11-01T08:00:00`, `T` or a space between them, an optional
/// fraction of a second that rounds up, since the filters are "at or after"). Without a zone the
/// time is Asia/Shanghai's (UTC+8); `Z` means UTC and `+08:00`, `+0800` or `+08` name an offset.
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
    let unix = DateTime::parse(text)
        .map_err(|problem| format!("{problem} in {text:?}: {EXPECTED}"))?
        .unix();
    if unix < 0 {
        return Err(format!(
            "{text} is before 1970-01-01T00:00:00Z: WeCom's filters take Unix seconds from 0"
        ));
    }
    Ok(unix)
}

/// Unix seconds as Asia/Shanghai wall-clock time, `2026-11-01 08:00:00`.
pub(crate) fn shanghai(unix: i64) -> String {
    let local = unix.saturating_add(SHANGHAI_OFFSET);
    let (year, month, day) = civil_from_days(local.div_euclid(86_400));
    let seconds = local.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    )
}

/// Unix seconds as Asia/Shanghai wall-clock time to the minute, `2026-11-01 08:00`.
pub(crate) fn shanghai_minutes(unix: i64) -> String {
    let mut text = shanghai(unix);
    text.truncate(text.len() - 3);
    text
}

/// A parsed date-time, before it becomes Unix seconds.
#[derive(Debug, Default)]
struct DateTime {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    /// A non-zero fraction of a second followed: round up.
    fraction: bool,
    /// Seconds east of UTC.
    offset: i64,
}

impl DateTime {
    fn parse(text: &str) -> Result<DateTime, String> {
        let mut input = Input {
            bytes: text.as_bytes(),
            at: 0,
        };
        let mut parsed = DateTime {
            offset: SHANGHAI_OFFSET,
            ..DateTime::default()
        };
        parsed.year = input.digits(4, "a four-digit year")?;
        input.expect(b'-', "'-' after the year")?;
        parsed.month = input.digits(2, "a two-digit month")?;
        input.expect(b'-', "'-' after the month")?;
        parsed.day = input.digits(2, "a two-digit day")?;
        if !(1..=12).contains(&parsed.month) {
            return Err(format!("month {} is not 01 to 12", parsed.month));
        }
        let last_day = days_in_month(parsed.year, parsed.month);
        if !(1..=last_day).contains(&parsed.day) {
            return Err(format!(
                "day {} is not 01 to {last_day} ({:04}-{:02} has {last_day} days)",
                parsed.day, parsed.year, parsed.month
            ));
        }
        if input.done() {
            return Ok(parsed);
        }
        if !input.eat(|b| matches!(b, b'T' | b't' | b' ')) {
            return Err("a 'T' or a space expected between the date and the time".into());
        }
        parsed.hour = input.digits(2, "a two-digit hour")?;
        input.expect(b':', "':' after the hour")?;
        parsed.minute = input.digits(2, "two-digit minutes")?;
        if input.eat(|b| b == b':') {
            parsed.second = input.digits(2, "two-digit seconds")?;
            if input.eat(|b| matches!(b, b'.' | b',')) {
                let start = input.at;
                while input.eat(|b| b.is_ascii_digit()) {}
                let fraction = &input.bytes[start..input.at];
                if fraction.is_empty() || fraction.len() > 9 {
                    return Err("one to nine digits expected after the decimal point".into());
                }
                parsed.fraction = fraction.iter().any(|&b| b != b'0');
            }
        }
        if parsed.hour > 23 {
            return Err(format!("hour {} is not 00 to 23", parsed.hour));
        }
        if parsed.minute > 59 {
            return Err(format!("minute {} is not 00 to 59", parsed.minute));
        }
        if parsed.second > 59 {
            return Err(format!("second {} is not 00 to 59", parsed.second));
        }
        if input.done() {
            return Ok(parsed);
        }
        if input.eat(|b| matches!(b, b'Z' | b'z')) {
            parsed.offset = 0;
        } else if let Some(sign) = input.take(|b| matches!(b, b'+' | b'-')) {
            // +08, +0800 or +08:00.
            let hours = input.fixed(2, "a two-digit offset hour")?;
            let minutes = if input.done() {
                0
            } else {
                input.eat(|b| b == b':');
                input.digits(2, "two-digit offset minutes")?
            };
            if hours > 23 || minutes > 59 {
                return Err(format!("offset {hours:02}:{minutes:02} is out of range"));
            }
            let offset = hours * 3600 + minutes * 60;
            parsed.offset = if sign == b'-' { -offset } else { offset };
        } else {
            return Err("'Z' or an offset such as +08:00 expected after the time".into());
        }
        if !input.done() {
            return Err("unexpected text after the time zone".into());
        }
        Ok(parsed)
    }

    fn unix(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * 86_400
            + self.hour * 3600
            + self.minute * 60
            + self.second
            + i64::from(self.fraction)
            - self.offset
    }
}

/// A cursor over the bytes of a time being parsed.
struct Input<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Input<'_> {
    fn done(&self) -> bool {
        self.at == self.bytes.len()
    }

    /// Takes the next byte if `accept` takes it.
    fn take(&mut self, accept: impl Fn(u8) -> bool) -> Option<u8> {
        let byte = *self.bytes.get(self.at)?;
        if accept(byte) {
            self.at += 1;
            Some(byte)
        } else {
            None
        }
    }

    fn eat(&mut self, accept: impl Fn(u8) -> bool) -> bool {
        self.take(accept).is_some()
    }

    fn expect(&mut self, byte: u8, what: &str) -> Result<(), String> {
        if self.eat(|b| b == byte) {
            Ok(())
        } else {
            Err(format!("{what} expected"))
        }
    }

    /// The next `count` ASCII digits.
    fn fixed(&mut self, count: usize, what: &str) -> Result<i64, String> {
        let mut value = 0;
        for _ in 0..count {
            let digit = self
                .take(|b| b.is_ascii_digit())
                .ok_or_else(|| format!("{what} expected"))?;
            value = value * 10 + i64::from(digit - b'0');
        }
        Ok(value)
    }

    /// Exactly `count` ASCII digits, not followed by another digit.
    fn digits(&mut self, count: usize, what: &str) -> Result<i64, String> {
        let value = self.fixed(count, what)?;
        if self.bytes.get(self.at).is_some_and(u8::is_ascii_digit) {
            return Err(format!("{what} expected, found more digits"));
        }
        Ok(value)
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a count of days since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
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
    fn shanghai_time_is_utc_plus_8() {
        assert_eq!(shanghai(0), "1970-01-01 08:00:00");
        assert_eq!(shanghai(1_793_462_400), "2026-11-01 00:00:00");
        assert_eq!(shanghai(1_709_181_296), "2024-02-29 12:34:56");
        assert_eq!(shanghai(-28_801), "1969-12-31 23:59:59");
        assert_eq!(shanghai_minutes(1_709_181_296), "2024-02-29 12:34");
    }

    #[test]
    fn printed_times_parse_back() {
        let mut unix = 0;
        while unix < 4_200_000_000 {
            let text = shanghai(unix);
            assert_eq!(ok(&text), unix, "{text}");
            let days = unix.div_euclid(86_400);
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
            unix += 86_399 * 7 + 13;
        }
    }
}
