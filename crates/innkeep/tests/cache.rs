//! The cache through HTTP, on two nodes sharing one database: node B serves cached pages,
//! node A takes the changes, and B shows them once its invalidation consumer followed the
//! outbox. A warm cache never sells the last unit twice, and a token signed out on A
//! stops working on B. Run with the in-process cache
//! always and with Redis when INNKEEP_TEST_REDIS_URL is set (required in CI).

use crate::common;

use common::{Reply, START, booking_body, property_body, room_type_body};
use innkeep::config::Config;
use innkeep::startup::Server;
use innkeep_app::clock::ManualClock;
use reqwest::{Client, Method};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Node {
    base: String,
    server: Server,
}

async fn node(
    db: &std::path::Path,
    cache_url: &str,
    prefix: &str,
    clock: Arc<ManualClock>,
) -> (Node, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config { data_dir: dir.path().to_path_buf(), ..Config::default() };
    config.server.listen = "127.0.0.1:0".into();
    config.database.url = innkeep_store::sqlite_url(db);
    config.cache.url = cache_url.into();
    config.cache.key_prefix = prefix.into();
    let server = Server::start(&config, clock, false).await.expect("node starts");
    (Node { base: format!("http://{}", server.addr), server }, dir)
}

async fn call(client: &Client, method: Method, url: String, token: Option<&str>, body: Option<Value>) -> Reply {
    let mut req = client.request(method, url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    Reply::from(req.send().await.unwrap()).await
}

async fn token(client: &Client, base: &str, role: &str) -> String {
    let email = format!("{role}@example.com");
    let body = json!({"email": email, "password": "correct horse battery", "name": "Test", "role": role});
    let r = call(client, Method::POST, format!("{base}/api/v1/users"), None, Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let body = json!({"email": email, "password": "correct horse battery"});
    let r = call(client, Method::POST, format!("{base}/api/v1/sessions"), None, Some(body)).await;
    r.body["token"].as_str().unwrap().to_string()
}

/// Poll `read` until `ok` holds, for at most 10 s.
async fn eventually<F, Fut>(what: &str, mut read: F, ok: impl Fn(&Value) -> bool)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Reply>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = read().await;
        if ok(&r.body) {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: still {} after 10 s", r.body);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn in_process_caches_follow_the_outbox_on_every_node() {
    changes_reach_a_cached_node_and_warm_caches_never_oversell("").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_cache_follows_the_outbox() {
    let Some(url) = innkeep_store::testing::server_url("INNKEEP_TEST_REDIS_URL") else { return };
    changes_reach_a_cached_node_and_warm_caches_never_oversell(&url).await;
}

async fn changes_reach_a_cached_node_and_warm_caches_never_oversell(cache_url: &str) {
    let db = tempfile::tempdir().unwrap();
    let prefix = format!("innkeep-test:{}:", uuid::Uuid::new_v4());
    let clock = Arc::new(ManualClock::new(START.parse().unwrap()));
    let (a, _a_dir) = node(db.path(), cache_url, &prefix, clock.clone()).await;
    let (b, _b_dir) = node(db.path(), cache_url, &prefix, clock.clone()).await;
    let client = Client::new();
    let host = token(&client, &a.base, "host").await;
    let guest = token(&client, &a.base, "guest").await;
    let r = call(
        &client,
        Method::POST,
        format!("{}/api/v1/properties", a.base),
        Some(&host),
        Some(property_body("moderate")),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let property = r.body["id"].as_str().unwrap().to_string();
    let url = format!("{}/api/v1/properties/{property}/room-types", a.base);
    let r = call(&client, Method::POST, url, Some(&host), Some(room_type_body(1))).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let rt = r.body["id"].as_str().unwrap().to_string();

    // Node B serves the property page, filling its cache: a later read is a hit. (B's
    // invalidator may still be following the creation events and drop the first entry.)
    let page = || call(&client, Method::GET, format!("{}/api/v1/properties/{property}", b.base), None, None);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert_eq!(page().await.body["name"], "Casa Azul");
        let metrics = client.get(format!("{}/metrics", b.base)).send().await.unwrap().text().await.unwrap();
        assert!(metrics.contains("innkeep_cache_misses_total{kind=\"property\"}"), "{metrics}");
        if metrics.contains("innkeep_cache_hits_total{kind=\"property\"}") {
            break;
        }
        assert!(Instant::now() < deadline, "node B never served the property from its cache: {metrics}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The host renames it on node A; B shows the new name once the outbox was followed.
    let url = format!("{}/api/v1/properties/{property}", a.base);
    let r = call(&client, Method::PATCH, url, Some(&host), Some(json!({"name": "Casa Verde"}))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    eventually("the renamed property on node B", page, |b| b["name"] == "Casa Verde").await;

    // A rate change on A reaches B's cached price calendar.
    let avail = || {
        let url = format!(
            "{}/api/v1/availability?property_id={property}&check_in=2027-02-01&check_out=2027-02-04&adults=2",
            b.base
        );
        call(&client, Method::GET, url, None, None)
    };
    assert_eq!(avail().await.body["offers"][0]["quote"]["subtotal"]["minor"], 30000);
    let url = format!("{}/api/v1/room-types/{rt}/calendar", a.base);
    let body = json!({"from": "2027-02-01", "to": "2027-02-04", "price": 12000});
    let r = call(&client, Method::PUT, url, Some(&host), Some(body)).await;
    assert_eq!(r.status, 204, "{}", r.body);
    eventually("the new rate on node B", avail, |b| b["offers"][0]["quote"]["subtotal"]["minor"] == 36000).await;

    // The last unit with a warm cache on B: A sells it, B's hold is refused by the store.
    assert_eq!(avail().await.body["offers"][0]["units_left"], 1);
    let book = |base: &str| {
        let url = format!("{base}/api/v1/bookings");
        call(&client, Method::POST, url, Some(&guest), Some(booking_body(&rt, "2027-02-01", "2027-02-04")))
    };
    let first = book(&a.base).await;
    assert_eq!(first.status, 201, "{}", first.body);
    book(&b.base).await.assert_problem(409, "sold_out");
    eventually("sold out on node B", avail, |b| b["offers"].as_array().is_some_and(|o| o.is_empty())).await;

    // Sessions are cached too: the guest's token works on B (and is now cached there).
    // Signed out on A, it stops working on A at once and on B once B followed the outbox.
    let me = |base: &str| call(&client, Method::GET, format!("{base}/api/v1/me"), Some(&guest), None);
    assert_eq!(me(&b.base).await.status, 200);
    assert_eq!(me(&b.base).await.status, 200);
    let metrics = client.get(format!("{}/metrics", b.base)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("innkeep_cache_hits_total{kind=\"session\"}"), "{metrics}");
    let r = call(&client, Method::DELETE, format!("{}/api/v1/sessions/current", a.base), Some(&guest), None).await;
    assert_eq!(r.status, 204, "{}", r.body);
    me(&a.base).await.assert_problem(401, "unauthenticated");
    let deadline = Instant::now() + Duration::from_secs(10);
    while me(&b.base).await.status != 401 {
        assert!(Instant::now() < deadline, "the signed-out token still works on node B after 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    a.server.stop().await.unwrap();
    b.server.stop().await.unwrap();
}
