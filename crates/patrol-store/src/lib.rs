//! patrol's store boundary: the traits every backend implements, split by area ([`TokenStore`],
//! [`DirectoryStore`], [`OrderStore`]; [`Store`] is all of them), the one error type
//! [`StoreError`], free of driver types, and [`TokenCache`], which any backend can put in front
//! of its token lookups.
//!
//! A backend only stores and loads: the rules (WeCom's limits, the workflow, the wire rendering of
//! an order) are `patrol_domain`'s, and the backend calls them inside its write transaction.
//! With the feature `story`, `patrol_store::story` is the sequence of calls and expectations
//! every backend must pass.

pub mod credentials;
mod error;
mod options;
#[cfg(feature = "story")]
pub mod story;
mod token_cache;
pub mod transfer;

use patrol_domain::stats::{CategoryRow, CorpStatus, Day, UserStatus};
use patrol_domain::{
    Action, App, AppPatch, Category, CategoryPatch, Corp, CorpOrdersQuery, CorpPatch, Family, Grid,
    GridPatch, ListQuery, ListedPage, NewApp, NewCategory, NewCorp, NewGrid, NewOrder, NewUser,
    TokenGrant, TokenStatus, User,
};

pub use error::{BoxError, Clash, ConstraintKind, Result, StoreError};
pub use options::{Durability, OpenOptions, redacted_url};
use patrol_domain::media::MediaFile;
pub use token_cache::TokenCache;
pub use transfer::TransferStore;

/// Credentials: access tokens and the server's secrets.
#[async_trait::async_trait]
pub trait TokenStore: Send + Sync {
    /// The server's secret for signing cursors: 32 random bytes made once per database, so that
    /// cursors survive restarts and are shared by every server on the same database.
    async fn cursor_secret(&self) -> Result<[u8; 32]>;

    /// `gettoken`: the live token of the app whose secret this is, or a new one derived from
    /// the secret and `nonce` ([`credentials::token_for`]) when the app has none. Only keyed
    /// hashes of tokens are stored ([`credentials`]). Expired tokens of the app older than
    /// [`EXPIRED_TOKEN_RETENTION`] are deleted when a new one is issued.
    async fn grant_token(
        &self,
        corpid: &str,
        secret: &str,
        now: i64,
        ttl: i64,
        nonce: [u8; 32],
    ) -> Result<TokenGrant>;

    /// What a token is at `now`: an expired token is [`TokenStatus::Expired`] (42001) for
    /// [`EXPIRED_TOKEN_RETENTION`] after it expired, then [`TokenStatus::Unknown`] (40014).
    async fn authenticate(&self, token: &str, now: i64) -> Result<TokenStatus>;
}

/// How long an expired token is remembered (42001 rather than 40014), in seconds: 7 days.
pub const EXPIRED_TOKEN_RETENTION: i64 = 7 * 24 * 3600;

/// The directory of each corp: the corp, its apps, users, grids and categories, within WeCom's
/// limits (`patrol_domain::limits`).
#[async_trait::async_trait]
pub trait DirectoryStore: Send + Sync {
    async fn create_corp(&self, corp: NewCorp) -> Result<Corp>;
    /// Creates a corp with everything it starts with ([`CorpSetup`]) in one transaction:
    /// afterwards the corp is there whole, or (an error, a kill, a power cut) not at all. Each
    /// part passes the checks of its own `create_*`; [`StoreError::Conflict`] when the corp
    /// exists.
    async fn create_corp_with(&self, setup: CorpSetup) -> Result<Corp>;
    async fn corp(&self, corpid: &str) -> Result<Option<Corp>>;
    async fn list_corps(&self) -> Result<Vec<Corp>>;
    /// Renames a corp or changes its creation time (checked as `limits` checks a new corp's);
    /// the token cache forgets the corp's callers, who carry its creation time.
    async fn update_corp(&self, corp_key: i64, patch: CorpPatch) -> Result<Corp>;

    /// Creates an app; an `agentid` of 0 takes the next free one from
    /// [`patrol_domain::limits::FIRST_AGENTID`].
    async fn create_app(&self, corp_key: i64, app: NewApp) -> Result<App>;
    async fn list_apps(&self, corp_key: i64) -> Result<Vec<App>>;
    async fn update_app(&self, corp_key: i64, agentid: i64, patch: AppPatch) -> Result<App>;
    /// Replaces an app's secret and revokes its tokens.
    async fn set_app_secret(&self, corp_key: i64, agentid: i64, secret: &str) -> Result<App>;
    /// Deletes an app and its tokens.
    async fn delete_app(&self, corp_key: i64, agentid: i64) -> Result<()>;

