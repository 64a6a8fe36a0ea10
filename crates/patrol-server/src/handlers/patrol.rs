//! `POST /cgi-bin/report/patrol/get_order_list` and `get_order_info`.

use axum::extract::State;
use axum::response::Response;
use patrol_store::ListQuery;
use patrol_wire::patrol::{GetOrderInfoRequest, GetOrderListRequest};

use crate::AppState;
use crate::cursor::Binding;
use crate::error::{ApiError, Failure};
use crate::extract::{PatrolCaller, WeComJson};
use crate::handlers::{json_bytes, ok_message};

/// `limit` when absent or 0.
pub const DEFAULT_LIMIT: i64 = 20;
/// The largest `limit`.
pub const MAX_LIMIT: i64 = 50;

/// The answer of `get_order_list` around the orders' stored JSON, passed through untouched:
/// the bytes serde would write for a `GetOrderListResponse` (a unit test holds them equal), put
/// together without parsing the stored JSON again. `errmsg` and `next_cursor` need no escaping:
/// the first is one of two fixed texts, the second is made of `A–Z a–z 0–9 - _`.
fn order_list_page<'a>(
    errmsg: &str,
    next_cursor: &str,
    orders: impl Iterator<Item = &'a [u8]>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(4096);
    out.extend_from_slice(b"{\"errcode\":0,\"errmsg\":\"");
    out.extend_from_slice(errmsg.as_bytes());
    out.extend_from_slice(b"\",\"next_cursor\":\"");
    out.extend_from_slice(next_cursor.as_bytes());
    out.extend_from_slice(b"\",\"order_list\":[");
    for (index, order) in orders.enumerate() {
        if index > 0 {
            out.push(b',');
        }
        out.extend_from_slice(order);
    }
    out.extend_from_slice(b"]}");
    out
}

/// The answer of `get_order_info` around the order's stored JSON: see [`order_list_page`].
fn order_info_answer(errmsg: &str, order: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(order.len() + 64);
    out.extend_from_slice(b"{\"errcode\":0,\"errmsg\":\"");
    out.extend_from_slice(errmsg.as_bytes());
    out.extend_from_slice(b"\",\"order_info\":");
    out.extend_from_slice(order);
    out.push(b'}');
    out
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
    let page = order_list_page(
        &ok_message(warning),
        &next_cursor,
        orders.iter().map(|order| order.body.as_slice()),
    );
    Ok(json_bytes(page))
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
    Ok(json_bytes(order_info_answer(&ok_message(warning), &stored)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use patrol_wire::patrol::{GetOrderInfoResponse, GetOrderListResponse, Order};

    const ORDER: &str = r#"{"order_id":"o1","desc":"井盖\"缺失\"","urge_type":1,"case_name":"c","grid_name":"g","grid_id":"g1","create_time":1,"image_urls":[],"video_media_ids":[],"location":{"name":"n","address":"a","latitude":30.5,"longitude":120.0},"processor_userids":["a"],"process_list":[]}"#;

    #[test]
    fn the_assembled_answers_are_what_serde_writes() {
        let order: Order = serde_json::from_str(ORDER).unwrap();
        for (errmsg, cursor, count) in [
            ("ok", "", 0),
            ("ok. Warning: wrong json format. ", "AQ-_z9", 2),
        ] {
            let expected = serde_json::to_vec(&GetOrderListResponse {
                errcode: 0,
                errmsg: errmsg.into(),
                next_cursor: cursor.into(),
                order_list: vec![order.clone(); count],
            })
            .unwrap();
            let bodies = std::iter::repeat_n(ORDER.as_bytes(), count);
            assert_eq!(
                String::from_utf8(order_list_page(errmsg, cursor, bodies)).unwrap(),
                String::from_utf8(expected).unwrap()
            );
        }
        let expected = serde_json::to_vec(&GetOrderInfoResponse {
            errcode: 0,
            errmsg: "ok".into(),
            order_info: order,
        })
        .unwrap();
        assert_eq!(order_info_answer("ok", ORDER.as_bytes()), expected);
    }
}
