//! `report/grid/*`: grids (网格) and event categories (事件分类) over WeCom's API
//! (wecom-reference.md §5), requests and answers with WeCom's field names in WeCom's order.
//!
//! Requests are read strictly but for their integers (`level` may come as `"2"`); every field is
//! optional here, so that a server tells a missing one (40063) from a wrong one (40058), and a
//! client sends only what it sets. Answers are read leniently ([`crate::lenient`]): `grid_name`
//! may be a number, `level` a string, and `list_cata`'s list may come as the current
//! `category_list` or the older `cata_list` (`cata_id`, `cata_name`, `level` or `level_id`,
//! `parent_cata_id`).

use serde::{Deserialize, Serialize};

use crate::lenient;

/// `grid/add`.
///
/// ```json
/// {"grid_name":"一号网格","grid_parent_id":"","grid_admin":["zhangsan"],"grid_member":["lisi"]}
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddGridRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid_name: Option<String>,
    /// The parent's `grid_id`; `""` for a grid at the top level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid_parent_id: Option<String>,
    /// Userids of the grid's admins (负责人), 1 to 20.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid_admin: Option<Vec<String>>,
    /// Userids of the grid's members, at most 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid_member: Option<Vec<String>>,
}

/// The answer of `grid/add`: the new grid's id and the userids given that are no member of the
/// corp (left out of the grid).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddGridResponse {
    #[serde(default, deserialize_with = "lenient::int")]
    pub errcode: i64,
    #[serde(default, deserialize_with = "lenient::string")]
    pub errmsg: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub grid_id: String,
    #[serde(default, deserialize_with = "lenient::list")]
    pub invalid_userids: Vec<String>,
}

/// `grid/update`: the grid and what changes (an absent field stays as it is; an empty
/// `grid_member` removes every member).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateGridRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid_name: Option<String>,
    /// The new parent; `""` moves the grid to the top level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid_parent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid_admin: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid_member: Option<Vec<String>>,
}

/// The answer of `grid/update`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateGridResponse {
    #[serde(default, deserialize_with = "lenient::int")]
    pub errcode: i64,
    #[serde(default, deserialize_with = "lenient::string")]
    pub errmsg: String,
    #[serde(default, deserialize_with = "lenient::list")]
    pub invalid_userids: Vec<String>,
}

/// `grid/delete` (required) and `grid/list` (optional): a grid.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GridIdRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid_id: Option<String>,
}

/// The answer of `grid/list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListGridResponse {
    #[serde(default, deserialize_with = "lenient::int")]
    pub errcode: i64,
    #[serde(default, deserialize_with = "lenient::string")]
    pub errmsg: String,
    #[serde(default, deserialize_with = "lenient::list")]
    pub grid_list: Vec<GridItem>,
}

/// A grid of `grid/list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GridItem {
    #[serde(deserialize_with = "lenient::string")]
    pub grid_id: String,
    /// A string (a number is read too, as WeCom's examples print one).
    #[serde(deserialize_with = "lenient::string")]
    pub grid_name: String,
    /// `""` for a grid at the top level.
    #[serde(default, deserialize_with = "lenient::string")]
    pub grid_parent_id: String,
    #[serde(default, deserialize_with = "lenient::list")]
    pub grid_admin: Vec<String>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub grid_member: Vec<String>,
}

/// `grid/get_user_grid_info`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserGridInfoRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userid: Option<String>,
}

/// The answer of `grid/get_user_grid_info`: the grids the user is an admin of, and those the
/// user is a member of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserGridInfoResponse {
    #[serde(default, deserialize_with = "lenient::int")]
    pub errcode: i64,
    #[serde(default, deserialize_with = "lenient::string")]
    pub errmsg: String,
    #[serde(default, deserialize_with = "lenient::list")]
    pub manage_grids: Vec<GridRef>,
    #[serde(default, deserialize_with = "lenient::list")]
    pub joined_grids: Vec<GridRef>,
}

/// A grid of `get_user_grid_info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GridRef {
    #[serde(deserialize_with = "lenient::string")]
    pub grid_id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub grid_name: String,
}

