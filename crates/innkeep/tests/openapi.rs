//! The OpenAPI document is valid and usable: real answers match its schemas,
//! `openapi-spec-validator` accepts it, and a client generated from it by
//! `openapi-python-client` books a stay against a running server
//! (`tests/openapi/book_with_generated_client.py`).
//! The two tools come from PyPI (`.ci/services.sh`); without them the tool steps skip with a
//! message, unless INNKEEP_TEST_REQUIRE_SERVERS is set.

use crate::common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;
use tokio::process::Command;

const CHECK_IN: &str = "2027-02-01";
const CHECK_OUT: &str = "2027-02-03";

/// Follow a `$ref` within the document.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.strip_prefix("#/components/schemas/").expect("a schema reference");
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// Check that a JSON answer has the shape its schema declares: the same fields (none missing
/// that is required, none undeclared), arrays of the declared items, scalars of the declared
/// type. Returns what does not match, as `where: why` lines.
fn mismatches(doc: &Value, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    if let Some(any) = schema["oneOf"].as_array().or(schema["anyOf"].as_array()) {
        let fits = any.iter().any(|s| {
            let mut inner = Vec::new();
            mismatches(doc, s, value, at, &mut inner);
            inner.is_empty()
        });
        if !fits {
            out.push(format!("{at}: {value} fits none of the alternatives"));
        }
        return;
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return,
    };
    let fits = |t: &str| match (t, value) {
        ("null", Value::Null) | ("boolean", Value::Bool(_)) | ("string", Value::String(_)) => true,
        ("object", Value::Object(_)) | ("array", Value::Array(_)) => true,
        ("integer", Value::Number(n)) => n.is_i64() || n.is_u64(),
        ("number", Value::Number(_)) => true,
        _ => false,
    };
    if !types.iter().any(|t| fits(t)) {
        out.push(format!("{at}: {value} is not {types:?}"));
        return;
    }
    match value {
        Value::Object(fields) => {
            let Some(declared) = schema["properties"].as_object() else { return };
            for name in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                if !fields.contains_key(name) {
                    out.push(format!("{at}.{name}: required but missing"));
                }
            }
            for (name, v) in fields {
                match declared.get(name) {
                    Some(s) => mismatches(doc, s, v, &format!("{at}.{name}"), out),
                    None => out.push(format!("{at}.{name}: answered but not in the schema")),
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                mismatches(doc, &schema["items"], v, &format!("{at}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// Assert an answer matches the schema of its operation's response.
fn assert_matches(doc: &Value, path: &str, method: &str, reply: &Reply) {
    let status = reply.status.as_u16().to_string();
    let response = &doc["paths"][path][method]["responses"][&status];
    let content_type = if reply.status.is_success() { "application/json" } else { "application/problem+json" };
    assert_eq!(reply.content_type, content_type, "{method} {path} {status}");
    let schema = &response["content"][content_type]["schema"];
    assert!(schema.is_object(), "{method} {path} declares {status} with a {content_type} schema");
    let mut out = Vec::new();
    mismatches(doc, schema, &reply.body, "$", &mut out);
    assert!(out.is_empty(), "{method} {path} {status} does not match its schema:\n{}", out.join("\n"));
}

#[tokio::test]
async fn real_answers_match_the_documented_schemas() {
    let app = spawn_app().await;
    let doc = app.get("/api/v1/openapi.json", None).await.body;
    let host = app.user("host").await;
    let guest = app.user("guest").await;

    let property = app.post("/api/v1/properties", Some(&host), property_body("flexible")).await;
    assert_matches(&doc, "/api/v1/properties", "post", &property);
    let property = property.body["id"].as_str().unwrap().to_string();
    let rt = app.post(&format!("/api/v1/properties/{property}/room-types"), Some(&host), room_type_body(1)).await;
    assert_matches(&doc, "/api/v1/properties/{id}/room-types", "post", &rt);
    let rt = rt.body["id"].as_str().unwrap().to_string();
    let query = format!("property_id={property}&check_in={CHECK_IN}&check_out={CHECK_OUT}&adults=2");
    let offers = app.get(&format!("/api/v1/availability?{query}"), None).await;
    assert_matches(&doc, "/api/v1/availability", "get", &offers);
    assert_eq!(offers.body["offers"].as_array().map(Vec::len), Some(1), "{}", offers.body);

    let held = app.book(&guest, &rt, CHECK_IN, CHECK_OUT, Some("schema-1")).await;
    assert_matches(&doc, "/api/v1/bookings", "post", &held);
    let booking = held.body["id"].as_str().unwrap().to_string();
    let read = app.get(&format!("/api/v1/bookings/{booking}"), Some(&guest)).await;
    assert_matches(&doc, "/api/v1/bookings/{id}", "get", &read);
    let cancelled = app.post(&format!("/api/v1/bookings/{booking}/cancel"), Some(&guest), serde_json::json!({})).await;
    assert_matches(&doc, "/api/v1/bookings/{id}/cancel", "post", &cancelled);
    let list = app.get("/api/v1/bookings", Some(&guest)).await;
    assert_matches(&doc, "/api/v1/bookings", "get", &list);
    let calendar =
        app.get(&format!("/api/v1/room-types/{rt}/calendar?from={CHECK_IN}&to={CHECK_OUT}"), Some(&host)).await;
    assert_matches(&doc, "/api/v1/room-types/{id}/calendar", "get", &calendar);
    let me = app.get("/api/v1/me", Some(&guest)).await;
    assert_matches(&doc, "/api/v1/me", "get", &me);
    let places = app.get("/api/v1/places?q=Lisb", None).await;
    assert_matches(&doc, "/api/v1/places", "get", &places);
    let search =
        app.get(&format!("/api/v1/search?destination=Lisbon&check_in={CHECK_IN}&check_out={CHECK_OUT}"), None).await;
    assert_matches(&doc, "/api/v1/search", "get", &search);

    let problem = app.get("/api/v1/bookings/00000000-0000-7000-8000-000000000000", Some(&guest)).await;
    assert_matches(&doc, "/api/v1/bookings/{id}", "get", &problem);
    assert_eq!(app.book(&guest, &rt, CHECK_IN, CHECK_OUT, None).await.status, 201, "the cancelled unit is free again");
    let sold_out = app.book(&guest, &rt, CHECK_IN, CHECK_OUT, None).await;
    sold_out.assert_problem(409, "sold_out");
    assert_matches(&doc, "/api/v1/bookings", "post", &sold_out);
    app.stop().await;
}

fn required() -> bool {
    std::env::var_os("INNKEEP_TEST_REQUIRE_SERVERS").is_some()
}

/// Whether a command runs (`COMMAND --version`); when it does not, the test skips, or fails
/// when tools are required.
async fn tool(name: &str) -> bool {
    let runs = Command::new(name).arg("--version").output().await.is_ok_and(|o| o.status.success());
    if !runs {
        assert!(
            !required(),
            "{name} is required (pip install 'openapi-spec-validator>=0.9,<0.10' 'openapi-python-client>=0.29,<0.30')"
        );
        eprintln!("skipping: {name} is not installed (see .ci/services.sh)");
    }
    runs
}

fn show(o: &Output) -> String {
    format!(
        "{}\n--- stdout\n{}\n--- stderr\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

async fn run(cmd: &mut Command) -> Output {
    cmd.kill_on_drop(true).output().await.expect("the command starts")
}

#[tokio::test]
async fn the_document_validates_and_a_generated_client_books_a_stay() {
    if !tool("openapi-spec-validator").await || !tool("openapi-python-client").await {
        return;
    }
    let app = spawn_app().await;
    let text = app.client.get(app.url("/api/v1/openapi.json")).send().await.unwrap().text().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("openapi.json");
    std::fs::write(&spec, &text).unwrap();

    let validated = run(Command::new("openapi-spec-validator").arg(&spec)).await;
    assert!(validated.status.success(), "openapi-spec-validator refuses the document: {}", show(&validated));

    let package = dir.path().join("innkeep_client");
    let generated = run(Command::new("openapi-python-client")
        .args(["generate", "--meta", "none", "--path"])
        .arg(&spec)
        .arg("--output-path")
        .arg(&package))
    .await;
    assert!(generated.status.success(), "openapi-python-client fails: {}", show(&generated));
    assert!(Path::new(&package).join("api/bookings/place_booking.py").exists(), "{}", show(&generated));

    let host = app.user("host").await;
    let property = app.property(&host, "flexible").await;
    app.room_type(&host, &property, 2).await;
    let booked = run(Command::new("python3")
        .arg(repo_root().join("tests/openapi/book_with_generated_client.py"))
        .args([&app.base, &property, CHECK_IN, CHECK_OUT])
        .env("PYTHONPATH", dir.path()))
    .await;
    assert!(booked.status.success(), "the generated client could not book: {}", show(&booked));
    app.stop().await;
}
