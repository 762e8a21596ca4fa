//! The shared test harness: a real server on port 0 with a fresh data directory and a
//! clock the test drives, and a client that speaks HTTP to it.
#![allow(dead_code)]

pub mod fake_stripe;
pub mod receivers;

use innkeep::config::Config;
use innkeep::startup::Server;
use innkeep_app::clock::ManualClock;
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The test clock starts here: Monday 4 January 2027, 10:00 UTC.
pub const START: &str = "2027-01-04T10:00:00Z";

pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub clock: Arc<ManualClock>,
    pub server: Option<Server>,
    pub dir: tempfile::TempDir,
    counter: AtomicUsize,
}

pub async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config { data_dir: dir.path().to_path_buf(), ..Config::default() };
    config.server.listen = "127.0.0.1:0".into();
    let clock = Arc::new(ManualClock::new(START.parse().expect("start time")));
    let server = Server::start(&config, clock.clone(), false).await.expect("server starts");
    let base = format!("http://{}", server.addr);
    let client = Client::builder().pool_max_idle_per_host(64).build().expect("client");
    TestApp { base, client, clock, server: Some(server), dir, counter: AtomicUsize::new(0) }
}

impl TestApp {
    /// Every event committed so far, in outbox order (see [`innkeep_store::testing::settled_events`]).
    pub async fn settled_events(&self) -> Vec<innkeep_app::event::StoredEvent> {
        innkeep_store::testing::settled_events(&self.server.as_ref().expect("server").store).await.expect("outbox")
    }

    /// Wait until the audit entries of every request answered so far are written (they
    /// are written after the answers, in batches).
    pub async fn audit_settled(&self) {
        self.server.as_ref().expect("server").audit.settled().await;
    }

    /// A harness around a server the test configured and started itself.
    pub fn with_server(server: Server, clock: Arc<ManualClock>, dir: tempfile::TempDir) -> TestApp {
        let base = format!("http://{}", server.addr);
        let client = Client::builder().pool_max_idle_per_host(64).build().expect("client");
        TestApp { base, client, clock, server: Some(server), dir, counter: AtomicUsize::new(0) }
    }

    /// A harness around a server running as a process at `base` (the clock and directory
    /// are the harness's own, unused by that server).
    pub fn at(base: &str) -> TestApp {
        let client = Client::builder().pool_max_idle_per_host(64).build().expect("client");
        let clock = Arc::new(ManualClock::new(START.parse().expect("start time")));
        let dir = tempfile::tempdir().expect("temp dir");
        TestApp { base: base.to_string(), client, clock, server: None, dir, counter: AtomicUsize::new(0) }
    }
}

/// A server on a fresh PostgreSQL database (none without INNKEEP_TEST_POSTGRES_URL), run by
/// `f`; the database is dropped afterwards.
pub async fn on_postgres<F, Fut>(f: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let Some(admin) = innkeep_store::testing::server_url("INNKEEP_TEST_POSTGRES_URL") else { return };
    let (url, name) = innkeep_store::testing::fresh_postgres_database(&admin).await.expect("a fresh database");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config { data_dir: dir.path().to_path_buf(), ..Config::default() };
    config.server.listen = "127.0.0.1:0".into();
    config.database.url = url;
    config.web.csrf_key = "postgres-test-key-0123456789abcdef-0123".into();
    let clock = Arc::new(ManualClock::new(START.parse().expect("start time")));
    let server = Server::start(&config, clock.clone(), false).await.expect("server starts");
    f(TestApp::with_server(server, clock, dir)).await;
    innkeep_store::testing::drop_postgres_database(&admin, &name).await.expect("database dropped");
}

/// A response's status and JSON body (Null if the body is empty or not JSON).
pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
}

impl Reply {
    pub async fn from(r: Response) -> Reply {
        let status = r.status();
        let content_type = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let text = r.text().await.unwrap_or_default();
        Reply { status, content_type, body: serde_json::from_str(&text).unwrap_or(Value::Null) }
    }

