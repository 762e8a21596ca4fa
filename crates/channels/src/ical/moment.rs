//! Date and date-time values (RFC 5545 3.3.4, 3.3.5, 3.3.6) and how they are dated.

use jiff::civil::{self, Date, DateTime, Time};
use jiff::tz::{TimeZone, TimeZoneDatabase};
use jiff::{SignedDuration, Span, ZonedDateTime};
use std::collections::HashMap;

const SECONDS_PER_DAY: i64 = 86_400;

/// When something starts or ends, as the feed wrote it.
#[derive(Debug, Clone)]
pub(super) enum Moment {
    /// An all-day date.
    Date(Date),
    /// A UTC time, or a time in a zone the database knows.
    Zoned(ZonedDateTime),
    /// A floating time, or one in a zone the database does not know: dated as written.
    Wall(DateTime),
}

/// Where a moment falls in the frame of a series (see [`frame`]): at a date-time, or
/// somewhere on a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Key {
    At(DateTime),
    Day(Date),
}

/// How long an event lasts: days (calendar days in a zone) and then seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Length {
    pub days: i64,
    pub seconds: i64,
}

/// The time zones of one read, looked up in jiff's bundled database (never the system's
/// files: reading a feed does no I/O).
pub(super) struct Zones {
    db: TimeZoneDatabase,
    known: HashMap<String, Option<TimeZone>>,
}

impl Zones {
    /// A feed names few zones; past this many distinct names they are looked up each time.
    const REMEMBERED: usize = 64;

    pub fn new() -> Self {
        Zones { db: TimeZoneDatabase::bundled(), known: HashMap::new() }
    }

    /// The zone of a `TZID`, if it is an IANA name.
    pub fn get(&mut self, name: &str) -> Option<TimeZone> {
        if let Some(zone) = self.known.get(name) {
            return zone.clone();
        }
        let zone = self.db.get(name.trim()).ok();
        if self.known.len() < Self::REMEMBERED {
            self.known.insert(name.to_owned(), zone.clone());
        }
        zone
    }
}

/// A DATE (`YYYYMMDD`) or DATE-TIME (`YYYYMMDDTHHMMSS`, then `Z` for UTC) value; `zone` is
/// the zone of the line's `TZID`, when the database knows it.
pub(super) fn parse(value: &str, zone: Option<&TimeZone>) -> Option<Moment> {
    let value = value.trim().as_bytes();
    let date = Date::new(
        i16::try_from(number(value.get(0..4)?)?).ok()?,
        i8::try_from(number(value.get(4..6)?)?).ok()?,
        i8::try_from(number(value.get(6..8)?)?).ok()?,
    )
    .ok()?;
    if value.len() == 8 {
        return Some(Moment::Date(date));
    }
    if !value.get(8)?.eq_ignore_ascii_case(&b'T') {
        return None;
    }
    let hour = i8::try_from(number(value.get(9..11)?)?).ok()?;
    let minute = i8::try_from(number(value.get(11..13)?)?).ok()?;
    // A leap second (60) is read as the second before it.
    let second = i8::try_from(number(value.get(13..15)?)?.min(59)).ok()?;
    let at = date.to_datetime(Time::new(hour, minute, second, 0).ok()?);
    match value.get(15..)? {
        b"" => match zone {
            Some(zone) => at.to_zoned_datetime(zone.clone()).ok().map(Moment::Zoned),
            None => Some(Moment::Wall(at)),
        },
        b"Z" | b"z" => at.to_zoned_datetime(TimeZone::UTC).ok().map(Moment::Zoned),
        _ => None,
    }
}

/// ASCII digits as a number.
fn number(digits: &[u8]) -> Option<i32> {
    digits.iter().try_fold(0i32, |n, &d| d.is_ascii_digit().then(|| n * 10 + i32::from(d - b'0')))
}

/// A DURATION value (RFC 5545 3.3.6): `[+-]P` then weeks, days, and after `T` hours,
/// minutes and seconds (`P1W`, `P3D`, `PT1H30M`, `-P1D`).
pub(super) fn parse_duration(value: &str) -> Option<Length> {
    // Beyond any date jiff can represent, so a larger number is simply unreadable.
    const LARGEST: i64 = 100_000_000_000;
    let value = value.trim();
    let (negative, rest) = match value.as_bytes().first()? {
        b'-' => (true, value.get(1..)?),
        b'+' => (false, value.get(1..)?),
        _ => (false, value),
    };
    let rest = rest.strip_prefix(['P', 'p'])?;
    let (mut days, mut seconds) = (0i64, 0i64);
    let mut in_time = false;
    let mut digits: Option<i64> = None;
    let mut any = false;
    for c in rest.chars() {
        if let Some(d) = c.to_digit(10) {
            let n = digits.unwrap_or(0).checked_mul(10)?.checked_add(i64::from(d))?;
            if n > LARGEST {
                return None;
            }
            digits = Some(n);
            continue;
        }
        match (c.to_ascii_uppercase(), in_time) {
            ('T', false) if digits.is_none() => in_time = true,
            ('W', false) => days = days.checked_add(digits.take()?.checked_mul(7)?)?,
            ('D', false) => days = days.checked_add(digits.take()?)?,
            ('H', true) => seconds = seconds.checked_add(digits.take()?.checked_mul(3600)?)?,
            ('M', true) => seconds = seconds.checked_add(digits.take()?.checked_mul(60)?)?,
            ('S', true) => seconds = seconds.checked_add(digits.take()?)?,
            _ => return None,
        }
        any = true;
    }
    if digits.is_some() || !any || days > LARGEST || seconds > LARGEST {
        return None;
    }
    Some(if negative { Length { days: -days, seconds: -seconds } } else { Length { days, seconds } })
}

