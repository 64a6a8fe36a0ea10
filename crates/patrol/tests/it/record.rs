//! `patrol record` and `patrol replay`: a client's session through the recorder in front of a
//! demo patrol (raw HTTP and patrol-client) is answered as without it, recorded without a token
//! or a secret, answered byte for byte again by the replay once the upstream is gone (an
//! unrecorded call named in a 404), and turned into a snapshot whose patrol answers every
//! recorded `get_order_info`, the grids, the categories and the statistics with the recorded
//! bytes. Identical calls with changing answers are replayed in order, uploads matched without
//! their bodies; an unreachable upstream is a recorded 502; a recorder killed with `kill -9`
//! leaves a readable recording, a line cut short by it left out with a warning.

use std::io::{BufRead, BufReader, Lines};
use std::process::{Child, ChildStdout, Stdio};

use futures_util::TryStreamExt;
use patrol_client::{Client, OrderQuery};
use patrol_demo::{DEMO_CORPID, DEMO_PATROL_SECRET};
use serde_json::{Value, json};

use crate::support::{
    Served, Wecom, demo_database, fails, patrol, same_answers, serve_on, succeeds, transcript,
};

/// A `patrol record` or `patrol replay` child process, killed on drop.
struct Tool {
    child: Child,
    /// The URL it listens on, from its first line.
    url: String,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Tool {
    /// Runs `patrol ARGS… --listen 127.0.0.1:0` and reads its first line.
    fn start(args: &[&str]) -> Tool {
        let mut command = patrol(args);
        command
            .args(["--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = command.spawn().expect("patrol starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().expect("a first line").unwrap();
        let url = first
            .split(" is listening on ")
            .nth(1)
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .trim()
            .to_owned();
        Tool { child, url, lines }
    }

    /// Stops it with SIGTERM, as Ctrl-C does: it must end well; the rest of its output.
    fn stop(&mut self) -> String {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status}");
        self.lines
            .by_ref()
            .map(Result::unwrap)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Kills it with SIGKILL and waits.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Tool {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `POST /cgi-bin/{api}` with any token: the status and the answer's bytes.
async fn post(url: &str, api: &str, token: &str, body: &Value) -> (u16, Vec<u8>) {
    let answer = reqwest::Client::new()
        .post(format!("{url}/cgi-bin/{api}?access_token={token}"))
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    (status, answer.bytes().await.unwrap().to_vec())
}

/// `GET {url}{path}`: the status, the content type and the bytes.
async fn get(url: &str, path: &str) -> (u16, String, Vec<u8>) {
    let answer = reqwest::get(format!("{url}{path}")).await.unwrap();
    let status = answer.status().as_u16();
    let kind = answer
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, kind, answer.bytes().await.unwrap().to_vec())
}

/// What the project's own client reads of the demo at `url`: both walks of orders, a few
/// orders' info, grids, categories, statistics, and a video through media/get (downloaded into
/// `dir`), each as text to compare.
async fn client_session(url: &str, dir: &std::path::Path) -> Vec<String> {
    let client = Client::builder()
        .base_url(url)
        .corpid(DEMO_CORPID)
        .secret(DEMO_PATROL_SECRET)
        .build()
        .unwrap();
    let mut seen = Vec::new();
    let orders: Vec<_> = client
        .orders(OrderQuery {
            limit: Some(50),
            ..OrderQuery::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert!(orders.len() >= 200, "{}", orders.len());
    seen.push(format!("{orders:?}"));
    let resident: Vec<_> = client
        .resident()
        .orders(OrderQuery {
            limit: Some(20),
            begin_modify_time: Some(1),
            ..OrderQuery::default()
        })
        .try_collect()
        .await
        .unwrap();
    seen.push(format!("{resident:?}"));
    for order in orders.iter().take(10) {
        seen.push(format!(
            "{:?}",
            client.get_order_info(&order.order_id).await.unwrap()
        ));
    }
    let grids = client.list_grids(None).await.unwrap();
    seen.push(format!("{grids:?}"));
    seen.push(format!("{:?}", client.list_categories().await.unwrap()));
    seen.push(format!("{:?}", client.get_grid_info().await.unwrap()));
    let patrol = client.patrol();
    seen.push(format!("{:?}", patrol.corp_status(None).await.unwrap()));
    seen.push(format!(
        "{:?}",
        patrol.corp_status(Some(&grids[0].grid_id)).await.unwrap()
    ));
    seen.push(format!(
        "{:?}",
        patrol.user_status(&grids[0].grid_admin[0]).await.unwrap()
    ));
    seen.push(format!(
        "{:?}",
        patrol.category_statistic(None).await.unwrap()
    ));
    let video = orders
        .iter()
        .find_map(|order| order.video_media_ids.first())
        .expect("an order shows a video");
    let file = dir.join(format!("video-{}.mp4", seen.len()));
    let _ = std::fs::remove_file(&file);
    let download = client.download_media(video, &file).await.unwrap();
    seen.push(format!("{} {}", download.content_type, download.size));
    let bytes = std::fs::read(&file).unwrap();
    seen.push(blake3::hash(&bytes).to_hex().to_string());
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_session_is_replayed_byte_for_byte_and_seeds_a_patrol() {
    let dir = tempfile::tempdir().unwrap();
    let database = demo_database(dir.path(), "demo.db");
    let port = patrol_test::cluster::free_port();
    let upstream = serve_on(&database, None, port);
    let file = dir.path().join("session.recording");
    let file_text = file.display().to_string();
    let mut recorder = Tool::start(&["record", "--upstream", &upstream.url, "--out", &file_text]);

    // Raw HTTP through the recorder: every WeCom call of the demo, answered as without it.
    let wecom = Wecom::at(&recorder.url);
    let gettoken = wecom.gettoken(DEMO_CORPID, DEMO_PATROL_SECRET).await;
    let token = gettoken["access_token"].as_str().unwrap().to_owned();
    let page = wecom.order_list(&token, json!({ "limit": 5 })).await;
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let before = transcript(&recorder.url, &token, &cursor).await;
    let direct = transcript(&upstream.url, &token, &cursor).await;
    // (The direct transcript also fetches the images: compare the calls both made.)
    same_answers(&before, &direct[..before.len()], "through the recorder");
    // A served image, and paths outside /cgi-bin/.
    let image = page["order_list"][0]["image_urls"][0].as_str().unwrap();
    let image_path = image.strip_prefix(&upstream.url).unwrap().to_owned();
    let (status, kind, image_bytes) = get(&recorder.url, &image_path).await;
    assert_eq!((status, kind.as_str()), (200, "image/jpeg"));
    assert_eq!(image_bytes, get(&upstream.url, &image_path).await.2);
    let (status, _, missing) = get(&recorder.url, "/cgi-bin/no/such/api").await;
    assert_eq!((status, missing.len()), (404, 0));
    // The project's own client through the recorder.
    let session = client_session(&recorder.url, dir.path()).await;
    // Each grid's children, so the recording holds the whole tree of grids.
    let grids = Client::builder()
        .base_url(&recorder.url)
        .corpid(DEMO_CORPID)
        .secret(DEMO_PATROL_SECRET)
        .build()
        .unwrap()
        .get_grid_info()
        .await
        .unwrap();
    for grid in &grids {
        let (status, _) = post(
            &recorder.url,
            "report/grid/list",
            &token,
            &json!({ "grid_id": grid.grid_id }),
        )
        .await;
        assert_eq!(status, 200);
    }

    let stdout = recorder.stop();
    let text = std::fs::read_to_string(&file).unwrap();
    let lines = text.lines().count();
    assert!(
        stdout.contains(&format!("recorded {} exchanges", lines - 1)),
        "{stdout}"
    );
    assert!(
        text.starts_with(r#"{"format":"patrol-recording","version":1,"#),
        "{}",
        &text[..200]
    );
    // No token and no secret: the app's secret and every token handed out.
    assert!(!text.contains(DEMO_PATROL_SECRET));
    assert!(!text.contains(&token));
    let client_token = Wecom::at(&upstream.url)
        .token(DEMO_CORPID, DEMO_PATROL_SECRET)
        .await;
    assert_eq!(client_token, token, "one live token per app");
    assert!(text.contains("corpsecret=…redacted…") && text.contains("access_token=…redacted…"));
    drop(upstream);

    // The replay, with the upstream gone: the same calls, the same bytes.
    let replay = Tool::start(&["replay", &file_text]);
    let wecom = Wecom::at(&replay.url);
    let replayed = wecom.gettoken(DEMO_CORPID, "any secret").await;
    let replay_token = replayed["access_token"].as_str().unwrap();
    assert_ne!(replay_token, token);
    assert_eq!(replayed["expires_in"], gettoken["expires_in"]);
    let mut answer = replayed.clone();
    answer["access_token"] = gettoken["access_token"].clone();
    assert_eq!(
        answer, gettoken,
        "gettoken answers as recorded but for its token"
    );
    let after = transcript(&replay.url, replay_token, &cursor).await;
    same_answers(&before, &after, "replayed");
    let (status, kind, bytes) = get(&replay.url, &image_path).await;
    assert_eq!(
        (status, kind.as_str(), &bytes),
        (200, "image/jpeg", &image_bytes)
    );
    assert_eq!(get(&replay.url, "/cgi-bin/no/such/api").await.0, 404);
    assert_eq!(client_session(&replay.url, dir.path()).await, session);
    // A call never recorded: 404, WeCom's envelope, naming it.
    let (status, body) = post(
        &replay.url,
        "report/patrol/get_order_info",
        "t",
        &json!({ "order_id": "never-asked" }),
    )
    .await;
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((status, &body["errcode"]), (404, &json!(40058)), "{body}");
    let errmsg = body["errmsg"].as_str().unwrap();
    assert!(
        errmsg.starts_with(
            "patrol replay: nothing recorded for POST /cgi-bin/report/patrol/get_order_info?access_token=…redacted… with body"
        ) && errmsg.contains("never-asked"),
        "{errmsg}"
    );
    drop(replay);

    // The recording as seed data: a patrol serving it answers every recorded get_order_info
    // with the recorded bytes (the orders' image URLs still name the upstream).
    let seed = dir.path().join("seed.snapshot").display().to_string();
    let stdout = succeeds(
        patrol(&["replay", &file_text, "--to-snapshot", &seed])
            .env("PATROL_CORPSECRET", "seed-s3cret"),
    );
    assert!(
        stdout.contains(&format!("wrote corp {DEMO_CORPID} (")) && stdout.contains(" 300 orders, "),
        "{stdout}"
    );
    let seeded_db = dir.path().join("seeded.db").display().to_string();
    let seeded = Served::on_any_port(&["--database", &seeded_db, "--snapshot", &seed]);
    let token = seeded.wecom().token(DEMO_CORPID, "seed-s3cret").await;
    let mut compared = 0;
    for (call, recorded) in &before {
        let Some((family, order_id)) = call.split_once(" order ") else {
            continue;
        };
        let (status, answer) = post(
            &seeded.url,
            &format!("report/{family}/get_order_info"),
            &token,
            &json!({ "order_id": order_id }),
        )
        .await;
        assert_eq!(status, 200);
        assert!(
            &answer == recorded,
            "{call}:\nrecorded: {}\nseeded:   {}",
            String::from_utf8_lossy(recorded),
            String::from_utf8_lossy(&answer)
        );
        compared += 1;
    }
    assert_eq!(compared, 300);
    // The directory: grids and categories as listed.
    for (call, api) in [
        ("grid/list", "report/grid/list"),
        ("grid/list_cata", "report/grid/list_cata"),
    ] {
        let recorded = &before.iter().find(|(c, _)| c == call).unwrap().1;
        let (_, answer) = post(&seeded.url, api, &token, &json!({})).await;
        assert!(
            &answer == recorded,
            "{call}:\nrecorded: {}\nseeded:   {}",
            String::from_utf8_lossy(recorded),
            String::from_utf8_lossy(&answer)
        );
    }
    // The statistics, recomputed from the seeded orders, as recorded.
    let mut statistics = 0;
    for (call, recorded) in &before {
        let mut words = call.splitn(3, ' ');
        let (Some(family), Some(api), Some(body)) = (words.next(), words.next(), words.next())
        else {
            continue;
        };
        let apis = [
            "get_corp_status",
            "get_user_status",
            "category_statistic",
            "get_grid_info",
        ];
        if !apis.contains(&api) {
            continue;
        }
        let body: Value = serde_json::from_str(body).unwrap();
        let (_, answer) = post(
            &seeded.url,
            &format!("report/{family}/{api}"),
            &token,
            &body,
        )
        .await;
        assert!(
            &answer == recorded,
            "{call}:\nrecorded: {}\nseeded:   {}",
            String::from_utf8_lossy(recorded),
            String::from_utf8_lossy(&answer)
        );
        statistics += 1;
    }
    assert!(statistics > 50, "{statistics}");
    // The media fetched whole (the videos of media/get), byte for byte.
    let mut media = 0;
    for (call, recorded) in &before {
        let Some(path) = call.strip_prefix("GET /cgi-bin/media/get") else {
            continue;
        };
        let (status, _, bytes) = get(
            &seeded.url,
            &format!("/cgi-bin/media/get{path}&access_token={token}"),
        )
        .await;
        assert_eq!(status, 200, "{call}");
        assert!(&bytes == recorded, "{call}");
        media += 1;
    }
    assert!(media > 0);
    // Without a secret it is refused, naming what is missing.
    let stderr = fails(&mut patrol(&["replay", &file_text, "--to-snapshot", &seed]));
    assert!(stderr.contains("--corpsecret"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_calls_replay_in_order_and_a_killed_recorder_leaves_a_readable_file() {
    let dir = tempfile::tempdir().unwrap();
    let upstream = Served::on_any_port(&["--demo", "--database", "{dir}/demo.db"]);
    let file = dir.path().join("killed.recording");
    let file_text = file.display().to_string();
    let mut recorder = Tool::start(&["record", "--upstream", &upstream.url, "--out", &file_text]);
    let wecom = Wecom::at(&recorder.url);
    let token = wecom.token(DEMO_CORPID, DEMO_PATROL_SECRET).await;
    // An upload, its multipart body streamed through.
    let jpeg = patrol_demo::media::image("recorded");
    let media_id = wecom.upload(&token, "image", &jpeg).await;
    let (status, _, bytes) = get(
        &upstream.url,
        &format!("/cgi-bin/media/get?access_token={token}&media_id={media_id}"),
    )
    .await;
    assert_eq!((status, bytes), (200, jpeg));
    // grid/list, a grid added, grid/list again: two identical calls, two answers.
    let (_, first) = post(&recorder.url, "report/grid/list", &token, &json!({})).await;
    let grids: Value = serde_json::from_slice(&first).unwrap();
    let top = &grids["grid_list"][0];
    let (_, added) = post(
        &recorder.url,
        "report/grid/add",
        &token,
        &json!({
            "grid_name": "录制网格",
            "grid_parent_id": top["grid_id"],
            "grid_admin": [top["grid_admin"][0]],
        }),
    )
    .await;
    let added: Value = serde_json::from_slice(&added).unwrap();
    assert_eq!(added["errcode"], 0, "{added}");
    let (_, second) = post(&recorder.url, "report/grid/list", &token, &json!({})).await;
    assert_ne!(first, second);
    // kill -9: every answered exchange is in the file already.
    recorder.kill();
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.lines().count(), 6, "{text}");
    // A line cut short, as by a kill while writing it.
    let mut cut = text.clone();
    cut.push_str(r#"{"seq":5,"time":"2026-"#);
    std::fs::write(&file, cut).unwrap();
    let mut replay = patrol(&["replay", &file_text, "--listen", "127.0.0.1:0"]);
    // A client's secret in the environment (for patrol orders) does not get in the way.
    replay
        .env("PATROL_CORPSECRET", "unused")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = replay.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first_line = lines.next().unwrap().unwrap();
    let url = first_line
        .split(" is listening on ")
        .nth(1)
        .unwrap()
        .to_owned();
    assert_eq!(
        lines.next().unwrap().unwrap().trim(),
        format!("5 exchanges from {file_text}")
    );
    for expected in [&first, &second, &second] {
        let (status, answer) = post(&url, "report/grid/list", "t", &json!({})).await;
        assert_eq!(status, 200);
        assert_eq!(&answer, expected);
    }
    // An upload is matched without its body (its multipart boundary and bytes vary).
    let other = patrol_demo::media::image("another");
    assert_eq!(Wecom::at(&url).upload("t", "image", &other).await, media_id);
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is cut short"), "{stderr}");
    // A bad line elsewhere is refused, naming it.
    let mut bad = text.clone();
    bad.push_str("not json\n");
    std::fs::write(&file, bad).unwrap();
    let stderr = fails(&mut patrol(&["replay", &file_text]));
    assert!(stderr.contains("line 7 is no exchange"), "{stderr}");
    // An existing recording is never overwritten.
    let stderr = fails(&mut patrol(&[
        "record",
        "--upstream",
        &upstream.url,
        "--out",
        &file_text,
        "--listen",
        "127.0.0.1:0",
    ]));
    assert!(stderr.contains("cannot create the recording"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_upstream_is_a_recorded_502() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("down.recording").display().to_string();
    // A port nothing listens on.
    let port = patrol_test::cluster::free_port();
    let upstream = format!("http://127.0.0.1:{port}");
    let mut recorder = Tool::start(&["record", "--upstream", &upstream, "--out", &file]);
    let (status, _, body) = get(
        &recorder.url,
        "/cgi-bin/gettoken?corpid=ww1&corpsecret=s3cret",
    )
    .await;
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((status, &body["errcode"]), (502, &json!(-1)), "{body}");
    assert!(
        body["errmsg"].as_str().unwrap().starts_with(&format!(
            "patrol record: the upstream {upstream} gave no answer"
        )),
        "{body}"
    );
    // A body the upstream never read is recorded as cut short (replay will not compare it).
    let (status, _) = post(
        &recorder.url,
        "report/patrol/get_order_list",
        "t",
        &json!({ "limit": 1 }),
    )
    .await;
    assert_eq!(status, 502);
    recorder.stop();
    let text = std::fs::read_to_string(&file).unwrap();
    let line: Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
    assert_eq!(line["status"], 502);
    assert!(line["error"].is_string(), "{line}");
    let line: Value = serde_json::from_str(text.lines().nth(2).unwrap()).unwrap();
    assert_eq!(
        (&line["status"], &line["request"]["cut"]),
        (&json!(502), &json!(true)),
        "{line}"
    );
    assert!(!text.contains("s3cret"));
}
