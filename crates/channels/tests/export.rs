//! `write_feed`: the export feed channels import, read back by `read_feed` and by Python's
//! `icalendar` package.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::corpus_files;
use innkeep_channels::{ExportEvent, Window, nights, read_feed, write_feed};
use jiff::Timestamp;
use jiff::civil::{Date, date};
use jiff::tz::TimeZone;
use std::io::Write;
use std::process::{Command, Stdio};

fn window() -> Window {
    Window { zone: TimeZone::UTC, from: date(2000, 1, 1), until: date(2040, 1, 1) }
}

fn stamp() -> Timestamp {
    "2026-08-22T07:36:47Z".parse().unwrap()
}

fn event(uid: &str, start: Date, end: Date, summary: &str) -> ExportEvent {
    ExportEvent { uid: uid.into(), start, end, summary: summary.into() }
}

/// Summaries that need escaping, folding, or cleaning.
fn awkward_events() -> Vec<ExportEvent> {
    vec![
        event("booking-1@innkeep", date(2026, 8, 24), date(2026, 9, 2), "Reserved"),
        event(
            "booking-2@innkeep",
            date(2026, 9, 2),
            date(2026, 9, 8),
            "Smith, J.; party of 3 \\ late arrival\nsecond line",
        ),
        event("block-3@innkeep", date(2026, 12, 30), date(2027, 1, 2), &"Zimmer für Gäste – 長い説明 ".repeat(12)),
        event(&format!("{}@innkeep", "x".repeat(120)), date(2027, 7, 18), date(2027, 7, 22), "Owner stay"),
    ]
}

#[test]
fn the_export_feed_has_the_calendar_properties_and_one_all_day_event_each() {
    let text = write_feed(
        "Seaside Cottage, Room 2",
        &[event("b-1@innkeep", date(2026, 8, 24), date(2026, 9, 2), "Reserved")],
        stamp(),
    );
    let unfolded = text.replace("\r\n ", "");
    let lines: Vec<&str> = unfolded.split("\r\n").collect();
    for expected in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Innkeep//Channels 1.0//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:Seaside Cottage\\, Room 2",
        "BEGIN:VEVENT",
        "UID:b-1@innkeep",
        "DTSTAMP:20260822T073647Z",
        "DTSTART;VALUE=DATE:20260824",
        "DTEND;VALUE=DATE:20260902",
        "SUMMARY:Reserved",
        "END:VEVENT",
        "END:VCALENDAR",
    ] {
        assert!(lines.contains(&expected), "{expected} missing from\n{text}");
    }
}

#[test]
fn lines_end_in_crlf_and_are_folded_at_75_octets() {
    let text = write_feed(&"A very long calendar name ".repeat(10), &awkward_events(), stamp());
    assert!(text.ends_with("END:VCALENDAR\r\n"));
    assert!(!text.replace("\r\n", "").contains(['\r', '\n']), "a bare CR or LF");
    let mut folded = 0;
    for line in text.split_terminator("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
        folded += usize::from(line.starts_with(' '));
    }
    assert!(folded > 5, "the long summaries and names are folded");
}

#[test]
fn the_export_reads_back_to_the_same_nights_and_text() {
    let events = awkward_events();
    let feed = read_feed(&write_feed("Cottage", &events, stamp()), &window()).unwrap();
    assert!(feed.skipped.is_empty(), "{:?}", feed.skipped);
    let written: Vec<(String, Date, Date, String)> =
        events.iter().map(|e| (e.uid.clone(), e.start, e.end, e.summary.clone())).collect();
    let read: Vec<(String, Date, Date, String)> =
        feed.blocks.iter().map(|b| (b.uid.clone(), b.start, b.end, b.summary.clone())).collect();
    let mut written_sorted = written.clone();
    written_sorted.sort_by_key(|(_, start, _, _)| *start);
    assert_eq!(read, written_sorted, "escaping and folding round-trip");
}

#[test]
fn every_corpus_feed_written_out_reads_back_to_the_same_nights() {
    let window = Window { zone: TimeZone::UTC, from: date(2011, 1, 1), until: date(2028, 1, 1) };
    for (name, text) in corpus_files() {
        let feed = read_feed(&text, &window).unwrap();
        let events: Vec<ExportEvent> = feed.blocks.iter().map(|b| event(&b.uid, b.start, b.end, &b.summary)).collect();
        let again = read_feed(&write_feed(&name, &events, stamp()), &window).unwrap();
        assert_eq!(nights(&again.blocks), nights(&feed.blocks), "{name}");
        assert_eq!(again.blocks.len(), feed.blocks.len(), "{name}");
    }
}

#[test]
fn control_characters_are_cleaned_and_empty_stays_are_one_night() {
    let text =
        write_feed("x", &[event("a\u{0}b", date(2026, 1, 5), date(2026, 1, 5), "one\r\ntwo\rthree\u{7}")], stamp());
    let feed = read_feed(&text, &window()).unwrap();
    assert_eq!(feed.blocks.len(), 1);
    let block = &feed.blocks[0];
    assert_eq!((block.uid.as_str(), block.summary.as_str()), ("ab", "one\ntwo\nthree"));
    assert_eq!((block.start, block.end), (date(2026, 1, 5), date(2026, 1, 6)));
}

/// Python's `icalendar` package reads the export: the same events, summaries unescaped.
/// Skipped (with a note) where python3 or the package is missing.
#[test]
fn python_icalendar_reads_the_export() {
    let available =
        Command::new("python3").args(["-c", "import icalendar"]).output().is_ok_and(|out| out.status.success());
    if !available {
        eprintln!("skipped: python3 with the icalendar package is not installed");
        return;
    }
    let events = awkward_events();
    let text = write_feed("Cottage; sea view", &events, stamp());
    let script = r#"
import sys, icalendar
cal = icalendar.Calendar.from_ical(sys.stdin.read())
print(cal["X-WR-CALNAME"])
for e in cal.walk("VEVENT"):
    print(e["UID"], e.decoded("DTSTART").isoformat(), e.decoded("DTEND").isoformat(), e.decoded("DTSTAMP").isoformat(), repr(str(e["SUMMARY"])), sep="|")
"#;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = String::from_utf8(out.stdout).unwrap();
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("Cottage; sea view"));
    let read: Vec<&str> = lines.collect();
    assert_eq!(read.len(), events.len());
    for (line, event) in read.iter().zip(&events) {
        let fields: Vec<&str> = line.split('|').collect();
        assert_eq!(fields[0], event.uid);
        assert_eq!(fields[1], event.start.to_string());
        assert_eq!(fields[2], event.end.to_string());
        assert_eq!(fields[3], "2026-08-22T07:36:47+00:00");
        assert_eq!(fields[4], python_repr(&event.summary), "{line}");
    }
}

/// Python's `repr` of a string without quotes or other escapes than `\n` and `\\`.
fn python_repr(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\n', "\\n"))
}
