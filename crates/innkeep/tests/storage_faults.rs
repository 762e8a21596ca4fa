//! Storage faults made for real against the release path of the binary: a full disk (a
//! small tmpfs), a SQLite file locked by another process, a file system that turns
//! read-only under the running server (its writes made to fail with `EROFS` by `strace`'s
//! fault injection), PostgreSQL backends terminated mid-transaction. In every case no write is answered 2xx unless it is in the database
//! afterwards (read by another connection, and after `kill -9` and a restart), faults are
//! answered 503 with `Retry-After`, and the service resumes by itself.

use crate::common;

use common::{post_json as post, wait_ready};
use serde_json::Value;
use serde_json::json;
use sqlx::Connection;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// `innkeep serve` on `port` with its data in `dir`, and these settings.
fn start(dir: &Path, port: u16, env: &[(&str, &str)]) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_innkeep"));
    cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(dir)
        .env("INNKEEP_LOG__LEVEL", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().expect("innkeep starts")
}

/// A host's room type with many units, and a guest's token.
struct World {
    api: String,
    guest: String,
    property: String,
    room_type: String,
    client: reqwest::Client,
}

impl World {
    async fn new(base: &str) -> World {
        let api = format!("{base}/api/v1");
        let client = reqwest::Client::new();
        let mut tokens = Vec::new();
        for role in ["host", "guest"] {
            let email = format!("{role}@example.com");
            let body = json!({"email": email, "password": "correct horse battery", "name": "T", "role": role});
            post(&client, format!("{api}/users"), None, body).await;
            let body = json!({"email": email, "password": "correct horse battery"});
            let s = post(&client, format!("{api}/sessions"), None, body).await;
            tokens.push(s.body["token"].as_str().expect("token").to_string());
        }
        let host = &tokens[0];
        let p = post(&client, format!("{api}/properties"), Some(host), common::property_body("flexible")).await;
        let property = p.body["id"].as_str().expect("id").to_string();
        let rt =
            post(&client, format!("{api}/properties/{property}/room-types"), Some(host), common::room_type_body(200))
                .await;
        let room_type = rt.body["id"].as_str().expect("id").to_string();
        World { api, guest: tokens[1].clone(), property, room_type, client }
    }

    /// Book two nights starting `offset` days from now, with its own Idempotency-Key.
    async fn book(&self, offset: i64) -> Answer {
        let today = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
        let ci = today.checked_add(jiff::Span::new().days(20 + offset % 300)).expect("date");
        let co = ci.checked_add(jiff::Span::new().days(2)).expect("date");
        let body = common::booking_body(&self.room_type, &ci.to_string(), &co.to_string());
        let r = self
            .client
            .post(format!("{}/bookings", self.api))
            .bearer_auth(&self.guest)
            .header("idempotency-key", uuid::Uuid::new_v4().to_string())
            .json(&body)
            .send()
            .await;
        match r {
            Ok(r) => Answer::from(r).await,
            // A connection the server dropped is no acknowledgement.
            Err(e) => Answer { status: 0, retry_after: None, body: json!({"error": e.to_string()}) },
        }
    }

    async fn get(&self, url: &str) -> Answer {
        Answer::from(self.client.get(url).bearer_auth(&self.guest).send().await.expect("sent")).await
    }
}

/// An answer: status (0 for a dropped connection), `Retry-After`, JSON body.
struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: Value,
}

impl Answer {
    async fn from(r: reqwest::Response) -> Answer {
        let status = r.status().as_u16();
        let retry_after = r.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_string);
        let body = r.json().await.unwrap_or(Value::Null);
        Answer { status, retry_after, body }
    }
}

/// The ids of 201 answers; panics on any answer other than 201 or a 503 with
/// `Retry-After` and a problem document (0 is a dropped connection: not acknowledged).
fn check_answer(r: &Answer, saved: &mut Vec<String>) {
    match r.status {
        201 => saved.push(r.body["id"].as_str().expect("id").to_string()),
        503 => {
            assert!(
                matches!(r.body["code"].as_str(), Some("storage_full" | "unavailable")),
                "503 without a known code: {}",
                r.body
            );
            assert!(r.retry_after.is_some(), "503 without Retry-After: {}", r.body);
        }
        0 => {}
        other => panic!("a write answered {other}: {}", r.body),
    }
}

