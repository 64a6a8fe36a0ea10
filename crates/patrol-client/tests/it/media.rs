//! The client's media calls against a real patrol server: an upload and its download, a
//! download resumed from a partial file, a file over 20 MB fetched in ranges, WeCom's errors.

use std::time::Duration;

use patrol_client::{Client, Error, RetryPolicy};
use patrol_domain::media::{MediaFile, MediaType};
use patrol_media::{BlobStore, FsBlobStore};
use patrol_test::{TestApp, TestCorp};

fn client_for(app: &TestApp, corp: &TestCorp) -> Client {
    Client::builder()
        .base_url(&app.base_url)
        .corpid(&corp.corpid)
        .secret(&corp.secret)
        .retry(RetryPolicy {
            max_retries: 2,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
        })
        .build()
        .expect("the client builds")
}

fn jpeg(len: usize) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.extend((0..len - 4).map(|i| (i % 253) as u8));
    bytes
}

#[tokio::test]
async fn a_file_goes_up_and_comes_down_and_a_cut_download_resumes() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwclientmedia").await;
    let client = client_for(&app, &corp);
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("巡查照片.jpg");
    let bytes = jpeg(700_000);
    std::fs::write(&source, &bytes).unwrap();

    let uploaded = client.upload_media("image", &source).await.unwrap();
    assert_eq!(uploaded.media_type, "image");
    assert!(uploaded.created_at.parse::<i64>().is_ok());

    let target = dir.path().join("down.jpg");
    let download = client
        .download_media(&uploaded.media_id, &target)
        .await
        .unwrap();
    assert_eq!(download.size, 700_000);
    assert_eq!(download.resumed_from, 0);
    assert_eq!(download.content_type, "image/jpeg");
    assert_eq!(std::fs::read(&target).unwrap(), bytes);

    // Cut short: the bytes there are kept and the rest asked for.
    std::fs::write(&target, &bytes[..123_456]).unwrap();
    let resumed = client
        .download_media(&uploaded.media_id, &target)
        .await
        .unwrap();
    assert_eq!(resumed.resumed_from, 123_456);
    assert_eq!(std::fs::read(&target).unwrap(), bytes);
    // Complete already: nothing more to fetch.
    let again = client
        .download_media(&uploaded.media_id, &target)
        .await
        .unwrap();
    assert_eq!((again.resumed_from, again.size), (700_000, 700_000));
    assert_eq!(std::fs::read(&target).unwrap(), bytes);

    // WeCom's errors come back as such.
    let missing = client
        .download_media("3nothing", &dir.path().join("none"))
        .await
        .unwrap_err();
    assert!(
        matches!(missing, Error::Api { errcode: 40007, .. }),
        "{missing:?}"
    );
    let wrong = client.upload_media("voice", &source).await.unwrap_err();
    assert!(
        matches!(wrong, Error::Api { errcode: 40005, .. }),
        "{wrong:?}"
    );
    let absent = client
        .upload_media("image", &dir.path().join("absent.jpg"))
        .await
        .unwrap_err();
    assert!(matches!(absent, Error::File { .. }), "{absent:?}");
}

#[tokio::test]
async fn a_file_over_20_mb_comes_down_in_ranges() {
    let app = TestApp::spawn().await;
    let corp = app.corp("wwclientbig").await;
    let client = client_for(&app, &corp);
    // Beside the server, as an upload cannot be that large.
    let blobs = FsBlobStore::open(app.media_dir()).unwrap();
    let big: Vec<u8> = (0..45 * 1024 * 1024u32).map(|i| (i % 249) as u8).collect();
    let stored = blobs.put(&mut big.as_slice(), u64::MAX).await.unwrap();
    app.store
        .create_media(
            corp.key,
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
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("big.bin");
    let download = client.download_media("3big", &target).await.unwrap();
    assert_eq!(download.size, big.len() as u64);
    assert!(std::fs::read(&target).unwrap() == big, "the bytes differ");
}
