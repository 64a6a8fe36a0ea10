//! The OpenAPI 3.1 description of every route patrol serves, answered at `GET /openapi.json`.
//!
//! The schemas are derived from the types the server writes and reads (`patrol-wire`'s `openapi`
//! feature, utoipa's `ToSchema`): a field added to a wire type is in the spec. The operations are
//! declared here, in one place, by `operations`: one line of `Spec::wecom`, `Spec::admin` or
//! `Spec::other` per route and method. The HTTP suite's `openapi.rs` walks the real router and
//! fails when a route is missing here or this names one that does not exist; `.ci/schemathesis`
//! fuzzes a running server from this document (docs/decisions.md, "OpenAPI").
//!
//! WeCom's quirks are written into the document rather than smoothed over: every `/cgi-bin/`
//! answer is HTTP 200 and either the answer (`errcode` 0) or the error envelope (exactly
//! `errcode` and `errmsg`, the latter in WeCom's `<text>, hint: [<id>], from ip: <ip>, more info
//! at …?e=<code>` shape); a POST body is JSON whatever its `Content-Type`, trailing commas
//! forgiven with a warning in `errmsg`; a POST endpoint called with another method answers
//! 40058; paths under `/cgi-bin/` that patrol does not serve are an empty 404.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use patrol_domain::limits;
use patrol_wire::admin as wire_admin;
use patrol_wire::{ErrCode, grid, media, patrol, stats, token};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::{journal, snapshot};

