//! Real feeds from channels and calendar libraries (tests/corpus/ical), read into the exact
//! nights they block. Each expectation was worked out by reading the file; the comments
//! say how.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{corpus_file, corpus_files, every_night, night_runs, wide_window};
use innkeep_channels::{Block, Feed, Window, nights, read_feed};
use jiff::civil::{Date, date};
use jiff::tz::TimeZone;
use std::collections::BTreeSet;

fn read(name: &str, zone: &str) -> Feed {
    read_feed(&corpus_file(name), &wide_window(zone)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn blocks_of<'f>(feed: &'f Feed, uid_prefix: &str) -> Vec<&'f Block> {
    feed.blocks.iter().filter(|b| b.uid.starts_with(uid_prefix)).collect()
}

#[test]
fn every_corpus_file_reads_without_notes() {
    let files = corpus_files();
    assert_eq!(files.len(), 7, "SOURCES.md lists 7 feeds");
    for (name, text) in files {
        let feed = read_feed(&text, &wide_window("UTC")).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!feed.blocks.is_empty(), "{name}");
        assert_eq!(feed.skipped, Vec::<String>::new(), "{name}");
    }
}

#[test]
fn airbnb_export_blocks_reserved_and_not_available_nights() {
    let feed = read("airbnb-export-reservation-sync.ics", "UTC");
    // Eight all-day events, DTEND exclusive: four "Reserved" stays (08-24..09-02, 09-02..09-08,
    // 09-21..09-30, 2027-07-18..07-22) and four "Airbnb (Not available)" blocks (08-20..08-24,
    // 09-14..09-21, 12-30..2027-01-02, 2027-08-09..08-23). Back-to-back stays merge into one
    // run: 08-20..09-08 is Not available, then two stays.
    assert_eq!(
        night_runs(&feed.blocks),
        [
            "2026-08-20..2026-09-08",
            "2026-09-14..2026-09-30",
            "2026-12-30..2027-01-02",
            "2027-07-18..2027-07-22",
            "2027-08-09..2027-08-23"
        ]
    );
    assert_eq!(feed.blocks.len(), 8);
    let reserved: Vec<_> = feed.blocks.iter().filter(|b| b.summary == "Reserved").collect();
    assert_eq!(reserved.len(), 4);
    // No recurrence: each block carries the event's UID as it is.
    assert_eq!(reserved[0].uid, "1418fb94e984-852c89f27ecf42cf813dc4bdc20995fa@airbnb.com");
    assert_eq!((reserved[0].start, reserved[0].end), (date(2026, 8, 24), date(2026, 9, 2)));
    assert_eq!(feed.blocks.iter().filter(|b| b.summary == "Airbnb (Not available)").count(), 4);
}

#[test]
fn bookingcom_export_blocks_its_closed_nights() {
    let feed = read("bookingcom-export-reservation-sync.ics", "UTC");
    // Two all-day "CLOSED - Not available" events: 2026-09-08..09-13 and 2027-07-31..08-07.
    assert_eq!(night_runs(&feed.blocks), ["2026-09-08..2026-09-13", "2027-07-31..2027-08-07"]);
    assert!(feed.blocks.iter().all(|b| b.summary == "CLOSED - Not available"));
    assert_eq!(feed.blocks[0].uid, "e927afc01f6b8d7001fbd73485479170@booking.com");
}

#[test]
fn sabredav_school_holidays_block_despite_transparent() {
    let feed = read("node-ical-sabredav-school-holidays.ics", "UTC");
    // DTSTART;TZID=Europe/Berlin;VALUE=DATE:20180702, DTEND ...:20180811, TRANSP:TRANSPARENT:
    // all-day dates are nights as written (the TZID does not move them), and TRANSP is
    // ignored, so the 40 nights 07-02..08-10 are busy.
    assert_eq!(night_runs(&feed.blocks), ["2018-07-02..2018-08-11"]);
    assert_eq!(nights(&feed.blocks).len(), 40);
    assert_eq!(feed.blocks[0].uid, "56df0d2b37ded@67.calovo");
    assert_eq!(feed.blocks[0].summary, "Sommerferien Sachsen");
}

