//! `/admin/v1/clock`: the server's clock, read, set, advanced, frozen and released. One clock per
//! server process (docs/decisions.md, "The server's clock"); every "now" of the server is read
//! from it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use patrol_domain::{ClockChange, ClockMode, ClockReading, limits};
use patrol_wire::admin::{ClockChange as ChangeBody, ClockView};

use super::{AdminError, AdminJson, answer};
use crate::AppState;

fn view(reading: ClockReading) -> ClockView {
    ClockView {
        now: reading.now,
        mode: reading.mode.name().to_owned(),
        offset: reading.offset,
    }
}

pub(super) async fn show(State(state): State<AppState>) -> Response {
    answer(StatusCode::OK, &view(state.clock().reading()))
}

/// The one change a body asks for.
fn change_of(body: &ChangeBody) -> Result<ClockChange, AdminError> {
    let given: Vec<&str> = [
        ("set", body.set.is_some()),
        ("advance", body.advance.is_some()),
        ("freeze", body.freeze.is_some()),
        ("release", body.release.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, present)| present.then_some(name))
    .collect();
    if given.len() != 1 {
        let got = if given.is_empty() {
            "none".to_owned()
        } else {
            given.join(", ")
        };
        return Err(AdminError::invalid(format!(
            "give exactly one of set, advance, freeze, release (got {got})"
        )));
    }
    match (body.set, body.advance, body.freeze, body.release) {
        (Some(unix), ..) => Ok(ClockChange::Set(unix)),
        (_, Some(seconds), ..) => Ok(ClockChange::Advance(seconds)),
        (_, _, Some(true), _) => Ok(ClockChange::Freeze),
        (_, _, _, Some(true)) => Ok(ClockChange::Release),
        (_, _, Some(false), _) => Err(AdminError::invalid(
            "freeze takes only true: {\"freeze\": true}; {\"release\": true} unfreezes",
        )),
        _ => Err(AdminError::invalid(
            "release takes only true: {\"release\": true}",
        )),
    }
}

pub(super) async fn change(
    State(state): State<AppState>,
    AdminJson(body): AdminJson<ChangeBody>,
) -> Result<Response, AdminError> {
    let change = change_of(&body)?;
    let reading = state
        .clock()
        .change(change, |time| limits::check_clock_time(time).is_ok())
        .map_err(|would_be| {
            let what = match change {
                ClockChange::Advance(seconds) => format!("advance {seconds}"),
                _ => "set".to_owned(),
            };
            let reason = limits::check_clock_time(would_be)
                .err()
                .map_or_else(String::new, |rejection| rejection.to_string());
            AdminError::invalid(format!("{what}: {reason}"))
        })?;
    if reading.mode == ClockMode::Real {
        tracing::info!(
            clock = reading.now,
            clock_mode = reading.mode.name(),
            "the server's clock is released: it reads the system's time again"
        );
    } else {
        tracing::warn!(
            clock = reading.now,
            clock_mode = reading.mode.name(),
            clock_offset = reading.offset,
            "the server's clock is not real: it is {} ({:+} s from the system's time)",
            reading.mode.name(),
            reading.offset
        );
    }
    Ok(answer(StatusCode::OK, &view(reading)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_asks_for_exactly_one_change() {
        let body = |json: &str| serde_json::from_str::<ChangeBody>(json).unwrap();
        assert_eq!(
            change_of(&body(r#"{"set": 1767196800}"#)).unwrap(),
            ClockChange::Set(1_767_196_800)
        );
        assert_eq!(
            change_of(&body(r#"{"advance": -30}"#)).unwrap(),
            ClockChange::Advance(-30)
        );
        assert_eq!(
            change_of(&body(r#"{"freeze": true}"#)).unwrap(),
            ClockChange::Freeze
        );
        assert_eq!(
            change_of(&body(r#"{"release": true}"#)).unwrap(),
            ClockChange::Release
        );
        for bad in [
            "{}",
            r#"{"set": null}"#,
            r#"{"set": 1767196800, "advance": 5}"#,
            r#"{"freeze": true, "release": true}"#,
            r#"{"freeze": false}"#,
            r#"{"release": false}"#,
        ] {
            let error = change_of(&body(bad)).unwrap_err();
            assert_eq!(error.status, StatusCode::BAD_REQUEST, "{bad}");
        }
    }
}
