//! Client event batches: JSON arrays and NDJSON, plain, gzipped, or claiming gzip.
#![no_main]

use axum::http::header;
use innkeep_fuzz::{Call, gzip, send, uri};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else { return };
    let content_type = if pick & 1 == 0 { "application/json" } else { "application/x-ndjson" };
    let mut headers = vec![(header::CONTENT_TYPE, content_type.to_string())];
    let body = match (pick >> 1) % 3 {
        // Well-formed gzip around the fuzzer's bytes.
        0 => {
            headers.push((header::CONTENT_ENCODING, "gzip".into()));
            gzip(body)
        }
        // The fuzzer's bytes claiming to be gzip.
        1 => {
            headers.push((header::CONTENT_ENCODING, "gzip".into()));
            body.to_vec()
        }
        _ => body.to_vec(),
    };
    send(Call { method: "POST", uri: uri("/api/v1/events", b""), headers, body });
});