#[test]
fn berlin_dst_file_moves_one_occurrence_of_a_daily_rule() {
    let feed = read("node-ical-whole_day_moved_over_dst_change_berlin.ics", "UTC");
    // The master is all-day 2024-10-27 with RRULE:FREQ=DAILY;COUNT=3: 10-27, 10-28, 10-29
    // (the DST change of 10-27 does not matter to dates). The second VEVENT, same UID, has
    // RECURRENCE-ID;VALUE=DATE:20241028 and DTSTART 20241030: the 10-28 occurrence moves
    // to 10-30. Occurrence uids are UID/first night.
    let uid = "14nv8jl8d6dvdbl477lod4fftf@google.com";
    let got: Vec<(String, Date, Date)> = feed.blocks.iter().map(|b| (b.uid.clone(), b.start, b.end)).collect();
    assert_eq!(
        got,
        [
            (format!("{uid}/20241027"), date(2024, 10, 27), date(2024, 10, 28)),
            (format!("{uid}/20241029"), date(2024, 10, 29), date(2024, 10, 30)),
            (format!("{uid}/20241030"), date(2024, 10, 30), date(2024, 10, 31)),
        ]
    );
}

#[test]
fn khal_rdate_periods_in_an_unknown_zone_block_their_days() {
    let feed = read("icalendar-py-issue_156_RDATE_with_PERIOD_TZID_khal_2.ics", "UTC");
    // One VEVENT with RECURRENCE-ID;RANGE=THISANDFUTURE but no master in the file: read as
    // an event of its own. DTSTART 2021-11-01T16:00 in TZID "Western/Central Europe" (only
    // a VTIMEZONE, not an IANA name: wall-clock), DTEND 16:30; RDATE;VALUE=PERIOD adds
    // 16:00-16:30 on 2021-11-01 (the DTSTART again, once), 12-06, 2022-01-03 and 02-07.
    // Each half hour blocks that day's night.
    let uid = "BF5109494E67AAE20025875100566D31-Lotus_Notes_Generated";
    let got: Vec<(String, Date, Date)> = feed.blocks.iter().map(|b| (b.uid.clone(), b.start, b.end)).collect();
    assert_eq!(
        got,
        [
            (format!("{uid}/20211101"), date(2021, 11, 1), date(2021, 11, 2)),
            (format!("{uid}/20211206"), date(2021, 12, 6), date(2021, 12, 7)),
            (format!("{uid}/20220103"), date(2022, 1, 3), date(2022, 1, 4)),
            (format!("{uid}/20220207"), date(2022, 2, 7), date(2022, 2, 8)),
        ]
    );
    assert!(feed.blocks.iter().all(|b| b.summary == "(omitted)"));
}

/// The Exchange file's four events, by UID.
const MS_SINGLE_BERLIN: &str =
    "040000008200E00074C5B7101A82E0080000000070DE40F38786D601000000000000000010000000D2A9BA8A3668CA4ABB2CC6838268179F";
const MS_JIRA: &str =
    "040000008200E00074C5B7101A82E008000000008001F1896B63D3010000000000000000100000005D0552D848712746896D6C8E2E066560";
const MS_SINGLE_PACIFIC: &str =
    "040000008200E00074C5B7101A82E008000000007070639B9D82D601000000000000000010000000690B7C3173632247A60664DDD8E0160E";
const MS_WEEKLY_PACIFIC: &str =
    "040000008200E00074C5B7101A82E00800000000C8CF296B9654D60100000000000000001000000031C6A267A9E4A2489CEB57D709E7A37F";

fn weekdays(from: Date, through: Date, days: &[jiff::civil::Weekday]) -> Vec<Date> {
    every_night(from, through.tomorrow().unwrap()).into_iter().filter(|d| days.contains(&d.weekday())).collect()
}

