//! [`Client`] and its builder: the token cache, retries, and the order walk; `report` holds the
//! calls of the two report families, `media` the media calls, `grid` the grid and category calls.

mod grid;
mod media;
mod report;

pub use media::{Download, MAX_RANGE_BYTES};
pub use report::{CorpStatus, Family, FamilyClient, UserStatus};

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::Stream;
use futures_util::stream;
use patrol_wire::Envelope;
use patrol_wire::patrol::{GetOrderInfoResponse, GetOrderListRequest, GetOrderListResponse, Order};
use patrol_wire::stats::{
    CategoryStatisticResponse, PatrolCorpStatus, PatrolUserStatus, ResidentCorpStatus,
    ResidentUserStatus,
};
use patrol_wire::token::GetTokenResponse;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::retry::RetryPolicy;

/// WeCom's API.
pub const WECOM_BASE_URL: &str = "https://qyapi.weixin.qq.com";

/// The longest a token is kept, in seconds, whatever `expires_in` says: a year.
const LONGEST_TOKEN_LIFETIME: i64 = 365 * 24 * 3600;

/// Builds a [`Client`]. Its `Debug` hides the secret.
#[derive(Clone)]
pub struct ClientBuilder {
    base_url: String,
    corpid: String,
    secret: String,
    timeout: Duration,
    connect_timeout: Duration,
    user_agent: String,
    retry: RetryPolicy,
    refresh_ahead: Duration,
}

impl ClientBuilder {
    /// The server: WeCom ([`WECOM_BASE_URL`], the default) or a patrol server, e.g.
    /// `http://127.0.0.1:8080`.
    pub fn base_url(mut self, base_url: impl Into<String>) -> ClientBuilder {
        self.base_url = base_url.into();
        self
    }

    /// The corp's id (`corpid`).
    pub fn corpid(mut self, corpid: impl Into<String>) -> ClientBuilder {
        self.corpid = corpid.into();
        self
    }

    /// The app's secret (`corpsecret`).
    pub fn secret(mut self, secret: impl Into<String>) -> ClientBuilder {
        self.secret = secret.into();
        self
    }

    /// The longest a request may take, answer included (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.timeout = timeout;
        self
    }

    /// The longest a connection may take to open (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.connect_timeout = timeout;
        self
    }

    /// The `User-Agent` header (default `patrol-client/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> ClientBuilder {
        self.user_agent = user_agent.into();
        self
    }

    /// How transient failures are retried (default [`RetryPolicy::default`]).
    pub fn retry(mut self, retry: RetryPolicy) -> ClientBuilder {
        self.retry = retry;
        self
    }

    /// How long before its expiry a token is replaced (default 300 s, at most half the token's
    /// lifetime).
    pub fn refresh_ahead(mut self, margin: Duration) -> ClientBuilder {
        self.refresh_ahead = margin;
        self
    }

    /// The client. Fails when the corpid or secret is empty or the base URL is not http(s).
    pub fn build(self) -> Result<Client> {
        if self.corpid.is_empty() {
            return Err(Error::Config("the corpid is empty".into()));
        }
        if self.secret.is_empty() {
            return Err(Error::Config("the secret is empty".into()));
        }
        let base_url = self.base_url.trim_end_matches('/').to_owned();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(Error::Config(format!(
                "the base URL {base_url:?} must start with http:// or https://"
            )));
        }
        let http = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .user_agent(self.user_agent)
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base_url,
                corpid: self.corpid,
                secret: self.secret,
                retry: self.retry,
                refresh_ahead: self.refresh_ahead,
                token: tokio::sync::Mutex::new(None),
                token_fetches: std::sync::atomic::AtomicU64::new(0),
            }),
        })
    }
}

