//! iCalendar (RFC 5545) feeds: the calendars that hosts sync with Airbnb, Booking.com and
//! their own calendars.
//!
//! # Reading a feed: which nights it keeps busy
//!
//! [`read_feed`] reads every `VEVENT` of a feed into [`Block`]s of nights, dated in the
//! property's time zone ([`Window::zone`]), by these rules:
//!
//! - **Every event blocks nights**, except one with `STATUS:CANCELLED`. `TRANSP` is
//!   ignored on purpose: Google marks all-day events `TRANSPARENT` by default, and a host
//!   who imports a calendar of blocked days means them as busy.
//! - **All-day events** (`VALUE=DATE`, or a bare 8-digit value) block the nights
//!   `[DTSTART, DTEND)`. Without `DTEND`, a `DURATION` counts in whole days (`P3D`,
//!   `P1W`; hours, minutes and seconds round up to a day); without either, one night.
//! - **Date-times** are dated in the property's zone: a UTC time (`Z`) is converted to
//!   it; a time with a `TZID` that jiff's bundled database knows (an IANA name such as
//!   `Europe/Berlin`, quoted or not) is converted from that zone to it; a time with an
//!   unknown `TZID` (Windows names such as `W. Europe Standard Time`, custom names) or a
//!   floating time is dated as written, as if it were in the property's zone. The event
//!   blocks the nights `[date(start), date(end))`, and at least one night: an event inside
//!   one day blocks that day's night. Without `DTEND`, the end is the start plus
//!   `DURATION`, and without either only the start's night is blocked.
//! - **Recurrences**: an `RRULE` is expanded in the wall-clock time of `DTSTART` (09:00
//!   stays 09:00 across a DST change), and each occurrence is then dated as above.
//!   `DTSTART` is always an occurrence (RFC 5545 3.8.5.3). `RDATE`s are added (dates,
//!   date-times, and `VALUE=PERIOD` as start/end or start/duration, whose own end is
//!   kept); `EXDATE`s are removed. An `EXDATE` or `RECURRENCE-ID` matches an occurrence
//!   starting at the same date-time (compared in the zone of `DTSTART`, or in the
//!   property's zone when `DTSTART` is all-day or wall-clock); one that is a date matches
//!   every occurrence on that date (`EXDATE`) or the first (`RECURRENCE-ID`), so
//!   `RECURRENCE-ID;VALUE=DATE` finds an all-day occurrence. A `VEVENT` with a
//!   `RECURRENCE-ID` replaces the occurrence of its `UID`'s event that it matches (and is
//!   added even when it matches none); a cancelled one only removes it. `RANGE=THISANDFUTURE` is read as that one
//!   occurrence. An override whose `UID` has no event without `RECURRENCE-ID` in the feed
//!   is read as an event of its own.
//! - **`UNTIL`** is compared in the same frame: a UTC `UNTIL` of a wall-clock or all-day
//!   `DTSTART` is converted to the property's zone first (consistent with dating such
//!   starts as if they were in that zone), and a date `UNTIL` keeps that whole day.
//! - **Bounded work**: an event stops expanding at [`MAX_OCCURRENCES`] occurrences (with
//!   a note in [`Feed::skipped`]); rules repeating more often than daily
//!   (`FREQ=HOURLY/MINUTELY/SECONDLY`) are not expanded (with a note: the event blocks
//!   its `DTSTART` and `RDATE`s); and one read expands at most [`MAX_RULES`] rules and
//!   about [`MAX_PERIODS`] days, weeks, months or years of them in all (each rule is
//!   charged the periods from its `DTSTART` to the window's end), because the expansion
//!   (the `rrule` crate) may search up to 100,000 periods for an occurrence that never
//!   comes. A rule past these limits is not expanded, with a note.
//! - **The window**: only occurrences overlapping `[from, until)` are produced, and each
//!   block is clipped to it. Occurrence uids are the event's `UID` for an event that does
//!   not recur, and `{UID}/{first night as YYYYMMDD}` (the first night before clipping)
//!   for each occurrence of one that does (an `RRULE`, an `RDATE` or an override); an
//!   event without `UID` is named `event N (no UID)`, N counting the feed's `VEVENT`s
//!   from 1.
//! - **What is skipped**: an event without `DTSTART`, or whose `DTSTART`, `DTEND`,
//!   `DURATION` cannot be read, is skipped with a note naming its `UID`. A bad `RDATE`,
//!   `EXDATE` or `RRULE` is left out with a note, and the rest of its event is read (a
//!   night too many is cheaper than a double booking); a bad `RECURRENCE-ID` makes its
//!   event one of its own, with a note.
//! - `VTIMEZONE` components are ignored: offsets come from jiff's bundled database for
//!   IANA names, and unknown names are wall-clock. Exchange's misplaced quote
//!   (`DTSTART;TZID="W. Europe Standard Time:20200609T090000"`) is read as the value it
//!   was meant to be.
//!
//! A text without `BEGIN:VCALENDAR`, or whose components do not nest (an `END` without its
//! `BEGIN`, a feed cut short inside a component), is a [`FeedError`]: a feed cut short must
//! never read as nights that became free.
//!
//! # Writing a feed
//!
//! [`write_feed`] writes one all-day `VEVENT` per [`ExportEvent`], through the `icalendar`
//! crate (CRLF line ends, lines folded at 75 octets, TEXT escaped).