/// How long an event from `start` to `end` lasts: calendar days between all-day dates,
/// exact seconds between two zoned times, and wall-clock seconds otherwise.
pub(super) fn between(start: &Moment, end: &Moment) -> Length {
    match (start, end) {
        (Moment::Date(start), end) => {
            let end = civil(end).date();
            Length { days: start.duration_until(end).as_secs().div_euclid(SECONDS_PER_DAY), seconds: 0 }
        }
        (Moment::Zoned(start), Moment::Zoned(end)) => Length { days: 0, seconds: start.duration_until(end).as_secs() },
        (start, end) => Length { days: 0, seconds: civil(start).duration_until(civil(end)).as_secs() },
    }
}

/// An event without `DTEND` or `DURATION`: one day if it is all-day, else none (its start's
/// night).
pub(super) fn no_end(start: &Moment) -> Length {
    match start {
        Moment::Date(_) => Length { days: 1, seconds: 0 },
        _ => Length::default(),
    }
}

/// `length` after `start`: days as calendar days in the moment's zone, then seconds; an
/// all-day start counts a part of a day as a whole one.
pub(super) fn after(start: &Moment, length: Length) -> Option<Moment> {
    let days = Span::new().try_days(length.days).ok()?;
    let seconds = SignedDuration::from_secs(length.seconds);
    match start {
        Moment::Date(date) => {
            let extra =
                length.seconds.div_euclid(SECONDS_PER_DAY) + i64::from(length.seconds.rem_euclid(SECONDS_PER_DAY) > 0);
            let days = Span::new().try_days(length.days.checked_add(extra)?).ok()?;
            date.checked_add(days).ok().map(Moment::Date)
        }
        Moment::Zoned(at) => at.checked_add(days).ok()?.checked_add(seconds).ok().map(Moment::Zoned),
        Moment::Wall(at) => at.checked_add(days).ok()?.checked_add(seconds).ok().map(Moment::Wall),
    }
}

/// The night a moment falls in, in the property's `zone`: all-day dates and wall-clock
/// times as written, zoned times converted.
pub(super) fn night(moment: &Moment, zone: &TimeZone) -> Date {
    match moment {
        Moment::Date(date) => *date,
        Moment::Zoned(at) => at.with_time_zone(zone.clone()).date(),
        Moment::Wall(at) => at.date(),
    }
}

/// The nights `[night(start), night(end))`, and at least `start`'s night.
pub(super) fn nights(start: &Moment, end: &Moment, zone: &TimeZone) -> Option<(Date, Date)> {
    let first = night(start, zone);
    let end = night(end, zone);
    if end > first { Some((first, end)) } else { Some((first, first.tomorrow().ok()?)) }
}

/// The zone a series is expanded and matched in: `DTSTART`'s own zone, or the property's
/// zone for an all-day or wall-clock `DTSTART` (which are dated as if they were in it).
pub(super) fn frame(start: &Moment, zone: &TimeZone) -> TimeZone {
    match start {
        Moment::Zoned(at) => at.time_zone().clone(),
        Moment::Date(_) | Moment::Wall(_) => zone.clone(),
    }
}

/// A moment in the frame of a series.
pub(super) fn key(moment: &Moment, frame: &TimeZone) -> Key {
    match moment {
        Moment::Date(date) => Key::Day(*date),
        Moment::Zoned(at) => Key::At(at.with_time_zone(frame.clone()).datetime()),
        Moment::Wall(at) => Key::At(*at),
    }
}

/// A moment's wall-clock date-time as written (an all-day date at midnight).
pub(super) fn civil(moment: &Moment) -> DateTime {
    match moment {
        Moment::Date(date) => date.to_datetime(Time::midnight()),
        Moment::Zoned(at) => at.datetime(),
        Moment::Wall(at) => *at,
    }
}

/// The moment of the same kind (and zone) as `start` at wall-clock `at`.
pub(super) fn rebuild(start: &Moment, at: DateTime) -> Option<Moment> {
    match start {
        Moment::Date(_) => Some(Moment::Date(at.date())),
        Moment::Zoned(start) => at.to_zoned_datetime(start.time_zone().clone()).ok().map(Moment::Zoned),
        Moment::Wall(_) => Some(Moment::Wall(at)),
    }
}

/// Where expanding a series can stop for a window ending at `until`: no occurrence starting
/// later, in any frame, falls before `until` in the property's zone (zones differ by at
/// most 26 hours).
pub(super) fn expansion_end(until: Date) -> DateTime {
    let end = until.checked_add(Span::new().days(3)).unwrap_or(civil::Date::MAX);
    end.to_datetime(Time::midnight())
}