/// A tmpfs of `mib` MiB mounted on a fresh directory, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// `None` (and a message) where mounting is refused (not root, no mount namespace).
    fn mount(mib: u32) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().expect("dir");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(dir.path())
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Tmpfs { dir }),
            Ok(o) => {
                eprintln!("skipping: mounting a tmpfs was refused: {}", String::from_utf8_lossy(&o.stderr).trim());
                None
            }
            Err(e) => {
                eprintln!("skipping: mount could not run: {e}");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

/// Fill the file system under `dir` until a write fails; returns the filler's path.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).expect("filler");
    for chunk in [64 * 1024, 4096, 512] {
        let buf = vec![0u8; chunk];
        while f.write_all(&buf).is_ok() {}
    }
    let _ = f.sync_all();
    path
}

/// Every id is in the database at `url`, read by a connection of our own.
async fn all_in_database(url: &str, ids: &[String]) {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.expect("a second reader opens the database");
    for id in ids {
        let found: Option<String> = sqlx::query_scalar("SELECT id FROM bookings WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut conn)
            .await
            .unwrap();
        assert!(found.is_some(), "booking {id} was answered 201 but is not in the database");
    }
    conn.close().await.unwrap();
}

/// The read-only URL of the SQLite database in `dir`.
fn sqlite_file(dir: &Path) -> String {
    format!("sqlite://{}?mode=ro", dir.join("innkeep.db").display())
}

/// Book until one is saved (the fault is gone), at most for 20 s.
async fn book_until_saved(world: &World, from: i64, saved: &mut Vec<String>) {
    for i in 0..200 {
        let r = world.book(from + i).await;
        check_answer(&r, saved);
        if r.status == 201 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("writes did not resume by themselves");
}

#[tokio::test]
async fn a_full_disk_refuses_writes_with_503_loses_nothing_and_recovers_by_itself() {
    let Some(fs) = Tmpfs::mount(24) else { return };
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = start(fs.path(), port, &[]);
    let client = reqwest::Client::new();
    wait_ready(&client, &base).await;
    let world = World::new(&base).await;
    let mut saved = Vec::new();
    for i in 0..3 {
        check_answer(&world.book(i).await, &mut saved);
    }
    assert_eq!(saved.len(), 3, "bookings work before the disk fills");

    let filler = fill(fs.path());
    // Book until the storage refuses: the WAL may still have room for a few.
    let mut refused = 0;
    let mut full_seen = false;
    for i in 3..400 {
        let r = world.book(i).await;
        check_answer(&r, &mut saved);
        if r.status == 503 {
            refused += 1;
            full_seen |= r.body["code"] == "storage_full";
            assert!(r.body["detail"].as_str().unwrap_or_default().contains("nothing was saved"), "{}", r.body);
        }
        if refused >= 5 {
            break;
        }
    }
    assert!(refused >= 5 && full_seen, "the full disk never refused a booking as storage_full");

    // Reads keep working and the node says why writes fail.
    let property = world.get(&format!("{}/properties/{}", world.api, world.property)).await;
    assert_eq!(property.status, 200, "reads work on a full disk");
    let ready = world.get(&format!("{base}/readyz")).await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.body["status"], "degraded", "{}", ready.body);
    assert_eq!(ready.body["writes"]["reason"], "storage_full", "{}", ready.body);
    let metrics = client.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("innkeep_store_write_fault{reason=\"storage_full\"} 1"), "no fault metric");
    // Space returns: writes work again without a restart, and the node is ready again.
    std::fs::remove_file(&filler).unwrap();
    book_until_saved(&world, 500, &mut saved).await;
    for i in 0..3 {
        check_answer(&world.book(600 + i).await, &mut saved);
    }
    let ready = world.get(&format!("{base}/readyz")).await;
    assert_eq!(ready.body["status"], "ready", "{}", ready.body);

    // Every 201 is in the file (another connection), listed, and survives kill -9.
    all_in_database(&sqlite_file(fs.path()), &saved).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let mut child = start(fs.path(), port, &[]);
    wait_ready(&client, &base).await;
    for id in &saved {
        let b = world.get(&format!("{}/bookings/{id}", world.api)).await;
        assert_eq!(b.status, 200, "booking {id} answered 201 is gone after a restart");
    }
    let list = world.get(&format!("{}/bookings?limit=200", world.api)).await;
    let listed: Vec<&str> =
        list.body.as_array().map(|a| a.iter().filter_map(|b| b["id"].as_str()).collect()).unwrap_or_default();
    for id in &saved {
        assert!(listed.contains(&id.as_str()), "booking {id} is not listed: {}", list.body);
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test]
async fn a_sqlite_file_locked_by_another_process_refuses_writes_and_resumes() {
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = start(dir.path(), port, &[("INNKEEP_DATABASE__STATEMENT_TIMEOUT_MS", "200")]);
    let client = reqwest::Client::new();
    wait_ready(&client, &base).await;
    let world = World::new(&base).await;
    let mut saved = Vec::new();
    check_answer(&world.book(0).await, &mut saved);
    assert_eq!(saved.len(), 1);

    // Another connection takes the write lock and holds it.
    let db = dir.path().join("innkeep.db");
    let mut locker = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display())).await.unwrap();
    sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut locker).await.unwrap();
    for i in 1..4 {
        let r = world.book(i).await;
        assert_eq!(r.status, 503, "a write under another process's lock: {}", r.body);
        check_answer(&r, &mut saved);
    }
    sqlx::raw_sql("ROLLBACK").execute(&mut locker).await.unwrap();
    locker.close().await.unwrap();

    book_until_saved(&world, 10, &mut saved).await;
    all_in_database(&sqlite_file(dir.path()), &saved).await;
    child.kill().unwrap();
    child.wait().unwrap();
}

