//! Handlers for corps, apps, users, grids and categories.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use patrol_domain::limits;
use patrol_domain::{AgentId, CategoryId, CorpId, GridId, UserId};
use patrol_domain::{
    App, AppKind, AppPatch, Category, Corp, CorpPatch, Grid, GridPatch, NewApp, NewCategory,
    NewCorp, NewGrid, NewUser,
};

use super::{AdminError, AdminJson, AdminPath as Path, answer, corp, new_secret, random_hex};
use crate::AppState;
use patrol_wire::admin::*;

fn corp_view(corp: Corp) -> CorpView {
    CorpView {
        corpid: corp.corpid,
        name: corp.name,
        created_at: corp.created_at,
    }
}

fn app_view(app: App, secret: Option<String>) -> AppView {
    AppView {
        agentid: app.agentid,
        name: app.name,
        kind: app.kind.as_str().to_owned(),
        patrol_enabled: app.patrol_enabled,
        resident_enabled: app.resident_enabled,
        contact_enabled: app.contact_enabled,
        enabled: app.enabled,
        secret,
    }
}

fn grid_view(grid: Grid) -> GridView {
    GridView {
        grid_id: grid.grid_id,
        name: grid.name,
        parent_id: grid.parent,
        admins: grid.admins,
        members: grid.members,
    }
}

fn category_view(category: Category) -> CategoryView {
    CategoryView {
        category_id: category.category_id,
        name: category.name,
        level: category.level,
        parent_id: category.parent,
    }
}

fn parse_kind(kind: &str) -> Result<AppKind, AdminError> {
    AppKind::parse(kind).ok_or_else(|| {
        AdminError::invalid(format!(
            "kind {kind:?} must be one of custom, system, third_party, provider"
        ))
    })
}

fn parse_agentid(agentid: &str) -> Result<i64, AdminError> {
    Ok(AgentId::parse(agentid)?.get())
}

fn check_display_name(what: &str, name: &str) -> Result<(), AdminError> {
    Ok(limits::check_display_name(what, name)?)
}

pub(super) async fn create_corp(
    State(state): State<AppState>,
    AdminJson(body): AdminJson<CreateCorp>,
) -> Result<Response, AdminError> {
    let corpid = body
        .corpid
        .unwrap_or_else(|| format!("ww{}", random_hex(8)));
    let corpid = CorpId::parse(corpid)?;
    check_display_name("corp", &body.name)?;
    let now = state.clock().now();
    let created_at = match body.created_at {
        Some(created_at) => limits::check_time("created_at", created_at, now)?,
        None => now,
    };
    let corp = state
        .store
        .create_corp(NewCorp {
            corpid,
            name: body.name,
            created_at,
        })
        .await?;
    Ok(answer(StatusCode::CREATED, &corp_view(corp)))
}

pub(super) async fn list_corps(State(state): State<AppState>) -> Result<Response, AdminError> {
    let corps = state.store.list_corps().await?;
    let list = CorpList {
        corps: corps.into_iter().map(corp_view).collect(),
    };
    Ok(answer(StatusCode::OK, &list))
}

/// `PATCH /corps/{corpid}`: its name and creation time; the corpid never changes.
pub(super) async fn update_corp(
    State(state): State<AppState>,
    Path(corpid): Path<String>,
    AdminJson(body): AdminJson<UpdateCorp>,
) -> Result<Response, AdminError> {
    if let Some(name) = &body.name {
        check_display_name("corp", name)?;
    }
    let created_at = body
        .created_at
        .map(|created_at| limits::check_time("created_at", created_at, state.clock().now()))
        .transpose()?;
    let corp = corp(&state, &corpid).await?;
    let corp = state
        .store
        .update_corp(
            corp.key,
            CorpPatch {
                name: body.name,
                created_at,
            },
        )
        .await?;
    Ok(answer(StatusCode::OK, &corp_view(corp)))
}

/// The query string of `DELETE /corps/{corpid}`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DeleteCorpParams {
    force: Option<bool>,
}

