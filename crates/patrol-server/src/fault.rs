//! Faults: rules that make chosen calls fail the way WeCom fails on a bad day — an errcode, an
//! HTTP status, a pause, a reset connection, a cut or trickling answer (docs/admin-api.md,
//! "Faults"; docs/decisions.md, "Faults").
//!
//! [`Faults`] holds the rules of a server process, added and removed through
//! `/admin/v1/faults`, or loaded from a file at start. The middleware [`inject`] asks it, for
//! every call outside the administration API, whether a rule hits the call; the first rule, in
//! the order they were added, that matches the call (path, method, corp, app, time window), has
//! let its `skip` calls through and wins its draw, hits it. A hit is marked in the journal and
//! counted (`applied` per rule, `applied_total` in all).
//!
//! Where each action happens: an errcode is answered by the envelope instead of the handler
//! (so it has WeCom's `errmsg` and a request id); a status, a reset or a pause happen here,
//! before the handler; a cut or trickling answer is made of the whole answer the envelope
//! gives back, errors included.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body::Body as _;
use http_body_util::BodyExt;
use patrol_domain::{Clock, TokenStatus, limits};
use patrol_wire::admin::{FaultAction, FaultDelay, FaultList, FaultRule, FaultView};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::Distribution;

use crate::AppState;

/// Rules held at most.
pub const MAX_RULES: usize = 1_000;
/// The longest pause a delay fault makes, in milliseconds (log-normal samples are cut to it).
pub const MAX_DELAY_MS: u64 = 600_000;
/// The longest wait between two pieces of a trickling answer: half the default idle timeout, so
/// that the connection is not closed as idle in between.
pub const MAX_CHUNK_EVERY_MS: u64 = 30_000;
/// The largest piece of a trickling answer.
pub const MAX_CHUNK_BYTES: u32 = 1 << 20;
/// The longest path glob, method or corpid a rule holds, in bytes.
const MAX_TEXT: usize = 1_024;
/// The path glob of a rule that names none: every WeCom call.
pub const DEFAULT_PATH: &str = "/cgi-bin/*";
/// The administration API, which no rule touches (a rule must never lock its author out).
const ADMIN_PREFIX: &str = "/admin/v1";

/// Why a rule was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidRule(pub String);

fn invalid(message: impl Into<String>) -> InvalidRule {
    InvalidRule(message.into())
}

/// One rule in force.
#[derive(Debug)]
struct Rule {
    id: u64,
    /// As answered: `until` resolved from `expires_in`, `seed` filled in.
    spec: FaultRule,
    pattern: glob::Pattern,
    method: Option<Method>,
    rng: ChaCha8Rng,
    skip_left: u64,
    matched: u64,
    applied: u64,
}

