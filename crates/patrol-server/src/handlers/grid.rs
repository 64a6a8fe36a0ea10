//! `POST /cgi-bin/report/grid/*`: grids and event categories over WeCom's API, on the same store
//! calls (and so the same rules) as the administration API. What WeCom leaves open is in
//! decisions.md, "Grids and categories over WeCom's API".

use axum::extract::State;
use axum::response::Response;
use patrol_domain::limits::{self, GridRole};
use patrol_domain::{CategoryId, CategoryPatch, Grid, GridId, GridPatch, NewCategory, NewGrid};
use patrol_store::StoreError;
use patrol_wire::Envelope;
use patrol_wire::grid::{
    AddCategoryRequest, AddCategoryResponse, AddGridRequest, AddGridResponse, CategoryIdRequest,
    CategoryItem, GridIdRequest, GridItem, GridRef, ListCategoryResponse, ListGridResponse,
    UpdateCategoryRequest, UpdateGridRequest, UpdateGridResponse, UserGridInfoRequest,
    UserGridInfoResponse,
};

use crate::AppState;
use crate::admin::random_hex;
use crate::error::{ApiError, Directory, Failure};
use crate::extract::{GridApi, GridListApi, Permitted, WeComJson};
use crate::handlers::{given, json_response, ok_message};

/// How often a new id is drawn again when the one drawn is taken (64 random bits: never, in
/// practice).
const NEW_ID_ATTEMPTS: usize = 3;

/// A required text field: absent, `null` or `""` is 40063.
fn required(field: &'static str, value: Option<String>) -> Result<String, ApiError> {
    value
        .filter(|value| !value.is_empty())
        .ok_or(ApiError::FieldMissing(field))
}

fn grid_error(error: StoreError) -> ApiError {
    ApiError::directory(error, Directory::Grid)
}

fn category_error(error: StoreError) -> ApiError {
    ApiError::directory(error, Directory::Category)
}

/// A category's `level`: 1 or 2 (40058 otherwise).
fn level(value: i64) -> Result<i64, ApiError> {
    match value {
        1 | 2 => Ok(value),
        other => Err(ApiError::InvalidValue {
            field: "level",
            detail: format!("a category's level is 1 or 2, got {other}"),
        }),
    }
}

/// The users of a grid write, sorted: the lists given are counted against WeCom's limits first
/// (so that at most 120 userids are looked up), then the userids that are no member of the corp
/// are taken out and reported.
struct GridUsers {
    admins: Option<Vec<String>>,
    members: Option<Vec<String>>,
    invalid: Vec<String>,
}

impl GridUsers {
    async fn sort(
        state: &AppState,
        corp_key: i64,
        admins: Option<Vec<String>>,
        members: Option<Vec<String>>,
    ) -> Result<GridUsers, ApiError> {
        let rejected = |r| grid_error(StoreError::Rejected(r));
        let mut given: Vec<String> = Vec::new();
        if let Some(admins) = &admins {
            if admins.is_empty() {
                return Err(ApiError::FieldMissing("grid_admin"));
            }
            given.extend(
                limits::grid_users(GridRole::Admin, admins)
                    .map_err(rejected)?
                    .into_iter()
                    .cloned(),
            );
        }
        if let Some(members) = &members {
            given.extend(
                limits::grid_users(GridRole::Member, members)
                    .map_err(rejected)?
                    .into_iter()
                    .cloned(),
            );
        }
        let mut seen = std::collections::HashSet::new();
        given.retain(|userid| seen.insert(userid.clone()));
        let invalid = if given.is_empty() {
            Vec::new()
        } else {
            state.store.missing_users(corp_key, given).await?
        };
        let keep = |users: Option<Vec<String>>| {
            users.map(|users| {
                users
                    .into_iter()
                    .filter(|userid| !invalid.contains(userid))
                    .collect::<Vec<_>>()
            })
        };
        let (admins, members) = (keep(admins), keep(members));
        if admins.as_ref().is_some_and(Vec::is_empty) {
            return Err(ApiError::InvalidUserId(
                "no userid of grid_admin is a member of the corp".into(),
            ));
        }
        Ok(GridUsers {
            admins,
            members,
            invalid,
        })
    }
}

