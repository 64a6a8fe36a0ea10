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
impl patrol_store::DirectoryStore for PostgresStore {
    async fn create_corp(&self, corp: NewCorp) -> Result<Corp> {
        unimplemented!()
    }

    async fn corp(&self, corpid: &str) -> Result<Option<Corp>> {
        unimplemented!()
    }

    async fn list_corps(&self) -> Result<Vec<Corp>> {
        unimplemented!()
    }

    async fn create_app(&self, corp_key: i64, app: NewApp) -> Result<App> {
        unimplemented!()
    }

    async fn list_apps(&self, corp_key: i64) -> Result<Vec<App>> {
        unimplemented!()
    }

    async fn update_app(&self, corp_key: i64, agentid: i64, patch: AppPatch) -> Result<App> {
        unimplemented!()
    }

    async fn set_app_secret(&self, corp_key: i64, agentid: i64, secret: &str) -> Result<App> {
        unimplemented!()
    }

    async fn delete_app(&self, corp_key: i64, agentid: i64) -> Result<()> {
        unimplemented!()
    }

    async fn create_user(&self, corp_key: i64, user: NewUser) -> Result<()> {
        unimplemented!()
    }

    async fn list_users(&self, corp_key: i64) -> Result<Vec<User>> {
        unimplemented!()
    }

    async fn update_user(&self, corp_key: i64, userid: &str, name: &str) -> Result<User> {
        unimplemented!()
    }

    async fn delete_user(&self, corp_key: i64, userid: &str) -> Result<()> {
        unimplemented!()
    }

    async fn create_grid(&self, corp_key: i64, grid: NewGrid) -> Result<()> {
        unimplemented!()
    }

    async fn grid(&self, corp_key: i64, grid_id: &str) -> Result<Option<Grid>> {
        unimplemented!()
    }

    async fn list_grids(&self, corp_key: i64) -> Result<Vec<Grid>> {
        unimplemented!()
    }

    async fn update_grid(&self, corp_key: i64, grid_id: &str, patch: GridPatch) -> Result<Grid> {
        unimplemented!()
    }

    async fn delete_grid(&self, corp_key: i64, grid_id: &str) -> Result<()> {
        unimplemented!()
    }

    async fn create_category(&self, corp_key: i64, category: NewCategory) -> Result<()> {
        unimplemented!()
    }

    async fn list_categories(&self, corp_key: i64) -> Result<Vec<Category>> {
        unimplemented!()
    }

    async fn rename_category(&self, corp_key: i64, category_id: &str, name: &str) -> Result<()> {
        unimplemented!()
    }

    async fn delete_category(&self, corp_key: i64, category_id: &str) -> Result<()> {
        unimplemented!()
    }

    async fn missing_users(&self, corp_key: i64, userids: Vec<String>) -> Result<Vec<String>> {
        unimplemented!()
    }

    async fn update_category(
        &self,
        corp_key: i64,
        category_id: &str,
        patch: CategoryPatch,
    ) -> Result<Category> {
        unimplemented!()
    }
}