impl Rule {
    /// Checks a rule and resolves it at `now` on the server's clock.
    fn new(id: u64, mut spec: FaultRule, now: i64) -> Result<Rule, InvalidRule> {
        let path = spec.path.get_or_insert_with(|| DEFAULT_PATH.to_owned());
        if path.is_empty() || path.len() > MAX_TEXT {
            return Err(invalid(format!(
                "path: a glob of 1 to {MAX_TEXT} bytes, such as /cgi-bin/report/patrol/*"
            )));
        }
        let pattern = glob::Pattern::new(path)
            .map_err(|error| invalid(format!("path: not a glob: {error}")))?;
        let method = match &spec.method {
            None => None,
            Some(name) => {
                if name.is_empty()
                    || name.len() > 16
                    || !name.bytes().all(|b| b.is_ascii_uppercase())
                {
                    return Err(invalid(format!(
                        "method: an HTTP method in capitals, such as GET or POST (got {name:?})"
                    )));
                }
                Some(
                    Method::from_bytes(name.as_bytes())
                        .map_err(|_| invalid(format!("method: not an HTTP method: {name:?}")))?,
                )
            }
        };
        if let Some(corpid) = &spec.corpid
            && (corpid.is_empty() || corpid.len() > MAX_TEXT)
        {
            return Err(invalid("corpid: 1 to 1024 bytes"));
        }
        if spec.times == Some(0) {
            return Err(invalid("times: at least 1 (leave it out for no limit)"));
        }
        if let Some(probability) = spec.probability
            && !(probability > 0.0 && probability <= 1.0)
        {
            return Err(invalid(format!(
                "probability: above 0 and at most 1 (got {probability})"
            )));
        }
        for (name, time) in [("from", spec.from), ("until", spec.until)] {
            if let Some(time) = time {
                limits::check_clock_time(time)
                    .map_err(|rejection| invalid(format!("{name}: {rejection}")))?;
            }
        }
        if let Some(seconds) = spec.expires_in.take() {
            if spec.until.is_some() {
                return Err(invalid("give until or expires_in, not both"));
            }
            if !(1..=limits::MAX_CLOCK_TIME).contains(&seconds) {
                return Err(invalid(format!(
                    "expires_in: seconds from now, at least 1 (got {seconds})"
                )));
            }
            spec.until = Some(now.saturating_add(seconds));
        }
        if let (Some(from), Some(until)) = (spec.from, spec.until)
            && from >= until
        {
            return Err(invalid(format!(
                "from ({from}) must come before until ({until})"
            )));
        }
        if let Some(until) = spec.until
            && until <= now
        {
            return Err(invalid(format!(
                "until ({until}) is not after the server's clock ({now}): the rule would never fire"
            )));
        }
        check_action(&spec.action)?;
        let seed = *spec.seed.get_or_insert(id);
        Ok(Rule {
            id,
            pattern,
            method,
            rng: ChaCha8Rng::seed_from_u64(seed),
            skip_left: spec.skip.unwrap_or(0),
            matched: 0,
            applied: 0,
            spec,
        })
    }

    fn remaining(&self) -> Option<u64> {
        self.spec
            .times
            .map(|times| times.saturating_sub(self.applied))
    }

    fn expired(&self, now: i64) -> bool {
        self.remaining() == Some(0) || self.spec.until.is_some_and(|until| now >= until)
    }

    /// Whether the rule may match a call to `path` with `method` at `now`, before its corp and
    /// app are known.
    fn may_match(&self, path: &str, method: &Method, now: i64) -> bool {
        !self.expired(now)
            && self.spec.from.is_none_or(|from| now >= from)
            && self.method.as_ref().is_none_or(|wanted| wanted == method)
            && self.pattern.matches(path)
    }

    fn needs_identity(&self) -> bool {
        self.spec.corpid.is_some() || self.spec.agentid.is_some()
    }

    fn matches_identity(&self, identity: &Identity) -> bool {
        let corp = self.spec.corpid.as_ref().is_none_or(|corpid| {
            identity.named_corpid.as_deref() == Some(corpid.as_str())
                || identity.caller.is_some_and(|(corp_key, _)| {
                    identity.corp_keys.get(corpid) == Some(&Some(corp_key))
                })
        });
        let app = self.spec.agentid.is_none_or(|agentid| {
            identity
                .caller
                .is_some_and(|(_, caller_agentid)| caller_agentid == agentid)
        });
        corp && app
    }

    fn view(&self) -> FaultView {
        FaultView {
            id: self.id,
            rule: self.spec.clone(),
            matched: self.matched,
            applied: self.applied,
            remaining: self.remaining(),
        }
    }

    /// The pause of a delay, drawn from the rule's generator.
    fn draw_delay(&mut self, delay: &FaultDelay) -> Duration {
        let ms = match *delay {
            FaultDelay::Fixed { ms } => ms,
            FaultDelay::Uniform { min_ms, max_ms } => self.rng.random_range(min_ms..=max_ms),
            FaultDelay::Lognormal { median_ms, sigma } => {
                let median = (median_ms.max(1) as f64).ln();
                match rand_distr::LogNormal::new(median, sigma) {
                    Ok(distribution) => distribution.sample(&mut self.rng) as u64,
                    Err(_) => median_ms,
                }
            }
        };
        Duration::from_millis(ms.min(MAX_DELAY_MS))
    }
}