    async fn create_user(&self, corp_key: i64, user: NewUser) -> Result<()>;
    async fn list_users(&self, corp_key: i64) -> Result<Vec<User>>;
    async fn update_user(&self, corp_key: i64, userid: &str, name: &str) -> Result<User>;
    /// Deletes a user that is no admin or member of a grid nor a current processor of an open
    /// order (checked in the write's transaction).
    async fn delete_user(&self, corp_key: i64, userid: &str) -> Result<()>;

    /// Creates a grid within WeCom's limits (names, depth, admins, members, the grids a user
    /// manages).
    async fn create_grid(&self, corp_key: i64, grid: NewGrid) -> Result<()>;
    async fn grid(&self, corp_key: i64, grid_id: &str) -> Result<Option<Grid>>;
    /// Every grid, parents before children.
    async fn list_grids(&self, corp_key: i64) -> Result<Vec<Grid>>;
    /// Changes a grid within the same limits. Orders keep the grid name they were reported
    /// under.
    async fn update_grid(&self, corp_key: i64, grid_id: &str, patch: GridPatch) -> Result<Grid>;
    /// Deletes a grid without members, child grids or orders.
    async fn delete_grid(&self, corp_key: i64, grid_id: &str) -> Result<()>;

    async fn create_category(&self, corp_key: i64, category: NewCategory) -> Result<()>;
    /// Every category, each level-1 category followed by its children.
    async fn list_categories(&self, corp_key: i64) -> Result<Vec<Category>>;
    /// Renames a category. Orders keep the name they were reported under.
    async fn rename_category(&self, corp_key: i64, category_id: &str, name: &str) -> Result<()>;
    /// Deletes a category without children or orders.
    async fn delete_category(&self, corp_key: i64, category_id: &str) -> Result<()>;

    /// Which of `userids` are no user of the corp, in the order given.
    async fn missing_users(&self, corp_key: i64, userids: Vec<String>) -> Result<Vec<String>>;
    /// Renames and moves a category within the two levels
    /// ([`patrol_domain::limits::category_parent`]): a category with children stays at level 1.
    /// Orders keep the name they were reported under.
    async fn update_category(
        &self,
        corp_key: i64,
        category_id: &str,
        patch: CategoryPatch,
    ) -> Result<Category>;
}

/// A corp to create with its first apps, users, grids, categories and orders, all or nothing
/// ([`DirectoryStore::create_corp_with`]): the demo corp is installed so, and a kill during
/// its installation leaves no half of it.
#[derive(Debug, Clone)]
pub struct CorpSetup {
    pub corp: NewCorp,
    pub apps: Vec<NewApp>,
    pub users: Vec<NewUser>,
    /// Parents before children.
    pub grids: Vec<NewGrid>,
    /// Each level-1 category before its children.
    pub categories: Vec<NewCategory>,
    /// Reported after the directory, as [`OrderStore::insert_orders`] reports them.
    pub orders: Vec<NewOrder>,
}

/// Orders: reporting, the workflow, and the two reads of WeCom's API.
#[async_trait::async_trait]
pub trait OrderStore: Send + Sync {
    /// Reports one order (with the actions in it) and returns its wire JSON.
    async fn report_order(&self, corp_key: i64, order: NewOrder) -> Result<String>;

    /// Reports orders, each with the actions taken on it since, all in one transaction.
    /// Every order takes the next modification sequence value of its corp, in the given order.
    async fn insert_orders(&self, corp_key: i64, orders: Vec<NewOrder>) -> Result<()>;

    /// Takes one action on an order (decisions.md, "The workflow"). Returns the order's new
    /// wire JSON. The order moves to the end of the modification sequence and its
    /// `modify_time` becomes the action's time when its JSON changed.
    async fn act_on_order(&self, corp_key: i64, order_id: &str, action: Action) -> Result<String>;

    /// One page of a corp's orders, in the walk's order.
    async fn list_orders(&self, corp_key: i64, query: ListQuery) -> Result<ListedPage>;
    /// One page of a corp's orders of both families that pass `query.filter`, newest first
    /// (the administration API's list). An unknown grid or category in the filter matches no
    /// order.
    async fn list_corp_orders(&self, corp_key: i64, query: CorpOrdersQuery) -> Result<ListedPage>;
    /// The wire JSON of one order of the corp (UTF-8 bytes, as the store wrote them), of the
    /// given family only (an order of the other family is `None`), or of either.
    async fn order_body(
        &self,
        corp_key: i64,
        family: Option<Family>,
        order_id: &str,
    ) -> Result<Option<Vec<u8>>>;

