//! The fuzz harness: one whole node (the API, the pages and their middleware, as the binary
//! assembles them) on a fresh SQLite store with a host, a property, a room type and a
//! signed-in session, answering requests built from the fuzzer's bytes. The property every
//! target checks: outside bytes never get a 5xx (a panic is caught by the node's panic
//! layer and answered 500, so it fails here too) and never hang the node.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Uri, header};
use http_body_util::BodyExt;
use innkeep_app::ingest::{ClientEventSink, EncodedBatch};
use innkeep_app::{Actor, Ports, Settings};
use std::sync::{Arc, OnceLock};
use tower::ServiceExt;

/// The node and what the targets address.
pub struct Node {
    pub runtime: tokio::runtime::Runtime,
    pub app: Router,
    pub token: String,
    pub property: String,
    pub room_type: String,
    _dir: tempfile::TempDir,
}

/// Client events are kept nowhere: the parsers under test are in front of the sink.
struct Discard;

#[async_trait::async_trait]
impl ClientEventSink for Discard {
    async fn append(&self, _: EncodedBatch) -> Result<(), innkeep_app::ingest::SinkError> {
        Ok(())
    }
}

const PASSWORD: &str = "correct horse battery";

async fn build() -> Node {
    let dir = tempfile::tempdir().unwrap();
    let options = innkeep_store::StoreOptions::new(innkeep_store::sqlite_url(dir.path()));
    let store = innkeep_store::open(&options).await.unwrap();
    innkeep_store::migrate(&store).await.unwrap();
    let ports = Ports {
        store: Arc::new(store),
        clock: Arc::new(innkeep_app::SystemClock),
        index: Arc::new(innkeep_search::SearchIndex::open(None).unwrap()),
        places: Arc::new(innkeep_search::Gazetteer::load().unwrap()),
        cache: Arc::new(innkeep_app::cache::NoCache),
        limiter: Arc::new(innkeep_app::limit::MemoryLimiter::default()),
        settings: Settings::default(),
        changes: Default::default(),
    };
    let now = jiff::Timestamp::now();
    let register = innkeep_app::auth::Register {
        email: "host@example.com".into(),
        password: PASSWORD.into(),
        name: "Fuzz Host".into(),
        role: innkeep_core::Role::Host,
        locale: Default::default(),
    };
    let host = innkeep_app::auth::register(&ports, register, now).await.unwrap();
    let actor = Actor::new(host.id, host.role, host.tenant_id);
    let draft = serde_json::from_value(serde_json::json!({
        "name": "Casa Azul", "description": "A blue house.", "property_type": "guesthouse",
        "address": {"lines": ["Rua dos Remédios 10"], "city": "Lisbon", "country": "PT"},
        "latitude": 38.7115, "longitude": -9.13, "time_zone": "Europe/Lisbon", "currency": "EUR",
        "check_in_time": "15:00", "check_out_time": "11:00", "amenities": ["wifi"],
        "cancellation_policy": "flexible"
    }))
    .unwrap();
    let p = innkeep_app::catalog::create_property(&ports, &actor, draft, now).await.unwrap();
    let rt = serde_json::from_value(serde_json::json!({
        "name": "Double Room", "description": "", "beds": "1 double bed",
        "occupancy": {"max_adults": 2, "max_children": 1, "max_total": 3}, "units": 1000,
        "base_rate_minor": 10000, "min_stay": 1, "max_stay": 14, "rate_plan": {"charges": []}
    }))
    .unwrap();
    let rt = innkeep_app::catalog::create_room_type(&ports, &actor, p.id, rt, now).await.unwrap();
    let session = innkeep_app::auth::sign_in(&ports, "host@example.com", PASSWORD, None, now).await.unwrap();
    let objects = innkeep_objects::open(&innkeep_objects::Location::Directory(dir.path().join("objects"))).unwrap();
    let state =
        innkeep_app::node::AppState::new(ports).with_objects(Arc::new(objects)).with_client_events(Arc::new(Discard));
    let app = innkeep_http::app(state, innkeep_web::routes());
    Node {
        runtime: tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap(),
        app,
        token: session.token,
        property: p.id.to_string(),
        room_type: rt.id.to_string(),
        _dir: dir,
    }
}

/// The node, built on first use.
pub fn node() -> &'static Node {
    static NODE: OnceLock<Node> = OnceLock::new();
    NODE.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(build())
    })
}

/// A request to send.
pub struct Call<'a> {
    pub method: &'a str,
    pub uri: Uri,
    pub headers: Vec<(header::HeaderName, String)>,
    pub body: Vec<u8>,
}

/// `path` with `query` as the fuzzer gave it if that makes a URI, else with every byte
/// outside visible ASCII percent-encoded (the URI parser is not ours; what reaches the
/// handlers is).
pub fn uri(path: &str, query: &[u8]) -> Uri {
    let raw = format!("{path}?{}", String::from_utf8_lossy(query));
    raw.parse().unwrap_or_else(|_| {
        let mut q = String::new();
        for b in query {
            if b.is_ascii_graphic() && !b"#%".contains(b) {
                q.push(*b as char);
            } else {
                q.push_str(&format!("%{b:02X}"));
            }
        }
        format!("{path}?{q}").parse().unwrap_or_else(|_| Uri::from_static("/"))
    })
}

/// Send `call` with the host's session; panic (a finding) on a 5xx, with the request.
pub fn send(call: Call<'_>) {
    let n = node();
    let mut req = Request::builder()
        .method(call.method)
        .uri(call.uri.clone())
        .header(header::AUTHORIZATION, format!("Bearer {}", n.token));
    for (k, v) in &call.headers {
        req = req.header(k, v);
    }
    let Ok(req) = req.body(Body::from(call.body.clone())) else { return };
    let (status, body) = n.runtime.block_on(async {
        let res = n.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let body = res.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        (status, body)
    });
    assert!(
        status.as_u16() < 500,
        "{} {} answered {status}: {}\nbody sent: {:?}",
        call.method,
        call.uri,
        String::from_utf8_lossy(&body),
        String::from_utf8_lossy(&call.body)
    );
}

/// Gzip `data`.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}
