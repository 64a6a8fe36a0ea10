//! The JSON of patrol's administration API (docs/admin-api.md): request bodies and answers,
//! shared by the server, `patrol admin` and any other client of the API.
//!
//! Request bodies refuse unknown fields, so that a misspelt field is an error rather than a
//! silently ignored one.

use serde::{Deserialize, Deserializer, Serialize};

/// The error answer: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}

/// `POST /admin/v1/clock`: exactly one of its fields (`freeze` and `release` only as `true`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClockView {
    /// The time the server reads, in Unix seconds.
    pub now: i64,
    /// `real`, `offset` (moved, running) or `frozen` (standing still).
    pub mode: String,
    /// `now` minus the system's time, in seconds.
    pub offset: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateCorp {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9_-]{1,64}$"))]
    pub corpid: Option<String>,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 64, pattern = "\\S")
    )]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 946_684_800))]
    pub created_at: Option<i64>,
}

/// `PATCH /admin/v1/corps/{corpid}`: any of the fields; the corpid never changes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateCorp {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<i64>,
}

/// A page of `GET /admin/v1/corps/{corpid}/orders`: the orders (each as
/// `GET /admin/v1/corps/{corpid}/orders/{order_id}` answers it), newest first, and the cursor of
/// the next page (`null` after the last).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderPage<T> {
    pub orders: Vec<T>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CorpView {
    pub corpid: String,
    pub name: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CorpList {
    pub corps: Vec<CorpView>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateApp {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 2_147_483_647))]
    pub agentid: Option<i64>,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 64, pattern = "\\S")
    )]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateApp {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 64, pattern = "\\S")
    )]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppList {
    pub apps: Vec<AppView>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
    )]
    pub userid: String,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 64, pattern = "\\S")
    )]
    pub name: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 64, pattern = "\\S")
    )]
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserView {
    pub userid: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserList {
    pub users: Vec<UserView>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateGrid {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9_-]{1,64}$"))]
    pub grid_id: Option<String>,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 30, pattern = "\\S")
    )]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9_-]{1,64}$"))]
    pub parent_id: Option<String>,
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 20))]
    pub admins: Vec<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 100))]
    pub members: Vec<String>,
}

/// `null` and absent differ here: `"parent_id": null` makes the grid a root.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateGrid {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 30, pattern = "\\S")
    )]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub parent_id: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 20))]
    pub admins: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_items = 100))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GridView {
    pub grid_id: String,
    pub name: String,
    pub parent_id: Option<String>,
    pub admins: Vec<String>,
    pub members: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GridList {
    pub grids: Vec<GridView>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateCategory {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9_-]{1,64}$"))]
    pub category_id: Option<String>,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 30, pattern = "\\S")
    )]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9_-]{1,64}$"))]
    pub parent_id: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateCategory {
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 30, pattern = "\\S")
    )]
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryView {
    pub category_id: String,
    pub name: String,
    pub level: i64,
    pub parent_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryList {
    pub categories: Vec<CategoryView>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LocationBody {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub name: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub address: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = -90, maximum = 90))]
    pub latitude: f64,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = -180, maximum = 180))]
    pub longitude: f64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReportOrder {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9_-]{1,64}$"))]
    pub order_id: Option<String>,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 2000))]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 3))]
    pub urge_type: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9_-]{1,64}$"))]
    pub category_id: Option<String>,
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9_-]{1,64}$"))]
    pub grid_id: String,
    #[serde(default)]
    pub location: LocationBody,
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
    )]
    pub reporter: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 9))]
    pub image_urls: Vec<String>,
    /// Images uploaded through `media/upload` (type image) in the corp: each becomes an image
    /// URL served by patrol, after `image_urls`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_media_ids: Vec<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 9))]
    pub video_media_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 946_684_800))]
    pub time: Option<i64>,
    /// Present: a resident order (居民上报), reported by this resident and entered by
    /// `reporter`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resident: Option<ResidentBody>,
}

