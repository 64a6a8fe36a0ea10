//! `media/upload` and `media/get` over raw HTTP: the round trip, ranges, WeCom's limits and
//! codes, what SDKs send, isolation and expiry.

use patrol_domain::AppKind;
use patrol_domain::media::{MediaFile, MediaType};
use patrol_media::{BlobStore, FsBlobStore};
use patrol_test::TestApp;
use serde_json::Value;

/// A WeCom error answer with this code and WeCom's errmsg shape.
#[track_caller]
fn assert_wecom_error(answer: &Value, errcode: i64) {
    assert_eq!(answer["errcode"], errcode, "{answer}");
    let errmsg = answer["errmsg"].as_str().unwrap_or("");
    assert!(errmsg.contains(", hint: ["), "{answer}");
    assert_eq!(
        answer.as_object().map(serde_json::Map::len),
        Some(2),
        "{answer}"
    );
}

const BOUNDARY: &str = "patrol-test-boundary-7MA4YWxkTrZu0gW";

/// A JPEG-looking file of `len` bytes (its first bytes are JPEG's), different for each `seed`.
pub(crate) fn jpeg(len: usize, seed: u8) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.extend((0..len.saturating_sub(4)).map(|i| (i as u8).wrapping_mul(31) ^ seed));
    bytes.truncate(len);
    bytes
}

/// One multipart part: `name`, an optional file name and content type, the bytes.
pub(crate) struct Part<'a> {
    name: &'a str,
    file_name: Option<&'a str>,
    content_type: Option<&'a str>,
    bytes: &'a [u8],
}

pub(crate) fn media_part(bytes: &[u8]) -> Part<'_> {
    Part {
        name: "media",
        file_name: Some("photo.jpg"),
        content_type: Some("image/jpeg"),
        bytes,
    }
}