/// A client of WeCom's patrol-report API, for one app of one corp.
///
/// Cheap to clone: clones share the HTTP connections and the token. The token is fetched on
/// first use, cached, replaced ahead of its expiry by one request that concurrent callers wait
/// for, and replaced once more when WeCom refuses it (40014, 42001). Calls that fail
/// transiently (-1, 45009, 45033, network errors) are retried with exponential backoff and
/// jitter.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base_url: String,
    corpid: String,
    secret: String,
    retry: RetryPolicy,
    refresh_ahead: Duration,
    token: tokio::sync::Mutex<Option<CachedToken>>,
    token_fetches: std::sync::atomic::AtomicU64,
}

#[derive(Clone)]
struct CachedToken {
    value: String,
    /// From then on the next caller fetches a new token.
    refresh_at: Instant,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("corpid", &self.corpid)
            .field("secret", &"<redacted>")
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("user_agent", &self.user_agent)
            .field("retry", &self.retry)
            .field("refresh_ahead", &self.refresh_ahead)
            .finish()
    }
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url)
            .field("corpid", &self.corpid)
            .field("secret", &"<redacted>")
            .field("retry", &self.retry)
            .field("refresh_ahead", &self.refresh_ahead)
            .finish_non_exhaustive()
    }
}

/// An answer of WeCom's that carries `errcode` and `errmsg` beside its payload.
/// The one policy of repeated calls: a refused token (40014, 42001) is replaced once, and a
/// transient failure (-1, 45009, 45033, the network, a 5xx page) is retried with backoff up to
/// [`RetryPolicy::max_retries`] times.
struct Attempts<'a> {
    client: &'a Client,
    what: &'a str,
    refreshed: bool,
    retry: u32,
}

impl<'a> Attempts<'a> {
    fn new(client: &'a Client, what: &'a str) -> Attempts<'a> {
        Attempts {
            client,
            what,
            refreshed: false,
            retry: 0,
        }
    }

    /// Whether to try again after `error` of a call made with `token`: the token forgotten, or
    /// the backoff slept, first.
    async fn again(&mut self, token: &str, error: &Error) -> bool {
        if error.is_token_error() && !self.refreshed {
            tracing::debug!(%error, what = self.what, "the token was refused; fetching a new one");
            self.refreshed = true;
            self.client.forget_token(token).await;
            return true;
        }
        if error.is_transient() && self.retry < self.client.inner.retry.max_retries {
            self.retry += 1;
            let delay = self.client.inner.retry.delay(self.retry);
            tracing::debug!(%error, retry = self.retry, ?delay, what = self.what, "retrying");
            tokio::time::sleep(delay).await;
            return true;
        }
        false
    }
}

trait Answer: DeserializeOwned {
    fn errcode(&self) -> i64;
    fn into_errmsg(self) -> String;
}

macro_rules! answers {
    ($($answer:ty),*) => {
        $(impl Answer for $answer {
            fn errcode(&self) -> i64 {
                self.errcode
            }

            fn into_errmsg(self) -> String {
                self.errmsg
            }
        })*
    };
}

answers!(
    GetTokenResponse,
    patrol_wire::patrol::GetGridInfoResponse,
    GetOrderListResponse,
    GetOrderInfoResponse,
    PatrolCorpStatus,
    ResidentCorpStatus,
    PatrolUserStatus,
    ResidentUserStatus,
    CategoryStatisticResponse,
    patrol_wire::media::UploadResponse,
    Envelope,
    patrol_wire::grid::AddGridResponse,
    patrol_wire::grid::UpdateGridResponse,
    patrol_wire::grid::ListGridResponse,
    patrol_wire::grid::UserGridInfoResponse,
    patrol_wire::grid::AddCategoryResponse,
    patrol_wire::grid::ListCategoryResponse
);

/// The `next_cursor` of a `get_order_list` answer, read without parsing it, for prefetching:
/// the first `"next_cursor":"…"` of the body. A key cannot appear inside a JSON string (its
/// quotes would be escaped) and orders have no such key, so this finds the answer's own; a
/// wrong guess would only cost a request, as the parsed answer is checked against it.
fn scan_next_cursor(bytes: &[u8]) -> Option<String> {
    const KEY: &[u8] = b"\"next_cursor\":\"";
    let start = bytes.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let length = bytes[start..]
        .iter()
        .position(|&b| b == b'"' || b == b'\\')?;
    if bytes[start + length] != b'"' || length == 0 {
        return None;
    }
    String::from_utf8(bytes[start..start + length].to_vec()).ok()
}

