//! The front page of `patrol serve --demo` in a real browser (headless Chromium): the DOM it
//! renders holds the version, the demo's credentials, the links and a curl line that works when
//! pasted; a screenshot of it, read back by OCR (Tesseract), shows the key texts.
//!
//! The OCR checks Latin texts only: the machines have no CJK font, so Chromium draws the Chinese
//! names as boxes (docs/decisions.md, "The front page"). Needs Chromium and Tesseract: `.ci/run`
//! installs Debian's `chromium` and `tesseract-ocr`; a missing one fails the test.

use std::path::Path;
use std::process::Command;

use patrol_demo::{DEMO_CORPID, DEMO_PATROL_SECRET};
use serde_json::Value;

use crate::browser::{headless, run};
use crate::support::Served;

/// The text between `start` and the next `end` in `text`.
#[track_caller]
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    text.split_once(start)
        .and_then(|(_, rest)| rest.split_once(end))
        .unwrap_or_else(|| panic!("no {start}…{end} in {text}"))
        .0
}

/// The text of an HTML text node: its character references resolved.
fn unescape(html: &str) -> String {
    html.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

/// The text Tesseract reads in an image.
fn ocr(image: &Path) -> String {
    let output = Command::new("tesseract")
        .arg(image)
        .arg("-")
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run tesseract ({e}): install Tesseract (apt-get install tesseract-ocr, as \
                 .ci/run does); the front page's screenshot is read by OCR"
            )
        });
    assert!(
        output.status.success(),
        "tesseract failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("tesseract prints UTF-8")
}

/// Text without its white space: OCR splits monospaced words (`wwpat roldemo000001`).
fn squeezed(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn the_demos_front_page_renders_in_a_browser_with_a_working_curl_line_and_reads_in_a_screenshot() {
    let served = Served::on_any_port(&["--demo", "--data-dir", "{dir}"]);
    let page = format!("{}/", served.url);
    let version = patrol_server::version::VERSION;

    // The page answers at all (Chromium says no more than that a load failed).
    let status = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
        .arg(&page)
        .output()
        .expect("curl runs");
    assert_eq!(String::from_utf8_lossy(&status.stdout), "200", "GET {page}");

    // The DOM Chromium builds of the page.
    let output = run(headless()
        .args(["--virtual-time-budget=5000", "--dump-dom"])
        .arg(&page));
    let dom = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        dom.contains(&format!("<title>patrol {version}</title>")),
        "{dom}\n{stderr}"
    );
    assert!(
        dom.contains(&format!(
            r#"<span class="version" id="version">version {version}</span>"#
        )),
        "{dom}"
    );
    assert!(
        dom.contains(&format!(
            r#"<span class="version" id="commit">(commit {})</span>"#,
            patrol_server::version::GIT_COMMIT
        )),
        "{dom}"
    );
    assert!(dom.contains("WeCom-compatible"), "{dom}");
    assert!(
        dom.contains(&format!(r#"<code id="demo-corpid">{DEMO_CORPID}</code>"#)),
        "{dom}"
    );
    assert!(
        dom.contains(&format!(
            r#"<code id="demo-secret">{DEMO_PATROL_SECRET}</code>"#
        )),
        "{dom}"
    );
    // The patrol app's secret is the one shown: not the demo's other apps'.
    assert!(!dom.contains(patrol_demo::DEMO_OTHER_SECRET), "{dom}");
    assert!(!dom.contains(patrol_demo::DEMO_SYSTEM_SECRET), "{dom}");
    assert!(
        dom.contains(&format!("<code>{DEMO_CORPID}</code>")),
        "{dom}"
    );
    assert!(dom.contains(patrol_demo::DEMO_CORP_NAME), "{dom}");
    for link in [
        "/openapi.json",
        "/healthz",
        "/readyz",
        "/metrics",
        "/version",
    ] {
        assert!(
            dom.contains(&format!(r#"<a href="{link}">"#)),
            "{link}: {dom}"
        );
    }

    // The two lines of "Try it", as the browser shows them, pasted into a shell.
    let try_it = unescape(between(&dom, r#"<pre id="try-it">"#, "</pre>"));
    let lines: Vec<&str> = try_it.lines().collect();
    assert_eq!(lines.len(), 2, "{try_it}");
    assert!(
        lines[0].contains(&format!(
            "{}/cgi-bin/gettoken?corpid={DEMO_CORPID}&corpsecret={DEMO_PATROL_SECRET}",
            served.url
        )),
        "{try_it}"
    );
    assert!(
        lines[1].contains("/cgi-bin/report/patrol/get_order_list?access_token=$TOKEN"),
        "{try_it}"
    );
    let shell = Command::new("bash")
        .arg("-c")
        .arg(&try_it)
        .output()
        .expect("bash runs the lines");
    let stdout = String::from_utf8_lossy(&shell.stdout);
    let answer: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&shell.stderr)));
    assert_eq!(answer["errcode"], 0, "{answer}");
    assert_eq!(
        answer["order_list"].as_array().unwrap().len(),
        2,
        "{answer}"
    );

    // A screenshot, at twice the pixels so that OCR reads the small monospaced texts.
    let screenshot = served.dir.path().join("front.png");
    let output = run(headless()
        .args([
            "--hide-scrollbars",
            "--force-device-scale-factor=2",
            "--window-size=1280,1400",
        ])
        .arg(format!("--screenshot={}", screenshot.display()))
        .arg(&page));
    let bytes = std::fs::read(&screenshot).unwrap_or_else(|e| {
        panic!(
            "no screenshot ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let text = ocr(&screenshot);
    let seen = squeezed(&text);
    for key in [
        format!("patrol version {version}"),
        "WeCom-compatible".to_owned(),
        "Demo mode".to_owned(),
        format!("corpid {DEMO_CORPID}"),
        DEMO_PATROL_SECRET.to_owned(),
        format!("gettoken?corpid={DEMO_CORPID}"),
        "get_order_list".to_owned(),
        "/openapi.json".to_owned(),
        "/healthz".to_owned(),
        "/readyz".to_owned(),
        "/metrics".to_owned(),
        "/version".to_owned(),
    ] {
        assert!(
            seen.contains(&squeezed(&key)),
            "the screenshot {} does not show {key:?}; OCR read:\n{text}",
            screenshot.display()
        );
    }
}
