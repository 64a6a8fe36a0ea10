//! The two report families, `report/patrol/*` (巡查上报) and `report/resident/*` (居民上报):
//! `get_grid_info`, `get_corp_status`, `get_user_status`, `category_statistic`,
//! `get_order_list` and `get_order_info`, one handler each, generic over the family.

use axum::extract::State;
use axum::response::Response;
use bytes::Bytes;
use patrol_domain::stats::{CategoryRow, Day};
use patrol_domain::{Family, ListQuery};
use patrol_wire::patrol::{
    GetGridInfoResponse, GetOrderInfoRequest, GetOrderListRequest, GridInfo,
};
use patrol_wire::stats::{
    CategoryDashboard, CategoryStatisticRequest, CategoryStatisticResponse, GetCorpStatusRequest,
    GetUserStatusRequest, PatrolCorpStatus, PatrolUserStatus, ResidentCorpStatus,
    ResidentUserStatus,
};

use crate::AppState;
use crate::cursor::Binding;
use crate::error::{ApiError, Failure};
use crate::extract::{FamilyApi, Permitted, WeComJson};
use crate::handlers::{Chunks, given, json_bytes, json_chunks, json_response, ok_message};

/// `limit` when absent or 0.
pub const DEFAULT_LIMIT: i64 = 20;
/// The largest `limit`.
pub const MAX_LIMIT: i64 = 50;

/// The answer of `get_order_list` around the orders' stored JSON (joined by commas, as the
/// store reads it), passed through untouched: the bytes serde would write for a
/// `GetOrderListResponse` (a unit test holds them equal), in three chunks so that the orders are
/// never copied again. `errmsg` and `next_cursor` need no escaping: the first is one of two
/// fixed texts, the second is made of `A–Z a–z 0–9 - _`.
fn order_list_page(errmsg: &str, next_cursor: &str, orders: Vec<u8>) -> Chunks {
    let head = format!(
        "{{\"errcode\":0,\"errmsg\":\"{errmsg}\",\"next_cursor\":\"{next_cursor}\",\"order_list\":["
    );
    Chunks::new([
        Bytes::from(head),
        Bytes::from(orders),
        Bytes::from_static(b"]}"),
    ])
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

pub async fn get_order_list<F: FamilyApi>(
    State(state): State<AppState>,
    Permitted(caller, _): Permitted<F>,
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
        family: F::FAMILY,
        corp_key: caller.corp_key,
        // The agentid, not the backend's key of the app: a cursor stays valid when its
        // database is moved to another backend (`patrol migrate`).
        app_key: caller.agentid,
        begin_create_time,
        begin_modify_time,
    };
    let after = match request.cursor.as_deref() {
        None | Some("") => None,
        Some(cursor) => Some(
            state
                .cursors
                .decode(&binding, cursor)
                // A cursor issued before cursors were bound to the agentid.
                .or_else(|| {
                    let legacy = Binding {
                        app_key: caller.app_key,
                        ..binding
                    };
                    state.cursors.decode(&legacy, cursor)
                })
                .ok_or_else(|| fail(ApiError::InvalidCursor))?,
        ),
    };
    let page = state
        .store
        .list_orders(
            caller.corp_key,
            ListQuery {
                family: F::FAMILY,
                begin_create_time,
                begin_modify_time,
                after,
                limit,
                public_url: Some(state.public_url.clone()),
            },
        )
        .await
        .map_err(|e| fail(e.into()))?;
    let next_cursor = match page.last_position().filter(|_| page.more) {
        Some(last) => state.cursors.encode(&binding, last),
        None => String::new(),
    };
    Ok(json_chunks(order_list_page(
        &ok_message(warning),
        &next_cursor,
        page.json,
    )))
}

/// `GET report/{patrol,resident}/get_grid_info`: every grid of the corp (in the tree's order, a
/// parent before its children) with its admins. Any method; no body is read.
pub async fn get_grid_info<F: FamilyApi>(
    State(state): State<AppState>,
    Permitted(caller, _): Permitted<F>,
) -> Result<Response, ApiError> {
    let grids = state.store.list_grids(caller.corp_key).await?;
    json_response(&GetGridInfoResponse {
        errcode: 0,
        errmsg: ok_message(false),
        grid_list: grids
            .into_iter()
            .map(|grid| GridInfo {
                grid_id: grid.grid_id,
                grid_name: grid.name,
                grid_admin: grid.admins,
            })
            .collect(),
    })
}

pub async fn get_order_info<F: FamilyApi>(
    State(state): State<AppState>,
    Permitted(caller, _): Permitted<F>,
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
        .order_body(caller.corp_key, Some(F::FAMILY), &order_id)
        .await
        .map_err(|e| fail(e.into()))?
        .ok_or_else(|| fail(ApiError::UnknownOrder))?;
    let stored = patrol_domain::media::resolved(stored, &state.public_url);
    Ok(json_bytes(order_info_answer(&ok_message(warning), &stored)))
}

