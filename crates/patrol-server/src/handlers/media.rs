//! `POST /cgi-bin/media/upload?type=TYPE` and `GET /cgi-bin/media/get?media_id=ID`: any valid
//! token of the corp, no patrol permission (decisions.md, "Media"). Bytes stream in and out
//! through the blob store; no file is held in memory whole.

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Multipart, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use futures_util::TryStreamExt;
use patrol_domain::media::{self as rules, MediaFile, MediaType, UploadRejection};
use patrol_media::{BlobError, BlobId};
use patrol_wire::media::UploadResponse;
use rand::RngCore;
use tokio::io::AsyncReadExt;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{CorpCaller, query_param};
use crate::handlers::{json_response, ok_message};

/// The largest upload body: the largest file (20 MB) and room for the multipart framing.
pub const MAX_UPLOAD_BODY: usize = 21 * 1024 * 1024;

/// A new media id: `3` and 32 random bytes in URL-safe base64, 44 characters, as WeCom's look.
fn new_media_id() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "3{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// `media/upload`. A refused upload is answered only once the client has sent its body (read and
/// dropped, within [`MAX_UPLOAD_BODY`]): a client still sending when the answer comes would see a
/// broken pipe instead of WeCom's errcode.
pub async fn upload(State(state): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let (mut parts, body) = request.into_parts();
    let checked = async {
        let CorpCaller(caller) = CorpCaller::from_request_parts(&mut parts, &state).await?;
        if parts.method != Method::POST {
            return Err(ApiError::MethodNotAllowed(parts.method.to_string()));
        }
        let media_type = query_param(&parts, "type")
            .and_then(|name| MediaType::parse(&name))
            .ok_or(ApiError::MediaTypeInvalid)?;
        let multipart = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("multipart/form-data")
            });
        if !multipart {
            return Err(ApiError::MediaDataMissing);
        }
        Ok((caller, media_type))
    }
    .await;
    let (caller, media_type) = match checked {
        Ok(checked) => checked,
        Err(error) => {
            drain(Body::new(body)).await;
            return Err(error);
        }
    };
    let request = Request::from_parts(parts, body);
    let mut multipart = Multipart::from_request(request, &state)
        .await
        .map_err(|_| ApiError::MediaDataMissing)?;
    let stored = store_first_media(&state, &mut multipart, media_type).await;
    // Whatever the client still sends (the rest of a refused file, later parts) is read and
    // dropped, so that it reads the answer.
    while let Ok(Some(mut field)) = multipart.next_field().await {
        while let Ok(Some(_)) = field.chunk().await {}
    }
    let (file_name, content_type, stored) = stored?;

    let now = state.clock().now();
    let media = MediaFile {
        media_id: new_media_id(),
        media_type,
        blob: *stored.id.as_bytes(),
        size: stored.size,
        file_name,
        content_type: content_type.to_owned(),
        created_at: now,
        expires_at: Some(now.saturating_add(rules::MEDIA_LIFETIME)),
    };
    let media_id = media.media_id.clone();
    state.store.create_media(caller.corp_key, media).await?;
    json_response(&UploadResponse {
        errcode: 0,
        errmsg: ok_message(false),
        media_type: media_type.name().to_owned(),
        media_id,
        created_at: now.to_string(),
    })
}

/// Reads and drops a body, at most [`MAX_UPLOAD_BODY`] bytes of it.
async fn drain(body: Body) {
    use http_body_util::BodyExt;
    let mut stream = http_body_util::Limited::new(body, MAX_UPLOAD_BODY).into_data_stream();
    while let Some(Ok(_)) = futures_util::StreamExt::next(&mut stream).await {}
}

