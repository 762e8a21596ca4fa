//! Photos through the API on the real server with the default object storage (a local
//! directory under the data directory): upload, list, serve with cache headers; the
//! format is decided by the bytes; size and ownership are enforced; an event is written.

use crate::common;

use common::spawn_app;
use reqwest::StatusCode;

/// A 1x1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D,
    0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

async fn upload(app: &common::TestApp, token: &str, property: &str, bytes: Vec<u8>, ctype: &str) -> common::Reply {
    let r = app
        .client
        .post(app.url(&format!("/api/v1/properties/{property}/photos?alt=Front%20door")))
        .bearer_auth(token)
        .header("content-type", ctype)
        .body(bytes)
        .send()
        .await
        .unwrap();
    common::Reply::from(r).await
}

#[tokio::test]
async fn a_host_uploads_a_photo_that_is_served_at_a_stable_cached_url() {
    let app = spawn_app().await;
    let host = app.user("host").await;
    let property = app.property(&host, "flexible").await;

    // The claimed type does not matter; the bytes say PNG.
    let r = upload(&app, &host, &property, PNG.to_vec(), "application/octet-stream").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["content_type"], "image/png");
    assert_eq!(r.body["alt"], "Front door");
    let url = r.body["url"].as_str().unwrap().to_string();
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(url, format!("/photos/{id}"));

    let list = app.get(&format!("/api/v1/properties/{property}/photos"), None).await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);

    let served = app.client.get(app.url(&url)).send().await.unwrap();
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert!(served.headers()["cache-control"].to_str().unwrap().contains("immutable"));
    let etag = served.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(served.bytes().await.unwrap().as_ref(), PNG);
    let again = app.client.get(app.url(&url)).header("if-none-match", etag).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    // The bytes are in the local object directory, and the change is an outbox event.
    let on_disk = app.dir.path().join(format!("objects/photos/{property}/{id}.png"));
    assert_eq!(std::fs::read(&on_disk).unwrap(), PNG);
    let server = app.server.as_ref().unwrap();
    let events = innkeep_app::store::Outbox::events_after(server.ports.store.as_ref(), 0, 1000).await.unwrap();
    assert!(events.iter().any(
        |e| e.event.kind == innkeep_app::event::EventKind::PhotoAdded && e.event.payload["photo_id"] == id.as_str()
    ));

    let missing = app.get(&format!("/photos/{}", uuid::Uuid::now_v7()), None).await;
    missing.assert_problem(404, "not_found");
    let bad = app.get("/photos/not-a-uuid", None).await;
    assert_eq!(bad.status.as_u16() / 100, 4);
}

#[tokio::test]
async fn photos_are_refused_by_format_size_and_owner() {
    let app = spawn_app().await;
    let host = app.user("host").await;
    let other = app.user("host").await;
    let guest = app.user("guest").await;
    let property = app.property(&host, "flexible").await;

    let r = upload(&app, &host, &property, b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec(), "image/png").await;
    r.assert_problem(415, "unsupported_media_type");
    let r = upload(&app, &host, &property, Vec::new(), "image/png").await;
    r.assert_problem(400, "photo_empty");
    let mut big = vec![0u8; innkeep_core::MAX_PHOTO_BYTES + 1];
    big[..3].copy_from_slice(&[0xFF, 0xD8, 0xFF]);
    let r = upload(&app, &host, &property, big, "image/jpeg").await;
    r.assert_problem(413, "photo_too_large");
    // Someone else's property is not found, for another host and for a guest alike.
    upload(&app, &other, &property, PNG.to_vec(), "image/png").await.assert_problem(404, "not_found");
    upload(&app, &guest, &property, PNG.to_vec(), "image/png").await.assert_problem(404, "not_found");
    let r = app
        .client
        .post(app.url(&format!("/api/v1/properties/{property}/photos")))
        .body(PNG.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let list = app.get(&format!("/api/v1/properties/{property}/photos"), None).await;
    assert_eq!(list.body.as_array().unwrap().len(), 0, "nothing was stored");
    assert!(!app.dir.path().join(format!("objects/photos/{property}")).exists(), "no bytes were kept");
}