#[test]
fn exchange_weekly_rules_with_until_and_exdate_in_windows_zones() {
    use jiff::civil::Weekday::*;
    let feed = read("node-ical-ms_timezones.ics", "UTC");

    // "test": 2020-09-10 09:00-09:30 in "W. Europe Standard Time" (a Windows name: wall-clock).
    let single: Vec<_> = blocks_of(&feed, MS_SINGLE_BERLIN).iter().map(|b| (b.uid.as_str(), b.start, b.end)).collect();
    assert_eq!(single, [(MS_SINGLE_BERLIN, date(2020, 9, 10), date(2020, 9, 11))]);
    // "Not the actual summary 1": 2020-09-15 08:30 "Pacific Standard Time".
    assert_eq!(
        nights(&blocks_of(&feed, MS_SINGLE_PACIFIC).into_iter().cloned().collect::<Vec<_>>()),
        [date(2020, 9, 15)].into()
    );

    // "Log Yesterday's Jira time": DTSTART;TZID="W. Europe Standard Time:20200609T090000"
    // (Exchange's misplaced quote, read as 09:00 wall-clock on Tuesday 2020-06-09), weekly
    // MO-SA, UNTIL=20210309T080000Z. In a UTC property UNTIL is 08:00 on 03-09, before that
    // day's 09:00, so the last occurrence is Monday 2021-03-08: 234 nights.
    let jira: BTreeSet<Date> = blocks_of(&feed, MS_JIRA).iter().map(|b| b.start).collect();
    let expected: BTreeSet<Date> =
        weekdays(date(2020, 6, 9), date(2021, 3, 8), &[Monday, Tuesday, Wednesday, Thursday, Friday, Saturday])
            .into_iter()
            .collect();
    assert_eq!(jira, expected);
    assert_eq!(jira.len(), 234);
    assert!(blocks_of(&feed, MS_JIRA).iter().all(|b| b.uid == format!("{MS_JIRA}/{}", b.start.strftime("%Y%m%d"))));

    // "Not the actual summary either": weekly TU,TH,FR,SU from Tuesday 2020-07-07 12:00
    // Pacific (wall-clock), UNTIL=20210309T200000Z (12:00 on 03-09 is before it: included),
    // EXDATE (folded across two lines) 07-21, 07-23, 07-28, 08-13, 08-25, 09-03: 135 nights.
    let weekly: BTreeSet<Date> = blocks_of(&feed, MS_WEEKLY_PACIFIC).iter().map(|b| b.start).collect();
    let exdates = [
        date(2020, 7, 21),
        date(2020, 7, 23),
        date(2020, 7, 28),
        date(2020, 8, 13),
        date(2020, 8, 25),
        date(2020, 9, 3),
    ];
    let expected: BTreeSet<Date> = weekdays(date(2020, 7, 7), date(2021, 3, 9), &[Tuesday, Thursday, Friday, Sunday])
        .into_iter()
        .filter(|d| !exdates.contains(d))
        .collect();
    assert_eq!(weekly, expected);
    assert_eq!(weekly.len(), 135);
    assert!(exdates.iter().all(|d| !weekly.contains(d)));

    // Together: every night from 2020-06-09 through 2021-03-09 but the four Sundays before
    // the Sunday rule starts (06-14, 06-21, 06-28, 07-05).
    assert_eq!(
        night_runs(&feed.blocks),
        [
            "2020-06-09..2020-06-14",
            "2020-06-15..2020-06-21",
            "2020-06-22..2020-06-28",
            "2020-06-29..2020-07-05",
            "2020-07-06..2021-03-10"
        ]
    );
}

#[test]
fn exchange_until_in_utc_is_compared_in_the_property_zone() {
    // The same Jira rule for a property in Berlin: UNTIL 08:00Z on 2021-03-09 is 09:00 there,
    // so the 09:00 wall-clock occurrence of that Tuesday is the last one.
    let feed = read("node-ical-ms_timezones.ics", "Europe/Berlin");
    let jira: BTreeSet<Date> = blocks_of(&feed, MS_JIRA).iter().map(|b| b.start).collect();
    assert_eq!(jira.len(), 235);
    assert_eq!(jira.last(), Some(&date(2021, 3, 9)));
}

