//! Photos: the API's upload (raw bytes under an image content type) and the multipart form
//! the host pages read.
#![no_main]

use axum::http::header;
use innkeep_fuzz::{Call, node, send, uri};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else { return };
    let n = node();
    if pick & 1 == 0 {
        let content_type =
            ["image/jpeg", "image/png", "image/webp", "application/octet-stream"][(pick as usize >> 1) % 4];
        let path = format!("/api/v1/properties/{}/photos", n.property);
        let alt = if pick & 0x80 == 0 { &b"alt=a%20blue%20door"[..] } else { &b""[..] };
        send(Call {
            method: "POST",
            uri: uri(&path, alt),
            headers: vec![(header::CONTENT_TYPE, content_type.into())],
            body: body.to_vec(),
        });
    } else {
        // The pages' reader: whatever it returns, it must return.
        let parts = n.runtime.block_on(innkeep_web::multipart::parts(body, "XyZ"));
        for p in parts.into_iter().flatten() {
            let _ = innkeep_core::ImageKind::sniff(&p.bytes);
        }
    }
});
