//! The rules of `read_feed`, one behaviour per test, on small feeds written here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::night_runs;
use innkeep_channels::ical::MAX_OCCURRENCES;
use innkeep_channels::{Feed, FeedError, Window, nights, read_feed, runs};
use jiff::civil::{Date, date};
use jiff::tz::TimeZone;

fn window(zone: &str) -> Window {
    Window { zone: TimeZone::get(zone).unwrap(), from: date(2000, 1, 1), until: date(2030, 1, 1) }
}

/// A feed of the given VEVENT bodies (one string per event, lines separated by `\n`).
fn feed(events: &[&str]) -> String {
    let mut text = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n");
    for event in events {
        text.push_str("BEGIN:VEVENT\r\n");
        for line in event.lines() {
            text.push_str(line.trim());
            text.push_str("\r\n");
        }
        text.push_str("END:VEVENT\r\n");
    }
    text.push_str("END:VCALENDAR\r\n");
    text
}

fn read(events: &[&str], zone: &str) -> Feed {
    read_feed(&feed(events), &window(zone)).unwrap()
}

fn runs_of(events: &[&str], zone: &str) -> Vec<String> {
    night_runs(&read(events, zone).blocks)
}

#[test]
fn cancelled_events_block_nothing_but_transparent_ones_do() {
    let feed = read(
        &[
            "UID:a\nDTSTART;VALUE=DATE:20240101\nDTEND;VALUE=DATE:20240103\nSTATUS:CANCELLED",
            "UID:b\nDTSTART;VALUE=DATE:20240110\nDTEND;VALUE=DATE:20240111\nTRANSP:TRANSPARENT",
        ],
        "UTC",
    );
    assert_eq!(night_runs(&feed.blocks), ["2024-01-10..2024-01-11"]);
    assert!(feed.skipped.is_empty());
}

#[test]
fn all_day_events_without_dtend_use_duration_in_whole_days_or_one_night() {
    assert_eq!(runs_of(&["UID:a\nDTSTART;VALUE=DATE:20240101\nDURATION:P3D"], "UTC"), ["2024-01-01..2024-01-04"]);
    assert_eq!(runs_of(&["UID:a\nDTSTART;VALUE=DATE:20240101\nDURATION:P1W"], "UTC"), ["2024-01-01..2024-01-08"]);
    // A part of a day counts as a whole one.
    assert_eq!(runs_of(&["UID:a\nDTSTART:20240101\nDURATION:P1DT1H"], "UTC"), ["2024-01-01..2024-01-03"]);
    // A bare 8-digit value is a date; no end at all is one night.
    assert_eq!(runs_of(&["UID:a\nDTSTART:20240101"], "UTC"), ["2024-01-01..2024-01-02"]);
}

#[test]
fn date_times_block_from_their_start_night_to_their_end_night_and_at_least_one() {
    // A stay: 14:00 on 01-01 to 11:00 on 01-03 is two nights.
    assert_eq!(
        runs_of(&["UID:a\nDTSTART:20240101T140000Z\nDTEND:20240103T110000Z"], "UTC"),
        ["2024-01-01..2024-01-03"]
    );
    // Inside one day: that day's night. Ending at midnight: still one night.
    assert_eq!(
        runs_of(&["UID:a\nDTSTART:20240101T090000Z\nDTEND:20240101T100000Z"], "UTC"),
        ["2024-01-01..2024-01-02"]
    );
    assert_eq!(
        runs_of(&["UID:a\nDTSTART:20240101T200000Z\nDTEND:20240102T000000Z"], "UTC"),
        ["2024-01-01..2024-01-02"]
    );
    // No DTEND: the start's night; DURATION: to the end's night.
    assert_eq!(runs_of(&["UID:a\nDTSTART:20240101T200000Z"], "UTC"), ["2024-01-01..2024-01-02"]);
    assert_eq!(runs_of(&["UID:a\nDTSTART:20240101T140000Z\nDURATION:P2D"], "UTC"), ["2024-01-01..2024-01-03"]);
    // An end before the start still blocks the start's night.
    assert_eq!(
        runs_of(&["UID:a\nDTSTART;VALUE=DATE:20240105\nDTEND;VALUE=DATE:20240101"], "UTC"),
        ["2024-01-05..2024-01-06"]
    );
}

