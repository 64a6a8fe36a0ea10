//! The request journal over the administration API: `GET /journal` (JSON or JSONL), `GET
//! /journal/stream` (server-sent events), `DELETE /journal` (docs/admin-api.md, "Journal").

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use serde::{Deserialize, Serialize};

use super::{AdminError, answer};
use crate::AppState;
use crate::journal::{Api, Entry, Filter, Journal, MAX_PATH, Subscription, Usage};

/// Entries in one answer by default, and at most.
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1_000;
/// Entries a live stream reads from the ring at a time.
const STREAM_BATCH: usize = 16;
/// A comment line on an idle stream this often, so that proxies and patrol's own idle timeout
/// keep the connection.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The query string of the journal's routes.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct JournalQuery {
    since: Option<u64>,
    since_time: Option<i64>,
    path: Option<String>,
    corp: Option<String>,
    agentid: Option<i64>,
    errcode: Option<i64>,
    status: Option<u16>,
    request_id: Option<String>,
    api: Option<String>,
    method: Option<String>,
    limit: Option<usize>,
    format: Option<String>,
}

impl JournalQuery {
    fn parse(uri: &Uri) -> Result<JournalQuery, AdminError> {
        let axum::extract::Query(query) =
            axum::extract::Query::<JournalQuery>::try_from_uri(uri)
                .map_err(|rejection| AdminError::invalid(rejection.body_text()))?;
        Ok(query)
    }

    fn filter(&self) -> Result<Filter, AdminError> {
        if self
            .path
            .as_ref()
            .is_some_and(|p| p.chars().count() > MAX_PATH)
        {
            return Err(AdminError::invalid(format!(
                "path is a pattern of at most {MAX_PATH} characters"
            )));
        }
        let api = match self.api.as_deref() {
            None => None,
            Some(name) => Some(
                Api::parse(name)
                    .ok_or_else(|| AdminError::invalid("api is one of wecom, admin, other"))?,
            ),
        };
        Ok(Filter {
            since_time: self.since_time,
            path: self.path.clone(),
            corp: self.corp.clone(),
            agentid: self.agentid,
            errcode: self.errcode,
            status: self.status,
            request_id: self.request_id.clone(),
            api,
            method: self.method.clone(),
        })
    }
}

/// The answer of `GET /journal`.
#[derive(Serialize)]
struct Page<'a> {
    entries: Vec<&'a Entry>,
    /// Entries after `since` no longer held (evicted or cleared) when read.
    missed: u64,
    #[serde(flatten)]
    usage: Usage,
}

/// Fills in the corpid of entries that know their caller's corp only by its key.
async fn resolve_corps(state: &AppState, entries: &[Arc<Entry>]) -> Result<(), AdminError> {
    if !entries
        .iter()
        .any(|entry| entry.corp.get().is_none() && entry.corp_key.is_some())
    {
        return Ok(());
    }
    let corps: HashMap<i64, String> = state
        .store
        .list_corps()
        .await?
        .into_iter()
        .map(|corp| (corp.key, corp.corpid))
        .collect();
    for entry in entries {
        if let Some(corpid) = entry.corp_key.and_then(|key| corps.get(&key)) {
            let _ = entry.corp.set(corpid.clone());
        }
    }
    Ok(())
}