/// The resident who reported a resident order; each field may be left out (`""`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OrderAction {
    /// `accept`, `assign`, `transfer`, `start`, `finish` or `reject`.
    pub action: String,
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
    )]
    pub actor: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_items = 100))]
    pub users: Option<Vec<String>>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 9))]
    pub image_urls: Vec<String>,
    /// Images uploaded through `media/upload` (type image) in the corp: each becomes an image
    /// URL served by patrol, after `image_urls`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_media_ids: Vec<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 9))]
    pub video_media_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 946_684_800))]
    pub time: Option<i64>,
}

/// A fault rule: which calls it matches, when it fires, and what it does to them
/// (docs/admin-api.md, "Faults"). `POST /admin/v1/faults` takes one; a faults file
/// (`patrol serve --faults FILE`) and `PUT /admin/v1/faults` take a [`FaultSet`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// A glob on the request's path: `*` any run of characters (`/` included), `?` one,
    /// `[...]` one of a set. `/cgi-bin/*` when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The HTTP method (`GET`, `POST`); any when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Only calls of this corp: by its token, or gettoken's `corpid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corpid: Option<String>,
    /// Only calls made with a token of this app (never gettoken, which names no app).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agentid: Option<i64>,
    /// Let this many matching calls through before the rule can fire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip: Option<u64>,
    /// Fire on at most this many calls, then expire. Unlimited when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
    /// The chance that a matching call is hit, above 0 and at most 1 (1 when not given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// The seed of the rule's random draws (the probability, random delays): the same calls
    /// meet the same faults. The rule's id when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The rule sleeps until this time on the server's clock (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<i64>,
    /// The rule expires at this time on the server's clock (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<i64>,
    /// The rule expires this many seconds after it is added, on the server's clock (the
    /// server answers it as `until`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<i64>,
    /// What the rule does to a call it hits.
    pub action: FaultAction,
}

/// What a fault does to a call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FaultAction {
    /// Answer WeCom's envelope with this errcode (HTTP 200), without running the call:
    /// `{"errcode": -1}`.
    Errcode(i64),
    /// Answer this HTTP status with an empty body, without running the call: `{"status": 502}`.
    Status(u16),
    /// Run the call after a pause: `{"delay": {"distribution": "fixed", "ms": 300}}`.
    Delay(FaultDelay),
    /// Reset the connection (TCP RST) without running the call: `"reset"`.
    Reset,
    /// Run the call, then send the head and only the first half of the body, and close the
    /// connection: `"truncate"`.
    Truncate,
    /// Run the call, then send the body in pieces of `bytes` every `every_ms` (chunked
    /// transfer): `{"chunks": {"bytes": 16, "every_ms": 100}}`.
    Chunks { bytes: u32, every_ms: u64 },
}

/// The pause of a delay fault, in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "distribution", rename_all = "snake_case")]
pub enum FaultDelay {
    /// Always `ms`.
    Fixed { ms: u64 },
    /// Uniform between `min_ms` and `max_ms`, both included.
    Uniform { min_ms: u64, max_ms: u64 },
    /// Log-normal: half the pauses under `median_ms`; `sigma` the spread of its logarithm
    /// (0.5: most pauses within 0.4× to 2.7× the median).
    Lognormal { median_ms: u64, sigma: f64 },
}

/// A set of fault rules: a faults file, and `PUT /admin/v1/faults` (which replaces every rule).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FaultSet {
    pub faults: Vec<FaultRule>,
}

/// A rule held by the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FaultView {
    /// Increasing from 1 in this server process.
    pub id: u64,
    /// The rule as added, `expires_in` answered as `until` and `seed` filled in.
    pub rule: FaultRule,
    /// Calls that matched it (path, method, corp, app, time window).
    pub matched: u64,
    /// Calls it hit.
    pub applied: u64,
    /// Hits left before it expires (`times` minus `applied`); `null`: unlimited.
    pub remaining: Option<u64>,
}

/// `GET /admin/v1/faults`: the rules in force, in the order they are tried.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FaultList {
    pub faults: Vec<FaultView>,
    /// Faults applied since the server started, by every rule (expired and removed ones too).
    pub applied_total: u64,
}