/// The calendar day of now in the corp's time zone (the server's configured zone).
fn today(state: &AppState) -> Day {
    Day::of(state.clock().now(), &state.config.time_zone)
}

/// `POST report/{patrol,resident}/get_corp_status {grid_id?}` (decisions.md, "Statistics").
pub async fn get_corp_status<F: FamilyApi>(
    State(state): State<AppState>,
    Permitted(caller, _): Permitted<F>,
    body: WeComJson<GetCorpStatusRequest>,
) -> Result<Response, Failure> {
    let warning = body.warning;
    let fail = |error: ApiError| Failure::new(error, warning);
    let grid_id = given(body.value.grid_id);
    let status = state
        .store
        .corp_status(
            caller.corp_key,
            F::FAMILY,
            grid_id.as_deref(),
            today(&state),
        )
        .await
        .map_err(|e| fail(e.into()))?
        .ok_or_else(|| fail(ApiError::UnknownId("grid_id")))?;
    let errmsg = ok_message(warning);
    let answer = match F::FAMILY {
        Family::Patrol => json_response(&PatrolCorpStatus {
            errcode: 0,
            errmsg,
            to_be_assigned: status.untaken,
            processing: status.processing,
            added_today: status.added_today,
            solved_today: status.solved_today,
            total_case: status.total_case,
            total_solved: status.total_solved,
        }),
        Family::Resident => json_response(&ResidentCorpStatus {
            errcode: 0,
            errmsg,
            processing: status.processing,
            added_today: status.added_today,
            solved_today: status.solved_today,
            pending: status.untaken,
            total_case: status.total_case,
            total_accepted: status.total_accepted,
            total_solved: status.total_solved,
        }),
    };
    answer.map_err(fail)
}

/// `POST report/{patrol,resident}/get_user_status {userid}`.
pub async fn get_user_status<F: FamilyApi>(
    State(state): State<AppState>,
    Permitted(caller, _): Permitted<F>,
    body: WeComJson<GetUserStatusRequest>,
) -> Result<Response, Failure> {
    let warning = body.warning;
    let fail = |error: ApiError| Failure::new(error, warning);
    let userid = given(body.value.userid).ok_or_else(|| fail(ApiError::FieldMissing("userid")))?;
    let status = state
        .store
        .user_status(caller.corp_key, F::FAMILY, &userid, today(&state))
        .await
        .map_err(|e| fail(e.into()))?
        .ok_or_else(|| fail(ApiError::UserIdNotFound))?;
    let errmsg = ok_message(warning);
    let answer = match F::FAMILY {
        Family::Patrol => json_response(&PatrolUserStatus {
            errcode: 0,
            errmsg,
            processing: status.processing,
            added_today: status.added_today,
            solved_today: status.solved_today,
        }),
        Family::Resident => json_response(&ResidentUserStatus {
            errcode: 0,
            errmsg,
            processing: status.processing,
            added_today: status.added_today,
            solved_today: status.solved_today,
            pending: status.untaken,
        }),
    };
    answer.map_err(fail)
}

/// `POST report/{patrol,resident}/category_statistic {category_id?}`.
pub async fn category_statistic<F: FamilyApi>(
    State(state): State<AppState>,
    Permitted(caller, _): Permitted<F>,
    body: WeComJson<CategoryStatisticRequest>,
) -> Result<Response, Failure> {
    let warning = body.warning;
    let fail = |error: ApiError| Failure::new(error, warning);
    let category_id = given(body.value.category_id);
    let rows = state
        .store
        .category_statistic(caller.corp_key, F::FAMILY, category_id.as_deref())
        .await
        .map_err(|e| fail(e.into()))?
        .ok_or_else(|| fail(ApiError::UnknownId("category_id")))?;
    json_response(&CategoryStatisticResponse {
        errcode: 0,
        errmsg: ok_message(warning),
        dashboard_list: rows.into_iter().map(dashboard).collect(),
    })
    .map_err(fail)
}

fn dashboard(row: CategoryRow) -> CategoryDashboard {
    CategoryDashboard {
        category_id: row.category_id,
        category_name: row.name,
        category_level: row.level,
        total_case: row.total_case,
        total_solved: row.total_solved,
        category_type: row.category_type,
    }
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
            let joined = vec![ORDER; count].join(",").into_bytes();
            let chunks = order_list_page(errmsg, cursor, joined);
            let sent: Vec<u8> = chunks
                .chunks
                .iter()
                .flat_map(|c| c.iter().copied())
                .collect();
            assert_eq!(
                String::from_utf8(sent).unwrap(),
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