fn check_action(action: &FaultAction) -> Result<(), InvalidRule> {
    match *action {
        FaultAction::Errcode(0) => Err(invalid(
            "action.errcode: 0 is success; give an error code such as -1, 45009 or 42001",
        )),
        FaultAction::Status(status) if !(200..=599).contains(&status) => Err(invalid(format!(
            "action.status: an HTTP status from 200 to 599 (got {status})"
        ))),
        FaultAction::Delay(FaultDelay::Fixed { ms }) if ms > MAX_DELAY_MS => Err(invalid(format!(
            "action.delay.ms: at most {MAX_DELAY_MS} (got {ms})"
        ))),
        FaultAction::Delay(FaultDelay::Uniform { min_ms, max_ms })
            if min_ms > max_ms || max_ms > MAX_DELAY_MS =>
        {
            Err(invalid(format!(
                "action.delay: min_ms ({min_ms}) at most max_ms ({max_ms}), at most {MAX_DELAY_MS}"
            )))
        }
        FaultAction::Delay(FaultDelay::Lognormal { median_ms, sigma })
            if median_ms > MAX_DELAY_MS || !(0.0..=4.0).contains(&sigma) =>
        {
            Err(invalid(format!(
                "action.delay: median_ms at most {MAX_DELAY_MS} (got {median_ms}), sigma from 0 to 4 (got {sigma})"
            )))
        }
        FaultAction::Chunks { bytes, every_ms }
            if bytes == 0 || bytes > MAX_CHUNK_BYTES || every_ms > MAX_CHUNK_EVERY_MS =>
        {
            Err(invalid(format!(
                "action.chunks: bytes from 1 to {MAX_CHUNK_BYTES} (got {bytes}), every_ms at most {MAX_CHUNK_EVERY_MS} (got {every_ms})"
            )))
        }
        _ => Ok(()),
    }
}

/// The kind of an action, as the metrics count it.
pub fn action_name(action: &FaultAction) -> &'static str {
    match action {
        FaultAction::Errcode(_) => "errcode",
        FaultAction::Status(_) => "status",
        FaultAction::Delay(_) => "delay",
        FaultAction::Reset => "reset",
        FaultAction::Truncate => "truncate",
        FaultAction::Chunks { .. } => "chunks",
    }
}

/// A short description of an action, for the journal and the log.
pub fn describe(action: &FaultAction) -> String {
    match action {
        FaultAction::Errcode(code) => format!("errcode {code}"),
        FaultAction::Status(status) => format!("status {status}"),
        FaultAction::Delay(FaultDelay::Fixed { ms }) => format!("delay {ms} ms"),
        FaultAction::Delay(FaultDelay::Uniform { min_ms, max_ms }) => {
            format!("delay uniform {min_ms}..={max_ms} ms")
        }
        FaultAction::Delay(FaultDelay::Lognormal { median_ms, sigma }) => {
            format!("delay lognormal median {median_ms} ms sigma {sigma}")
        }
        FaultAction::Reset => "reset".to_owned(),
        FaultAction::Truncate => "truncate".to_owned(),
        FaultAction::Chunks { bytes, every_ms } => {
            format!("chunks of {bytes} bytes every {every_ms} ms")
        }
    }
}

#[derive(Debug)]
struct Registry {
    rules: Vec<Rule>,
    next_id: u64,
}

/// The fault rules of one server process.
#[derive(Debug)]
pub struct Faults {
    clock: Clock,
    registry: Mutex<Registry>,
    /// Rules held: read without the lock, so that a server without rules pays nothing.
    held: AtomicUsize,
    applied_total: AtomicU64,
}

/// Who makes a call, as far as rules naming a corp or an app need it.
#[derive(Debug, Default)]
pub struct Identity {
    /// gettoken's `corpid`.
    pub named_corpid: Option<String>,
    /// The corp's key and the app of a valid token.
    pub caller: Option<(i64, i64)>,
    /// The keys of the corps the rules name (`None`: no such corp).
    pub corp_keys: HashMap<String, Option<i64>>,
}

