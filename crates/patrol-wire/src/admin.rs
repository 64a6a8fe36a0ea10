//! The JSON of patrol's administration API (docs/admin-api.md): request bodies and answers,
//! shared by the server, `patrol admin` and any other client of the API.
//!
//! Request bodies refuse unknown fields, so that a misspelt field is an error rather than a
//! silently ignored one.

use serde::{Deserialize, Deserializer, Serialize};

/// The error answer: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}

/// `POST /admin/v1/clock`: exactly one of its fields (`freeze` and `release` only as `true`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockChange {
    /// The time to set, in Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<i64>,
    /// Seconds to move the clock by (back when negative).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advance: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freeze: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<bool>,
}

/// The server's clock: `{"now": 1767196800, "mode": "frozen", "offset": -3600}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockView {
    /// The time the server reads, in Unix seconds.
    pub now: i64,
    /// `real`, `offset` (moved, running) or `frozen` (standing still).
    pub mode: String,
    /// `now` minus the system's time, in seconds.
    pub offset: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateCorp {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corpid: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorpView {
    pub corpid: String,
    pub name: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CorpList {
    pub corps: Vec<CorpView>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateApp {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agentid: Option<i64>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patrol_enabled: Option<bool>,
    /// On 「居民上报 - 可调用接口的应用」 (`report/resident/*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resident_enabled: Option<bool>,
    /// On 「居民联系 - 可调用接口的应用」 (`report/grid/*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateApp {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patrol_enabled: Option<bool>,
    /// On 「居民上报 - 可调用接口的应用」 (`report/resident/*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resident_enabled: Option<bool>,
    /// On 「居民联系 - 可调用接口的应用」 (`report/grid/*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppView {
    pub agentid: i64,
    pub name: String,
    pub kind: String,
    pub patrol_enabled: bool,
    #[serde(default)]
    pub resident_enabled: bool,
    #[serde(default)]
    pub contact_enabled: bool,
    pub enabled: bool,
    /// Only in the answer that creates or rotates the secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppList {
    pub apps: Vec<AppView>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub userid: String,
    pub name: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub userid: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserList {
    pub users: Vec<UserView>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateGrid {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid_id: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    pub admins: Vec<String>,
    #[serde(default)]
    pub members: Vec<String>,
}

/// `null` and absent differ here: `"parent_id": null` makes the grid a root.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateGrid {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub parent_id: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admins: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<String>>,
}

/// A field that is present, possibly as `null`.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridView {
    pub grid_id: String,
    pub name: String,
    pub parent_id: Option<String>,
    pub admins: Vec<String>,
    pub members: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GridList {
    pub grids: Vec<GridView>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateCategory {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_id: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateCategory {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryView {
    pub category_id: String,
    pub name: String,
    pub level: i64,
    pub parent_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CategoryList {
    pub categories: Vec<CategoryView>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationBody {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub latitude: f64,
    #[serde(default)]
    pub longitude: f64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportOrder {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urge_type: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_id: Option<String>,
    pub grid_id: String,
    #[serde(default)]
    pub location: LocationBody,
    pub reporter: String,
    #[serde(default)]
    pub image_urls: Vec<String>,
    /// Images uploaded through `media/upload` (type image) in the corp: each becomes an image
    /// URL served by patrol, after `image_urls`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_media_ids: Vec<String>,
    #[serde(default)]
    pub video_media_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<i64>,
    /// Present: a resident order (居民上报), reported by this resident and entered by
    /// `reporter`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resident: Option<ResidentBody>,
}

/// The resident who reported a resident order; each field may be left out (`""`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResidentBody {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub mobile: String,
    #[serde(default)]
    pub unionid: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderAction {
    /// `accept`, `assign`, `transfer`, `start`, `finish` or `reject`.
    pub action: String,
    pub actor: String,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<String>>,
    #[serde(default)]
    pub image_urls: Vec<String>,
    /// Images uploaded through `media/upload` (type image) in the corp: each becomes an image
    /// URL served by patrol, after `image_urls`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_media_ids: Vec<String>,
    #[serde(default)]
    pub video_media_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<i64>,
}
