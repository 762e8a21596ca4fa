//! No input makes `read_feed` panic: corpus feeds cut short or with bytes changed, lines
//! shuffled in, and arbitrary text. Whatever it reads, written out and read again, blocks
//! the same nights.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::corpus_files;
use innkeep_channels::{ExportEvent, Window, nights, read_feed, runs, write_feed};
use jiff::civil::date;
use jiff::tz::TimeZone;
use proptest::prelude::*;
use std::sync::LazyLock;

static FILES: LazyLock<Vec<(String, String)>> = LazyLock::new(corpus_files);

fn window(pick: u8) -> Window {
    let zone = match pick % 4 {
        0 => TimeZone::UTC,
        1 => TimeZone::get("America/Los_Angeles").unwrap(),
        2 => TimeZone::get("Pacific/Kiritimati").unwrap(),
        _ => TimeZone::get("Europe/Lisbon").unwrap(),
    };
    Window { zone, from: date(2011, 1, 1), until: date(2028, 1, 1) }
}

/// Reads `text`, and checks that what it read survives a write and a read.
fn check(text: &str, window: &Window) {
    let Ok(feed) = read_feed(text, window) else { return };
    let blocked = nights(&feed.blocks);
    let _ = runs(blocked.iter().copied());
    for block in &feed.blocks {
        assert!(block.start < block.end && block.start >= window.from && block.end <= window.until, "{block:?}");
    }
    let events: Vec<ExportEvent> = feed
        .blocks
        .iter()
        .map(|b| ExportEvent { uid: b.uid.clone(), start: b.start, end: b.end, summary: b.summary.clone() })
        .collect();
    let again = read_feed(&write_feed("again", &events, jiff::Timestamp::UNIX_EPOCH), window).unwrap();
    assert_eq!(nights(&again.blocks), blocked);
}

/// A corpus feed cut at `cut` (a fraction of its length), with `edits` (position as a
/// fraction, replacement text) applied.
fn damaged(file: usize, cut: f64, edits: &[(f64, String)]) -> String {
    let text = &FILES[file % FILES.len()].1;
    let mut out: Vec<char> = text.chars().collect();
    out.truncate(((out.len() as f64) * cut) as usize);
    for (at, replacement) in edits {
        let i = ((out.len() as f64) * at) as usize;
        let i = i.min(out.len());
        out.splice(i..(i + 1).min(out.len()), replacement.chars());
    }
    out.into_iter().collect()
}

/// Pieces of iCalendar that matter to the reader, so that edits hit the interesting cases.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\r\n".to_owned()),
        Just("\n ".to_owned()),
        Just(":".to_owned()),
        Just(";".to_owned()),
        Just("\"".to_owned()),
        Just(",".to_owned()),
        Just("/".to_owned()),
        Just("\\".to_owned()),
        Just("\r\nBEGIN:VEVENT\r\n".to_owned()),
        Just("\r\nEND:VEVENT\r\n".to_owned()),
        Just("\r\nRRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29\r\n".to_owned()),
        Just("\r\nRRULE:FREQ=YEARLY;BYSETPOS=-1;BYDAY=MO\r\n".to_owned()),
        Just("\r\nRECURRENCE-ID:00010101\r\n".to_owned()),
        Just("\r\nRDATE;VALUE=PERIOD:99991231T235959Z/P99999W\r\n".to_owned()),
        Just("\r\nDTSTART;TZID=Pacific/Kiritimati:99991231T235959\r\n".to_owned()),
        Just("\r\nDTSTART:00000101T000000Z\r\n".to_owned()),
        Just("\r\nDURATION:-P999999999D\r\n".to_owned()),
        Just("99991231".to_owned()),
        Just("T".to_owned()),
        Just("Z".to_owned()),
        "[0-9]{1,9}",
        any::<char>().prop_map(String::from),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn damaged_corpus_feeds_never_panic(
        file in 0usize..64,
        cut in 0.0f64..=1.0,
        edits in prop::collection::vec((0.0f64..=1.0, piece()), 0..8),
        zone in any::<u8>(),
    ) {
        check(&damaged(file, cut, &edits), &window(zone));
    }

    #[test]
    fn arbitrary_text_inside_an_event_never_panics(body in "(\\PC|\r|\n|;|:|=|,){0,400}", zone in any::<u8>()) {
        check(&format!("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n{body}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"), &window(zone));
    }

    #[test]
    fn arbitrary_properties_never_panic(
        lines in prop::collection::vec(
            (
                prop_oneof![Just("DTSTART"), Just("DTEND"), Just("DURATION"), Just("RRULE"), Just("RDATE"), Just("EXDATE"), Just("RECURRENCE-ID"), Just("UID"), Just("STATUS")],
                prop_oneof![Just(""), Just(";VALUE=DATE"), Just(";VALUE=PERIOD"), Just(";TZID=Europe/Berlin"), Just(";TZID=\"Nowhere")],
                "[0-9TZPWDHMS/,+=;A-Z-]{0,40}",
            ),
            0..12,
        ),
        zone in any::<u8>(),
    ) {
        let body: String = lines.iter().map(|(name, params, value)| format!("{name}{params}:{value}\r\n")).collect();
        check(&format!("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n{body}END:VEVENT\r\nEND:VCALENDAR\r\n"), &window(zone));
    }
}

#[test]
fn every_prefix_of_every_corpus_feed_never_panics() {
    for (_, text) in FILES.iter() {
        let cuts: Vec<usize> = text.char_indices().map(|(i, _)| i).step_by(7).collect();
        for cut in cuts {
            check(&text[..cut], &window(0));
        }
    }
}
