//! `POST /cgi-bin/report/patrol/get_order_list` and `get_order_info`.

use axum::extract::State;
use axum::response::Response;
use patrol_store::ListQuery;
use patrol_wire::patrol::{GetOrderInfoRequest, GetOrderListRequest};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::AppState;
use crate::cursor::Binding;
use crate::error::{ApiError, Failure};
use crate::extract::{PatrolCaller, WeComJson};
use crate::handlers::{json_response, ok_message};

/// `limit` when absent or 0.
pub const DEFAULT_LIMIT: i64 = 20;
/// The largest `limit`.
pub const MAX_LIMIT: i64 = 50;

/// The answer of `get_order_list`, with each order's stored JSON passed through untouched.
#[derive(Serialize)]
pub struct OrderListPage<'a> {
    errcode: i64,
    errmsg: String,
    next_cursor: String,
    order_list: Vec<&'a RawValue>,
}

/// The answer of `get_order_info`, with the order's stored JSON passed through untouched.
#[derive(Serialize)]
pub struct OrderInfo<'a> {
    errcode: i64,
    errmsg: String,
    order_info: &'a RawValue,
}

fn stored_json(body: &str) -> Result<&RawValue, ApiError> {
    serde_json::from_str(body).map_err(|e| ApiError::Internal(format!("stored order json: {e}")))
}

fn filter_time(field: &'static str, value: Option<i64>) -> Result<i64, ApiError> {
    match value.unwrap_or(0) {
        time if time < 0 => Err(ApiError::InvalidValue {
            field,
            detail: format!("{time} is negative"),
        }),
        time => Ok(time),
    }
}

fn page_size(limit: Option<i64>) -> Result<u32, ApiError> {
    match limit.unwrap_or(0) {
        0 => Ok(DEFAULT_LIMIT as u32),
        limit @ 1..=MAX_LIMIT => Ok(limit as u32),
        limit => Err(ApiError::InvalidValue {
            field: "limit",
            detail: format!("{limit} is outside 1..{MAX_LIMIT}"),
        }),
    }
}

pub async fn get_order_list(
    State(state): State<AppState>,
    PatrolCaller(caller): PatrolCaller,
    body: WeComJson<GetOrderListRequest>,
) -> Result<Response, Failure> {
    let warning = body.warning;
    let fail = |error: ApiError| Failure::new(error, warning);
    let request = body.value;
    let limit = page_size(request.limit).map_err(fail)?;
    let begin_create_time =
        filter_time("begin_create_time", request.begin_create_time).map_err(fail)?;
    let begin_modify_time =
        filter_time("begin_modify_time", request.begin_modify_time).map_err(fail)?;
    let binding = Binding {
        corp_key: caller.corp_key,
        app_key: caller.app_key,
        begin_create_time,
        begin_modify_time,
    };
    let after = match request.cursor.as_deref() {
        None | Some("") => None,
        Some(cursor) => Some(
            state
                .cursors
                .decode(&binding, cursor)
                .ok_or_else(|| fail(ApiError::InvalidCursor))?,
        ),
    };
    let mut orders = state
        .store
        .list_orders(
            caller.corp_key,
            ListQuery {
                begin_create_time,
                begin_modify_time,
                after,
                limit: limit + 1,
            },
        )
        .await
        .map_err(|e| fail(e.into()))?;
    let next_cursor = if orders.len() > limit as usize {
        orders.truncate(limit as usize);
        let last = orders.last().expect("a page over the limit is not empty");
        state.cursors.encode(&binding, last.position)
    } else {
        String::new()
    };
    let order_list = orders
        .iter()
        .map(|order| stored_json(&order.body))
        .collect::<Result<Vec<_>, _>>()
        .map_err(fail)?;
    let page = OrderListPage {
        errcode: 0,
        errmsg: ok_message(warning),
        next_cursor,
        order_list,
    };
    json_response(&page).map_err(fail)
}

pub async fn get_order_info(
    State(state): State<AppState>,
    PatrolCaller(caller): PatrolCaller,
    body: WeComJson<GetOrderInfoRequest>,
) -> Result<Response, Failure> {
    let warning = body.warning;
    let fail = |error: ApiError| Failure::new(error, warning);
    let order_id = body
        .value
        .order_id
        .filter(|id| !id.is_empty())
        .ok_or_else(|| fail(ApiError::FieldMissing("order_id")))?;
    let stored = state
        .store
        .order_body(caller.corp_key, &order_id)
        .await
        .map_err(|e| fail(e.into()))?
        .ok_or_else(|| fail(ApiError::UnknownOrder))?;
    let info = OrderInfo {
        errcode: 0,
        errmsg: ok_message(warning),
        order_info: stored_json(&stored).map_err(fail)?,
    };
    json_response(&info).map_err(fail)
}
