//! iCalendar feeds from the channels: any text into `read_feed`, in a zone picked by the
//! input's length (so the committed feeds stay whole). Whatever it reads must stay inside the window and, written out by
//! `write_feed` and read again, block the same nights. The property: no panic, no hang
//! (recurrence work is bounded), no night lost or gained by a round trip.
#![no_main]

use innkeep_channels::{ExportEvent, Window, nights, read_feed, runs, write_feed};
use jiff::civil::date;
use jiff::tz::{TimeZone, offset};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Fixed offsets at both ends of the world: no time zone database needed here.
    let zone = match data.len() % 3 {
        0 => TimeZone::UTC,
        1 => TimeZone::fixed(offset(-11)),
        _ => TimeZone::fixed(offset(14)),
    };
    let window = Window { zone, from: date(2000, 1, 1), until: date(2040, 1, 1) };
    let Ok(feed) = read_feed(&text, &window) else { return };
    for block in &feed.blocks {
        assert!(block.start < block.end && block.start >= window.from && block.end <= window.until, "{block:?}");
    }
    let blocked = nights(&feed.blocks);
    let _ = runs(blocked.iter().copied());
    let events: Vec<ExportEvent> = feed
        .blocks
        .iter()
        .map(|b| ExportEvent { uid: b.uid.clone(), start: b.start, end: b.end, summary: b.summary.clone() })
        .collect();
    let written = write_feed("fuzz", &events, jiff::Timestamp::UNIX_EPOCH);
    let again = read_feed(&written, &window).expect("write_feed's output reads");
    assert_eq!(nights(&again.blocks), blocked);
});