/// `GET /openapi.json`: the document, built once per process.
pub async fn serve() -> Response {
    static BODY: LazyLock<Vec<u8>> = LazyLock::new(|| {
        serde_json::to_vec_pretty(&document()).expect("the OpenAPI document serializes")
    });
    let mut response = BODY.as_slice().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The OpenAPI document.
pub fn document() -> Value {
    let mut spec = Spec::default();
    operations(&mut spec);
    spec.finish()
}

/// The demo corp's id, the example of every `corpid` in a path.
const DEMO_CORPID: &str = "wwpatroldemo000001";

/// Every route and method patrol serves. A new route is one line here (the drift test names
/// the ones missing).
fn operations(spec: &mut Spec) {
    use Method::{Delete, Get, Patch, Post, Put};
    use patrol_wire::Envelope;
    use wire_admin as admin;

    // WeCom's API under `/cgi-bin/`.
    let answer = spec.schema::<token::GetTokenResponse>();
    spec.wecom(&[Get, Post], "/cgi-bin/gettoken", "Get an access token", None, answer)
        .without_token()
        .query("corpid", true, "The corp's id (missing: 41002; unknown: 40013).")
        .query("corpsecret", true, "The app's secret (missing: 41004, checked first; wrong: 40001).")
        .describe("Any method; the parameters are read from the query string only. One live token per app: a repeated call answers the same token with the seconds it has left.");
    for family in ["patrol", "resident"] {
        let path = |name: &str| format!("/cgi-bin/report/{family}/{name}");
        let answer = spec.schema::<patrol::GetGridInfoResponse>();
        spec.wecom(
            &[Get, Post],
            &path("get_grid_info"),
            "The corp's grids and their admins",
            None,
            answer,
        )
        .describe("Any method; no body is read.");
        let corp_status = path("get_corp_status");
        let user_status = path("get_user_status");
        if family == "patrol" {
            spec.wecom_post::<stats::GetCorpStatusRequest, stats::PatrolCorpStatus>(
                &corp_status,
                "The corp's order counts",
            );
            spec.wecom_post::<stats::GetUserStatusRequest, stats::PatrolUserStatus>(
                &user_status,
                "A user's order counts",
            );
        } else {
            spec.wecom_post::<stats::GetCorpStatusRequest, stats::ResidentCorpStatus>(
                &corp_status,
                "The corp's order counts",
            );
            spec.wecom_post::<stats::GetUserStatusRequest, stats::ResidentUserStatus>(
                &user_status,
                "A user's order counts",
            );
        }
        spec.wecom_post::<stats::CategoryStatisticRequest, stats::CategoryStatisticResponse>(
            &path("category_statistic"),
            "Order counts by category",
        );
        spec.wecom_post::<patrol::GetOrderListRequest, patrol::GetOrderListResponse>(
            &path("get_order_list"),
            "A page of orders",
        );
        spec.wecom_post::<patrol::GetOrderInfoRequest, patrol::GetOrderInfoResponse>(
            &path("get_order_info"),
            "One order with its history",
        );
    }
    let grid = |name: &str| format!("/cgi-bin/report/grid/{name}");
    spec.wecom_post::<grid::AddGridRequest, grid::AddGridResponse>(&grid("add"), "Add a grid");
    spec.wecom_post::<grid::UpdateGridRequest, grid::UpdateGridResponse>(
        &grid("update"),
        "Change a grid",
    );
    spec.wecom_post::<grid::GridIdRequest, Envelope>(&grid("delete"), "Delete a grid");
    spec.wecom_post::<grid::GridIdRequest, grid::ListGridResponse>(
        &grid("list"),
        "A grid and the grids under it",
    );
    spec.wecom_post::<grid::UserGridInfoRequest, grid::UserGridInfoResponse>(
        &grid("get_user_grid_info"),
        "The grids a user manages and belongs to",
    );
    spec.wecom_post::<grid::AddCategoryRequest, grid::AddCategoryResponse>(
        &grid("add_cata"),
        "Add an event category",
    );
    spec.wecom_post::<grid::UpdateCategoryRequest, Envelope>(
        &grid("update_cata"),
        "Change an event category",
    );
    spec.wecom_post::<grid::CategoryIdRequest, Envelope>(
        &grid("delete_cata"),
        "Delete an event category",
    );
    let answer = spec.schema::<grid::ListCategoryResponse>();
    spec.wecom(
        &[Post],
        &grid("list_cata"),
        "The corp's event categories",
        Some(json!({"type": "object"})),
        answer,
    )
    .describe("The body is read (it must be JSON) and ignored.");
    let answer = spec.schema::<media::UploadResponse>();
    spec.wecom(&[Post], "/cgi-bin/media/upload", "Upload a temporary media file", None, answer)
        .query("type", true, "image, voice, video or file (another: 40004).")
        .multipart_upload()
        .describe("A multipart/form-data body whose first file part is the media (its `filename` and `filelength` as WeCom's SDKs send them). The media id lives 3 days.");
    let answer = spec.schema::<Envelope>();
    spec.wecom(&[Get], "/cgi-bin/media/get", "Download a temporary media file", None, answer)
        .query("media_id", true, "An id `media/upload` answered (missing: 41006; unknown or expired: 40007).")
        .binary_download()
        .describe("Any method. The file's bytes with its `Content-Type` (ranges honoured: 206, 416), or, on an error, WeCom's envelope as `application/json` (how SDKs tell a failed download from a file).");

    // Served files and the server's own descriptions, outside `/cgi-bin/` and without a key.
    spec.other(Get, "/media/images/{corpid}/{file}", "An image of an order", json!({
        "description": "Any image uploaded to the corp, live or expired, without a token (as WeCom's image links are); `file` is `<media_id>.<ext>`. Ranges are honoured.",
        "parameters": [path_parameter("corpid"), path_parameter("file")],
        "responses": {
            "200": {"description": "The image", "content": {"*/*": {"schema": {}}}},
            "206": {"description": "The range asked for", "content": {"*/*": {"schema": {}}}},
            "404": {"description": "No such image (empty body)"},
            "416": {"description": "A range outside the file (empty body)"},
        },
    }));
    spec.other(Get, "/metrics", "Prometheus metrics", json!({
        "responses": {"200": {"description": "The server's metrics in OpenMetrics text", "content": {"application/openmetrics-text": {"schema": {"type": "string"}}}}},
    }));
    spec.other(Get, "/", "The front page", json!({
        "description": "What this server is, its version, the corps and apps it serves (the first 25), in demo mode the demo's credentials and a working curl line, links to the spec and the probes. HTML, no script, no external asset.",
        "responses": {
            "200": {"description": "The page", "content": {"text/html": {"schema": {"type": "string"}}}},
            "503": {"description": "The page, saying the database cannot be read", "content": {"text/html": {"schema": {"type": "string"}}}},
        },
    }));
    spec.other(Get, "/healthz", "Alive", json!({
        "description": "The process answers; the database is not asked. Also HEAD.",
        "responses": {"200": {"description": "Alive", "content": {"application/json": {"schema": {"type": "object", "required": ["status"], "properties": {"status": {"const": "ok"}}}}}}},
    }));
    spec.other(Get, "/readyz", "Ready to serve", json!({
        "description": "The database answers within 2 s, its migrations are this build's, and the listener accepts. Also HEAD.",
        "responses": {
            "200": {"description": "Ready", "content": {"application/json": {"schema": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}, "checks": {"type": "object"}}}}}},
            "503": {"description": "Not ready: each failed check says why", "content": {"application/json": {"schema": {"type": "object", "required": ["status", "checks"], "properties": {"status": {"type": "string"}, "checks": {"type": "object"}}}}}},
        },
    }));
    spec.other(Get, "/version", "The version and git commit", json!({
        "description": "Also HEAD.",
        "responses": {"200": {"description": "This build", "content": {"application/json": {"schema": {"type": "object", "required": ["name", "version", "git_commit"], "properties": {"name": {"const": "patrol"}, "version": {"type": "string"}, "git_commit": {"type": "string"}}}}}}},
    }));
    spec.other(Get, "/openapi.json", "This document", json!({
        "responses": {"200": {"description": "The OpenAPI 3.1 document of every route", "content": {"application/json": {"schema": {"type": "object"}}}}},
    }));

    // The administration API under `/admin/v1/`: `admin_read` answers `A` without a body,
    // `admin_json` takes the body `B`.
    let corp = |rest: &str| format!("/admin/v1/corps/{{corpid}}{rest}");
    spec.admin_read::<admin::ClockView>(Get, "/admin/v1/clock", "The server's clock", 200);
    spec.admin_json::<admin::ClockChange, admin::ClockView>(
        Post,
        "/admin/v1/clock",
        "Set, advance, freeze or release the clock",
        200,
    )
    .describe("Exactly one of `set`, `advance`, `freeze`, `release`.");
    spec.admin_json::<admin::CreateCorp, admin::CorpView>(
        Post,
        "/admin/v1/corps",
        "Create a corp",
        201,
    );
    spec.admin_read::<admin::CorpList>(Get, "/admin/v1/corps", "The corps", 200);
    spec.admin_read::<admin::CorpView>(Get, &corp(""), "A corp", 200);
    spec.admin_json::<admin::UpdateCorp, admin::CorpView>(
        Patch,
        &corp(""),
        "Rename a corp or change its creation time",
        200,
    );
    spec.admin(
        Delete,
        &corp(""),
        "Delete a corp: refused (409) while it holds anything, unless force=true",
        None,
        (204, None),
    )
    .query_typed(
        "force",
        false,
        "true: delete the corp with everything it holds (apps, users, grids, categories, orders, media).",
        json!({"type": "boolean"}),
    );
    let to = spec.schema::<snapshot::ResetTo>();
    let reset = json!({"type": "object", "required": ["to"], "additionalProperties": false, "properties": {"to": to}});
    let summary = spec.schema::<snapshot::ResetSummary>();
    spec.admin(
        Post,
        &corp("/reset"),
        "Empty a corp, or make the demo corp the demo again",
        Some(reset),
        (200, Some(summary)),
    );
    spec.admin(
        Get,
        "/admin/v1/snapshot",
        "Save a snapshot",
        None,
        (200, None),
    )
    .query("corp", false, "Only this corp (unknown: 404).")
    .ndjson_answer();
    spec.admin_read::<snapshot::Summary>(Post, "/admin/v1/snapshot", "Load a snapshot", 200)
        .query_typed("replace", false, "`false`: refuse a snapshot holding a corp the server holds (409) instead of replacing it.", json!({"type": "boolean"}))
        .ndjson_body();
    spec.admin_json::<admin::CreateApp, admin::AppView>(
        Post,
        &corp("/apps"),
        "Create an app (its secret is in the answer, once)",
        201,
    );
    spec.admin_read::<admin::AppList>(Get, &corp("/apps"), "A corp's apps", 200);
    spec.admin_json::<admin::UpdateApp, admin::AppView>(
        Patch,
        &corp("/apps/{agentid}"),
        "Change an app",
        200,
    );
    spec.admin(
        Delete,
        &corp("/apps/{agentid}"),
        "Delete an app",
        None,
        (204, None),
    );
    spec.admin_read::<admin::AppView>(
        Post,
        &corp("/apps/{agentid}/secret"),
        "Rotate an app's secret",
        200,
    );
    spec.admin_json::<admin::CreateUser, admin::UserView>(
        Post,
        &corp("/users"),
        "Create a user",
        201,
    );
    spec.admin_read::<admin::UserList>(Get, &corp("/users"), "A corp's users", 200);
    spec.admin_json::<admin::UpdateUser, admin::UserView>(
        Patch,
        &corp("/users/{userid}"),
        "Rename a user",
        200,
    );
    spec.admin(
        Delete,
        &corp("/users/{userid}"),
        "Delete a user",
        None,
        (204, None),
    );
    spec.admin_json::<admin::CreateGrid, admin::GridView>(
        Post,
        &corp("/grids"),
        "Create a grid",
        201,
    );
    spec.admin_read::<admin::GridList>(Get, &corp("/grids"), "A corp's grids", 200);
    spec.admin_read::<admin::GridView>(Get, &corp("/grids/{grid_id}"), "A grid", 200);
    spec.admin_json::<admin::UpdateGrid, admin::GridView>(
        Patch,
        &corp("/grids/{grid_id}"),
        "Change a grid",
        200,
    );
    spec.admin(
        Delete,
        &corp("/grids/{grid_id}"),
        "Delete a grid",
        None,
        (204, None),
    );
    spec.admin_json::<admin::CreateCategory, admin::CategoryView>(
        Post,
        &corp("/categories"),
        "Create an event category",
        201,
    );
    spec.admin_read::<admin::CategoryList>(
        Get,
        &corp("/categories"),
        "A corp's event categories",
        200,
    );
    spec.admin_json::<admin::UpdateCategory, admin::CategoryView>(
        Patch,
        &corp("/categories/{category_id}"),
        "Rename an event category",
        200,
    );
    spec.admin(
        Delete,
        &corp("/categories/{category_id}"),
        "Delete an event category",
        None,
        (204, None),
    );
    spec.admin_json::<admin::ReportOrder, patrol::Order>(
        Post,
        &corp("/orders"),
        "Report an order",
        201,
    )
    .describe("The answer is the order as WeCom's `get_order_info` shows it.");
    spec.admin_read::<admin::OrderPage<patrol::Order>>(
        Get,
        &corp("/orders"),
        "A corp's orders, newest first, by pages",
        200,
    )
    .query_typed(
        "state",
        false,
        "new, processing, done, rejected; open (new or processing), closed (done or rejected).",
        json!({"type": "string", "enum": ["new", "processing", "done", "rejected", "open", "closed"]}),
    )
    .query_typed("grid_id", false, "Orders of this grid (an unknown grid: 404).", json!({"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}))
    .query_typed("category_id", false, "Orders of this category (an unknown category: 404).", json!({"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}))
    .query_typed("urge_type", false, "1 normal, 2 important, 3 urgent.", json!({"type": "integer", "minimum": 1, "maximum": 3}))
    .query_typed("since", false, "Created at or after this time (Unix seconds).", json!({"type": "integer", "minimum": 0, "maximum": limits::MAX_CLOCK_TIME}))
    .query_typed("until", false, "Created before this time (Unix seconds), not before since.", json!({"type": "integer", "minimum": 0, "maximum": limits::MAX_CLOCK_TIME}))
    .query_typed("limit", false, "Orders a page, 1 to 200 (50 when absent).", json!({"type": "integer", "minimum": 1, "maximum": 200}))
    .query_typed("cursor", false, "The next_cursor of the page before, with the same filters (another: 400).", json!({"type": "string"}));
    spec.admin_read::<patrol::Order>(Get, &corp("/orders/{order_id}"), "An order", 200);
    spec.admin_json::<admin::OrderAction, patrol::Order>(
        Post,
        &corp("/orders/{order_id}/actions"),
        "Act on an order",
        200,
    );
    spec.admin_read::<admin::FaultList>(Get, "/admin/v1/faults", "The fault rules in force", 200);
    spec.admin_json::<admin::FaultRule, admin::FaultView>(
        Post,
        "/admin/v1/faults",
        "Add a fault rule",
        201,
    );
    spec.admin_json::<admin::FaultSet, admin::FaultList>(
        Put,
        "/admin/v1/faults",
        "Replace every fault rule",
        200,
    );
    spec.admin_read::<admin::FaultList>(Delete, "/admin/v1/faults", "Remove every fault rule", 200);
    spec.admin_read::<admin::FaultView>(Get, "/admin/v1/faults/{id}", "A fault rule", 200);
    spec.admin_read::<admin::FaultView>(
        Delete,
        "/admin/v1/faults/{id}",
        "Remove a fault rule",
        200,
    );
    let entry = spec.schema::<journal::Entry>();
    let usage = spec.schema::<journal::Usage>();
    let page = json!({"allOf": [
        {"type": "object", "required": ["entries", "missed"], "properties": {
            "entries": {"type": "array", "items": entry},
            "missed": {"type": "integer", "minimum": 0, "description": "Entries after `since` evicted before this read."},
        }},
        usage,
    ]});
    spec.admin(
        Get,
        "/admin/v1/journal",
        "The last calls",
        None,
        (200, Some(page)),
    )
    .journal_query()
    .also_answer(
        "application/x-ndjson",
        json!({"type": "string"}),
        "With `format=jsonl`: one entry per line.",
    );
    spec.admin(
        Delete,
        "/admin/v1/journal",
        "Empty the journal",
        None,
        (204, None),
    );
    spec.admin(
        Get,
        "/admin/v1/journal/stream",
        "The calls as they come (server-sent events)",
        None,
        (200, None),
    )
    .journal_query()
    .also_answer(
        "text/event-stream",
        json!({"type": "string"}),
        "One `entry` event per call, until the client leaves.",
    );
}

/// An HTTP method of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    /// Its name in an OpenAPI path item.
    pub fn key(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Post => "post",
            Method::Put => "put",
            Method::Patch => "patch",
            Method::Delete => "delete",
        }
    }
}

/// The document being built: the schemas the operations use and the operations.
#[derive(Debug, Default)]
struct Spec {
    schemas: BTreeMap<String, Value>,
    paths: BTreeMap<String, Map<String, Value>>,
}

/// Operations just added, to be refined: the same change is made to each.
#[derive(Debug)]
struct Added<'a> {
    spec: &'a mut Spec,
    at: Vec<(String, &'static str)>,
}

impl Spec {
    /// A reference to `T`'s schema, registering it and the schemas it uses.
    fn schema<T: ToSchema>(&mut self) -> Value {
        let mut used = Vec::new();
        T::schemas(&mut used);
        for (name, schema) in used {
            self.schemas.insert(name, to_json(&schema));
        }
        let name = T::name().into_owned();
        self.schemas.insert(name.clone(), to_json(&T::schema()));
        schema_ref(&name)
    }

    /// A WeCom call taking a JSON body `B` by POST and answering `A`.
    fn wecom_post<B: ToSchema, A: ToSchema>(&mut self, path: &str, summary: &str) -> Added<'_> {
        let body = self.schema::<B>();
        let answer = self.schema::<A>();
        self.wecom(&[Method::Post], path, summary, Some(body), answer)
    }

    /// An administration call without a body, answering `A` with `status`.
    fn admin_read<A: ToSchema>(
        &mut self,
        method: Method,
        path: &str,
        summary: &str,
        status: u16,
    ) -> Added<'_> {
        let answer = self.schema::<A>();
        self.admin(method, path, summary, None, (status, Some(answer)))
    }

    /// An administration call taking the JSON body `B`, answering `A` with `status`.
    fn admin_json<B: ToSchema, A: ToSchema>(
        &mut self,
        method: Method,
        path: &str,
        summary: &str,
        status: u16,
    ) -> Added<'_> {
        let body = self.schema::<B>();
        let answer = self.schema::<A>();
        self.admin(method, path, summary, Some(body), (status, Some(answer)))
    }

    fn add(&mut self, method: Method, path: &str, operation: Value) {
        let item = self.paths.entry(path.to_owned()).or_default();
        let previous = item.insert(method.key().to_owned(), operation);
        assert!(
            previous.is_none(),
            "{} {path} is declared twice",
            method.key()
        );
    }

    /// A WeCom operation: the access token in the query (but for gettoken), a JSON body when
    /// `body` is given, and HTTP 200 with the answer or the error envelope.
    fn wecom(
        &mut self,
        methods: &[Method],
        path: &str,
        summary: &str,
        body: Option<Value>,
        answer: Value,
    ) -> Added<'_> {
        let mut at = Vec::new();
        for &method in methods {
            let mut operation = json!({
                "tags": ["WeCom"],
                "summary": summary,
                "operationId": operation_id(method, path),
                "security": [{"access_token": []}],
                "parameters": [],
                "responses": {
                    "200": {
                        "description": "HTTP 200 whatever the outcome: the answer (`errcode` 0), or WeCom's error envelope.",
                        "content": {"application/json": {"schema": {"anyOf": [
                            {"allOf": [answer.clone(), schema_ref("WeComSuccess")]},
                            schema_ref("WeComError"),
                        ]}}},
                    },
                },
            });
            if let Some(body) = &body {
                operation["requestBody"] = json!({
                    "description": "JSON, whatever the `Content-Type`. An empty body is `{}`; trailing commas are forgiven, with `Warning: wrong json format.` in `errmsg`; unknown fields are ignored and `null` is absent; a field of the wrong type is 40058, a missing required one 40063; at most 1 MiB (40058). Another method than POST answers 40058.",
                    "required": false,
                    "content": {"application/json": {"schema": body}},
                });
            }
            self.add(method, path, operation);
            at.push((path.to_owned(), method.key()));
        }
        Added { spec: self, at }
    }

    /// An operation of the administration API: the admin key, JSON in and out, errors as
    /// `{"error": {"code", "message"}}` with their statuses.
    fn admin(
        &mut self,
        method: Method,
        path: &str,
        summary: &str,
        body: Option<Value>,
        (status, answer): (u16, Option<Value>),
    ) -> Added<'_> {
        let mut responses = Map::new();
        let success = match (status, answer) {
            (204, _) => json!({"description": "Done (no body)"}),
            (_, Some(schema)) => {
                json!({"description": "Done", "content": {"application/json": {"schema": schema}}})
            }
            (_, None) => json!({"description": "Done"}),
        };
        responses.insert(status.to_string(), success);
        for (status, why) in ADMIN_ERRORS {
            responses.insert(
                status.to_string(),
                json!({"description": why, "content": {"application/json": {"schema": schema_ref("AdminError")}}}),
            );
        }
        let parameters: Vec<Value> = path_names(path).map(path_parameter).collect();
        let mut operation = json!({
            "tags": ["Administration"],
            "summary": summary,
            "operationId": operation_id(method, path),
            "security": [{"admin_key": []}],
            "parameters": parameters,
            "responses": responses,
        });
        if let Some(body) = body {
            operation["requestBody"] = json!({
                "description": "JSON, whatever the `Content-Type`; unknown fields and wrong types are refused (400) with the field named; at most 1 MiB.",
                "required": true,
                "content": {"application/json": {"schema": body}},
            });
        }
        self.add(method, path, operation);
        Added {
            spec: self,
            at: vec![(path.to_owned(), method.key())],
        }
    }

    /// A route outside both APIs, without credentials.
    fn other(&mut self, method: Method, path: &str, summary: &str, rest: Value) {
        let mut operation = json!({
            "tags": ["Server"],
            "summary": summary,
            "operationId": operation_id(method, path),
            "security": [],
        });
        if let (Value::Object(operation), Value::Object(rest)) = (&mut operation, rest) {
            operation.extend(rest);
        }
        self.add(method, path, operation);
    }

    fn finish(mut self) -> Value {
        self.schemas.insert("WeComSuccess".into(), json!({
            "description": "What every successful WeCom answer carries in front of its payload.",
            "type": "object",
            "required": ["errcode", "errmsg"],
            "properties": {
                "errcode": {"const": 0},
                "errmsg": {"type": "string", "description": "`ok`, or `ok. Warning: wrong json format. ` after a body with trailing commas."},
            },
        }));
        let codes: Vec<String> = ErrCode::ALL
            .iter()
            .filter(|code| code.code() != 0)
            .map(|code| format!("{} {}", code.code(), code.message()))
            .collect();
        self.schemas.insert("WeComError".into(), json!({
            "description": "WeCom's error envelope, answered with HTTP 200: exactly `errcode` and `errmsg`.",
            "type": "object",
            "required": ["errcode", "errmsg"],
            "additionalProperties": false,
            "properties": {
                "errcode": {
                    "type": "integer",
                    "not": {"const": 0},
                    "description": format!("WeCom's error code: {} (a fault rule may answer any other).", codes.join("; ")),
                },
                "errmsg": {
                    "type": "string",
                    "pattern": ERRMSG_PATTERN,
                    "description": "`<text>, hint: [<request id>], from ip: <client ip>, more info at https://open.work.weixin.qq.com/devtool/query?e=<errcode>`; after a body with trailing commas the text starts with `Warning: wrong json format. `. The request id is in the server's log line of the request.",
                },
            },
        }));
        let error = self.schema::<wire_admin::ErrorBody>();
        self.schemas.insert("AdminError".into(), json!({
            "allOf": [error],
            "description": "An error of the administration API. `code`: invalid_request (400), unauthorized (401), not_found (404), method_not_allowed (405), conflict (409), too_large (413), rejected (422), internal (500).",
        }));
        let mut paths = Map::new();
        for (path, item) in self.paths {
            paths.insert(path, Value::Object(item));
        }
        let mut document = json!({
            "openapi": "3.1.0",
            "info": {
                "title": "patrol",
                "version": env!("CARGO_PKG_VERSION"),
                "description": "WeCom's (企业微信) patrol-report API as patrol serves it, and patrol's administration API. WeCom's rules: every outcome under `/cgi-bin/` is HTTP 200 with `{\"errcode\", \"errmsg\"}` (`errcode` 0 is success); paths under `/cgi-bin/` that patrol does not serve answer 404 with an empty body; POST bodies are JSON whatever their `Content-Type`, trailing commas forgiven with a warning in `errmsg`. See docs/decisions.md and docs/admin-api.md.",
                "license": {"name": "MIT OR Apache-2.0", "identifier": "MIT OR Apache-2.0"},
            },
            "tags": [
                {"name": "WeCom", "description": "WeCom's API under `/cgi-bin/`, wire-compatible with WeCom's."},
                {"name": "Administration", "description": "patrol's administration API under `/admin/v1/` (docs/admin-api.md)."},
                {"name": "Server", "description": "Served files and the server's own descriptions."},
            ],
            "paths": paths,
            "components": {
                "schemas": self.schemas,
                "securitySchemes": {
                    "access_token": {
                        "type": "apiKey",
                        "in": "query",
                        "name": "access_token",
                        "description": "The token `gettoken` answered; only the query parameter is read (missing: 41001; unknown: 40014; expired: 42001).",
                    },
                    "admin_key": {
                        "type": "http",
                        "scheme": "bearer",
                        "description": "The server's admin key (`--admin-key`, `PATROL_ADMIN_KEY`); Without it or with another: 401.",
                    },
                },
            },
        });
        response_fields_required(&mut document);
        document
    }
}

