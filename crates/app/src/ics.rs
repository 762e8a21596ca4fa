//! A stay as an RFC 5545 iCalendar entry: attached to booking messages and downloaded
//! from the guest's trip page, so a guest can put the stay in their calendar with one click.
//!
//! Times are written in UTC (`20270704T140000Z`) rather than with a `TZID`, because a
//! `TZID` would oblige us to embed a `VTIMEZONE` definition that calendar clients then
//! trust over their own tz database.

use icalendar::{Calendar, Component, Event, EventLike, EventStatus};
use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;

/// The product identifier Innkeep writes into every calendar it produces.
const PRODID: &str = "-//Innkeep//Innkeep//EN";

/// What a stay's calendar entry says.
#[derive(Debug, Clone)]
pub struct StayEntry<'a> {
    /// Stable across downloads and messages of the same booking.
    pub uid: &'a str,
    /// The property's name.
    pub summary: &'a str,
    /// Its address on one line.
    pub location: &'a str,
    /// The room type's name.
    pub room: &'a str,
    /// Where the booking is seen online.
    pub link: &'a str,
    pub check_in: Date,
    pub check_out: Date,
    pub check_in_time: Time,
    pub check_out_time: Time,
    /// IANA name of the property's time zone.
    pub time_zone: &'a str,
}

/// The stay as a one-event `VCALENDAR`, CRLF-terminated and folded at 75 octets: from
/// the check-in time on `check_in` to the check-out time on `check_out`, in the
/// property's time zone (UTC if the zone is unknown), stamped `now`.
pub fn stay(e: &StayEntry<'_>, now: Timestamp) -> String {
    let zone = TimeZone::get(e.time_zone).unwrap_or(TimeZone::UTC);
    let event = Event::new()
        .uid(e.uid)
        .add_property("DTSTAMP", utc(now))
        .add_property("DTSTART", local_to_utc(e.check_in, e.check_in_time, &zone))
        .add_property("DTEND", local_to_utc(e.check_out, e.check_out_time, &zone))
        .summary(e.summary)
        .location(e.location)
        .description(&format!("{}\n{}", e.room, e.link))
        .url(e.link)
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
