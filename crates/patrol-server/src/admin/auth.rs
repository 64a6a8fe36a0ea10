//! The admin key: `Authorization: Bearer <admin key>` on every route of the administration API,
//! and a bounded warning for every refusal.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;

use super::AdminError;
use crate::AppState;
use crate::log_limit::LogLimit;

/// Lines a second about refused admin keys: a flood of wrong keys costs one line a second, and
/// that line counts the ones dropped before it.
const REFUSED_LINES_PER_SECOND: u32 = 1;

/// What the admin-key middleware holds: the state (for the key) and the bound on its warnings.
#[derive(Debug, Clone)]
pub(super) struct AdminAuth {
    state: AppState,
    refused_log: Arc<LogLimit>,
}

impl AdminAuth {
    pub(super) fn new(state: AppState) -> AdminAuth {
        AdminAuth {
            state,
            refused_log: Arc::new(LogLimit::new(REFUSED_LINES_PER_SECOND)),
        }
    }
}

/// Why a request was refused, for the log (never the key it gave).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    NoHeader,
    NotText,
    NotBearer,
    NoKeyConfigured,
    WrongKey,
}

impl Refusal {
    fn reason(self) -> &'static str {
        match self {
            Refusal::NoHeader => "no Authorization header",
            Refusal::NotText => "an Authorization header that is not visible ASCII",
            Refusal::NotBearer => "an Authorization header that is not `Bearer <key>`",
            Refusal::NoKeyConfigured => "the server has no admin key",
            Refusal::WrongKey => "a wrong admin key",
        }
    }

    fn answer(self) -> AdminError {
        match self {
            Refusal::NoHeader | Refusal::NotText | Refusal::NotBearer => AdminError::unauthorized(
                "missing admin key: send the header Authorization: Bearer <admin key>",
            ),
            Refusal::NoKeyConfigured | Refusal::WrongKey => {
                AdminError::unauthorized("wrong admin key")
            }
        }
    }
}

/// The key of an `Authorization` header: the scheme `Bearer` in any case (RFC 9110 §11.1), one
/// space, and the key exactly as it stands (no other space is trimmed or skipped).
fn bearer_key(headers: &HeaderMap) -> Result<&str, Refusal> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or(Refusal::NoHeader)?
        .to_str()
        .map_err(|_| Refusal::NotText)?;
    let (scheme, key) = value.split_once(' ').ok_or(Refusal::NotBearer)?;
    if !scheme.eq_ignore_ascii_case("bearer") || key.is_empty() {
        return Err(Refusal::NotBearer);
    }
    Ok(key)
}

/// Checks the admin key against the configured one, in constant time.
fn check(headers: &HeaderMap, expected: Option<&str>) -> Result<(), Refusal> {
    let given = bearer_key(headers)?;
    let expected = expected
        .filter(|key| !key.is_empty())
        .ok_or(Refusal::NoKeyConfigured)?;
    if constant_time_eq::constant_time_eq(given.as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err(Refusal::WrongKey)
    }
}

/// Requires `Authorization: Bearer <admin key>`; a refusal is logged at warn with the client's
/// address and the reason, at most [`REFUSED_LINES_PER_SECOND`] line a second.
pub(super) async fn require_admin_key(
    State(auth): State<AdminAuth>,
    request: Request,
    next: Next,
) -> Response {
    let expected = auth
        .state
        .config
        .admin_key
        .as_ref()
        .map(ExposeSecret::expose_secret);
    let Err(refusal) = check(request.headers(), expected) else {
        return next.run(request).await;
    };
    if let Some(dropped) = auth.refused_log.admit() {
        let client = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string());
        tracing::warn!(
            client_ip = %client,
            reason = refusal.reason(),
            method = %request.method(),
            dropped_since_last = dropped,
            "administration request refused: {}",
            refusal.reason()
        );
    }
    refusal.answer().into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &[u8]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            header::HeaderValue::from_bytes(value).unwrap(),
        );
        headers
    }

    #[test]
    fn the_scheme_is_any_case_and_the_key_exact() {
        for good in ["Bearer k3y", "bearer k3y", "BEARER k3y", "bEaReR k3y"] {
            assert_eq!(check(&with(good.as_bytes()), Some("k3y")), Ok(()), "{good}");
        }
        for (bad, why) in [
            ("Bearer  k3y", Refusal::WrongKey),
            ("Bearer k3y ", Refusal::WrongKey),
            ("Bearer k3y\t", Refusal::WrongKey),
            ("Bearer\tk3y", Refusal::NotBearer),
            ("Bearer ", Refusal::NotBearer),
            ("Bearer", Refusal::NotBearer),
            ("Bearerk3y", Refusal::NotBearer),
            ("Basic k3y", Refusal::NotBearer),
            ("k3y", Refusal::NotBearer),
            ("Bearer K3Y", Refusal::WrongKey),
        ] {
            assert_eq!(
                check(&with(bad.as_bytes()), Some("k3y")),
                Err(why),
                "{bad:?}"
            );
        }
        assert_eq!(
            check(&with(b"Bearer \xff"), Some("k3y")),
            Err(Refusal::NotText)
        );
        assert_eq!(
            check(&HeaderMap::new(), Some("k3y")),
            Err(Refusal::NoHeader)
        );
        assert_eq!(
            check(&with(b"Bearer k3y"), Some("")),
            Err(Refusal::NoKeyConfigured)
        );
        assert_eq!(
            check(&with(b"Bearer k3y"), None),
            Err(Refusal::NoKeyConfigured)
        );
    }
}
