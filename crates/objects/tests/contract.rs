//! The object-storage contract, run unchanged on every backend: the local directory
//! always, and an S3 API when `INNKEEP_TEST_S3_URL` names one
//! (`http://ACCESS_KEY:SECRET@127.0.0.1:PORT`, path-style; CI starts moto there).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use innkeep_app::objects::{ObjectError, ObjectStorage};
use innkeep_objects::{Location, S3Options, open};

async fn contract(objects: &dyn ObjectStorage) {
    let key = "photos/p1/a.jpg";
    assert_eq!(objects.get(key).await.unwrap(), None, "a missing key reads as none");
    let bytes: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
    objects.put(key, bytes.clone()).await.unwrap();
    assert_eq!(objects.get(key).await.unwrap(), Some(bytes), "bytes read back unchanged");
    objects.put(key, b"replaced".to_vec()).await.unwrap();
    assert_eq!(objects.get(key).await.unwrap().as_deref(), Some(&b"replaced"[..]));
    objects.put("photos/p1/b.png", vec![1, 2, 3]).await.unwrap();
    objects.delete(key).await.unwrap();
    assert_eq!(objects.get(key).await.unwrap(), None, "deleted");
    assert_eq!(objects.get("photos/p1/b.png").await.unwrap(), Some(vec![1, 2, 3]), "a neighbour survives");
    objects.delete(key).await.unwrap();
    for bad in ["../escape", "/abs", "a//b", "a/../b"] {
        assert!(matches!(objects.put(bad, vec![0]).await, Err(ObjectError::InvalidKey(_))), "{bad} refused");
        assert!(matches!(objects.get(bad).await, Err(ObjectError::InvalidKey(_))), "{bad} refused");
    }
}

#[tokio::test]
async fn the_local_directory_keeps_objects_under_its_root() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("objects");
    let objects = open(&Location::Directory(root.clone())).unwrap();
    contract(&objects).await;
    assert!(root.join("photos/p1/b.png").is_file(), "stored as a file under the root");
    assert!(!dir.path().join("escape").exists());
}

/// `http://AK:SK@host:port` -> (endpoint, access key, secret).
fn parse_test_url(url: &str) -> (String, String, String) {
    let (scheme, rest) = url.split_once("://").expect("INNKEEP_TEST_S3_URL is http://AK:SK@HOST:PORT");
    let (creds, host) = rest.rsplit_once('@').expect("INNKEEP_TEST_S3_URL carries AK:SK@");
    let (ak, sk) = creds.split_once(':').expect("AK:SK");
    (format!("{scheme}://{}", host.trim_end_matches('/')), ak.to_string(), sk.to_string())
}

#[tokio::test]
async fn an_s3_bucket_keeps_objects_too() {
    let Ok(url) = std::env::var("INNKEEP_TEST_S3_URL") else {
        assert!(
            std::env::var("INNKEEP_TEST_REQUIRE_SERVERS").as_deref() != Ok("1"),
            "INNKEEP_TEST_S3_URL is required when INNKEEP_TEST_REQUIRE_SERVERS=1"
        );
        eprintln!("skipping the S3 contract: INNKEEP_TEST_S3_URL is not set");
        return;
    };
    let (endpoint, ak, sk) = parse_test_url(&url);
    let bucket = format!("innkeep-test-{}", uuid::Uuid::new_v4().simple());
    // A fresh bucket per run (path-style PUT /bucket; object_store cannot create buckets).
    let made = reqwest::Client::new().put(format!("{endpoint}/{bucket}")).send().await.unwrap();
    assert!(made.status().is_success(), "creating bucket {bucket}: {}", made.status());
    let objects = open(&Location::S3(S3Options {
        bucket: bucket.clone(),
        endpoint,
        region: "us-east-1".into(),
        access_key_id: ak,
        secret_access_key: sk,
    }))
    .unwrap();
    assert!(objects.describe().starts_with(&format!("s3://{bucket}")));
    contract(&objects).await;
}
