//! Several servers, one database (issue 11): two `patrol serve` processes on one PostgreSQL
//! database (a throwaway cluster of the test's own) and one media directory, started together.
//! Whatever one issues or writes, the other honours: tokens, cursors, media; writes racing on
//! both serialize; a reader walking by modification never passes a change committed after it;
//! a revocation on one reaches the other within the token cache's bound.
//!
//! Without PostgreSQL's server binaries these tests fail (`PgCluster` panics, naming the package).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use patrol_store::TokenCache;
use patrol_test::PgCluster;
use patrol_test::cluster::{as_owner, run};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::support::{Admin, Served, Wecom};

const KEY: &str = "cross-server-admin-key";
const CORPID: &str = "wwcrossserver";
const CORP: &str = "/corps/wwcrossserver";
/// The grid's admin, who may act on every order of it.
const ADMIN: &str = "zhangsan";
const REPORTER: &str = "lisi";

/// Two servers on one database, with what they need kept alive.
struct Pair {
    servers: [Served; 2],
    /// The secret of the corp's app enabled for patrol.
    secret: String,
    _media: TempDir,
    _cluster: PgCluster,
}

impl Pair {
    /// A fresh cluster, a database `patrol` on it, a shared media directory and two servers on
    /// them, started at the same moment (the first start migrates the database once, under an
    /// advisory lock); then a corp with an app enabled for patrol, two users and a grid, set up
    /// through the first server.
    async fn start() -> Pair {
        let cluster = PgCluster::start(&[]);
        run(
            as_owner(&cluster.program("createdb"))
                .args(["-h", "127.0.0.1", "-U", "postgres", "-p"])
                .arg(cluster.port().to_string())
                .arg("patrol"),
            None,
        );
        let media = tempfile::tempdir().unwrap();
        let (database, media_dir) = (cluster.url_of("patrol"), media.path().display().to_string());
        let args = [
            "--listen",
            "127.0.0.1:0",
            "--database",
            &database,
            "--media-dir",
            &media_dir,
        ];
        let envs = [("PATROL_ADMIN_KEY", KEY)];
        let servers = std::thread::scope(|scope| {
            let starts = [(); 2].map(|()| scope.spawn(|| Served::start(&args, &envs)));
            starts.map(|start| start.join().expect("patrol serve starts"))
        });
        let admin = servers[0].admin(KEY);
        admin
            .ok(
                "POST",
                "/corps",
                Some(json!({"corpid": CORPID, "name": "双服务器"})),
            )
            .await;
        let app = admin
            .ok(
                "POST",
                &format!("{CORP}/apps"),
                Some(json!({"name": "巡查数据对接", "patrol_enabled": true})),
            )
            .await;
        let secret = app["secret"].as_str().unwrap().to_owned();
        for (userid, name) in [(ADMIN, "张三"), (REPORTER, "李四"), ("wangwu", "王五")] {
            admin
                .ok(
                    "POST",
                    &format!("{CORP}/users"),
                    Some(json!({"userid": userid, "name": name})),
                )
                .await;
        }
        admin
            .ok(
                "POST",
                &format!("{CORP}/grids"),
                Some(json!({"grid_id": "g1", "name": "一网格", "admins": [ADMIN],
                            "members": [REPORTER]})),
            )
            .await;
        Pair {
            servers,
            secret,
            _media: media,
            _cluster: cluster,
        }
    }

    fn admins(&self) -> [Admin; 2] {
        [self.servers[0].admin(KEY), self.servers[1].admin(KEY)]
    }

    fn wecoms(&self) -> [Wecom; 2] {
        [self.servers[0].wecom(), self.servers[1].wecom()]
    }
}

/// Reports order `order_id` (by [`REPORTER`] in grid g1, with `extra` fields): its answer.
async fn report(admin: &Admin, order_id: &str, extra: Value) -> Value {
    let mut body = json!({"order_id": order_id, "description": format!("井盖缺失 {order_id}"),
                          "grid_id": "g1", "reporter": REPORTER});
    for (key, value) in extra.as_object().unwrap() {
        body[key] = value.clone();
    }
    admin
        .ok("POST", &format!("{CORP}/orders"), Some(body))
        .await
}