    /// Assert this is a problem document with a status and code.
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.content_type, "application/problem+json", "body: {}", self.body);
        assert_eq!(self.body["code"], code, "body: {}", self.body);
        assert!(self.body["detail"].as_str().is_some_and(|d| !d.is_empty()), "problem has a detail: {}", self.body);
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Reply::from(req.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::POST, path, token, Some(body)).await
    }

    fn unique(&self) -> usize {
        self.counter.fetch_add(1, Ordering::SeqCst)
    }

    /// Register a user and sign in; returns the token.
    pub async fn user(&self, role: &str) -> String {
        let email = format!("{role}{}@example.com", self.unique());
        let r = self
            .post(
                "/api/v1/users",
                None,
                json!({"email": email, "password": "correct horse battery", "name": "Test User", "role": role}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let r = self.post("/api/v1/sessions", None, json!({"email": email, "password": "correct horse battery"})).await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["token"].as_str().expect("token").to_string()
    }

    /// Create a property (Lisbon, EUR, given policy) for a host; returns its id.
    pub async fn property(&self, host: &str, policy: &str) -> String {
        let r = self.post("/api/v1/properties", Some(host), property_body(policy)).await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["id"].as_str().expect("id").to_string()
    }

    /// Create a property (Lisbon, EUR, flexible) whose guests pay `timing` (`prepay` or
    /// `at_property`); returns it as answered (its `id`, its `tenant_id`).
    pub async fn property_paying(&self, host: &str, timing: &str) -> Value {
        let mut body = property_body("flexible");
        body["payment_timing"] = json!(timing);
        let r = self.post("/api/v1/properties", Some(host), body).await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body
    }

    /// Add a room type with `units` units at 100.00 EUR a night; returns its id.
    pub async fn room_type(&self, host: &str, property: &str, units: u32) -> String {
        let r =
            self.post(&format!("/api/v1/properties/{property}/room-types"), Some(host), room_type_body(units)).await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["id"].as_str().expect("id").to_string()
    }

    /// Place a booking; returns the reply.
    pub async fn book(
        &self,
        token: &str,
        room_type: &str,
        check_in: &str,
        check_out: &str,
        key: Option<&str>,
    ) -> Reply {
        let mut req = self
            .client
            .post(self.url("/api/v1/bookings"))
            .bearer_auth(token)
            .json(&booking_body(room_type, check_in, check_out));
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        Reply::from(req.send().await.expect("request sent")).await
    }

    /// Stop the server and wait for it to drain.
    pub async fn stop(mut self) {
        if let Some(s) = self.server.take() {
            s.stop().await.expect("server stops");
        }
    }
}

pub fn property_body(policy: &str) -> Value {
    json!({
        "name": "Casa Azul",
        "description": "A blue house in Alfama.",
        "property_type": "guesthouse",
        "address": {"lines": ["Rua dos Remédios 10"], "city": "Lisbon", "postal_code": "1100-441", "country": "PT"},
        "latitude": 38.7115, "longitude": -9.1300,
        "time_zone": "Europe/Lisbon", "currency": "EUR",
        "check_in_time": "15:00", "check_out_time": "11:00",
        "amenities": ["wifi", "breakfast"],
        "cancellation_policy": policy
    })
}

pub fn room_type_body(units: u32) -> Value {
    json!({
        "name": "Double Room",
        "occupancy": {"max_adults": 2, "max_children": 1, "max_total": 3},
        "beds": "1 double bed",
        "units": units,
        "base_rate_minor": 10000,
        "min_stay": 1, "max_stay": 14,
        "rate_plan": {"charges": [{"name": "VAT", "kind": "percent", "amount": 600, "tax": true}]}
    })
}

pub fn booking_body(room_type: &str, check_in: &str, check_out: &str) -> Value {
    json!({
        "room_type_id": room_type, "check_in": check_in, "check_out": check_out,
        "adults": 2, "children": 0,
        "guest": {"name": "Ana Silva", "email": "ana@example.com", "phone": "+351 912 345 678"}
    })
}

/// Wait until a server started as a process answers ready (at most a minute).
pub async fn wait_ready(client: &Client, base: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await
            && r.status() == 200
        {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "server did not become ready");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// POST JSON, with a bearer token when given.
pub async fn post_json(client: &Client, url: String, token: Option<&str>, body: Value) -> Reply {
    let mut req = client.post(url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    Reply::from(req.send().await.expect("sent")).await
}

/// Set up two-factor sign-in for the user of `token` (an operator must before anything
/// else); answers the recovery codes, each good for one later sign-in.
#[allow(dead_code)]
pub async fn enrol_two_factor(app: &TestApp, token: &str) -> Vec<String> {
    let r = app.post("/api/v1/me/two-factor", Some(token), json!({})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let secret = r.body["secret"].as_str().expect("secret").to_string();
    let code = innkeep_app::two_factor::code_at(&secret, app.clock.now_for_tests()).expect("code");
    let r = app.post("/api/v1/me/two-factor/confirm", Some(token), json!({"code": code})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["recovery_codes"].as_array().expect("codes").iter().map(|c| c.as_str().expect("code").to_string()).collect()
}