/// `GET /admin/v1/journal`: entries that match, as one JSON object or as JSONL.
pub(super) async fn list(State(state): State<AppState>, uri: Uri) -> Result<Response, AdminError> {
    let query = JournalQuery::parse(&uri)?;
    let filter = query.filter()?;
    let jsonl = match query.format.as_deref() {
        None | Some("json") => false,
        Some("jsonl") => true,
        Some(_) => return Err(AdminError::invalid("format is json or jsonl")),
    };
    let limit = match query.limit {
        Some(0) => return Err(AdminError::invalid("limit is 1 to 1000")),
        Some(limit) if limit > MAX_LIMIT => {
            return Err(AdminError::invalid("limit is 1 to 1000"));
        }
        Some(limit) => limit,
        // An export is every entry that matches: the ring bounds it.
        None if jsonl => usize::MAX,
        None => DEFAULT_LIMIT,
    };
    let (entries, missed, usage) = match query.since {
        Some(since) => {
            let read = state.journal.since(since, usize::MAX);
            (read.entries, read.missed, read.usage)
        }
        None => {
            let (entries, usage) = state.journal.all();
            (entries, 0, usage)
        }
    };
    resolve_corps(&state, &entries).await?;
    let matching: Vec<&Entry> = if query.since.is_some() {
        // After `since`: the oldest first, for paging on.
        entries
            .iter()
            .map(AsRef::as_ref)
            .filter(|entry| filter.matches(entry))
            .take(limit)
            .collect()
    } else {
        // Without: the newest, still oldest first.
        let mut newest: Vec<&Entry> = entries
            .iter()
            .rev()
            .map(AsRef::as_ref)
            .filter(|entry| filter.matches(entry))
            .take(limit)
            .collect();
        newest.reverse();
        newest
    };
    if jsonl {
        let mut body = Vec::new();
        for entry in matching {
            serde_json::to_writer(&mut body, entry).expect("an entry always serializes");
            body.push(b'\n');
        }
        let mut response = (StatusCode::OK, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-ndjson"),
        );
        return Ok(response);
    }
    Ok(answer(
        StatusCode::OK,
        &Page {
            entries: matching,
            missed,
            usage,
        },
    ))
}

/// `DELETE /admin/v1/journal`.
pub(super) async fn clear(State(state): State<AppState>) -> StatusCode {
    state.journal.clear();
    StatusCode::NO_CONTENT
}

/// What a live stream carries between polls.
struct Live {
    subscription: Subscription,
    state: AppState,
    filter: Filter,
    /// The id of the last entry read.
    last: u64,
    ready: std::collections::VecDeque<Event>,
}

/// `GET /admin/v1/journal/stream`: entries as they are filed, as server-sent events.
pub(super) async fn stream(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AdminError> {
    let query = JournalQuery::parse(&uri)?;
    if query.limit.is_some() || query.format.is_some() {
        return Err(AdminError::invalid(
            "a stream takes no limit or format: it sends every entry that matches",
        ));
    }
    let filter = query.filter()?;
    // A client reconnecting says where it was; otherwise from `since`, or from now.
    let resumed = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    let journal: &Arc<Journal> = &state.journal;
    let last = resumed
        .or(query.since)
        .unwrap_or_else(|| journal.usage().last_id);
    let live = Live {
        subscription: journal.subscribe(),
        state: state.clone(),
        filter,
        last,
        ready: std::collections::VecDeque::new(),
    };
    let events = futures_util::stream::unfold(live, |mut live| async move {
        loop {
            if let Some(event) = live.ready.pop_front() {
                return Some((Ok(event), live));
            }
            let journal = live.subscription.journal();
            if journal.is_closed() {
                return None;
            }
            let read = journal.since(live.last, STREAM_BATCH);
            if read.missed > 0 {
                live.ready.push_back(
                    Event::default()
                        .event("missed")
                        .data(format!("{{\"missed\":{}}}", read.missed)),
                );
            }
            if resolve_corps(&live.state, &read.entries).await.is_err() {
                // The corpids come with a later read; the entries go out without them.
                tracing::debug!("the journal's stream could not read the corps");
            }
            match read.entries.last() {
                Some(newest) => live.last = newest.id,
                None => live.last = live.last.max(read.usage.last_id),
            }
            for entry in read.entries.iter().filter(|e| live.filter.matches(e)) {
                let data = serde_json::to_string(entry.as_ref()).expect("an entry serializes");
                live.ready.push_back(
                    Event::default()
                        .event("entry")
                        .id(entry.id.to_string())
                        .data(data),
                );
            }
            if live.ready.is_empty() {
                live.subscription.changed(live.last).await;
            }
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}