pub(crate) fn multipart(parts: &[Part<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let mut disposition = format!("Content-Disposition: form-data; name=\"{}\"", part.name);
        if let Some(file_name) = part.file_name {
            disposition.push_str(&format!("; filename=\"{file_name}\""));
        }
        body.extend_from_slice(disposition.as_bytes());
        body.extend_from_slice(b"\r\n");
        if let Some(content_type) = part.content_type {
            body.extend_from_slice(format!("Content-Type: {content_type}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(part.bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// `POST /cgi-bin/media/upload?{query}` with a multipart body; the answer's JSON.
pub(crate) async fn upload(app: &TestApp, query: &str, body: Vec<u8>) -> Value {
    serde_json::from_str(&upload_text(app, query, body).await).unwrap()
}

/// `POST /cgi-bin/media/upload?{query}` with a multipart body; the answer's text.
async fn upload_text(app: &TestApp, query: &str, body: Vec<u8>) -> String {
    let response = app
        .http
        .post(format!("{}/cgi-bin/media/upload?{query}", app.base_url))
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

pub(crate) async fn upload_image(app: &TestApp, token: &str, bytes: &[u8]) -> String {
    let answer = upload(
        app,
        &format!("access_token={token}&type=image"),
        multipart(&[media_part(bytes)]),
    )
    .await;
    assert_eq!(answer["errcode"], 0, "{answer}");
    answer["media_id"].as_str().unwrap().to_owned()
}

/// `GET /cgi-bin/media/get?access_token=&media_id=` with optional `Range`.
pub(crate) async fn get(
    app: &TestApp,
    token: &str,
    media_id: &str,
    range: Option<&str>,
) -> reqwest::Response {
    let mut request = app.http.get(format!(
        "{}/cgi-bin/media/get?access_token={token}&media_id={media_id}",
        app.base_url
    ));
    if let Some(range) = range {
        request = request.header("Range", range);
    }
    request.send().await.unwrap()
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .map_or("", |v| v.to_str().unwrap())
}

#[tokio::test]
async fn an_upload_comes_back_whole_and_in_ranges() {
    let app = TestApp::spawn().await;
    let (_, token) = app.corp_and_token("wwmedia").await;
    let bytes = jpeg(100_000, 1);
    let text = upload_text(
        &app,
        &format!("access_token={token}&type=image"),
        multipart(&[media_part(&bytes)]),
    )
    .await;
    // The field order of WeCom's example.
    assert!(
        text.starts_with(r#"{"errcode":0,"errmsg":"ok","type":"image","media_id":""#)
            && text.contains(r#"","created_at":""#),
        "{text}"
    );
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(answer["type"], "image");
    let created_at = answer["created_at"]
        .as_str()
        .expect("created_at is a string");
    assert!(
        created_at.bytes().all(|b| b.is_ascii_digit()),
        "{created_at}"
    );
    assert!((created_at.parse::<i64>().unwrap() - app.now()).abs() <= 2);
    let media_id = answer["media_id"].as_str().unwrap();
    assert_eq!(media_id.len(), 44, "{media_id}");

    let whole = get(&app, &token, media_id, None).await;
    assert_eq!(whole.status(), 200);
    assert_eq!(header(&whole, "content-type"), "image/jpeg");
    assert_eq!(
        header(&whole, "content-disposition"),
        format!("attachment; filename=\"{media_id}.jpg\"")
    );
    assert_eq!(header(&whole, "content-length"), "100000");
    assert_eq!(header(&whole, "accept-ranges"), "bytes");
    assert_eq!(header(&whole, "cache-control"), "no-cache, must-revalidate");
    assert_eq!(whole.bytes().await.unwrap(), bytes);

    for (range, start, end) in [
        ("bytes=0-0", 0, 0),
        ("bytes=40000-40999", 40_000, 40_999),
        ("bytes=-500", 99_500, 99_999),
        ("bytes=99990-", 99_990, 99_999),
        ("bytes=99990-200000", 99_990, 99_999),
    ] {
        let part = get(&app, &token, media_id, Some(range)).await;
        assert_eq!(part.status(), 206, "{range}");
        assert_eq!(
            header(&part, "content-range"),
            format!("bytes {start}-{end}/100000"),
            "{range}"
        );
        assert_eq!(
            header(&part, "content-length"),
            (end - start + 1).to_string()
        );
        assert_eq!(part.bytes().await.unwrap(), &bytes[start..=end], "{range}");
    }
    for range in ["bytes=100000-", "bytes=200000-300000", "bytes=-0"] {
        let refused = get(&app, &token, media_id, Some(range)).await;
        assert_eq!(refused.status(), 416, "{range}");
        assert_eq!(header(&refused, "content-range"), "bytes */100000");
    }
    // A range patrol does not serve (several, another unit, malformed) gets the whole file.
    for range in ["bytes=0-1,5-6", "lines=0-1", "bytes=abc"] {
        let whole = get(&app, &token, media_id, Some(range)).await;
        assert_eq!(whole.status(), 200, "{range}");
        assert_eq!(whole.bytes().await.unwrap().len(), 100_000);
    }
}

#[tokio::test]
async fn uploads_follow_wecoms_types_sizes_and_codes() {
    let app = TestApp::spawn().await;
    let (_, token) = app.corp_and_token("wwlimits").await;
    let query = |media_type: &str| format!("access_token={token}&type={media_type}");
    let image = jpeg(1000, 2);

    let refused = [
        // The type: missing, unknown.
        (
            format!("access_token={token}"),
            multipart(&[media_part(&image)]),
            40004,
        ),
        (query("photo"), multipart(&[media_part(&image)]), 40004),
        // No part named media; no multipart at all.
        (
            query("image"),
            multipart(&[Part {
                name: "file",
                ..media_part(&image)
            }]),
            41005,
        ),
        (query("image"), b"not multipart".to_vec(), 41005),
        // Empty, 1 to 5 bytes.
        (query("image"), multipart(&[media_part(b"")]), 44001),
        (query("file"), multipart(&[media_part(b"12345")]), 40006),
        // Bytes not of the type.
        (
            query("image"),
            multipart(&[media_part(b"GIF89a------")]),
            40005,
        ),
        (query("voice"), multipart(&[media_part(&image)]), 40005),
        (query("video"), multipart(&[media_part(&image)]), 40005),
        // Over the type's limit: image 10 MB, voice 2 MB.
        (
            query("image"),
            multipart(&[media_part(&jpeg(10 * 1024 * 1024 + 1, 3))]),
            40009,
        ),
        (
            query("voice"),
            multipart(&[media_part(
                &[b"#!AMR\n".as_slice(), &vec![0u8; 2 * 1024 * 1024]].concat(),
            )]),
            40006,
        ),
    ];
    for (query, body, errcode) in refused {
        let answer = upload(&app, &query, body).await;
        assert_wecom_error(&answer, errcode);
    }
    // Upload is a POST.
    let (status, text) = app
        .get(&format!("/cgi-bin/media/upload?{}", query("image")))
        .await;
    assert_eq!(status, 200);
    assert_wecom_error(&serde_json::from_str(&text).unwrap(), 40058);

    // Exactly at the limits, and the smallest file.
    let ten_mb = jpeg(10 * 1024 * 1024, 4);
    assert_eq!(
        upload(&app, &query("image"), multipart(&[media_part(&ten_mb)])).await["errcode"],
        0
    );
    assert_eq!(
        upload(&app, &query("file"), multipart(&[media_part(b"123456")])).await["errcode"],
        0
    );
    let video = [b"\0\0\0\x18ftypmp42".as_slice(), &[1u8; 100]].concat();
    let answer = upload(&app, &query("video"), multipart(&[media_part(&video)])).await;
    assert_eq!(answer["type"], "video", "{answer}");
    let media_id = answer["media_id"].as_str().unwrap();
    let got = get(&app, &token, media_id, None).await;
    assert_eq!(header(&got, "content-type"), "video/mp4");
    assert!(header(&got, "content-disposition").ends_with(".mp4\""));
}

#[tokio::test]
async fn what_sdks_send_is_accepted() {
    let app = TestApp::spawn().await;
    let (_, token) = app.corp_and_token("wwsdks").await;
    let image = jpeg(2000, 5);
    let query = format!("access_token={token}&type=image");
    // No Content-Type, octet-stream, a guess from another extension; a bare name, a path, none.
    for (file_name, content_type) in [
        (Some("a.jpg"), None),
        (Some("a.jpg"), Some("application/octet-stream")),
        (Some("a.png"), Some("image/png")),
        (Some("photo"), None),
        (Some("/home/user/pictures/a.jpg"), Some("image/jpeg")),
        (None, None),
    ] {
        let part = Part {
            name: "media",
            file_name,
            content_type,
            bytes: &image,
        };
        let answer = upload(&app, &query, multipart(&[part])).await;
        assert_eq!(
            answer["errcode"], 0,
            "{file_name:?} {content_type:?}: {answer}"
        );
    }
    // Other parts before the media part are skipped.
    let answer = upload(
        &app,
        &query,
        multipart(&[
            Part {
                name: "description",
                file_name: None,
                content_type: None,
                bytes: b"hello",
            },
            media_part(&image),
        ]),
    )
    .await;
    assert_eq!(answer["errcode"], 0, "{answer}");
}

#[tokio::test]
async fn media_get_refuses_in_wecoms_codes_with_plain_json() {
    let app =
        TestApp::spawn_with(|config| config.clock = patrol_domain::Clock::manual(1_800_000_000))
            .await;
    let (corp, token) = app.corp_and_token("wwget").await;
    let (_, other_token) = app.corp_and_token("wwother").await;
    let media_id = upload_image(&app, &token, &jpeg(64, 6)).await;

    let refusals = [
        (format!("access_token={token}"), 41006),
        (format!("access_token={token}&media_id="), 41006),
        (format!("access_token={token}&media_id=3nothing"), 40007),
        // Another corp's id is unknown.
        (
            format!("access_token={other_token}&media_id={media_id}"),
            40007,
        ),
        (format!("media_id={media_id}"), 41001),
        (format!("access_token=never&media_id={media_id}"), 40014),
    ];
    for (query, errcode) in refusals {
        let response = app
            .http
            .get(format!("{}/cgi-bin/media/get?{query}", app.base_url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            header(&response, "content-type"),
            "application/json",
            "{query}"
        );
        let answer: Value = response.json().await.unwrap();
        assert_wecom_error(&answer, errcode);
    }

    // A media id lives 3 days.
    app.clock().advance(3 * 86_400 - 1);
    let token = app.token(&corp).await;
    assert_eq!(get(&app, &token, &media_id, None).await.status(), 200);
    app.clock().advance(1);
    let token = app.token(&corp).await;
    let expired: Value = get(&app, &token, &media_id, None)
        .await
        .json()
        .await
        .unwrap();
    assert_wecom_error(&expired, 40007);
}

#[tokio::test]
async fn any_app_of_the_corp_may_upload_and_download() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwanyapp").await;
    app.app(
        &corp,
        1_000_010,
        AppKind::Custom,
        false,
        true,
        "not-patrol-secret",
    )
    .await;
    let token = app.token_for(&corp.corpid, "not-patrol-secret").await;
    let media_id = upload_image(&app, &token, &jpeg(500, 7)).await;
    let patrol_token = app.token(&corp).await;
    assert_eq!(
        get(&app, &patrol_token, &media_id, None).await.status(),
        200
    );
}

#[tokio::test]
async fn the_same_bytes_uploaded_at_once_are_stored_once() {
    let app = TestApp::spawn().await;
    let (_, token) = app.corp_and_token("wwsame").await;
    let bytes = jpeg(300_000, 8);
    let uploads: Vec<_> = (0..8).map(|_| upload_image(&app, &token, &bytes)).collect();
    let ids = futures_util::future::join_all(uploads).await;
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 8, "each upload is a media id of its own");
    for media_id in &ids {
        assert_eq!(
            get(&app, &token, media_id, None)
                .await
                .bytes()
                .await
                .unwrap(),
            bytes
        );
    }
    // One blob on disk (and no temporary file left).
    let dir = media_dir(&app);
    let blobs: usize = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.file_name() != "tmp")
        .map(|entry| std::fs::read_dir(entry.path()).unwrap().count())
        .sum();
    assert_eq!(blobs, 1);
    assert_eq!(std::fs::read_dir(dir.join("tmp")).unwrap().count(), 0);
}

fn media_dir(app: &TestApp) -> std::path::PathBuf {
    app.media_dir()
}

#[tokio::test]
async fn a_file_over_20_mb_comes_only_in_ranges() {
    let app = TestApp::spawn().await;
    let (corp, token) = app.corp_and_token("wwbig").await;
    // Uploads stop at 20 MB; a larger file can only be put in place beside the server.
    let blobs = FsBlobStore::open(media_dir(&app)).unwrap();
    let big = vec![9u8; 20 * 1024 * 1024 + 1];
    let stored = blobs.put(&mut big.as_slice(), u64::MAX).await.unwrap();
    let corp_key = app.store.corp(&corp.corpid).await.unwrap().unwrap().key;
    app.store
        .create_media(
            corp_key,
            MediaFile {
                media_id: "3big".into(),
                media_type: MediaType::File,
                blob: *stored.id.as_bytes(),
                size: stored.size,
                file_name: "big.bin".into(),
                content_type: "application/octet-stream".into(),
                created_at: app.now(),
                expires_at: None,
            },
        )
        .await
        .unwrap();
    let whole = get(&app, &token, "3big", None).await;
    assert_eq!(header(&whole, "content-type"), "application/json");
    assert_wecom_error(&whole.json().await.unwrap(), 830002);
    let too_long = get(&app, &token, "3big", Some("bytes=0-")).await;
    assert_wecom_error(&too_long.json().await.unwrap(), 830002);
    let chunk = get(&app, &token, "3big", Some("bytes=0-1048575")).await;
    assert_eq!(chunk.status(), 206);
    assert_eq!(chunk.bytes().await.unwrap().len(), 1_048_576);
    let tail = get(&app, &token, "3big", Some("bytes=-10")).await;
    assert_eq!(
        header(&tail, "content-range"),
        format!("bytes {}-{}/{}", big.len() - 10, big.len() - 1, big.len())
    );
}

/// `GET` a URL; status, content type, content disposition and bytes.
async fn fetch(app: &TestApp, url: &str) -> (u16, String, String, Vec<u8>) {
    let response = app.http.get(url).send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = header(&response, "content-type").to_owned();
    let disposition = header(&response, "content-disposition").to_owned();
    (
        status,
        content_type,
        disposition,
        response.bytes().await.unwrap().to_vec(),
    )
}

#[tokio::test]
async fn an_attached_image_is_served_under_the_current_public_url() {
    let mut app = TestApp::spawn().await;
    let (corp, token) = app.corp_and_token("wwimages").await;
    let corpid = corp.corpid.as_str();
    let bytes = jpeg(5000, 9);
    let media_id = upload_image(&app, &token, &bytes).await;
    let (status, text) = app
        .report(
            corpid,
            &serde_json::json!({
                "order_id": "o1", "description": "井盖缺失", "grid_id": "g1",
                "reporter": "reporter", "image_urls": ["https://elsewhere.example/a.jpg"],
                "image_media_ids": [media_id],
            }),
        )
        .await;
    assert_eq!(status, 201, "{text}");
    let url = format!("{}/media/images/{corpid}/{media_id}.jpg", app.base_url);
    let reported: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        reported["image_urls"],
        serde_json::json!(["https://elsewhere.example/a.jpg", url])
    );
    let info = app
        .patrol("get_order_info", &token, r#"{"order_id":"o1"}"#)
        .await;
    assert_eq!(info["order_info"]["image_urls"][1], url.as_str());
    assert_eq!(
        info["order_info"]["process_list"][0]["image_urls"][1],
        url.as_str()
    );

    // Without a token, shown inline, whole or in a range.
    let (status, content_type, disposition, got) = fetch(&app, &url).await;
    assert_eq!((status, content_type.as_str()), (200, "image/jpeg"));
    assert!(disposition.starts_with("inline"), "{disposition}");
    assert_eq!(got, bytes);
    let part = app
        .http
        .get(&url)
        .header("Range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.bytes().await.unwrap(), &bytes[10..20]);
    for missing in [
        format!("{}/media/images/{corpid}/3nothing.jpg", app.base_url),
        format!("{}/media/images/wwnobody/{media_id}.jpg", app.base_url),
        format!("{}/media/images/{corpid}/{media_id}", app.base_url),
    ] {
        assert_eq!(fetch(&app, &missing).await.0, 404, "{missing}");
    }

    // The public URL is read when answering, not when the order was stored.
    app.config.public_url = Some("https://patrol.example/".into());
    app.restart().await;
    let token = app.token(&corp).await;
    let moved = format!("https://patrol.example/media/images/{corpid}/{media_id}.jpg");
    let info = app
        .patrol("get_order_info", &token, r#"{"order_id":"o1"}"#)
        .await;
    assert_eq!(info["order_info"]["image_urls"][1], moved.as_str());
    let list = app.order_list(&token, serde_json::json!({})).await;
    assert_eq!(list["order_list"][0]["image_urls"][1], moved.as_str());
    let (_, order) = app
        .admin("GET", &format!("/corps/{corpid}/orders/o1"), None)
        .await;
    assert_eq!(order["image_urls"][1], moved.as_str());
}

#[tokio::test]
async fn only_uploaded_images_of_the_corp_can_be_attached() {
    let app = TestApp::spawn().await;
    let (corp, token) = app.corp_and_token("wwattach").await;
    let (_, other_token) = app.corp_and_token("wwelse").await;
    let corpid = corp.corpid.as_str();
    let theirs = upload_image(&app, &other_token, &jpeg(100, 10)).await;
    let file = upload(
        &app,
        &format!("access_token={token}&type=file"),
        multipart(&[media_part(b"%PDF-1.7 a file")]),
    )
    .await["media_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = |extra: Value| {
        let mut body = serde_json::json!({
            "description": "井盖缺失", "grid_id": "g1", "reporter": "reporter",
        });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    for (extra, status) in [
        (serde_json::json!({"image_media_ids": [theirs]}), 404),
        (serde_json::json!({"image_media_ids": ["3nothing"]}), 404),
        (serde_json::json!({"image_media_ids": [file]}), 400),
        (
            serde_json::json!({"image_urls": [format!("patrol-media:/media/images/{corpid}/x.jpg")]}),
            400,
        ),
    ] {
        let (got, text) = app.report(corpid, &body(extra.clone())).await;
        assert_eq!(got, status, "{extra}: {text}");
    }
    assert_eq!(
        app.order_list(&token, serde_json::json!({})).await["order_list"],
        serde_json::json!([])
    );
}

#[tokio::test]
async fn the_demos_images_and_videos_are_real_files() {
    let app = TestApp::spawn().await;
    let corp = app.demo_corp().await;
    let token = app.token(&corp).await;
    let page = app
        .order_list(&token, serde_json::json!({"limit": 50}))
        .await;
    let mut images = std::collections::BTreeSet::new();
    let mut videos = std::collections::BTreeSet::new();
    for order in page["order_list"].as_array().unwrap() {
        let steps = order["process_list"].as_array().unwrap();
        for media in std::iter::once(order).chain(steps) {
            for url in media["image_urls"].as_array().unwrap() {
                images.insert(url.as_str().unwrap().to_owned());
            }
            for id in media["video_media_ids"].as_array().unwrap() {
                videos.insert(id.as_str().unwrap().to_owned());
            }
        }
    }
    assert!(
        images.len() > 5 && !videos.is_empty(),
        "{images:?} {videos:?}"
    );
    for url in &images {
        assert!(
            url.starts_with(&format!("{}/media/images/", app.base_url)),
            "{url}"
        );
        let (status, content_type, _, bytes) = fetch(&app, url).await;
        assert_eq!(
            (status, content_type.as_str()),
            (200, "image/jpeg"),
            "{url}"
        );
        assert!(
            bytes.starts_with(&[0xFF, 0xD8, 0xFF]) && bytes.len() > 5000,
            "{url}"
        );
    }
    for video in &videos {
        let response = get(&app, &token, video, None).await;
        assert_eq!(response.status(), 200, "{video}");
        assert_eq!(header(&response, "content-type"), "video/mp4");
        let bytes = response.bytes().await.unwrap();
        assert_eq!(&bytes[4..8], b"ftyp", "{video}");
    }
}
