//! Three `innkeep serve` processes on one PostgreSQL database never oversell.

use crate::common;

use common::Reply;
use futures::future::join_all;
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Node(Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(db_url: &str, port: u16, dir: &std::path::Path) -> Node {
    let child = Command::new(env!("CARGO_BIN_EXE_innkeep"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(dir)
        .env("INNKEEP_DATABASE__URL", db_url)
        // Nodes sharing a PostgreSQL database must share the key that signs their forms.
        .env("INNKEEP_WEB__CSRF_KEY", "cross-node-test-key-0123456789abcdef")
        .env("INNKEEP_LOG__LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Node(child)
}

async fn wait_ready(client: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while client.get(format!("{base}/readyz")).send().await.map(|r| r.status() != 200).unwrap_or(true) {
        assert!(Instant::now() < deadline, "{base} did not become ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_nodes_on_one_postgres_sell_exactly_the_units() {
    let Some(admin) = innkeep_store::testing::server_url("INNKEEP_TEST_POSTGRES_URL") else { return };
    let (db_url, db_name) = innkeep_store::testing::fresh_postgres_database(&admin).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let bases: Vec<String> = ports.iter().map(|p| format!("http://127.0.0.1:{p}")).collect();
    let nodes: Vec<Node> = ports.iter().map(|p| start(&db_url, *p, dir.path())).collect();
    for b in &bases {
        wait_ready(&client, b).await;
    }
    let api = |i: usize, path: &str| format!("{}/api/v1{path}", bases[i % 3]);
    let post = |url: String, token: Option<String>, body: serde_json::Value| {
        let client = client.clone();
        async move {
            let mut req = client.post(url).json(&body);
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            Reply::from(req.send().await.unwrap()).await
        }
    };
    let mut tokens = Vec::new();
    for (i, role) in ["host", "guest"].iter().enumerate() {
        let email = format!("{role}@example.com");
        post(
            api(i, "/users"),
            None,
            json!({"email": email, "password": "correct horse battery", "name": "T", "role": role}),
        )
        .await;
        let s = post(api(i + 1, "/sessions"), None, json!({"email": email, "password": "correct horse battery"})).await;
        tokens.push(s.body["token"].as_str().unwrap().to_string());
    }
    let p = post(api(0, "/properties"), Some(tokens[0].clone()), common::property_body("flexible")).await;
    let pid = p.body["id"].as_str().unwrap().to_string();
    let rt = post(api(1, &format!("/properties/{pid}/room-types")), Some(tokens[0].clone()), common::room_type_body(3))
        .await;
    let rt = rt.body["id"].as_str().unwrap().to_string();
    let today = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    let ci = today.checked_add(jiff::Span::new().days(40)).unwrap().to_string();
    let co = today.checked_add(jiff::Span::new().days(43)).unwrap().to_string();

    let attempts =
        (0..64).map(|i| post(api(i, "/bookings"), Some(tokens[1].clone()), common::booking_body(&rt, &ci, &co)));
    let statuses: Vec<u16> = join_all(attempts).await.iter().map(|r| r.status.as_u16()).collect();
    let created = statuses.iter().filter(|s| **s == 201).count();
    let refused = statuses.iter().filter(|s| **s == 409).count();
    assert_eq!((created, refused), (3, 61), "{statuses:?}");

    let cal = client
        .get(format!("{}/api/v1/room-types/{rt}/calendar?from={ci}&to={co}", bases[2]))
        .bearer_auth(&tokens[0])
        .send()
        .await
        .unwrap();
    let cal = Reply::from(cal).await;
    for night in cal.body["nights"].as_array().unwrap() {
        assert_eq!(night["sold"], 3, "{night}");
    }
    drop(nodes);
    innkeep_store::testing::drop_postgres_database(&admin, &db_name).await.unwrap();
}

/// The value of the hidden input `name` in a page.
fn input(page: &str, name: &str) -> String {
    let at = page.find(&format!("name=\"{name}\"")).unwrap_or_else(|| panic!("no input {name} in {page}"));
    let tag_start = page[..at].rfind('<').unwrap();
    let tag = &page[tag_start..tag_start + page[tag_start..].find('>').unwrap()];
    let v = tag.find("value=\"").unwrap() + "value=\"".len();
    tag[v..v + tag[v..].find('"').unwrap()].to_string()
}

/// One browser's cookies, sent to whichever node the load balancer picks.
#[derive(Default)]
struct Jar(std::collections::BTreeMap<String, String>);

impl Jar {
    async fn send(&mut self, req: reqwest::RequestBuilder) -> (u16, String) {
        let cookies: Vec<String> = self.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let r = req.header("cookie", cookies.join("; ")).send().await.unwrap();
        for c in r.headers().get_all("set-cookie") {
            let pair = c.to_str().unwrap().split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            self.0.insert(k.trim().to_string(), v.trim().to_string());
        }
        (r.status().as_u16(), r.text().await.unwrap())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_rendered_by_one_node_posts_to_another_on_one_postgres() {
    let Some(admin) = innkeep_store::testing::server_url("INNKEEP_TEST_POSTGRES_URL") else { return };
    let (db_url, db_name) = innkeep_store::testing::fresh_postgres_database(&admin).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ports = [free_port(), free_port()];
    let bases: Vec<String> = ports.iter().map(|p| format!("http://127.0.0.1:{p}")).collect();
    let nodes: Vec<Node> = ports.iter().map(|p| start(&db_url, *p, dir.path())).collect();
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for b in &bases {
        wait_ready(&client, b).await;
    }
    let body = json!({"email": "ana@example.com", "password": "correct horse battery", "name": "Ana", "role": "guest"});
    let r = client.post(format!("{}/api/v1/users", bases[0])).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 201);

    // Node 1 renders the sign-in form; node 2 takes it and signs the guest in.
    let mut jar = Jar::default();
    let (_, page) = jar.send(client.get(format!("{}/signin", bases[0]))).await;
    let form = [
        ("csrf", input(&page, "csrf")),
        ("email", "ana@example.com".to_string()),
        ("password", "correct horse battery".to_string()),
    ];
    let (status, page) = jar.send(client.post(format!("{}/signin", bases[1])).form(&form)).await;
    assert_eq!(status, 303, "{page}");
    // The signed-in session's forms too: one from node 2 signs out on node 1.
    let (status, page) = jar.send(client.get(format!("{}/trips", bases[1]))).await;
    assert_eq!(status, 200, "signed in on node 2 too");
    let (status, _) =
        jar.send(client.post(format!("{}/signout", bases[0])).form(&[("csrf", input(&page, "csrf"))])).await;
    assert_eq!(status, 303);
    let (status, _) = jar.send(client.get(format!("{}/trips", bases[1]))).await;
    assert_eq!(status, 303, "signed out on every node");
    drop(nodes);
    innkeep_store::testing::drop_postgres_database(&admin, &db_name).await.unwrap();
}

/// A key revoked on one node is refused by the next request on another, and a member
/// removed from a team on one node is signed out on the other (issue 23).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_key_and_a_removed_member_are_refused_on_another_node() {
    let Some(admin) = innkeep_store::testing::server_url("INNKEEP_TEST_POSTGRES_URL") else { return };
    let (db_url, db_name) = innkeep_store::testing::fresh_postgres_database(&admin).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ports = [free_port(), free_port()];
    let bases: Vec<String> = ports.iter().map(|p| format!("http://127.0.0.1:{p}")).collect();
    let nodes: Vec<Node> = ports.iter().map(|p| start(&db_url, *p, dir.path())).collect();
    let client = reqwest::Client::new();
    for b in &bases {
        wait_ready(&client, b).await;
    }
    let api = |i: usize, path: &str| format!("{}/api/v1{path}", bases[i]);
    let get = |i: usize, path: &str, token: &str| {
        let req = client.get(api(i, path)).bearer_auth(token.to_string());
        async move { req.send().await.unwrap().status().as_u16() }
    };
    let password = "correct horse battery";
    let body = json!({"email": "owner@example.com", "password": password, "name": "Olivia", "role": "host"});
    assert_eq!(common::post_json(&client, api(0, "/users"), None, body).await.status, 201);
    let owner = common::post_json(
        &client,
        api(0, "/sessions"),
        None,
        json!({"email": "owner@example.com", "password": password}),
    )
    .await
    .body["token"]
        .as_str()
        .unwrap()
        .to_string();
    let key =
        common::post_json(&client, api(0, "/api-keys"), Some(&owner), json!({"name": "PMS", "scopes": ["read"]})).await;
    assert_eq!(key.status, 201, "{}", key.body);
    let (secret, key_id) =
        (key.body["key"].as_str().unwrap().to_string(), key.body["id"].as_str().unwrap().to_string());
    assert_eq!(get(1, "/bookings", &secret).await, 200, "the key works on the other node");
    let r = client.delete(api(0, &format!("/api-keys/{key_id}"))).bearer_auth(&owner).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(get(1, "/bookings", &secret).await, 401, "refused by the very next request on the other node");

    // A front-desk member joins (the invitation written as the API would), signs in on node 1.
    let store = innkeep_store::open(&innkeep_store::StoreOptions::new(db_url.clone())).await.unwrap();
    let me = Reply::from(client.get(api(0, "/me")).bearer_auth(&owner).send().await.unwrap()).await;
    let now = jiff::Timestamp::now();
    let token = "cross-node-invitation";
    let invitation = innkeep_app::team::Invitation {
        id: uuid::Uuid::now_v7(),
        tenant_id: me.body["tenant_id"].as_str().unwrap().parse().unwrap(),
        email: innkeep_core::Email::parse("desk@example.com").unwrap(),
        role: innkeep_core::StaffRole::FrontDesk,
        invited_by: me.body["user_id"].as_str().unwrap().parse().unwrap(),
        created_at: now,
        expires_at: now.checked_add(innkeep_app::team::INVITATION_TTL).unwrap(),
    };
    innkeep_app::team::TeamStore::add_invitation(&store, &invitation, &innkeep_app::auth::token_hash(token))
        .await
        .unwrap();
    store.close().await;
    let joined = common::post_json(
        &client,
        api(1, "/invitations/accept"),
        None,
        json!({"token": token, "name": "Dan", "password": password}),
    )
    .await;
    assert_eq!(joined.status, 201, "{}", joined.body);
    let desk = common::post_json(
        &client,
        api(1, "/sessions"),
        None,
        json!({"email": "desk@example.com", "password": password}),
    )
    .await
    .body["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(get(1, "/bookings", &desk).await, 200);
    let member = joined.body["user_id"].as_str().unwrap();
    let r = client.delete(api(0, &format!("/team/members/{member}"))).bearer_auth(&owner).send().await.unwrap();
    assert_eq!(r.status(), 204);
    // The other node learns it from the `session.ended` events (at once without a shared
    // cache); how long it took is printed, not asserted.
    let started = Instant::now();
    while get(1, "/bookings", &desk).await != 401 {
        assert!(started.elapsed() < Duration::from_secs(30), "the removed member still works on node 1");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!("a removed member was refused on the other node after {:?}", started.elapsed());

    // An operator on another node suspends the tenant (here: straight through the store, as
    // that node's request would): its key and its owner's session stop on node 1 at once.
    let key =
        common::post_json(&client, api(0, "/api-keys"), Some(&owner), json!({"name": "PMS 2", "scopes": ["read"]}))
            .await;
    let secret = key.body["key"].as_str().unwrap().to_string();
    assert_eq!(get(1, "/bookings", &secret).await, 200);
    assert_eq!(get(1, "/bookings", &owner).await, 200);
    let store = innkeep_store::open(&innkeep_store::StoreOptions::new(db_url.clone())).await.unwrap();
    let tenant: innkeep_core::TenantId = me.body["tenant_id"].as_str().unwrap().parse().unwrap();
    let now = jiff::Timestamp::now();
    let ended = innkeep_app::operator::Directory::set_tenant_suspended(&store, tenant, Some(now), now).await.unwrap();
    assert!(ended.is_some_and(|e| !e.is_empty()), "the owner's session ended with an event");
    assert_eq!(get(1, "/bookings", &secret).await, 401, "the suspended tenant's key, on the very next request");
    // Sessions are cached per node: the owner's goes when node 1 sees its `session.ended`.
    let started = Instant::now();
    while get(1, "/bookings", &owner).await != 401 {
        assert!(started.elapsed() < Duration::from_secs(30), "the suspended owner still works on node 1");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!("a suspended tenant's owner was refused on the other node after {:?}", started.elapsed());
    let again = common::post_json(
        &client,
        api(1, "/sessions"),
        None,
        json!({"email": "owner@example.com", "password": password}),
    )
    .await;
    assert_eq!(again.status, 403, "{}", again.body);
    innkeep_app::operator::Directory::set_tenant_suspended(&store, tenant, None, now).await.unwrap();
    store.close().await;
    assert_eq!(get(1, "/bookings", &secret).await, 200, "restored");
    drop(nodes);
    innkeep_store::testing::drop_postgres_database(&admin, &db_name).await.unwrap();
}
