//! Placeholder: replaced by the port of the SQLite backend's module.
use crate::PostgresStore;
#[allow(unused_imports)]
use patrol_domain::media::MediaFile;
#[allow(unused_imports)]
use patrol_domain::stats::{CategoryRow, CorpStatus, Day, UserStatus};
#[allow(unused_imports)]
use patrol_domain::{
    Action, App, AppPatch, Category, CategoryPatch, Corp, Family, Grid, GridPatch, ListQuery,
    ListedPage, NewApp, NewCategory, NewCorp, NewGrid, NewOrder, NewUser, TokenGrant, TokenStatus,
    User,
};
#[allow(unused_imports)]
use patrol_store::{Result, SeedRun};

#[async_trait::async_trait]
impl patrol_store::OrderStore for PostgresStore {
    async fn report_order(&self, corp_key: i64, order: NewOrder) -> Result<String> {
        unimplemented!()
    }

    async fn insert_orders(&self, corp_key: i64, orders: Vec<NewOrder>) -> Result<()> {
        unimplemented!()
    }

    async fn act_on_order(&self, corp_key: i64, order_id: &str, action: Action) -> Result<String> {
        unimplemented!()
    }

    async fn list_orders(&self, corp_key: i64, query: ListQuery) -> Result<ListedPage> {
        unimplemented!()
    }

    async fn order_body(
        &self,
        corp_key: i64,
        family: Option<Family>,
        order_id: &str,
    ) -> Result<Option<Vec<u8>>> {
        unimplemented!()
    }

    async fn corp_status(
        &self,
        corp_key: i64,
        family: Family,
        grid_id: Option<&str>,
        today: Day,
    ) -> Result<Option<CorpStatus>> {
        unimplemented!()
    }

    async fn user_status(
        &self,
        corp_key: i64,
        family: Family,
        userid: &str,
        today: Day,
    ) -> Result<Option<UserStatus>> {
        unimplemented!()
    }

    async fn category_statistic(
        &self,
        corp_key: i64,
        family: Family,
        category_id: Option<&str>,
    ) -> Result<Option<Vec<CategoryRow>>> {
        unimplemented!()
    }

    async fn begin_seed_run(&self, corp_key: i64, run: SeedRun) -> Result<SeedRun> {
        unimplemented!()
    }

    async fn insert_seed_batch(
        &self,
        corp_key: i64,
        seed: u64,
        from: u64,
        orders: Vec<NewOrder>,
    ) -> Result<()> {
        unimplemented!()
    }
}