#[test]
fn utc_and_known_zones_are_converted_unknown_zones_and_floating_times_are_not() {
    // 07:00 in Tokyo on 01-02 is 22:00 UTC on 01-01.
    let tokyo = "UID:a\nDTSTART;TZID=Asia/Tokyo:20240102T070000\nDTEND;TZID=\"Asia/Tokyo\":20240102T080000";
    assert_eq!(runs_of(&[tokyo], "UTC"), ["2024-01-01..2024-01-02"]);
    assert_eq!(runs_of(&[tokyo], "Asia/Tokyo"), ["2024-01-02..2024-01-03"]);
    // 23:30 UTC on 01-01 is 00:30 on 01-02 in Lisbon's summer, but 23:30 in its winter.
    assert_eq!(runs_of(&["UID:a\nDTSTART:20240701T233000Z"], "Europe/Lisbon"), ["2024-07-02..2024-07-03"]);
    assert_eq!(runs_of(&["UID:a\nDTSTART:20240101T233000Z"], "Europe/Lisbon"), ["2024-01-01..2024-01-02"]);
    // A Windows zone name and a floating time are dated as written, in any property zone.
    for zone in ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"] {
        assert_eq!(
            runs_of(&["UID:a\nDTSTART;TZID=Tokyo Standard Time:20240102T070000"], zone),
            ["2024-01-02..2024-01-03"]
        );
        assert_eq!(runs_of(&["UID:a\nDTSTART:20240102T233000"], zone), ["2024-01-02..2024-01-03"]);
    }
}

#[test]
fn rules_expand_in_wall_clock_time_then_convert() {
    // 23:00 in New York daily across the DST change of 2024-03-10: 04:00Z, then 03:00Z the
    // next days; each is the next UTC date.
    let feed = read(&["UID:ny\nDTSTART;TZID=America/New_York:20240309T230000\nRRULE:FREQ=DAILY;COUNT=3"], "UTC");
    let got: Vec<(String, Date)> = feed.blocks.iter().map(|b| (b.uid.clone(), b.start)).collect();
    assert_eq!(
        got,
        [
            ("ny/20240310".to_owned(), date(2024, 3, 10)),
            ("ny/20240311".into(), date(2024, 3, 11)),
            ("ny/20240312".into(), date(2024, 3, 12))
        ]
    );
}

#[test]
fn rules_the_rrule_crate_knows_beyond_the_simple_ones() {
    // The second Sunday of each month, three times; and a date UNTIL keeps its whole day.
    assert_eq!(
        runs_of(&["UID:a\nDTSTART;VALUE=DATE:20240114\nRRULE:FREQ=MONTHLY;BYDAY=2SU;COUNT=3"], "UTC"),
        ["2024-01-14..2024-01-15", "2024-02-11..2024-02-12", "2024-03-10..2024-03-11"]
    );
    assert_eq!(
        runs_of(&["UID:a\nDTSTART;VALUE=DATE:20240101\nRRULE:FREQ=WEEKLY;INTERVAL=2;UNTIL=20240129"], "UTC"),
        ["2024-01-01..2024-01-02", "2024-01-15..2024-01-16", "2024-01-29..2024-01-30"]
    );
}

#[test]
fn rdates_add_dates_and_periods_and_exdates_remove_them() {
    let feed = read(
        &["UID:a\nDTSTART:20240101T100000Z\nDTEND:20240101T110000Z\nRRULE:FREQ=DAILY;COUNT=4\n\
           EXDATE:20240102T100000Z\nEXDATE;VALUE=DATE:20240104\n\
           RDATE;VALUE=DATE:20240110\nRDATE;VALUE=PERIOD:20240120T220000Z/P2D,20240125T100000Z/20240125T120000Z"],
        "UTC",
    );
    // 01-01 and 01-03 of the rule (01-02 by date-time, 01-04 by date excluded), 01-10, the
    // two-day period from 01-20 22:00 to 01-22 22:00 (nights 01-20 and 01-21), and 01-25.
    assert_eq!(
        night_runs(&feed.blocks),
        [
            "2024-01-01..2024-01-02",
            "2024-01-03..2024-01-04",
            "2024-01-10..2024-01-11",
            "2024-01-20..2024-01-22",
            "2024-01-25..2024-01-26"
        ]
    );
}

