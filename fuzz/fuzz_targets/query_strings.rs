//! Query strings of the API's and the pages' GET routes.
#![no_main]

use innkeep_fuzz::{Call, node, send, uri};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, query)) = data.split_first() else { return };
    let n = node();
    let path = match pick % 12 {
        0 => "/api/v1/search".to_string(),
        1 => "/api/v1/availability".to_string(),
        2 => "/api/v1/places".to_string(),
        3 => "/api/v1/places/reverse".to_string(),
        4 => "/api/v1/bookings".to_string(),
        5 => "/api/v1/properties".to_string(),
        6 => format!("/api/v1/room-types/{}/calendar", n.room_type),
        7 => format!("/api/v1/properties/{}/photos", n.property),
        8 => "/stays".to_string(),
        9 => format!("/properties/{}", n.property),
        10 => "/signin".to_string(),
        _ => "/".to_string(),
    };
    send(Call { method: "GET", uri: uri(&path, query), headers: Vec::new(), body: Vec::new() });
});
