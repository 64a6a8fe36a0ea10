//! `patrol admin clock …`: the server's clock, shown, set, advanced, frozen and released
//! (`/admin/v1/clock`).

use clap::{Args, Subcommand};
use patrol_wire::admin::{ClockChange, ClockView};

use super::client::Client;
use super::output;
use crate::orders::time::parse_since;

#[derive(Debug, Args)]
pub(crate) struct ClockArgs {
    #[command(subcommand)]
    command: Option<ClockCommand>,
}

#[derive(Debug, Subcommand)]
enum ClockCommand {
    /// Show the server's clock (the default).
    Show,
    /// Set the clock to a time; a frozen clock stays frozen there, another one runs on from it.
    Set {
        /// Unix seconds, or a date or date-time: 2026-01-01, 2026-01-01T08:00:00 (the CLI's time
        /// zone, --time-zone, Asia/Shanghai by default),
        /// 2026-01-01T00:00:00+08:00 or 2026-01-01T00:00:00Z. From 2000 to 2100.
        #[arg(value_name = "TIME", value_parser = parse_since)]
        time: i64,
    },
    /// Move the clock by a duration: 2h, 90s, 1d, 1h30m, -30m (back), or seconds.
    Advance {
        /// The duration; negative moves the clock back.
        #[arg(value_name = "DURATION", allow_hyphen_values = true, value_parser = parse_duration)]
        by: i64,
    },
    /// Stop the clock at its current time until it is set, advanced or released.
    Freeze,
    /// Return to the system's time.
    Release,
}

/// A duration as whole seconds: jiff's friendly form (`2h`, `90s`, `1d`, `1h 30m`, `-30m`, a day
/// being 24 hours) or ISO 8601 (`PT2H`), or a number of seconds.
pub(crate) fn parse_duration(text: &str) -> Result<i64, String> {
    const EXPECTED: &str = "expected e.g. 2h, 90s, 1d, 1h30m, -30m or a number of seconds";
    let text = text.trim();
    if let Ok(seconds) = text.parse::<i64>() {
        return Ok(seconds);
    }
    let span: jiff::Span = text
        .parse()
        .map_err(|error| format!("{text:?} is not a duration ({error}): {EXPECTED}"))?;
    let duration = span
        .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
        .map_err(|error| format!("{text:?} is not a fixed duration ({error}): {EXPECTED}"))?;
    if duration.subsec_nanos() != 0 {
        return Err(format!("{text:?} is not whole seconds: {EXPECTED}"));
    }
    Ok(duration.as_secs())
}

/// How a reading of the clock is shown.
fn describe(clock: &ClockView) -> String {
    let mut text = format!(
        "now     {}\nmode    {}\noffset  {:+} s\n",
        output::unix_and_time(clock.now),
        clock.mode,
        clock.offset
    );
    if clock.mode != "real" {
        text.push_str(
            "the server's clock is not real: `patrol admin clock release` returns it to the \
             system's time\n",
        );
    }
    text
}

#[allow(clippy::print_stdout)]
pub(crate) async fn run(client: &Client, args: ClockArgs) -> anyhow::Result<()> {
    let change = match args.command.unwrap_or(ClockCommand::Show) {
        ClockCommand::Show => None,
        ClockCommand::Set { time } => Some(ClockChange {
            set: Some(time),
            ..ClockChange::default()
        }),
        ClockCommand::Advance { by } => Some(ClockChange {
            advance: Some(by),
            ..ClockChange::default()
        }),
        ClockCommand::Freeze => Some(ClockChange {
            freeze: Some(true),
            ..ClockChange::default()
        }),
        ClockCommand::Release => Some(ClockChange {
            release: Some(true),
            ..ClockChange::default()
        }),
    };
    let answer = match change {
        None => client.get::<ClockView>(&["clock"]).await?,
        Some(change) => client.post::<ClockView>(&["clock"], &change).await?,
    };
    if let Some(clock) = answer {
        print!("{}", describe(&clock));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_whole_seconds() {
        for (text, seconds) in [
            ("2h", 7200),
            ("90s", 90),
            ("-30m", -1800),
            ("1d", 86_400),
            ("1h30m", 5400),
            ("1h 30m", 5400),
            ("PT2H", 7200),
            ("-3600", -3600),
            ("0", 0),
        ] {
            assert_eq!(parse_duration(text), Ok(seconds), "{text}");
        }
        for bad in ["", "1.5s", "1mo", "1y", "soon", "h", "--1h"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }
}
