//! Backups of the embedded tier through the real binary: `innkeep backup create` while
//! bookings keep arriving, `verify`, and `restore` into a fresh directory: every booking
//! answered 201 before the backup began is in the restored database, the ledger checks,
//! and a changed file or a directory that already holds a database is refused.

use crate::common;

use common::spawn_app;
use innkeep_app::store::Inventory;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

fn innkeep(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_innkeep")).args(args).env("INNKEEP_LOG__LEVEL", "warn").output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_under_load_restores_every_acknowledged_booking() {
    let app = Arc::new(spawn_app().await);
    let host = app.user("host").await;
    let guest = app.user("guest").await;
    let property = app.property(&host, "flexible").await;
    let room_type = app.room_type(&host, &property, 50).await;
    let day = |n: i64| jiff::civil::date(2027, 2, 1).checked_add(jiff::Span::new().days(n)).unwrap().to_string();
    let mut acknowledged = Vec::new();
    for n in 0..20 {
        let r = app.book(&guest, &room_type, &day(n), &day(n + 1), None).await;
        assert_eq!(r.status, 201, "{}", r.body);
        acknowledged.push(r.body["id"].as_str().unwrap().to_string());
    }
    // Bookings keep arriving while the backup is taken.
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (app, guest, room_type, stop) = (app.clone(), guest.clone(), room_type.clone(), stop.clone());
        tokio::spawn(async move {
            let mut n = 100;
            while !stop.load(Ordering::Relaxed) {
                app.book(&guest, &room_type, &day(n), &day(n + 1), None).await;
                n += 1;
            }
        })
    };
    let backups = tempfile::tempdir().unwrap();
    let to = backups.path().join("b1");
    let data = app.dir.path().to_str().unwrap().to_string();
    let out = tokio::task::spawn_blocking({
        let to = to.clone();
        move || innkeep(&["backup", "create", "--to", to.to_str().unwrap(), "--data", &data])
    })
    .await
    .unwrap();
    stop.store(true, Ordering::Relaxed);
    load.await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(to.join("manifest.json").exists());

    let out = innkeep(&["backup", "verify", "--from", to.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let restored = backups.path().join("restored");
    let out = innkeep(&["backup", "restore", "--from", to.to_str().unwrap(), "--data", restored.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let store =
        innkeep_store::open(&innkeep_store::StoreOptions::new(innkeep_store::sqlite_url(&restored))).await.unwrap();
    innkeep_store::migrate(&store).await.unwrap();
    for id in &acknowledged {
        let b = store.booking(id.parse().unwrap()).await.unwrap();
        assert!(b.is_some(), "booking {id} answered 201 before the backup is in it");
    }
    let report = innkeep_app::payment::Payments::check_ledger(&store).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    store.close().await;
    let out = innkeep(&["ledger", "check", "--data", restored.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));

    // Restoring over a database, or from a backup whose files changed, is refused.
    let out = innkeep(&["backup", "restore", "--from", to.to_str().unwrap(), "--data", restored.to_str().unwrap()]);
    assert!(!out.status.success(), "restored over an existing database");
    let mut bytes = std::fs::read(to.join("innkeep.db")).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(to.join("innkeep.db"), bytes).unwrap();
    let out = innkeep(&["backup", "verify", "--from", to.to_str().unwrap()]);
    assert!(!out.status.success(), "a changed file passed verification");
    assert!(String::from_utf8_lossy(&out.stderr).contains("changed"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// `innkeep` with the S3 server of the tests configured in `[storage]`.
fn innkeep_s3(endpoint: &str, key: &str, secret: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_innkeep"))
        .args(args)
        .env("INNKEEP_LOG__LEVEL", "warn")
        .env("INNKEEP_STORAGE__ENDPOINT", endpoint)
        .env("INNKEEP_STORAGE__ACCESS_KEY_ID", key)
        .env("INNKEEP_STORAGE__SECRET_ACCESS_KEY", secret)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_in_an_s3_bucket_verifies_and_restores() {
    let Some(s3) = innkeep_store::testing::server_url("INNKEEP_TEST_S3_URL") else { return };
    let (creds, host) = s3.trim_start_matches("http://").split_once('@').expect("INNKEEP_TEST_S3_URL has KEY:SECRET@");
    let (ak, sk) = creds.split_once(':').unwrap();
    let endpoint = format!("http://{host}");
    let bucket = format!("innkeep-backups-{}", uuid::Uuid::new_v4().simple());
    let made = reqwest::Client::new().put(format!("{endpoint}/{bucket}")).send().await.unwrap();
    assert!(made.status().is_success(), "creating bucket {bucket}: {}", made.status());
    let run = |args: &[&str]| innkeep_s3(&endpoint, ak, sk, args);
    let text = |o: &std::process::Output| {
        format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
    };

    let app = spawn_app().await;
    let host = app.user("host").await;
    let guest = app.user("guest").await;
    let property = app.property(&host, "flexible").await;
    let room_type = app.room_type(&host, &property, 5).await;
    let mut acknowledged = Vec::new();
    for (check_in, check_out) in
        [("2027-03-01", "2027-03-04"), ("2027-03-10", "2027-03-12"), ("2027-04-01", "2027-04-02")]
    {
        let r = app.book(&guest, &room_type, check_in, check_out, None).await;
        assert_eq!(r.status, 201, "{}", r.body);
        acknowledged.push(r.body["id"].as_str().unwrap().to_string());
    }
    let data = app.dir.path().to_str().unwrap().to_string();
    let at = format!("s3://{bucket}/nightly/2027-03-01");

    let out = run(&["backup", "create", "--to", &at, "--data", &data]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("3 bookings"), "{}", text(&out));
    // Nothing of the staging copy is left in the data directory.
    let left: Vec<_> = std::fs::read_dir(&data).unwrap().filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
    assert!(!left.iter().any(|n| n.to_string_lossy().starts_with(".backup-")), "{left:?}");
    // A second backup into the same place is refused; the first stays whole.
    let out = run(&["backup", "create", "--to", &at, "--data", &data]);
    assert!(!out.status.success() && text(&out).contains("not empty"), "{}", text(&out));
    let out = run(&["backup", "verify", "--from", &at]);
    assert!(out.status.success(), "{}", text(&out));

    let fresh = tempfile::tempdir().unwrap();
    let restored = fresh.path().join("restored");
    let out = run(&["backup", "restore", "--from", &at, "--data", restored.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let left: Vec<_> = std::fs::read_dir(&restored).unwrap().filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
    assert!(!left.iter().any(|n| n.to_string_lossy().starts_with(".restore-")), "{left:?}");
    let store =
        innkeep_store::open(&innkeep_store::StoreOptions::new(innkeep_store::sqlite_url(&restored))).await.unwrap();
    for id in &acknowledged {
        assert!(store.booking(id.parse().unwrap()).await.unwrap().is_some(), "booking {id} is not in the restore");
    }
    store.close().await;
    let out = innkeep(&["ledger", "check", "--data", restored.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));

    // A place with no backup, and a backup whose database changed in the bucket, are refused.
    let out = run(&["backup", "verify", "--from", &format!("s3://{bucket}/nightly/2027-03-02")]);
    assert!(!out.status.success() && text(&out).contains("holds no backup"), "{}", text(&out));
    let objects = innkeep_objects::open(&innkeep_objects::Location::S3(innkeep_objects::S3Options {
        bucket: bucket.clone(),
        endpoint: endpoint.clone(),
        region: String::new(),
        access_key_id: ak.into(),
        secret_access_key: sk.into(),
    }))
    .unwrap();
    use innkeep_app::objects::ObjectStorage;
    objects.put("nightly/2027-03-01/innkeep.db", b"not the database".to_vec()).await.unwrap();
    let out = run(&["backup", "verify", "--from", &at]);
    assert!(!out.status.success() && text(&out).contains("changed"), "{}", text(&out));
    let again = fresh.path().join("again");
    let out = run(&["backup", "restore", "--from", &at, "--data", again.to_str().unwrap()]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(!again.join("innkeep.db").exists(), "a damaged backup was restored");
    app.stop().await;
}