mod content;
mod moment;
mod recurrence;

use content::Line;
use icalendar::{Calendar, Component, Event, Property};
use jiff::Timestamp;
use jiff::civil::{self, Date};
use jiff::tz::TimeZone;
use moment::{Key, Length, Moment, Zones};
use recurrence::Budget;
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub use recurrence::{MAX_PERIODS, MAX_RULES};

/// An event stops expanding at this many occurrences (its `DTSTART`, its rules' and its
/// `RDATE`s together).
pub const MAX_OCCURRENCES: usize = 10_000;

/// What a read covers: nights are dated in `zone` (the property's time zone), recurrences
/// are expanded and blocks clipped to `[from, until)`.
#[derive(Debug, Clone)]
pub struct Window {
    pub zone: TimeZone,
    pub from: Date,
    pub until: Date,
}

/// One busy stretch of a feed: the nights `[start, end)` of one event or one occurrence of
/// a recurring event.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Block {
    pub uid: String,
    pub start: Date,
    pub end: Date,
    pub summary: String,
}

/// What a feed blocks inside a window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Feed {
    /// Sorted by start, end, then uid.
    pub blocks: Vec<Block>,
    /// Events that could not be read (or not fully), each with why, naming its `UID`: shown
    /// to the host.
    pub skipped: Vec<String>,
}

/// A text that is not a readable iCalendar feed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
    /// No `BEGIN:VCALENDAR` line: an HTML page, JSON, an empty body.
    #[error("not an iCalendar feed: there is no BEGIN:VCALENDAR line")]
    NotICalendar,
    /// The components do not nest; `line` counts content lines (after unfolding) from 1.
    #[error("unreadable iCalendar feed at content line {line}: {reason}")]
    Malformed { line: usize, reason: String },
}

/// One all-day event of an export feed: the nights `[start, end)` under a stable `uid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportEvent {
    pub uid: String,
    pub start: Date,
    pub end: Date,
    pub summary: String,
}

/// The nights a feed blocks inside `window`, by the rules of this module's documentation.
pub fn read_feed(text: &str, window: &Window) -> Result<Feed, FeedError> {
    let events = content::events(text)?;
    let mut reader = Reader { window, zones: Zones::new(), budget: Budget::new(), skipped: Vec::new() };

    let mut masters = Vec::new();
    let mut overrides = Vec::new();
    for (index, lines) in events.iter().enumerate() {
        if let Some(event) = reader.event(lines, index + 1) {
            if event.recurrence_id.is_some() { overrides.push(event) } else { masters.push(event) }
        }
    }

    // The first event of a UID is the one its overrides replace occurrences of.
    let mut master_of: HashMap<String, usize> = HashMap::new();
    for (i, master) in masters.iter().enumerate() {
        if master.has_uid {
            master_of.entry(master.uid.clone()).or_insert(i);
        }
    }
    let mut attached: Vec<Vec<EventData>> = masters.iter().map(|_| Vec::new()).collect();
    let mut standalone = Vec::new();
    for event in overrides {
        match master_of.get(&event.uid).and_then(|&i| attached.get_mut(i)) {
            Some(list) if event.has_uid => list.push(event),
            _ => standalone.push(event),
        }
    }

    let mut blocks = Vec::new();
    for (master, its_overrides) in masters.iter().zip(&attached) {
        reader.series(master, its_overrides, &mut blocks);
    }
    for event in &standalone {
        reader.series(event, &[], &mut blocks);
    }
    blocks.sort_by(|a, b| (a.start, a.end, &a.uid, &a.summary).cmp(&(b.start, b.end, &b.uid, &b.summary)));
    blocks.dedup();
    Ok(Feed { blocks, skipped: reader.skipped })
}

