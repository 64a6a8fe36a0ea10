//! Grids and event categories: `report/grid/*` (an app on 「居民联系 - 可调用接口的应用」), with
//! the token refreshed and transient failures retried like any call. Answers are read
//! leniently (`patrol_wire::grid`): `list_cata`'s `category_list` and the older `cata_list` alike.

use patrol_wire::Envelope;
use patrol_wire::grid::{
    AddCategoryRequest, AddCategoryResponse, AddGridRequest, AddGridResponse, CategoryIdRequest,
    CategoryItem, GridIdRequest, GridItem, ListCategoryResponse, ListGridResponse,
    UpdateCategoryRequest, UpdateGridRequest, UpdateGridResponse, UserGridInfoRequest,
    UserGridInfoResponse,
};

use super::Client;
use crate::error::Result;

impl Client {
    /// `POST report/grid/add`: the new grid's `grid_id`, and the userids given that are no
    /// member of the corp (`invalid_userids`, left out of the grid).
    pub async fn add_grid(&self, request: &AddGridRequest) -> Result<AddGridResponse> {
        self.call("report/grid/add", request).await
    }

    /// `POST report/grid/update`: the userids given that are no member of the corp.
    pub async fn update_grid(&self, request: &UpdateGridRequest) -> Result<Vec<String>> {
        let answer: UpdateGridResponse = self.call("report/grid/update", request).await?;
        Ok(answer.invalid_userids)
    }

    /// `POST report/grid/delete`.
    pub async fn delete_grid(&self, grid_id: &str) -> Result<()> {
        let request = GridIdRequest {
            grid_id: Some(grid_id.to_owned()),
        };
        let _: Envelope = self.call("report/grid/delete", &request).await?;
        Ok(())
    }

    /// `POST report/grid/list`: without a grid, the top-level grids and their children; with
    /// one, that grid and its children.
    pub async fn list_grids(&self, grid_id: Option<&str>) -> Result<Vec<GridItem>> {
        let request = GridIdRequest {
            grid_id: grid_id.map(str::to_owned),
        };
        let answer: ListGridResponse = self.call("report/grid/list", &request).await?;
        Ok(answer.grid_list)
    }

    /// `POST report/grid/get_user_grid_info`: the grids a member manages and those it belongs to.
    pub async fn get_user_grid_info(&self, userid: &str) -> Result<UserGridInfoResponse> {
        let request = UserGridInfoRequest {
            userid: Some(userid.to_owned()),
        };
        self.call("report/grid/get_user_grid_info", &request).await
    }

    /// `POST report/grid/add_cata`: the new category's `category_id`.
    pub async fn add_category(&self, request: &AddCategoryRequest) -> Result<String> {
        let answer: AddCategoryResponse = self.call("report/grid/add_cata", request).await?;
        Ok(answer.category_id)
    }

    /// `POST report/grid/update_cata`.
    pub async fn update_category(&self, request: &UpdateCategoryRequest) -> Result<()> {
        let _: Envelope = self.call("report/grid/update_cata", request).await?;
        Ok(())
    }

    /// `POST report/grid/delete_cata`.
    pub async fn delete_category(&self, category_id: &str) -> Result<()> {
        let request = CategoryIdRequest {
            category_id: Some(category_id.to_owned()),
        };
        let _: Envelope = self.call("report/grid/delete_cata", &request).await?;
        Ok(())
    }

    /// `POST report/grid/list_cata` (with `{}`): every category, each level-1 category followed
    /// by its children.
    pub async fn list_categories(&self) -> Result<Vec<CategoryItem>> {
        let answer: ListCategoryResponse = self
            .call("report/grid/list_cata", &GridIdRequest::default())
            .await?;
        Ok(answer.category_list)
    }
}
