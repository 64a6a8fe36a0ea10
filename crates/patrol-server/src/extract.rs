//! Extractors for `/cgi-bin/` calls, in WeCom's order of checks: the token and the app's
//! permission from the query string first, then the method and the body.

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{Method, header, request::Parts};
use patrol_domain::{AppKind, Caller, TokenStatus};
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::{ApiError, Failure};

/// Bodies above this size are refused (40058) without being read whole.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Tokens are at most this long; a longer one was never issued.
pub const MAX_TOKEN_BYTES: usize = 512;

/// 2023-12-01 00:00 Asia/Shanghai: system apps of corps created from then on may not call the
/// patrol API.
pub const SYSTEM_APP_CUTOFF: i64 = 1_701_360_000;

/// The first value of a query-string parameter, if present and not empty.
pub fn query_param(parts: &Parts, name: &str) -> Option<String> {
    query_value(parts.uri.query(), name)
}

/// The first value of a parameter of a query string, percent-decoded as WeCom reads it, if
/// present and not empty: the one reading of a query parameter.
pub fn query_value(query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .filter(|value| !value.is_empty())
}

/// The parts of WeCom's report API, each behind a list of apps that may call it (decisions.md,
/// "Permissions" and "Permissions of the other families").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportApi {
    /// `report/patrol/*`: 「巡查上报 - 可调用接口的应用」.
    Patrol,
    /// `report/resident/*`: 「居民上报 - 可调用接口的应用」.
    Resident,
    /// `report/grid/*` but `grid/list`: 「居民联系 - 可调用接口的应用」.
    Grid,
    /// `report/grid/list`: the same list, but no provider-developed app (reference §3).
    GridList,
}

/// Whether an app may call a part of the report API.
pub fn may_call(caller: &Caller, api: ReportApi) -> bool {
    let listed = match api {
        ReportApi::Patrol => caller.patrol_enabled,
        ReportApi::Resident => caller.resident_enabled,
        ReportApi::Grid | ReportApi::GridList => caller.contact_enabled,
    };
    match caller.kind {
        AppKind::Custom => listed,
        AppKind::System => caller.corp_created_at < SYSTEM_APP_CUTOFF,
        AppKind::Provider => api == ReportApi::Grid && listed,
        AppKind::ThirdParty => false,
    }
}

/// A part of the report API, as a type: what [`Permitted`] checks.
pub trait Api: Send + Sync + 'static {
    const API: ReportApi;
}

/// `report/patrol/*`.
#[derive(Debug)]
pub struct PatrolApi;
/// `report/resident/*`.
#[derive(Debug)]
pub struct ResidentApi;
/// `report/grid/*` but `grid/list`.
#[derive(Debug)]
pub struct GridApi;
/// `report/grid/list`.
#[derive(Debug)]
pub struct GridListApi;

/// The family of reports a part of the API reads.
pub trait FamilyApi: Api {
    const FAMILY: patrol_domain::Family;
}

impl FamilyApi for PatrolApi {
    const FAMILY: patrol_domain::Family = patrol_domain::Family::Patrol;
}
impl FamilyApi for ResidentApi {
    const FAMILY: patrol_domain::Family = patrol_domain::Family::Resident;
}

impl Api for PatrolApi {
    const API: ReportApi = ReportApi::Patrol;
}
impl Api for ResidentApi {
    const API: ReportApi = ReportApi::Resident;
}
impl Api for GridApi {
    const API: ReportApi = ReportApi::Grid;
}
impl Api for GridListApi {
    const API: ReportApi = ReportApi::GridList;
}

/// The app behind a valid `access_token`, whatever it may call (`media/*`).
#[derive(Debug)]
pub struct CorpCaller(pub Caller);

impl FromRequestParts<AppState> for CorpCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = query_param(parts, "access_token").ok_or(ApiError::TokenMissing)?;
        if token.len() > MAX_TOKEN_BYTES {
            return Err(ApiError::TokenInvalid);
        }
        let caller = match state
            .store
            .authenticate(&token, state.clock().now())
            .await?
        {
            TokenStatus::Valid(caller) => caller,
            TokenStatus::Expired => return Err(ApiError::TokenExpired),
            TokenStatus::Unknown => return Err(ApiError::TokenInvalid),
        };
        tracing::Span::current().record("agentid", caller.agentid);
        if let Some(quotas) = &state.quotas
            && let Some(api) = parts.extensions.get::<axum::extract::MatchedPath>()
        {
            quotas.admit(
                crate::quota::Subject::Corp(caller.corp_key),
                api.as_str(),
                state.clock().now(),
            )?;
        }
        crate::journal::note_caller(&parts.extensions, &caller);
        crate::access::note_caller(&parts.extensions, &caller);
        Ok(CorpCaller(caller))
    }
}

/// The app behind `access_token`, allowed to call the part `A` of the report API (48002
/// otherwise).
#[derive(Debug)]
pub struct Permitted<A>(pub Caller, pub std::marker::PhantomData<A>);

impl<A: Api> FromRequestParts<AppState> for Permitted<A> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let CorpCaller(caller) = CorpCaller::from_request_parts(parts, state).await?;
        if !may_call(&caller, A::API) {
            return Err(ApiError::Forbidden);
        }
        Ok(Permitted(caller, std::marker::PhantomData))
    }
}