    /// `get_corp_status`: the counts of the family's orders of the corp, or of grid `grid_id`
    /// and every grid under it (`patrol_domain::stats`); `today` is the calendar day of the
    /// corp's time zone. `None` when the corp has no grid `grid_id`. Reflects every committed
    /// write, without reading every order.
    async fn corp_status(
        &self,
        corp_key: i64,
        family: Family,
        grid_id: Option<&str>,
        today: Day,
    ) -> Result<Option<CorpStatus>>;

    /// `get_user_status`: one member's counts; `None` when the corp has no such member.
    async fn user_status(
        &self,
        corp_key: i64,
        family: Family,
        userid: &str,
        today: Day,
    ) -> Result<Option<UserStatus>>;

    /// `category_statistic` (`patrol_domain::stats::category_rows`); `None` when the corp has
    /// no category `category_id`.
    async fn category_statistic(
        &self,
        corp_key: i64,
        family: Family,
        category_id: Option<&str>,
    ) -> Result<Option<Vec<CategoryRow>>>;

    /// The record of `patrol seed` run `run.seed` in the corp: the one already there, whatever
    /// `run` says, or else `run` recorded now with nothing landed.
    async fn begin_seed_run(&self, corp_key: i64, run: SeedRun) -> Result<SeedRun>;

    /// Inserts orders of a seed run (as [`OrderStore::insert_orders`]) and moves the run's
    /// `landed` from `from` to `from + orders.len()`, in one transaction: either both happen or
    /// neither. [`StoreError::Conflict`] when the run's `landed` is not `from`.
    async fn insert_seed_batch(
        &self,
        corp_key: i64,
        seed: u64,
        from: u64,
        orders: Vec<NewOrder>,
    ) -> Result<()>;
}

/// A run of `patrol seed` in a corp: what it was asked for, and how many of its orders (the
/// first `landed` of the generator's sequence) are in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedRun {
    pub seed: u64,
    pub orders: u64,
    pub anchor: i64,
    pub landed: u64,
}

/// What is kept of uploaded media (the bytes themselves are a `patrol_media` blob).
#[async_trait::async_trait]
pub trait MediaStore: Send + Sync {
    /// Keeps a medium of the corp; [`StoreError::Conflict`] when its id is taken.
    async fn create_media(&self, corp_key: i64, media: MediaFile) -> Result<()>;
    /// A medium of the corp, live or expired; `None` when the corp has none of this id.
    async fn media(&self, corp_key: i64, media_id: &str) -> Result<Option<MediaFile>>;
}

/// What a backend tells about its own health, for the server's `/readyz` and `/metrics`.
#[async_trait::async_trait]
pub trait HealthStore: Send + Sync {
    /// Asks the database a trivial query: the schema version it has, with the latest this build
    /// of patrol knows. Reaches the database every call (no cache), so a database that does not
    /// answer makes it wait or fail; the caller bounds the wait.
    async fn schema_version(&self) -> Result<SchemaVersion>;

    /// The backend's connections now, read without I/O.
    fn pool_status(&self) -> PoolStatus;
}

/// The migrations a database has applied, and the migrations this build of patrol knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaVersion {
    pub applied: u64,
    pub latest: u64,
}

impl SchemaVersion {
    /// Whether every migration this patrol knows is applied, and no newer one.
    pub fn is_current(self) -> bool {
        self.applied == self.latest
    }
}

/// A backend's pool of database connections: PostgreSQL's pool, SQLite's inline readers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStatus {
    /// The most connections the pool holds.
    pub max: usize,
    /// Connections open now.
    pub open: usize,
    /// Open connections not in use now.
    pub idle: usize,
}

/// Everything the server and the tools read and write: a backend implements the four areas and
/// the moving of whole corps ([`TransferStore`], `patrol migrate`), and is a `Store`. The server
/// holds one as `Arc<dyn Store>`.
pub trait Store:
    TokenStore
    + DirectoryStore
    + OrderStore
    + MediaStore
    + TransferStore
    + HealthStore
    + std::fmt::Debug
    + 'static
{
}

impl<T> Store for T where
    T: TokenStore
        + DirectoryStore
        + OrderStore
        + MediaStore
        + TransferStore
        + HealthStore
        + std::fmt::Debug
        + 'static
{
}
