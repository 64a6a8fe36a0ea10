//! The one place that turns a failure into WeCom's `{"errcode": N, "errmsg": "..."}`.
//!
//! Handlers return [`ApiError`] (or a [`Failure`], when the JSON warning must ride along). The
//! error becomes a response extension; the envelope middleware in `lib.rs` writes the body,
//! because only it knows the request id and the caller's address that go into `errmsg`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use patrol_store::StoreError;
use patrol_wire::ErrCode;

/// What went wrong with a call, as the client is told.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    #[error("access_token missing")]
    TokenMissing,
    #[error("invalid access_token")]
    TokenInvalid,
    #[error("access_token expired")]
    TokenExpired,
    #[error("api forbidden")]
    Forbidden,
    #[error("corpsecret missing")]
    CorpSecretMissing,
    #[error("corpid missing")]
    CorpIdMissing,
    #[error("invalid corpid")]
    UnknownCorp,
    #[error("invalid credential")]
    BadSecret,
    #[error("invalid Request Parameter, http method {0} is not allowed, use POST")]
    MethodNotAllowed(String),
    #[error("invalid Request Parameter, request body is larger than 1 MiB")]
    BodyTooLarge,
    #[error("invalid Request Parameter, cannot read the request body: {0}")]
    BodyUnreadable(String),
    #[error("invalid Request Parameter, json invalid: {0}")]
    JsonInvalid(String),
    #[error("invalid Request Parameter, json body must be an object")]
    JsonNotObject,
    #[error("invalid Request Parameter, field '{field}': {detail}")]
    WrongType { field: String, detail: String },
    #[error("invalid {field}: {detail}")]
    InvalidValue { field: &'static str, detail: String },
    #[error("invalid cursor")]
    InvalidCursor,
    #[error("some parameters are empty: {0}")]
    FieldMissing(&'static str),
    #[error("invalid order_id")]
    UnknownOrder,
    /// An id that names nothing of the corp: `invalid grid_id`, `invalid category_id`.
    #[error("invalid {0}")]
    UnknownId(&'static str),
    #[error("invalid userid: {0}")]
    InvalidUserId(String),
    #[error("userid not found")]
    UserIdNotFound,
    #[error("invalid category_id: {0}")]
    UnknownCategory(String),
    #[error("invalid grid_id: {0}")]
    UnknownGrid(String),
    #[error("too many grid admins: {0}")]
    TooManyAdmins(String),
    #[error("grid cannot be deleted: {0}")]
    GridNotEmpty(String),
    #[error("grid name duplicated: {0}")]
    GridNameTaken(String),
    #[error("too many grid members: {0}")]
    TooManyMembers(String),
    #[error("user manages too many grids: {0}")]
    TooManyManagedGrids(String),
    #[error("invalid media type, type must be image, voice, video or file")]
    MediaTypeInvalid,
    #[error("media data missing: send the file as the multipart part named 'media'")]
    MediaDataMissing,
    #[error("{0}")]
    Upload(patrol_domain::media::UploadRejection),
    #[error("media_id missing")]
    MediaIdMissing,
    #[error("invalid media_id")]
    UnknownMedia,
    #[error("the file is {0} bytes: fetch it with Range requests of at most 20 MB")]
    MediaNeedsRange(u64),
    /// Past a call-frequency limit, or blocked for having been (`--quotas`) until this time
    /// (logged; WeCom's errmsg says no more).
    #[error("api freq out of limit")]
    FrequencyLimited(i64),
    #[error("api concurrent out of limit")]
    ConcurrencyLimited,
    /// A failure of patrol itself; the cause goes to the log only.
    #[error("system busy")]
    Internal(String),
    /// An errcode answered by a fault rule (`fault.rs`): WeCom's message for a code of the
    /// table, a plain one for any other.
    #[error("{}", ErrCode::from_code(*.0).map_or("injected fault", ErrCode::message))]
    Injected(i64),
}

impl ApiError {
    /// The number answered as `errcode`.
    pub fn code(&self) -> i64 {
        match self {
            ApiError::Injected(code) => *code,
            other => other.errcode().code(),
        }
    }

    /// The WeCom code of this error (an injected code outside the table reads as
    /// [`ErrCode::SystemBusy`]; [`ApiError::code`] is the number answered).
    pub fn errcode(&self) -> ErrCode {
        match self {
            ApiError::TokenMissing => ErrCode::AccessTokenMissing,
            ApiError::TokenInvalid => ErrCode::InvalidAccessToken,
            ApiError::TokenExpired => ErrCode::AccessTokenExpired,
            ApiError::Forbidden => ErrCode::ApiForbidden,
            ApiError::CorpSecretMissing => ErrCode::CorpSecretMissing,
            ApiError::CorpIdMissing => ErrCode::CorpIdMissing,
            ApiError::UnknownCorp => ErrCode::InvalidCorpId,
            ApiError::BadSecret => ErrCode::InvalidCredential,
            ApiError::MethodNotAllowed(_)
            | ApiError::BodyTooLarge
            | ApiError::BodyUnreadable(_)
            | ApiError::JsonInvalid(_)
            | ApiError::JsonNotObject
            | ApiError::WrongType { .. }
            | ApiError::InvalidValue { .. }
            | ApiError::InvalidCursor
            | ApiError::UnknownOrder
            | ApiError::UnknownId(_) => ErrCode::InvalidParameter,
            ApiError::FieldMissing(_) => ErrCode::ParameterMissing,
            ApiError::InvalidUserId(_) => ErrCode::InvalidUserId,
            ApiError::UserIdNotFound => ErrCode::UserIdNotFound,
            ApiError::UnknownCategory(_) => ErrCode::InvalidCategoryId,
            ApiError::UnknownGrid(_) => ErrCode::InvalidGridId,
            ApiError::TooManyAdmins(_) => ErrCode::GridAdminsOverLimit,
            ApiError::GridNotEmpty(_) => ErrCode::GridNotEmpty,
            ApiError::GridNameTaken(_) => ErrCode::GridNameTaken,
            ApiError::TooManyMembers(_) => ErrCode::GridMembersOverLimit,
            ApiError::TooManyManagedGrids(_) => ErrCode::ManagedGridsOverLimit,
            ApiError::MediaTypeInvalid => ErrCode::InvalidMediaType,
            ApiError::MediaDataMissing => ErrCode::MediaDataMissing,
            ApiError::Upload(rejection) => {
                use patrol_domain::media::{MediaType, UploadRejection};
                match rejection {
                    UploadRejection::Empty => ErrCode::EmptyMediaData,
                    UploadRejection::TooSmall => ErrCode::InvalidFileSize,
                    UploadRejection::TooLarge(MediaType::Image) => ErrCode::InvalidImageSize,
                    UploadRejection::TooLarge(MediaType::Video) => ErrCode::InvalidVideoSize,
                    UploadRejection::TooLarge(MediaType::Voice | MediaType::File) => {
                        ErrCode::InvalidFileSize
                    }
                    UploadRejection::WrongFormat(_) => ErrCode::InvalidFileType,
                }
            }
            ApiError::MediaIdMissing => ErrCode::MediaIdMissing,
            ApiError::UnknownMedia => ErrCode::InvalidMediaId,
            ApiError::MediaNeedsRange(_) => ErrCode::MediaTooLargeWithoutRange,
            ApiError::FrequencyLimited(_) => ErrCode::ApiFreqOutOfLimit,
            ApiError::ConcurrencyLimited => ErrCode::ApiConcurrentOutOfLimit,
            ApiError::Internal(_) => ErrCode::SystemBusy,
            ApiError::Injected(code) => ErrCode::from_code(*code).unwrap_or(ErrCode::SystemBusy),
        }
    }
}

impl From<crate::quota::Refusal> for ApiError {
    fn from(refusal: crate::quota::Refusal) -> ApiError {
        match refusal {
            crate::quota::Refusal::Frequency { until } => ApiError::FrequencyLimited(until),
            crate::quota::Refusal::Concurrency => ApiError::ConcurrencyLimited,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        ApiError::Internal(error.chain())
    }
}

/// What a `report/grid/*` write was about: it says what an unknown id is (90604 or 90603) and
/// how a refusal is answered (WeCom has codes for grids' limits, none for categories').
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Directory {
    Grid,
    Category,
}

impl ApiError {
    /// A store's refusal of a grid or category write, answered in WeCom's codes (decisions.md,
    /// "Grids and categories over WeCom's API"); failures of the store itself are -1.
    pub fn directory(error: StoreError, family: Directory) -> ApiError {
        use patrol_domain::Rejection;
        use patrol_domain::limits::Limit;
        use patrol_store::Clash;
        let grid = family == Directory::Grid;
        let invalid =
            |field: &'static str, detail: String| ApiError::InvalidValue { field, detail };
        match error {
            StoreError::NotFound(what) if grid => {
                ApiError::UnknownGrid(format!("{what} not found"))
            }
            StoreError::NotFound(what) => ApiError::UnknownCategory(format!("{what} not found")),
            StoreError::Clash { clash, message } => match clash {
                Clash::SiblingName if grid => ApiError::GridNameTaken(message),
                Clash::SiblingName => invalid("category_name", message),
                _ if grid => ApiError::GridNotEmpty(message),
                _ => invalid("category_id", message),
            },
            StoreError::Rejected(rejection) => {
                let message = rejection.to_string();
                match rejection {
                    Rejection::UnknownUser(_) => ApiError::InvalidUserId(message),
                    Rejection::UnknownGrid(_) => ApiError::UnknownGrid(message),
                    Rejection::UnknownCategory(_) => ApiError::UnknownCategory(message),
                    Rejection::Limit { limit, message } => match limit {
                        Limit::Name if grid => invalid("grid_name", message),
                        Limit::Name => invalid("category_name", message),
                        Limit::GridDepth => invalid("grid_parent_id", message),
                        Limit::GridAdmins => ApiError::TooManyAdmins(message),
                        Limit::GridMembers => ApiError::TooManyMembers(message),
                        Limit::ManagedGrids => ApiError::TooManyManagedGrids(message),
                        Limit::CategoryLevel => ApiError::UnknownCategory(message),
                        _ => invalid("Request Parameter", message),
                    },
                    _ if grid => invalid("grid_parent_id", message),
                    _ => invalid("level", message),
                }
            }
            other => ApiError::from(other),
        }
    }
}

/// An error on its way out, with whether the body carried the trailing-comma warning.
#[derive(Debug, Clone)]
pub struct Failure {
    pub error: ApiError,
    pub json_warning: bool,
}

impl Failure {
    pub fn new(error: impl Into<ApiError>, json_warning: bool) -> Failure {
        Failure {
            error: error.into(),
            json_warning,
        }
    }

    /// The error's text as the client and the log see it: whatever of the client's input it
    /// quotes, cut at [`patrol_wire::echo::MAX_ERROR_TEXT`] characters.
    pub fn text(&self) -> String {
        let text = self.error.to_string();
        patrol_wire::echo::bounded(&text, patrol_wire::echo::MAX_ERROR_TEXT).into_owned()
    }

    /// `errmsg` for this failure, with WeCom's hint suffix.
    pub fn errmsg(&self, request_id: &str, client_ip: &str) -> String {
        let warning = if self.json_warning { JSON_WARNING } else { "" };
        format!(
            "{warning}{}, hint: [{request_id}], from ip: {client_ip}, more info at https://open.work.weixin.qq.com/devtool/query?e={}",
            self.text(),
            self.error.code()
        )
    }
}

/// What WeCom puts in `errmsg` when it accepted JSON with trailing commas.
pub const JSON_WARNING: &str = "Warning: wrong json format. ";

impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Failure {
        Failure::new(error, false)
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut response = StatusCode::OK.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        Failure::from(self).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errmsg_has_wecoms_shape() {
        let failure = Failure::new(ApiError::InvalidCursor, false);
        assert_eq!(
            failure.errmsg("123", "127.0.0.1"),
            "invalid cursor, hint: [123], from ip: 127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e=40058"
        );
        let warned = Failure::new(ApiError::UnknownOrder, true);
        assert!(
            warned
                .errmsg("1", "::1")
                .starts_with("Warning: wrong json format. invalid order_id, hint: [1]")
        );
    }
}
