//! `GET /cgi-bin/gettoken?corpid=ID&corpsecret=SECRET`.

use serde::{Deserialize, Serialize};

/// The successful answer of `gettoken`.
///
/// ```json
/// {"errcode":0,"errmsg":"ok","access_token":"...","expires_in":7200}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GetTokenResponse {
    #[serde(default, deserialize_with = "crate::lenient::int")]
    pub errcode: i64,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub errmsg: String,
    /// The token, at most 512 bytes.
    #[serde(deserialize_with = "crate::lenient::string")]
    pub access_token: String,
    /// Seconds until the token expires.
    #[serde(deserialize_with = "crate::lenient::int")]
    pub expires_in: i64,
}
