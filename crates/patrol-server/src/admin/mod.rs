//! patrol's administration API under `/admin/v1/` (docs/admin-api.md): corps, apps, users,
//! grids, categories, reporting and acting on orders, the server's clock, fault rules, the
//! request journal and snapshots. Every route needs the admin key.

mod auth;
mod clock;
mod directory;
mod faults;
mod journal;
mod orders;
mod snapshot;

use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use patrol_domain::{Corp, Rejection};
use patrol_store::{ConstraintKind, StoreError};
use rand::RngCore;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::extract::MAX_BODY_BYTES;
use patrol_wire::admin::{ErrorBody, ErrorDetail};

/// An error of the administration API: an HTTP status, a code and a message naming what was
/// wrong.
#[derive(Debug, Clone)]
pub struct AdminError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl AdminError {
    pub fn invalid(message: impl Into<String>) -> AdminError {
        AdminError {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_request",
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> AdminError {
        AdminError {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: message.into(),
        }
    }

    fn unauthorized(message: impl Into<String>) -> AdminError {
        AdminError {
            status: StatusCode::UNAUTHORIZED,
            code: "unauthorized",
            message: message.into(),
        }
    }
}

impl From<StoreError> for AdminError {
    fn from(error: StoreError) -> AdminError {
        let message = error.to_string();
        let (status, code) = match &error {
            StoreError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            StoreError::Conflict(_) | StoreError::Clash { .. } => {
                (StatusCode::CONFLICT, "conflict")
            }
            StoreError::Rejected(rejection) => match rejection {
                Rejection::UnknownUser(_)
                | Rejection::UnknownGrid(_)
                | Rejection::UnknownCategory(_) => (StatusCode::NOT_FOUND, "not_found"),
                Rejection::Invalid(_) | Rejection::Limit { .. } => {
                    (StatusCode::BAD_REQUEST, "invalid_request")
                }
                _ => (StatusCode::UNPROCESSABLE_ENTITY, "rejected"),
            },
            // Only a unique constraint means "already exists"; a foreign-key failure is a
            // conflict with what is stored, a check or not-null failure a value out of range.
            StoreError::Constraint { kind, .. } => match kind {
                ConstraintKind::Check | ConstraintKind::NotNull => {
                    (StatusCode::BAD_REQUEST, "invalid_request")
                }
                _ => (StatusCode::CONFLICT, "conflict"),
            },
            _ => {
                tracing::error!(cause = %error.chain(), "administration request failed");
                return AdminError {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    code: "internal",
                    message: "patrol failed; the cause is in the server's log".into(),
                };
            }
        };
        AdminError {
            status,
            code,
            message,
        }
    }
}

impl From<Rejection> for AdminError {
    fn from(rejection: Rejection) -> AdminError {
        AdminError::from(StoreError::Rejected(rejection))
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
            },
        };
        answer(self.status, &body)
    }
}

/// A JSON answer with a status.
pub(crate) fn answer<T: Serialize>(status: StatusCode, value: &T) -> Response {
    let body = serde_json::to_vec(value).expect("administration answers always serialize");
    json_answer(status, body)
}

pub(crate) fn json_answer(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = crate::handlers::json_bytes(body);
    *response.status_mut() = status;
    response
}

/// An order's stored wire JSON as an answer, its served image URLs made absolute.
pub(crate) fn order_answer(
    state: &AppState,
    status: StatusCode,
    body: impl Into<Vec<u8>>,
) -> Response {
    json_answer(
        status,
        patrol_domain::media::resolved(body.into(), &state.public_url),
    )
}

/// A JSON body of the administration API: an object, any content type, at most 1 MiB, unknown
/// fields and wrong types refused with the field named.
#[derive(Debug)]
pub struct AdminJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for AdminJson<T> {
    type Rejection = AdminError;

    async fn from_request(request: Request, _state: &AppState) -> Result<Self, AdminError> {
        let bytes = axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES)
            .await
            .map_err(|_| {
                AdminError::invalid("the request body is larger than 1 MiB or unreadable")
            })?;
        // serde reads a struct from a JSON array too (`[null, null]` as its first two fields):
        // a body is an object.
        if let Some(first) = bytes.iter().find(|b| !b.is_ascii_whitespace())
            && *first != b'{'
        {
            return Err(AdminError::invalid(
                "invalid JSON body: the body is a JSON object, {...}",
            ));
        }
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
            let path = error.path().to_string();
            let inner = error.into_inner();
            if path == "." || path.is_empty() {
                AdminError::invalid(format!("invalid JSON body: {inner}"))
            } else {
                AdminError::invalid(format!("invalid field '{path}': {inner}"))
            }
        })?;
        deserializer
            .end()
            .map_err(|e| AdminError::invalid(format!("invalid JSON body: {e}")))?;
        Ok(AdminJson(value))
    }
}

