//! The calendar entry (RFC 5545 iCalendar) attached to booking messages, so a guest can
//! put the stay in their calendar with one click.
//!
//! Times are written in UTC (`20270704T140000Z`) rather than with a `TZID`, because a
//! `TZID` would oblige us to embed a `VTIMEZONE` definition that calendar clients then
//! trust over their own tz database.

use crate::template::BookingFacts;
use icalendar::{Calendar, Component, Event, EventLike, EventStatus};
use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;

/// The product identifier Innkeep writes into every calendar it produces.
const PRODID: &str = "-//Innkeep//Innkeep//EN";

/// The stay as a one-event `VCALENDAR`, CRLF-terminated and folded at 75 octets: from
/// the check-in time on `check_in` to the check-out time on `check_out`, in the
/// property's time zone (UTC if the zone is unknown), stamped `now`.
pub fn stay(facts: &BookingFacts, uid: &str, now: Timestamp) -> String {
    let zone = TimeZone::get(&facts.time_zone).unwrap_or(TimeZone::UTC);
    let event = Event::new()
        .uid(uid)
        .add_property("DTSTAMP", utc(now))
        .add_property("DTSTART", local_to_utc(facts.check_in, facts.check_in_time, &zone))
        .add_property("DTEND", local_to_utc(facts.check_out, facts.check_out_time, &zone))
        .summary(&facts.property_name)
        .location(&facts.address)
        .description(&format!("{}\n{}", facts.room_type_name, facts.link))
        .url(&facts.link)
        .status(EventStatus::Confirmed)
        .done();
    Calendar::empty()
        .append_property(("VERSION", "2.0"))
        .append_property(("PRODID", PRODID))
        .append_property(("CALSCALE", "GREGORIAN"))
        .append_property(("METHOD", "PUBLISH"))
        .push(event)
        .done()
        .to_string()
}