/// `strace` attached to every thread of `pid`, making each write and sync of a file fail
/// with `EROFS` (what a file system remounted read-only answers) until it is stopped.
/// `None` (and a message) where strace is missing or may not attach.
fn read_only_under(pid: u32) -> Option<Child> {
    let calls = "pwrite64,pwritev,pwritev2,fsync,fdatasync,ftruncate";
    let spawned = Command::new("strace")
        .args(["-f", "-qq", "-o", "/dev/null", "-e", &format!("trace={calls}")])
        .args(["-e", &format!("inject={calls}:error=EROFS"), "-p", &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    let mut strace = match spawned {
        Ok(c) => c,
        Err(e) => {
            eprintln!("skipping: strace could not run: {e}");
            return None;
        }
    };
    std::thread::sleep(Duration::from_millis(500));
    if let Ok(Some(status)) = strace.try_wait() {
        let mut err = String::new();
        let _ = std::io::Read::read_to_string(strace.stderr.as_mut().expect("stderr"), &mut err);
        eprintln!("skipping: strace may not attach ({status}): {}", err.trim());
        return None;
    }
    Some(strace)
}

#[tokio::test]
async fn a_file_system_turned_read_only_refuses_writes_loses_nothing_and_resumes() {
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = start(dir.path(), port, &[]);
    let client = reqwest::Client::new();
    wait_ready(&client, &base).await;
    let world = World::new(&base).await;
    let mut saved = Vec::new();
    check_answer(&world.book(0).await, &mut saved);
    assert_eq!(saved.len(), 1, "bookings work before the fault");

    let Some(mut strace) = read_only_under(child.id()) else {
        child.kill().unwrap();
        child.wait().unwrap();
        return;
    };
    let mut refused = 0;
    for i in 1..40 {
        let r = world.book(i).await;
        check_answer(&r, &mut saved);
        if r.status == 503 {
            refused += 1;
            assert!(r.body["detail"].as_str().unwrap_or_default().contains("nothing was saved"), "{}", r.body);
        }
        if refused >= 3 {
            break;
        }
    }
    assert!(refused >= 3, "a read-only file system never refused a booking");
    // Reads keep working and the node says why writes fail.
    let property = world.get(&format!("{}/properties/{}", world.api, world.property)).await;
    assert_eq!(property.status, 200, "reads work while writes fail");
    let ready = world.get(&format!("{base}/readyz")).await;
    assert_eq!(ready.body["status"], "degraded", "{}", ready.body);
    assert_eq!(ready.body["writes"]["reason"], "storage_error", "{}", ready.body);

    // The file system takes writes again: the node resumes by itself.
    let _ = Command::new("kill").arg(strace.id().to_string()).status();
    strace.wait().unwrap();
    book_until_saved(&world, 100, &mut saved).await;
    check_answer(&world.book(200).await, &mut saved);
    let ready = world.get(&format!("{base}/readyz")).await;
    assert_eq!(ready.body["status"], "ready", "{}", ready.body);

    // Every 201 is in the file, and after kill -9 and a restart.
    all_in_database(&sqlite_file(dir.path()), &saved).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let mut child = start(dir.path(), port, &[]);
    wait_ready(&client, &base).await;
    for id in &saved {
        let b = world.get(&format!("{}/bookings/{id}", world.api)).await;
        assert_eq!(b.status, 200, "booking {id} answered 201 is gone after a restart");
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Terminate every backend of `db` but our own, now.
async fn terminate_backends(admin: &mut sqlx::PgConnection, db: &str) -> u64 {
    let n: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(db)
    .fetch_all(&mut *admin)
    .await
    .unwrap();
    n.len() as u64
}

#[tokio::test]
async fn postgres_backends_terminated_mid_transaction_lose_no_acknowledged_booking() {
    let Some(admin_url) = innkeep_store::testing::server_url("INNKEEP_TEST_POSTGRES_URL") else { return };
    let (url, name) = innkeep_store::testing::fresh_postgres_database(&admin_url).await.unwrap();
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let env = [
        ("INNKEEP_DATABASE__URL", url.as_str()),
        ("INNKEEP_DATABASE__MAX_CONNECTIONS", "8"),
        ("INNKEEP_WEB__CSRF_KEY", "storage-faults-test-key-of-32-characters-or-more"),
    ];
    let mut child = start(dir.path(), port, &env);
    let client = reqwest::Client::new();
    wait_ready(&client, &base).await;
    let world = std::sync::Arc::new(World::new(&base).await);

    // Four clients book while every backend is terminated again and again.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Whether a write has met a terminated backend yet: terminations go on until one has
    // (whether a write is in flight at the moment of a termination is up to the scheduler).
    let met = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for c in 0..4i64 {
        let (world, stop, met) = (world.clone(), stop.clone(), met.clone());
        clients.push(tokio::spawn(async move {
            let mut saved = Vec::new();
            let mut answers = Vec::new();
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let r = world.book(c * 1000 + i).await;
                if r.status != 201 {
                    met.store(true, std::sync::atomic::Ordering::SeqCst);
                }
                answers.push(r.status);
                check_answer(&r, &mut saved);
                i += 1;
            }
            (saved, answers)
        }));
    }
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    let mut terminated = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut rounds = 0;
    while rounds < 60 || (!met.load(std::sync::atomic::Ordering::SeqCst) && std::time::Instant::now() < deadline) {
        terminated += terminate_backends(&mut admin, &name).await;
        tokio::time::sleep(Duration::from_millis(25)).await;
        rounds += 1;
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut saved = Vec::new();
    let mut answers: Vec<u16> = Vec::new();
    for c in clients {
        let (s, a) = c.await.unwrap();
        saved.extend(s);
        answers.extend(a);
    }
    assert!(terminated > 0, "no backend was terminated");
    assert!(answers.iter().any(|s| *s != 201), "no write met a terminated backend: {answers:?}");

    // Service resumes by itself, and every 201 is in the database.
    book_until_saved(&world, 9000, &mut saved).await;
    all_in_database(&url, &saved).await;
    child.kill().unwrap();
    child.wait().unwrap();
    innkeep_store::testing::drop_postgres_database(&admin_url, &name).await.unwrap();
}