impl Added<'_> {
    fn each(&mut self, change: impl Fn(&mut Value)) -> &mut Self {
        for (path, method) in &self.at {
            let operation = self
                .spec
                .paths
                .get_mut(path)
                .and_then(|item| item.get_mut(*method))
                .expect("the operation was just added");
            change(operation);
        }
        self
    }

    fn describe(&mut self, text: &str) -> &mut Self {
        self.each(|operation| operation["description"] = json!(text))
    }

    fn query(&mut self, name: &str, required: bool, text: &str) -> &mut Self {
        self.query_typed(name, required, text, json!({"type": "string"}))
    }

    fn query_typed(&mut self, name: &str, required: bool, text: &str, schema: Value) -> &mut Self {
        let parameter = json!({"name": name, "in": "query", "required": required, "description": text, "schema": schema});
        self.each(|operation| {
            if let Some(parameters) = operation["parameters"].as_array_mut() {
                parameters.push(parameter.clone());
            }
        })
    }

    /// gettoken: no token needed.
    fn without_token(&mut self) -> &mut Self {
        self.each(|operation| operation["security"] = json!([]))
    }

    fn multipart_upload(&mut self) -> &mut Self {
        self.each(|operation| {
            operation["requestBody"] = json!({
                "required": true,
                "description": "At most 20 MB of media in a multipart/form-data body (bounds per type: image 10 MB, voice 2 MB, video 10 MB, file 20 MB; over: 40006 / 40009 / 40011). Another method than POST answers 40058.",
                "content": {"multipart/form-data": {"schema": {
                    "type": "object",
                    "required": ["media"],
                    "properties": {"media": {"type": "string", "contentMediaType": "application/octet-stream"}},
                }}},
            });
        })
    }

    fn binary_download(&mut self) -> &mut Self {
        self.each(|operation| {
            let file = json!({"description": "The file's bytes, with its own `Content-Type`", "content": {"*/*": {"schema": {}}}});
            if let Some(content) = operation["responses"]["200"]["content"].as_object_mut() {
                content.insert("*/*".into(), json!({"schema": {}}));
            }
            operation["responses"]["206"] = file;
            operation["responses"]["416"] = json!({"description": "A range outside the file (empty body)"});
        })
    }

    fn ndjson_answer(&mut self) -> &mut Self {
        self.also_answer("application/x-ndjson", json!({"type": "string"}), "The snapshot, one JSON record per line, streamed as it is written (docs/admin-api.md).")
    }

    fn ndjson_body(&mut self) -> &mut Self {
        self.each(|operation| {
            operation["requestBody"] = json!({
                "required": true,
                "description": "A snapshot `GET /admin/v1/snapshot` saved, whatever the `Content-Type`; checked whole before anything is loaded.",
                "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
            });
        })
    }

    fn also_answer(&mut self, content_type: &str, schema: Value, text: &str) -> &mut Self {
        self.each(|operation| {
            let success = &mut operation["responses"]["200"];
            let old = success["description"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            success["description"] = json!(format!("{old}. {text}"));
            if !success["content"].is_object() {
                success["content"] = json!({});
            }
            success["content"][content_type] = json!({"schema": schema.clone()});
        })
    }

    fn journal_query(&mut self) -> &mut Self {
        let integer = json!({"type": "integer", "format": "int64"});
        let count = json!({"type": "integer", "minimum": 0, "maximum": u64::MAX});
        self.query_typed(
            "since",
            false,
            "Only entries after this id, oldest first.",
            count.clone(),
        )
        .query_typed(
            "since_time",
            false,
            "Only calls at or after this Unix second.",
            integer.clone(),
        )
        .query(
            "path",
            false,
            "A glob over the path (at most 256 characters).",
        )
        .query("corp", false, "Only this corp's calls.")
        .query_typed("agentid", false, "Only this app's calls.", integer.clone())
        .query_typed("errcode", false, "Only answers with this errcode.", integer)
        .query_typed(
            "status",
            false,
            "Only answers with this HTTP status.",
            json!({"type": "integer", "minimum": 0, "maximum": 65535}),
        )
        .query("request_id", false, "The call with this request id.")
        .query_typed(
            "api",
            false,
            "Only calls to this API.",
            json!({"enum": ["wecom", "admin", "other"]}),
        )
        .query("method", false, "Only calls with this HTTP method.")
        .query_typed(
            "limit",
            false,
            "At most this many entries, 1 to 1000 (default 100; every match with `format=jsonl`).",
            json!({"type": "integer", "minimum": 1, "maximum": 1000}),
        )
        .query_typed(
            "format",
            false,
            "`json` (default) or `jsonl`.",
            json!({"enum": ["json", "jsonl"]}),
        )
    }
}