/// Pages of one walk fetched but not yet handed to the caller, at most: the page being handed
/// over and the next one, whose request overlaps the parsing of the first.
const PAGES_AHEAD: usize = 2;

/// A page being fetched ahead of the walk; dropping it cancels the fetch.
struct Prefetch {
    cursor: String,
    handle: Option<tokio::task::JoinHandle<Fetched>>,
}

/// A fetched page, the fetch of the page after it, and the permit that bounds read-ahead,
/// released when the page is handed to the caller.
type Fetched = (
    Result<Page>,
    Option<Prefetch>,
    Option<tokio::sync::OwnedSemaphorePermit>,
);

impl Drop for Prefetch {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.abort();
        }
    }
}

/// Starts fetching the page at `cursor` of `family`'s walk once a read-ahead permit is free; as
/// soon as its bytes arrive, before they are parsed, the fetch of the page after it starts too,
/// so that the next request overlaps the parsing.
fn prefetch(
    client: Client,
    family: Family,
    query: OrderQuery,
    cursor: String,
    permits: Arc<tokio::sync::Semaphore>,
) -> Prefetch {
    let request = GetOrderListRequest {
        begin_create_time: query.begin_create_time,
        begin_modify_time: query.begin_modify_time,
        cursor: (!cursor.is_empty()).then(|| cursor.clone()),
        limit: Some(query.limit.unwrap_or(50)),
    };
    let handle = tokio::spawn(async move {
        let permit = permits.clone().acquire_owned().await.ok();
        let mut next: Option<Prefetch> = None;
        let api = family.api("get_order_list");
        let answer = client
            .call_with::<GetOrderListResponse>(&api, &request, |bytes| {
                if next.is_none()
                    && let Some(cursor) = scan_next_cursor(bytes)
                {
                    next = Some(prefetch(
                        client.clone(),
                        family,
                        query.clone(),
                        cursor,
                        permits.clone(),
                    ));
                }
            })
            .await;
        match answer {
            Ok(answer) => {
                let next = match next {
                    Some(guess) if guess.cursor == answer.next_cursor => Some(guess),
                    _ if answer.next_cursor.is_empty() => None,
                    _ => Some(prefetch(
                        client,
                        family,
                        query,
                        answer.next_cursor.clone(),
                        permits,
                    )),
                };
                let page = Page {
                    orders: answer.order_list,
                    next_cursor: answer.next_cursor,
                };
                (Ok(page), next, permit)
            }
            Err(error) => (Err(error), None, permit),
        }
    });
    Prefetch {
        cursor,
        handle: Some(handle),
    }
}

/// Which orders [`Client::orders`] walks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderQuery {
    /// Only orders created at or after this Unix time.
    pub begin_create_time: Option<i64>,
    /// Only orders modified at or after this Unix time; the walk then follows modifications.
    pub begin_modify_time: Option<i64>,
    /// Page size, 1 to 50 (default 50).
    pub limit: Option<i64>,
    /// Resume a walk from this `next_cursor`.
    pub cursor: Option<String>,
}

/// One page of a walk: its orders and the cursor of the page after it (`""` after the last).
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub orders: Vec<Order>,
    pub next_cursor: String,
}

