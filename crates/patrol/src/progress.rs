//! The one progress-bar style of the commands that write many orders (`seed`, `migrate`,
//! `orders export`): indicatif's templates, with `{rate}`, the orders a second as a whole number
//! (indicatif's own `{per_sec}` shows four decimals).

use indicatif::{ProgressState, ProgressStyle};

/// `template` as a style, `{rate}` in it standing for e.g. `1234/s`.
pub(crate) fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .expect("the template is valid")
        .with_key(
            "rate",
            |state: &ProgressState, out: &mut dyn std::fmt::Write| {
                let _ = out.write_str(&rate(state.per_sec()));
            },
        )
}

/// A rate as whole items a second: `1234/s`; `0/s` for none or no measure yet.
fn rate(per_second: f64) -> String {
    if per_second.is_finite() && per_second > 0.0 {
        format!("{per_second:.0}/s")
    } else {
        "0/s".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_is_a_whole_number_a_second() {
        assert_eq!(rate(1234.5678), "1235/s");
        assert_eq!(rate(0.4), "0/s");
        assert_eq!(rate(0.0), "0/s");
        assert_eq!(rate(f64::NAN), "0/s");
        assert_eq!(rate(f64::INFINITY), "0/s");
    }
}
