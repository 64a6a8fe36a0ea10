//! The client's errors: WeCom's own (`Api`), the network's (`Transport`), and answers that are
//! not what WeCom documents (`Decode`).

use patrol_wire::ErrCode;

/// Named WeCom error codes, for matching on [`Error::Api`].
pub mod codes {
    /// System busy: retried with backoff.
    pub const SYSTEM_BUSY: i64 = -1;
    /// Wrong secret, or the app is disabled.
    pub const INVALID_CREDENTIAL: i64 = 40001;
    /// Unknown corpid.
    pub const INVALID_CORPID: i64 = 40013;
    /// The token was never issued, or was revoked: the token is refreshed once.
    pub const INVALID_ACCESS_TOKEN: i64 = 40014;
    /// A bad parameter: broken JSON, a wrong type, an invalid limit, cursor or order id.
    pub const INVALID_PARAMETER: i64 = 40058;
    /// A required parameter is missing.
    pub const PARAMETER_MISSING: i64 = 40063;
    /// No access token in the query string.
    pub const ACCESS_TOKEN_MISSING: i64 = 41001;
    /// The token expired: the token is refreshed once.
    pub const ACCESS_TOKEN_EXPIRED: i64 = 42001;
    /// Too many calls: retried with backoff.
    pub const API_FREQ_OUT_OF_LIMIT: i64 = 45009;
    /// Too many concurrent calls: retried with backoff.
    pub const API_CONCURRENT_OUT_OF_LIMIT: i64 = 45033;
    /// The app may not call this API (not enabled for patrol, or a system app of a new corp).
    pub const API_FORBIDDEN: i64 = 48002;
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
            Error::Config(_) => false,
        }
    }
}

/// A `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_named_codes_agree_with_the_wire_table() {
        for (name, code) in [
            (codes::SYSTEM_BUSY, ErrCode::SystemBusy),
            (codes::INVALID_CREDENTIAL, ErrCode::InvalidCredential),
            (codes::INVALID_CORPID, ErrCode::InvalidCorpId),
            (codes::INVALID_ACCESS_TOKEN, ErrCode::InvalidAccessToken),
            (codes::INVALID_PARAMETER, ErrCode::InvalidParameter),
            (codes::PARAMETER_MISSING, ErrCode::ParameterMissing),
            (codes::ACCESS_TOKEN_MISSING, ErrCode::AccessTokenMissing),
            (codes::ACCESS_TOKEN_EXPIRED, ErrCode::AccessTokenExpired),
            (codes::API_FREQ_OUT_OF_LIMIT, ErrCode::ApiFreqOutOfLimit),
            (
                codes::API_CONCURRENT_OUT_OF_LIMIT,
                ErrCode::ApiConcurrentOutOfLimit,
            ),
            (codes::API_FORBIDDEN, ErrCode::ApiForbidden),
        ] {
            assert_eq!(name, code.code());
        }
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