/// `DELETE /corps/{corpid}[?force=true]`: the corp with everything of it, in one transaction;
/// without `force`, refused (409) while it holds anything. Blobs no other corp's medium names
/// are removed after the commit.
pub(super) async fn delete_corp(
    State(state): State<AppState>,
    Path(corpid): Path<String>,
    uri: axum::http::Uri,
) -> Result<Response, AdminError> {
    let axum::extract::Query(params) = axum::extract::Query::<DeleteCorpParams>::try_from_uri(&uri)
        .map_err(|rejection| AdminError::invalid(rejection.body_text()))?;
    let deleted = state
        .store
        .delete_corp(&corpid, params.force.unwrap_or(false))
        .await?;
    for blob in deleted.unreferenced_blobs {
        let id = patrol_media::BlobId::from_bytes(blob);
        if let Err(error) = state.blobs.remove(id).await {
            tracing::warn!(%corpid, blob = %id, %error, "a deleted corp's blob was not removed");
        }
    }
    tracing::info!(%corpid, held = %deleted.held.describe(), "corp deleted");
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn show_corp(
    State(state): State<AppState>,
    Path(corpid): Path<String>,
) -> Result<Response, AdminError> {
    Ok(answer(
        StatusCode::OK,
        &corp_view(corp(&state, &corpid).await?),
    ))
}

pub(super) async fn create_app(
    State(state): State<AppState>,
    Path(corpid): Path<String>,
    AdminJson(body): AdminJson<CreateApp>,
) -> Result<Response, AdminError> {
    let corp = corp(&state, &corpid).await?;
    let kind = parse_kind(body.kind.as_deref().unwrap_or("custom"))?;
    let agentid = body.agentid.map(AgentId::new).transpose()?;
    check_display_name("app", &body.name)?;
    let secret = new_secret();
    let app = state
        .store
        .create_app(
            corp.key,
            NewApp {
                agentid,
                name: body.name,
                kind,
                patrol_enabled: body.patrol_enabled.unwrap_or(false),
                resident_enabled: body.resident_enabled.unwrap_or(false),
                contact_enabled: body.contact_enabled.unwrap_or(false),
                enabled: body.enabled.unwrap_or(true),
                secret: secret.clone(),
                created_at: state.clock().now(),
            },
        )
        .await?;
    Ok(answer(StatusCode::CREATED, &app_view(app, Some(secret))))
}

pub(super) async fn list_apps(
    State(state): State<AppState>,
    Path(corpid): Path<String>,
) -> Result<Response, AdminError> {
    let corp = corp(&state, &corpid).await?;
    let apps = state.store.list_apps(corp.key).await?;
    let list = AppList {
        apps: apps.into_iter().map(|app| app_view(app, None)).collect(),
    };
    Ok(answer(StatusCode::OK, &list))
}

pub(super) async fn update_app(
    State(state): State<AppState>,
    Path((corpid, agentid)): Path<(String, String)>,
    AdminJson(body): AdminJson<UpdateApp>,
) -> Result<Response, AdminError> {
    let agentid = parse_agentid(&agentid)?;
    let corp = corp(&state, &corpid).await?;
    if let Some(name) = &body.name {
        check_display_name("app", name)?;
    }
    let patch = AppPatch {
        name: body.name,
        kind: body.kind.as_deref().map(parse_kind).transpose()?,
        patrol_enabled: body.patrol_enabled,
        resident_enabled: body.resident_enabled,
        contact_enabled: body.contact_enabled,
        enabled: body.enabled,
    };
    let app = state.store.update_app(corp.key, agentid, patch).await?;
    Ok(answer(StatusCode::OK, &app_view(app, None)))
}

pub(super) async fn rotate_secret(
    State(state): State<AppState>,
    Path((corpid, agentid)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    let agentid = parse_agentid(&agentid)?;
    let corp = corp(&state, &corpid).await?;
    let secret = new_secret();
    let app = state
        .store
        .set_app_secret(corp.key, agentid, &secret)
        .await?;
    Ok(answer(StatusCode::OK, &app_view(app, Some(secret))))
}

pub(super) async fn delete_app(
    State(state): State<AppState>,
    Path((corpid, agentid)): Path<(String, String)>,
) -> Result<StatusCode, AdminError> {
    let agentid = parse_agentid(&agentid)?;
    let corp = corp(&state, &corpid).await?;
    state.store.delete_app(corp.key, agentid).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn create_user(
    State(state): State<AppState>,
    Path(corpid): Path<String>,
    AdminJson(body): AdminJson<CreateUser>,
) -> Result<Response, AdminError> {
    let corp = corp(&state, &corpid).await?;
    let userid = UserId::parse(body.userid.as_str())?;
    check_display_name("user", &body.name)?;
    let user = NewUser {
        userid,
        name: body.name.clone(),
    };
    state.store.create_user(corp.key, user).await?;
    let view = UserView {
        userid: body.userid,
        name: body.name,
    };
    Ok(answer(StatusCode::CREATED, &view))
}

pub(super) async fn list_users(
    State(state): State<AppState>,
    Path(corpid): Path<String>,
) -> Result<Response, AdminError> {
    let corp = corp(&state, &corpid).await?;
    let users = state.store.list_users(corp.key).await?;
    let list = UserList {
        users: users
            .into_iter()
            .map(|u| UserView {
                userid: u.userid,
                name: u.name,
            })
            .collect(),
    };
    Ok(answer(StatusCode::OK, &list))
}

pub(super) async fn update_user(
    State(state): State<AppState>,
    Path((corpid, userid)): Path<(String, String)>,
    AdminJson(body): AdminJson<UpdateUser>,
) -> Result<Response, AdminError> {
    let corp = corp(&state, &corpid).await?;
    check_display_name("user", &body.name)?;
    let user = state
        .store
        .update_user(corp.key, &userid, &body.name)
        .await?;
    let view = UserView {
        userid: user.userid,
        name: user.name,
    };
    Ok(answer(StatusCode::OK, &view))
}

pub(super) async fn delete_user(
    State(state): State<AppState>,
    Path((corpid, userid)): Path<(String, String)>,
) -> Result<StatusCode, AdminError> {
    let corp = corp(&state, &corpid).await?;
    state.store.delete_user(corp.key, &userid).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn create_grid(
    State(state): State<AppState>,
    Path(corpid): Path<String>,
    AdminJson(body): AdminJson<CreateGrid>,
) -> Result<Response, AdminError> {
    let corp = corp(&state, &corpid).await?;
    let grid_id = body.grid_id.unwrap_or_else(|| random_hex(8));
    let grid_id = GridId::parse(grid_id)?;
    let grid = NewGrid {
        grid_id: grid_id.clone(),
        name: body.name,
        parent: body.parent_id,
        admins: body.admins,
        members: body.members,
    };
    state.store.create_grid(corp.key, grid).await?;
    let grid = state
        .store
        .grid(corp.key, grid_id.as_str())
        .await?
        .ok_or_else(|| AdminError::not_found(format!("grid {grid_id} not found")))?;
    Ok(answer(StatusCode::CREATED, &grid_view(grid)))
}

pub(super) async fn list_grids(
    State(state): State<AppState>,
    Path(corpid): Path<String>,
) -> Result<Response, AdminError> {
    let corp = corp(&state, &corpid).await?;
    let grids = state.store.list_grids(corp.key).await?;
    let list = GridList {
        grids: grids.into_iter().map(grid_view).collect(),
    };
    Ok(answer(StatusCode::OK, &list))
}

pub(super) async fn show_grid(
    State(state): State<AppState>,
    Path((corpid, grid_id)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    let corp = corp(&state, &corpid).await?;
    let grid = state
        .store
        .grid(corp.key, grid_id.as_str())
        .await?
        .ok_or_else(|| AdminError::not_found(format!("grid {grid_id} not found")))?;
    Ok(answer(StatusCode::OK, &grid_view(grid)))
}

pub(super) async fn update_grid(
    State(state): State<AppState>,
    Path((corpid, grid_id)): Path<(String, String)>,
    AdminJson(body): AdminJson<UpdateGrid>,
) -> Result<Response, AdminError> {
    let corp = corp(&state, &corpid).await?;
    let patch = GridPatch {
        name: body.name,
        parent: body.parent_id,
        admins: body.admins,
        members: body.members,
    };
    let grid = state.store.update_grid(corp.key, &grid_id, patch).await?;
    Ok(answer(StatusCode::OK, &grid_view(grid)))
}

pub(super) async fn delete_grid(
    State(state): State<AppState>,
    Path((corpid, grid_id)): Path<(String, String)>,
) -> Result<StatusCode, AdminError> {
    let corp = corp(&state, &corpid).await?;
    state.store.delete_grid(corp.key, &grid_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn create_category(
    State(state): State<AppState>,
    Path(corpid): Path<String>,
    AdminJson(body): AdminJson<CreateCategory>,
) -> Result<Response, AdminError> {
    let corp = corp(&state, &corpid).await?;
    let category_id = body.category_id.unwrap_or_else(|| random_hex(8));
    let category_id = CategoryId::parse(category_id)?;
    let category = NewCategory {
        category_id: category_id.clone(),
        name: body.name,
        parent: body.parent_id,
    };
    state.store.create_category(corp.key, category).await?;
    let view = find_category(&state, corp.key, category_id.as_str()).await?;
    Ok(answer(StatusCode::CREATED, &view))
}

async fn find_category(
    state: &AppState,
    corp_key: i64,
    category_id: &str,
) -> Result<CategoryView, AdminError> {
    state
        .store
        .list_categories(corp_key)
        .await?
        .into_iter()
        .find(|c| c.category_id == category_id)
        .map(category_view)
        .ok_or_else(|| AdminError::not_found(format!("category {category_id} not found")))
}

pub(super) async fn list_categories(
    State(state): State<AppState>,
    Path(corpid): Path<String>,
) -> Result<Response, AdminError> {
    let corp = corp(&state, &corpid).await?;
    let categories = state.store.list_categories(corp.key).await?;
    let list = CategoryList {
        categories: categories.into_iter().map(category_view).collect(),
    };
    Ok(answer(StatusCode::OK, &list))
}

pub(super) async fn update_category(
    State(state): State<AppState>,
    Path((corpid, category_id)): Path<(String, String)>,
    AdminJson(body): AdminJson<UpdateCategory>,
) -> Result<Response, AdminError> {
    let corp = corp(&state, &corpid).await?;
    state
        .store
        .rename_category(corp.key, &category_id, &body.name)
        .await?;
    let view = find_category(&state, corp.key, category_id.as_str()).await?;
    Ok(answer(StatusCode::OK, &view))
}

pub(super) async fn delete_category(
    State(state): State<AppState>,
    Path((corpid, category_id)): Path<(String, String)>,
) -> Result<StatusCode, AdminError> {
    let corp = corp(&state, &corpid).await?;
    state.store.delete_category(corp.key, &category_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