/// A rule hit a call.
#[derive(Debug, Clone)]
pub struct Hit {
    pub rule: u64,
    pub action: FaultAction,
    /// The pause of a delay, drawn.
    pub delay: Option<Duration>,
}

impl Hit {
    /// The hit as the journal marks it: `rule 3: errcode -1`.
    pub fn describe(&self) -> String {
        match self.delay {
            Some(pause) => format!(
                "rule {}: {} (slept {} ms)",
                self.rule,
                describe(&self.action),
                pause.as_millis()
            ),
            None => format!("rule {}: {}", self.rule, describe(&self.action)),
        }
    }
}

impl Faults {
    pub fn new(clock: Clock) -> Faults {
        Faults {
            clock,
            registry: Mutex::new(Registry {
                rules: Vec::new(),
                next_id: 1,
            }),
            held: AtomicUsize::new(0),
            applied_total: AtomicU64::new(0),
        }
    }

    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn settle(&self, registry: &mut Registry, now: i64) {
        registry.rules.retain(|rule| !rule.expired(now));
        self.held.store(registry.rules.len(), Ordering::Relaxed);
    }

    /// Adds a rule, tried after those already held.
    pub fn add(&self, rule: FaultRule) -> Result<FaultView, InvalidRule> {
        let now = self.clock.now();
        let mut registry = self.registry();
        self.settle(&mut registry, now);
        if registry.rules.len() >= MAX_RULES {
            return Err(invalid(format!(
                "{MAX_RULES} rules are held already: remove some first"
            )));
        }
        let rule = Rule::new(registry.next_id, rule, now)?;
        registry.next_id += 1;
        let view = rule.view();
        registry.rules.push(rule);
        self.held.store(registry.rules.len(), Ordering::Relaxed);
        Ok(view)
    }

    /// Replaces every rule with `rules`, all or none: the first invalid one (by its place in
    /// the list) refuses the whole set.
    pub fn replace(&self, rules: Vec<FaultRule>) -> Result<Vec<FaultView>, InvalidRule> {
        if rules.len() > MAX_RULES {
            return Err(invalid(format!(
                "{} rules: at most {MAX_RULES}",
                rules.len()
            )));
        }
        let now = self.clock.now();
        let mut registry = self.registry();
        let first = registry.next_id;
        let checked = rules
            .into_iter()
            .enumerate()
            .map(|(index, rule)| {
                Rule::new(first + index as u64, rule, now)
                    .map_err(|InvalidRule(message)| invalid(format!("faults[{index}].{message}")))
            })
            .collect::<Result<Vec<Rule>, InvalidRule>>()?;
        registry.next_id = first + checked.len() as u64;
        registry.rules = checked;
        self.held.store(registry.rules.len(), Ordering::Relaxed);
        Ok(registry.rules.iter().map(Rule::view).collect())
    }

    /// Removes a rule; what it was, if it was held.
    pub fn remove(&self, id: u64) -> Option<FaultView> {
        let mut registry = self.registry();
        let index = registry.rules.iter().position(|rule| rule.id == id)?;
        let removed = registry.rules.remove(index);
        self.held.store(registry.rules.len(), Ordering::Relaxed);
        Some(removed.view())
    }

    /// Removes every rule; how many were held.
    pub fn clear(&self) -> usize {
        let mut registry = self.registry();
        let count = registry.rules.len();
        registry.rules.clear();
        self.held.store(0, Ordering::Relaxed);
        count
    }

    /// The rules in force, in the order they are tried.
    pub fn list(&self) -> FaultList {
        let now = self.clock.now();
        let mut registry = self.registry();
        self.settle(&mut registry, now);
        FaultList {
            faults: registry.rules.iter().map(Rule::view).collect(),
            applied_total: self.applied_total.load(Ordering::Relaxed),
        }
    }