/// [`ADMIN`] accepts order `order_id` with `tag` as the step's description, the time left to
/// the server: the status and the answer.
async fn accept(admin: &Admin, order_id: &str, tag: &str) -> (u16, Value) {
    admin
        .call(
            "POST",
            &format!("{CORP}/orders/{order_id}/actions"),
            Some(json!({"action": "accept", "actor": ADMIN, "description": tag})),
        )
        .await
}

/// The ids of a list of orders.
fn ids(orders: &[Value]) -> Vec<String> {
    orders
        .iter()
        .map(|o| o["order_id"].as_str().unwrap().to_owned())
        .collect()
}

/// The number of steps of an order: each write adds one, so it numbers the order's versions.
fn version(order: &Value) -> usize {
    order["process_list"].as_array().unwrap().len()
}

/// A walk of `get_order_list` with `filters`, `limit` orders a page, its pages asked of the two
/// servers in turn (the first of `first`), each continuing the other's cursor.
async fn walk_across(
    wecoms: &[Wecom; 2],
    token: &str,
    filters: &Value,
    limit: i64,
    first: usize,
) -> Vec<Value> {
    let mut orders = Vec::new();
    let mut cursor = String::new();
    for page in first.. {
        let mut body = filters.clone();
        body["limit"] = json!(limit);
        if !cursor.is_empty() {
            body["cursor"] = json!(cursor);
        }
        let answer = wecoms[page % 2].order_list(token, body).await;
        orders.extend(answer["order_list"].as_array().unwrap().iter().cloned());
        cursor = answer["next_cursor"].as_str().unwrap().to_owned();
        if cursor.is_empty() {
            break;
        }
    }
    orders
}