#[test]
fn tripit_all_day_trips_escaped_summaries_and_utc_flights() {
    let feed = read("node-ical-tripit-location-escaping.ics", "UTC");
    // 47 events, none recurring. All-day trips (10-11..10-14, 10-23..10-28, 11-08..11-11,
    // 11-29..12-02, 12-13..12-16, 2012-01-03..01-06), floating directions (10-11 10:05,
    // 10-25 09:40) and flights, cars and hotels in UTC. The evening flights home are after
    // midnight UTC (CO6256 2011-10-14T03:19Z), so in a UTC property each trip's run goes one
    // night past its all-day event.
    assert_eq!(feed.blocks.len(), 47);
    assert_eq!(
        night_runs(&feed.blocks),
        [
            "2011-10-11..2011-10-15",
            "2011-10-23..2011-10-29",
            "2011-11-08..2011-11-12",
            "2011-11-29..2011-12-03",
            "2011-12-13..2011-12-17",
            "2012-01-03..2012-01-07"
        ]
    );
    // SUMMARY:South San Francisco\, CA\, October 2011\; is unescaped.
    let trip = feed.blocks.iter().find(|b| b.uid == "c32a5eaba2354bb29e012ec18da827db90550a3b@tripit.com").unwrap();
    assert_eq!(trip.summary, "South San Francisco, CA, October 2011;");
    assert_eq!((trip.start, trip.end), (date(2011, 10, 11), date(2011, 10, 14)));
    // A folded SUMMARY is unfolded.
    assert!(
        feed.blocks
            .iter()
            .any(|b| b.summary == "Directions from SFO to Embassy Suites San Francisco Airport - South San Francisco")
    );
    let flight =
        feed.blocks.iter().find(|b| b.uid == "item-cb485a571a01972d6bdc74c2b829905d6e3786bf@tripit.com").unwrap();
    assert_eq!(
        (flight.summary.as_str(), flight.start, flight.end),
        ("CO6256 SFO to PHX", date(2011, 10, 14), date(2011, 10, 15))
    );
}

#[test]
fn tripit_utc_times_near_midnight_are_dated_in_the_property_zone() {
    let feed = read("node-ical-tripit-location-escaping.ics", "America/Los_Angeles");
    // CO6256 leaves SFO at 2011-10-14T03:19Z, which is 20:19 on 10-13 in Los Angeles (PDT):
    // that night is 10-13, not 10-14. Every evening flight, car drop-off and check-out moves
    // back a day the same way, so each run ends with its all-day event.
    let flight =
        feed.blocks.iter().find(|b| b.uid == "item-cb485a571a01972d6bdc74c2b829905d6e3786bf@tripit.com").unwrap();
    assert_eq!((flight.start, flight.end), (date(2011, 10, 13), date(2011, 10, 14)));
    assert_eq!(
        night_runs(&feed.blocks),
        [
            "2011-10-11..2011-10-14",
            "2011-10-23..2011-10-28",
            "2011-11-08..2011-11-11",
            "2011-11-29..2011-12-02",
            "2011-12-13..2011-12-16",
            "2012-01-03..2012-01-06"
        ]
    );
    // Floating times are dated as written: 10:05 on 10-11 stays on 10-11.
    let directions =
        feed.blocks.iter().find(|b| b.uid == "item-ee275ccffa83f492d9eb63b01953b39f18d4f944@tripit.com").unwrap();
    assert_eq!(directions.start, date(2011, 10, 11));
}

#[test]
fn a_narrow_window_clips_blocks_and_drops_the_rest() {
    let text = corpus_file("airbnb-export-reservation-sync.ics");
    let window = Window { zone: TimeZone::UTC, from: date(2026, 8, 26), until: date(2026, 9, 4) };
    let feed = read_feed(&text, &window).unwrap();
    // 08-24..09-02 clipped to 08-26..09-02, 09-02..09-08 clipped to 09-02..09-04, the rest
    // outside.
    let got: Vec<(Date, Date)> = feed.blocks.iter().map(|b| (b.start, b.end)).collect();
    assert_eq!(got, [(date(2026, 8, 26), date(2026, 9, 2)), (date(2026, 9, 2), date(2026, 9, 4))]);
}
