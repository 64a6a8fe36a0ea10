//! The WeCom side of the server: `gettoken`, the patrol API, walks, and assertions on WeCom's
//! error answers (`{"errcode", "errmsg"}` with the errmsg's hint, ip and link).

use serde_json::Value;

use crate::{TestApp, TestCorp};

/// The prefix of every successful `get_order_info` answer, up to the order object.
pub const INFO_PREFIX: &str = r#"{"errcode":0,"errmsg":"ok","order_info":"#;

impl TestApp {
    /// `GET /cgi-bin/gettoken?{query}`: the answer must be HTTP 200 with a JSON body.
    pub async fn gettoken(&self, query: &str) -> Value {
        let (status, body) = self.get(&format!("/cgi-bin/gettoken?{query}")).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
    }

    /// `gettoken` for a corpid and secret (HTTP 200 with a JSON body, whatever its errcode).
    pub async fn gettoken_for(&self, corpid: &str, secret: &str) -> Value {
        self.gettoken(&format!("corpid={corpid}&corpsecret={secret}"))
            .await
    }

    /// A token of the corp's patrol-enabled app.
    pub async fn token(&self, corp: &TestCorp) -> String {
        self.token_for(&corp.corpid, &corp.secret).await
    }

    /// A token for any corpid and secret; panics unless gettoken succeeds.
    pub async fn token_for(&self, corpid: &str, secret: &str) -> String {
        let answer = self.gettoken_for(corpid, secret).await;
        assert_eq!(answer["errcode"], 0, "{answer}");
        answer["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access_token in {answer}"))
            .to_owned()
    }

    /// `POST /cgi-bin/report/patrol/{api}?access_token=TOKEN` with a raw body; returns the
    /// status and the body text.
    pub async fn patrol_text(&self, api: &str, token: &str, body: &str) -> (u16, String) {
        self.post(
            &format!("/cgi-bin/report/patrol/{api}?access_token={token}"),
            body.to_owned(),
        )
        .await
    }

    /// `POST /cgi-bin/report/patrol/{api}?access_token=TOKEN` with a raw body; the answer must be
    /// HTTP 200 with a JSON body.
    pub async fn patrol(&self, api: &str, token: &str, body: &str) -> Value {
        let (status, text) = self.patrol_text(api, token, body).await;
        assert_eq!(status, 200, "{text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }

    /// `POST /cgi-bin/report/grid/{api}?access_token=TOKEN` with a raw body (no `Content-Type`);
    /// the answer must be HTTP 200 with a JSON body.
    pub async fn grid(&self, api: &str, token: &str, body: &str) -> Value {
        let (status, text) = self
            .post(
                &format!("/cgi-bin/report/grid/{api}?access_token={token}"),
                body.to_owned(),
            )
            .await;
        assert_eq!(status, 200, "{text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }

    /// A token of a custom app of the corp on the 居民联系 list only (agentid 1000020, secret
    /// `{corpid}-contact-secret`), which may call `report/grid/*`; the app is added on the first
    /// call.
    pub async fn contact_token(&self, corp: &TestCorp) -> String {
        let secret = format!("{}-contact-secret", corp.corpid);
        let apps = self.store.list_apps(corp.key).await.unwrap();
        if !apps.iter().any(|app| app.agentid == 1_000_020) {
            let lists = crate::Lists {
                contact: true,
                ..crate::Lists::default()
            };
            self.app_on(
                corp,
                1_000_020,
                patrol_domain::AppKind::Custom,
                lists,
                true,
                &secret,
            )
            .await;
        }
        self.token_for(&corp.corpid, &secret).await
    }

    /// One `get_order_list` call with a JSON body.
    pub async fn order_list(&self, token: &str, body: Value) -> Value {
        self.patrol("get_order_list", token, &body.to_string())
            .await
    }

    /// One `get_order_info` call for `order_id`.
    pub async fn order_info(&self, token: &str, order_id: &str) -> Value {
        let body = serde_json::json!({ "order_id": order_id }).to_string();
        self.patrol("get_order_info", token, &body).await
    }

    /// The raw text of `order_info` in a successful `get_order_info` answer.
    pub async fn order_info_text(&self, token: &str, order_id: &str) -> String {
        let body = serde_json::json!({ "order_id": order_id }).to_string();
        let (status, text) = self.patrol_text("get_order_info", token, &body).await;
        assert_eq!(status, 200, "{text}");
        text.strip_prefix(INFO_PREFIX)
            .and_then(|rest| rest.strip_suffix('}'))
            .unwrap_or_else(|| panic!("not a successful get_order_info answer: {text}"))
            .to_owned()
    }

    /// The `next_cursor` of the first page of a walk with these filters and limit; the page must
    /// succeed and have a successor.
    pub async fn first_cursor(&self, token: &str, filters: Value, limit: i64) -> String {
        let mut body = filters;
        body["limit"] = limit.into();
        let page = self.order_list(token, body).await;
        assert_eq!(errcode(&page), 0, "{page}");
        assert_eq!(errmsg(&page), "ok", "{page}");
        let next = page["next_cursor"]
            .as_str()
            .unwrap_or_else(|| panic!("next_cursor is a string: {page}"))
            .to_owned();
        assert!(!next.is_empty(), "the walk has a second page: {page}");
        next
    }

    /// Walks `get_order_list` to the end with the given filter body fields and limit; returns
    /// the orders in walk order.
    pub async fn walk(&self, token: &str, filters: Value, limit: i64) -> Vec<Value> {
        let mut orders = Vec::new();
        let mut cursor = String::new();
        loop {
            let mut body = filters.clone();
            body["cursor"] = Value::String(cursor.clone());
            body["limit"] = limit.into();
            let page = self.order_list(token, body).await;
            assert_eq!(page["errcode"], 0, "{page}");
            let list = page["order_list"].as_array().unwrap();
            let next = page["next_cursor"].as_str().unwrap().to_owned();
            assert!(list.len() <= limit as usize);
            assert!(
                next.is_empty() || !list.is_empty(),
                "an empty page with a cursor"
            );
            orders.extend(list.iter().cloned());
            if next.is_empty() {
                return orders;
            }
            cursor = next;
        }
    }
}

/// `errcode` of an answer.
#[track_caller]
pub fn errcode(answer: &Value) -> i64 {
    answer["errcode"]
        .as_i64()
        .unwrap_or_else(|| panic!("no errcode in {answer}"))
}

/// `errmsg` of an answer.
#[track_caller]
pub fn errmsg(answer: &Value) -> &str {
    answer["errmsg"]
        .as_str()
        .unwrap_or_else(|| panic!("no errmsg in {answer}"))
}

/// The parts of an error `errmsg`: the text (with the JSON warning, if any), the request id, the
/// ip and the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrMsg<'a> {
    /// The text before `, hint: [`.
    pub text: &'a str,
    /// The request id.
    pub hint: &'a str,
    /// The caller's ip.
    pub ip: &'a str,
    /// The link to WeCom's error-code page.
    pub link: &'a str,
}

/// Splits an error `errmsg` (`TEXT, hint: [ID], from ip: IP, more info at LINK`) into its parts.
#[track_caller]
pub fn split_errmsg(errmsg: &str) -> ErrMsg<'_> {
    let (text, rest) = errmsg
        .split_once(", hint: [")
        .unwrap_or_else(|| panic!("no hint in {errmsg:?}"));
    let (hint, rest) = rest
        .split_once("], from ip: ")
        .unwrap_or_else(|| panic!("no ip in {errmsg:?}"));
    let (ip, link) = rest
        .split_once(", more info at ")
        .unwrap_or_else(|| panic!("no link in {errmsg:?}"));
    ErrMsg {
        text,
        hint,
        ip,
        link,
    }
}

/// Asserts a WeCom error answer: exactly `errcode` and `errmsg`, the code given, an `errmsg` in
/// WeCom's shape (digits for the request id, the loopback ip, the link ending `?e={code}`).
/// Returns the text of `errmsg` before its hint.
#[track_caller]
pub fn wecom_error_text(answer: &Value, code: i64) -> &str {
    assert_eq!(errcode(answer), code, "{answer}");
    let keys: Vec<&str> = answer
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys.len(),
        2,
        "an error has errcode and errmsg only: {answer}"
    );
    let parts = split_errmsg(errmsg(answer));
    assert!(!parts.text.is_empty(), "{answer}");
    assert!(
        !parts.hint.is_empty() && parts.hint.bytes().all(|b| b.is_ascii_digit()),
        "the request id is digits: {answer}"
    );
    assert_eq!(parts.ip, "127.0.0.1", "{answer}");
    assert_eq!(
        parts.link,
        format!("https://open.work.weixin.qq.com/devtool/query?e={code}"),
        "{answer}"
    );
    parts.text
}

