//! Snapshots and resets over the administration API: `GET /snapshot[?corp=ID]` streams one
//! (`crate::snapshot::save`), `POST /snapshot[?replace=false]` loads one
//! (`crate::snapshot::load`), `POST /corps/{corpid}/reset` empties a corp or makes it the demo
//! again (`crate::snapshot::reset_corp`).

use std::path::PathBuf;

use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::Deserialize;
use tokio::io::AsyncWriteExt;

use super::{AdminError, AdminJson, AdminPath, answer, corp, random_hex};
use crate::AppState;
use crate::snapshot::{self, LoadOptions, ResetTo, SnapshotError};

/// The largest snapshot `POST /snapshot` takes.
pub(super) const MAX_SNAPSHOT_BODY: u64 = 8 * 1024 * 1024 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SaveQuery {
    corp: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LoadQuery {
    /// `false`: refuse a snapshot holding a corp the server holds (409) instead of replacing it.
    replace: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ResetBody {
    to: ResetTo,
}

/// `POST /corps/{corpid}/reset` `{"to": "empty" | "demo"}`: the corp keeps its id, name, apps
/// and tokens; the rest becomes nothing or the demo's (the demo corp only).
pub(super) async fn reset(
    State(state): State<AppState>,
    AdminPath(corpid): AdminPath<String>,
    AdminJson(body): AdminJson<ResetBody>,
) -> Result<Response, AdminError> {
    corp(&state, &corpid).await?;
    let summary = snapshot::reset_corp(
        state.store.as_ref(),
        state.blobs.as_ref(),
        &corpid,
        body.to,
        state.clock(),
    )
    .await?;
    Ok(answer(StatusCode::OK, &summary))
}

impl From<SnapshotError> for AdminError {
    fn from(error: SnapshotError) -> AdminError {
        match error {
            SnapshotError::Invalid(_) => AdminError::invalid(error.to_string()),
            SnapshotError::Refused(message) => AdminError {
                status: StatusCode::CONFLICT,
                code: "conflict",
                message,
            },
            SnapshotError::NoCorp(_) => AdminError::not_found(error.to_string()),
            SnapshotError::Store(error) => error.into(),
            SnapshotError::Blob(_) | SnapshotError::Io(_) => {
                tracing::error!(%error, "snapshot failed");
                AdminError {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    code: "internal",
                    message: error.to_string(),
                }
            }
        }
    }
}

/// `GET /snapshot[?corp=ID]`: the snapshot, streamed as it is written; a failure midway cuts
/// it before its end line, so that no loader takes it.
pub(super) async fn save(
    State(state): State<AppState>,
    query: Result<Query<SaveQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AdminError> {
    let Query(query) = query.map_err(|rejection| AdminError::invalid(rejection.body_text()))?;
    if let Some(corpid) = &query.corp {
        corp(&state, corpid).await?;
    }
    let (mut writer, reader) = tokio::io::duplex(256 * 1024);
    let created = state.clock().now();
    tokio::spawn(async move {
        let result = snapshot::save(
            state.store.as_ref(),
            state.blobs.as_ref(),
            query.corp.as_deref(),
            created,
            &mut writer,
        )
        .await;
        if let Err(error) = result {
            tracing::error!(%error, "a snapshot stopped midway: its reader gets no end line");
        }
    });
    let mut response = Body::from_stream(tokio_util::io::ReaderStream::new(reader)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/x-ndjson"),
    );
    Ok(response)
}

/// A file removed when dropped.
struct Spool(PathBuf);

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// `POST /snapshot`: the body, a snapshot file, is spooled to a temporary file, checked whole,
/// then loaded (never the database's secrets: the running server keeps its own).
pub(super) async fn load(
    State(state): State<AppState>,
    query: Result<Query<LoadQuery>, axum::extract::rejection::QueryRejection>,
    request: Request,
) -> Result<Response, AdminError> {
    let Query(query) = query.map_err(|rejection| AdminError::invalid(rejection.body_text()))?;
    let spool = Spool(std::env::temp_dir().join(format!("patrol-snapshot-{}", random_hex(16))));
    let io = |error: std::io::Error| {
        tracing::error!(%error, "cannot spool a snapshot");
        AdminError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal",
            message: format!("cannot spool the snapshot: {error}"),
        }
    };
    let mut file = snapshot::create_private(&spool.0).await.map_err(io)?;
    let mut stream = request.into_body().into_data_stream();
    let mut size = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|error| {
            AdminError::invalid(format!("cannot read the snapshot sent: {error}"))
        })?;
        size += chunk.len() as u64;
        if size > MAX_SNAPSHOT_BODY {
            return Err(AdminError {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                code: "too_large",
                message: format!("a snapshot of more than {MAX_SNAPSHOT_BODY} bytes"),
            });
        }
        file.write_all(&chunk).await.map_err(io)?;
    }
    file.flush().await.map_err(io)?;
    drop(file);
    let summary = snapshot::load(
        state.store.as_ref(),
        state.blobs.as_ref(),
        &spool.0,
        LoadOptions {
            secrets: false,
            replace: query.replace.unwrap_or(true),
        },
    )
    .await?;
    Ok(answer(StatusCode::OK, &summary))
}
