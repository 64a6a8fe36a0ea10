//! `POST /cgi-bin/report/patrol/get_order_list` and `get_order_info`, and the order object they
//! share.
//!
//! The field order of [`Order`], [`Location`] and [`Process`] is the order of WeCom's
//! documentation; serializing an order with serde_json gives the exact bytes patrol serves.

use serde::{Deserialize, Serialize};

/// The body of `get_order_list`. Every field is optional.
///
/// ```json
/// {"begin_create_time": 12345678, "begin_modify_time": 12345678, "cursor": "cursor", "limit": 20}
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GetOrderListRequest {
    /// Unix seconds: only orders created at or after it. Absent or 0: no filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub begin_create_time: Option<i64>,
    /// Unix seconds: only orders modified at or after it. Absent or 0: no filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub begin_modify_time: Option<i64>,
    /// The `next_cursor` of the previous page; empty or absent for the first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Page size, 1 to 50; absent or 0 means 20.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// The successful answer of `get_order_list`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GetOrderListResponse {
    #[serde(default, deserialize_with = "crate::lenient::int")]
    pub errcode: i64,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub errmsg: String,
    /// The cursor of the next page; `""` exactly when this is the last page.
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub next_cursor: String,
    #[serde(default, deserialize_with = "crate::lenient::list")]
    pub order_list: Vec<Order>,
}

/// The body of `get_order_info`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GetOrderInfoRequest {
    /// The order to read. Required.
    #[serde(default)]
    pub order_id: Option<String>,
}

/// The successful answer of `get_order_info`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GetOrderInfoResponse {
    #[serde(default, deserialize_with = "crate::lenient::int")]
    pub errcode: i64,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub errmsg: String,
    pub order_info: Order,
}

/// The successful answer of `GET report/patrol/get_grid_info`: the corp's grids and their
/// admins.
///
/// ```json
/// {"errcode":0,"errmsg":"ok","grid_list":[{"grid_id":"g1","grid_name":"一号网格","grid_admin":["zhangsan"]}]}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GetGridInfoResponse {
    #[serde(default, deserialize_with = "crate::lenient::int")]
    pub errcode: i64,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub errmsg: String,
    #[serde(default, deserialize_with = "crate::lenient::list")]
    pub grid_list: Vec<GridInfo>,
}

/// A grid of `get_grid_info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GridInfo {
    #[serde(deserialize_with = "crate::lenient::string")]
    pub grid_id: String,
    /// A string (WeCom's documentation prints a number here, a typo; a number is read too).
    #[serde(deserialize_with = "crate::lenient::string")]
    pub grid_name: String,
    /// Userids of the grid's admins (负责人).
    #[serde(default, deserialize_with = "crate::lenient::list")]
    pub grid_admin: Vec<String>,
}

/// One reported incident with its history: an element of `order_list`, or `order_info`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Order {
    #[serde(deserialize_with = "crate::lenient::string")]
    pub order_id: String,
    /// Description of the incident.
    #[serde(deserialize_with = "crate::lenient::string")]
    pub desc: String,
    /// Urgency: 1 normal (一般), 2 important (重要), 3 urgent (紧急).
    #[serde(deserialize_with = "crate::lenient::int")]
    pub urge_type: i64,
    /// Name of the category, as it was when the order was reported.
    #[serde(deserialize_with = "crate::lenient::string")]
    pub case_name: String,
    /// Name of the grid, as it was when the order was reported.
    #[serde(deserialize_with = "crate::lenient::string")]
    pub grid_name: String,
    #[serde(deserialize_with = "crate::lenient::string")]
    pub grid_id: String,
    /// Unix seconds.
    #[serde(deserialize_with = "crate::lenient::int")]
    pub create_time: i64,
    #[serde(default, deserialize_with = "crate::lenient::list")]
    pub image_urls: Vec<String>,
    #[serde(default, deserialize_with = "crate::lenient::list")]
    pub video_media_ids: Vec<String>,
    #[serde(default)]
    pub location: Location,
    /// Who must act next; `[]` once the order is closed.
    #[serde(default, deserialize_with = "crate::lenient::list")]
    pub processor_userids: Vec<String>,
    /// The history, oldest step first.
    #[serde(default, deserialize_with = "crate::lenient::list")]
    pub process_list: Vec<Process>,
    /// Resident orders only (居民上报): the reporter's name, `""` when unknown. Absent from
    /// patrol orders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter_name: Option<String>,
    /// Resident orders only: the reporter's mobile number, `""` when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter_mobile: Option<String>,
    /// Resident orders only: the reporter's WeChat unionid, `""` when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unionid: Option<String>,
}