/// Every night some block covers, once, in order.
pub fn nights(blocks: &[Block]) -> BTreeSet<Date> {
    let mut nights = BTreeSet::new();
    for block in blocks {
        let mut night = block.start;
        while night < block.end {
            nights.insert(night);
            match night.tomorrow() {
                Ok(next) => night = next,
                Err(_) => break,
            }
        }
    }
    nights
}

/// Consecutive nights merged: `[start, end)` ranges, in order. (9999-12-31, which has no
/// next day to end a range, is left out.)
pub fn runs(nights: impl IntoIterator<Item = Date>) -> Vec<(Date, Date)> {
    let nights: BTreeSet<Date> = nights.into_iter().collect();
    let mut runs: Vec<(Date, Date)> = Vec::new();
    for night in nights {
        let Ok(next) = night.tomorrow() else { continue };
        match runs.last_mut() {
            Some((_, end)) if *end == night => *end = next,
            _ => runs.push((night, next)),
        }
    }
    runs
}

/// An export feed: one `VEVENT` per event with `DTSTART;VALUE=DATE` / `DTEND;VALUE=DATE`,
/// the given stable `UID`, `DTSTAMP` = `stamp` (UTC) and `SUMMARY`, in a `VCALENDAR` with
/// `VERSION:2.0`, `PRODID:-//Innkeep//Channels 1.0//EN`, `CALSCALE:GREGORIAN`,
/// `METHOD:PUBLISH` and `X-WR-CALNAME` = `name`. Lines end in CRLF and are folded at 75
/// octets (RFC 5545 3.1); text is escaped (commas, semicolons, backslashes, newlines).
///
/// Text is cleaned first: CR and CRLF become newlines, other control characters (not tab)
/// are dropped, since TEXT cannot carry them. An event whose end is not after its start is
/// written as its start's one night, as [`read_feed`] would read it.
pub fn write_feed(name: &str, events: &[ExportEvent], stamp: Timestamp) -> String {
    let mut calendar = Calendar::empty();
    calendar
        .append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new("PRODID", "-//Innkeep//Channels 1.0//EN"))
        .append_property(Property::new("CALSCALE", "GREGORIAN"))
        .append_property(Property::new("METHOD", "PUBLISH"))
        .append_property(Property::new("X-WR-CALNAME", clean_text(name)));
    let stamp = stamp.strftime("%Y%m%dT%H%M%SZ").to_string();
    for event in events {
        let end = if event.end > event.start { event.end } else { event.start.tomorrow().unwrap_or(event.end) };
        calendar.push(
            Event::new()
                .uid(&clean_text(&event.uid))
                .summary(&clean_text(&event.summary))
                .add_property("DTSTAMP", stamp.as_str())
                .append_property(Property::new("DTSTART", ymd(event.start)).add_parameter("VALUE", "DATE").done())
                .append_property(Property::new("DTEND", ymd(end)).add_parameter("VALUE", "DATE").done())
                .done(),
        );
    }
    calendar.to_string()
}

/// `YYYYMMDD`, as in an iCalendar DATE and in occurrence uids.
fn ymd(date: Date) -> String {
    format!("{:04}{:02}{:02}", date.year(), date.month(), date.day())
}

fn clean_text(text: &str) -> String {
    text.replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .filter(|&c| !c.is_control() || c == '\n' || c == '\t')
        .collect()
}

/// At most this many characters of a feed's own text go into a note.
const EXCERPT: usize = 60;

/// A feed's text quoted in a note, cut short.
fn excerpt(text: &str) -> String {
    let mut out: String = text.chars().take(EXCERPT).collect();
    if text.chars().nth(EXCERPT).is_some() {
        out.push('…');
    }
    format!("{out:?}")
}

/// One `VEVENT`, its dates read.
struct EventData {
    /// The `UID`, or `event N (no UID)`.
    uid: String,
    has_uid: bool,
    summary: String,
    cancelled: bool,
    start: Moment,
    length: Length,
    rules: Vec<String>,
    /// Each `RDATE` with the end of its period, if it was one.
    rdates: Vec<(Moment, Option<Moment>)>,
    exdates: Vec<Moment>,
    recurrence_id: Option<Moment>,
}