/// A POST body read as WeCom reads it: whatever the `Content-Type`, empty meaning `{}`, trailing
/// commas forgiven with a warning, wrong types named.
#[derive(Debug)]
pub struct WeComJson<T> {
    pub value: T,
    /// The body had trailing commas: `errmsg` must carry WeCom's warning.
    pub warning: bool,
}

impl<T: DeserializeOwned> FromRequest<AppState> for WeComJson<T> {
    type Rejection = Failure;

    async fn from_request(request: Request, _state: &AppState) -> Result<Self, Failure> {
        if request.method() != Method::POST {
            return Err(ApiError::MethodNotAllowed(request.method().to_string()).into());
        }
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > MAX_BODY_BYTES as u64) {
            return Err(ApiError::BodyTooLarge.into());
        }
        let bytes = axum::body::to_bytes(Body::new(request.into_body()), MAX_BODY_BYTES)
            .await
            .map_err(|error| {
                if is_length_limit(&error) {
                    ApiError::BodyTooLarge
                } else {
                    ApiError::BodyUnreadable(error.to_string())
                }
            })?;
        parse_body(&bytes)
    }
}

fn is_length_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if current.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = current.source();
    }
    false
}

/// Parses a body: see [`WeComJson`].
pub fn parse_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<WeComJson<T>, Failure> {
    let (cleaned, warning) = match strip_trailing_commas(bytes) {
        Some(cleaned) => (std::borrow::Cow::Owned(cleaned), true),
        None => (std::borrow::Cow::Borrowed(bytes), false),
    };
    let value: serde_json::Value = if cleaned.iter().all(u8::is_ascii_whitespace) {
        serde_json::Value::Object(Default::default())
    } else {
        serde_json::from_slice(&cleaned)
            .map_err(|e| Failure::new(ApiError::JsonInvalid(e.to_string()), warning))?
    };
    if !value.is_object() {
        return Err(Failure::new(ApiError::JsonNotObject, warning));
    }
    let value = serde_path_to_error::deserialize(value).map_err(|error| {
        let field = error.path().to_string();
        Failure::new(
            ApiError::WrongType {
                field,
                detail: error.into_inner().to_string(),
            },
            warning,
        )
    })?;
    Ok(WeComJson { value, warning })
}

/// Removes every comma that is followed, after whitespace, by `}` or `]`, outside strings.
/// `None` when there is none.
fn strip_trailing_commas(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out: Option<Vec<u8>> = None;
    let mut in_string = false;
    let mut escaped = false;
    for (index, &byte) in bytes.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
            }
        } else if byte == b'"' {
            in_string = true;
        } else if byte == b',' {
            let next = bytes[index + 1..].iter().find(|b| !b.is_ascii_whitespace());
            if matches!(next, Some(b'}' | b']')) {
                out.get_or_insert_with(|| bytes[..index].to_vec());
                continue;
            }
        }
        if let Some(out) = out.as_mut() {
            out.push(byte);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use patrol_wire::patrol::GetOrderListRequest;

    #[test]
    fn trailing_commas_are_stripped_outside_strings_only() {
        assert_eq!(strip_trailing_commas(br#"{"a":1}"#), None);
        assert_eq!(
            strip_trailing_commas(b"{\"limit\": 20,\n}").as_deref(),
            Some(&b"{\"limit\": 20\n}"[..])
        );
        assert_eq!(
            strip_trailing_commas(br#"{"a":[1,2,],"b":",}",}"#).as_deref(),
            Some(&br#"{"a":[1,2],"b":",}"}"#[..])
        );
        assert_eq!(strip_trailing_commas(br#"{"a":"\",}"}"#), None);
    }

    #[test]
    fn bodies_parse_as_wecom_reads_them() {
        let empty: WeComJson<GetOrderListRequest> = parse_body(b"  ").ok().unwrap();
        assert_eq!(empty.value, GetOrderListRequest::default());
        let seed: WeComJson<GetOrderListRequest> =
            parse_body(b"{\n \"begin_create_time\": 12345678,\n \"limit\": 20,\n}")
                .ok()
                .unwrap();
        assert!(seed.warning);
        assert_eq!(seed.value.limit, Some(20));
        let null: WeComJson<GetOrderListRequest> =
            parse_body(br#"{"limit":null,"x":1}"#).ok().unwrap();
        assert_eq!(null.value.limit, None);

        let wrong = parse_body::<GetOrderListRequest>(br#"{"limit":"abc"}"#)
            .err()
            .unwrap();
        assert!(matches!(&wrong.error, ApiError::WrongType { field, .. } if field == "limit"));
        let float = parse_body::<GetOrderListRequest>(br#"{"limit":20.0}"#)
            .err()
            .unwrap();
        assert!(matches!(&float.error, ApiError::WrongType { field, .. } if field == "limit"));
        let big = parse_body::<GetOrderListRequest>(br#"{"limit":9223372036854775808}"#)
            .err()
            .unwrap();
        assert!(matches!(&big.error, ApiError::WrongType { .. }));
        assert!(matches!(
            parse_body::<GetOrderListRequest>(b"[]")
                .err()
                .unwrap()
                .error,
            ApiError::JsonNotObject
        ));
        assert!(matches!(
            parse_body::<GetOrderListRequest>(b"{").err().unwrap().error,
            ApiError::JsonInvalid(_)
        ));
    }
}
