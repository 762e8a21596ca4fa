//! The calendar entry (RFC 5545 iCalendar) attached to booking messages: the stay as
//! `innkeep_app::ics` writes it for the trip page too.

use crate::template::BookingFacts;
use innkeep_app::ics::StayEntry;
use jiff::Timestamp;

/// The booking's stay as a one-event `VCALENDAR` (see `innkeep_app::ics::stay`).
pub fn stay(facts: &BookingFacts, uid: &str, now: Timestamp) -> String {
    innkeep_app::ics::stay(
        &StayEntry {
            uid,
            summary: &facts.property_name,
            location: &facts.address,
            room: &facts.room_type_name,
            link: &facts.link,
            check_in: facts.check_in,
            check_out: facts.check_out,
            check_in_time: facts.check_in_time,
            check_out_time: facts.check_out_time,
            time_zone: &facts.time_zone,
        },
        now,
    )
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
