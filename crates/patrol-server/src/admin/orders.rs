//! Handlers for reporting orders and acting on them.

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use patrol_domain::limits;
use patrol_domain::media as media_rules;
use patrol_domain::{
    Action, ActionKind, CorpOrdersQuery, GridId, Location, Media, NewOrder, OrderFilter, OrderId,
    Rejection, Resident, Stage, Urgency,
};
use patrol_store::StoreError;
use serde::Deserialize;

use super::{AdminError, AdminJson, AdminPath as Path, corp, order_answer, random_hex};
use crate::AppState;
use crate::cursor::AdminBinding;
use patrol_wire::admin::{OrderAction, ReportOrder};

/// The media of a report or an action: `image_urls` as given (never one patrol serves: those
/// come from `image_media_ids`), then an image URL patrol serves for each uploaded image named in
/// `image_media_ids` (a live image of the corp), and the video ids.
async fn media(
    state: &AppState,
    corp: &patrol_domain::Corp,
    image_urls: Vec<String>,
    image_media_ids: Vec<String>,
    video_media_ids: Vec<String>,
) -> Result<Media, AdminError> {
    if let Some(url) = image_urls
        .iter()
        .find(|url| url.starts_with(media_rules::SERVED_IMAGE_PREFIX))
    {
        return Err(AdminError::invalid(format!(
            "image URL {:?} is patrol's own form: name an uploaded image in image_media_ids",
            patrol_wire::echo::bounded(url, 64)
        )));
    }
    if image_urls.len() + image_media_ids.len() > limits::MAX_IMAGE_URLS {
        return Err(AdminError::invalid(format!(
            "at most {} images (image_urls and image_media_ids together)",
            limits::MAX_IMAGE_URLS
        )));
    }
    let now = state.clock().now();
    let mut urls = image_urls;
    for media_id in image_media_ids {
        let image = state
            .store
            .media(corp.key, &media_id)
            .await?
            .filter(|media| media.is_live(now))
            .ok_or_else(|| {
                AdminError::not_found(format!(
                    "no uploaded media {:?} in corp {}",
                    patrol_wire::echo::bounded(&media_id, 64),
                    corp.corpid
                ))
            })?;
        if image.media_type != media_rules::MediaType::Image {
            return Err(AdminError::invalid(format!(
                "media {media_id} is a {}, not an image",
                image.media_type.name()
            )));
        }
        urls.push(media_rules::served_image_url(
            corp.corpid.as_str(),
            &media_id,
            &image.content_type,
        ));
    }
    Ok(Media {
        image_urls: urls,
        video_media_ids,
    })
}

/// Times an action whose time the server chose is taken again when a later step committed
/// first: each retry follows another write to the order.
const MAX_RETRIES: usize = 8;

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
    let media = media(
        &state,
        &corp,
        body.image_urls,
        body.image_media_ids,
        body.video_media_ids,
    )
    .await?;
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
        media,
        create_time: check_time(body.time, state.clock().now())?,
        actions: Vec::new(),
        resident: body.resident.map(|r| Resident {
            name: r.name,
            mobile: r.mobile,
            unionid: r.unionid,
        }),
    };
    let rendered = state.store.report_order(corp.key, order).await?;
    Ok(order_answer(&state, StatusCode::CREATED, rendered))
}