impl Client {
    /// A builder with WeCom's base URL and default timeouts and retries.
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            base_url: WECOM_BASE_URL.to_owned(),
            corpid: String::new(),
            secret: String::new(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            user_agent: concat!("patrol-client/", env!("CARGO_PKG_VERSION")).to_owned(),
            retry: RetryPolicy::default(),
            refresh_ahead: Duration::from_secs(300),
        }
    }

    /// The base URL calls go to.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// How many times this client (and its clones) fetched a token.
    pub fn token_fetches(&self) -> u64 {
        self.inner
            .token_fetches
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The app's access token, from the cache or fetched.
    pub async fn token(&self) -> Result<String> {
        let mut cached = self.inner.token.lock().await;
        if let Some(token) = cached.as_ref().filter(|t| Instant::now() < t.refresh_at) {
            return Ok(token.value.clone());
        }
        let fresh = self.fetch_token().await?;
        let value = fresh.value.clone();
        *cached = Some(fresh);
        Ok(value)
    }

    /// Forgets `failed` if it is still the cached token, so that the next call fetches anew.
    async fn forget_token(&self, failed: &str) {
        let mut cached = self.inner.token.lock().await;
        if cached.as_ref().is_some_and(|t| t.value == failed) {
            *cached = None;
        }
    }

    async fn fetch_token(&self) -> Result<CachedToken> {
        let url = format!("{}/cgi-bin/gettoken", self.inner.base_url);
        let mut retry = 0;
        loop {
            self.inner
                .token_fetches
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let request = self.inner.http.get(&url).query(&[
                ("corpid", self.inner.corpid.as_str()),
                ("corpsecret", self.inner.secret.as_str()),
            ]);
            let started = Instant::now();
            match self
                .send::<GetTokenResponse>(&url, request, &mut |_| {})
                .await
            {
                Ok(answer) => {
                    // Capped, so that no answer can overflow the clock (`expires_in` is
                    // 7200 at WeCom; a token refused early is fetched again anyway).
                    let lifetime = Duration::from_secs(
                        answer.expires_in.clamp(0, LONGEST_TOKEN_LIFETIME) as u64,
                    );
                    // Ahead of expiry, but never in the token's first half: a server that hands
                    // out the same token until it expires must not be asked again and again.
                    let ahead = self.inner.refresh_ahead.min(lifetime / 2);
                    return Ok(CachedToken {
                        value: answer.access_token,
                        refresh_at: started + lifetime - ahead,
                    });
                }
                Err(error) if error.is_transient() && retry < self.inner.retry.max_retries => {
                    retry += 1;
                    let delay = self.inner.retry.delay(retry);
                    tracing::debug!(%error, retry, ?delay, "retrying gettoken");
                    tokio::time::sleep(delay).await;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Sends one request and reads WeCom's answer, handing its bytes to `on_bytes` first.
    async fn send<T: Answer>(
        &self,
        url: &str,
        request: reqwest::RequestBuilder,
        on_bytes: &mut impl FnMut(&[u8]),
    ) -> Result<T> {
        // reqwest's error names the URL with its query string: the secret (gettoken) or the
        // access token. `url` names the endpoint without them.
        let transport = |source: reqwest::Error| Error::Transport {
            url: url.to_owned(),
            source: source.without_url(),
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(transport)?;
        let success = (200..300).contains(&status);
        if success {
            on_bytes(&bytes);
        }
        // One parse for the common case: the answer itself, errcode included. The body is checked
        // for UTF-8 once, which is cheaper than string by string.
        let typed = match std::str::from_utf8(&bytes) {
            Ok(text) => serde_json::from_str::<T>(text),
            Err(_) => serde_json::from_slice::<T>(&bytes),
        };
        match typed {
            Ok(answer) if answer.errcode() == 0 && success => return Ok(answer),
            Ok(answer) if answer.errcode() != 0 => {
                return Err(Error::Api {
                    errcode: answer.errcode(),
                    errmsg: answer.into_errmsg(),
                });
            }
            _ => {}
        }
        let decode = |message: String| Error::Decode {
            url: url.to_owned(),
            status,
            message,
        };
        // Not the answer: WeCom's error envelope, or not WeCom at all.
        let envelope: Envelope = serde_json::from_slice(&bytes).map_err(|e| {
            let start = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned();
            decode(format!("not WeCom's JSON ({e}): {start:?}"))
        })?;
        if envelope.errcode != 0 {
            return Err(Error::Api {
                errcode: envelope.errcode,
                errmsg: envelope.errmsg,
            });
        }
        // WeCom answers everything with HTTP 200; JSON under another status is not its success.
        if !success {
            return Err(decode("an HTTP error without a WeCom errcode".into()));
        }
        match typed {
            Err(error) => Err(decode(error.to_string())),
            Ok(_) => Err(decode("an unexpected answer".into())),
        }
    }

    /// POSTs a body to a `/cgi-bin/` API with the token, refreshing the token once when it is
    /// refused and retrying transient failures.
    async fn call<T: Answer>(&self, api: &str, body: &impl Serialize) -> Result<T> {
        self.call_with(api, body, |_| {}).await
    }

    /// GETs a `/cgi-bin/` API with the token, as [`Client::call`] POSTs one.
    async fn call_get<T: Answer>(&self, api: &str) -> Result<T> {
        self.call_request(api, |http, url| http.get(url), |_| {})
            .await
    }

    /// `GET /cgi-bin/report/patrol/get_grid_info`: the corp's grids and their admins
    /// ([`FamilyClient::grid_info`] of [`Client::patrol`]).
    pub async fn get_grid_info(&self) -> Result<Vec<patrol_wire::patrol::GridInfo>> {
        self.patrol().grid_info().await
    }

    /// [`Client::call`], handing the bytes of every successful HTTP answer to `on_bytes` before
    /// they are parsed.
    async fn call_with<T: Answer>(
        &self,
        api: &str,
        body: &impl Serialize,
        mut on_bytes: impl FnMut(&[u8]),
    ) -> Result<T> {
        let body = serde_json::to_vec(body).map_err(|e| Error::Config(e.to_string()))?;
        let post = |http: &reqwest::Client, url: &str| {
            http.post(url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone())
        };
        self.call_request(api, post, &mut on_bytes).await
    }

    /// Sends the request `build` makes for a `/cgi-bin/` API, with the token, again as
    /// [`Attempts`] says, handing the bytes of every successful HTTP answer to `on_bytes`.
    async fn call_request<T: Answer>(
        &self,
        api: &str,
        build: impl Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder,
        mut on_bytes: impl FnMut(&[u8]),
    ) -> Result<T> {
        let url = format!("{}/cgi-bin/{api}", self.inner.base_url);
        let mut attempts = Attempts::new(self, api);
        loop {
            let token = self.token().await?;
            let request = build(&self.inner.http, &url).query(&[("access_token", token.as_str())]);
            match self.send(&url, request, &mut on_bytes).await {
                Ok(answer) => return Ok(answer),
                Err(error) if attempts.again(&token, &error).await => {}
                Err(error) => return Err(error),
            }
        }
    }

    /// `POST /cgi-bin/report/patrol/get_order_list`: one page ([`FamilyClient::order_list`] of
    /// [`Client::patrol`]).
    pub async fn get_order_list(
        &self,
        request: &GetOrderListRequest,
    ) -> Result<GetOrderListResponse> {
        self.patrol().order_list(request).await
    }

    /// `POST /cgi-bin/report/patrol/get_order_info`: one order ([`FamilyClient::order_info`] of
    /// [`Client::patrol`]).
    pub async fn get_order_info(&self, order_id: &str) -> Result<Order> {
        self.patrol().order_info(order_id).await
    }

    /// The pages of a walk over `report/patrol/get_order_list` ([`FamilyClient::pages`] of
    /// [`Client::patrol`]), following `next_cursor` to the end. The next page is requested as
    /// soon as the current one arrives, so the walk does not wait for the parsing. After an error
    /// the stream ends; the last page's `next_cursor` resumes the walk.
    pub fn pages(&self, query: OrderQuery) -> impl Stream<Item = Result<Page>> + Send + 'static {
        self.patrol().pages(query)
    }

    /// Every order of a walk over `report/patrol/get_order_list` ([`FamilyClient::orders`] of
    /// [`Client::patrol`]), one by one, following `next_cursor` to the end. After an error the
    /// stream ends.
    pub fn orders(&self, query: OrderQuery) -> impl Stream<Item = Result<Order>> + Send + 'static {
        self.patrol().orders(query)
    }
}

/// The pages of a walk over `family`'s `get_order_list`: see [`FamilyClient::pages`].
fn walk_pages(
    client: Client,
    family: Family,
    query: OrderQuery,
) -> impl Stream<Item = Result<Page>> + Send + 'static {
    enum State {
        Start(Client, OrderQuery),
        Next(Prefetch),
        Done,
    }
    stream::unfold(State::Start(client, query), move |state| async move {
        let mut inflight = match state {
            State::Start(client, query) => {
                let cursor = query.cursor.clone().unwrap_or_default();
                let permits = Arc::new(tokio::sync::Semaphore::new(PAGES_AHEAD));
                prefetch(client, family, query, cursor, permits)
            }
            State::Next(inflight) => inflight,
            State::Done => return None,
        };
        let handle = inflight.handle.take()?;
        // The permit goes as the page is handed over, letting the walk read one page ahead.
        match handle.await {
            Ok((page, Some(next), _permit)) => Some((page, State::Next(next))),
            Ok((page, None, _permit)) => Some((page, State::Done)),
            Err(error) => Some((
                Err(Error::Config(format!("the page fetch failed: {error}"))),
                State::Done,
            )),
        }
    })
}

/// The orders of a walk's `pages`, one by one; after an error the stream ends.
fn orders_of(
    pages: impl Stream<Item = Result<Page>> + Send + 'static,
) -> impl Stream<Item = Result<Order>> + Send + 'static {
    use futures_util::StreamExt;
    let pages = Box::pin(pages);
    stream::unfold(
        (pages, VecDeque::new()),
        |(mut pages, mut buffer)| async move {
            loop {
                if let Some(order) = buffer.pop_front() {
                    return Some((Ok(order), (pages, buffer)));
                }
                match pages.next().await? {
                    Ok(page) => buffer.extend(page.orders),
                    Err(error) => return Some((Err(error), (pages, buffer))),
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder() -> ClientBuilder {
        Client::builder()
            .base_url("http://127.0.0.1:9")
            .corpid("wwx")
            .secret("very-secret-value")
    }

    #[test]
    fn the_next_cursor_is_found_without_parsing() {
        let page = br#"{"errcode":0,"errmsg":"ok","next_cursor":"AQ-_z9","order_list":[{"desc":"\"next_cursor\":\"x"}]}"#;
        assert_eq!(scan_next_cursor(page).as_deref(), Some("AQ-_z9"));
        assert_eq!(
            scan_next_cursor(br#"{"next_cursor":"","order_list":[]}"#),
            None
        );
        assert_eq!(
            scan_next_cursor(br#"{"errcode":40058,"errmsg":"invalid cursor"}"#),
            None
        );
        assert_eq!(scan_next_cursor(br#"{"next_cursor":"a\/b"}"#), None);
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let shown = format!("{:?} {:?}", builder(), builder().build().unwrap());
        assert!(!shown.contains("very-secret-value"), "{shown}");
        assert!(
            shown.contains("wwx") && shown.contains("<redacted>"),
            "{shown}"
        );
    }

    #[tokio::test]
    async fn a_request_that_cannot_be_built_is_not_retried() {
        let client = builder()
            .base_url("http://exa mple.com")
            .retry(RetryPolicy {
                max_retries: 3,
                base_delay: Duration::from_secs(3600),
                max_delay: Duration::from_secs(3600),
            })
            .build()
            .unwrap();
        // With an hour between retries, this returns only because nothing is retried.
        let error = client.token().await.unwrap_err();
        assert!(matches!(error, Error::Transport { .. }), "{error:?}");
        assert!(!error.is_transient());
        assert_eq!(client.token_fetches(), 1);
    }
}