/// `grid/add_cata`.
///
/// ```json
/// {"category_name":"暴露垃圾","level":2,"parent_category_id":"c1"}
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddCategoryRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_name: Option<String>,
    /// 1 or 2; a string of digits is read too.
    #[serde(
        default,
        deserialize_with = "lenient::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub level: Option<i64>,
    /// The level-1 parent of a level-2 category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_category_id: Option<String>,
}

/// The answer of `grid/add_cata`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddCategoryResponse {
    #[serde(default, deserialize_with = "lenient::int")]
    pub errcode: i64,
    #[serde(default, deserialize_with = "lenient::string")]
    pub errmsg: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub category_id: String,
}

/// `grid/update_cata`: the category and what changes (an absent field stays as it is).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateCategoryRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_name: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub level: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_category_id: Option<String>,
}

/// `grid/delete_cata`: a category.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryIdRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_id: Option<String>,
}

/// The answer of `grid/list_cata`. patrol writes `category_list` (the current official example);
/// `cata_list` is read too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListCategoryResponse {
    #[serde(default, deserialize_with = "lenient::int")]
    pub errcode: i64,
    #[serde(default, deserialize_with = "lenient::string")]
    pub errmsg: String,
    #[serde(default, alias = "cata_list", deserialize_with = "lenient::list")]
    pub category_list: Vec<CategoryItem>,
}

/// A category of `list_cata`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryItem {
    #[serde(alias = "cata_id", deserialize_with = "lenient::string")]
    pub category_id: String,
    #[serde(alias = "cata_name", deserialize_with = "lenient::string")]
    pub category_name: String,
    /// 1 or 2 (a string is read too).
    #[serde(alias = "level_id", deserialize_with = "lenient::int")]
    pub level: i64,
    /// `""` for a level-1 category.
    #[serde(
        default,
        alias = "parent_cata_id",
        deserialize_with = "lenient::string"
    )]
    pub parent_category_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_cata_reads_both_shapes() {
        let current = r#"{"errcode":0,"errmsg":"ok","category_list":[{"category_id":"c1","category_name":"市容","level":1,"parent_category_id":""},{"category_id":"c1a","category_name":"垃圾","level":"2","parent_category_id":"c1"}]}"#;
        let old = r#"{"errcode":0,"errmsg":"ok","cata_list":[{"cata_id":"c1","cata_name":"市容","level_id":1},{"cata_id":"c1a","cata_name":"垃圾","level":2,"parent_cata_id":"c1"}]}"#;
        let current: ListCategoryResponse = serde_json::from_str(current).unwrap();
        let old: ListCategoryResponse = serde_json::from_str(old).unwrap();
        assert_eq!(current, old);
        assert_eq!(current.category_list[1].level, 2);
        assert_eq!(current.category_list[0].parent_category_id, "");
        assert_eq!(
            serde_json::to_string(&current.category_list[0]).unwrap(),
            r#"{"category_id":"c1","category_name":"市容","level":1,"parent_category_id":""}"#
        );
    }

    #[test]
    fn grid_answers_read_leniently_and_write_in_wecoms_order() {
        let text = r#"{"errcode":0,"errmsg":"ok","grid_list":[{"grid_id":"g1","grid_name":1,"grid_parent_id":"","grid_admin":["a"],"grid_member":null}]}"#;
        let answer: ListGridResponse = serde_json::from_str(text).unwrap();
        assert_eq!(answer.grid_list[0].grid_name, "1");
        assert!(answer.grid_list[0].grid_member.is_empty());
        assert_eq!(
            serde_json::to_string(&answer).unwrap(),
            r#"{"errcode":0,"errmsg":"ok","grid_list":[{"grid_id":"g1","grid_name":"1","grid_parent_id":"","grid_admin":["a"],"grid_member":[]}]}"#
        );
        let request = AddGridRequest {
            grid_name: Some("一号".into()),
            grid_parent_id: Some(String::new()),
            grid_admin: Some(vec!["a".into()]),
            grid_member: None,
        };
        assert_eq!(
            serde_json::to_string(&request).unwrap(),
            r#"{"grid_name":"一号","grid_parent_id":"","grid_admin":["a"]}"#
        );
        let level: AddCategoryRequest = serde_json::from_str(r#"{"level":"2"}"#).unwrap();
        assert_eq!(level.level, Some(2));
    }
}
