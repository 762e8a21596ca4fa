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

    // The claimed type does not matter; the bytes say PNG. It is kept as JPEG.
    let r = upload(&app, &host, &property, PNG.to_vec(), "application/octet-stream").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["content_type"], "image/jpeg");
    assert_eq!(r.body["alt"], "Front door");
    let url = r.body["url"].as_str().unwrap().to_string();
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(url, format!("/photos/{id}"));

    let list = app.get(&format!("/api/v1/properties/{property}/photos"), None).await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);

    let served = app.client.get(app.url(&url)).send().await.unwrap();
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.headers()["content-type"], "image/jpeg");
    assert!(served.headers()["cache-control"].to_str().unwrap().contains("immutable"));
    let etag = served.headers()["etag"].to_str().unwrap().to_string();
    let jpeg = served.bytes().await.unwrap().to_vec();
    assert!(jpeg.starts_with(&[0xFF, 0xD8, 0xFF]));
    let again = app.client.get(app.url(&url)).header("if-none-match", etag).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    // The bytes are in the local object directory (one pixel wide: one size), and the
    // change is an outbox event.
    let on_disk = app.dir.path().join(format!("objects/photos/{property}/{id}/w1.jpg"));
    assert_eq!(std::fs::read(&on_disk).unwrap(), jpeg);
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

/// A picture `width` x `height` as a PNG with some detail (a gradient).
fn picture(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 128]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

#[tokio::test]
async fn a_large_photo_is_served_in_three_widths_for_srcset() {
    let app = spawn_app().await;
    let host = app.user("host").await;
    let property = app.property(&host, "flexible").await;
    let r = upload(&app, &host, &property, picture(2400, 1600), "image/png").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let url = r.body["url"].as_str().unwrap().to_string();
    let widths: Vec<u64> = r.body["sizes"].as_array().unwrap().iter().map(|s| s["width"].as_u64().unwrap()).collect();
    assert_eq!(widths, vec![320, 640, 1600]);
    for size in r.body["sizes"].as_array().unwrap() {
        let got = app.client.get(app.url(size["url"].as_str().unwrap())).send().await.unwrap();
        assert_eq!(got.status(), StatusCode::OK);
        let etag = got.headers()["etag"].to_str().unwrap().to_string();
        let img = image::load_from_memory(&got.bytes().await.unwrap()).unwrap();
        let w = size["width"].as_u64().unwrap() as u32;
        assert_eq!((img.width(), img.height()), (w, (f64::from(w) * 2.0 / 3.0).round() as u32), "{etag}");
    }
    // No width asked, or one the photo is not kept in: the full size.
    for q in ["", "?w=1000"] {
        let got = app.client.get(app.url(&format!("{url}{q}"))).send().await.unwrap();
        assert_eq!(image::load_from_memory(&got.bytes().await.unwrap()).unwrap().width(), 1600, "{q}");
    }
    assert_eq!(app.get(&format!("{url}?w=wide"), None).await.status, 400);
    // The property page offers them to the browser.
    let page = app.client.get(app.url(&format!("/properties/{property}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!("srcset=\"{url}?w=320 320w, {url}?w=640 640w, {url}?w=1600 1600w\"")), "{page}");
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
    // A PNG cut short: its first bytes and nothing of a picture after them.
    let mut cut = picture(64, 64);
    cut.truncate(60);
    upload(&app, &host, &property, cut, "image/png").await.assert_problem(400, "photo_unreadable");
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
