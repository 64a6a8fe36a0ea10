//! Handlers, one module per WeCom path: `/cgi-bin/gettoken` is [`gettoken`],
//! `/cgi-bin/report/patrol/*` is [`patrol`], `/cgi-bin/media/*` is [`media`],
//! `/cgi-bin/report/grid/*` is [`grid`].

pub mod gettoken;
pub mod grid;
pub mod media;
pub mod patrol;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::{ApiError, JSON_WARNING};

/// WeCom's content type.
pub(crate) const JSON_CONTENT_TYPE: &str = "application/json; charset=UTF-8";

/// A body sent as a few chunks, which hyper writes with one `writev`: an answer is put together
/// around a large buffer without copying it. Its exact length is known, so the answer carries a
/// `Content-Length` like any other.
pub(crate) struct Chunks {
    pub(crate) chunks: std::collections::VecDeque<bytes::Bytes>,
    remaining: u64,
}

impl Chunks {
    pub(crate) fn new(chunks: impl IntoIterator<Item = bytes::Bytes>) -> Chunks {
        let chunks: std::collections::VecDeque<_> = chunks.into_iter().collect();
        let remaining = chunks.iter().map(|c| c.len() as u64).sum();
        Chunks { chunks, remaining }
    }
}

impl http_body::Body for Chunks {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, Self::Error>>> {
        let chunk = self.chunks.pop_front();
        if let Some(chunk) = &chunk {
            self.remaining -= chunk.len() as u64;
        }
        std::task::Poll::Ready(chunk.map(|c| Ok(http_body::Frame::data(c))))
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.remaining)
    }
}

/// A successful answer sent as chunks: see [`Chunks`].
pub(crate) fn json_chunks(chunks: Chunks) -> Response {
    let mut response = axum::body::Body::new(chunks).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(JSON_CONTENT_TYPE),
    );
    response
}

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

/// An optional text field of a request: absent, `null` and `""` all mean "not given".
pub(crate) fn given(value: Option<String>) -> Option<String> {
    value.filter(|value| !value.is_empty())
}
