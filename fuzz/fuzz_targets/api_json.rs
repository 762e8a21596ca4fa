//! JSON bodies of every POST, PUT and PATCH of the API, sent as the signed-in host.
#![no_main]

use innkeep_fuzz::{Call, node, send, uri};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else { return };
    let n = node();
    let (method, path) = match pick % 11 {
        0 => ("POST", "/api/v1/users".to_string()),
        1 => ("POST", "/api/v1/sessions".to_string()),
        2 => ("POST", "/api/v1/properties".to_string()),
        3 => ("PATCH", format!("/api/v1/properties/{}", n.property)),
        4 => ("POST", format!("/api/v1/properties/{}/room-types", n.property)),
        5 => ("PATCH", format!("/api/v1/room-types/{}", n.room_type)),
        6 => ("PUT", format!("/api/v1/room-types/{}/calendar", n.room_type)),
        7 => ("POST", "/api/v1/bookings".to_string()),
        8 => ("POST", "/api/v1/bookings/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/cancel".to_string()),
        9 => ("POST", "/api/v1/bookings/not-an-id/confirm".to_string()),
        _ => ("PATCH", "/api/v1/properties/not-an-id".to_string()),
    };
    let content_type = if pick & 0x80 == 0 { "application/json" } else { "text/plain" };
    send(Call {
        method,
        uri: uri(&path, b""),
        headers: vec![(axum::http::header::CONTENT_TYPE, content_type.into())],
        body: body.to_vec(),
    });
});