/// `grid/add`: a new grid under `grid_parent_id` (`""`: at the top level), with the id patrol
/// draws; userids that are no member of the corp are left out and listed.
pub async fn add(
    State(state): State<AppState>,
    Permitted(caller, _): Permitted<GridApi>,
    body: WeComJson<AddGridRequest>,
) -> Result<Response, Failure> {
    let warning = body.warning;
    let fail = |error: ApiError| Failure::new(error, warning);
    let request = body.value;
    let name = required("grid_name", request.grid_name).map_err(fail)?;
    let parent = request
        .grid_parent_id
        .ok_or(ApiError::FieldMissing("grid_parent_id"))
        .map_err(fail)?;
    let admins = request
        .grid_admin
        .ok_or(ApiError::FieldMissing("grid_admin"))
        .map_err(fail)?;
    let users = GridUsers::sort(
        &state,
        caller.corp_key,
        Some(admins),
        Some(request.grid_member.unwrap_or_default()),
    )
    .await
    .map_err(fail)?;
    let mut attempts = 0;
    let grid_id = loop {
        attempts += 1;
        let grid_id =
            GridId::parse(random_hex(8)).map_err(|e| fail(ApiError::Internal(e.to_string())))?;
        let grid = NewGrid {
            grid_id: grid_id.clone(),
            name: name.clone(),
            parent: given(Some(parent.clone())),
            admins: users.admins.clone().unwrap_or_default(),
            members: users.members.clone().unwrap_or_default(),
        };
        match state.store.create_grid(caller.corp_key, grid).await {
            Ok(()) => break grid_id,
            Err(StoreError::Conflict(_)) if attempts < NEW_ID_ATTEMPTS => {}
            Err(error) => return Err(fail(grid_error(error))),
        }
    };
    json_response(&AddGridResponse {
        errcode: 0,
        errmsg: ok_message(warning),
        grid_id: grid_id.into_string(),
        invalid_userids: users.invalid,
    })
    .map_err(fail)
}

/// `grid/update`: the fields given change (`grid_parent_id` `""` moves the grid to the top
/// level; an empty `grid_member` removes every member).
pub async fn update(
    State(state): State<AppState>,
    Permitted(caller, _): Permitted<GridApi>,
    body: WeComJson<UpdateGridRequest>,
) -> Result<Response, Failure> {
    let warning = body.warning;
    let fail = |error: ApiError| Failure::new(error, warning);
    let request = body.value;
    let grid_id = required("grid_id", request.grid_id).map_err(fail)?;
    let exists = state
        .store
        .grid(caller.corp_key, &grid_id)
        .await
        .map_err(|e| fail(e.into()))?;
    if exists.is_none() {
        return Err(fail(ApiError::UnknownGrid(format!(
            "grid {grid_id} not found"
        ))));
    }
    let users = GridUsers::sort(
        &state,
        caller.corp_key,
        request.grid_admin,
        request.grid_member,
    )
    .await
    .map_err(fail)?;
    let patch = GridPatch {
        name: request.grid_name,
        parent: request.grid_parent_id.map(|parent| given(Some(parent))),
        admins: users.admins,
        members: users.members,
    };
    state
        .store
        .update_grid(caller.corp_key, &grid_id, patch)
        .await
        .map_err(|e| fail(grid_error(e)))?;
    json_response(&UpdateGridResponse {
        errcode: 0,
        errmsg: ok_message(warning),
        invalid_userids: users.invalid,
    })
    .map_err(fail)
}

/// `grid/delete`: a grid without members, child grids or orders.
pub async fn delete(
    State(state): State<AppState>,
    Permitted(caller, _): Permitted<GridApi>,
    body: WeComJson<GridIdRequest>,
) -> Result<Response, Failure> {
    let warning = body.warning;
    let fail = |error: ApiError| Failure::new(error, warning);
    let grid_id = required("grid_id", body.value.grid_id).map_err(fail)?;
    state
        .store
        .delete_grid(caller.corp_key, &grid_id)
        .await
        .map_err(|e| fail(grid_error(e)))?;
    ok(warning).map_err(fail)
}

