//! The front page at `/`: what this server is, its version, the corps and apps it serves (the
//! first [`MAX_CORPS_SHOWN`], and how many there are), in demo mode the demo's credentials and
//! commands to try it, and where the spec, the probes and the docs are.
//!
//! One HTML page rendered by the server with maud, which escapes every value it is given (corp
//! and app names come from the store); no script, no external asset (the style is inline), so
//! it renders offline. Its `Content-Security-Policy` holds the browser to that. It never shows a
//! secret: the store keeps only their hashes; in demo mode it shows the demo's, which are public
//! (docs/decisions.md, "The front page").

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use patrol_domain::{App, AppKind, Caller, Corp};
use patrol_store::StoreError;

use crate::AppState;
use crate::extract::{ReportApi, may_call};

/// The most corps the page lists; past it the page says how many there are and where to read
/// them all (`GET /admin/v1/corps`).
pub const MAX_CORPS_SHOWN: usize = 25;

/// The most apps the page lists for one corp; past it, how many there are.
pub const MAX_APPS_SHOWN: usize = 20;

/// The one sentence of what this server is.
pub const WHAT_THIS_IS: &str = "patrol is a WeCom-compatible (企业微信) patrol-report server: \
    programs written for WeCom's gettoken, report/patrol, report/resident, report/grid and media \
    APIs run against it unchanged, with only their base URL changed.";

/// The page's header: no script, no frame, nothing fetched but from this page itself (its style
/// is inline).
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// The page's style: inline, system fonts only.
const STYLE: &str = "
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem;
       color: #1b1f24; line-height: 1.45; }
