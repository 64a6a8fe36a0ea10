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

/// Unix seconds as the CLI shows every time: `2023-11-26 20:00:00 +08:00`, in its one time zone
/// ([`crate::orders::time::show`]).
pub(crate) fn time(unix: i64) -> String {
    crate::orders::time::show(unix)
}

/// Unix seconds with the time they name: `1701000000 (2023-11-26 20:00:00 +08:00)`; only the
/// number when it names no time jiff can show.
pub(crate) fn unix_and_time(unix: i64) -> String {
    match jiff::Timestamp::from_second(unix) {
        Ok(_) => format!("{unix} ({})", time(unix)),
        Err(_) => unix.to_string(),
    }
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
    fn times_are_the_clis_one_rule() {
        assert_eq!(time(0), "1970-01-01 08:00:00 +08:00");
        assert_eq!(time(1_701_360_000), "2023-12-01 00:00:00 +08:00");
        assert_eq!(
            unix_and_time(1_701_360_000),
            "1701360000 (2023-12-01 00:00:00 +08:00)"
        );
        assert_eq!(time(i64::MAX), i64::MAX.to_string());
        assert_eq!(unix_and_time(i64::MIN), i64::MIN.to_string());
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
