//! Read replicas and failover against real PostgreSQL servers: each test makes its own
//! primary (initdb in a temp dir, a free loopback port) and a streaming replica
//! (pg_basebackup -R), then drives a node over HTTP.
//!
//! Runs when INNKEEP_TEST_POSTGRES_URL is set, like the other PostgreSQL suites (the
//! machine's own server is not used: it allows no replication connections), and needs the
//! PostgreSQL 15 server binaries.

use crate::common;

use common::Reply;
use innkeep::config::Config;
use innkeep::startup::Server;
use innkeep_app::clock::ManualClock;
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = "/usr/lib/postgresql/15/bin";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

/// Whether to run: the PostgreSQL suites are on and the server binaries exist.
fn enabled() -> bool {
    let required = std::env::var("INNKEEP_TEST_REQUIRE_SERVERS").is_ok();
    if innkeep_store::testing::server_url("INNKEEP_TEST_POSTGRES_URL").is_none() {
        return false;
    }
    if !Path::new(BIN).join("pg_basebackup").exists() {
        assert!(!required, "the PostgreSQL 15 server binaries are required in {BIN}");
        eprintln!("skipping: no PostgreSQL server binaries in {BIN}");
        return false;
    }
    true
}

/// One PostgreSQL server in a temp directory, stopped when dropped.
struct Cluster {
    data: PathBuf,
    sockets: PathBuf,
    port: u16,
    options: String,
}

/// A PostgreSQL tool, as the postgres user when we are root (the server refuses root).
fn pg(tool: &str) -> Command {
    let path = format!("{BIN}/{tool}");
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", &path]);
        c
    } else {
        Command::new(path)
    }
}