/// Streams the first part named `media` into the blob store: its kept name, its content type
/// and the blob.
async fn store_first_media(
    state: &AppState,
    multipart: &mut Multipart,
    media_type: MediaType,
) -> Result<(String, &'static str, patrol_media::StoredBlob), ApiError> {
    let field = loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("media") => break field,
            Ok(Some(_)) => continue,
            Ok(None) | Err(_) => return Err(ApiError::MediaDataMissing),
        }
    };
    let file_name = rules::file_name(field.file_name());
    let stream = field.map_err(std::io::Error::other);
    let mut reader = tokio_util::io::StreamReader::new(stream);

    // The first bytes tell the file's kind; a file shorter than them is whole in hand.
    let mut head = Vec::with_capacity(rules::SNIFF_BYTES);
    while head.len() < rules::SNIFF_BYTES {
        let mut byte_buffer = [0u8; rules::SNIFF_BYTES];
        let wanted = rules::SNIFF_BYTES - head.len();
        let read = reader
            .read(&mut byte_buffer[..wanted])
            .await
            .map_err(|e| ApiError::BodyUnreadable(e.to_string()))?;
        if read == 0 {
            rules::check_size(media_type, head.len() as u64).map_err(ApiError::Upload)?;
            break;
        }
        head.extend_from_slice(&byte_buffer[..read]);
    }
    let content_type = rules::sniff(media_type, &head).map_err(ApiError::Upload)?;

    let mut whole = std::io::Cursor::new(head).chain(reader);
    state
        .blobs
        .put(&mut whole, media_type.max_bytes())
        .await
        .map_err(|error| match error {
            BlobError::TooLarge { .. } => ApiError::Upload(UploadRejection::TooLarge(media_type)),
            BlobError::Read(error) => ApiError::BodyUnreadable(error.to_string()),
            other => ApiError::Internal(other.to_string()),
        })
        .and_then(|stored| {
            rules::check_size(media_type, stored.size).map_err(ApiError::Upload)?;
            Ok((file_name, content_type, stored))
        })
}

pub async fn get(
    State(state): State<AppState>,
    CorpCaller(caller): CorpCaller,
    request: Request,
) -> Result<Response, ApiError> {
    let (parts, _) = request.into_parts();
    let media_id = query_param(&parts, "media_id").ok_or(ApiError::MediaIdMissing)?;
    let media = state
        .store
        .media(caller.corp_key, &media_id)
        .await?
        .filter(|media| media.is_live(state.clock().now()))
        .ok_or(ApiError::UnknownMedia)?;
    send(
        &state,
        &media,
        &parts.headers,
        "attachment",
        "no-cache, must-revalidate",
    )
    .await
}