/// An instant as an RFC 5545 UTC date-time (`20270704T140000Z`).
fn utc(ts: Timestamp) -> String {
    ts.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// The instant a local wall-clock time on `date` in `zone` happens, as a UTC date-time.
/// A time skipped by a DST gap moves forward (jiff's "compatible" rule); a date so close
/// to the end of time that it has no instant is written as if it were UTC.
fn local_to_utc(date: Date, time: Time, zone: &TimeZone) -> String {
    let local = DateTime::from_parts(date, time);
    match local.to_zoned_datetime(zone.clone()) {
        Ok(zoned) => utc(zoned.timestamp()),
        Err(_) => local.strftime("%Y%m%dT%H%M%SZ").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use innkeep_core::{BookingId, Currency, Money};
    use jiff::civil;
    use uuid::Uuid;

    fn lisbon() -> BookingFacts {
        BookingFacts {
            booking_id: BookingId(Uuid::from_u128(1)),
            guest_name: "Ada Lovelace".to_string(),
            property_name: "Casa do Rio".to_string(),
            address: "Rua das Flores 12".to_string(),
            room_type_name: "Double Room".to_string(),
            check_in: civil::date(2027, 7, 4),
            check_out: civil::date(2027, 7, 8),
            check_in_time: civil::time(15, 0, 0, 0),
            check_out_time: civil::time(11, 0, 0, 0),
            time_zone: "Europe/Lisbon".to_string(),
            adults: 2,
            children: 0,
            total: Money::new(123_450, Currency::parse("EUR").unwrap()),
            link: "https://innkeep.example/bookings/1".to_string(),
        }
    }

    fn now() -> Timestamp {
        "2027-01-02T03:04:05Z".parse().unwrap()
    }

    /// The content lines with folding undone (RFC 5545 §3.1).
    fn unfolded(ics: &str) -> Vec<String> {
        ics.replace("\r\n ", "").split("\r\n").map(str::to_string).collect()
    }

    #[test]
    fn a_stay_is_a_published_calendar_with_one_confirmed_event() {
        let ics = stay(&lisbon(), "booking-1@innkeep.example", now());
        let lines = unfolded(&ics);
        assert_eq!(lines.first().map(String::as_str), Some("BEGIN:VCALENDAR"));
        for expected in [
            "VERSION:2.0",
            "PRODID:-//Innkeep//Innkeep//EN",
            "METHOD:PUBLISH",
            "BEGIN:VEVENT",
            "UID:booking-1@innkeep.example",
            "DTSTAMP:20270102T030405Z",
            "SUMMARY:Casa do Rio",
            "LOCATION:Rua das Flores 12",
            "DESCRIPTION:Double Room\\nhttps://innkeep.example/bookings/1",
            "URL:https://innkeep.example/bookings/1",
            "STATUS:CONFIRMED",
            "END:VEVENT",
            "END:VCALENDAR",
        ] {
            assert!(lines.iter().any(|l| l == expected), "missing {expected:?} in\n{ics}");
        }
        assert_eq!(lines.iter().filter(|l| *l == "BEGIN:VEVENT").count(), 1);
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
    }

    #[test]
    fn a_lisbon_summer_check_in_is_one_hour_ahead_of_utc() {
        let ics = stay(&lisbon(), "u", now());
        assert!(ics.contains("\r\nDTSTART:20270704T140000Z\r\n"), "{ics}");
        assert!(ics.contains("\r\nDTEND:20270708T100000Z\r\n"), "{ics}");
    }

    #[test]
    fn a_berlin_winter_check_in_is_one_hour_ahead_of_utc() {
        let facts = BookingFacts {
            time_zone: "Europe/Berlin".to_string(),
            check_in: civil::date(2027, 1, 4),
            check_out: civil::date(2027, 1, 8),
            ..lisbon()
        };
        let ics = stay(&facts, "u", now());
        assert!(ics.contains("\r\nDTSTART:20270104T140000Z\r\n"), "{ics}");
        assert!(ics.contains("\r\nDTEND:20270108T100000Z\r\n"), "{ics}");
    }

    #[test]
    fn an_unknown_time_zone_is_treated_as_utc() {
        let facts = BookingFacts { time_zone: "Nowhere/Special".to_string(), ..lisbon() };
        let ics = stay(&facts, "u", now());
        assert!(ics.contains("\r\nDTSTART:20270704T150000Z\r\n"), "{ics}");
    }

    #[test]
    fn commas_semicolons_and_newlines_in_text_are_escaped() {
        let facts = BookingFacts {
            address: "Rua das Flores 12, 2º; Lisboa\nPortugal".to_string(),
            property_name: "Casa; do, Rio".to_string(),
            ..lisbon()
        };
        let lines = unfolded(&stay(&facts, "u", now()));
        assert!(lines.iter().any(|l| l == r"LOCATION:Rua das Flores 12\, 2º\; Lisboa\nPortugal"), "{lines:?}");
        assert!(lines.iter().any(|l| l == r"SUMMARY:Casa\; do\, Rio"), "{lines:?}");
    }

    #[test]
    fn every_line_ends_in_crlf_and_long_lines_fold_at_75_octets() {
        let facts = BookingFacts {
            room_type_name: "Suite with a very long name — vista para o rio, pequeno-almoço incluído, ".repeat(4),
            ..lisbon()
        };
        let ics = stay(&facts, "u", now());
        assert!(ics.ends_with("\r\n"));
        assert!(!ics.replace("\r\n", "").contains('\n'), "bare LF in\n{ics}");
        assert!(!ics.replace("\r\n", "").contains('\r'), "bare CR in\n{ics}");
        let physical: Vec<&str> = ics.trim_end_matches("\r\n").split("\r\n").collect();
        assert!(physical.iter().all(|l| l.len() <= 75), "{physical:?}");
        assert!(physical.iter().any(|l| l.starts_with(' ')), "expected a folded line in {physical:?}");
        let description = format!("DESCRIPTION:{}\\n{}", facts.room_type_name.replace(',', "\\,"), facts.link);
        assert!(unfolded(&ics).contains(&description), "{ics}");
    }
}