fn run(c: &mut Command) {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{c:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Cluster {
    /// A new primary; with `synchronous`, commits wait for a standby's flush.
    fn primary(root: &Path, synchronous: bool) -> Cluster {
        let data = root.join("primary");
        run(pg("initdb").args(["-D", data.to_str().unwrap(), "-U", "postgres", "--auth=trust", "--no-sync"]));
        let sync = if synchronous { " -c synchronous_standby_names=*" } else { "" };
        let c = Cluster { data, sockets: root.to_path_buf(), port: free_port(), options: sync.into() };
        c.start();
        c
    }

    /// A streaming replica of this server (pg_basebackup -R writes standby.signal).
    fn replica(&self, root: &Path) -> Cluster {
        let data = root.join("replica");
        run(pg("pg_basebackup").args([
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            "postgres",
            "-D",
            data.to_str().unwrap(),
            "-R",
            "-X",
            "stream",
            "--no-sync",
        ]));
        assert!(data.join("standby.signal").exists());
        let c = Cluster { data, sockets: self.sockets.clone(), port: free_port(), options: String::new() };
        c.start();
        c
    }

    fn start(&self) {
        let opts = format!("-p {} -k {} -c fsync=off{}", self.port, self.sockets.display(), self.options);
        let log = self.data.with_extension("log");
        run(pg("pg_ctl").args([
            "-D",
            self.data.to_str().unwrap(),
            "-l",
            log.to_str().unwrap(),
            "-w",
            "-o",
            &opts,
            "start",
        ]));
    }

    fn stop(&self, mode: &str) {
        run(pg("pg_ctl").args(["-D", self.data.to_str().unwrap(), "-m", mode, "-w", "stop"]));
    }

    fn promote(&self) {
        run(pg("pg_ctl").args(["-D", self.data.to_str().unwrap(), "-w", "promote"]));
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    async fn connect(&self) -> PgConnection {
        PgConnection::connect(&self.url()).await.unwrap()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = pg("pg_ctl").args(["-D", self.data.to_str().unwrap(), "-m", "immediate", "stop"]).output();
    }
}

/// A temp directory the postgres user owns.
fn cluster_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    if is_root() {
        run(Command::new("chown").args(["postgres:postgres", dir.path().to_str().unwrap()]));
    }
    dir
}

async fn poll<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn streaming(primary: &Cluster) {
    let mut conn = primary.connect().await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pg_stat_replication WHERE state = 'streaming'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        if n == 1 {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for the replica to stream");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A node on `url` (and replicas), in process, checking its database parts every 100 ms.
async fn node(url: String, replicas: Vec<String>, data: &Path) -> common::TestApp {
    let mut config = Config { data_dir: data.to_path_buf(), ..Config::default() };
    config.server.listen = "127.0.0.1:0".into();
    config.database.url = url;
    config.database.replicas = replicas;
    config.database.replica_max_lag_ms = 60_000;
    config.database.health_check_ms = 100;
    // A PostgreSQL-backed node needs the key that signs its forms.
    config.web.csrf_key = "replica-test-key-0123456789abcdef".into();
    config.log.level = "warn".into();
    let clock = Arc::new(ManualClock::new(common::START.parse().unwrap()));
    let server = Server::start(&config, clock.clone(), false).await.expect("node starts");
    common::TestApp::with_server(server, clock, tempfile::tempdir().unwrap())
}

async fn sold(app: &common::TestApp, host: &str, rt: &str, night: &str, next: &str) -> i64 {
    let cal = app.get(&format!("/api/v1/room-types/{rt}/calendar?from={night}&to={next}"), Some(host)).await;
    assert_eq!(cal.status, 200, "{}", cal.body);
    cal.body["nights"][0]["sold"].as_i64().unwrap()
}

async fn primary_sold(primary: &Cluster, rt: &str, night: &str) -> i64 {
    let mut conn = primary.connect().await;
    sqlx::query_scalar("SELECT COALESCE(MAX(sold), 0)::BIGINT FROM inventory WHERE room_type_id = $1 AND night = $2")
        .bind(rt)
        .bind(night)
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

fn replica_reads(app: &common::TestApp) -> u64 {
    app.server.as_ref().unwrap().store.replica_status()[0].reads
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reads_go_to_the_replica_and_fall_back_to_the_primary_when_it_stops() {
    if !enabled() {
        return;
    }
    let root = cluster_root();
    let primary = Cluster::primary(root.path(), false);
    let replica = primary.replica(root.path());
    streaming(&primary).await;
    let data = tempfile::tempdir().unwrap();
    let app = node(primary.url(), vec![replica.url()], data.path()).await;

    let host = app.user("host").await;
    let guest = app.user("guest").await;
    let property = app.property(&host, "flexible").await;
    let rt = app.room_type(&host, &property, 2).await;
    let (night, next) = ("2027-02-01", "2027-02-02");

    // Wait for the replica to hold the room type, then freeze its replay: from here a read
    // answered by the replica shows the catalogue as it was, the primary shows the booking.
    let mut on_replica = replica.connect().await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM room_types WHERE id = $1")
            .bind(&rt)
            .fetch_one(&mut on_replica)
            .await
            .unwrap();
        if n == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "timed out waiting for the room type on the replica");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    sqlx::query("SELECT pg_wal_replay_pause()").execute(&mut on_replica).await.unwrap();

    let booked = app.book(&guest, &rt, night, next, None).await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    let id = booked.body["id"].as_str().unwrap().to_string();
    assert_eq!(primary_sold(&primary, &rt, night).await, 1, "the booking was written to the primary");
    // The guest's own booking is read from the primary: visible at once.
    let own = app.get(&format!("/api/v1/bookings/{id}"), Some(&guest)).await;
    assert_eq!(own.status, 200, "{}", own.body);
    // The calendar is read from the paused replica: the night still shows nothing sold.
    let before = replica_reads(&app);
    assert_eq!(sold(&app, &host, &rt, night, next).await, 0, "calendar served by the replica");
    assert!(replica_reads(&app) > before, "the replica counted the read");

    // Replay resumes: the booking reaches the replica and the replica's answer shows it.
    sqlx::query("SELECT pg_wal_replay_resume()").execute(&mut on_replica).await.unwrap();
    on_replica.close().await.unwrap();
    poll("the booking on the replica", || async { sold(&app, &host, &rt, night, next).await == 1 }).await;
    let ready = app.get("/readyz", None).await;
    assert_eq!((ready.status.as_u16(), ready.body["status"].as_str()), (200, Some("ready")), "{}", ready.body);
    assert_eq!(ready.body["replicas"][0]["up"], true, "{}", ready.body);
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("innkeep_db_replica_lag_seconds{replica=\"0\"}"), "{metrics}");
    assert!(metrics.contains("innkeep_db_replica_up{replica=\"0\"} 1"), "{metrics}");

    // The replica stops: reads fall back to the primary and keep answering, fresh.
    replica.stop("fast");
    assert_eq!(sold(&app, &host, &rt, night, next).await, 1);
    let second = app.book(&guest, &rt, night, next, None).await;
    assert_eq!(second.status, 201, "{}", second.body);
    assert_eq!(sold(&app, &host, &rt, night, next).await, 2, "read from the primary");
    let ready = app.get("/readyz", None).await;
    assert_eq!((ready.status.as_u16(), ready.body["status"].as_str()), (200, Some("degraded")), "{}", ready.body);
    assert_eq!(ready.body["replicas"][0]["up"], false, "{}", ready.body);
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("innkeep_db_replica_up{replica=\"0\"} 0"), "{metrics}");

    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_promoted_replica_takes_over_and_no_confirmed_booking_is_lost() {
    if !enabled() {
        return;
    }
    let root = cluster_root();
    let primary = Cluster::primary(root.path(), true);
    let standby = primary.replica(root.path());
    streaming(&primary).await;
    let data = tempfile::tempdir().unwrap();
    let hosts = format!("postgres://postgres@127.0.0.1:{},127.0.0.1:{}/postgres", primary.port, standby.port);
    let app = Arc::new(node(hosts, Vec::new(), data.path()).await);
    assert_eq!(app.server.as_ref().unwrap().store.primary_host(), 0);

    let host = app.user("host").await;
    let guest = app.user("guest").await;
    let property = app.property(&host, "flexible").await;
    let rt = app.room_type(&host, &property, 10_000).await;

    // Four clients book one night each, over and over, and remember every 201.
    let confirmed: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (app, guest, rt, confirmed, stop) =
                (app.clone(), guest.clone(), rt.clone(), confirmed.clone(), stop.clone());
            tokio::spawn(async move {
                let start: jiff::civil::Date = "2027-02-01".parse().unwrap();
                let mut i = 0i64;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let night = start.checked_add(jiff::Span::new().days((w * 50 + i) % 200)).unwrap();
                    let next = night.checked_add(jiff::Span::new().days(1)).unwrap();
                    let r: Reply = app.book(&guest, &rt, &night.to_string(), &next.to_string(), None).await;
                    if r.status == 201 {
                        confirmed.lock().unwrap().push(r.body["id"].as_str().unwrap().to_string());
                    }
                    i += 1;
                }
            })
        })
        .collect();
    let count = |c: &Arc<Mutex<Vec<String>>>| c.lock().unwrap().len();
    poll("bookings on the first primary", || async { count(&confirmed) >= 40 }).await;

    primary.stop("immediate");
    standby.promote();
    let at_promotion = count(&confirmed);
    poll("bookings on the promoted replica", || async { count(&confirmed) >= at_promotion + 40 }).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for w in workers {
        w.await.unwrap();
    }
    assert_eq!(app.server.as_ref().unwrap().store.primary_host(), 1, "the node writes to the promoted replica");

    let ids = confirmed.lock().unwrap().clone();
    let mut conn = standby.connect().await;
    let present: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM bookings WHERE id = ANY($1)")
        .bind(&ids)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(present as usize, ids.len(), "every booking answered 201 is on the new primary");
    for id in ids.iter().take(at_promotion) {
        let r = app.get(&format!("/api/v1/bookings/{id}"), Some(&guest)).await;
        assert_eq!(r.status, 200, "{id}: {}", r.body);
    }
    let after = app.book(&guest, &rt, "2027-09-01", "2027-09-02", None).await;
    assert_eq!(after.status, 201, "{}", after.body);
    Arc::try_unwrap(app).ok().unwrap().stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_stopped_and_restarted_answers_503_meanwhile_and_resumes_by_itself() {
    if !enabled() {
        return;
    }
    let root = cluster_root();
    let primary = Cluster::primary(root.path(), false);
    let data = tempfile::tempdir().unwrap();
    let app = Arc::new(node(primary.url(), Vec::new(), data.path()).await);
    let host = app.user("host").await;
    let guest = app.user("guest").await;
    let property = app.property(&host, "flexible").await;
    let rt = app.room_type(&host, &property, 10_000).await;

    // Two clients book over and over; every answer is a 201 or a 503 with Retry-After.
    let saved: Arc<Mutex<Vec<String>>> = Arc::default();
    let refused = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let workers: Vec<_> = (0..2)
        .map(|w| {
            let (app, guest, rt, saved, refused, stop) =
                (app.clone(), guest.clone(), rt.clone(), saved.clone(), refused.clone(), stop.clone());
            tokio::spawn(async move {
                let start: jiff::civil::Date = "2027-02-01".parse().unwrap();
                let mut i = 0i64;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let night = start.checked_add(jiff::Span::new().days((w * 100 + i) % 200)).unwrap();
                    let next = night.checked_add(jiff::Span::new().days(1)).unwrap();
                    let r: Reply = app.book(&guest, &rt, &night.to_string(), &next.to_string(), None).await;
                    match r.status.as_u16() {
                        201 => saved.lock().unwrap().push(r.body["id"].as_str().unwrap().to_string()),
                        503 => {
                            assert_eq!(r.content_type, "application/problem+json");
                            refused.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        other => panic!("a booking answered {other} while the database restarted: {}", r.body),
                    }
                    i += 1;
                }
            })
        })
        .collect();
    let count = |c: &Arc<Mutex<Vec<String>>>| c.lock().unwrap().len();
    poll("bookings before the stop", || async { count(&saved) >= 20 }).await;
    primary.stop("fast");
    let refused_before = refused.load(std::sync::atomic::Ordering::SeqCst);
    poll("writes refused while the database is down", || async {
        refused.load(std::sync::atomic::Ordering::SeqCst) > refused_before
    })
    .await;
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status, 503, "not ready without a database: {}", ready.body);
    let at_stop = count(&saved);
    primary.start();
    poll("bookings after the restart", || async { count(&saved) >= at_stop + 20 }).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for w in workers {
        w.await.unwrap();
    }
    let ids = saved.lock().unwrap().clone();
    let mut conn = primary.connect().await;
    let present: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM bookings WHERE id = ANY($1)")
        .bind(&ids)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(present as usize, ids.len(), "every booking answered 201 is in the database");
    assert_eq!(app.get("/readyz", None).await.status, 200);
    Arc::try_unwrap(app).ok().unwrap().stop().await;
}