/// Where an incident happened.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Location {
    #[serde(deserialize_with = "crate::lenient::string")]
    pub name: String,
    #[serde(deserialize_with = "crate::lenient::string")]
    pub address: String,
    /// Degrees, -90 to 90.
    #[serde(deserialize_with = "crate::lenient::float")]
    pub latitude: f64,
    /// Degrees, -180 to 180.
    #[serde(deserialize_with = "crate::lenient::float")]
    pub longitude: f64,
}

/// One step of an order's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Process {
    /// 1 create, 2 accept, 3 assign, 4 transfer, 5 done, 6 reject, 7 in progress.
    #[serde(deserialize_with = "crate::lenient::int")]
    pub process_type: i64,
    /// Who completed the step; `""` while the step is open.
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub solve_userid: String,
    #[serde(default, deserialize_with = "crate::lenient::string")]
    pub process_desc: String,
    /// 0 open (处理中), 1 completed (已处理).
    #[serde(deserialize_with = "crate::lenient::int")]
    pub status: i64,
    /// Unix seconds; 0 while the step is open.
    #[serde(default, deserialize_with = "crate::lenient::int")]
    pub solved_time: i64,
    #[serde(default, deserialize_with = "crate::lenient::list")]
    pub image_urls: Vec<String>,
    #[serde(default, deserialize_with = "crate::lenient::list")]
    pub video_media_ids: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_serializes_in_wecom_field_order() {
        let order = Order {
            order_id: "o1".into(),
            desc: "test".into(),
            urge_type: 1,
            case_name: "c".into(),
            grid_name: "g".into(),
            grid_id: "g1".into(),
            create_time: 1,
            image_urls: vec![],
            video_media_ids: vec![],
            location: Location {
                name: "n".into(),
                address: "a".into(),
                latitude: 0.0,
                longitude: 0.5,
            },
            processor_userids: vec!["zhangsan".into()],
            process_list: vec![Process {
                process_type: 1,
                solve_userid: "zhangsan".into(),
                process_desc: "d".into(),
                status: 1,
                solved_time: 1,
                image_urls: vec![],
                video_media_ids: vec![],
            }],
            reporter_name: None,
            reporter_mobile: None,
            unionid: None,
        };
        let json = serde_json::to_string(&order).unwrap();
        assert_eq!(
            json,
            r#"{"order_id":"o1","desc":"test","urge_type":1,"case_name":"c","grid_name":"g","grid_id":"g1","create_time":1,"image_urls":[],"video_media_ids":[],"location":{"name":"n","address":"a","latitude":0.0,"longitude":0.5},"processor_userids":["zhangsan"],"process_list":[{"process_type":1,"solve_userid":"zhangsan","process_desc":"d","status":1,"solved_time":1,"image_urls":[],"video_media_ids":[]}]}"#
        );
        let resident = Order {
            reporter_name: Some("王五".into()),
            reporter_mobile: Some("13800000000".into()),
            unionid: Some(String::new()),
            ..order
        };
        let json = serde_json::to_string(&resident).unwrap();
        assert!(
            json.ends_with(r#""video_media_ids":[]}],"reporter_name":"王五","reporter_mobile":"13800000000","unionid":""}"#),
            "{json}"
        );
    }

    #[test]
    fn a_grid_name_printed_as_a_number_reads() {
        let text = r#"{"errcode":0,"errmsg":"ok","grid_list":[{"grid_id":"g1","grid_name":1,"grid_admin":["a"]}]}"#;
        let answer: GetGridInfoResponse = serde_json::from_str(text).unwrap();
        assert_eq!(answer.grid_list[0].grid_name, "1");
        let written = serde_json::to_string(&answer).unwrap();
        assert!(written.contains(r#""grid_name":"1""#), "{written}");
    }
}