fn grid_item(grid: Grid) -> GridItem {
    GridItem {
        grid_id: grid.grid_id,
        grid_name: grid.name,
        grid_parent_id: grid.parent.unwrap_or_default(),
        grid_admin: grid.admins,
        grid_member: grid.members,
    }
}

/// `grid/list`: without `grid_id`, every top-level grid and its children; with one, that grid
/// and its children. Parents before children.
pub async fn list(
    State(state): State<AppState>,
    Permitted(caller, _): Permitted<GridListApi>,
    body: WeComJson<GridIdRequest>,
) -> Result<Response, Failure> {
    let warning = body.warning;
    let fail = |error: ApiError| Failure::new(error, warning);
    let grids = state
        .store
        .list_grids(caller.corp_key)
        .await
        .map_err(|e| fail(e.into()))?;
    let listed: Vec<Grid> = match given(body.value.grid_id) {
        None => {
            let roots: std::collections::HashSet<String> = grids
                .iter()
                .filter(|g| g.parent.is_none())
                .map(|g| g.grid_id.clone())
                .collect();
            grids
                .into_iter()
                .filter(|g| g.parent.as_ref().is_none_or(|p| roots.contains(p)))
                .collect()
        }
        Some(grid_id) => {
            if !grids.iter().any(|g| g.grid_id == grid_id) {
                return Err(fail(ApiError::UnknownGrid(format!(
                    "grid {grid_id} not found"
                ))));
            }
            grids
                .into_iter()
                .filter(|g| g.grid_id == grid_id || g.parent.as_deref() == Some(grid_id.as_str()))
                .collect()
        }
    };
    json_response(&ListGridResponse {
        errcode: 0,
        errmsg: ok_message(warning),
        grid_list: listed.into_iter().map(grid_item).collect(),
    })
    .map_err(fail)
}

/// `grid/get_user_grid_info`: the grids a member is an admin of, and those the member is a
/// member of; a userid that is no member of the corp is 60111.
pub async fn get_user_grid_info(
    State(state): State<AppState>,
    Permitted(caller, _): Permitted<GridApi>,
    body: WeComJson<UserGridInfoRequest>,
) -> Result<Response, Failure> {
    let warning = body.warning;
    let fail = |error: ApiError| Failure::new(error, warning);
    let userid = required("userid", body.value.userid).map_err(fail)?;
    let missing = state
        .store
        .missing_users(caller.corp_key, vec![userid.clone()])
        .await
        .map_err(|e| fail(e.into()))?;
    if !missing.is_empty() {
        return Err(fail(ApiError::UserIdNotFound));
    }
    let grids = state
        .store
        .list_grids(caller.corp_key)
        .await
        .map_err(|e| fail(e.into()))?;
    let refs = |role: fn(&Grid) -> &Vec<String>| -> Vec<GridRef> {
        grids
            .iter()
            .filter(|grid| role(grid).contains(&userid))
            .map(|grid| GridRef {
                grid_id: grid.grid_id.clone(),
                grid_name: grid.name.clone(),
            })
            .collect()
    };
    json_response(&UserGridInfoResponse {
        errcode: 0,
        errmsg: ok_message(warning),
        manage_grids: refs(|grid| &grid.admins),
        joined_grids: refs(|grid| &grid.members),
    })
    .map_err(fail)
}

