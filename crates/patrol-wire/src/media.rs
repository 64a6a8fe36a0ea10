//! `POST /cgi-bin/media/upload?type=TYPE` and `GET /cgi-bin/media/get?media_id=ID`.

use serde::{Deserialize, Serialize};

/// The successful answer of `media/upload`; `media/get` answers the file's bytes.
///
/// ```json
/// {"errcode":0,"errmsg":"ok","type":"image","media_id":"3a8…","created_at":"1380000000"}
/// ```
///
/// `created_at` is a string of Unix seconds, as WeCom sends it (and as SDKs expect it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadResponse {
    #[serde(default, deserialize_with = "crate::lenient::int")]
    pub errcode: i64,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub errmsg: String,
    #[serde(rename = "type", deserialize_with = "crate::lenient::string")]
    pub media_type: String,
    #[serde(deserialize_with = "crate::lenient::string")]
    pub media_id: String,
    #[serde(deserialize_with = "crate::lenient::string")]
    pub created_at: String,
}
