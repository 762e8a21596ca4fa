//! A host's data out and in (issue 22): a tenant's properties, room types, rates and
//! bookings exported as JSON from one node and imported into another Innkeep come back the
//! same when exported there (but for the tenant, the time and the bookings' user), with the
//! same nights sold and priced; importing twice changes nothing; the command line writes the
//! same document; each kind reads as CSV.

use crate::common;

use common::{TestApp, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

async fn set(app: &TestApp, host: &str, room_type: &str, body: Value) {
    let r = app.call(Method::PUT, &format!("/api/v1/room-types/{room_type}/calendar"), Some(host), Some(body)).await;
    assert_eq!(r.status, 204, "{}", r.body);
}

/// A tenant with two properties, three room types, rates and bookings in every state that
/// matters: (host token, room types).
async fn a_tenant(app: &TestApp) -> (String, Vec<String>) {
    let host = app.user("host").await;
    let guest = app.user("guest").await;
    let first = app.property(&host, "flexible").await;
    let second = app.property_paying(&host, "prepay").await["id"].as_str().unwrap().to_string();
    let rooms = vec![
        app.room_type(&host, &first, 2).await,
        app.room_type(&host, &first, 1).await,
        app.room_type(&host, &second, 3).await,
    ];
    set(app, &host, &rooms[0], json!({"from": "2027-03-01", "to": "2027-03-05", "price": 13500, "min_stay": 2})).await;
    set(app, &host, &rooms[1], json!({"from": "2027-03-10", "to": "2027-03-12", "closed": true})).await;
    set(app, &host, &rooms[2], json!({"from": "2027-04-01", "to": "2027-04-03", "units": 1})).await;
    for (room, from, to, then) in [
        (&rooms[0], "2027-03-01", "2027-03-03", Some("confirm")),
        (&rooms[0], "2027-03-02", "2027-03-04", Some("cancel")),
        (&rooms[1], "2027-03-05", "2027-03-07", None),
        (&rooms[2], "2027-04-01", "2027-04-02", None),
    ] {
        let r = app.book(&guest, room, from, to, None).await;
        assert_eq!(r.status, 201, "{}", r.body);
        if let Some(action) = then {
            let id = r.body["id"].as_str().unwrap();
            let c = app.post(&format!("/api/v1/bookings/{id}/{action}"), Some(&guest), json!({})).await;
            assert_eq!(c.status, 200, "{}", c.body);
        }
    }
    (host, rooms)
}

/// The document with what an import changes (tenant, time, the bookings' user) blanked.
fn comparable(mut doc: Value) -> Value {
    doc["tenant_id"] = Value::Null;
    doc["exported_at"] = Value::Null;
    for kind in ["properties", "room_types", "bookings"] {
        for item in doc[kind].as_array_mut().unwrap() {
            item["tenant_id"] = Value::Null;
            if kind == "bookings" {
                item["user_id"] = Value::Null;
            }
        }
    }
    doc
}

async fn nights(app: &TestApp, host: &str, room: &str, from: &str, to: &str) -> Value {
    let r = app.get(&format!("/api/v1/room-types/{room}/calendar?from={from}&to={to}"), Some(host)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["nights"].clone()
}

#[tokio::test]
async fn a_tenants_data_moves_to_another_innkeep_and_back_the_same() {
    let a = spawn_app().await;
    let (host_a, rooms) = a_tenant(&a).await;
    let out = a.get("/api/v1/tenant-data", Some(&host_a)).await;
    assert_eq!(out.status, 200, "{}", out.body);
    let doc = out.body;
    assert_eq!((doc["properties"].as_array().unwrap().len(), doc["room_types"].as_array().unwrap().len()), (2, 3));
    assert_eq!((doc["rates"].as_array().unwrap().len(), doc["bookings"].as_array().unwrap().len()), (8, 4));

    let b = spawn_app().await;
    let host_b = b.user("host").await;
    let r = b.post("/api/v1/tenant-data", Some(&host_b), doc.clone()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body, json!({"properties": 2, "room_types": 3, "rates": 8, "bookings": 4}));
    let back = b.get("/api/v1/tenant-data", Some(&host_b)).await.body;
    assert_eq!(comparable(back.clone()), comparable(doc.clone()), "the same data, exported again");

    // The same nights sold, closed and priced on both.
    for (room, from, to) in [
        (&rooms[0], "2027-03-01", "2027-03-06"),
        (&rooms[1], "2027-03-04", "2027-03-12"),
        (&rooms[2], "2027-03-31", "2027-04-03"),
    ] {
        assert_eq!(nights(&a, &host_a, room, from, to).await, nights(&b, &host_b, room, from, to).await, "{room}");
    }
    // A second import finds its ids here: nothing changes.
    let again = b.post("/api/v1/tenant-data", Some(&host_b), doc.clone()).await;
    again.assert_problem(409, "conflict");
    assert_eq!(b.get("/api/v1/tenant-data", Some(&host_b)).await.body["bookings"].as_array().unwrap().len(), 4);
    // A document that sells a night past its units is refused whole.
    let mut crowded = doc.clone();
    let held =
        crowded["bookings"].as_array().unwrap().iter().find(|b| b["room_type_id"] == json!(rooms[1])).unwrap().clone();
    let mut copy = held;
    copy["id"] = json!("01a2e024-3900-7000-8000-000000000001");
    crowded["bookings"].as_array_mut().unwrap().push(copy);
    let c = spawn_app().await;
    let host_c = c.user("host").await;
    c.post("/api/v1/tenant-data", Some(&host_c), crowded).await.assert_problem(409, "conflict");
    assert_eq!(c.get("/api/v1/tenant-data", Some(&host_c)).await.body["properties"], json!([]), "nothing of it");
    c.stop().await;

    // Each kind as CSV.
    let csv = a.client.get(a.url("/api/v1/tenant-data/bookings.csv")).bearer_auth(&host_b).send().await.unwrap();
    assert_eq!(csv.status(), 401, "a session of another Innkeep is none here");
    let csv = b.client.get(b.url("/api/v1/tenant-data/bookings.csv")).bearer_auth(&host_b).send().await.unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 4, "{text}");
    assert!(rows.iter().all(|r| &r[8] == "Ana Silva"), "{text}");
    let rates = b.client.get(b.url("/api/v1/tenant-data/rates.csv")).bearer_auth(&host_b).send().await.unwrap();
    assert_eq!(rates.text().await.unwrap().lines().count(), 9, "a header and eight nights");
    assert_eq!(b.get("/api/v1/tenant-data/secrets.csv", Some(&host_b)).await.status, 404);
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn the_command_line_writes_the_same_document_and_imports_it() {
    let a = spawn_app().await;
    let (host, _) = a_tenant(&a).await;
    let doc = a.get("/api/v1/tenant-data", Some(&host)).await.body;
    let tenant = doc["tenant_id"].as_str().unwrap().to_string();
    let file = a.dir.path().join("tenant.json");
    let data = a.dir.path().to_str().unwrap().to_string();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_innkeep"))
        .args(["tenant", "export", "--tenant", &tenant, "--out", file.to_str().unwrap(), "--data", &data])
        .env("INNKEEP_LOG__LEVEL", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let written: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(comparable(written), comparable(doc));

    // Into a fresh data directory, for an owner made there.
    let fresh = tempfile::tempdir().unwrap();
    let fresh_data = fresh.path().to_str().unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_innkeep"))
            .args(args)
            .args(["--data", fresh_data])
            .env("INNKEEP_LOG__LEVEL", "warn")
            .output()
            .unwrap()
    };
    let made = run(&[
        "admin",
        "create-user",
        "--email",
        "owner@example.com",
        "--password",
        "correct horse battery",
        "--name",
        "Owner",
        "--role",
        "host",
    ]);
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let imported = run(&["tenant", "import", file.to_str().unwrap(), "--owner", "owner@example.com"]);
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
    let said = String::from_utf8_lossy(&imported.stdout);
    assert!(said.contains("2 properties, 3 room types, 8 rates, 4 bookings"), "{said}");
    let twice = run(&["tenant", "import", file.to_str().unwrap(), "--owner", "owner@example.com"]);
    assert!(!twice.status.success(), "a second import is refused");
    a.stop().await;
}

#[tokio::test]
async fn csv_files_from_the_command_line_read_back_without_loss() {
    let a = spawn_app().await;
    let (host, _) = a_tenant(&a).await;
    let doc = a.get("/api/v1/tenant-data", Some(&host)).await.body;
    let tenant = doc["tenant_id"].as_str().unwrap().to_string();
    let dir = a.dir.path().join("csv");
    let data = a.dir.path().to_str().unwrap().to_string();
    let innkeep = |args: &[&str], data: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_innkeep"))
            .args(args)
            .args(["--data", data])
            .env("INNKEEP_LOG__LEVEL", "warn")
            .output()
            .unwrap()
    };
    let out = innkeep(&["tenant", "export", "--tenant", &tenant, "--csv", dir.to_str().unwrap()], &data);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The files are the API's.
    for file in ["properties.csv", "room-types.csv", "rates.csv", "bookings.csv"] {
        let api = a.client.get(a.url(&format!("/api/v1/tenant-data/{file}"))).bearer_auth(&host).send().await.unwrap();
        assert_eq!(std::fs::read_to_string(dir.join(file)).unwrap(), api.text().await.unwrap(), "{file}");
    }

    let fresh = tempfile::tempdir().unwrap();
    let fresh_data = fresh.path().to_str().unwrap();
    let made = innkeep(
        &[
            "admin",
            "create-user",
            "--email",
            "csv@example.com",
            "--password",
            "correct horse battery",
            "--name",
            "Owner",
            "--role",
            "host",
        ],
        fresh_data,
    );
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    // A directory without room types is refused, and nothing comes in.
    let partial = fresh.path().join("partial");
    std::fs::create_dir_all(&partial).unwrap();
    std::fs::copy(dir.join("properties.csv"), partial.join("properties.csv")).unwrap();
    let out = innkeep(&["tenant", "import", partial.to_str().unwrap(), "--owner", "csv@example.com"], fresh_data);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("room-types.csv is missing"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = innkeep(&["tenant", "import", dir.to_str().unwrap(), "--owner", "csv@example.com"], fresh_data);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("2 properties, 3 room types, 8 rates, 4 bookings"), "{said}");
    let new_tenant = said.split_whitespace().nth(3).unwrap().trim_end_matches(':').to_string();
    let file = fresh.path().join("back.json");
    let out = innkeep(&["tenant", "export", "--tenant", &new_tenant, "--out", file.to_str().unwrap()], fresh_data);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let back: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(comparable(back), comparable(doc), "the same document, read back from CSV");
    a.stop().await;
}

/// POST a CSV body to the rates upload.
async fn upload(app: &TestApp, token: &str, text: String) -> common::Reply {
    let r = app
        .client
        .post(app.url("/api/v1/tenant-data/rates.csv"))
        .bearer_auth(token)
        .header("Content-Type", "text/csv; charset=utf-8")
        .body(text)
        .send()
        .await
        .unwrap();
    common::Reply::from(r).await
}

#[tokio::test]
async fn rates_written_as_csv_and_edited_in_a_spreadsheet_are_read_back() {
    let app = spawn_app().await;
    let (host, rooms) = a_tenant(&app).await;
    let before = nights(&app, &host, &rooms[0], "2027-03-01", "2027-03-06").await;
    let text = app.client.get(app.url("/api/v1/tenant-data/rates.csv")).bearer_auth(&host).send().await.unwrap();
    let text = text.text().await.unwrap();
    // Uploaded as written, nothing changes.
    let r = upload(&app, &host, text.clone()).await;
    assert_eq!((r.status.as_u16(), &r.body["rows"]), (200, &json!(8)), "{}", r.body);
    assert_eq!(nights(&app, &host, &rooms[0], "2027-03-01", "2027-03-06").await, before);
    // A price edited in a spreadsheet (columns in another order, a night added) is set.
    let edited = format!("night,room_type_id,price_minor\n2027-03-01,{0},9900\n2027-03-20,{0},15500\n", rooms[0]);
    let r = upload(&app, &host, edited).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let after = nights(&app, &host, &rooms[0], "2027-03-01", "2027-03-02").await;
    assert_eq!((after[0]["price"].as_i64(), after[0]["min_stay"].as_u64()), (Some(9900), Some(2)), "the min stay kept");
    assert_eq!(nights(&app, &host, &rooms[0], "2027-03-20", "2027-03-21").await[0]["price"], 15500);
    // Every problem named by its line, and nothing set.
    let bad = format!(
        "room_type_id,night,price_minor\n{0},2027-03-02,100\n{0},2027-02-30,100\n{0},2027-03-03,ten\n",
        rooms[0]
    );
    let r = upload(&app, &host, bad).await;
    r.assert_problem(400, "invalid_csv");
    let detail = r.body["detail"].as_str().unwrap();
    assert!(detail.contains("line 3") && detail.contains("line 4") && !detail.contains("line 2"), "{detail}");
    assert_eq!(nights(&app, &host, &rooms[0], "2027-03-02", "2027-03-03").await[0]["price"], 13500, "nothing set");
    // Another tenant's room type: not found, and nothing set.
    let (other, _) = a_tenant(&app).await;
    let r = upload(&app, &other, format!("room_type_id,night,price_minor\n{},2027-03-02,100\n", rooms[0])).await;
    r.assert_problem(404, "not_found");
    let r = app
        .client
        .post(app.url("/api/v1/tenant-data/rates.csv"))
        .bearer_auth(&host)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    app.stop().await;
}
