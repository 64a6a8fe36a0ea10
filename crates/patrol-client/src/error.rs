//! The client's errors: WeCom's own (`Api`), the network's (`Transport`), and answers that are
//! not what WeCom documents (`Decode`).

use patrol_wire::ErrCode;

/// Named WeCom error codes, for matching on [`Error::Api`]: the numbers of patrol-wire's
/// [`ErrCode`] table, named here so that a `match` on `errcode` reads.
pub mod codes {
    use patrol_wire::ErrCode;

    /// System busy: retried with backoff.
    pub const SYSTEM_BUSY: i64 = ErrCode::SystemBusy.code();
    /// Wrong secret, or the app is disabled.
    pub const INVALID_CREDENTIAL: i64 = ErrCode::InvalidCredential.code();
    /// Unknown corpid.
    pub const INVALID_CORPID: i64 = ErrCode::InvalidCorpId.code();
    /// The token was never issued, or was revoked: the token is refreshed once.
    pub const INVALID_ACCESS_TOKEN: i64 = ErrCode::InvalidAccessToken.code();
    /// A bad parameter: broken JSON, a wrong type, an invalid limit, cursor, or order, grid or
    /// category id.
    pub const INVALID_PARAMETER: i64 = ErrCode::InvalidParameter.code();
    /// A required parameter is missing.
    pub const PARAMETER_MISSING: i64 = ErrCode::ParameterMissing.code();
    /// No access token in the query string.
    pub const ACCESS_TOKEN_MISSING: i64 = ErrCode::AccessTokenMissing.code();
    /// The token expired: the token is refreshed once.
    pub const ACCESS_TOKEN_EXPIRED: i64 = ErrCode::AccessTokenExpired.code();
    /// Too many calls: retried with backoff.
    pub const API_FREQ_OUT_OF_LIMIT: i64 = ErrCode::ApiFreqOutOfLimit.code();
    /// Too many concurrent calls: retried with backoff.
    pub const API_CONCURRENT_OUT_OF_LIMIT: i64 = ErrCode::ApiConcurrentOutOfLimit.code();
    /// The app may not call this API (not enabled for patrol, or a system app of a new corp).
    pub const API_FORBIDDEN: i64 = ErrCode::ApiForbidden.code();
    /// An unknown or expired media id (media/get).
    pub const INVALID_MEDIA_ID: i64 = ErrCode::InvalidMediaId.code();
    /// A file over 20 MB asked for without a range (media/get): the client fetches in ranges.
    pub const MEDIA_TOO_LARGE_WITHOUT_RANGE: i64 = ErrCode::MediaTooLargeWithoutRange.code();
    /// No admin given is a member of the corp (grid/add, grid/update).
    pub const INVALID_USERID: i64 = ErrCode::InvalidUserId.code();
    /// The userid is no member of the corp (get_user_status, grid/get_user_grid_info).
    pub const USERID_NOT_FOUND: i64 = ErrCode::UserIdNotFound.code();
    /// Unknown category id, or not a level-1 category where a parent is asked for.
    pub const INVALID_CATEGORY_ID: i64 = ErrCode::InvalidCategoryId.code();
    /// Unknown grid id (the parent's too).
    pub const INVALID_GRID_ID: i64 = ErrCode::InvalidGridId.code();
    /// A grid has at most 20 admins.
    pub const GRID_ADMINS_OVER_LIMIT: i64 = ErrCode::GridAdminsOverLimit.code();
    /// A grid with members cannot be deleted.
    pub const GRID_NOT_EMPTY: i64 = ErrCode::GridNotEmpty.code();
    /// A sibling grid has the name.
    pub const GRID_NAME_TAKEN: i64 = ErrCode::GridNameTaken.code();
    /// A grid has at most 100 members (WeCom also answers 90610).
    pub const GRID_MEMBERS_OVER_LIMIT: i64 = ErrCode::GridMembersOverLimit.code();
    /// A user is an admin of at most 10 grids.
    pub const MANAGED_GRIDS_OVER_LIMIT: i64 = ErrCode::ManagedGridsOverLimit.code();
}

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// WeCom answered with a non-zero `errcode`.
    #[error("WeCom error {errcode}: {errmsg}")]
    Api { errcode: i64, errmsg: String },
    /// The request did not get an answer: connection refused or dropped, timeout, or a body
    /// cut short.
    #[error("cannot reach {url}: {source}")]
    Transport {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// The answer was not WeCom's JSON (an HTTP error page, a proxy's answer, a wrong type).
    #[error("unexpected answer from {url} (HTTP {status}): {message}")]
    Decode {
        url: String,
        status: u16,
        message: String,
    },
    /// The client was built with a setting that cannot work.
    #[error("invalid client configuration: {0}")]
    Config(String),
    /// A local file (an upload's, a download's) could not be read or written.
    #[error("{path}: {source}")]
    File {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// WeCom's `errcode` of an [`Error::Api`].
    pub fn errcode(&self) -> Option<i64> {
        match self {
            Error::Api { errcode, .. } => Some(*errcode),
            _ => None,
        }
    }

    /// The table entry of an [`Error::Api`]'s code, when patrol-wire knows it.
    pub fn code(&self) -> Option<ErrCode> {
        self.errcode().and_then(ErrCode::from_code)
    }

    /// Whether the token was refused (40014, 42001): a fresh token may succeed.
    pub fn is_token_error(&self) -> bool {
        matches!(
            self.errcode(),
            Some(codes::INVALID_ACCESS_TOKEN | codes::ACCESS_TOKEN_EXPIRED)
        )
    }

    /// Whether the same call may succeed later: WeCom busy or rate-limited (-1, 45009, 45033),
    /// or the network failed.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Api { errcode, .. } => matches!(
                *errcode,
                codes::SYSTEM_BUSY
                    | codes::API_FREQ_OUT_OF_LIMIT
                    | codes::API_CONCURRENT_OUT_OF_LIMIT
            ),
            // A request that could not even be built (a malformed URL) fails the same way again.
            Error::Transport { source, .. } => !source.is_builder(),
            // A server error page (a restarting proxy, a 502) is worth another try.
            Error::Decode { status, .. } => *status >= 500,
            Error::Config(_) | Error::File { .. } => false,
        }
    }
}

/// A `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_named_codes_are_wecoms_numbers() {
        // WeCom's numbers, written out: the wire table is where they come from, this is what
        // they must be.
        assert_eq!(
            [
                codes::SYSTEM_BUSY,
                codes::INVALID_CREDENTIAL,
                codes::INVALID_CORPID,
                codes::INVALID_ACCESS_TOKEN,
                codes::INVALID_PARAMETER,
                codes::PARAMETER_MISSING,
                codes::ACCESS_TOKEN_MISSING,
                codes::ACCESS_TOKEN_EXPIRED,
                codes::API_FREQ_OUT_OF_LIMIT,
                codes::API_CONCURRENT_OUT_OF_LIMIT,
                codes::API_FORBIDDEN,
                codes::USERID_NOT_FOUND,
            ],
            [
                -1, 40001, 40013, 40014, 40058, 40063, 41001, 42001, 45009, 45033, 48002, 60111
            ]
        );
    }

    #[test]
    fn errors_classify() {
        let api = |errcode| Error::Api {
            errcode,
            errmsg: String::new(),
        };
        assert!(api(42001).is_token_error() && api(40014).is_token_error());
        assert!(!api(40058).is_token_error());
        assert!(api(-1).is_transient() && api(45009).is_transient() && api(45033).is_transient());
        assert!(!api(48002).is_transient());
        assert_eq!(api(48002).code(), Some(ErrCode::ApiForbidden));
    }
}