/// Polls `refused` (an answer of `call`) until it holds, for at most the token cache's bound
/// and a generous slack; panics with the last answer when it never does.
async fn refused_within_the_bound<F, Fut>(what: &str, call: F, refused: impl Fn(&Value) -> bool)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Value>,
{
    let bound = Duration::from_secs(TokenCache::TRUST_SECONDS as u64);
    let deadline = Instant::now() + bound + Duration::from_secs(20);
    loop {
        let answer = call().await;
        if refused(&answer) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: still accepted {bound:?} (+ 20 s) later: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_token_a_cursor_and_a_medium_of_one_server_serve_on_the_other() {
    let pair = Pair::start().await;
    let [a, b] = pair.admins();
    let wecoms = pair.wecoms();
    let expected: Vec<String> = (0..23).map(|i| format!("o{i:02}")).collect();
    for (i, order_id) in expected.iter().enumerate() {
        report([&a, &b][i % 2], order_id, json!({})).await;
    }

    // A token of A works on B, and B's gettoken gives the same live token.
    let token = wecoms[0].token(CORPID, &pair.secret).await;
    let again = wecoms[1].gettoken(CORPID, &pair.secret).await;
    assert_eq!(again["errcode"], 0, "{again}");
    assert_eq!(again["access_token"], token.as_str(), "{again}");
    let on_b = wecoms[1].order_list(&token, json!({"limit": 1})).await;
    assert_eq!(ids(on_b["order_list"].as_array().unwrap()), ["o00"]);

    // A cursor of one continues on the other: every order once, in order, by creation and by
    // modification, starting on either server.
    for filters in [json!({}), json!({"begin_modify_time": 1})] {
        for first in 0..2 {
            let walked = walk_across(&wecoms, &token, &filters, 4, first).await;
            assert_eq!(ids(&walked), expected, "{filters} from server {first}");
        }
    }

    // A medium uploaded to A downloads from B, byte for byte; an order naming it, reported on B,
    // shows it at each server's own URL, and both URLs serve the same bytes.
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0];
    jpeg.extend((0..40_000u32).map(|i| (i % 251) as u8));
    let media_id = wecoms[0].upload(&token, "image", &jpeg).await;
    for wecom in &wecoms {
        let (status, bytes) = wecom
            .get_bytes(&format!(
                "/cgi-bin/media/get?access_token={token}&media_id={media_id}"
            ))
            .await;
        assert_eq!(status, 200);
        assert!(bytes == jpeg, "media/get answers other bytes");
    }
    report(&b, "photo", json!({"image_media_ids": [media_id]})).await;
    for (server, wecom) in pair.servers.iter().zip(&wecoms) {
        let info = wecom
            .call(
                "report/patrol/get_order_info",
                &token,
                json!({"order_id": "photo"}),
            )
            .await;
        assert_eq!(info["errcode"], 0, "{info}");
        let url = format!("{}/media/images/{CORPID}/{media_id}.jpg", server.url);
        assert_eq!(info["order_info"]["image_urls"], json!([url]), "{info}");
        let (status, bytes) = wecom.get_bytes(&url).await;
        assert_eq!(status, 200, "{url}");
        assert!(bytes == jpeg, "{url} serves other bytes");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn steps_racing_on_one_order_from_two_servers_serialize() {
    let pair = Pair::start().await;
    let admins = pair.admins();
    let wecoms = pair.wecoms();
    const ORDERS: usize = 3;
    const STEPS: usize = 30;
    for order in 0..ORDERS {
        report(&admins[order % 2], &format!("race{order}"), json!({})).await;
    }

    // Every step at once, split between the servers.
    let calls = (0..ORDERS).flat_map(|order| {
        let admins = &admins;
        (0..STEPS).map(move |step| async move {
            let (order_id, tag) = (format!("race{order}"), format!("step {order}.{step}"));
            let (status, answer) = accept(&admins[step % 2], &order_id, &tag).await;
            (order_id, tag, status, answer)
        })
    });
    let answers = join_all(calls).await;

    for order in 0..ORDERS {
        let order_id = format!("race{order}");
        let ours: Vec<&(String, String, u16, Value)> =
            answers.iter().filter(|(id, ..)| *id == order_id).collect();
        for (_, tag, status, answer) in &ours {
            assert_eq!(*status, 200, "{tag}: {answer}");
        }
        let (_, last) = admins[order % 2]
            .call("GET", &format!("{CORP}/orders/{order_id}"), None)
            .await;
        let steps = last["process_list"].as_array().unwrap();
        // Every acknowledged step is there once, after the report: none lost, none doubled.
        let descriptions: Vec<&str> = steps[1..]
            .iter()
            .map(|s| s["process_desc"].as_str().unwrap())
            .collect();
        let written: BTreeSet<&str> = descriptions.iter().copied().collect();
        let acknowledged: BTreeSet<&str> = ours.iter().map(|(_, tag, ..)| tag.as_str()).collect();
        assert_eq!(descriptions.len(), STEPS, "{last}");
        assert_eq!(written, acknowledged, "{last}");
        // Times never go back, step after step, and the order's modify_time is its last step's.
        let times: Vec<i64> = steps
            .iter()
            .map(|s| s["solved_time"].as_i64().unwrap())
            .collect();
        assert!(times.is_sorted(), "{times:?}");
        // Its modify_time is its last step's: listed from that second, not from the next.
        let token = wecoms[order % 2].token(CORPID, &pair.secret).await;
        for (since, listed) in [(times[STEPS], true), (times[STEPS] + 1, false)] {
            let page = wecoms[1 - order % 2]
                .order_list(&token, json!({"begin_modify_time": since, "limit": 50}))
                .await;
            let page = ids(page["order_list"].as_array().unwrap());
            assert_eq!(page.contains(&order_id), listed, "since {since}: {page:?}");
        }
        // Each answer is one version of the order, which the next extends: sorted by their
        // number of steps, the answers are prefixes of the last, and the time of their last
        // step (their modify_time) never goes back.
        let mut versions: Vec<&Value> = ours.iter().map(|(.., answer)| answer).collect();
        versions.sort_by_key(|answer| version(answer));
        for (n, answer) in versions.iter().enumerate() {
            assert_eq!(version(answer), n + 2, "{answer}");
            assert_eq!(
                answer["process_list"].as_array().unwrap()[..n + 2]
                    .iter()
                    .map(|s| &s["process_desc"])
                    .collect::<Vec<_>>(),
                steps[..n + 2]
                    .iter()
                    .map(|s| &s["process_desc"])
                    .collect::<Vec<_>>()
            );
        }
        let modified: Vec<i64> = versions
            .iter()
            .map(|answer| {
                let steps = answer["process_list"].as_array().unwrap();
                steps.last().unwrap()["solved_time"].as_i64().unwrap()
            })
            .collect();
        assert!(modified.is_sorted(), "{modified:?}");
    }
}

/// A write acknowledged to a writer: the order and its version then, and when the answer came.
struct Acknowledged {
    order_id: String,
    version: usize,
    at: Instant,
}

/// A walk by modification done while writers write: the newest version of each order it saw,
/// and when its last page was asked for.
struct Walk {
    seen: BTreeMap<String, usize>,
    last_page_asked: Instant,
}

/// One modify-ordered walk, a few orders a page, its pages asked of the two servers in turn.
/// An order appears again only when changed since: never twice with one version.
async fn walk_by_modification(wecoms: &[Wecom; 2], token: &str, first: usize) -> Walk {
    let mut seen = BTreeMap::new();
    let mut cursor = String::new();
    for page in first.. {
        let mut body = json!({"begin_modify_time": 1, "limit": 3});
        if !cursor.is_empty() {
            body["cursor"] = json!(cursor);
        }
        let asked = Instant::now();
        let answer = wecoms[page % 2].order_list(token, body).await;
        for order in answer["order_list"].as_array().unwrap() {
            let order_id = order["order_id"].as_str().unwrap().to_owned();
            let version = version(order);
            let before = seen.insert(order_id.clone(), version);
            assert!(
                before.is_none_or(|before| before < version),
                "order {order_id} seen at version {before:?}, then {version} in one walk"
            );
        }
        cursor = answer["next_cursor"].as_str().unwrap().to_owned();
        if cursor.is_empty() {
            return Walk {
                seen,
                last_page_asked: asked,
            };
        }
    }
    unreachable!()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reader_walking_by_modification_never_passes_a_change_committed_after_it() {
    let pair = Arc::new(Pair::start().await);
    let admins = pair.admins();
    let wecoms = pair.wecoms();
    for order in 0..6 {
        report(&admins[order % 2], &format!("base{order}"), json!({})).await;
    }
    let token = wecoms[0].token(CORPID, &pair.secret).await;

    // Four writers, two on each server, each reporting orders and stepping the shared ones;
    // every acknowledged write is one version of one order.
    const WRITES: usize = 24;
    let writers = (0..4).map(|writer| {
        let pair = Arc::clone(&pair);
        tokio::spawn(async move {
            let admin = pair.servers[writer % 2].admin(KEY);
            let mut acknowledged = Vec::new();
            for write in 0..WRITES {
                let order = if write % 3 == 0 {
                    let order_id = format!("w{writer}-{write}");
                    report(&admin, &order_id, json!({})).await
                } else {
                    let order_id = format!("base{}", (writer + write) % 6);
                    let (status, answer) =
                        accept(&admin, &order_id, &format!("{writer}.{write}")).await;
                    assert_eq!(status, 200, "{answer}");
                    answer
                };
                acknowledged.push(Acknowledged {
                    order_id: order["order_id"].as_str().unwrap().to_owned(),
                    version: version(&order),
                    at: Instant::now(),
                });
            }
            acknowledged
        })
    });
    let writers = tokio::spawn(join_all(writers));

    // The reader walks again and again, on both servers, while they write.
    let mut walks = Vec::new();
    while !writers.is_finished() {
        walks.push(walk_by_modification(&wecoms, &token, walks.len()).await);
    }
    let acknowledged: Vec<Acknowledged> = writers
        .await
        .unwrap()
        .into_iter()
        .flat_map(|writer| writer.unwrap())
        .collect();
    walks.push(walk_by_modification(&wecoms, &token, walks.len()).await);
    assert!(walks.len() >= 2, "the reader walked only once");

    // A write acknowledged before a walk asked for its last page is in that walk, at its
    // version or a later one: the walk's cursor never passed it. The last walk, after every
    // write, has every order at its last version.
    for (n, walk) in walks.iter().enumerate() {
        for write in acknowledged.iter().filter(|w| w.at < walk.last_page_asked) {
            let seen = walk.seen.get(&write.order_id);
            assert!(
                seen.is_some_and(|&seen| seen >= write.version),
                "walk {n} of {} missed order {} at version {} (saw {seen:?})",
                walks.len(),
                write.order_id,
                write.version
            );
        }
    }
    let mut last_versions: BTreeMap<&str, usize> = BTreeMap::new();
    for write in &acknowledged {
        let version = last_versions.entry(&write.order_id).or_default();
        *version = (*version).max(write.version);
    }
    let last = &walks.last().unwrap().seen;
    assert_eq!(last.len(), 6 + 4 * WRITES / 3, "{last:?}");
    for (order_id, version) in last_versions {
        assert_eq!(last.get(order_id), Some(&version), "order {order_id}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_revocation_on_one_server_reaches_the_other_within_the_token_cache_bound() {
    let pair = Pair::start().await;
    let [a, b] = pair.admins();
    let wecoms = pair.wecoms();
    report(&a, "o1", json!({})).await;
    let app = format!("{CORP}/apps/1000002");
    let list = |server: usize, token: String| {
        let wecom = &wecoms[server];
        async move {
            wecom
                .call("report/patrol/get_order_list", &token, json!({}))
                .await
        }
    };
    let errcode_is = |code: i64| move |answer: &Value| answer["errcode"] == code;

    // An app disabled on A: its token is refused on A at once (A's own write empties A's
    // cache), on B (which has it cached) within the bound; B grants no new one.
    let token = wecoms[0].token(CORPID, &pair.secret).await;
    assert_eq!(list(1, token.clone()).await["errcode"], 0);
    a.ok("PATCH", &app, Some(json!({"enabled": false}))).await;
    assert_eq!(list(0, token.clone()).await["errcode"], 40014);
    refused_within_the_bound(
        "a disabled app's token on the other server",
        || list(1, token.clone()),
        errcode_is(40014),
    )
    .await;
    assert_eq!(
        wecoms[1].gettoken(CORPID, &pair.secret).await["errcode"],
        40001
    );

    // Enabled again on B; its secret reset on B: the old token is refused on A within the
    // bound, the old secret at once, and the new secret's token works on both at once.
    b.ok("PATCH", &app, Some(json!({"enabled": true}))).await;
    let token = wecoms[1].token(CORPID, &pair.secret).await;
    assert_eq!(list(0, token.clone()).await["errcode"], 0);
    let reset = b.ok("POST", &format!("{app}/secret"), None).await;
    let secret = reset["secret"].as_str().unwrap().to_owned();
    refused_within_the_bound(
        "a token of a replaced secret on the other server",
        || list(0, token.clone()),
        errcode_is(40014),
    )
    .await;
    assert_eq!(
        wecoms[0].gettoken(CORPID, &pair.secret).await["errcode"],
        40001
    );
    let token = wecoms[0].token(CORPID, &secret).await;
    for server in 0..2 {
        assert_eq!(list(server, token.clone()).await["errcode"], 0);
    }

    // Taken off the patrol list on A: refused (48002) on B within the bound.
    a.ok("PATCH", &app, Some(json!({"patrol_enabled": false})))
        .await;
    refused_within_the_bound(
        "an app taken off the patrol list, on the other server",
        || list(1, token.clone()),
        errcode_is(48002),
    )
    .await;

    // A user deleted on A is unknown to B at once: no process keeps users.
    a.ok("DELETE", &format!("{CORP}/users/wangwu"), None).await;
    let (status, answer) = b
        .call(
            "POST",
            &format!("{CORP}/orders"),
            Some(json!({"description": "x", "grid_id": "g1", "reporter": "wangwu"})),
        )
        .await;
    assert_eq!(status, 404, "{answer}");
}
