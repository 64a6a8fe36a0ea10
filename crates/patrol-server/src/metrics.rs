//! The server's metrics, served in the OpenMetrics text format at `/metrics` for Prometheus
//! (docs/decisions.md, "Metrics"): calls by route, HTTP status and WeCom errcode, their latency,
//! the faults applied by fault rules, the store's calls by operation and their latency
//! (`measured.rs`), tokens issued, orders reported, open connections (`connections.rs`), the
//! store's pool (read at each scrape), and the build (version and git commit).
//!
//! One registry per server ([`Metrics`] in the `AppState`), not a global one, so that servers in
//! one process (the tests') count apart. Labels are bounded: a route is the pattern matched
//! (`/cgi-bin/report/patrol/get_order_list`, `/admin/v1/corps/{corpid}`), every unmatched path is
//! `unmatched`; an errcode is one the server answered; a store operation is a method of the store
//! traits; a family is `patrol` or `resident`.

use axum::extract::MatchedPath;
use axum::http::Method;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The route label of a path no route matched.
pub const UNMATCHED: &str = "unmatched";

/// A route's pattern as a label, [`UNMATCHED`] for none: shares the router's text, no copy.
#[derive(Debug, Clone)]
struct Route(Option<MatchedPath>);

impl Route {
    fn as_str(&self) -> &str {
        self.0.as_ref().map_or(UNMATCHED, MatchedPath::as_str)
    }
}

impl PartialEq for Route {
    fn eq(&self, other: &Route) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Route {}

impl std::hash::Hash for Route {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl EncodeLabelValue for Route {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        EncodeLabelValue::encode(&self.as_str(), encoder)
    }
}

/// An HTTP method as a label.
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
struct MethodLabel(Method);

impl EncodeLabelValue for MethodLabel {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        EncodeLabelValue::encode(&self.0.as_str(), encoder)
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    route: Route,
    method: MethodLabel,
    status: u16,
    /// WeCom's errcode of an answer under `/cgi-bin/` (0 for a success); empty for others.
    errcode: Option<i64>,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: Route,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FaultLabels {
    action: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FamilyLabels {
    family: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
    commit: &'static str,
}

/// The store's pool, as gauges set at each scrape.
#[derive(Debug, Default)]
struct PoolGauges {
    max: Gauge,
    open: Gauge,
    idle: Gauge,
}

/// The metrics of one server.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    calls: Family<CallLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    faults: Family<FaultLabels, Counter>,
    store_latency: Family<OperationLabels, Histogram>,
    store_errors: Family<OperationLabels, Counter>,
    tokens_issued: Counter,
    orders_reported: Family<FamilyLabels, Counter>,
    connections: Gauge,
    pool: PoolGauges,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

/// One finished call, as [`Metrics::call`] counts it.
#[derive(Debug)]
pub struct Call {
    /// The route matched; `None` for a path no route matched.
    pub route: Option<MatchedPath>,
    pub method: Method,
    pub status: StatusCode,
    pub errcode: Option<i64>,
    pub seconds: f64,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("patrol");
        let calls = Family::<CallLabels, Counter>::default();
        registry.register(
            "http_requests",
            "Calls answered, by route, method, HTTP status and WeCom errcode",
            calls.clone(),
        );
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            // 100 µs to about 13 s.
            Histogram::new(exponential_buckets(0.000_1, 2.0, 18))
        });
        registry.register(
            "http_request_duration_seconds",
            "Time from a call's arrival to its answer's head, by route",
            latency.clone(),
        );
        let faults = Family::<FaultLabels, Counter>::default();
        registry.register(
            "faults_applied",
            "Faults applied to calls by fault rules, by action",
            faults.clone(),
        );
        let store_latency = Family::<OperationLabels, Histogram>::new_with_constructor(|| {
            // 10 µs to about 5 s: a cached token check takes microseconds.
            Histogram::new(exponential_buckets(0.000_01, 2.0, 20))
        });
        registry.register(
            "store_operation_duration_seconds",
            "Time of the store's calls, by operation (a method of the store traits)",
            store_latency.clone(),
        );
        let store_errors = Family::<OperationLabels, Counter>::default();
        registry.register(
            "store_errors",
            "Store calls that failed (errors of the caller's input included), by operation",
            store_errors.clone(),
        );
        let tokens_issued = Counter::default();
        registry.register(
            "tokens_issued",
            "Access tokens granted by gettoken (a new token, or the app's live one again)",
            tokens_issued.clone(),
        );
        let orders_reported = Family::<FamilyLabels, Counter>::default();
        registry.register(
            "orders_reported",
            "Orders reported through the administration API, by family",
            orders_reported.clone(),
        );
        let connections = Gauge::default();
        registry.register(
            "http_connections_open",
            "Client connections open now (refused ones past the caps not counted)",
            connections.clone(),
        );
        let pool = PoolGauges::default();
        registry.register(
            "store_pool_connections_max",
            "The most database connections the store's pool holds (SQLite: its inline readers)",
            pool.max.clone(),
        );
        registry.register(
            "store_pool_connections_open",
            "Database connections of the store's pool open now",
            pool.open.clone(),
        );
        registry.register(
            "store_pool_connections_idle",
            "Database connections of the store's pool open and not in use now",
            pool.idle.clone(),
        );
        let build = Family::<BuildLabels, Gauge>::default();
        build
            .get_or_create(&BuildLabels {
                version: crate::version::VERSION,
                commit: crate::version::GIT_COMMIT,
            })
            .set(1);
        registry.register(
            "build_info",
            "Always 1: this server's version and git commit, as labels",
            build,
        );
        Metrics {
            registry,
            calls,
            latency,
            faults,
            store_latency,
            store_errors,
            tokens_issued,
            orders_reported,
            connections,
            pool,
        }
    }

