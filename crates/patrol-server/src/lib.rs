//! patrol's server: WeCom's `gettoken` and `report/patrol/*` over a [`Store`].
//!
//! [`serve`] is what the binary and the tests both call: it opens the store named by the
//! [`Config`], installs the demo corp when asked, and answers on the given listener until the
//! shutdown future completes.

pub mod access;
pub mod admin;
pub mod backend;
pub mod config;
pub mod connections;
pub mod cursor;
pub mod error;
pub mod extract;
pub mod fault;
pub mod front;
pub mod handlers;
pub mod journal;
pub mod log_limit;
pub mod measured;
pub mod metrics;
pub mod openapi;
pub mod probes;
pub mod quota;
pub mod recording;
pub mod snapshot;
pub mod version;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use patrol_domain::Clock;
use patrol_store::{Store, StoreError};
use tokio::net::TcpListener;
use tracing::Instrument;

pub use backend::open_store;
pub use config::Config;
use cursor::CursorCodec;
use error::Failure;
use extract::{FamilyApi, PatrolApi, ResidentApi};
use log_limit::LogLimit;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub config: Arc<Config>,
    pub cursors: CursorCodec,
    /// The bound on log lines of refused requests.
    pub refused_log: Arc<LogLimit>,
    /// The bytes of uploaded media.
    pub blobs: Arc<dyn patrol_media::BlobStore>,
    /// The base URL clients reach this server at, without a trailing slash: served image URLs
    /// are made absolute under it when answered.
    pub public_url: Arc<str>,
    /// WeCom's call-frequency limits, when the server enforces them.
    pub quotas: Option<Arc<quota::Quotas>>,
    /// The request journal: the last calls, within its bounds (`journal.rs`).
    pub journal: Arc<journal::Journal>,
    /// The fault rules in force (`fault.rs`).
    pub faults: Arc<fault::Faults>,
    /// The metrics served at `/metrics` (`metrics.rs`).
    pub metrics: Arc<metrics::Metrics>,
    /// Whether the server accepts connections, for `/readyz` (`probes.rs`).
    pub listening: Arc<probes::Listening>,
}

impl AppState {
    /// The one clock: every "now" of the server is read here (the config's clock).
    pub fn clock(&self) -> &Clock {
        &self.config.clock
    }

    pub async fn new(
        store: Arc<dyn Store>,
        blobs: Arc<dyn patrol_media::BlobStore>,
        config: Config,
        public_url: String,
    ) -> Result<AppState, StoreError> {
        let cursors = CursorCodec::new(store.cursor_secret().await?);
        let quotas = config
            .quotas
            .map(|limits| Arc::new(quota::Quotas::new(limits)));
        let journal = Arc::new(journal::Journal::new(config.journal, config.clock.clone()));
        let faults = Arc::new(fault::Faults::new(config.clock.clone()));
        let metrics = Arc::new(metrics::Metrics::new());
        // Every store call of the server is measured (`measured.rs`).
        let store: Arc<dyn Store> = Arc::new(measured::MeasuredStore::new(store, metrics.clone()));
        Ok(AppState {
            faults,
            metrics,
            listening: Arc::default(),
            store,
            quotas,
            config: Arc::new(config),
            cursors,
            refused_log: Arc::default(),
            blobs,
            public_url: public_url.into(),
            journal,
        })
    }
}

