//! A real browser (headless Chromium) shows the demo's pictures and plays its videos: an image
//! URL of an order opens as an image, and a video id plays through `media/get`.
//!
//! Needs Chromium: `.ci/run` installs Debian's `chromium`; elsewhere install it, or name another
//! binary in `PATROL_CHROMIUM`.

use std::process::{Command, Output};

use patrol_demo::{DEMO_CORPID, DEMO_PATROL_SECRET};
use serde_json::json;

use crate::support::Served;

fn chromium() -> String {
    std::env::var("PATROL_CHROMIUM").unwrap_or_else(|_| "chromium".to_owned())
}

/// Headless Chromium with the flags every browser test needs (no sandbox: CI runs as root).
pub(crate) fn headless() -> Command {
    let mut command = Command::new(chromium());
    command.args([
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
    ]);
    command
}

/// Runs a Chromium command and returns its output; a missing Chromium fails the test, saying
/// how to install it.
pub(crate) fn run(command: &mut Command) -> Output {
    command.output().unwrap_or_else(|e| {
        panic!(
            "cannot run {} ({e}): install Chromium (apt-get install chromium) or set \
             PATROL_CHROMIUM",
            chromium()
        )
    })
}

#[tokio::test]
async fn a_browser_shows_the_demos_pictures_and_plays_its_videos() {
    let served = Served::on_any_port(&["--demo", "--data-dir", "{dir}"]);
    let wecom = served.wecom();
    let token = wecom.token(DEMO_CORPID, DEMO_PATROL_SECRET).await;
    let page = wecom.order_list(&token, json!({"limit": 50})).await;
    let orders = page["order_list"].as_array().unwrap();
    let image = orders
        .iter()
        .find_map(|o| o["image_urls"][0].as_str())
        .expect("an order with an image")
        .to_owned();
    let video = orders
        .iter()
        .find_map(|o| o["video_media_ids"][0].as_str())
        .expect("an order with a video")
        .to_owned();
    let video_url = format!(
        "{}/cgi-bin/media/get?access_token={token}&media_id={video}",
        served.url
    );
    // The page reports what the browser made of both in its title, which --dump-dom prints.
    let html = format!(
        r#"<html><head><title>waiting</title></head><body>
<img id="i" src="{image}"><video id="v" muted preload="auto" src="{video_url}"></video>
<script>
const img = document.getElementById('i'), v = document.getElementById('v'), seen = {{}};
const show = () => {{ document.title = JSON.stringify({{image: seen.image, video: seen.video}}); }};
img.onload = () => {{ seen.image = img.naturalWidth + 'x' + img.naturalHeight; show(); }};
img.onerror = () => {{ seen.image = 'error'; show(); }};
v.onloadeddata = () => {{ seen.video = v.videoWidth + 'x' + v.videoHeight + ' ' + v.duration + 's'; show(); }};
v.onerror = () => {{ seen.video = 'error ' + (v.error && v.error.code); show(); }};
</script></body></html>"#
    );
    let file = served.dir.path().join("page.html");
    std::fs::write(&file, html).unwrap();
    // A page that shows neither both media nor an error ran out of Chromium's time budget on a
    // busy machine: it is asked again, up to three times. An error fails at once.
    let expected = r#"<title>{"image":"320x240","video":"320x240 3s"}</title>"#;
    let mut attempts = 0;
    let output = loop {
        attempts += 1;
        let output = run(headless()
            .args(["--virtual-time-budget=15000", "--dump-dom"])
            .arg(format!("file://{}", file.display())));
        let dom = String::from_utf8_lossy(&output.stdout);
        let title = dom
            .split_once("<title>")
            .and_then(|(_, rest)| rest.split_once("</title>"))
            .map_or("", |(title, _)| title);
        if dom.contains(expected) || title.contains("error") || attempts == 3 {
            break output;
        }
    };
    let dom = String::from_utf8_lossy(&output.stdout);
    assert!(
        dom.contains(expected),
        "{image} and {video_url} in Chromium: {dom}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