    /// One rule in force.
    pub fn get(&self, id: u64) -> Option<FaultView> {
        let now = self.clock.now();
        let mut registry = self.registry();
        self.settle(&mut registry, now);
        registry
            .rules
            .iter()
            .find(|rule| rule.id == id)
            .map(Rule::view)
    }

    /// Faults applied since the server started.
    pub fn applied_total(&self) -> u64 {
        self.applied_total.load(Ordering::Relaxed)
    }

    /// What deciding on a call needs: `None` when no rule may match it; else the corps named by
    /// the rules that may, when some rule needs to know who calls.
    pub fn candidates(&self, path: &str, method: &Method, now: i64) -> Option<Option<Vec<String>>> {
        if self.held.load(Ordering::Relaxed) == 0 || path.starts_with(ADMIN_PREFIX) {
            return None;
        }
        let registry = self.registry();
        let mut any = false;
        let mut identity: Option<Vec<String>> = None;
        for rule in registry
            .rules
            .iter()
            .filter(|rule| rule.may_match(path, method, now))
        {
            any = true;
            if rule.needs_identity() {
                let corps = identity.get_or_insert_with(Vec::new);
                if let Some(corpid) = &rule.spec.corpid
                    && !corps.contains(corpid)
                {
                    corps.push(corpid.clone());
                }
            }
        }
        any.then_some(identity)
    }

    /// The rule that hits a call, if any: counted, its draws taken, expired when spent.
    pub fn decide(
        &self,
        path: &str,
        method: &Method,
        identity: Option<&Identity>,
        now: i64,
    ) -> Option<Hit> {
        let mut registry = self.registry();
        let mut hit = None;
        for rule in &mut registry.rules {
            if !rule.may_match(path, method, now) {
                continue;
            }
            if rule.needs_identity() && !identity.is_some_and(|who| rule.matches_identity(who)) {
                continue;
            }
            rule.matched += 1;
            if rule.skip_left > 0 {
                rule.skip_left -= 1;
                continue;
            }
            if let Some(probability) = rule.spec.probability
                && probability < 1.0
                && rule.rng.random::<f64>() >= probability
            {
                continue;
            }
            rule.applied += 1;
            let action = rule.spec.action.clone();
            let delay = match &action {
                FaultAction::Delay(delay) => Some(rule.draw_delay(delay)),
                _ => None,
            };
            hit = Some(Hit {
                rule: rule.id,
                action,
                delay,
            });
            break;
        }
        if hit.is_some() {
            self.applied_total.fetch_add(1, Ordering::Relaxed);
            self.settle(&mut registry, now);
        }
        hit
    }
}

/// Tells the envelope to answer this errcode instead of running the handler.
#[derive(Debug, Clone, Copy)]
pub struct AnswerErrcode(pub i64);

/// The middleware: asks the rules about every call and applies the hit (see the module docs).
pub async fn inject(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let now = state.clock().now();
    let Some(corps) = state
        .faults
        .candidates(request.uri().path(), request.method(), now)
    else {
        return next.run(request).await;
    };
    let identity = match corps {
        Some(corps) => {
            Some(identify(&state, request.uri(), request.extensions(), corps, now).await)
        }
        None => None,
    };
    let Some(hit) = state.faults.decide(
        request.uri().path(),
        request.method(),
        identity.as_ref(),
        now,
    ) else {
        return next.run(request).await;
    };
    state.metrics.fault(action_name(&hit.action));
    let described = hit.describe();
    crate::journal::note_fault(request.extensions(), &described);
    if let Some(dropped) = state.refused_log.admit() {
        tracing::info!(rule = hit.rule, fault = %described, path = %patrol_wire::echo::bounded(request.uri().path(), 256), dropped, "fault injected");
    }
    match hit.action {
        FaultAction::Errcode(code) => {
            request.extensions_mut().insert(AnswerErrcode(code));
            next.run(request).await
        }
        FaultAction::Status(status) => StatusCode::from_u16(status).map_or_else(
            |_| StatusCode::BAD_GATEWAY.into_response(),
            IntoResponse::into_response,
        ),
        FaultAction::Delay(_) => {
            tokio::time::sleep(hit.delay.unwrap_or_default()).await;
            next.run(request).await
        }
        FaultAction::Reset => {
            match request.extensions().get::<crate::connections::Reset>() {
                Some(reset) => {
                    reset.now();
                    // The connection's task drops this call with the connection.
                    std::future::pending().await
                }
                // Not served by patrol's own connections (a test's router): the nearest thing,
                // a body that fails at once.
                None => Response::new(Body::from_stream(futures_util::stream::once(async {
                    Err::<Bytes, _>(std::io::Error::new(
                        std::io::ErrorKind::ConnectionReset,
                        "reset by a fault rule",
                    ))
                }))),
            }
        }
        FaultAction::Truncate => truncate(next.run(request).await, hit.rule),
        FaultAction::Chunks { bytes, every_ms } => trickle(
            next.run(request).await,
            bytes as usize,
            Duration::from_millis(every_ms),
        ),
    }
}

