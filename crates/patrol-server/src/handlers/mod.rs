//! Handlers, one module per WeCom path: `/cgi-bin/gettoken` is [`gettoken`],
//! `/cgi-bin/report/patrol/*` is [`patrol`].

pub mod gettoken;
pub mod patrol;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::{ApiError, JSON_WARNING};

/// WeCom's content type.
pub(crate) const JSON_CONTENT_TYPE: &str = "application/json; charset=UTF-8";

/// A successful answer of JSON bytes already made.
pub(crate) fn json_bytes(bytes: Vec<u8>) -> Response {
    let mut response = bytes.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(JSON_CONTENT_TYPE),
    );
    response
}

/// A successful answer: the value serialized in its declared field order.
pub(crate) fn json_response<T: Serialize>(value: &T) -> Result<Response, ApiError> {
    let bytes = serde_json::to_vec(value).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(json_bytes(bytes))
}

/// `errmsg` of a success: `"ok"`, with WeCom's warning when the body had trailing commas.
pub(crate) fn ok_message(json_warning: bool) -> String {
    if json_warning {
        format!("ok. {JSON_WARNING}")
    } else {
        "ok".to_owned()
    }
}
