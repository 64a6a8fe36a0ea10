//! Media: `media/upload` from a file and `media/get` into a file, streamed both ways (a file is
//! never held in memory whole), with the token refreshed and transient failures retried like any
//! call. A download resumes a partial file with a `Range` and fetches files over 20 MB in 20 MB
//! ranges, as WeCom requires.

use std::path::Path;
use std::time::Duration;

use futures_util::StreamExt;
use patrol_wire::Envelope;
use patrol_wire::media::UploadResponse;
use tokio::io::AsyncWriteExt;

use super::{Attempts, Client};
use crate::error::{Error, Result};

/// The longest range `media/get` serves, and the size of the ranges a download asks for.
pub const MAX_RANGE_BYTES: u64 = 20 * 1024 * 1024;

/// The time one media request may take (a 20 MB range on a slow link).
const MEDIA_TIMEOUT: Duration = Duration::from_secs(600);

/// A finished download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    /// The file's `Content-Type` as the server sent it.
    pub content_type: String,
    /// The whole file's size in bytes.
    pub size: u64,
    /// Bytes that were already in the file and were kept (a resumed download).
    pub resumed_from: u64,
}

fn file_error(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::File {
        path: path.to_owned(),
        source,
    }
}

impl Client {
    /// `POST /cgi-bin/media/upload?type=TYPE` with the file at `path` as the part `media`
    /// (`type` is `image`, `voice`, `video` or `file`). The file is streamed, and opened again
    /// for a retry.
    pub async fn upload_media(&self, media_type: &str, path: &Path) -> Result<UploadResponse> {
        let url = format!("{}/cgi-bin/media/upload", self.inner.base_url);
        let file_name = path
            .file_name()
            .map_or_else(|| "media".to_owned(), |n| n.to_string_lossy().into_owned());
        let mut attempts = Attempts::new(self, "media/upload");
        loop {
            let token = self.token().await?;
            let file = tokio::fs::File::open(path)
                .await
                .map_err(file_error(path))?;
            let len = file.metadata().await.map_err(file_error(path))?.len();
            let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(file));
            let part = reqwest::multipart::Part::stream_with_length(body, len)
                .file_name(file_name.clone());
            let form = reqwest::multipart::Form::new().part("media", part);
            let request = self
                .inner
                .http
                .post(&url)
                .query(&[("access_token", token.as_str()), ("type", media_type)])
                .multipart(form)
                .timeout(MEDIA_TIMEOUT);
            match self
                .send::<UploadResponse>(&url, request, &mut |_| {})
                .await
            {
                Ok(answer) => return Ok(answer),
                Err(error) if attempts.again(&token, &error).await => {}
                Err(error) => return Err(error),
            }
        }
    }

    /// `GET /cgi-bin/media/get?media_id=ID` into the file at `path`. Bytes already in the file
    /// are kept and the rest is asked for with a `Range` (a download cut short resumes where it
    /// stopped); the file is fetched in ranges of at most 20 MB. When the server answers the
    /// whole file to a range, the file is written anew.
    pub async fn download_media(&self, media_id: &str, path: &Path) -> Result<Download> {
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .await
            .map_err(file_error(path))?;
        let resumed_from = file.metadata().await.map_err(file_error(path))?.len();
        let mut have = resumed_from;
        let mut content_type = String::new();
        loop {
            let range = format!("bytes={have}-{}", have + MAX_RANGE_BYTES - 1);
            let fetched = self.fetch_range(media_id, &range).await?;
            match fetched {
                Fetched::Part {
                    start,
                    size,
                    content_type: kind,
                    response,
                } => {
                    if start != have {
                        return Err(self.decode(format!(
                            "asked for bytes from {have}, got bytes from {start}"
                        )));
                    }
                    content_type = kind;
                    have += write_body(&mut file, path, response).await?;
                    if have >= size {
                        return finish(file, path, content_type, size, resumed_from).await;
                    }
                }
                Fetched::Whole {
                    content_type: kind,
                    response,
                } => {
                    // The whole file: start the file anew.
                    file.set_len(0).await.map_err(file_error(path))?;
                    let size = write_body(&mut file, path, response).await?;
                    return finish(file, path, kind, size, 0).await;
                }
                Fetched::Past { size } if have == size && size > 0 => {
                    // The file was complete already.
                    return finish(file, path, content_type, size, resumed_from).await;
                }
                Fetched::Past { size } => {
                    // More bytes here than the medium has: not a part of it; start anew.
                    if have == 0 && size == 0 {
                        return finish(file, path, content_type, 0, 0).await;
                    }
                    file.set_len(0).await.map_err(file_error(path))?;
                    have = 0;
                }
            }
        }
    }

    /// One `media/get` with a `Range`, the token refreshed and transient failures retried.
    async fn fetch_range(&self, media_id: &str, range: &str) -> Result<Fetched> {
        let url = format!("{}/cgi-bin/media/get", self.inner.base_url);
        let transport = |source: reqwest::Error| Error::Transport {
            url: url.clone(),
            source: source.without_url(),
        };
        let mut attempts = Attempts::new(self, "media/get");
        loop {
            let token = self.token().await?;
            let sent = self
                .inner
                .http
                .get(&url)
                .query(&[("access_token", token.as_str()), ("media_id", media_id)])
                .header(reqwest::header::RANGE, range)
                .timeout(MEDIA_TIMEOUT)
                .send()
                .await
                .map_err(transport);
            let outcome = match sent {
                Ok(response) => self.read_fetched(&url, response).await,
                Err(error) => Err(error),
            };
            match outcome {
                Ok(fetched) => return Ok(fetched),
                Err(error) if attempts.again(&token, &error).await => {}
                Err(error) => return Err(error),
            }
        }
    }

    /// What a `media/get` answer is: the bytes (whole or a part), a range past the end, or
    /// WeCom's JSON error.
    async fn read_fetched(&self, url: &str, response: reqwest::Response) -> Result<Fetched> {
        let status = response.status().as_u16();
        let header = |name: reqwest::header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        let content_type = header(reqwest::header::CONTENT_TYPE);
        let content_range = header(reqwest::header::CONTENT_RANGE);
        let decode = |message: String| Error::Decode {
            url: url.to_owned(),
            status,
            message,
        };
        if content_type.starts_with("application/json") {
            let bytes = response.bytes().await.map_err(|source| Error::Transport {
                url: url.to_owned(),
                source: source.without_url(),
            })?;
            let envelope: Envelope = serde_json::from_slice(&bytes)
                .map_err(|e| decode(format!("neither a file nor WeCom's JSON: {e}")))?;
            return Err(Error::Api {
                errcode: envelope.errcode,
                errmsg: envelope.errmsg,
            });
        }
        match status {
            200 => Ok(Fetched::Whole {
                content_type,
                response,
            }),
            206 => {
                let (start, size) = parse_content_range(&content_range)
                    .ok_or_else(|| decode(format!("Content-Range {content_range:?}")))?;
                Ok(Fetched::Part {
                    start,
                    size,
                    content_type,
                    response,
                })
            }
            416 => {
                let size = content_range
                    .strip_prefix("bytes */")
                    .and_then(|size| size.trim().parse().ok())
                    .ok_or_else(|| decode(format!("Content-Range {content_range:?}")))?;
                Ok(Fetched::Past { size })
            }
            _ => Err(decode("neither a file nor WeCom's JSON".into())),
        }
    }

    fn decode(&self, message: String) -> Error {
        Error::Decode {
            url: format!("{}/cgi-bin/media/get", self.inner.base_url),
            status: 206,
            message,
        }
    }
}

