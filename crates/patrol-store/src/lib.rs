//! patrol's storage: the [`Store`] trait, the domain it speaks, and its SQLite implementation.
//!
//! The store owns every invariant of the data: ids unique per corp, the workflow of an order,
//! the modification sequence, and each order's wire JSON, rendered in the same transaction as
//! the change that alters it. It knows nothing of HTTP.

pub mod domain;
mod sqlite;
mod workflow;

pub use domain::*;
pub use sqlite::SqliteStore;
pub use workflow::Rejection;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Something named in the call does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// Something to create exists already, or something to delete is still in use.
    #[error("{0}")]
    Conflict(String),
    /// The call breaks a rule of the domain.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
    /// The database file could not be prepared.
    #[error("cannot open the database: {0}")]
    Open(String),
    /// A background task of the store failed.
    #[error("store task failed: {0}")]
    Task(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Everything the server and the tools read and write.
#[async_trait::async_trait]
pub trait Store: std::fmt::Debug + Send + Sync + 'static {
    /// The server's secret for signing cursors: 32 random bytes made once per database, so that
    /// cursors survive restarts and are shared by every server on the same database.
    async fn cursor_secret(&self) -> Result<[u8; 32]>;

    async fn create_corp(&self, corp: NewCorp) -> Result<Corp>;
    async fn corp(&self, corpid: &str) -> Result<Option<Corp>>;
    async fn list_corps(&self) -> Result<Vec<Corp>>;

    /// Creates an app; an `agentid` of 0 takes the next free one from 1000002.
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
    /// Deletes a user that is no admin or member of a grid.
    async fn delete_user(&self, corp_key: i64, userid: &str) -> Result<()>;

    /// Creates a grid within WeCom's limits (names, depth, admins, members).
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
    /// Deletes a category without children or orders.
    async fn delete_category(&self, corp_key: i64, category_id: &str) -> Result<()>;

    /// Reports one order (with the actions in it) and returns its wire JSON.
    async fn report_order(&self, corp_key: i64, order: NewOrder) -> Result<String>;

    /// Reports orders, each with the actions taken on it since, all in one transaction.
    /// Every order takes the next modification sequence value of its corp, in the given order.
    async fn insert_orders(&self, corp_key: i64, orders: Vec<NewOrder>) -> Result<()>;

    /// Takes one action on an order (decisions.md, "The workflow"). Returns the order's new
    /// wire JSON. The order moves to the end of the modification sequence and its
    /// `modify_time` becomes the action's time when its JSON changed.
    async fn act_on_order(&self, corp_key: i64, order_id: &str, action: Action) -> Result<String>;
    /// Renames a category. Orders keep the name they were reported under.
    async fn rename_category(&self, corp_key: i64, category_id: &str, name: &str) -> Result<()>;

    /// `gettoken`: the live token of the app whose secret this is, issuing one with
    /// `candidate` as its value when the app has none.
    async fn grant_token(
        &self,
        corpid: &str,
        secret: &str,
        now: i64,
        ttl: i64,
        candidate: String,
    ) -> Result<TokenGrant>;
    async fn authenticate(&self, token: &str, now: i64) -> Result<TokenStatus>;

    /// One page of a corp's orders, in the walk's order.
    async fn list_orders(&self, corp_key: i64, query: ListQuery) -> Result<ListedPage>;
    /// The wire JSON of one order of the corp (UTF-8 bytes, as the store wrote them).
    async fn order_body(&self, corp_key: i64, order_id: &str) -> Result<Option<Vec<u8>>>;
}
