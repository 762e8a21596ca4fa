//! The test harness of the page suites: an app (API, pages and middleware, as the binary
//! assembles them) on a fresh SQLite store, and a browser without JavaScript (a cookie jar
//! driving it with `oneshot`).
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use innkeep_app::auth::{Register, register};
use innkeep_app::clock::ManualClock;
use innkeep_app::{Actor, Ports, Settings};
use innkeep_core::{PropertyDraft, Role, RoomTypeDraft};
use std::collections::BTreeMap;
use std::sync::Arc;
use tower::ServiceExt;

pub const START: &str = "2027-01-04T10:00:00Z";
pub const PASSWORD: &str = "correct horse battery";

pub struct TestWeb {
    pub app: Router,
    pub ports: Ports,
    pub index: Arc<innkeep_search::SearchIndex>,
    /// The clock of `ports`, to move forward.
    pub clock: Arc<ManualClock>,
    pub _dir: tempfile::TempDir,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn location(&self) -> String {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("").to_string()
    }
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers.get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_string()).collect()
    }
    /// The value of a hidden input in the page.
    pub fn input(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let at = self.body.find(&marker).unwrap_or_else(|| panic!("no input {name} in {}", self.body));
        let rest = &self.body[at + marker.len()..];
        rest[..rest.find('"').unwrap()].to_string()
    }
}

/// A browser: a cookie jar.
#[derive(Default)]
pub struct Browser {
    pub cookies: BTreeMap<String, String>,
}

impl Browser {
    pub fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    pub fn keep(&mut self, r: &Reply) {
        for c in r.set_cookies() {
            let kv = c.split(';').next().unwrap();
            let (k, v) = kv.split_once('=').unwrap();
            if v.is_empty() || c.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), v.to_string());
            }
        }
    }

    pub async fn get(&mut self, t: &TestWeb, path: &str) -> Reply {
        let req = Request::get(path).header(header::COOKIE, self.cookie_header()).body(Body::empty()).unwrap();
        let r = send(t, req).await;
        self.keep(&r);
        r
    }

    pub async fn post(&mut self, t: &TestWeb, path: &str, form: &[(&str, &str)]) -> Reply {
        let body = form.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&");
        let req = Request::post(path)
            .header(header::COOKIE, self.cookie_header())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        let r = send(t, req).await;
        self.keep(&r);
        r
    }

    pub async fn sign_in(&mut self, t: &TestWeb, email: &str) {
        let page = self.get(t, "/signin").await;
        let csrf = page.input("csrf");
        let r = self.post(t, "/signin", &[("csrf", &csrf), ("email", email), ("password", PASSWORD)]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        // An operator sets up two-factor sign-in first, on its page, as a person would.
        let page = self.get(t, "/account/two-factor").await;
        if page.body.contains("requires it") && page.body.contains("is <strong>off</strong>") {
            let csrf = page.input("csrf");
            let started = self.post(t, "/account/two-factor/start", &[("csrf", &csrf)]).await;
            let marker = "id=\"two-factor-secret\">";
            let at = started.body.find(marker).expect("the secret is shown") + marker.len();
            let secret = started.body[at..at + started.body[at..].find('<').expect("end")].to_string();
            let code = innkeep_app::two_factor::code_at(&secret, t.ports.clock.now()).expect("code");
            let on = self.post(t, "/account/two-factor/confirm", &[("csrf", &csrf), ("code", &code)]).await;
            assert_eq!(on.status, StatusCode::OK, "{}", on.body);
        }
    }
}

pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub async fn send(t: &TestWeb, req: Request<Body>) -> Reply {
    let res = t.app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Reply { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
}

pub async fn test_web() -> TestWeb {
    test_web_with(|s| s).await
}

pub async fn test_web_with(adjust: impl FnOnce(innkeep_app::node::AppState) -> innkeep_app::node::AppState) -> TestWeb {
    test_web_configured(innkeep_web::WebConfig::default(), adjust).await
}

pub async fn test_web_configured(
    web: innkeep_web::WebConfig,
    adjust: impl FnOnce(innkeep_app::node::AppState) -> innkeep_app::node::AppState,
) -> TestWeb {
    let dir = tempfile::tempdir().unwrap();
    let options = innkeep_store::StoreOptions::new(innkeep_store::sqlite_url(dir.path()));
    let store = innkeep_store::open(&options).await.unwrap();
    innkeep_store::migrate(&store).await.unwrap();
    let index = Arc::new(innkeep_search::SearchIndex::open(None).unwrap());
    let clock = Arc::new(ManualClock::new(START.parse().unwrap()));
    let ports = Ports {
        store: Arc::new(store),
        clock: clock.clone(),
        index: index.clone(),
        places: Arc::new(innkeep_search::Gazetteer::load().unwrap()),
        cache: Arc::new(innkeep_app::cache::NoCache),
        limiter: Arc::new(innkeep_app::limit::MemoryLimiter::default()),
        settings: Settings::default(),
        changes: Default::default(),
    };
    let objects = innkeep_objects::open(&innkeep_objects::Location::Directory(dir.path().join("objects"))).unwrap();
    let state = innkeep_app::node::AppState::new(ports.clone()).with_objects(Arc::new(objects));
    let app = innkeep_http::app(adjust(state), innkeep_web::routes_with(web));
    TestWeb { app, ports, index, clock, _dir: dir }
}

/// Another app (another node) on the same store, with its own web settings.
pub fn another_node(t: &TestWeb, web: innkeep_web::WebConfig) -> TestWeb {
    let state = innkeep_app::node::AppState::new(t.ports.clone());
    let app = innkeep_http::app(state, innkeep_web::routes_with(web));
    TestWeb {
        app,
        ports: t.ports.clone(),
        index: t.index.clone(),
        clock: t.clock.clone(),
        _dir: tempfile::tempdir().unwrap(),
    }
}

pub async fn user(t: &TestWeb, email: &str, role: Role) -> Actor {
    let now = t.ports.clock.now();
    let u = register(
        &t.ports,
        Register {
            email: email.into(),
            password: PASSWORD.into(),
            name: "Test Person".into(),
            role,
            locale: Default::default(),
        },
        now,
    )
    .await
    .unwrap();
    Actor::new(u.id, u.role, u.tenant_id)
}

/// A host's property (Lisbon, flexible) with one room type at 100.00 EUR; returns (property, room type).
pub async fn listing(t: &TestWeb, host: &Actor, name: &str) -> (String, String) {
    let now = t.ports.clock.now();
    let draft: PropertyDraft = serde_json::from_value(serde_json::json!({
        "name": name, "description": "A blue house in Alfama.", "property_type": "guesthouse",
        "address": {"lines": ["Rua dos Remédios 10"], "city": "Lisbon", "country": "PT"},
        "latitude": 38.7115, "longitude": -9.13, "time_zone": "Europe/Lisbon", "currency": "EUR",
        "check_in_time": "15:00", "check_out_time": "11:00", "amenities": ["wifi"],
        "cancellation_policy": "flexible"
    }))
    .unwrap();
    let p = innkeep_app::catalog::create_property(&t.ports, host, draft, now).await.unwrap();
    let rt: RoomTypeDraft = serde_json::from_value(serde_json::json!({
        "name": "Double Room", "description": "", "beds": "1 double bed",
        "occupancy": {"max_adults": 2, "max_children": 1, "max_total": 3}, "units": 2,
        "base_rate_minor": 10000, "min_stay": 1, "max_stay": 14,
        "rate_plan": {"charges": [{"name": "VAT", "kind": "percent", "amount": 600, "tax": true}]}
    }))
    .unwrap();
    let rt = innkeep_app::catalog::create_room_type(&t.ports, host, p.id, rt, now).await.unwrap();
    // Feed the node's index from the outbox, as the server's follower does.
    innkeep_search::freshness::apply_events(t.ports.store.as_ref(), &t.index, 0).await.unwrap();
    (p.id.to_string(), rt.id.to_string())
}