/// Asserts a WeCom error answer (see [`wecom_error_text`]) whose errmsg text is `text`.
#[track_caller]
pub fn assert_wecom_error(answer: &Value, code: i64, text: &str) {
    let message = errmsg(answer);
    assert!(
        message.starts_with(&format!("{text}, hint: [")),
        "errmsg {message:?} should start with {text:?}"
    );
    assert!(
        message.ends_with(&format!("?e={code}")),
        "errmsg {message:?} should end with ?e={code}"
    );
    assert_eq!(wecom_error_text(answer, code), text, "{answer}");
}

/// Asserts that an answer is 40058 with an `errmsg` starting with `prefix`, and no order list.
#[track_caller]
pub fn assert_invalid(answer: &Value, prefix: &str) {
    assert_eq!(errcode(answer), 40058, "{answer}");
    assert!(
        errmsg(answer).starts_with(prefix),
        "errmsg should start with {prefix:?}: {answer}"
    );
    assert!(answer.get("order_list").is_none(), "{answer}");
}

/// An errmsg with its request id replaced by `<id>`, so that two answers can be compared.
#[track_caller]
pub fn without_request_id(errmsg: &str) -> String {
    let start = errmsg.find("hint: [").expect("a hint") + "hint: [".len();
    let end = start + errmsg[start..].find(']').expect("the end of the hint");
    format!("{}<id>{}", &errmsg[..start], &errmsg[end..])
}
