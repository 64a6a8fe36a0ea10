//! The two report families, 巡查上报 (`report/patrol/*`) and 居民上报 (`report/resident/*`): the
//! same six calls under two paths. [`Family`] names one; [`FamilyClient`] is a [`Client`] bound to
//! one, so every call is written once for both.
//!
//! The status calls answer different fields per family. Both are read into one type per call,
//! [`CorpStatus`] and [`UserStatus`]: the fields both families send are plain numbers, the fields
//! of one family only are `Option`s, `None` for the other family. One type keeps code that
//! chooses the family at run time (a `--resident` flag) free of a `match` per call, and `None`
//! says "this family has no such count" where a 0 would claim one.

use futures_util::Stream;
use patrol_wire::patrol::{
    GetGridInfoResponse, GetOrderInfoResponse, GetOrderListRequest, GetOrderListResponse, GridInfo,
    Order,
};
use patrol_wire::stats::{
    CategoryDashboard, CategoryStatisticRequest, CategoryStatisticResponse, GetCorpStatusRequest,
    GetUserStatusRequest, PatrolCorpStatus, PatrolUserStatus, ResidentCorpStatus,
    ResidentUserStatus,
};
use serde::{Deserialize, Serialize};

use super::{Client, OrderQuery, Page};
use crate::error::Result;

/// One of WeCom's two report families.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Family {
    /// 巡查上报, `report/patrol/*`: orders reported by members on patrol.
    #[default]
    Patrol,
    /// 居民上报, `report/resident/*`: orders reported by residents; each order carries
    /// `reporter_name`, `reporter_mobile` and `unionid`.
    Resident,
}

impl Family {
    /// The family's segment of the path: `patrol` or `resident`.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Patrol => "patrol",
            Family::Resident => "resident",
        }
    }

    /// The path of one of the family's calls under `/cgi-bin/`, e.g. `report/resident/get_order_list`.
    pub(super) fn api(self, call: &str) -> String {
        format!("report/{}/{call}", self.as_str())
    }
}

impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The answer of `get_corp_status`, of either family, without `errcode` and `errmsg`.
///
/// Serialized, it is the family's own answer field for field, in WeCom's order: the fields of
/// the other family are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorpStatus {
    /// Patrol only: 待分配, open orders nobody has taken yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_be_assigned: Option<i64>,
    /// 办理中: open orders someone has taken.
    pub processing: i64,
    /// 今日上报: orders reported today.
    pub added_today: i64,
    /// 今日办结: orders done today.
    pub solved_today: i64,
    /// Resident only: 待受理, open orders nobody has taken yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<i64>,
    /// 累计上报: all orders.
    pub total_case: i64,
    /// Resident only: 累计受理, orders someone has ever taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_accepted: Option<i64>,
    /// 累计办结: all orders done.
    pub total_solved: i64,
}

impl From<PatrolCorpStatus> for CorpStatus {
    fn from(answer: PatrolCorpStatus) -> CorpStatus {
        CorpStatus {
            to_be_assigned: Some(answer.to_be_assigned),
            processing: answer.processing,
            added_today: answer.added_today,
            solved_today: answer.solved_today,
            pending: None,
            total_case: answer.total_case,
            total_accepted: None,
            total_solved: answer.total_solved,
        }
    }
}

impl From<ResidentCorpStatus> for CorpStatus {
    fn from(answer: ResidentCorpStatus) -> CorpStatus {
        CorpStatus {
            to_be_assigned: None,
            processing: answer.processing,
            added_today: answer.added_today,
            solved_today: answer.solved_today,
            pending: Some(answer.pending),
            total_case: answer.total_case,
            total_accepted: Some(answer.total_accepted),
            total_solved: answer.total_solved,
        }
    }
}

/// The answer of `get_user_status`, of either family, without `errcode` and `errmsg`; serialized,
/// the family's own answer field for field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserStatus {
    /// Open orders the member must act on (is a processor of).
    pub processing: i64,
    /// Orders the member reported today.
    pub added_today: i64,
    /// Orders the member marked done today.
    pub solved_today: i64,
    /// Resident only: of `processing`, the orders nobody has taken yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<i64>,
}

impl From<PatrolUserStatus> for UserStatus {
    fn from(answer: PatrolUserStatus) -> UserStatus {
        UserStatus {
            processing: answer.processing,
            added_today: answer.added_today,
            solved_today: answer.solved_today,
            pending: None,
        }
    }
}

impl From<ResidentUserStatus> for UserStatus {
    fn from(answer: ResidentUserStatus) -> UserStatus {
        UserStatus {
            processing: answer.processing,
            added_today: answer.added_today,
            solved_today: answer.solved_today,
            pending: Some(answer.pending),
        }
    }
}

/// A [`Client`] bound to one report family: [`Client::patrol`], [`Client::resident`] or
/// [`Client::family`]. Cheap to clone; it shares the client's token and connections.
///
/// ```no_run
/// # async fn run(client: patrol_client::Client) -> Result<(), patrol_client::Error> {
/// let status = client.resident().corp_status(None).await?;
/// println!("{} pending, {} in progress", status.pending.unwrap_or(0), status.processing);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct FamilyClient {
    client: Client,
    family: Family,
}

impl Client {
    /// This client's calls of `family`.
    pub fn family(&self, family: Family) -> FamilyClient {
        FamilyClient {
            client: self.clone(),
            family,
        }
    }

    /// This client's calls of 巡查上报, `report/patrol/*`.
    pub fn patrol(&self) -> FamilyClient {
        self.family(Family::Patrol)
    }

