//! Reading the values that recur across OTA messages: codes, dates, date spans, counts and
//! guest counts. Each reader names what it read as a path, for the error it may return.

use super::OtaError;
use super::document::Element;
use super::error::{err, ewt};
use innkeep_core::MAX_CHILD_AGE;
use jiff::Span;
use jiff::civil::Date;

/// The attribute `name` of `el`, required: error 321 naming `{at}/@{name}` when absent.
pub(crate) fn required<'a>(el: &'a Element, name: &str, at: &str) -> Result<&'a str, OtaError> {
    el.attr(name).ok_or_else(|| OtaError::missing(format!("{at}/@{name}")))
}

/// The attribute `name` of `el` as an owned string, when present.
pub(crate) fn optional(el: &Element, name: &str) -> Option<String> {
    el.attr(name).map(str::to_owned)
}

/// An OTA date (`xs:date` or the date of an `xs:dateTime`): `2010-08-30`,
/// `2010-08-30T14:00:00`, `2010-08-30Z`.
pub(crate) fn date(value: &str, at: &str) -> Result<Date, OtaError> {
    let bad = || OtaError::invalid_date(format!("{at}: {value:?} is not a date (YYYY-MM-DD)"));
    let head = value.get(..10).ok_or_else(bad)?;
    let rest = &value[10..];
    let shape = head.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    if !shape || !(rest.is_empty() || rest.starts_with(['T', 'Z', '+', '-'])) {
        return Err(bad());
    }
    head.parse::<Date>().map_err(|_| bad())
}

/// The date attribute `name` of `el`, required.
pub(crate) fn required_date(el: &Element, name: &str, at: &str) -> Result<Date, OtaError> {
    date(required(el, name, at)?, &format!("{at}/@{name}"))
}

/// The nights `[check_in, check_out)` of an element with `Start` and `End` (departure), or
/// `Start` and `Duration` in nights or days (`P3N`, `P3D`), as in `TimeSpan` and
/// `StayDateRange`. The stay has at least one night.
pub(crate) fn stay(el: &Element, at: &str) -> Result<(Date, Date), OtaError> {
    let check_in = required_date(el, "Start", at)?;
    let check_out = match (el.attr("End"), el.attr("Duration")) {
        (Some(end), _) => date(end, &format!("{at}/@End"))?,
        (None, Some(duration)) => {
            let nights = nights(duration)
                .ok_or_else(|| OtaError::invalid(format!("{at}/@Duration: {duration:?} is not a number of nights")))?;
            Span::new()
                .try_days(nights)
                .ok()
                .and_then(|span| check_in.checked_add(span).ok())
                .ok_or_else(|| OtaError::invalid_date(format!("{at}: the stay ends past the last date")))?
        }
        (None, None) => return Err(OtaError::missing(format!("{at}/@End"))),
    };
    if check_out <= check_in {
        return Err(OtaError::new(
            ewt::BIZ_RULE,
            err::INVALID_START_END_DATE_COMBINATION,
            format!("{at}: End {check_out} is not after Start {check_in}"),
        ));
    }
    Ok((check_in, check_out))
}

/// The first and last night (both included) of a `StatusApplicationControl` or `Rate`:
/// there `End` is the last date the status applies to, not a departure.
pub(crate) fn nights_span(el: &Element, at: &str) -> Result<(Date, Date), OtaError> {
    let first = required_date(el, "Start", at)?;
    let last = required_date(el, "End", at)?;
    if last < first {
        return Err(OtaError::new(
            ewt::BIZ_RULE,
            err::INVALID_START_END_DATE_COMBINATION,
            format!("{at}: End {last} is before Start {first}"),
        ));
    }
    Ok((first, last))
}

/// `P3N` or `P3D` (the OTA `NightDurationType`, or an `xs:duration` of whole days).
fn nights(duration: &str) -> Option<i64> {
    let number = duration.strip_prefix('P')?.strip_suffix(['N', 'D'])?;
    if number.is_empty() || number.len() > 5 || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    number.parse().ok()
}

/// A count attribute (`Count`, `Quantity`, `Time`): a whole number up to 65535.
pub(crate) fn count(value: &str, at: &str) -> Result<u16, OtaError> {
    value.parse::<u16>().map_err(|_| OtaError::invalid(format!("{at}: {value:?} is not a count")))
}

/// An optional count attribute of `el`.
pub(crate) fn optional_count(el: &Element, name: &str, at: &str) -> Result<Option<u16>, OtaError> {
    el.attr(name).map(|v| count(v, &format!("{at}/@{name}"))).transpose()
}

/// An OTA boolean (`true`, `false`, `1`, `0`).
pub(crate) fn boolean(value: &str, at: &str) -> Result<bool, OtaError> {
    match value {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(OtaError::invalid(format!("{at}: {value:?} is not true or false"))),
    }
}