h1 { margin-bottom: 0.2rem; } .version { color: #57606a; font-weight: normal; font-size: 1rem; }
h2 { border-bottom: 1px solid #d0d7de; padding-bottom: 0.2rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 0.3rem 0.6rem;
         border-bottom: 1px solid #d8dee4; }
code, pre { font-family: ui-monospace, monospace; font-size: 0.9rem; }
pre { background: #f6f8fa; padding: 0.8rem; white-space: pre-wrap; word-break: break-all; }
.demo { background: #fff8c5; border: 1px solid #d4a72c; padding: 0.2rem 1rem 0.6rem; }
.note { color: #57606a; }
";

/// One corp as the page shows it: the corp, its first apps and how many apps it has.
struct CorpRow {
    corp: Corp,
    apps: Vec<App>,
    app_count: usize,
}

/// What the page lists of the store.
struct Directory {
    corp_count: usize,
    corps: Vec<CorpRow>,
    /// The demo corp is there and the server runs in demo mode.
    demo: bool,
}

/// `GET /` (and `HEAD /`): the front page. When the store cannot be read the page still shows
/// everything else, says so, and answers 503.
pub async fn page(State(state): State<AppState>) -> Response {
    let directory = match read_directory(&state).await {
        Ok(directory) => Ok(directory),
        Err(error) => {
            tracing::error!(%error, "the front page cannot read the store");
            Err(())
        }
    };
    let status = if directory.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = render(&state.public_url, directory.as_ref().ok()).into_string();
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn read_directory(state: &AppState) -> Result<Directory, StoreError> {
    let corps = state.store.list_corps().await?;
    let corp_count = corps.len();
    let mut rows = Vec::new();
    for corp in corps.into_iter().take(MAX_CORPS_SHOWN) {
        let mut apps = state.store.list_apps(corp.key).await?;
        let app_count = apps.len();
        apps.truncate(MAX_APPS_SHOWN);
        rows.push(CorpRow {
            corp,
            apps,
            app_count,
        });
    }
    let demo = state.config.demo && state.store.corp(patrol_demo::DEMO_CORPID).await?.is_some();
    Ok(Directory {
        corp_count,
        corps: rows,
        demo,
    })
}

/// What an app may call, in words: the parts of the report API its kind and lists allow
/// (`extract::may_call`, the check every call passes), and media, which any token may use.
fn may_call_text(corp: &Corp, app: &App) -> String {
    if !app.enabled {
        return "nothing: disabled (gettoken refuses its secret)".to_owned();
    }
    let caller = Caller {
        corp_key: corp.key,
        corp_created_at: corp.created_at,
        app_key: app.key,
        agentid: app.agentid,
        kind: app.kind,
        patrol_enabled: app.patrol_enabled,
        resident_enabled: app.resident_enabled,
        contact_enabled: app.contact_enabled,
    };
    let mut parts = Vec::new();
    if may_call(&caller, ReportApi::Patrol) {
        parts.push("report/patrol/*");
    }
    if may_call(&caller, ReportApi::Resident) {
        parts.push("report/resident/*");
    }
    match (
        may_call(&caller, ReportApi::Grid),
        may_call(&caller, ReportApi::GridList),
    ) {
        (true, true) => parts.push("report/grid/*"),
        (true, false) => parts.push("report/grid/* but grid/list"),
        (false, true) => parts.push("report/grid/list"),
        (false, false) => {}
    }
    parts.push("media/*");
    parts.join(", ")
}

fn kind_text(kind: AppKind) -> &'static str {
    match kind {
        AppKind::Custom => "custom (自建应用)",
        AppKind::System => "system (系统应用)",
        AppKind::ThirdParty => "third party (第三方应用)",
        AppKind::Provider => "provider-developed (代开发应用)",
    }
}

/// The page: `directory` is `None` when the store could not be read.
fn render(base_url: &str, directory: Option<&Directory>) -> Markup {
    let version = crate::version::VERSION;
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "patrol " (version) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "patrol " span.version id="version" { "version " (version) } " " span.version id="commit" { "(commit " (crate::version::GIT_COMMIT) ")" } }
                p { (WHAT_THIS_IS) }
                p { "Base URL: " code { (base_url) } }
                @if directory.is_some_and(|directory| directory.demo) {
                    (demo_section(base_url))
                }
                h2 { "Corps and apps" }
                @if let Some(directory) = directory {
                    (corps_section(directory))
                } @else {
                    p id="corps-unavailable" {
                        "The database cannot be read now: see the server's log and "
                        a href="/readyz" { "/readyz" } "."
                    }
                }
                h2 { "Links" }
                ul id="links" {
                    li { a href="/openapi.json" { "/openapi.json" } ": the OpenAPI 3.1 spec of every route" }
                    li { a href="/healthz" { "/healthz" } ": alive" }
                    li { a href="/readyz" { "/readyz" } ": ready (database reachable, migrations applied)" }
                    li { a href="/metrics" { "/metrics" } ": Prometheus metrics" }
                    li { a href="/version" { "/version" } ": the version" }
                    li {
                        code { "/admin/v1/" } ": the administration API (corps, apps, users, grids, \
                        orders, the clock, faults), with "
                        code { "Authorization: Bearer <admin key>" }
                    }
                }
                h2 { "Docs" }
                p {
                    "In patrol's repository: "
                    code { "README.md" } " (set-up, the API, configuration), "
                    code { "docs/admin-api.md" } " (the administration API), "
                    code { "docs/decisions.md" } " (every choice where WeCom's documentation is silent), "
                    code { "ARCHITECTURE.md" } " (the crates); and "
                    code { "patrol --help" } "."
                }
            }
        }
    }
}

fn demo_section(base_url: &str) -> Markup {
    let [gettoken, order_list] = patrol_demo::try_it(base_url);
    html! {
        section.demo id="demo" {
            h2 { "Demo mode" }
            p {
                "This server was started with " code { "--demo" } ": the demo corp's credentials \
                are public."
            }
            table {
                tr { th { "corpid" } td { code id="demo-corpid" { (patrol_demo::DEMO_CORPID) } } }
                tr {
                    th { "corpsecret" }
                    td {
                        code id="demo-secret" { (patrol_demo::DEMO_PATROL_SECRET) }
                        " (app " (patrol_demo::DEMO_PATROL_AGENTID) ", on every list)"
                    }
                }
            }
            p { "Try it: paste both lines into a shell; the first gets a token (gettoken), the second lists two orders with it." }
            pre id="try-it" { (gettoken) "\n" (order_list) }
        }
    }
}

fn corps_section(directory: &Directory) -> Markup {
    let shown = directory.corps.len();
    html! {
        p id="corp-count" {
            @match directory.corp_count {
                0 => {
                    "No corp yet: create one with the administration API (POST /admin/v1/corps) \
                    or start with --demo."
                }
                1 => { "1 corp." }
                count if shown < count => {
                    (count) " corps; the first " (shown) " below, all of them with GET \
                    /admin/v1/corps."
                }
                count => { (count) " corps." }
            }
        }
        @if shown > 0 {
            table id="corps" {
                thead { tr { th { "corpid" } th { "name" } th { "apps: agentid, name, kind, may call" } } }
                tbody {
                    @for row in &directory.corps {
                        tr {
                            td { code { (row.corp.corpid) } }
                            td { (row.corp.name) }
                            td {
                                @if row.apps.is_empty() {
                                    span.note { "no app" }
                                }
                                ul {
                                    @for app in &row.apps {
                                        li {
                                            code { (app.agentid) } " " (app.name) " — "
                                            (kind_text(app.kind)) "; may call "
                                            (may_call_text(&row.corp, app))
                                        }
                                    }
                                }
                                @if row.app_count > row.apps.len() {
                                    p.note { (row.app_count) " apps; the first " (row.apps.len()) " above." }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corp(created_at: i64) -> Corp {
        Corp {
            key: 1,
            corpid: "wwx".to_owned(),
            name: "x".to_owned(),
            created_at,
        }
    }

    fn app(kind: AppKind, lists: [bool; 3], enabled: bool) -> App {
        App {
            key: 1,
            corp_key: 1,
            agentid: 1_000_002,
            name: "app".to_owned(),
            kind,
            patrol_enabled: lists[0],
            resident_enabled: lists[1],
            contact_enabled: lists[2],
            enabled,
        }
    }

    #[test]
    fn what_an_app_may_call_follows_the_permission_check() {
        let old = corp(crate::extract::SYSTEM_APP_CUTOFF - 1);
        let new = corp(crate::extract::SYSTEM_APP_CUTOFF);
        let all = [true; 3];
        let cases = [
            (
                &new,
                app(AppKind::Custom, all, true),
                "report/patrol/*, report/resident/*, report/grid/*, media/*",
            ),
            (
                &new,
                app(AppKind::Custom, [false, true, false], true),
                "report/resident/*, media/*",
            ),
            (
                &new,
                app(AppKind::Custom, all, false),
                "nothing: disabled (gettoken refuses its secret)",
            ),
            (
                &old,
                app(AppKind::System, [false; 3], true),
                "report/patrol/*, report/resident/*, report/grid/*, media/*",
            ),
            (&new, app(AppKind::System, all, true), "media/*"),
            (
                &new,
                app(AppKind::Provider, all, true),
                "report/grid/* but grid/list, media/*",
            ),
            (&new, app(AppKind::ThirdParty, all, true), "media/*"),
        ];
        for (corp, app, want) in cases {
            assert_eq!(
                may_call_text(corp, &app),
                want,
                "{app:?} of a corp made at {}",
                corp.created_at
            );
        }
    }

    #[test]
    fn a_store_that_cannot_be_read_leaves_the_rest_of_the_page() {
        let page = render("http://127.0.0.1:8080", None).into_string();
        assert!(page.contains("id=\"corps-unavailable\""), "{page}");
        assert!(page.contains(crate::version::VERSION), "{page}");
        assert!(page.contains("<a href=\"/healthz\">"), "{page}");
        assert!(!page.contains("id=\"demo\""), "{page}");
    }
}