    /// This client's calls of 居民上报, `report/resident/*`.
    pub fn resident(&self) -> FamilyClient {
        self.family(Family::Resident)
    }
}

impl FamilyClient {
    /// The family the calls go to.
    pub fn family(&self) -> Family {
        self.family
    }

    /// The client the calls are made with.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// `GET get_grid_info`: the corp's grids (a parent before its children) and their admins.
    pub async fn grid_info(&self) -> Result<Vec<GridInfo>> {
        let answer: GetGridInfoResponse = self
            .client
            .call_get(&self.family.api("get_grid_info"))
            .await?;
        Ok(answer.grid_list)
    }

    /// `POST get_corp_status`: the counts of the corp's orders of this family, or of the orders
    /// of `grid_id` and the grids under it.
    pub async fn corp_status(&self, grid_id: Option<&str>) -> Result<CorpStatus> {
        let body = GetCorpStatusRequest {
            grid_id: grid_id.map(str::to_owned),
        };
        let api = self.family.api("get_corp_status");
        Ok(match self.family {
            Family::Patrol => self
                .client
                .call::<PatrolCorpStatus>(&api, &body)
                .await?
                .into(),
            Family::Resident => self
                .client
                .call::<ResidentCorpStatus>(&api, &body)
                .await?
                .into(),
        })
    }

    /// `POST get_user_status`: the counts of one member's orders of this family.
    pub async fn user_status(&self, userid: &str) -> Result<UserStatus> {
        let body = GetUserStatusRequest {
            userid: Some(userid.to_owned()),
        };
        let api = self.family.api("get_user_status");
        Ok(match self.family {
            Family::Patrol => self
                .client
                .call::<PatrolUserStatus>(&api, &body)
                .await?
                .into(),
            Family::Resident => self
                .client
                .call::<ResidentUserStatus>(&api, &body)
                .await?
                .into(),
        })
    }

    /// `POST category_statistic`: without `category_id`, one row per level-1 category (and a
    /// row "其他" of orders without one); with a level-1 id, one row per child; with a level-2
    /// id, its row.
    pub async fn category_statistic(
        &self,
        category_id: Option<&str>,
    ) -> Result<Vec<CategoryDashboard>> {
        let body = CategoryStatisticRequest {
            category_id: category_id.map(str::to_owned),
        };
        let answer: CategoryStatisticResponse = self
            .client
            .call(&self.family.api("category_statistic"), &body)
            .await?;
        Ok(answer.dashboard_list)
    }

    /// `POST get_order_list`: one page.
    pub async fn order_list(&self, request: &GetOrderListRequest) -> Result<GetOrderListResponse> {
        self.client
            .call(&self.family.api("get_order_list"), request)
            .await
    }

    /// `POST get_order_info`: one order of this family (an order of the other family is an
    /// unknown id, 40058).
    pub async fn order_info(&self, order_id: &str) -> Result<Order> {
        #[derive(Serialize)]
        struct Body<'a> {
            order_id: &'a str,
        }
        let answer: GetOrderInfoResponse = self
            .client
            .call(&self.family.api("get_order_info"), &Body { order_id })
            .await?;
        Ok(answer.order_info)
    }

    /// The pages of a walk over this family's `get_order_list`, following `next_cursor` to the
    /// end, the next page requested as soon as the current one arrives. After an error the
    /// stream ends; the last page's `next_cursor` resumes the walk. A cursor of one family is
    /// refused by the other (40058).
    pub fn pages(&self, query: OrderQuery) -> impl Stream<Item = Result<Page>> + Send + use<> {
        super::walk_pages(self.client.clone(), self.family, query)
    }

    /// Every order of a walk over this family's `get_order_list`, one by one. After an error
    /// the stream ends.
    pub fn orders(&self, query: OrderQuery) -> impl Stream<Item = Result<Order>> + Send + use<> {
        super::orders_of(self.pages(query))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_serializes_as_its_familys_answer() {
        let patrol: CorpStatus = PatrolCorpStatus {
            to_be_assigned: 1,
            processing: 2,
            added_today: 3,
            solved_today: 4,
            total_case: 5,
            total_solved: 6,
            ..PatrolCorpStatus::default()
        }
        .into();
        assert_eq!(
            serde_json::to_string(&patrol).unwrap(),
            r#"{"to_be_assigned":1,"processing":2,"added_today":3,"solved_today":4,"total_case":5,"total_solved":6}"#
        );
        let resident: CorpStatus = ResidentCorpStatus {
            processing: 2,
            added_today: 3,
            solved_today: 4,
            pending: 1,
            total_case: 5,
            total_accepted: 7,
            total_solved: 6,
            ..ResidentCorpStatus::default()
        }
        .into();
        assert_eq!(
            serde_json::to_string(&resident).unwrap(),
            r#"{"processing":2,"added_today":3,"solved_today":4,"pending":1,"total_case":5,"total_accepted":7,"total_solved":6}"#
        );
        let user: UserStatus = ResidentUserStatus {
            processing: 2,
            pending: 1,
            ..ResidentUserStatus::default()
        }
        .into();
        assert_eq!(
            serde_json::to_string(&user).unwrap(),
            r#"{"processing":2,"added_today":0,"solved_today":0,"pending":1}"#
        );
        let user: UserStatus = PatrolUserStatus::default().into();
        assert_eq!(user.pending, None);
    }

    #[test]
    fn the_paths_name_the_family() {
        assert_eq!(
            Family::Resident.api("get_order_list"),
            "report/resident/get_order_list"
        );
        assert_eq!(
            Family::Patrol.api("get_grid_info"),
            "report/patrol/get_grid_info"
        );
        assert_eq!(Family::default(), Family::Patrol);
    }
}