/// One occurrence: its start, and its own end when an `RDATE` period gave one.
type Occurrence = (Moment, Option<Moment>);

struct Reader<'w> {
    window: &'w Window,
    zones: Zones,
    budget: Budget,
    skipped: Vec<String>,
}

impl Reader<'_> {
    fn note(&mut self, uid: &str, why: impl std::fmt::Display) {
        self.skipped.push(format!("{uid}: {why}"));
    }

    /// The moment of a date or date-time value, with the line's `TZID`.
    fn moment(&mut self, line: &Line, value: &str) -> Option<Moment> {
        let zone = line.param("TZID").and_then(|name| self.zones.get(name));
        moment::parse(value, zone.as_ref())
    }

    fn event(&mut self, lines: &[Line], number: usize) -> Option<EventData> {
        let first = |name: &str| lines.iter().find(|line| line.name == name);
        let uid = first("UID").map(|line| line.value.trim().to_owned()).filter(|uid| !uid.is_empty());
        let has_uid = uid.is_some();
        let uid = uid.unwrap_or_else(|| format!("event {number} (no UID)"));

        let Some(dtstart) = first("DTSTART") else {
            self.note(&uid, "no DTSTART: skipped");
            return None;
        };
        let Some(start) = self.moment(dtstart, &dtstart.value) else {
            self.note(&uid, format_args!("DTSTART {} is not a date: skipped", excerpt(&dtstart.value)));
            return None;
        };
        let length = if let Some(dtend) = first("DTEND") {
            let Some(end) = self.moment(dtend, &dtend.value) else {
                self.note(&uid, format_args!("DTEND {} is not a date: skipped", excerpt(&dtend.value)));
                return None;
            };
            moment::between(&start, &end)
        } else if let Some(duration) = first("DURATION") {
            let Some(length) = moment::parse_duration(&duration.value) else {
                self.note(&uid, format_args!("DURATION {} is not a duration: skipped", excerpt(&duration.value)));
                return None;
            };
            length
        } else {
            moment::no_end(&start)
        };

        let mut rdates = Vec::new();
        let mut exdates = Vec::new();
        for line in lines {
            match line.name.as_str() {
                "RDATE" => {
                    let period = line.param("VALUE").is_some_and(|v| v.eq_ignore_ascii_case("PERIOD"));
                    for value in line.value.split(',').map(str::trim).filter(|v| !v.is_empty()) {
                        match self.rdate(line, value, period) {
                            Some(rdate) => rdates.push(rdate),
                            None => self.note(&uid, format_args!("RDATE {} is not a date: left out", excerpt(value))),
                        }
                    }
                }
                "EXDATE" => {
                    for value in line.value.split(',').map(str::trim).filter(|v| !v.is_empty()) {
                        match self.moment(line, value) {
                            Some(exdate) => exdates.push(exdate),
                            None => self.note(&uid, format_args!("EXDATE {} is not a date: left out", excerpt(value))),
                        }
                    }
                }
                _ => {}
            }
        }
        let recurrence_id = match first("RECURRENCE-ID") {
            None => None,
            Some(line) => {
                let id = self.moment(line, &line.value);
                if id.is_none() {
                    let why =
                        format!("RECURRENCE-ID {} is not a date: read as an event of its own", excerpt(&line.value));
                    self.note(&uid, why);
                }
                id
            }
        };
        Some(EventData {
            has_uid,
            summary: first("SUMMARY").map(|line| line.value.clone()).unwrap_or_default(),
            cancelled: first("STATUS").is_some_and(|line| line.value.trim().eq_ignore_ascii_case("CANCELLED")),
            start,
            length,
            rules: lines.iter().filter(|line| line.name == "RRULE").map(|line| line.value.clone()).collect(),
            rdates,
            exdates,
            recurrence_id,
            uid,
        })
    }

    /// One `RDATE` value: a date, a date-time, or a period (start/end or start/duration).
    fn rdate(&mut self, line: &Line, value: &str, period: bool) -> Option<Occurrence> {
        match value.split_once('/') {
            Some((start, end)) => {
                let start = self.moment(line, start)?;
                let end = match moment::parse_duration(end) {
                    Some(length) => moment::after(&start, length)?,
                    None => self.moment(line, end)?,
                };
                Some((start, Some(end)))
            }
            None if period => None,
            None => Some((self.moment(line, value)?, None)),
        }
    }

    /// The blocks of an event and of the overrides of its occurrences.
    fn series(&mut self, event: &EventData, overrides: &[EventData], out: &mut Vec<Block>) {
        let recurring = !event.rules.is_empty() || !event.rdates.is_empty() || !overrides.is_empty();
        let frame = moment::frame(&event.start, &self.window.zone);
        let mut occurrences = self.occurrences(event, &frame);
        for exdate in &event.exdates {
            for key in matching(&occurrences, &moment::key(exdate, &frame), usize::MAX) {
                occurrences.remove(&key);
            }
        }
        for replacement in overrides {
            if let Some(id) = &replacement.recurrence_id {
                for key in matching(&occurrences, &moment::key(id, &frame), 1) {
                    occurrences.remove(&key);
                }
            }
        }
        if !event.cancelled {
            for (start, end) in occurrences.values() {
                self.block(event, recurring, start, end.as_ref(), out);
            }
        }
        for replacement in overrides {
            if !replacement.cancelled {
                let frame = moment::frame(&replacement.start, &self.window.zone);
                for (start, end) in self.occurrences(replacement, &frame).values() {
                    self.block(replacement, true, start, end.as_ref(), out);
                }
            }
        }
    }

    /// An event's occurrences by their start in `frame`: `DTSTART`, its rules' and its
    /// `RDATE`s, at most [`MAX_OCCURRENCES`].
    fn occurrences(&mut self, event: &EventData, frame: &TimeZone) -> BTreeMap<civil::DateTime, Occurrence> {
        let mut occurrences = BTreeMap::new();
        let first = moment::civil(&event.start);
        occurrences.insert(first, (event.start.clone(), None));
        let stop = moment::expansion_end(self.window.until);
        let mut capped = false;
        for rule in &event.rules {
            let room = MAX_OCCURRENCES.saturating_sub(occurrences.len());
            match recurrence::expand(rule, first, frame, stop, room, &mut self.budget) {
                Ok(expansion) => {
                    capped |= expansion.capped;
                    for start in expansion.starts {
                        if let Some(moment) = moment::rebuild(&event.start, start) {
                            occurrences.entry(start).or_insert((moment, None));
                        }
                    }
                }
                Err(why) => self.note(&event.uid, why),
            }
        }
        for (start, end) in &event.rdates {
            if occurrences.len() >= MAX_OCCURRENCES {
                capped = true;
                break;
            }
            let at = match moment::key(start, frame) {
                Key::At(at) => at,
                Key::Day(day) => day.to_datetime(civil::Time::midnight()),
            };
            occurrences.entry(at).or_insert_with(|| (start.clone(), end.clone()));
        }
        if capped {
            self.note(&event.uid, format_args!("more than {MAX_OCCURRENCES} occurrences: the later ones are not read"));
        }
        occurrences
    }

    /// The block of one occurrence, clipped to the window.
    fn block(
        &mut self,
        event: &EventData,
        recurring: bool,
        start: &Moment,
        end: Option<&Moment>,
        out: &mut Vec<Block>,
    ) {
        let zone = &self.window.zone;
        let nights = match end {
            Some(end) => moment::nights(start, end, zone),
            None => moment::after(start, event.length).and_then(|end| moment::nights(start, &end, zone)),
        };
        let Some((first, end)) = nights else {
            self.note(&event.uid, "an occurrence's dates are out of range: left out");
            return;
        };
        let start = first.max(self.window.from);
        let end = end.min(self.window.until);
        if start < end {
            let uid = if recurring { format!("{}/{}", event.uid, ymd(first)) } else { event.uid.clone() };
            out.push(Block { uid, start, end, summary: event.summary.clone() });
        }
    }
}

/// The starts of the occurrences `key` matches: the one at that date-time, or the first
/// `limit` on that date.
fn matching(occurrences: &BTreeMap<civil::DateTime, Occurrence>, key: &Key, limit: usize) -> Vec<civil::DateTime> {
    match key {
        Key::At(at) => occurrences.get_key_value(at).map(|(at, _)| *at).into_iter().collect(),
        Key::Day(day) => {
            let from = day.to_datetime(civil::Time::midnight());
            occurrences.range(from..).map(|(at, _)| *at).take_while(|at| at.date() == *day).take(limit).collect()
        }
    }
}
