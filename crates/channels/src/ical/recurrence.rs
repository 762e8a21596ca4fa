//! `RRULE` expansion (RFC 5545 3.3.10) with the `rrule` crate, in wall-clock time and
//! within a work budget.
//!
//! The `rrule` crate expands in a `chrono` zone; here it always gets UTC standing in for
//! the wall clock of `DTSTART`'s frame, so 09:00 stays 09:00 across DST changes and the
//! caller converts each occurrence. `UNTIL` is taken out of the rule and applied here, in
//! the same frame (the crate would insist that `UNTIL` and `DTSTART` agree on a zone, and
//! would read a floating `UNTIL` in the machine's local zone).

use super::excerpt;
use super::moment::{self, Key};
use chrono::TimeZone as _;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use rrule::{RRule, Unvalidated};

/// One read expands at most this many rules: the crate searches up to 100,000 periods for
/// the next occurrence of a rule before giving up, even when none can ever come (the 30th
/// of February), so each rule may cost that much.
pub const MAX_RULES: u32 = 500;

/// One read expands rules over at most about this many periods (days, weeks, months or
/// years, by `FREQ`) in all, each rule charged from its `DTSTART` to the window's end or
/// its `UNTIL`: a daily rule from the year 1 costs some 740,000.
pub const MAX_PERIODS: u64 = 4_000_000;

/// What is left of a read's expansion work.
pub(super) struct Budget {
    rules: u32,
    periods: u64,
}

impl Budget {
    pub fn new() -> Self {
        Budget { rules: MAX_RULES, periods: MAX_PERIODS }
    }
}

/// The occurrence starts of one rule, as wall-clock date-times of the series' frame.
pub(super) struct Expansion {
    pub starts: Vec<DateTime>,
    /// More occurrences were there than room for.
    pub capped: bool,
}

/// The starts of `rule`'s occurrences from `start` (the wall clock of `DTSTART` in
/// `frame`) up to `stop` and the rule's `UNTIL`, at most `room` of them; or why the rule was
/// not expanded (a note for the host).
pub(super) fn expand(
    rule: &str,
    start: DateTime,
    frame: &TimeZone,
    stop: DateTime,
    room: usize,
    budget: &mut Budget,
) -> Result<Expansion, String> {
    // The rrule crate walks every period from DTSTART: a rule started centuries before the
    // window costs seconds and reaches it with none of its occurrences left.
    if i32::from(stop.year()) - i32::from(start.year()) > 200 {
        return Err("RRULE starts more than 200 years before the window ends: the rule is left out".to_owned());
    }
    // RFC 5545 writes a rule in ASCII; the rrule crate slices its text by bytes and panics
    // inside a character that is not.
    if !rule.is_ascii() {
        return Err(format!("RRULE {} is not ASCII: the rule is left out", excerpt(rule)));
    }
    let mut parts = Vec::new();
    let mut until = None;
    let mut frequency = None;
    let mut interval: i64 = 1;
    for part in rule.split(';').map(str::trim).filter(|part| !part.is_empty()) {
        let Some((name, value)) = part.split_once('=') else {
            return Err(format!("RRULE part {} has no value: the rule is left out", excerpt(part)));
        };
        let (name, value) = (name.trim().to_ascii_uppercase(), value.trim());
        match name.as_str() {
            "UNTIL" => match moment::parse(value, None) {
                Some(at) => until = Some(moment::key(&at, frame)),
                None => return Err(format!("RRULE UNTIL {} is not a date: the rule is left out", excerpt(value))),
            },
            "FREQ" => {
                frequency = Some(value.to_ascii_uppercase());
                parts.push(format!("FREQ={}", value.to_ascii_uppercase()));
            }
            _ => {
                // No number of a rule is this large in any real calendar; the rrule crate's
                // arithmetic is not safe from overflow with them.
                let too_large = value
                    .split(|c: char| !c.is_ascii_digit())
                    .any(|d| d.len() > 5 || d.parse::<u32>().is_ok_and(|n| n > 10_000));
                if too_large {
                    return Err(format!("RRULE {name}={} is out of range: the rule is left out", excerpt(value)));
                }
                if name == "INTERVAL" {
                    interval = value.parse().unwrap_or(1).max(1);
                }
                parts.push(format!("{name}={value}"));
            }
        }
    }
    let days_per_period = match frequency.as_deref() {
        Some("DAILY") => 1,
        Some("WEEKLY") => 7,
        Some("MONTHLY") => 28,
        Some("YEARLY") => 365,
        Some(sub_daily @ ("HOURLY" | "MINUTELY" | "SECONDLY")) => {
            return Err(format!(
                "RRULE repeats more often than daily (FREQ={sub_daily}): not expanded, only DTSTART and RDATEs are read"
            ));
        }
        Some(other) => return Err(format!("RRULE FREQ {} is not a frequency: the rule is left out", excerpt(other))),
        None => return Err("RRULE has no FREQ: the rule is left out".to_owned()),
    };

    // Charge the periods from DTSTART to where expansion stops.
    let last = match &until {
        Some(Key::At(at)) => (*at).min(stop),
        Some(Key::Day(day)) => day.to_datetime(jiff::civil::Time::midnight()).min(stop),
        None => stop,
    };
    let days = start.date().duration_until(last.date()).as_secs().div_euclid(86_400).max(0);
    let periods = u64::try_from(days / days_per_period / interval + 1).unwrap_or(u64::MAX);
    if budget.rules == 0 || periods > budget.periods {
        return Err(
            "RRULE not expanded: this feed's recurrences are more work than one read does (only DTSTART and RDATEs are read)"
                .to_owned(),
        );
    }
    budget.rules -= 1;
    budget.periods -= periods;

    let dt_start = rrule::Tz::UTC
        .with_ymd_and_hms(
            i32::from(start.year()),
            u32::try_from(start.month()).unwrap_or(1),
            u32::try_from(start.day()).unwrap_or(1),
            u32::try_from(start.hour()).unwrap_or(0),
            u32::try_from(start.minute()).unwrap_or(0),
            u32::try_from(start.second()).unwrap_or(0),
        )
        .single()
        .ok_or_else(|| "DTSTART is out of the range of recurrences: the rule is left out".to_owned())?;
    let rule: RRule<Unvalidated> = parts.join(";").parse().map_err(|e: rrule::RRuleError| {
        format!("RRULE {} not read ({}): the rule is left out", excerpt(rule), excerpt(&e.to_string()))
    })?;
    let set = rule
        .build(dt_start)
        .map_err(|e| {
            format!(
                "RRULE {} not usable ({}): the rule is left out",
                excerpt(&parts.join(";")),
                excerpt(&e.to_string())
            )
        })?
        .limit();

    let mut expansion = Expansion { starts: Vec::new(), capped: false };
    for occurrence in &set {
        let Ok(at) = jiff::Timestamp::from_second(occurrence.timestamp()) else { break };
        let at = TimeZone::UTC.to_datetime(at);
        let past_until = match &until {
            Some(Key::At(until)) => at > *until,
            Some(Key::Day(until)) => at.date() > *until,
            None => false,
        };
        if at > stop || past_until {
            break;
        }
        // DTSTART is an occurrence already.
        if at == start {
            continue;
        }
        if expansion.starts.len() >= room {
            expansion.capped = true;
            break;
        }
        expansion.starts.push(at);
    }
    Ok(expansion)
}
