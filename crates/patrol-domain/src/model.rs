//! The things of the domain: corps, apps, users, grids, categories and orders, as every store
//! backend takes and returns them. None of these types is serialized to the wire; an order's wire
//! JSON is made by [`crate::OrderState::render`] only.
//!
//! The id of a thing to create is a validated newtype ([`CorpId`], [`UserId`], …): nothing
//! ill-formed is ever stored. A reference to something that exists (a grid's parent, an order's
//! grid, an actor) stays text: it is checked by looking it up, and an ill-formed one is simply
//! unknown.

use std::fmt;

use crate::{AgentId, CategoryId, CorpId, GridId, OrderId, UserId};

/// A tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corp {
    /// The store's internal key; never leaves the server.
    pub key: i64,
    pub corpid: String,
    pub name: String,
    /// Unix seconds. Decides whether a system app may call the patrol API (before 2023-12-01).
    pub created_at: i64,
}

/// A corp to create.
#[derive(Debug, Clone)]
pub struct NewCorp {
    pub corpid: CorpId,
    pub name: String,
    pub created_at: i64,
}

/// What kind of application an app is; decides what it may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppKind {
    /// A self-built app (自建应用).
    Custom,
    /// The built-in patrol app's own secret (系统应用).
    System,
    /// A third-party app (第三方应用).
    ThirdParty,
    /// A provider-developed app (代开发应用).
    Provider,
}

impl AppKind {
    pub const ALL: [AppKind; 4] = [
        AppKind::Custom,
        AppKind::System,
        AppKind::ThirdParty,
        AppKind::Provider,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AppKind::Custom => "custom",
            AppKind::System => "system",
            AppKind::ThirdParty => "third_party",
            AppKind::Provider => "provider",
        }
    }

    pub fn parse(text: &str) -> Option<AppKind> {
        AppKind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

impl fmt::Display for AppKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An app to create. The secret is hashed by the store and never stored.
#[derive(Clone)]
pub struct NewApp {
    /// `None` takes the next free agentid from [`crate::limits::FIRST_AGENTID`].
    pub agentid: Option<AgentId>,
    pub name: String,
    pub kind: AppKind,
    pub patrol_enabled: bool,
    pub resident_enabled: bool,
    pub contact_enabled: bool,
    pub enabled: bool,
    pub secret: String,
    /// Unix seconds.
    pub created_at: i64,
}

impl fmt::Debug for NewApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewApp")
            .field("agentid", &self.agentid)
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("patrol_enabled", &self.patrol_enabled)
            .field("resident_enabled", &self.resident_enabled)
            .field("contact_enabled", &self.contact_enabled)
            .field("enabled", &self.enabled)
            .field("secret", &"<redacted>")
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// An app as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub key: i64,
    pub corp_key: i64,
    pub agentid: i64,
    pub name: String,
    pub kind: AppKind,
    /// On 「巡查上报 - 可调用接口的应用」: may call `report/patrol/*`.
    pub patrol_enabled: bool,
    /// On 「居民上报 - 可调用接口的应用」: may call `report/resident/*`.
    pub resident_enabled: bool,
    /// On 「居民联系 - 可调用接口的应用」: may call `report/grid/*`.
    pub contact_enabled: bool,
    pub enabled: bool,
}

/// The app a valid token belongs to, with what the permission check needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub corp_key: i64,
    pub corp_created_at: i64,
    pub app_key: i64,
    pub agentid: i64,
    pub kind: AppKind,
    pub patrol_enabled: bool,
    pub resident_enabled: bool,
    pub contact_enabled: bool,
}

/// What a token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenStatus {
    Valid(Caller),
    /// Issued, but its lifetime is over (42001).
    Expired,
    /// Never issued, or its app is gone or disabled (40014).
    Unknown,
}

/// The answer to a `gettoken`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenGrant {
    /// The app's live token: the one already issued, or a new one.
    Granted {
        token: String,
        expires_at: i64,
    },
    UnknownCorp,
    /// The secret matches no enabled app of the corp.
    BadSecret,
}

/// A member of a corp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub userid: UserId,
    pub name: String,
}

/// A grid to create. Admins and members are userids, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGrid {
    pub grid_id: GridId,
    pub name: String,
    /// The parent's `grid_id`; `None` for a root.
    pub parent: Option<String>,
    pub admins: Vec<String>,
    pub members: Vec<String>,
}