/// Who calls, for rules that name a corp or an app: gettoken's `corpid`, or the corp and app of
/// a valid token, and the keys of the corps the rules name.
async fn identify(
    state: &AppState,
    uri: &axum::http::Uri,
    extensions: &axum::http::Extensions,
    corps: Vec<String>,
    now: i64,
) -> Identity {
    let mut identity = Identity::default();
    let param = |name: &str| crate::extract::query_value(uri.query(), name);
    if uri.path() == "/cgi-bin/gettoken" {
        identity.named_corpid = param("corpid");
    } else if let Some(token) = param("access_token")
        && token.len() <= crate::extract::MAX_TOKEN_BYTES
        && let Ok(TokenStatus::Valid(caller)) = state.store.authenticate(&token, now).await
    {
        crate::journal::note_caller(extensions, &caller);
        identity.caller = Some((caller.corp_key, caller.agentid));
    }
    if identity.caller.is_some() {
        for corpid in corps {
            let key = match state.store.corp(&corpid).await {
                Ok(corp) => corp.map(|corp| corp.key),
                Err(error) => {
                    tracing::warn!(%corpid, error = %error.chain(), "a fault rule's corp could not be read");
                    None
                }
            };
            identity.corp_keys.insert(corpid, key);
        }
    }
    identity
}

/// The answer's head, then only the first half of its body, then a failure: hyper closes the
/// connection, and the client reads a body shorter than its `Content-Length`.
fn truncate(response: Response, rule: u64) -> Response {
    let (mut parts, body) = response.into_parts();
    let full = body.size_hint().exact().or_else(|| {
        parts
            .headers
            .get(header::CONTENT_LENGTH)?
            .to_str()
            .ok()?
            .parse()
            .ok()
    });
    if let Some(full) = full {
        parts
            .headers
            .insert(header::CONTENT_LENGTH, HeaderValue::from(full));
    }
    let keep = full.map(|full| usize::try_from(full / 2).unwrap_or(usize::MAX));
    let stream = futures_util::stream::unfold(
        (body, keep, false),
        move |(mut body, mut keep, done)| async move {
            if done {
                return None;
            }
            let cut = || {
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    format!("the answer is cut by fault rule {rule}"),
                ))
            };
            if keep == Some(0) {
                // hyper flushes what it holds while the body waits; a failure at once would
                // drop the head and the half with the connection.
                tokio::time::sleep(Duration::from_millis(20)).await;
                return Some((cut(), (body, keep, true)));
            }
            loop {
                let Some(Ok(frame)) = body.frame().await else {
                    return Some((cut(), (body, keep, true)));
                };
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                let room = *keep.get_or_insert(data.len() / 2);
                let piece = data.slice(..room.min(data.len()));
                keep = Some(room - piece.len());
                return Some((Ok(piece), (body, keep, false)));
            }
        },
    );
    Response::from_parts(parts, Body::from_stream(stream))
}