/// Why the server could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("snapshot: {0}")]
    Snapshot(#[from] snapshot::SnapshotError),
    #[error("fault rules: {0}")]
    Faults(#[from] fault::InvalidRule),
    #[error("server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// The six endpoints of a report family under `/cgi-bin/report/<family>/`.
fn report_routes<F: FamilyApi>(family: &str) -> Router<AppState> {
    use handlers::patrol::*;
    let path = |name: &str| format!("/cgi-bin/report/{family}/{name}");
    Router::new()
        .route(&path("get_grid_info"), any(get_grid_info::<F>))
        .route(&path("get_corp_status"), any(get_corp_status::<F>))
        .route(&path("get_user_status"), any(get_user_status::<F>))
        .route(&path("category_statistic"), any(category_statistic::<F>))
        .route(&path("get_order_list"), any(get_order_list::<F>))
        .route(&path("get_order_info"), any(get_order_info::<F>))
}

/// All routes. Paths under `/cgi-bin/` that patrol does not serve answer 404 with an empty body.
pub fn router(state: AppState) -> Router {
    let timeout = state.config.request_timeout;
    Router::new()
        .route("/cgi-bin/gettoken", any(handlers::gettoken::gettoken))
        .merge(report_routes::<PatrolApi>("patrol"))
        .merge(report_routes::<ResidentApi>("resident"))
        .route("/cgi-bin/report/grid/add", any(handlers::grid::add))
        .route("/cgi-bin/report/grid/update", any(handlers::grid::update))
        .route("/cgi-bin/report/grid/delete", any(handlers::grid::delete))
        .route("/cgi-bin/report/grid/list", any(handlers::grid::list))
        .route(
            "/cgi-bin/report/grid/get_user_grid_info",
            any(handlers::grid::get_user_grid_info),
        )
        .route(
            "/cgi-bin/report/grid/add_cata",
            any(handlers::grid::add_cata),
        )
        .route(
            "/cgi-bin/report/grid/update_cata",
            any(handlers::grid::update_cata),
        )
        .route(
            "/cgi-bin/report/grid/delete_cata",
            any(handlers::grid::delete_cata),
        )
        .route(
            "/cgi-bin/report/grid/list_cata",
            any(handlers::grid::list_cata),
        )
        .route(
            "/cgi-bin/media/upload",
            any(handlers::media::upload).layer(axum::extract::DefaultBodyLimit::max(
                handlers::media::MAX_UPLOAD_BODY,
            )),
        )
        .route("/cgi-bin/media/get", any(handlers::media::get))
        // Every WeCom API above (not the image files, the admin API or unserved paths).
        .route_layer(middleware::from_fn_with_state(state.clone(), quota_gate))
        .route(
            "/media/images/{corpid}/{file}",
            axum::routing::get(handlers::media::image),
        )
        .route("/metrics", axum::routing::get(metrics::serve))
        .route("/", axum::routing::get(front::page))
        .route("/openapi.json", axum::routing::get(openapi::serve))
        .route("/healthz", axum::routing::get(probes::healthz))
        .route("/readyz", axum::routing::get(probes::readyz))
        .route("/version", axum::routing::get(version::serve))
        .nest("/admin/v1", admin::router(state.clone()))
        // `nest` leaves the bare prefix with a slash to the outer router.
        .route("/admin/v1/", any(admin::no_route))
        .fallback(|| async { StatusCode::NOT_FOUND })
        .layer(middleware::from_fn_with_state(
            Envelope {
                clock: state.clock().clone(),
                refused_log: state.refused_log.clone(),
            },
            envelope,
        ))
        // Outside the envelope, so that a cut or trickling answer is the whole answer, errors
        // included; inside the timeout, so that a pause past it is cut off as any slow call.
        .layer(middleware::from_fn_with_state(state.clone(), fault::inject))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::track,
        ))
        // Outside the timeout, so that a call cut off is logged with its 503.
        .layer(middleware::from_fn_with_state(
            state.clock().clone(),
            access::log,
        ))
        // Outside the timeout, so that a call cut off is journaled with its 503.
        .layer(middleware::from_fn_with_state(
            state.journal.clone(),
            journal::record,
        ))
        .with_state(state)
}