/// `grid/add_cata`: a level-1 category, or a level-2 one under `parent_category_id`, with the id
/// patrol draws.
pub async fn add_cata(
    State(state): State<AppState>,
    Permitted(caller, _): Permitted<GridApi>,
    body: WeComJson<AddCategoryRequest>,
) -> Result<Response, Failure> {
    let warning = body.warning;
    let fail = |error: ApiError| Failure::new(error, warning);
    let request = body.value;
    let name = required("category_name", request.category_name).map_err(fail)?;
    let level = request
        .level
        .ok_or(ApiError::FieldMissing("level"))
        .and_then(level)
        .map_err(fail)?;
    let parent = given(request.parent_category_id);
    match (level, &parent) {
        (2, None) => return Err(fail(ApiError::FieldMissing("parent_category_id"))),
        (1, Some(parent)) => {
            return Err(fail(ApiError::InvalidValue {
                field: "parent_category_id",
                detail: format!("a level-1 category has no parent, got {parent}"),
            }));
        }
        _ => {}
    }
    let mut attempts = 0;
    let category_id = loop {
        attempts += 1;
        let category_id = CategoryId::parse(random_hex(8))
            .map_err(|e| fail(ApiError::Internal(e.to_string())))?;
        let category = NewCategory {
            category_id: category_id.clone(),
            name: name.clone(),
            parent: parent.clone(),
        };
        match state.store.create_category(caller.corp_key, category).await {
            Ok(()) => break category_id,
            Err(StoreError::Conflict(_)) if attempts < NEW_ID_ATTEMPTS => {}
            Err(error) => return Err(fail(category_error(error))),
        }
    };
    json_response(&AddCategoryResponse {
        errcode: 0,
        errmsg: ok_message(warning),
        category_id: category_id.into_string(),
    })
    .map_err(fail)
}

/// `grid/update_cata`: renames a category and moves it within the two levels.
pub async fn update_cata(
    State(state): State<AppState>,
    Permitted(caller, _): Permitted<GridApi>,
    body: WeComJson<UpdateCategoryRequest>,
) -> Result<Response, Failure> {
    let warning = body.warning;
    let fail = |error: ApiError| Failure::new(error, warning);
    let request = body.value;
    let category_id = required("category_id", request.category_id).map_err(fail)?;
    let patch = CategoryPatch {
        name: request.category_name,
        level: request.level.map(level).transpose().map_err(fail)?,
        parent: given(request.parent_category_id),
    };
    state
        .store
        .update_category(caller.corp_key, &category_id, patch)
        .await
        .map_err(|e| fail(category_error(e)))?;
    ok(warning).map_err(fail)
}

/// `grid/delete_cata`: a category without children or orders.
pub async fn delete_cata(
    State(state): State<AppState>,
    Permitted(caller, _): Permitted<GridApi>,
    body: WeComJson<CategoryIdRequest>,
) -> Result<Response, Failure> {
    let warning = body.warning;
    let fail = |error: ApiError| Failure::new(error, warning);
    let category_id = required("category_id", body.value.category_id).map_err(fail)?;
    state
        .store
        .delete_category(caller.corp_key, &category_id)
        .await
        .map_err(|e| fail(category_error(e)))?;
    ok(warning).map_err(fail)
}

/// `grid/list_cata`: every category, each level-1 category followed by its children. The body
/// may be empty (SDKs send none) or `{}`; it is read only to be JSON.
pub async fn list_cata(
    State(state): State<AppState>,
    Permitted(caller, _): Permitted<GridApi>,
    body: WeComJson<serde::de::IgnoredAny>,
) -> Result<Response, Failure> {
    let warning = body.warning;
    let fail = |error: ApiError| Failure::new(error, warning);
    let categories = state
        .store
        .list_categories(caller.corp_key)
        .await
        .map_err(|e| fail(e.into()))?;
    json_response(&ListCategoryResponse {
        errcode: 0,
        errmsg: ok_message(warning),
        category_list: categories
            .into_iter()
            .map(|category| CategoryItem {
                category_id: category.category_id,
                category_name: category.name,
                level: category.level,
                parent_category_id: category.parent.unwrap_or_default(),
            })
            .collect(),
    })
    .map_err(fail)
}

/// A success without payload.
fn ok(warning: bool) -> Result<Response, ApiError> {
    json_response(&Envelope {
        errcode: 0,
        errmsg: ok_message(warning),
    })
}