/// A `media/get` answer with bytes to read, or the size of a medium a range went past.
enum Fetched {
    Whole {
        content_type: String,
        response: reqwest::Response,
    },
    Part {
        start: u64,
        size: u64,
        content_type: String,
        response: reqwest::Response,
    },
    Past {
        size: u64,
    },
}

/// `bytes FIRST-LAST/SIZE`: the first byte and the whole size.
fn parse_content_range(value: &str) -> Option<(u64, u64)> {
    let (range, size) = value.strip_prefix("bytes ")?.split_once('/')?;
    let (first, _) = range.split_once('-')?;
    Some((first.trim().parse().ok()?, size.trim().parse().ok()?))
}

/// Streams an answer's body onto the end of the file; the bytes written.
async fn write_body(
    file: &mut tokio::fs::File,
    path: &Path,
    response: reqwest::Response,
) -> Result<u64> {
    let url = response.url().path().to_owned();
    let mut stream = response.bytes_stream();
    let mut written = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|source| Error::Transport {
            url: url.clone(),
            source: source.without_url(),
        })?;
        file.write_all(&chunk).await.map_err(file_error(path))?;
        written += chunk.len() as u64;
    }
    Ok(written)
}

async fn finish(
    mut file: tokio::fs::File,
    path: &Path,
    content_type: String,
    size: u64,
    resumed_from: u64,
) -> Result<Download> {
    file.flush().await.map_err(file_error(path))?;
    file.sync_all().await.map_err(file_error(path))?;
    Ok(Download {
        content_type,
        size,
        resumed_from,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges_read() {
        assert_eq!(parse_content_range("bytes 0-9/100"), Some((0, 100)));
        assert_eq!(parse_content_range("bytes 90-99/100"), Some((90, 100)));
        assert_eq!(parse_content_range("bytes */100"), None);
        assert_eq!(parse_content_range("items 0-1/2"), None);
    }
}