/// The errors every administration operation may answer.
const ADMIN_ERRORS: [(u16, &str); 6] = [
    (
        400,
        "A body, path or query the route refuses (invalid_request)",
    ),
    (401, "No admin key or a wrong one (unauthorized)"),
    (
        404,
        "No such corp, app, user, grid, category, order or rule (not_found)",
    ),
    (409, "A conflict with what is stored (conflict)"),
    (422, "An order action the workflow refuses (rejected)"),
    (
        500,
        "patrol failed (internal); the cause is in the server's log",
    ),
];

/// The shape of a WeCom error's `errmsg` (docs/decisions.md, "Transport").
pub const ERRMSG_PATTERN: &str = r"^[\s\S]*, hint: \[[0-9]+\], from ip: [^,]+, more info at https://open\.work\.weixin\.qq\.com/devtool/query\?e=-?[0-9]+$";

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("a schema serializes")
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// The names of a path's parameters: `{corpid}` … in order.
fn path_names(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
}

/// A path parameter, typed as the route reads it.
fn path_parameter(name: &str) -> Value {
    let (schema, text) = match name {
        "corpid" => (
            json!({"type": "string", "examples": [DEMO_CORPID]}),
            "The corp's id.",
        ),
        "agentid" => (
            json!({"type": "integer", "minimum": 1, "maximum": limits::MAX_AGENTID}),
            "The app's id.",
        ),
        "id" => (
            json!({"type": "integer", "minimum": 0, "maximum": u64::MAX}),
            "The rule's id.",
        ),
        "file" => (json!({"type": "string"}), "`<media_id>.<ext>`."),
        _ => (json!({"type": "string"}), "The id."),
    };
    json!({"name": name, "in": "path", "required": true, "description": text, "schema": schema})
}

