//! The administration API (`/admin/v1`, docs/admin-api.md): calls with the admin key, raw calls
//! with any `Authorization`, and assertions on its `{"error": {"code", "message"}}` answers.

use serde_json::Value;

use crate::{ADMIN_KEY, TestApp};

/// An answer of a raw request: status, `Content-Type` and body text.
#[derive(Debug, Clone)]
pub struct Raw {
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The body text.
    pub text: String,
}

impl Raw {
    /// The body parsed as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text))
    }
}

/// Parses an answer's text as JSON.
#[track_caller]
pub fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

impl TestApp {
    /// `method /admin/v1{path}` with an optional `Authorization` header and raw body.
    pub async fn admin_raw(
        &self,
        method: &str,
        path: &str,
        authorization: Option<&str>,
        body: Option<&str>,
    ) -> Raw {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut request = self
            .http
            .request(method, format!("{}/admin/v1{path}", self.base_url));
        if let Some(authorization) = authorization {
            request = request.header(reqwest::header::AUTHORIZATION, authorization);
        }
        if let Some(body) = body {
            request = request.body(body.to_owned());
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .map(|v| v.to_str().expect("an ASCII content type").to_owned());
        Raw {
            status,
            content_type,
            text: response.text().await.expect("a text answer"),
        }
    }

    /// `method /admin/v1{path}` with the admin key and a JSON body (`None` for no body);
    /// returns the status and the raw answer text.
    pub async fn admin_text(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, String) {
        let body = body.map(Value::to_string);
        let bearer = format!("Bearer {ADMIN_KEY}");
        let raw = self
            .admin_raw(method, path, Some(&bearer), body.as_deref())
            .await;
        (raw.status, raw.text)
    }

    /// `method /admin/v1{path}` with the admin key and a JSON body (`None` for no body).
    /// Returns the status and the JSON answer (`Value::Null` when the body is empty).
    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let (status, text) = self.admin_text(method, path, body.as_ref()).await;
        let value = if text.is_empty() {
            Value::Null
        } else {
            parse(&text)
        };
        (status, value)
    }

    /// An admin call that must answer `want`; returns the JSON answer.
    pub async fn admin_expect(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        want: u16,
    ) -> Value {
        let (status, answer) = self.admin(method, path, body).await;
        assert_eq!(status, want, "{method} {path}: {answer}");
        answer
    }

    /// `POST /admin/v1/corps/{corpid}/orders` with a JSON body; the status and the answer text.
    pub async fn report(&self, corpid: &str, body: &Value) -> (u16, String) {
        self.admin_text("POST", &format!("/corps/{corpid}/orders"), Some(body))
            .await
    }
}

/// Asserts an error answer of the administration API: the status, exactly
/// `{"error": {"code", "message"}}`, the code, and a non-empty message that names each of
/// `names`.
#[track_caller]
pub fn assert_admin_error(status: u16, body: &Value, want_status: u16, code: &str, names: &[&str]) {
    assert_eq!(status, want_status, "status of {body}");
    let object = body
        .as_object()
        .unwrap_or_else(|| panic!("an error answer is an object: {body}"));
    assert_eq!(
        object.keys().map(String::as_str).collect::<Vec<_>>(),
        ["error"],
        "an error answer is only {{\"error\": …}}: {body}"
    );
    let error = object["error"]
        .as_object()
        .unwrap_or_else(|| panic!("error is an object: {body}"));
    let mut keys: Vec<&str> = error.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["code", "message"], "{body}");
    assert_eq!(error["code"], code, "{body}");
    let message = error["message"]
        .as_str()
        .unwrap_or_else(|| panic!("message is a string: {body}"));
    assert!(!message.trim().is_empty(), "an empty message: {body}");
    for name in names {
        assert!(
            message.contains(name),
            "message {message:?} should name {name:?}: {body}"
        );
    }
}

/// [`assert_admin_error`] on a `(status, text)` answer.
#[track_caller]
pub fn assert_admin_error_text(
    answer: &(u16, String),
    want_status: u16,
    code: &str,
    names: &[&str],
) {
    let (status, text) = answer;
    assert_admin_error(*status, &parse(text), want_status, code, names);
}
