//! The statistics of both report families: `get_corp_status`, `get_user_status` and
//! `category_statistic` under `report/patrol/` and `report/resident/` (decisions.md,
//! "Statistics"). The requests are the same for both; the answers of the two status calls
//! differ by family.

use serde::{Deserialize, Serialize};

/// The body of `get_corp_status`.
///
/// ```json
/// {"grid_id": "grid_id"}
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GetCorpStatusRequest {
    /// A grid: its orders and those of every grid under it. Absent or `""`: the whole corp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid_id: Option<String>,
}

/// The answer of `report/patrol/get_corp_status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PatrolCorpStatus {
    #[serde(default, deserialize_with = "crate::lenient::int")]
    pub errcode: i64,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub errmsg: String,
    /// 待分配: open orders nobody has taken yet (their last step is the report).
    #[serde(default, deserialize_with = "crate::lenient::int")]
    pub to_be_assigned: i64,
    /// 办理中: open orders someone has taken.
    #[serde(default, deserialize_with = "crate::lenient::int")]
    pub processing: i64,
    /// 今日上报: orders reported today.
    #[serde(default, deserialize_with = "crate::lenient::int")]
    pub added_today: i64,
    /// 今日办结: orders done today.
    #[serde(default, deserialize_with = "crate::lenient::int")]
    pub solved_today: i64,
    /// 累计上报: all orders.
    #[serde(default, deserialize_with = "crate::lenient::int")]
    pub total_case: i64,
    /// 累计办结: all orders done.
    #[serde(default, deserialize_with = "crate::lenient::int")]
    pub total_solved: i64,
}

/// The answer of `report/resident/get_corp_status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResidentCorpStatus {
    #[serde(default, deserialize_with = "crate::lenient::int")]
    pub errcode: i64,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub errmsg: String,
    /// 办理中: open orders someone has taken.
    #[serde(default, deserialize_with = "crate::lenient::int")]
    pub processing: i64,
    /// 今日上报.
    #[serde(default, deserialize_with = "crate::lenient::int")]
    pub added_today: i64,
    /// 今日办结.
    #[serde(default, deserialize_with = "crate::lenient::int")]
    pub solved_today: i64,
    /// 待受理: open orders nobody has taken yet.
    #[serde(default, deserialize_with = "crate::lenient::int")]
    pub pending: i64,
    /// 累计上报.
    #[serde(default, deserialize_with = "crate::lenient::int")]
    pub total_case: i64,
    /// 累计受理: orders someone has ever taken (accepted, assigned, transferred, started or done).
    #[serde(default, deserialize_with = "crate::lenient::int")]
    pub total_accepted: i64,
    /// 累计办结.
    #[serde(default, deserialize_with = "crate::lenient::int")]
    pub total_solved: i64,
}

/// The body of `get_user_status`.
///
/// ```json
/// {"userid": "zhangsan"}
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GetUserStatusRequest {
    /// The member. Required.
    #[serde(default)]
    pub userid: Option<String>,
}

/// The answer of `report/patrol/get_user_status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PatrolUserStatus {
    #[serde(default, deserialize_with = "crate::lenient::int")]
    pub errcode: i64,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub errmsg: String,
    /// Open orders the member must act on (is a processor of).
    #[serde(default, deserialize_with = "crate::lenient::int")]
    pub processing: i64,
    /// Orders the member reported today.
    #[serde(default, deserialize_with = "crate::lenient::int")]
    pub added_today: i64,
    /// Orders the member marked done today.
    #[serde(default, deserialize_with = "crate::lenient::int")]
    pub solved_today: i64,
}

/// The answer of `report/resident/get_user_status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResidentUserStatus {
    #[serde(default, deserialize_with = "crate::lenient::int")]
    pub errcode: i64,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub errmsg: String,
    /// Open orders the member must act on (is a processor of).
    #[serde(default, deserialize_with = "crate::lenient::int")]
    pub processing: i64,
    /// Orders the member reported today.
    #[serde(default, deserialize_with = "crate::lenient::int")]
    pub added_today: i64,
    /// Orders the member marked done today.
    #[serde(default, deserialize_with = "crate::lenient::int")]
    pub solved_today: i64,
    /// Of `processing`, the orders nobody has taken yet.
    #[serde(default, deserialize_with = "crate::lenient::int")]
    pub pending: i64,
}

/// The body of `category_statistic`.
///
/// ```json
/// {"category_id": "category_id"}
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryStatisticRequest {
    /// Absent or `""`: one row per level-1 category. A level-1 id: one row per child. A level-2
    /// id: that category's row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_id: Option<String>,
}

/// The answer of `category_statistic`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryStatisticResponse {
    #[serde(default, deserialize_with = "crate::lenient::int")]
    pub errcode: i64,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub errmsg: String,
    #[serde(default, deserialize_with = "crate::lenient::list")]
    pub dashboard_list: Vec<CategoryDashboard>,
}

/// One row of `dashboard_list`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryDashboard {
    /// `""` for the row of orders reported without a category.
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub category_id: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub category_name: String,
    /// 1 a level-1 category, 2 a level-2 category.
    #[serde(default, deserialize_with = "crate::lenient::int")]
    pub category_level: i64,
    #[serde(default, deserialize_with = "crate::lenient::int")]
    pub total_case: i64,
    #[serde(default, deserialize_with = "crate::lenient::int")]
    pub total_solved: i64,
    /// 1 a configured category, 0 the row "其他" of orders without one.
    #[serde(default, deserialize_with = "crate::lenient::int")]
    pub category_type: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answers_serialize_in_the_references_field_order() {
        let patrol = serde_json::to_string(&PatrolCorpStatus {
            errmsg: "ok".into(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            patrol,
            r#"{"errcode":0,"errmsg":"ok","to_be_assigned":0,"processing":0,"added_today":0,"solved_today":0,"total_case":0,"total_solved":0}"#
        );
        let resident = serde_json::to_string(&ResidentCorpStatus::default()).unwrap();
        assert_eq!(
            resident,
            r#"{"errcode":0,"errmsg":"","processing":0,"added_today":0,"solved_today":0,"pending":0,"total_case":0,"total_accepted":0,"total_solved":0}"#
        );
        let row = serde_json::to_string(&CategoryDashboard::default()).unwrap();
        assert_eq!(
            row,
            r#"{"category_id":"","category_name":"","category_level":0,"total_case":0,"total_solved":0,"category_type":0}"#
        );
    }

    #[test]
    fn counts_sent_as_strings_read() {
        let answer: PatrolUserStatus =
            serde_json::from_str(r#"{"errcode":"0","errmsg":"ok","processing":"3"}"#).unwrap();
        assert_eq!((answer.errcode, answer.processing), (0, 3));
    }
}
