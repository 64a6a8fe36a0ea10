//! What `patrol admin` prints without `--json`: aligned tables and readable times.

pub(crate) use crate::table::table;

/// Prints a table, or `empty` when there are no rows.
#[allow(clippy::print_stdout)]
pub(crate) fn print_table(headers: &[&str], rows: &[Vec<String>], empty: &str) {
    if rows.is_empty() {
        println!("{empty}");
    } else {
        print!("{}", table(headers, rows));
    }
}

/// Unix seconds as `2023-11-26 12:00:00 UTC`.
pub(crate) fn time(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let seconds = unix.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    )
}

/// Unix seconds with the time they name: `1701000000 (2023-11-26 12:00:00 UTC)`.
pub(crate) fn unix_and_time(unix: i64) -> String {
    format!("{unix} ({})", time(unix))
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

/// A list of ids for a table cell or a line: `a, b`, or `-` when empty.
pub(crate) fn list(items: &[String]) -> String {
    if items.is_empty() {
        "-".to_owned()
    } else {
        items.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_dates() {
        assert_eq!(time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(time(1_701_360_000), "2023-11-30 16:00:00 UTC");
        assert_eq!(time(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(time(-1), "1969-12-31 23:59:59 UTC");
    }

    #[test]
    fn tables_align_wide_characters() {
        let rows = vec![
            vec!["g1".to_owned(), "一号网格".to_owned(), "x".to_owned()],
            vec!["g10".to_owned(), "ab".to_owned(), "y".to_owned()],
        ];
        assert_eq!(
            table(&["ID", "NAME", "MORE"], &rows),
            "ID   NAME      MORE\ng1   一号网格  x\ng10  ab        y\n"
        );
    }
}
