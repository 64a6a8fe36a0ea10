//! `patrol media upload` and `patrol media get` against a served demo.

use patrol_demo::{DEMO_CORPID, DEMO_PATROL_SECRET};

use crate::support::{Served, fails, patrol, succeeds};

#[test]
fn a_file_uploaded_by_the_cli_downloads_by_the_cli() {
    let served = Served::on_any_port(&["--demo", "--data-dir", "{dir}"]);
    let dir = served.dir.path();
    let photo = dir.join("照片.jpg");
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.extend((0..50_000u32).map(|i| (i % 241) as u8));
    std::fs::write(&photo, &bytes).unwrap();
    let media = |args: &[&str]| {
        let mut command = patrol(&["media"]);
        command
            .args(["--base-url", &served.url, "--corpid", DEMO_CORPID])
            .env("PATROL_CORPSECRET", DEMO_PATROL_SECRET)
            .args(args)
            .current_dir(dir);
        command
    };

    let media_id = succeeds(&mut media(&[
        "upload",
        "--type",
        "image",
        photo.to_str().unwrap(),
    ]));
    let media_id = media_id.trim();
    assert_eq!(media_id.len(), 44, "{media_id}");
    let out = succeeds(&mut media(&["get", media_id, "-o", "copy.jpg"]));
    assert!(out.contains("50004 bytes, image/jpeg"), "{out}");
    assert_eq!(std::fs::read(dir.join("copy.jpg")).unwrap(), bytes);

    let stderr = fails(&mut media(&[
        "upload",
        "--type",
        "video",
        photo.to_str().unwrap(),
    ]));
    assert!(stderr.contains("40005"), "{stderr}");
    let stderr = fails(&mut media(&["get", "3nothing"]));
    assert!(stderr.contains("40007"), "{stderr}");
}

#[test]
fn a_fresh_demo_forgets_the_last_ones_uploads() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    let photo = dir.path().join("photo.jpg");
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.extend((0..5_000u32).map(|i| (i % 239) as u8));
    std::fs::write(&photo, &bytes).unwrap();
    let media = |url: &str, args: &[&str]| {
        let mut command = patrol(&["media"]);
        command
            .args(["--base-url", url, "--corpid", DEMO_CORPID])
            .env("PATROL_CORPSECRET", DEMO_PATROL_SECRET)
            .args(args)
            .current_dir(dir.path());
        command
    };
    let blobs = || {
        std::fs::read_dir(dir.path().join("demo.db-media"))
            .unwrap()
            .flatten()
            .filter(|e| e.file_name() != "tmp")
            .map(|e| std::fs::read_dir(e.path()).unwrap().count())
            .sum::<usize>()
    };

    let mut first = Served::on_any_port(&["--demo", "--data-dir", data_dir]);
    let pool = blobs();
    let media_id = succeeds(&mut media(
        &first.url,
        &["upload", "--type", "image", photo.to_str().unwrap()],
    ));
    assert_eq!(blobs(), pool + 1);
    first.kill();

    let second = Served::on_any_port(&["--demo", "--data-dir", data_dir]);
    assert_eq!(
        blobs(),
        pool,
        "the last demo's upload is gone with its database"
    );
    let stderr = fails(&mut media(&second.url, &["get", media_id.trim()]));
    assert!(stderr.contains("40007"), "{stderr}");
}