#[test]
fn a_cancelled_override_removes_its_occurrence_and_a_moved_one_replaces_it() {
    let feed = read(
        &[
            "UID:s\nDTSTART;TZID=Europe/Paris:20240101T180000\nRRULE:FREQ=WEEKLY;COUNT=3\nSUMMARY:weekly",
            "UID:s\nRECURRENCE-ID;TZID=Europe/Paris:20240108T180000\nSTATUS:CANCELLED\nDTSTART;TZID=Europe/Paris:20240108T180000",
            // Matched by the instant: 17:00 UTC is 18:00 in Paris.
            "UID:s\nRECURRENCE-ID:20240115T170000Z\nDTSTART;TZID=Europe/Paris:20240117T180000\nSUMMARY:moved",
        ],
        "Europe/Paris",
    );
    let got: Vec<(&str, Date, &str)> =
        feed.blocks.iter().map(|b| (b.uid.as_str(), b.start, b.summary.as_str())).collect();
    assert_eq!(got, [("s/20240101", date(2024, 1, 1), "weekly"), ("s/20240117", date(2024, 1, 17), "moved")]);
}

#[test]
fn an_event_stops_expanding_at_ten_thousand_occurrences_with_a_note() {
    let feed = read(&["UID:forever\nDTSTART;VALUE=DATE:20000101\nRRULE:FREQ=DAILY"], "UTC");
    // DTSTART and 9,999 more days: 2000-01-01 through 2027-05-18.
    assert_eq!(nights(&feed.blocks).len(), MAX_OCCURRENCES);
    assert_eq!(runs(nights(&feed.blocks)), [(date(2000, 1, 1), date(2027, 5, 19))]);
    assert_eq!(feed.skipped, ["forever: more than 10000 occurrences: the later ones are not read"]);
}

#[test]
fn rules_more_often_than_daily_are_not_expanded() {
    let feed = read(&["UID:h\nDTSTART:20240101T100000Z\nRRULE:FREQ=HOURLY;COUNT=100"], "UTC");
    assert_eq!(night_runs(&feed.blocks), ["2024-01-01..2024-01-02"]);
    assert_eq!(feed.skipped.len(), 1);
    assert!(feed.skipped[0].starts_with("h: RRULE repeats more often than daily"), "{:?}", feed.skipped);
}

#[test]
fn events_without_a_readable_start_are_skipped_with_a_note_naming_them() {
    let feed = read(
        &[
            "UID:no-start\nSUMMARY:x",
            "UID:bad-start\nDTSTART:2024-01-01",
            "UID:bad-end\nDTSTART:20240101\nDTEND:tomorrow",
            "SUMMARY:nameless\nDTSTART:2024",
            "UID:bad-rule\nDTSTART:20240301\nRRULE:FREQ=SOMETIMES\nEXDATE:never",
        ],
        "UTC",
    );
    assert_eq!(
        feed.skipped,
        [
            "no-start: no DTSTART: skipped",
            "bad-start: DTSTART \"2024-01-01\" is not a date: skipped",
            "bad-end: DTEND \"tomorrow\" is not a date: skipped",
            "event 4 (no UID): DTSTART \"2024\" is not a date: skipped",
            "bad-rule: EXDATE \"never\" is not a date: left out",
            "bad-rule: RRULE FREQ \"SOMETIMES\" is not a frequency: the rule is left out",
        ]
    );
    // The event with a bad rule still blocks its DTSTART.
    assert_eq!(night_runs(&feed.blocks), ["2024-03-01..2024-03-02"]);
}