/// `get /cgi-bin/report/patrol/get_order_list` → `get_cgi_bin_report_patrol_get_order_list`.
fn operation_id(method: Method, path: &str) -> String {
    let mut id = method.key().to_owned();
    for part in path
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
    {
        id.push('_');
        id.push_str(part);
    }
    id
}

/// In the schemas only answers use, every property that is not nullable is required: patrol
/// always writes them (utoipa leaves a field with a serde default optional, as a reader must).
fn response_fields_required(document: &mut Value) {
    let schemas = document["components"]["schemas"].clone();
    let mut in_requests = Vec::new();
    let mut in_answers = Vec::new();
    if let Some(paths) = document["paths"].as_object() {
        for item in paths.values() {
            for operation in item.as_object().into_iter().flat_map(Map::values) {
                collect_refs(&operation["requestBody"], &schemas, &mut in_requests);
                collect_refs(&operation["parameters"], &schemas, &mut in_requests);
                collect_refs(&operation["responses"], &schemas, &mut in_answers);
            }
        }
    }
    let Some(schemas) = document["components"]["schemas"].as_object_mut() else {
        return;
    };
    for name in in_answers.iter().filter(|name| !in_requests.contains(name)) {
        if let Some(schema) = schemas.get_mut(name) {
            require_non_nullable(schema);
        }
    }
}

fn collect_refs(value: &Value, schemas: &Value, names: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(name) = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                && !names.iter().any(|n| n == name)
            {
                names.push(name.to_owned());
                collect_refs(&schemas[name], schemas, names);
            }
            for value in map.values() {
                collect_refs(value, schemas, names);
            }
        }
        Value::Array(values) => {
            for value in values {
                collect_refs(value, schemas, names);
            }
        }
        _ => {}
    }
}

fn require_non_nullable(schema: &mut Value) {
    let Some(properties) = schema["properties"].as_object() else {
        return;
    };
    let required: Vec<Value> = properties
        .iter()
        .filter(|(_, property)| !nullable(property))
        .map(|(name, _)| json!(name))
        .collect();
    schema["required"] = Value::Array(required);
}

fn nullable(schema: &Value) -> bool {
    match &schema["type"] {
        Value::String(t) => t == "null",
        Value::Array(types) => types.iter().any(|t| t == "null"),
        _ => ["oneOf", "anyOf"].iter().any(|key| {
            schema[key]
                .as_array()
                .is_some_and(|options| options.iter().any(nullable))
        }),
    }
}