pub(super) async fn show(
    State(state): State<AppState>,
    Path((corpid, order_id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    let corp = corp(&state, &corpid).await?;
    let body = state
        .store
        .order_body(corp.key, None, &order_id)
        .await?
        .ok_or_else(|| AdminError::not_found(format!("order {order_id} not found")))?;
    Ok(order_answer(&state, StatusCode::OK, body))
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
    let media = media(
        &state,
        &corp,
        body.image_urls,
        body.image_media_ids,
        body.video_media_ids,
    )
    .await?;
    let mut action = Action {
        kind,
        actor: body.actor,
        description: body.description,
        media,
        time: check_time(body.time, state.clock().now())?,
    };
    // A time left to the server is read before the order's lock: a step of another request
    // (or another server) that committed meanwhile may be later. When that step is not ahead of
    // the clock read again, the action is taken again at that reading rather than refused; an
    // order whose last step is ahead of the clock still refuses it, and a given time is kept.
    let mut retries = 0;
    let rendered = loop {
        match state
            .store
            .act_on_order(corp.key, &order_id, action.clone())
            .await
        {
            Err(StoreError::Rejected(Rejection::TimeGoesBack { last, .. }))
                if body.time.is_none() && retries < MAX_RETRIES && state.clock().now() >= last =>
            {
                retries += 1;
                action.time = state.clock().now().max(last);
            }
            result => break result?,
        }
    };
    Ok(order_answer(&state, StatusCode::OK, rendered))
}

/// Orders of a page of `GET /corps/{corpid}/orders` when `limit` is absent.
pub(super) const DEFAULT_LIST_LIMIT: u32 = 50;
/// The largest `limit` of `GET /corps/{corpid}/orders`.
pub(super) const MAX_LIST_LIMIT: u32 = 200;

/// The query string of `GET /corps/{corpid}/orders`, each value read as text and checked here, so
/// that a bad one is refused naming its field.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    state: Option<String>,
    grid_id: Option<String>,
    category_id: Option<String>,
    urge_type: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

/// A time filter: Unix seconds within the bounds of a time (`limits::check_time`, without the
/// day ahead: a window may reach past any order).
fn time_param(field: &str, text: &str) -> Result<i64, AdminError> {
    let time: i64 = text.parse().map_err(|_| {
        AdminError::invalid(format!(
            "{field} {:?} must be a time in Unix seconds",
            patrol_wire::echo::bounded(text, 64)
        ))
    })?;
    if !(0..=limits::MAX_CLOCK_TIME).contains(&time) {
        return Err(AdminError::invalid(format!(
            "{field} must be 0 to {} (2100-01-01 00:00 UTC), got {time}",
            limits::MAX_CLOCK_TIME
        )));
    }
    Ok(time)
}

fn id_param(field: &str, text: &str) -> Result<String, AdminError> {
    // Grid ids, category ids: the same form (`limits`, "ids").
    GridId::parse(text.to_owned())
        .map(GridId::into_string)
        .map_err(|_| {
            AdminError::invalid(format!(
                "{field} {:?} must be 1-64 ASCII letters, digits, - or _",
                patrol_wire::echo::bounded(text, 64)
            ))
        })
}

impl ListParams {
    fn parse(uri: &Uri) -> Result<ListParams, AdminError> {
        let axum::extract::Query(params) = axum::extract::Query::<ListParams>::try_from_uri(uri)
            .map_err(|rejection| AdminError::invalid(rejection.body_text()))?;
        Ok(params)
    }

    fn filter(&self) -> Result<OrderFilter, AdminError> {
        let stages = match self.state.as_deref() {
            None => Vec::new(),
            Some(state) => Stage::parse_state(state).ok_or_else(|| {
                AdminError::invalid(format!(
                    "state {:?} must be one of new, processing, done, rejected, open, closed",
                    patrol_wire::echo::bounded(state, 64)
                ))
            })?,
        };
        let urgency = match self.urge_type.as_deref() {
            None => None,
            Some(text) => Some(text.parse().ok().and_then(Urgency::from_wire).ok_or_else(
                || {
                    AdminError::invalid(format!(
                        "urge_type {:?} must be 1 (normal), 2 (important) or 3 (urgent)",
                        patrol_wire::echo::bounded(text, 64)
                    ))
                },
            )?),
        };
        let since = self
            .since
            .as_deref()
            .map(|text| time_param("since", text))
            .transpose()?;
        let until = self
            .until
            .as_deref()
            .map(|text| time_param("until", text))
            .transpose()?;
        if let (Some(since), Some(until)) = (since, until)
            && until < since
        {
            return Err(AdminError::invalid(format!(
                "until ({until}) is before since ({since})"
            )));
        }
        Ok(OrderFilter {
            stages,
            grid: self
                .grid_id
                .as_deref()
                .map(|text| id_param("grid_id", text))
                .transpose()?,
            category: self
                .category_id
                .as_deref()
                .map(|text| id_param("category_id", text))
                .transpose()?,
            urgency,
            since,
            until,
        })
    }

    fn limit(&self) -> Result<u32, AdminError> {
        match self.limit.as_deref() {
            None => Ok(DEFAULT_LIST_LIMIT),
            Some(text) => text
                .parse::<u32>()
                .ok()
                .filter(|limit| (1..=MAX_LIST_LIMIT).contains(limit))
                .ok_or_else(|| {
                    AdminError::invalid(format!(
                        "limit {:?} must be 1 to {MAX_LIST_LIMIT}",
                        patrol_wire::echo::bounded(text, 64)
                    ))
                }),
        }
    }
}

/// The filters as a cursor is bound to them: every filter given, in a fixed order.
fn canonical(filter: &OrderFilter) -> String {
    let stages: Vec<&str> = filter.stages.iter().map(|stage| stage.name()).collect();
    serde_json::json!([
        stages,
        filter.grid,
        filter.category,
        filter.urgency.map(|urgency| urgency as i64),
        filter.since,
        filter.until,
    ])
    .to_string()
}

/// `GET /corps/{corpid}/orders`: a page of the corp's orders (both families), newest first,
/// filtered; `next_cursor` continues it.
pub(super) async fn list(
    State(state): State<AppState>,
    Path(corpid): Path<String>,
    uri: Uri,
) -> Result<Response, AdminError> {
    let params = ListParams::parse(&uri)?;
    let filter = params.filter()?;
    let limit = params.limit()?;
    let corp = corp(&state, &corpid).await?;
    if let Some(grid_id) = &filter.grid
        && state.store.grid(corp.key, grid_id).await?.is_none()
    {
        return Err(AdminError::not_found(format!(
            "grid {grid_id} not found in corp {corpid}"
        )));
    }
    if let Some(category_id) = &filter.category
        && !state
            .store
            .list_categories(corp.key)
            .await?
            .iter()
            .any(|category| &category.category_id == category_id)
    {
        return Err(AdminError::not_found(format!(
            "category {category_id} not found in corp {corpid}"
        )));
    }
    let filters = canonical(&filter);
    let binding = AdminBinding {
        corp_key: corp.key,
        filters: &filters,
    };
    let after =
        match params.cursor.as_deref() {
            None | Some("") => None,
            Some(cursor) => Some(state.cursors.decode_admin(&binding, cursor).ok_or_else(
                || {
                    AdminError::invalid(
                        "cursor is not one this server issued for this corp and these filters",
                    )
                },
            )?),
        };
    let page = state
        .store
        .list_corp_orders(
            corp.key,
            CorpOrdersQuery {
                filter,
                after,
                limit,
                public_url: Some(state.public_url.clone()),
            },
        )
        .await?;
    let next_cursor = match (page.more, page.last_position()) {
        (true, Some(position)) => Some(state.cursors.encode_admin(&binding, position)),
        _ => None,
    };
    let mut body = Vec::with_capacity(page.json.len() + 128);
    body.extend_from_slice(b"{\"orders\":[");
    body.extend_from_slice(&page.json);
    body.extend_from_slice(b"],\"next_cursor\":");
    body.extend_from_slice(
        serde_json::to_string(&next_cursor)
            .expect("a cursor always serializes")
            .as_bytes(),
    );
    body.push(b'}');
    Ok(super::json_answer(StatusCode::OK, body))
}