/// An event category to create: level 1 without a parent, level 2 under a level-1 parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCategory {
    pub category_id: CategoryId,
    pub name: String,
    pub parent: Option<String>,
}

/// Changes to a category (`update_cata`); `None` leaves a field as it is. Where it moves is
/// [`crate::limits::category_parent`]'s: `level` 1 makes it a level-1 category, `parent` (with
/// `level` 2 or alone) puts it under that level-1 category.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CategoryPatch {
    pub name: Option<String>,
    pub level: Option<i64>,
    pub parent: Option<String>,
}

/// Urgency of an incident (`urge_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    Normal = 1,
    Important = 2,
    Urgent = 3,
}

impl Urgency {
    pub const ALL: [Urgency; 3] = [Urgency::Normal, Urgency::Important, Urgency::Urgent];

    pub fn from_wire(value: i64) -> Option<Urgency> {
        Urgency::ALL.into_iter().find(|u| *u as i64 == value)
    }
}

/// The kind of a step (`process_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProcessType {
    Create = 1,
    Accept = 2,
    Assign = 3,
    Transfer = 4,
    Done = 5,
    Reject = 6,
    InProgress = 7,
}

impl ProcessType {
    pub const ALL: [ProcessType; 7] = [
        ProcessType::Create,
        ProcessType::Accept,
        ProcessType::Assign,
        ProcessType::Transfer,
        ProcessType::Done,
        ProcessType::Reject,
        ProcessType::InProgress,
    ];

    pub fn from_wire(value: i64) -> Option<ProcessType> {
        ProcessType::ALL.into_iter().find(|p| *p as i64 == value)
    }
}

/// Where an incident happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    pub name: String,
    pub address: String,
    pub latitude: f64,
    pub longitude: f64,
}

/// Pictures and videos attached to a report or a step.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Media {
    pub image_urls: Vec<String>,
    pub video_media_ids: Vec<String>,
}

/// The two families of reports: 巡查上报 (members on patrol) and 居民上报 (residents). Each has
/// its own orders, walk, cursors and statistics over the same grids, categories and workflow
/// (decisions.md, "The resident family").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Family {
    #[default]
    Patrol,
    Resident,
}

impl Family {
    /// How a store writes the family: 0 patrol, 1 resident.
    pub fn code(self) -> i64 {
        match self {
            Family::Patrol => 0,
            Family::Resident => 1,
        }
    }

    pub fn from_code(code: i64) -> Option<Family> {
        match code {
            0 => Some(Family::Patrol),
            1 => Some(Family::Resident),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Family::Patrol => "patrol",
            Family::Resident => "resident",
        }
    }
}

/// The resident who reported a resident order (居民上报); each field `""` when unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resident {
    pub name: String,
    pub mobile: String,
    /// The resident's WeChat unionid.
    pub unionid: String,
}

/// An incident to report.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOrder {
    pub order_id: OrderId,
    pub description: String,
    pub urgency: Urgency,
    /// A category's `category_id`; `None` reports without a category (`case_name` `""`).
    pub category: Option<String>,
    pub grid: String,
    pub location: Location,
    /// The reporting user's userid.
    pub reporter: String,
    pub media: Media,
    /// Unix seconds.
    pub create_time: i64,
    /// Actions taken on the order after it was reported, oldest first.
    pub actions: Vec<Action>,
    /// `Some` makes a resident order (居民上报), reported by this resident; `reporter` is then
    /// the member who entered it.
    pub resident: Option<Resident>,
}

/// What a handler does to an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionKind {
    Accept,
    Assign(Vec<String>),
    Transfer(Vec<String>),
    StartWork,
    Finish,
    Reject,
}

impl ActionKind {
    pub fn process_type(&self) -> ProcessType {
        match self {
            ActionKind::Accept => ProcessType::Accept,
            ActionKind::Assign(_) => ProcessType::Assign,
            ActionKind::Transfer(_) => ProcessType::Transfer,
            ActionKind::StartWork => ProcessType::InProgress,
            ActionKind::Finish => ProcessType::Done,
            ActionKind::Reject => ProcessType::Reject,
        }
    }
}

/// One action on an order by one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub kind: ActionKind,
    pub actor: String,
    pub description: String,
    pub media: Media,
    /// Unix seconds; never before the order's last step.
    pub time: i64,
}