/// The answer's body in pieces of `bytes`, one every `every`, in chunked transfer.
fn trickle(response: Response, bytes: usize, every: Duration) -> Response {
    let (mut parts, body) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let stream = futures_util::stream::unfold(
        (body, Bytes::new(), true),
        move |(mut body, mut rest, first)| async move {
            while rest.is_empty() {
                match body.frame().await? {
                    Ok(frame) => {
                        if let Ok(data) = frame.into_data() {
                            rest = data;
                        }
                    }
                    Err(error) => return Some((Err(error), (body, rest, false))),
                }
            }
            if !first {
                tokio::time::sleep(every).await;
            }
            let piece = rest.split_to(bytes.min(rest.len()));
            Some((Ok(piece), (body, rest, false)))
        },
    );
    Response::from_parts(parts, Body::from_stream(stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(json: serde_json::Value) -> FaultRule {
        serde_json::from_value(json).unwrap()
    }

    fn faults() -> Faults {
        Faults::new(Clock::manual(1_800_000_000))
    }

    fn hits(faults: &Faults, path: &str, calls: usize) -> Vec<Option<u64>> {
        (0..calls)
            .map(|_| {
                faults
                    .decide(path, &Method::POST, None, faults.clock.now())
                    .map(|hit| hit.rule)
            })
            .collect()
    }

    #[test]
    fn a_rule_skips_then_fires_its_times_then_expires() {
        let faults = faults();
        faults
            .add(rule(serde_json::json!({
                "path": "/cgi-bin/report/*/get_order_info", "skip": 1, "times": 2,
                "action": {"errcode": -1}
            })))
            .unwrap();
        assert_eq!(hits(&faults, "/cgi-bin/gettoken", 1), [None]);
        assert_eq!(
            hits(&faults, "/cgi-bin/report/patrol/get_order_info", 4),
            [None, Some(1), Some(1), None]
        );
        assert!(faults.list().faults.is_empty());
        assert_eq!(faults.applied_total(), 2);
    }

    #[test]
    fn the_same_seed_hits_the_same_calls() {
        let pattern = |seed: u64| {
            let faults = faults();
            faults
                .add(rule(serde_json::json!({
                    "probability": 0.3, "seed": seed, "action": {"errcode": 45009}
                })))
                .unwrap();
            hits(&faults, "/cgi-bin/report/patrol/get_order_list", 200)
        };
        let first = pattern(7);
        assert_eq!(first, pattern(7));
        assert_ne!(first, pattern(8));
        let hit = first.iter().filter(|hit| hit.is_some()).count();
        assert!((30..=90).contains(&hit), "{hit} of 200 at 0.3");
    }

    #[test]
    fn a_time_window_on_the_server_clock() {
        let faults = faults();
        let now = faults.clock.now();
        faults
            .add(rule(serde_json::json!({
                "from": now + 10, "expires_in": 20, "action": {"status": 503}
            })))
            .unwrap();
        assert_eq!(faults.list().faults[0].rule.until, Some(now + 20));
        assert_eq!(hits(&faults, "/cgi-bin/x", 1), [None]);
        faults.clock.advance(10);
        assert_eq!(hits(&faults, "/cgi-bin/x", 1), [Some(1)]);
        faults.clock.advance(10);
        assert_eq!(hits(&faults, "/cgi-bin/x", 1), [None]);
        assert!(faults.list().faults.is_empty());
    }

    #[test]
    fn the_administration_api_is_never_hit() {
        let faults = faults();
        faults
            .add(rule(serde_json::json!({"path": "*", "action": "reset"})))
            .unwrap();
        assert!(
            faults
                .candidates("/admin/v1/faults", &Method::DELETE, 0)
                .is_none()
        );
        assert!(
            faults
                .candidates("/media/images/x", &Method::GET, 0)
                .is_some()
        );
    }

    #[test]
    fn rules_naming_a_corp_or_app_match_only_its_calls() {
        let faults = faults();
        faults
            .add(rule(serde_json::json!({
                "corpid": "wwA", "agentid": 7, "action": {"errcode": 42001}
            })))
            .unwrap();
        let now = faults.clock.now();
        let path = "/cgi-bin/report/patrol/get_order_list";
        assert_eq!(
            faults.candidates(path, &Method::POST, now),
            Some(Some(vec!["wwA".to_owned()]))
        );
        let who = |corp_key: i64, agentid: i64| Identity {
            named_corpid: None,
            caller: Some((corp_key, agentid)),
            corp_keys: HashMap::from([("wwA".to_owned(), Some(1))]),
        };
        assert!(faults.decide(path, &Method::POST, None, now).is_none());
        assert!(
            faults
                .decide(path, &Method::POST, Some(&who(2, 7)), now)
                .is_none()
        );
        assert!(
            faults
                .decide(path, &Method::POST, Some(&who(1, 8)), now)
                .is_none()
        );
        assert!(
            faults
                .decide(path, &Method::POST, Some(&who(1, 7)), now)
                .is_some()
        );
    }

    #[test]
    fn delays_are_drawn_within_their_bounds() {
        let faults = faults();
        faults
            .add(rule(serde_json::json!({
                "action": {"delay": {"distribution": "uniform", "min_ms": 10, "max_ms": 20}}
            })))
            .unwrap();
        faults
            .add(rule(serde_json::json!({
                "action": {"delay": {"distribution": "lognormal", "median_ms": 100, "sigma": 0.5}}
            })))
            .unwrap();
        let mut lognormal = Vec::new();
        for _ in 0..200 {
            let hit = faults.decide("/cgi-bin/x", &Method::GET, None, 0).unwrap();
            let pause = hit.delay.unwrap().as_millis();
            assert!((10..=20).contains(&pause), "{pause}");
        }
        faults.remove(1);
        for _ in 0..201 {
            let hit = faults.decide("/cgi-bin/x", &Method::GET, None, 0).unwrap();
            lognormal.push(hit.delay.unwrap().as_millis());
        }
        lognormal.sort_unstable();
        let median = lognormal[100];
        assert!((70..=140).contains(&median), "median {median}");
    }

    #[test]
    fn invalid_rules_are_refused_with_the_field_named() {
        let faults = faults();
        let now = faults.clock.now();
        for (json, field) in [
            (
                serde_json::json!({"action": {"errcode": 0}}),
                "action.errcode",
            ),
            (
                serde_json::json!({"action": {"status": 99}}),
                "action.status",
            ),
            (serde_json::json!({"times": 0, "action": "reset"}), "times"),
            (
                serde_json::json!({"probability": 0.0, "action": "reset"}),
                "probability",
            ),
            (
                serde_json::json!({"probability": 1.5, "action": "reset"}),
                "probability",
            ),
            (serde_json::json!({"path": "[", "action": "reset"}), "path"),
            (
                serde_json::json!({"method": "post", "action": "reset"}),
                "method",
            ),
            (
                serde_json::json!({"until": now, "action": "reset"}),
                "until",
            ),
            (
                serde_json::json!({"from": now + 5, "until": now + 5, "action": "reset"}),
                "from",
            ),
            (
                serde_json::json!({"until": now + 5, "expires_in": 5, "action": "reset"}),
                "until or expires_in",
            ),
            (
                serde_json::json!({"action": {"chunks": {"bytes": 0, "every_ms": 1}}}),
                "action.chunks",
            ),
            (
                serde_json::json!({"action": {"delay": {"distribution": "uniform", "min_ms": 5, "max_ms": 1}}}),
                "action.delay",
            ),
        ] {
            let error = faults.add(rule(json.clone())).unwrap_err();
            assert!(error.0.contains(field), "{json}: {error}");
        }
        let error = faults
            .replace(vec![
                rule(serde_json::json!({"action": "reset"})),
                rule(serde_json::json!({"action": {"errcode": 0}})),
            ])
            .unwrap_err();
        assert!(error.0.starts_with("faults[1].action.errcode"), "{error}");
        assert!(faults.list().faults.is_empty());
    }
}
