//! Content lines (RFC 5545 3.1) into the lines of each `VEVENT`.
//!
//! Unfolding and the reading of one line (name, parameters, value, TEXT unescaping) are
//! the `icalendar` crate's parser. The nesting of components is followed here, line by
//! line and without recursion, so that a bad line costs only itself and no input nests
//! deep enough to matter.

use super::FeedError;
use icalendar::parser::{Property as ParsedLine, unfold};
use std::borrow::Cow;

/// One content line of an event.
#[derive(Debug, Clone)]
pub(super) struct Line {
    /// In upper case.
    pub name: String,
    /// Names in upper case; values as written, without their quotes.
    pub params: Vec<(String, String)>,
    /// TEXT values (SUMMARY, UID, ...) unescaped.
    pub value: String,
}

impl Line {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }
}

/// The lines of each `VEVENT` directly inside a `VCALENDAR`, in feed order. Other
/// components (`VTIMEZONE`, `VALARM`, `VTODO`) are passed over.
pub(super) fn events(text: &str) -> Result<Vec<Vec<Line>>, FeedError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let unfolded = unfold(text);
    let lines = || unfolded.split('\n').map(|line| line.strip_suffix('\r').unwrap_or(line));
    if !lines().any(|line| matches!(boundary(line), Some((true, name)) if name == "VCALENDAR")) {
        return Err(FeedError::NotICalendar);
    }

    let mut open: Vec<String> = Vec::new();
    let mut events = Vec::new();
    let mut event: Option<Vec<Line>> = None;
    let mut number = 0;
    for line in lines() {
        number += 1;
        if line.trim().is_empty() {
            continue;
        }
        match boundary(line) {
            Some((true, name)) => {
                if name.is_empty() {
                    return Err(FeedError::Malformed { line: number, reason: "BEGIN without a component name".into() });
                }
                if name == "VEVENT" && open.len() == 1 && open.first().is_some_and(|c| c == "VCALENDAR") {
                    event = Some(Vec::new());
                }
                open.push(name);
            }
            Some((false, name)) => match open.pop() {
                Some(begun) if begun == name => {
                    if name == "VEVENT" && open.len() == 1 {
                        events.extend(event.take());
                    }
                }
                Some(begun) => {
                    let reason =
                        format!("END:{} where BEGIN:{} is open", super::excerpt(&name), super::excerpt(&begun));
                    return Err(FeedError::Malformed { line: number, reason });
                }
                None => {
                    let reason = format!("END:{} without its BEGIN", super::excerpt(&name));
                    return Err(FeedError::Malformed { line: number, reason });
                }
            },
            None => {
                if let (2, Some(lines)) = (open.len(), event.as_mut()) {
                    lines.extend(read_line(line));
                }
            }
        }
    }
    if let Some(begun) = open.last() {
        let reason = format!("BEGIN:{} is never ended: the feed is cut short", super::excerpt(begun));
        return Err(FeedError::Malformed { line: number, reason });
    }
    Ok(events)
}

/// `Some((true, NAME))` for a `BEGIN:NAME` line, `Some((false, NAME))` for `END:NAME`
/// (the name in upper case).
fn boundary(line: &str) -> Option<(bool, String)> {
    let (name, rest) = split_name(line);
    let begin = if name.eq_ignore_ascii_case("BEGIN") {
        true
    } else if name.eq_ignore_ascii_case("END") {
        false
    } else {
        return None;
    };
    let component = rest.split_once(':').map(|(_, value)| value).unwrap_or("");
    Some((begin, component.trim().to_ascii_uppercase()))
}

/// A line's name (before the first `;` or `:`, trimmed) and the rest.
fn split_name(line: &str) -> (&str, &str) {
    let at = line.find([';', ':']).unwrap_or(line.len());
    let (name, rest) = line.split_at(at);
    (name.trim(), rest)
}

/// One property line, or `None` when even the `icalendar` parser makes nothing of it.
fn read_line(line: &str) -> Option<Line> {
    let line = move_misplaced_quote(line);
    // The parser unescapes TEXT values only under upper-case names.
    let (name, _) = split_name(&line);
    let line = if name.bytes().any(|b| b.is_ascii_lowercase()) {
        Cow::Owned(line.replacen(name, &name.to_ascii_uppercase(), 1))
    } else {
        line
    };
    let parsed = ParsedLine::try_from(line.as_ref()).ok()?;
    Some(Line {
        name: parsed.name.as_str().to_ascii_uppercase(),
        params: parsed
            .params
            .iter()
            .map(|p| {
                (p.key.as_str().to_ascii_uppercase(), p.val.as_ref().map(|v| v.as_str().to_owned()).unwrap_or_default())
            })
            .collect(),
        value: parsed.val.as_str().to_owned(),
    })
}

/// Exchange writes `DTSTART;TZID="W. Europe Standard Time:20200609T090000"`: the closing
/// quote after the value instead of before the colon, so the line has no value. When a
/// line has no colon outside quotes and its last quoted parameter holds one, the quote is
/// moved back before that colon.
fn move_misplaced_quote(line: &str) -> Cow<'_, str> {
    if !line.ends_with('"') {
        return Cow::Borrowed(line);
    }
    let mut quoted = false;
    let mut opened = 0;
    let mut colon = None;
    for (i, c) in line.char_indices() {
        match c {
            '"' => {
                quoted = !quoted;
                if quoted {
                    opened = i;
                    colon = None;
                }
            }
            ':' if !quoted => return Cow::Borrowed(line),
            ':' => colon = Some(i),
            _ => {}
        }
    }
    match (colon, line.get(..line.len() - 1)) {
        (Some(colon), Some(without_quote)) if colon > opened => {
            match (without_quote.get(..colon), without_quote.get(colon + 1..)) {
                (Some(head), Some(value)) => Cow::Owned(format!("{head}\":{value}")),
                _ => Cow::Borrowed(line),
            }
        }
        _ => Cow::Borrowed(line),
    }
}