/// Where a walk over `get_order_list` stands: the sort key of the last order it returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// Create-ordered walk: `(create_time, creation sequence)`.
    Created { create_time: i64, seq: i64 },
    /// Modify-ordered walk: the modification sequence.
    Modified { mod_seq: i64 },
}

/// One page request of `get_order_list`, already validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// Whose orders: `get_order_list` of `report/patrol/` or of `report/resident/`.
    pub family: Family,
    /// 0 means no filter.
    pub begin_create_time: i64,
    /// 0 means no filter; otherwise the walk is modify-ordered.
    pub begin_modify_time: i64,
    /// Start after this position; `None` for the first page.
    pub after: Option<Position>,
    /// How many orders to return at most (one more is read to tell whether more follow).
    pub limit: u32,
    /// Make served image URLs absolute under this public URL as the page is put together
    /// (`media::resolve_into`); `None` returns the orders as stored.
    pub public_url: Option<std::sync::Arc<str>>,
}

impl ListQuery {
    pub fn modify_ordered(&self) -> bool {
        self.begin_modify_time != 0
    }
}

/// What the administration API's list of a corp's orders keeps (`GET /admin/v1/corps/{corpid}/
/// orders`), already validated; every filter given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderFilter {
    /// The stages an order may stand at; empty: any.
    pub stages: Vec<crate::Stage>,
    /// A grid's `grid_id`: orders reported in that grid (not in the grids under it).
    pub grid: Option<String>,
    /// A category's `category_id`: orders of that category (not of its children).
    pub category: Option<String>,
    pub urgency: Option<Urgency>,
    /// Orders created at or after this time (Unix seconds).
    pub since: Option<i64>,
    /// Orders created before this time (Unix seconds).
    pub until: Option<i64>,
}

/// One page of the administration API's list of a corp's orders, of both families, newest
/// first: by `create_time` then creation sequence, both descending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorpOrdersQuery {
    pub filter: OrderFilter,
    /// Start after (below) this position, a [`Position::Created`]; `None` for the first page.
    pub after: Option<Position>,
    /// How many orders to return at most.
    pub limit: u32,
    /// As [`ListQuery::public_url`].
    pub public_url: Option<std::sync::Arc<str>>,
}

/// One page of a walk: the orders' wire JSON joined by commas, which is the inside of the JSON
/// array `order_list`, read straight from the database into one buffer (UTF-8, as the store
/// wrote it; bytes, because checking 50 bodies again for UTF-8 on every page costs more than
/// the rest of the read).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListedPage {
    pub json: Vec<u8>,
    /// Each order's position in the walk and where its JSON is in `json`.
    pub orders: Vec<(Position, std::ops::Range<usize>)>,
    /// Whether more orders follow this page.
    pub more: bool,
}

impl ListedPage {
    /// Each order's wire JSON, in order.
    pub fn bodies(&self) -> impl Iterator<Item = &[u8]> {
        self.orders
            .iter()
            .map(|(_, range)| &self.json[range.clone()])
    }

    /// The position of the page's last order: where the next page starts.
    pub fn last_position(&self) -> Option<Position> {
        self.orders.last().map(|(position, _)| *position)
    }
}

/// A member of a corp, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub userid: String,
    pub name: String,
}

/// A grid, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grid {
    pub grid_id: String,
    pub name: String,
    pub parent: Option<String>,
    pub admins: Vec<String>,
    pub members: Vec<String>,
}

/// Changes to a grid; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GridPatch {
    pub name: Option<String>,
    /// `Some(None)` makes the grid a root.
    pub parent: Option<Option<String>>,
    pub admins: Option<Vec<String>>,
    pub members: Option<Vec<String>>,
}

/// An event category, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    pub category_id: String,
    pub name: String,
    pub level: i64,
    pub parent: Option<String>,
}

/// Changes to a corp; `None` leaves a field as it is. Its corpid never changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorpPatch {
    pub name: Option<String>,
    pub created_at: Option<i64>,
}

/// Changes to an app; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppPatch {
    pub name: Option<String>,
    pub kind: Option<AppKind>,
    pub patrol_enabled: Option<bool>,
    pub resident_enabled: Option<bool>,
    pub contact_enabled: Option<bool>,
    pub enabled: Option<bool>,
}