#[test]
fn text_that_is_not_a_whole_calendar_is_an_error() {
    let w = window("UTC");
    assert_eq!(read_feed("", &w), Err(FeedError::NotICalendar));
    assert_eq!(read_feed("<html><body>Please sign in</body></html>", &w), Err(FeedError::NotICalendar));
    assert_eq!(read_feed("BEGIN:VEVENT\nDTSTART:20240101\nEND:VEVENT\n", &w), Err(FeedError::NotICalendar));
    // Cut short inside an event: the nights after the cut must not read as free.
    let cut = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART:20240101\r\n";
    let error = read_feed(cut, &w).unwrap_err();
    assert_eq!(
        error,
        FeedError::Malformed { line: 5, reason: "BEGIN:\"VEVENT\" is never ended: the feed is cut short".into() }
    );
    assert!(error.to_string().starts_with("unreadable iCalendar feed at content line 5"));
    let crossed = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nEND:VCALENDAR\nEND:VEVENT\n";
    assert!(matches!(read_feed(crossed, &w), Err(FeedError::Malformed { line: 3, .. })));
}

#[test]
fn lower_case_names_lf_line_ends_and_a_byte_order_mark_are_read() {
    let text = "\u{feff}begin:vcalendar\nbegin:vevent\nuid:a\ndtstart;value=date:20240101\nsummary:Smith\\, J.\nend:vevent\nend:vcalendar";
    let feed = read_feed(text, &window("UTC")).unwrap();
    assert_eq!(feed.blocks.len(), 1);
    assert_eq!((feed.blocks[0].uid.as_str(), feed.blocks[0].summary.as_str()), ("a", "Smith, J."));
}

#[test]
fn recurrence_work_is_bounded_for_rules_that_never_match() {
    // The 30th of February never comes: the rrule crate searches 100,000 days for each.
    let event = "DTSTART;VALUE=DATE:20240101\nRRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30";
    let events: Vec<String> = (0..600).map(|i| format!("UID:never-{i}\n{event}")).collect();
    let events: Vec<&str> = events.iter().map(String::as_str).collect();
    let started = std::time::Instant::now();
    let feed = read(&events, "UTC");
    // Every event blocks its DTSTART; rules past the 500th are not expanded.
    assert_eq!(feed.blocks.len(), 600);
    assert_eq!(feed.skipped.len(), 100);
    assert!(feed.skipped[0].starts_with("never-500: RRULE not expanded"), "{:?}", feed.skipped[0]);
    assert!(started.elapsed() < std::time::Duration::from_secs(60), "{:?}", started.elapsed());
}

/// Found by the fuzzer: the rrule crate panicked on a rule with a character that is not
/// ASCII. Such a rule is left out with a note, and the event keeps its first occurrence.
#[test]
fn a_rule_that_is_not_ascii_is_left_out_with_a_note() {
    let f = read(
        &["UID:x\nDTSTART;VALUE=DATE:20240101\nDTEND;VALUE=DATE:20240102\nRRULE:FREQ=WEEKLY;BYDAY=\u{de}U,TH"],
        "UTC",
    );
    assert_eq!(night_runs(&f.blocks), ["2024-01-01..2024-01-02"]);
    assert!(f.skipped.iter().any(|s| s.contains("not ASCII")), "{:?}", f.skipped);
}

#[test]
fn a_rule_with_numbers_no_calendar_has_is_left_out_with_a_note() {
    let f = read(
        &["UID:y\nDTSTART;VALUE=DATE:20240101\nDTEND;VALUE=DATE:20240102\nRRULE:FREQ=DAILY;INTERVAL=4294967295"],
        "UTC",
    );
    assert_eq!(night_runs(&f.blocks), ["2024-01-01..2024-01-02"]);
    assert!(f.skipped.iter().any(|s| s.contains("out of range")), "{:?}", f.skipped);
}

/// Found by the fuzzer: a weekly rule from the year 1010 took the rrule crate minutes.
#[test]
fn a_rule_started_centuries_before_the_window_is_left_out_with_a_note() {
    let f = read(
        &[
            "UID:z\nDTSTART:10100304T090000\nDTEND:10100304T093000\nRRULE:FREQ=WEEKLY;UNTIL=20210309T080000Z;BYDAY=MO,TU",
        ],
        "UTC",
    );
    assert!(f.blocks.is_empty(), "{:?}", f.blocks);
    assert!(f.skipped.iter().any(|s| s.contains("200 years")), "{:?}", f.skipped);
}