/// Age qualifying codes (OTA code list AQC) counted as children: infant, child, teenager,
/// under 2/12/17, free child, under 10, junior. Every other code is an adult.
const CHILD_CODES: &[u16] = &[3, 4, 5, 7, 8, 9, 14, 18, 19];

/// Whether a `GuestCount` or `ResGuest` counts a child: by its `AgeQualifyingCode`, else by
/// an `Age` of a child (0 to `MAX_CHILD_AGE`, as AlpineBits sends children); without either, an adult.
pub(crate) fn is_child(el: &Element) -> bool {
    match el.attr("AgeQualifyingCode") {
        Some(code) => CHILD_CODES.iter().any(|c| code.parse() == Ok(*c)),
        None => {
            el.attr("Age").and_then(|age| age.parse::<u16>().ok()).is_some_and(|age| age <= u16::from(MAX_CHILD_AGE))
        }
    }
}

/// Who a `GuestCounts` element (or a list of `ResGuest`s) counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Guests {
    pub adults: u16,
    pub children: u16,
    /// The children's ages when every child came with an `Age` from 0 to 17 (each as often
    /// as its `Count`); empty otherwise.
    pub child_ages: Vec<u8>,
    /// Whether some child came without a usable age.
    unaged: bool,
}

/// The most children's ages kept from one count (more: the ages are left out).
const MAX_AGES: usize = 100;

impl Guests {
    /// Count `n` guests like `el` (a `GuestCount` or a `ResGuest`).
    pub(crate) fn add(&mut self, el: &Element, n: u16, at: &str) -> Result<(), OtaError> {
        let too_many = || OtaError::invalid(format!("{at}: too many guests"));
        if !is_child(el) {
            self.adults = self.adults.checked_add(n).ok_or_else(too_many)?;
            return Ok(());
        }
        self.children = self.children.checked_add(n).ok_or_else(too_many)?;
        match el.attr("Age").and_then(|a| a.parse::<u8>().ok()).filter(|a| *a <= MAX_CHILD_AGE) {
            Some(age) if self.child_ages.len() + usize::from(n) <= MAX_AGES => {
                self.child_ages.extend(std::iter::repeat_n(age, usize::from(n)));
            }
            _ => self.unaged = true,
        }
        Ok(())
    }

    /// The count done: the ages kept only when every child had one.
    pub(crate) fn done(mut self) -> Guests {
        if self.unaged {
            self.child_ages.clear();
        }
        self
    }

    /// The same guests `times` over (counts given per room, for that many rooms).
    fn times(self, times: u16, at: &str) -> Result<Guests, OtaError> {
        let too_many = || OtaError::invalid(format!("{at}: too many guests"));
        let mut child_ages = Vec::new();
        if self.child_ages.len() * usize::from(times) <= MAX_AGES {
            for _ in 0..times {
                child_ages.extend_from_slice(&self.child_ages);
            }
        }
        Ok(Guests {
            adults: self.adults.checked_mul(times).ok_or_else(too_many)?,
            children: self.children.checked_mul(times).ok_or_else(too_many)?,
            unaged: self.unaged || (self.children > 0 && child_ages.is_empty()),
            child_ages,
        }
        .done())
    }
}

/// Adults and children of a `GuestCounts` element (each `GuestCount` needs its `Count`) for
/// `rooms` rooms: everyone in them, the counts taken `rooms` times when `@IsPerRoom` says
/// they are each room's.
pub(crate) fn guest_counts(el: &Element, rooms: u16, at: &str) -> Result<Guests, OtaError> {
    let mut guests = Guests::default();
    for (i, guest_count) in el.children("GuestCount").enumerate() {
        let here = format!("{at}/GuestCount[{}]", i + 1);
        let n = count(required(guest_count, "Count", &here)?, &format!("{here}/@Count"))?;
        guests.add(guest_count, n, at)?;
    }
    let guests = guests.done();
    match el.attr("IsPerRoom").map(|v| boolean(v, &format!("{at}/@IsPerRoom"))).transpose()? {
        Some(true) => guests.times(rooms, at),
        _ => Ok(guests),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date as d;

    #[test]
    fn dates_are_read_with_or_without_a_time() {
        assert_eq!(date("2010-08-30", "x"), Ok(d(2010, 8, 30)));
        assert_eq!(date("2010-08-30T14:00:00-05:00", "x"), Ok(d(2010, 8, 30)));
        assert_eq!(date("2010-08-30Z", "x"), Ok(d(2010, 8, 30)));
        for bad in ["2010-8-30", "2010-02-30", "30/08/2010", "2010-08-30x", "", "2010-08-3", "２０１０-08-30"] {
            assert_eq!(date(bad, "x").unwrap_err().code, err::INVALID_DATE, "{bad}");
        }
    }

    #[test]
    fn durations_count_nights() {
        assert_eq!(nights("P3N"), Some(3));
        assert_eq!(nights("P12D"), Some(12));
        assert_eq!(nights("PT3H"), None);
        assert_eq!(nights("P-3N"), None);
        assert_eq!(nights("PN"), None);
    }
}
