//! Handlers for reporting orders and acting on them.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use patrol_domain::limits;
use patrol_domain::{Action, ActionKind, Location, Media, NewOrder, OrderId, Urgency};

use super::{AdminError, AdminJson, AdminPath as Path, corp, order_answer, random_hex};
use crate::AppState;
use patrol_wire::admin::{OrderAction, ReportOrder};

/// The time of a report or an action: the given one within [`limits::check_time`]'s range, or
/// now.
fn check_time(time: Option<i64>, now: i64) -> Result<i64, AdminError> {
    match time {
        Some(time) => Ok(limits::check_time("time", time, now)?),
        None => Ok(now),
    }
}

pub(super) async fn report(
    State(state): State<AppState>,
    Path(corpid): Path<String>,
    AdminJson(body): AdminJson<ReportOrder>,
) -> Result<Response, AdminError> {
    let corp = corp(&state, &corpid).await?;
    let order_id = body.order_id.unwrap_or_else(|| random_hex(16));
    let order_id = OrderId::parse(order_id)?;
    if body.description.trim().is_empty() {
        return Err(AdminError::invalid("description is empty"));
    }
    let urge_type = body.urge_type.unwrap_or(1);
    let urgency = Urgency::from_wire(urge_type).ok_or_else(|| {
        AdminError::invalid(format!(
            "urge_type {urge_type} must be 1 (normal), 2 (important) or 3 (urgent)"
        ))
    })?;
    let order = NewOrder {
        order_id,
        description: body.description,
        urgency,
        category: body.category_id,
        grid: body.grid_id,
        location: Location {
            name: body.location.name,
            address: body.location.address,
            latitude: body.location.latitude,
            longitude: body.location.longitude,
        },
        reporter: body.reporter,
        media: Media {
            image_urls: body.image_urls,
            video_media_ids: body.video_media_ids,
        },
        create_time: check_time(body.time, state.clock().now())?,
        actions: Vec::new(),
    };
    let rendered = state.store.report_order(corp.key, order).await?;
    Ok(order_answer(StatusCode::CREATED, rendered))
}

pub(super) async fn show(
    State(state): State<AppState>,
    Path((corpid, order_id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    let corp = corp(&state, &corpid).await?;
    let body = state
        .store
        .order_body(corp.key, &order_id)
        .await?
        .ok_or_else(|| AdminError::not_found(format!("order {order_id} not found")))?;
    Ok(order_answer(StatusCode::OK, body))
}

pub(super) async fn act(
    State(state): State<AppState>,
    Path((corpid, order_id)): Path<(String, String)>,
    AdminJson(body): AdminJson<OrderAction>,
) -> Result<Response, AdminError> {
    let corp = corp(&state, &corpid).await?;
    let users = |action: &str| {
        body.users.clone().ok_or_else(|| {
            AdminError::invalid(format!(
                "users is required for {action}: the users to hand the order to"
            ))
        })
    };
    let kind = match body.action.as_str() {
        "accept" => ActionKind::Accept,
        "assign" => ActionKind::Assign(users("assign")?),
        "transfer" => ActionKind::Transfer(users("transfer")?),
        "start" => ActionKind::StartWork,
        "finish" => ActionKind::Finish,
        "reject" => ActionKind::Reject,
        other => {
            return Err(AdminError::invalid(format!(
                "action {other:?} must be one of accept, assign, transfer, start, finish, reject"
            )));
        }
    };
    match &kind {
        // Counted before the store looks each user up.
        ActionKind::Assign(users) | ActionKind::Transfer(users) => {
            limits::handed_users(users)?;
        }
        _ if body.users.is_some() => {
            return Err(AdminError::invalid(format!(
                "users is only for assign and transfer, not {}",
                body.action
            )));
        }
        _ => {}
    }
    let action = Action {
        kind,
        actor: body.actor,
        description: body.description,
        media: Media {
            image_urls: body.image_urls,
            video_media_ids: body.video_media_ids,
        },
        time: check_time(body.time, state.clock().now())?,
    };
    let rendered = state
        .store
        .act_on_order(corp.key, &order_id, action)
        .await?;
    Ok(order_answer(StatusCode::OK, rendered))
}