/// WeCom's limits per client IP and on calls running at once, before the handler (the limits
/// per corp are counted once the token names the corp: [`extract::CorpCaller`]). Does nothing
/// unless the server enforces quotas.
async fn quota_gate(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(quotas) = state.quotas.clone() else {
        return next.run(request).await;
    };
    let Some(api) = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|path| path.as_str().to_owned())
    else {
        return next.run(request).await;
    };
    let running = match quotas.start(&api) {
        Ok(running) => running,
        Err(refusal) => return error::ApiError::from(refusal).into_response(),
    };
    if let Some(ip) = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        && let Err(refusal) = quotas.admit(quota::Subject::Ip(ip), &api, state.clock().now())
    {
        return error::ApiError::from(refusal).into_response();
    }
    let response = next.run(request).await;
    drop(running);
    response
}

/// What the envelope middleware needs: the clock (for request ids and log lines) and the bound
/// on log lines.
#[derive(Debug, Clone)]
struct Envelope {
    clock: Clock,
    refused_log: Arc<LogLimit>,
}

/// Logs a line per refused or failed request (the access line of every request is
/// `access.rs`'s) and writes the WeCom envelope of every error a handler or extractor returned,
/// with the request's id.
///
/// Lines of refused requests are bounded: at most [`log_limit::DEFAULT_LINES_PER_SECOND`] a
/// second, the rest counted and reported on the next line; the path and the error text are cut
/// (a client chooses both).
async fn envelope(
    axum::extract::State(envelope): axum::extract::State<Envelope>,
    request: Request,
    next: Next,
) -> Response {
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    // Cheap clones (the URI shares its bytes); the path is formatted only when logged.
    let method = request.method().clone();
    let uri = request.uri().clone();
    let path = patrol_wire::echo::bounded(uri.path(), access::MAX_LOGGED_PATH);
    let media_get = uri.path() == "/cgi-bin/media/get";
    // The server's clock at the request's start, in every line of it: the span's fields, the
    // refusal line's own (the access line reads it too, in `access.rs`). The span is at debug
    // level, so it costs nothing by default; while the clock is not real, the span is at info,
    // so that every line a request logs says so.
    let clock = envelope.clock.reading();
    let clock_mode = clock.mode.name();
    let span = if clock.mode == patrol_domain::ClockMode::Real {
        tracing::debug_span!("request", %method, %path, clock = clock.now, clock_mode, agentid = tracing::field::Empty)
    } else {
        tracing::info_span!("request", %method, %path, clock = clock.now, clock_mode, agentid = tracing::field::Empty)
    };
    let clock = clock.now;
    let note = access::note(request.extensions()).cloned();
    async move {
        let started = std::time::Instant::now();
        let mut response = match request.extensions().get::<fault::AnswerErrcode>() {
            // A fault rule answers instead of the handler.
            Some(&fault::AnswerErrcode(code)) => error::ApiError::Injected(code).into_response(),
            None => next.run(request).await,
        };
        let elapsed_us = started.elapsed().as_micros() as u64;
        let Some(failure) = response.extensions_mut().remove::<Failure>() else {
            return response;
        };
        // The request's id (`access.rs`): in the errmsg, in the log lines and in the header.
        let request_id = match &note {
            Some(note) => note.id().to_owned(),
            None => access::request_id(envelope.clock.now())
                .to_str()
                .unwrap_or_default()
                .to_owned(),
        };
        let client_ip = client.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
        let errcode = failure.error.code();
        let errmsg = failure.errmsg(&request_id, &client_ip);
        if let error::ApiError::Internal(cause) = &failure.error {
            // Failures of patrol itself are not the client's doing: always logged.
            tracing::error!(%request_id, %method, %path, errcode, cause = %cause, elapsed_us, clock, clock_mode, "request failed");
        } else if let Some(dropped) = envelope.refused_log.admit() {
            let error = failure.text();
            if dropped > 0 {
                tracing::info!(%request_id, %method, %path, errcode, %error, elapsed_us, clock, clock_mode, dropped, "request refused (and {dropped} more not logged)");
            } else {
                tracing::info!(%request_id, %method, %path, errcode, %error, elapsed_us, clock, clock_mode, "request refused");
            }
        }
        let body = patrol_wire::Envelope { errcode, errmsg };
        let mut response =
            handlers::json_bytes(serde_json::to_vec(&body).expect("an envelope always serializes"));
        response.extensions_mut().insert(journal::ErrorNote {
            request_id: request_id.clone(),
            errcode,
        });
        if let Ok(value) = HeaderValue::from_str(&errcode.to_string()) {
            response.headers_mut().insert("error-code", value);
        }
        if media_get {
            // SDKs tell a failed download from a file by this exact type (decisions.md, "Media").
            response.headers_mut().insert(
                axum::http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        response
    }
    .instrument(span)
    .await
}

/// A server ready to answer on a bound listener: its store opened (the database's lock held)
/// and the demo corp installed when asked. Nothing is answered until [`Server::run`], so a
/// caller can tell a server that cannot open its database from one that serves (the CLI prints
/// its banner in between).
#[derive(Debug)]
pub struct Server {
    state: AppState,
    listener: TcpListener,
}

impl Server {
    /// Opens the store named by the config and installs the demo corp when asked.
    pub async fn prepare(config: Config, listener: TcpListener) -> Result<Server, ServeError> {
        // Rules first: a bad one refuses the start before the database is touched.
        let faults = fault::Faults::new(config.clock.clone());
        let loaded = faults.replace(config.faults.clone())?;
        let store = backend::open_store_with(&config.database, &config.store_options()).await?;
        if config.fresh_database
            && config.media_dir.is_none()
            && let Some(dir) = backend::default_media_dir(&config.database)
        {
            // The fresh database's own media go with it (the store holds the database's lock).
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => {}
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => {
                    return Err(StoreError::Open {
                        message: format!("cannot remove {}", dir.display()),
                        source: Some(error.into()),
                    }
                    .into());
                }
            }
        }
        let blobs = backend::open_blobs(&config.database, config.media_dir.as_deref())?;
        let store = match &config.snapshot {
            Some(path) => {
                let summary = snapshot::load_at_start(store.as_ref(), blobs.as_ref(), path).await?;
                if summary.is_some_and(|summary| summary.secrets) {
                    // The store keeps the secrets it opened with: open it again to use the
                    // snapshot's (stores of one process share the database's lock).
                    backend::open_store_with(&config.database, &config.store_options()).await?
                } else {
                    store
                }
            }
            None => store,
        };
        let public_url = config.public_url(listener.local_addr()?);
        if config.demo {
            patrol_demo::install(store.as_ref(), blobs.as_ref(), &config.clock).await?;
        }
        let mut state = AppState::new(store, blobs, config, public_url).await?;
        state.faults = Arc::new(faults);
        if !loaded.is_empty() {
            tracing::warn!(
                rules = loaded.len(),
                "fault rules are in force from the start"
            );
        }
        Ok(Server { state, listener })
    }

    /// The store it serves, for a caller that looks at what the database holds before
    /// [`Server::run`] (the CLI's banner).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.state.store
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Answers until `shutdown` completes, then drains open requests.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let Server { state, listener } = self;
        tracing::info!(address = %listener.local_addr()?, "patrol is listening");
        let config = Arc::clone(&state.config);
        let journal = Arc::clone(&state.journal);
        let listening = Arc::clone(&state.listening);
        let open_connections = state.metrics.connections();
        // The journal's live streams end first, or the open requests would never drain.
        let shutdown = async move {
            shutdown.await;
            listening.set(false);
            journal.close();
        };
        state.listening.set(true);
        connections::serve(listener, router(state), &config, open_connections, shutdown).await;
        Ok(())
    }
}

/// Serves patrol on `listener` until `shutdown` completes, then drains open requests:
/// [`Server::prepare`] then [`Server::run`].
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    Server::prepare(config, listener).await?.run(shutdown).await
}

/// The default request timeout.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
