//! [`MeasuredStore`]: the store as the server holds it, timing every call into the server's
//! [`Metrics`] (`patrol_store_operation_duration_seconds`, by operation, and
//! `patrol_store_errors_total`), and counting what the issue of a token or the report of an
//! order adds (`patrol_tokens_issued_total`, `patrol_orders_reported_total`).
//!
//! The one place store calls are measured: [`AppState::new`](crate::AppState::new) wraps the
//! backend in it, so no handler times anything. It implements every method of every store trait
//! by passing it on, so a store method added to a trait does not compile until it is measured
//! here too. The operation label is the method's name: bounded by the traits.

use std::sync::Arc;
use std::time::Instant;

use patrol_domain::media::MediaFile;
use patrol_domain::stats::{CategoryRow, CorpStatus, Day, UserStatus};
use patrol_domain::{
    Action, App, AppPatch, Category, CategoryPatch, Corp, Family, Grid, GridPatch, ListQuery,
    ListedPage, NewApp, NewCategory, NewCorp, NewGrid, NewOrder, NewUser, TokenGrant, TokenStatus,
    User,
};
use patrol_store::transfer::{CorpImport, CorpRecord, ImportMarks, OrderRecord, Secrets};
use patrol_store::{
    CorpSetup, DirectoryStore, HealthStore, MediaStore, OrderStore, PoolStatus, Result,
    SchemaVersion, SeedRun, Store, TokenStore, TransferStore,
};

use crate::metrics::Metrics;

/// A store whose every call is timed into [`Metrics`].
#[derive(Debug)]
pub struct MeasuredStore {
    inner: Arc<dyn Store>,
    metrics: Arc<Metrics>,
}

impl MeasuredStore {
    pub fn new(inner: Arc<dyn Store>, metrics: Arc<Metrics>) -> MeasuredStore {
        MeasuredStore { inner, metrics }
    }
}

/// Awaits a call of the inner store, timed and counted under the operation `$operation`.
macro_rules! measured {
    ($self:ident, $operation:literal, $call:expr) => {{
        let started = Instant::now();
        let result = $call.await;
        $self
            .metrics
            .store_operation($operation, started.elapsed(), result.is_ok());
        result
    }};
}

#[async_trait::async_trait]
impl TokenStore for MeasuredStore {
    async fn cursor_secret(&self) -> Result<[u8; 32]> {
        measured!(self, "cursor_secret", self.inner.cursor_secret())
    }

    async fn grant_token(
        &self,
        corpid: &str,
        secret: &str,
        now: i64,
        ttl: i64,
        nonce: [u8; 32],
    ) -> Result<TokenGrant> {
        let grant = measured!(
            self,
            "grant_token",
            self.inner.grant_token(corpid, secret, now, ttl, nonce)
        );
        if let Ok(TokenGrant::Granted { .. }) = &grant {
            self.metrics.token_issued();
        }
        grant
    }

    async fn authenticate(&self, token: &str, now: i64) -> Result<TokenStatus> {
        measured!(self, "authenticate", self.inner.authenticate(token, now))
    }
}

#[async_trait::async_trait]
impl DirectoryStore for MeasuredStore {
    async fn create_corp(&self, corp: NewCorp) -> Result<Corp> {
        measured!(self, "create_corp", self.inner.create_corp(corp))
    }

    async fn create_corp_with(&self, setup: CorpSetup) -> Result<Corp> {
        measured!(self, "create_corp_with", self.inner.create_corp_with(setup))
    }

    async fn corp(&self, corpid: &str) -> Result<Option<Corp>> {
        measured!(self, "corp", self.inner.corp(corpid))
    }

    async fn list_corps(&self) -> Result<Vec<Corp>> {
        measured!(self, "list_corps", self.inner.list_corps())
    }

    async fn update_corp(&self, corp_key: i64, patch: patrol_domain::CorpPatch) -> Result<Corp> {
        measured!(self, "update_corp", self.inner.update_corp(corp_key, patch))
    }

    async fn create_app(&self, corp_key: i64, app: NewApp) -> Result<App> {
        measured!(self, "create_app", self.inner.create_app(corp_key, app))
    }

    async fn list_apps(&self, corp_key: i64) -> Result<Vec<App>> {
        measured!(self, "list_apps", self.inner.list_apps(corp_key))
    }

    async fn update_app(&self, corp_key: i64, agentid: i64, patch: AppPatch) -> Result<App> {
        measured!(
            self,
            "update_app",
            self.inner.update_app(corp_key, agentid, patch)
        )
    }