    /// Counts a finished store call (`measured.rs`).
    pub fn store_operation(&self, operation: &'static str, took: std::time::Duration, ok: bool) {
        let labels = OperationLabels { operation };
        self.store_latency
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
        if !ok {
            self.store_errors.get_or_create(&labels).inc();
        }
    }

    /// Counts a token granted by gettoken.
    pub fn token_issued(&self) {
        self.tokens_issued.inc();
    }

    /// Counts an order reported.
    pub fn order_reported(&self, family: patrol_domain::Family) {
        self.orders_reported
            .get_or_create(&FamilyLabels {
                family: family.as_str(),
            })
            .inc();
    }

    /// The gauge of open connections, for the accept loop to move (clones share the value).
    pub fn connections(&self) -> Gauge {
        self.connections.clone()
    }

    /// Sets the pool's gauges to the store's pool now.
    pub fn sample_pool(&self, status: patrol_store::PoolStatus) {
        let gauge = |value: usize| i64::try_from(value).unwrap_or(i64::MAX);
        self.pool.max.set(gauge(status.max));
        self.pool.open.set(gauge(status.open));
        self.pool.idle.set(gauge(status.idle));
    }

    /// Counts a finished call.
    pub fn call(&self, call: Call) {
        let route = Route(call.route);
        self.latency
            .get_or_create(&RouteLabels {
                route: route.clone(),
            })
            .observe(call.seconds);
        self.calls
            .get_or_create(&CallLabels {
                route,
                method: MethodLabel(call.method),
                status: call.status.as_u16(),
                errcode: call.errcode,
            })
            .inc();
    }

    /// Counts a fault applied: `errcode`, `status`, `delay`, `reset`, `truncate` or `chunks`.
    pub fn fault(&self, action: &'static str) {
        self.faults.get_or_create(&FaultLabels { action }).inc();
    }

    /// Every metric in the OpenMetrics text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

/// The middleware: counts every call and its latency (inside the journal, outside the request
/// timeout, so a call cut off counts with its 503; one the client abandoned does not count).
pub async fn track(
    axum::extract::State(metrics): axum::extract::State<std::sync::Arc<Metrics>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let started = std::time::Instant::now();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let method = request.method().clone();
    let wecom = request.uri().path().starts_with("/cgi-bin/");
    let response = next.run(request).await;
    let errcode = answered_errcode(wecom, &response);
    metrics.call(Call {
        route,
        method,
        status: response.status(),
        errcode,
        seconds: started.elapsed().as_secs_f64(),
    });
    response
}

/// The WeCom errcode of an answer: the error's (noted by the envelope), 0 for a success under
/// `/cgi-bin/` (`wecom`), none for other answers.
pub fn answered_errcode(wecom: bool, response: &Response) -> Option<i64> {
    match response.extensions().get::<crate::journal::ErrorNote>() {
        Some(note) => Some(note.errcode),
        None if wecom && response.status() == StatusCode::OK => Some(0),
        None => None,
    }
}

/// `GET /metrics`.
pub async fn serve(axum::extract::State(state): axum::extract::State<crate::AppState>) -> Response {
    state.metrics.sample_pool(state.store.pool_status());
    let mut response = state.metrics.render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Routes matched are labelled by their pattern: the HTTP suite's `faults.rs` shows it (a
    /// `MatchedPath` is only made by a router).
    #[test]
    fn calls_and_faults_are_counted_with_bounded_labels() {
        let metrics = Metrics::new();
        for (status, errcode) in [
            (200, Some(0)),
            (200, Some(0)),
            (200, Some(40014)),
            (404, None),
        ] {
            metrics.call(Call {
                route: None,
                method: Method::POST,
                status: StatusCode::from_u16(status).unwrap(),
                errcode,
                seconds: 0.001,
            });
        }
        metrics.fault("reset");
        let text = metrics.render();
        for line in [
            r#"patrol_http_requests_total{route="unmatched",method="POST",status="200",errcode="0"} 2"#,
            r#"patrol_http_requests_total{route="unmatched",method="POST",status="200",errcode="40014"} 1"#,
            r#"patrol_http_requests_total{route="unmatched",method="POST",status="404",errcode=""} 1"#,
            r#"patrol_http_request_duration_seconds_count{route="unmatched"} 4"#,
            r#"patrol_faults_applied_total{action="reset"} 1"#,
        ] {
            assert!(text.contains(line), "{line}\n{text}");
        }
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
