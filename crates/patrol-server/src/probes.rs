//! The probes a supervisor waits on (docs/decisions.md, "Probes"): `/healthz`, the process
//! answers; `/readyz`, it can serve: the database answers a trivial query within
//! [`READY_TIMEOUT`], its migrations are the ones this patrol knows, and the listener accepts.
//! Both outside `/cgi-bin/`, without the admin key, `GET` and `HEAD` only.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::AppState;

/// How long `/readyz` waits for the database: past it the database counts as not answering, so
/// that a hung database cannot hang the probe.
pub const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether the server accepts connections: set by [`crate::Server::run`] once it serves, unset
/// when its shutdown begins (the answers still draining then say not ready).
#[derive(Debug, Default)]
pub struct Listening(AtomicBool);

impl Listening {
    pub fn set(&self, listening: bool) {
        self.0.store(listening, Ordering::Relaxed);
    }

    pub fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// `GET /healthz`: `{"status":"ok"}`, with nothing asked of the database.
pub async fn healthz() -> Response {
    json(&Status {
        status: "ok",
        checks: None,
    })
}

/// `GET /readyz`: 200 `{"status":"ready","checks":{…}}` when every check is `ok`, otherwise 503
/// `{"status":"not ready","checks":{…}}`, each failed check saying what is wrong.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let checks = check(&state.store, &state.listening).await;
    let ready = checks.database == OK && checks.migrations == OK && checks.listener == OK;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Status {
        status: if ready { "ready" } else { "not ready" },
        checks: Some(checks),
    };
    (status, json(&body)).into_response()
}

/// A body of ours as JSON (it always serializes).
pub(crate) fn json(body: &impl Serialize) -> Response {
    crate::handlers::json_bytes(serde_json::to_vec(body).expect("a probe's body serializes"))
}

const OK: &str = "ok";

#[derive(Debug, Serialize)]
struct Status {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    checks: Option<Checks>,
}

/// Each check: `ok`, or what is wrong.
#[derive(Debug, Serialize)]
struct Checks {
    database: String,
    migrations: String,
    listener: String,
}

async fn check(store: &Arc<dyn patrol_store::Store>, listening: &Listening) -> Checks {
    let (database, migrations) =
        match tokio::time::timeout(READY_TIMEOUT, store.schema_version()).await {
            Ok(Ok(version)) if version.is_current() => (OK.to_owned(), OK.to_owned()),
            Ok(Ok(version)) => (
                OK.to_owned(),
                format!(
                    "the database has schema version {}, this patrol's is {}",
                    version.applied, version.latest
                ),
            ),
            Ok(Err(error)) => {
                tracing::warn!(%error, "readiness: the database failed");
                (
                    patrol_wire::echo::bounded(&format!("failed: {error}"), 256).into_owned(),
                    "unknown".to_owned(),
                )
            }
            Err(_) => {
                tracing::warn!(
                    seconds = READY_TIMEOUT.as_secs(),
                    "readiness: the database did not answer in time"
                );
                (
                    format!("no answer within {} s", READY_TIMEOUT.as_secs()),
                    "unknown".to_owned(),
                )
            }
        };
    let listener = if listening.get() {
        OK.to_owned()
    } else {
        "not accepting connections (shutting down)".to_owned()
    };
    Checks {
        database,
        migrations,
        listener,
    }
}