    async fn set_app_secret(&self, corp_key: i64, agentid: i64, secret: &str) -> Result<App> {
        measured!(
            self,
            "set_app_secret",
            self.inner.set_app_secret(corp_key, agentid, secret)
        )
    }

    async fn delete_app(&self, corp_key: i64, agentid: i64) -> Result<()> {
        measured!(self, "delete_app", self.inner.delete_app(corp_key, agentid))
    }

    async fn create_user(&self, corp_key: i64, user: NewUser) -> Result<()> {
        measured!(self, "create_user", self.inner.create_user(corp_key, user))
    }

    async fn list_users(&self, corp_key: i64) -> Result<Vec<User>> {
        measured!(self, "list_users", self.inner.list_users(corp_key))
    }

    async fn update_user(&self, corp_key: i64, userid: &str, name: &str) -> Result<User> {
        measured!(
            self,
            "update_user",
            self.inner.update_user(corp_key, userid, name)
        )
    }

    async fn delete_user(&self, corp_key: i64, userid: &str) -> Result<()> {
        measured!(
            self,
            "delete_user",
            self.inner.delete_user(corp_key, userid)
        )
    }

    async fn create_grid(&self, corp_key: i64, grid: NewGrid) -> Result<()> {
        measured!(self, "create_grid", self.inner.create_grid(corp_key, grid))
    }

    async fn grid(&self, corp_key: i64, grid_id: &str) -> Result<Option<Grid>> {
        measured!(self, "grid", self.inner.grid(corp_key, grid_id))
    }

    async fn list_grids(&self, corp_key: i64) -> Result<Vec<Grid>> {
        measured!(self, "list_grids", self.inner.list_grids(corp_key))
    }

    async fn update_grid(&self, corp_key: i64, grid_id: &str, patch: GridPatch) -> Result<Grid> {
        measured!(
            self,
            "update_grid",
            self.inner.update_grid(corp_key, grid_id, patch)
        )
    }

    async fn delete_grid(&self, corp_key: i64, grid_id: &str) -> Result<()> {
        measured!(
            self,
            "delete_grid",
            self.inner.delete_grid(corp_key, grid_id)
        )
    }

    async fn create_category(&self, corp_key: i64, category: NewCategory) -> Result<()> {
        measured!(
            self,
            "create_category",
            self.inner.create_category(corp_key, category)
        )
    }

    async fn list_categories(&self, corp_key: i64) -> Result<Vec<Category>> {
        measured!(
            self,
            "list_categories",
            self.inner.list_categories(corp_key)
        )
    }

    async fn rename_category(&self, corp_key: i64, category_id: &str, name: &str) -> Result<()> {
        measured!(
            self,
            "rename_category",
            self.inner.rename_category(corp_key, category_id, name)
        )
    }

    async fn delete_category(&self, corp_key: i64, category_id: &str) -> Result<()> {
        measured!(
            self,
            "delete_category",
            self.inner.delete_category(corp_key, category_id)
        )
    }

    async fn missing_users(&self, corp_key: i64, userids: Vec<String>) -> Result<Vec<String>> {
        measured!(
            self,
            "missing_users",
            self.inner.missing_users(corp_key, userids)
        )
    }

    async fn update_category(
        &self,
        corp_key: i64,
        category_id: &str,
        patch: CategoryPatch,
    ) -> Result<Category> {
        measured!(
            self,
            "update_category",
            self.inner.update_category(corp_key, category_id, patch)
        )
    }
}

#[async_trait::async_trait]
impl OrderStore for MeasuredStore {
    async fn report_order(&self, corp_key: i64, order: NewOrder) -> Result<String> {
        let family = match order.resident {
            Some(_) => Family::Resident,
            None => Family::Patrol,
        };
        let reported = measured!(
            self,
            "report_order",
            self.inner.report_order(corp_key, order)
        );
        if reported.is_ok() {
            self.metrics.order_reported(family);
        }
        reported
    }

    async fn insert_orders(&self, corp_key: i64, orders: Vec<NewOrder>) -> Result<()> {
        measured!(
            self,
            "insert_orders",
            self.inner.insert_orders(corp_key, orders)
        )
    }

    async fn act_on_order(&self, corp_key: i64, order_id: &str, action: Action) -> Result<String> {
        measured!(
            self,
            "act_on_order",
            self.inner.act_on_order(corp_key, order_id, action)
        )
    }

    async fn list_orders(&self, corp_key: i64, query: ListQuery) -> Result<ListedPage> {
        measured!(self, "list_orders", self.inner.list_orders(corp_key, query))
    }