/// `GET /media/images/{corpid}/{media_id}.{ext}`: an image of a corp's orders, without a token,
/// as WeCom's image links are (decisions.md, "Media"). Any uploaded image of the corp, live or
/// expired: an order's picture does not vanish after the 3 days of its media id. Unknown: 404.
pub async fn image(
    State(state): State<AppState>,
    axum::extract::Path((corpid, file)): axum::extract::Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, StatusCode> {
    let (media_id, _) = file.rsplit_once('.').ok_or(StatusCode::NOT_FOUND)?;
    let internal = |error: patrol_store::StoreError| {
        tracing::error!(cause = %error.chain(), "cannot serve an image");
        StatusCode::INTERNAL_SERVER_ERROR
    };
    let corp = state
        .store
        .corp(&corpid)
        .await
        .map_err(internal)?
        .ok_or(StatusCode::NOT_FOUND)?;
    let media = state
        .store
        .media(corp.key, media_id)
        .await
        .map_err(internal)?
        .filter(|media| media.media_type == MediaType::Image)
        .ok_or(StatusCode::NOT_FOUND)?;
    // Shown where it is opened; its bytes never change under its id.
    let sent = send(
        &state,
        &media,
        &headers,
        "inline",
        "public, max-age=86400, immutable",
    )
    .await;
    match sent {
        Ok(response) => Ok(response),
        Err(ApiError::MediaNeedsRange(_)) => Err(StatusCode::RANGE_NOT_SATISFIABLE),
        Err(error) => {
            tracing::error!(cause = %error, media_id, "cannot serve an image");
            Err(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

/// A medium's bytes, whole or the one range `headers` ask for.
async fn send(
    state: &AppState,
    media: &MediaFile,
    headers: &HeaderMap,
    disposition: &'static str,
    cache_control: &'static str,
) -> Result<Response, ApiError> {
    let media_id = &media.media_id;
    let size = media.size;
    let (status, start, len) = match requested_range(headers, size) {
        Requested::Whole => (StatusCode::OK, 0, size),
        Requested::Part { start, len } => (StatusCode::PARTIAL_CONTENT, start, len),
        Requested::Unsatisfiable => {
            let mut response = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            let headers = response.headers_mut();
            insert(headers, header::CONTENT_RANGE, format!("bytes */{size}"));
            headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
            return Ok(response);
        }
    };
    if len > rules::MAX_UNRANGED_BYTES {
        return Err(ApiError::MediaNeedsRange(size));
    }
    let reader = state
        .blobs
        .open(BlobId::from_bytes(media.blob), start, len)
        .await
        .map_err(|error| ApiError::Internal(format!("media {media_id}: {error}")))?;
    let mut response = Body::from_stream(tokio_util::io::ReaderStream::new(reader)).into_response();
    *response.status_mut() = status;
    let headers = response.headers_mut();
    insert(headers, header::CONTENT_TYPE, media.content_type.clone());
    insert(
        headers,
        header::CONTENT_DISPOSITION,
        format!(
            "{disposition}; filename=\"{media_id}.{}\"",
            rules::extension(&media.content_type)
        ),
    );
    insert(headers, header::CONTENT_LENGTH, len.to_string());
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    if status == StatusCode::PARTIAL_CONTENT {
        insert(
            headers,
            header::CONTENT_RANGE,
            format!("bytes {start}-{}/{size}", start + len - 1),
        );
    }
    Ok(response)
}

fn insert(headers: &mut HeaderMap, name: header::HeaderName, value: String) {
    if let Ok(value) = HeaderValue::try_from(value) {
        headers.insert(name, value);
    }
}

/// What a `Range` header asks of a file of `size` bytes.
#[derive(Debug, PartialEq, Eq)]
enum Requested {
    Whole,
    Part { start: u64, len: u64 },
    Unsatisfiable,
}

/// One range of `bytes=FIRST-LAST`, `bytes=FIRST-` or `bytes=-SUFFIX`. A header that is absent,
/// malformed, of another unit or with several ranges is ignored (RFC 9110 §14.2 allows it): the
/// whole file is sent.
fn requested_range(headers: &HeaderMap, size: u64) -> Requested {
    let Some(spec) = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("bytes="))
    else {
        return Requested::Whole;
    };
    if spec.contains(',') {
        return Requested::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Requested::Whole;
    };
    let number = |text: &str| -> Option<u64> {
        let text = text.trim();
        (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse().ok())
            .flatten()
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        // bytes=-SUFFIX: the last SUFFIX bytes.
        return match number(last) {
            None => Requested::Whole,
            Some(0) => Requested::Unsatisfiable,
            Some(_) if size == 0 => Requested::Unsatisfiable,
            Some(suffix) => {
                let len = suffix.min(size);
                Requested::Part {
                    start: size - len,
                    len,
                }
            }
        };
    }
    let Some(start) = number(first) else {
        return Requested::Whole;
    };
    let end = if last.is_empty() {
        None
    } else {
        match number(last) {
            Some(end) if end >= start => Some(end),
            _ => return Requested::Whole,
        }
    };
    if start >= size {
        return Requested::Unsatisfiable;
    }
    let end = end.map_or(size - 1, |end| end.min(size - 1));
    Requested::Part {
        start,
        len: end - start + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(value: &str, size: u64) -> Requested {
        let mut headers = HeaderMap::new();
        headers.insert(header::RANGE, HeaderValue::from_str(value).unwrap());
        requested_range(&headers, size)
    }

    #[test]
    fn ranges_read_as_rfc_9110_says() {
        let part = |start, len| Requested::Part { start, len };
        assert_eq!(requested_range(&HeaderMap::new(), 10), Requested::Whole);
        assert_eq!(range("bytes=0-0", 10), part(0, 1));
        assert_eq!(range("bytes=2-5", 10), part(2, 4));
        assert_eq!(range("bytes=7-", 10), part(7, 3));
        assert_eq!(range("bytes=7-100", 10), part(7, 3));
        assert_eq!(range("bytes=-3", 10), part(7, 3));
        assert_eq!(range("bytes=-30", 10), part(0, 10));
        assert_eq!(range("bytes=10-", 10), Requested::Unsatisfiable);
        assert_eq!(range("bytes=10-12", 10), Requested::Unsatisfiable);
        assert_eq!(range("bytes=-0", 10), Requested::Unsatisfiable);
        // Ignored: the whole file.
        for ignored in [
            "bytes=5-2",
            "bytes=0-1,4-5",
            "items=0-1",
            "bytes=x-1",
            "bytes=-",
            "bytes=1",
            "bytes=99999999999999999999999-",
        ] {
            assert_eq!(range(ignored, 10), Requested::Whole, "{ignored}");
        }
    }
}
