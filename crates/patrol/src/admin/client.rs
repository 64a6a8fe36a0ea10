//! The HTTP side of `patrol admin`: requests to `/admin/v1/` with the admin key, and what an
//! answer becomes: a value to summarize, the JSON printed as it is (`--json`), or an error naming
//! the server's message and the HTTP status.

use std::time::Duration;

use anyhow::Context;
use patrol_wire::admin::{ErrorBody, ErrorDetail};
use reqwest::{Method, RequestBuilder, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The longest `patrol admin` waits for a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest `patrol admin` waits for an answer (the server cuts requests off at 30 s).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest a snapshot's download or upload may take.
const LONG_REQUEST_TIMEOUT: Duration = Duration::from_secs(3600);

/// A client of one server's administration API.
#[derive(Debug)]
pub(crate) struct Client {
    http: reqwest::Client,
    /// The server's base URL, parsed.
    base: Url,
    /// The server's base URL as given, for messages.
    server: String,
    /// The admin key, sent as the bearer token and shown nowhere, `Debug` included.
    key: SecretString,
    /// `--json`: print answers as they are rather than returning them.
    json: bool,
    /// For answers that do not end (the journal's live stream): no limit on the whole exchange,
    /// only on each wait for bytes.
    streaming: reqwest::Client,
}

impl Client {
    pub(crate) fn new(server: &str, key: SecretString, json: bool) -> anyhow::Result<Client> {
        let mut base = Url::parse(server).with_context(|| {
            format!("invalid server URL {server:?}: expected e.g. http://127.0.0.1:8080")
        })?;
        match base.scheme() {
            "http" | "https" => {}
            other => {
                anyhow::bail!("invalid server URL {server:?}: scheme {other:?} is not http(s)")
            }
        }
        anyhow::ensure!(
            !base.cannot_be_a_base(),
            "invalid server URL {server:?}: expected e.g. http://127.0.0.1:8080"
        );
        base.set_query(None);
        base.set_fragment(None);
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .context("cannot set up the HTTP client")?;
        let streaming = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(REQUEST_TIMEOUT)
            .build()
            .context("cannot set up the HTTP client")?;
        Ok(Client {
            http,
            base,
            server: server.trim_end_matches('/').to_owned(),
            key,
            json,
            streaming,
        })
    }

    /// Whether answers are printed as they are (`--json`).
    pub(crate) fn prints_json(&self) -> bool {
        self.json
    }

    /// `GET /admin/v1/<segments>`.
    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        segments: &[&str],
    ) -> anyhow::Result<Option<T>> {
        let request = self.request(Method::GET, segments)?;
        self.send(request).await
    }

    /// `GET /admin/v1/<segments>?<query>`: the answer's text, whatever `--json`.
    pub(crate) async fn get_text(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> anyhow::Result<String> {
        let request = self.request(Method::GET, segments)?.query(query);
        let response = self.exchange(request).await?;
        response
            .text()
            .await
            .with_context(|| format!("cannot read the answer of {}", self.server))
    }

    /// `GET /admin/v1/<segments>?<query>` for an answer that goes on (server-sent events): the
    /// response, its body still to be read.
    pub(crate) async fn open_stream(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> anyhow::Result<reqwest::Response> {
        let url = self.request(Method::GET, segments)?.build()?.url().clone();
        let request = self
            .streaming
            .get(url)
            .query(query)
            .bearer_auth(self.key.expose_secret())
            .header(reqwest::header::ACCEPT, "text/event-stream");
        self.exchange(request).await
    }

    /// `POST /admin/v1/<segments>` with a JSON body.
    pub(crate) async fn post<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        body: &impl Serialize,
    ) -> anyhow::Result<Option<T>> {
        let request = self.request(Method::POST, segments)?.json(body);
        self.send(request).await
    }

    /// `POST /admin/v1/<segments>` without a body.
    pub(crate) async fn post_empty<T: DeserializeOwned>(
        &self,
        segments: &[&str],
    ) -> anyhow::Result<Option<T>> {
        let request = self.request(Method::POST, segments)?;
        self.send(request).await
    }

    /// `PUT /admin/v1/<segments>` with a JSON body.
    pub(crate) async fn put<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        body: &impl Serialize,
    ) -> anyhow::Result<Option<T>> {
        let request = self.request(Method::PUT, segments)?.json(body);
        self.send(request).await
    }

    /// `PATCH /admin/v1/<segments>` with a JSON body.
    pub(crate) async fn patch<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        body: &impl Serialize,
    ) -> anyhow::Result<Option<T>> {
        let request = self.request(Method::PATCH, segments)?.json(body);
        self.send(request).await
    }

    /// `DELETE /admin/v1/<segments>`. The answer has no body, so there is nothing to print with
    /// `--json`.
    pub(crate) async fn delete(&self, segments: &[&str]) -> anyhow::Result<()> {
        let request = self.request(Method::DELETE, segments)?;
        let response = self.exchange(request).await?;
        // Whatever the body, the deletion is done; read it so the connection can be reused.
        let _ = response.bytes().await;
        Ok(())
    }

    /// `DELETE /admin/v1/<segments>?<query>`, as [`Client::delete`].
    pub(crate) async fn delete_with(
        &self,
        segments: &[&str],
        query: &[(&str, &str)],
    ) -> anyhow::Result<()> {
        let request = self.request(Method::DELETE, segments)?.query(query);
        let response = self.exchange(request).await?;
        let _ = response.bytes().await;
        Ok(())
    }

    /// `GET /admin/v1/<segments>?<query>` whose answer is streamed by the caller (a snapshot),
    /// without the request timeout (a large answer takes long).
    pub(crate) async fn download(
        &self,
        segments: &[&str],
        query: &[(&str, &str)],
    ) -> anyhow::Result<reqwest::Response> {
        let request = self
            .request(Method::GET, segments)?
            .query(query)
            .timeout(LONG_REQUEST_TIMEOUT);
        self.exchange(request).await
    }

    /// `POST /admin/v1/<segments>?<query>` with a streamed body (a snapshot file).
    pub(crate) async fn upload<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, &str)],
        body: reqwest::Body,
    ) -> anyhow::Result<Option<T>> {
        let request = self
            .request(Method::POST, segments)?
            .query(query)
            .header(reqwest::header::CONTENT_TYPE, "application/x-ndjson")
            .body(body)
            .timeout(LONG_REQUEST_TIMEOUT);
        self.send(request).await
    }

    /// A request to `/admin/v1/<segments>`, each segment percent-encoded as needed.
    fn request(&self, method: Method, segments: &[&str]) -> anyhow::Result<RequestBuilder> {
        if let Some(empty) = segments.iter().position(|s| s.is_empty()) {
            let after = segments[..empty].last().copied().unwrap_or("admin/v1");
            anyhow::bail!("an empty id after {after:?} in the path: ids cannot be empty");
        }
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| anyhow::anyhow!("invalid server URL {:?}", self.server))?
            .pop_if_empty()
            .extend(["admin", "v1"])
            .extend(segments);
        Ok(self
            .http
            .request(method, url)
            .bearer_auth(self.key.expose_secret())
            .header(reqwest::header::ACCEPT, "application/json"))
    }

    /// Sends a request and reads a successful answer: with `--json` it is printed as it is and
    /// `None` is returned, otherwise it is parsed.
    async fn send<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
    ) -> anyhow::Result<Option<T>> {
        let response = self.exchange(request).await?;
        if self.json {
            let text = response
                .text()
                .await
                .with_context(|| format!("cannot read the answer of {}", self.server))?;
            print_raw(&text);
            return Ok(None);
        }
        let value = response.json::<T>().await.with_context(|| {
            format!(
                "cannot read the answer of {}: is it a patrol server of this version?",
                self.server
            )
        })?;
        Ok(Some(value))
    }

    /// Sends a request; an error answer becomes an error carrying the server's message.
    async fn exchange(&self, request: RequestBuilder) -> anyhow::Result<reqwest::Response> {
        let response = request
            .send()
            .await
            .map_err(|e| anyhow::Error::new(e.without_url()))
            .with_context(|| format!("cannot reach the patrol server at {}", self.server))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        Err(self.failure(status, response).await)
    }

    /// The error of an error answer.
    async fn failure(&self, status: StatusCode, response: reqwest::Response) -> anyhow::Error {
        let hint = match status {
            StatusCode::UNAUTHORIZED => "; check the admin key (--admin-key or PATROL_ADMIN_KEY)",
            _ => "",
        };
        match response.json::<ErrorBody>().await {
            Ok(answer) if !answer.error.message.is_empty() => {
                let ErrorDetail { code, message } = answer.error;
                let code = if code.is_empty() {
                    String::new()
                } else {
                    format!(", {code}")
                };
                anyhow::anyhow!("{message} (HTTP {status}{code}){hint}")
            }
            _ => anyhow::anyhow!(
                "{} answered HTTP {status} without an error message{hint}{}",
                self.server,
                if status == StatusCode::NOT_FOUND || status == StatusCode::METHOD_NOT_ALLOWED {
                    "; does this server have the administration API (/admin/v1/)?"
                } else {
                    ""
                }
            ),
        }
    }
}

/// Prints an answer as it is, ending it with a newline.
#[allow(clippy::print_stdout)]
fn print_raw(text: &str) {
    if text.ends_with('\n') {
        print!("{text}");
    } else {
        println!("{text}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_never_shows_in_debug() {
        let client = Client::new(
            "http://127.0.0.1:1",
            SecretString::from("k3y-s3cret"),
            false,
        )
        .unwrap();
        let text = format!("{client:?}");
        assert!(!text.contains("k3y-s3cret"), "{text}");
    }
}