    async fn list_corp_orders(
        &self,
        corp_key: i64,
        query: patrol_domain::CorpOrdersQuery,
    ) -> Result<ListedPage> {
        measured!(
            self,
            "list_corp_orders",
            self.inner.list_corp_orders(corp_key, query)
        )
    }

    async fn order_body(
        &self,
        corp_key: i64,
        family: Option<Family>,
        order_id: &str,
    ) -> Result<Option<Vec<u8>>> {
        measured!(
            self,
            "order_body",
            self.inner.order_body(corp_key, family, order_id)
        )
    }

    async fn corp_status(
        &self,
        corp_key: i64,
        family: Family,
        grid_id: Option<&str>,
        today: Day,
    ) -> Result<Option<CorpStatus>> {
        measured!(
            self,
            "corp_status",
            self.inner.corp_status(corp_key, family, grid_id, today)
        )
    }

    async fn user_status(
        &self,
        corp_key: i64,
        family: Family,
        userid: &str,
        today: Day,
    ) -> Result<Option<UserStatus>> {
        measured!(
            self,
            "user_status",
            self.inner.user_status(corp_key, family, userid, today)
        )
    }

    async fn category_statistic(
        &self,
        corp_key: i64,
        family: Family,
        category_id: Option<&str>,
    ) -> Result<Option<Vec<CategoryRow>>> {
        measured!(
            self,
            "category_statistic",
            self.inner.category_statistic(corp_key, family, category_id)
        )
    }

    async fn begin_seed_run(&self, corp_key: i64, run: SeedRun) -> Result<SeedRun> {
        measured!(
            self,
            "begin_seed_run",
            self.inner.begin_seed_run(corp_key, run)
        )
    }

    async fn insert_seed_batch(
        &self,
        corp_key: i64,
        seed: u64,
        from: u64,
        orders: Vec<NewOrder>,
    ) -> Result<()> {
        measured!(
            self,
            "insert_seed_batch",
            self.inner.insert_seed_batch(corp_key, seed, from, orders)
        )
    }
}

#[async_trait::async_trait]
impl MediaStore for MeasuredStore {
    async fn create_media(&self, corp_key: i64, media: MediaFile) -> Result<()> {
        measured!(
            self,
            "create_media",
            self.inner.create_media(corp_key, media)
        )
    }

    async fn media(&self, corp_key: i64, media_id: &str) -> Result<Option<MediaFile>> {
        measured!(self, "media", self.inner.media(corp_key, media_id))
    }
}

#[async_trait::async_trait]
impl TransferStore for MeasuredStore {
    async fn secrets(&self) -> Result<Secrets> {
        measured!(self, "secrets", self.inner.secrets())
    }

    async fn export_corp(&self, corpid: &str) -> Result<Option<CorpRecord>> {
        measured!(self, "export_corp", self.inner.export_corp(corpid))
    }

    async fn export_orders(
        &self,
        corp_key: i64,
        after: i64,
        limit: usize,
    ) -> Result<Vec<OrderRecord>> {
        measured!(
            self,
            "export_orders",
            self.inner.export_orders(corp_key, after, limit)
        )
    }

    async fn import_marks(&self) -> Result<ImportMarks> {
        measured!(self, "import_marks", self.inner.import_marks())
    }

    async fn import_secrets(&self, secrets: Secrets) -> Result<()> {
        measured!(self, "import_secrets", self.inner.import_secrets(secrets))
    }

    async fn import_corp(&self, corp: CorpRecord) -> Result<CorpImport> {
        measured!(self, "import_corp", self.inner.import_corp(corp))
    }

    async fn replace_corp(&self, corp: CorpRecord) -> Result<CorpImport> {
        measured!(self, "replace_corp", self.inner.replace_corp(corp))
    }

    async fn delete_corp(
        &self,
        corpid: &str,
        force: bool,
    ) -> Result<patrol_store::transfer::DeletedCorp> {
        measured!(self, "delete_corp", self.inner.delete_corp(corpid, force))
    }

    async fn import_orders(
        &self,
        corpid: &str,
        orders: Vec<OrderRecord>,
        done: bool,
    ) -> Result<CorpImport> {
        measured!(
            self,
            "import_orders",
            self.inner.import_orders(corpid, orders, done)
        )
    }
}

#[async_trait::async_trait]
impl HealthStore for MeasuredStore {
    async fn schema_version(&self) -> Result<SchemaVersion> {
        measured!(self, "schema_version", self.inner.schema_version())
    }

    fn pool_status(&self) -> PoolStatus {
        self.inner.pool_status()
    }
}