/// The parameters in the path of an administration route: a path that does not parse (such as
/// one that is not UTF-8 once decoded) is refused with the API's error shape.
#[derive(Debug)]
pub struct AdminPath<T>(pub T);

impl<T, S> FromRequestParts<S> for AdminPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AdminError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| AdminPath(value))
            .map_err(|rejection| AdminError::invalid(rejection.body_text()))
    }
}

/// A random id of `bytes` random bytes in lowercase hex.
pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buffer);
    buffer.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new app secret: 32 random bytes, 43 URL-safe characters, like WeCom's.
pub fn new_secret() -> String {
    use base64::Engine;
    let mut buffer = [0u8; 32];
    rand::rng().fill_bytes(&mut buffer);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buffer)
}

/// The corp named in a path.
pub(crate) async fn corp(state: &AppState, corpid: &str) -> Result<Corp, AdminError> {
    state
        .store
        .corp(corpid)
        .await?
        .ok_or_else(|| AdminError::not_found(format!("corp {corpid} not found")))
}

/// The answer to a path of the administration API that does not exist.
pub async fn no_route() -> AdminError {
    AdminError::not_found("no such route of the administration API (see docs/admin-api.md)")
}

async fn wrong_method() -> AdminError {
    AdminError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        code: "method_not_allowed",
        message: "this route does not take this method (see docs/admin-api.md)".into(),
    }
}

/// The routes, to be nested under `/admin/v1`.
pub fn router(state: AppState) -> Router<AppState> {
    let corp = "/corps/{corpid}";
    Router::new()
        .route("/clock", get(clock::show).post(clock::change))
        .route(
            "/corps",
            post(directory::create_corp).get(directory::list_corps),
        )
        .route(
            corp,
            get(directory::show_corp)
                .patch(directory::update_corp)
                .delete(directory::delete_corp),
        )
        .route(&format!("{corp}/reset"), post(snapshot::reset))
        .route("/snapshot", get(snapshot::save).post(snapshot::load))
        .route(
            &format!("{corp}/apps"),
            post(directory::create_app).get(directory::list_apps),
        )
        .route(
            &format!("{corp}/apps/{{agentid}}"),
            patch(directory::update_app).delete(directory::delete_app),
        )
        .route(
            &format!("{corp}/apps/{{agentid}}/secret"),
            post(directory::rotate_secret),
        )
        .route(
            &format!("{corp}/users"),
            post(directory::create_user).get(directory::list_users),
        )
        .route(
            &format!("{corp}/users/{{userid}}"),
            patch(directory::update_user).delete(directory::delete_user),
        )
        .route(
            &format!("{corp}/grids"),
            post(directory::create_grid).get(directory::list_grids),
        )
        .route(
            &format!("{corp}/grids/{{grid_id}}"),
            get(directory::show_grid)
                .patch(directory::update_grid)
                .delete(directory::delete_grid),
        )
        .route(
            &format!("{corp}/categories"),
            post(directory::create_category).get(directory::list_categories),
        )
        .route(
            &format!("{corp}/categories/{{category_id}}"),
            patch(directory::update_category).delete(directory::delete_category),
        )
        .route(
            &format!("{corp}/orders"),
            post(orders::report).get(orders::list),
        )
        .route(&format!("{corp}/orders/{{order_id}}"), get(orders::show))
        .route(
            &format!("{corp}/orders/{{order_id}}/actions"),
            post(orders::act),
        )
        .route(
            "/faults",
            get(faults::list)
                .post(faults::add)
                .put(faults::replace)
                .delete(faults::clear),
        )
        .route("/faults/{id}", get(faults::show).delete(faults::remove))
        .route("/journal", get(journal::list).delete(journal::clear))
        .route("/journal/stream", get(journal::stream))
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(middleware::from_fn_with_state(
            auth::AdminAuth::new(state),
            auth::require_admin_key,
        ))
}
