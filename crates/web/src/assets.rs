//! Static assets embedded in the binary and served under /static. Pages link them with
//! `?v=VERSION` (a hash of every asset), so those answers are cached for a year.

use axum::extract::{Path, RawQuery};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// Path under /static, content type, bytes.
static ASSETS: &[(&str, &str, &[u8])] = &[
    ("app.css", "text/css; charset=utf-8", include_bytes!("../static/app.css")),
    ("app.js", "text/javascript; charset=utf-8", include_bytes!("../static/app.js")),
    (
        "vendor/leaflet/leaflet.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../static/vendor/leaflet/leaflet.js"),
    ),
    ("vendor/leaflet/leaflet.css", "text/css; charset=utf-8", include_bytes!("../static/vendor/leaflet/leaflet.css")),
    ("vendor/leaflet/images/layers.png", "image/png", include_bytes!("../static/vendor/leaflet/images/layers.png")),
    (
        "vendor/leaflet/images/layers-2x.png",
        "image/png",
        include_bytes!("../static/vendor/leaflet/images/layers-2x.png"),
    ),
    (
        "vendor/leaflet/images/marker-icon.png",
        "image/png",
        include_bytes!("../static/vendor/leaflet/images/marker-icon.png"),
    ),
    (
        "vendor/leaflet/images/marker-icon-2x.png",
        "image/png",
        include_bytes!("../static/vendor/leaflet/images/marker-icon-2x.png"),
    ),
    (
        "vendor/leaflet/images/marker-shadow.png",
        "image/png",
        include_bytes!("../static/vendor/leaflet/images/marker-shadow.png"),
    ),
    (
        "vendor/world-atlas/countries-110m.json",
        "application/json",
        include_bytes!("../static/vendor/world-atlas/countries-110m.json"),
    ),
    ("vendor/world-atlas/LICENSE", "text/plain; charset=utf-8", include_bytes!("../static/vendor/world-atlas/LICENSE")),
    (
        "vendor/topojson-client/topojson-client.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../static/vendor/topojson-client/topojson-client.min.js"),
    ),
    (
        "vendor/topojson-client/LICENSE",
        "text/plain; charset=utf-8",
        include_bytes!("../static/vendor/topojson-client/LICENSE"),
    ),
    ("vendor/LICENSES.md", "text/plain; charset=utf-8", include_bytes!("../static/vendor/LICENSES.md")),
];

static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut h = Sha256::new();
    for (path, _, bytes) in ASSETS {
        h.update(path.as_bytes());
        h.update(bytes);
    }
    hex::encode(h.finalize())[..12].to_string()
});

/// The version every asset link carries.
pub fn version() -> &'static str {
    &VERSION
}

/// GET /static/{path}
pub async fn serve(Path(path): Path<String>, RawQuery(query): RawQuery) -> Response {
    let Some((_, ctype, bytes)) = ASSETS.iter().find(|(p, _, _)| *p == path) else {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    };
    let versioned = query.as_deref() == Some(&format!("v={}", version()));
    let cache = if versioned { "public, max-age=31536000, immutable" } else { "public, max-age=3600" };
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", version())) {
        h.insert(header::ETAG, v);
    }
    r
}
