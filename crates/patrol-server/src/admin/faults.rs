//! `/admin/v1/faults`: the fault rules of the server process (`crate::fault`), listed, added,
//! replaced as a set and removed.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use patrol_wire::admin::{FaultRule, FaultSet};

use super::{AdminError, AdminJson, AdminPath, answer};
use crate::AppState;

impl From<crate::fault::InvalidRule> for AdminError {
    fn from(error: crate::fault::InvalidRule) -> AdminError {
        AdminError::invalid(error.0)
    }
}

pub(super) async fn list(State(state): State<AppState>) -> Response {
    answer(StatusCode::OK, &state.faults.list())
}

pub(super) async fn add(
    State(state): State<AppState>,
    AdminJson(rule): AdminJson<FaultRule>,
) -> Result<Response, AdminError> {
    let view = state.faults.add(rule)?;
    tracing::warn!(rule = view.id, fault = %crate::fault::describe(&view.rule.action), "a fault rule is added");
    Ok(answer(StatusCode::CREATED, &view))
}

pub(super) async fn replace(
    State(state): State<AppState>,
    AdminJson(set): AdminJson<FaultSet>,
) -> Result<Response, AdminError> {
    let views = state.faults.replace(set.faults)?;
    tracing::warn!(rules = views.len(), "the fault rules are replaced");
    Ok(answer(StatusCode::OK, &state.faults.list()))
}

pub(super) async fn clear(State(state): State<AppState>) -> Response {
    let removed = state.faults.clear();
    if removed > 0 {
        tracing::info!(rules = removed, "the fault rules are removed");
    }
    answer(StatusCode::OK, &state.faults.list())
}

pub(super) async fn show(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<u64>,
) -> Result<Response, AdminError> {
    let view = state
        .faults
        .get(id)
        .ok_or_else(|| AdminError::not_found(format!("fault rule {id} not found (or expired)")))?;
    Ok(answer(StatusCode::OK, &view))
}

pub(super) async fn remove(
    State(state): State<AppState>,
    AdminPath(id): AdminPath<u64>,
) -> Result<Response, AdminError> {
    let view = state
        .faults
        .remove(id)
        .ok_or_else(|| AdminError::not_found(format!("fault rule {id} not found (or expired)")))?;
    tracing::info!(rule = id, "a fault rule is removed");
    Ok(answer(StatusCode::OK, &view))
}
