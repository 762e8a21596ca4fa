//! A host's rates as CSV, read back: the `rates.csv` Innkeep writes (a header row, then a
//! night of a room type per row), edited in a spreadsheet and uploaded again.
//!
//! Columns, by their header names in any order: `room_type_id`, `night` (`YYYY-MM-DD`), and
//! any of `price_minor` (whole minor units, e.g. cents), `closed` (`true`/`false`),
//! `min_stay` (nights) and `units`. An empty cell leaves that value as it is; a row must
//! set at least one. Every row is checked before any is taken: the answer is the rows, or
//! every problem found (at most [`MAX_PROBLEMS`]), each with its line.

use innkeep_core::{NightOverride, RoomTypeId};
use jiff::civil::Date;

/// The most rows one file holds, and the most problems reported.
pub const MAX_ROWS: usize = 100_000;
pub const MAX_PROBLEMS: usize = 50;

/// One row: a night of a room type and what it sets there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLine {
    pub room_type_id: RoomTypeId,
    pub night: Date,
    /// What the row sets (at least one value).
    pub change: NightOverride,
}

/// Why a line cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The line of the file (the header is line 1).
    pub line: u64,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

const COLUMNS: [&str; 6] = ["room_type_id", "night", "price_minor", "closed", "min_stay", "units"];

/// The rows of a rates CSV, or every problem found.
pub fn read_rates(bytes: &[u8]) -> Result<Vec<RateLine>, Vec<Problem>> {
    let problem = |line: u64, message: String| vec![Problem { line, message }];
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(bytes);
    let headers = reader.headers().map_err(|e| problem(1, format!("the header row cannot be read: {e}")))?.clone();
    let mut at = [None; 6];
    for (i, name) in headers.iter().enumerate() {
        let name = name.trim().trim_start_matches('\u{feff}');
        match COLUMNS.iter().position(|c| *c == name) {
            Some(c) if at[c].is_none() => at[c] = Some(i),
            Some(_) => return Err(problem(1, format!("the column {name:?} appears twice"))),
            None => return Err(problem(1, format!("unknown column {name:?}: the columns are {}", COLUMNS.join(", ")))),
        }
    }
    let (Some(room_col), Some(night_col)) = (at[0], at[1]) else {
        return Err(problem(1, "the columns room_type_id and night are needed".to_string()));
    };
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i as u64 + 2;
        if rows.len() >= MAX_ROWS {
            problems.push(Problem { line, message: format!("more than {MAX_ROWS} rows") });
            break;
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(Problem { line, message: format!("the row cannot be read: {e}") });
                if problems.len() >= MAX_PROBLEMS {
                    break;
                }
                continue;
            }
        };
        let cell = |col: Option<usize>| col.and_then(|c| record.get(c)).map(str::trim).filter(|v| !v.is_empty());
        match row(cell(Some(room_col)), cell(Some(night_col)), cell(at[2]), cell(at[3]), cell(at[4]), cell(at[5])) {
            Ok(r) => rows.push(r),
            Err(message) => problems.push(Problem { line, message }),
        }
        if problems.len() >= MAX_PROBLEMS {
            break;
        }
    }
    if problems.is_empty() { Ok(rows) } else { Err(problems) }
}

fn row(
    room: Option<&str>,
    night: Option<&str>,
    price: Option<&str>,
    closed: Option<&str>,
    min_stay: Option<&str>,
    units: Option<&str>,
) -> Result<RateLine, String> {
    let room = room.ok_or("room_type_id is empty")?;
    let room_type_id: RoomTypeId = room.parse().map_err(|_| format!("room_type_id {room:?} is not a room type id"))?;
    let night = night.ok_or("night is empty")?;
    let night: Date = night.parse().map_err(|_| format!("night {night:?} is not a date (YYYY-MM-DD)"))?;
    let number = |v: Option<&str>, name: &str| -> Result<Option<i64>, String> {
        v.map(|v| v.parse::<i64>().map_err(|_| format!("{name} {v:?} is not a whole number"))).transpose()
    };
    let price_minor = number(price, "price_minor")?;
    let closed = closed
        .map(|v| match v.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(true),
            "false" | "no" | "0" => Ok(false),
            _ => Err(format!("closed {v:?} is true or false")),
        })
        .transpose()?;
    let min_stay = number(min_stay, "min_stay")?
        .map(|v| u16::try_from(v).map_err(|_| format!("min_stay {v} is out of range")))
        .transpose()?;
    let units = number(units, "units")?
        .map(|v| u32::try_from(v).map_err(|_| format!("units {v} is out of range")))
        .transpose()?;
    if price_minor.is_none() && closed.is_none() && min_stay.is_none() && units.is_none() {
        return Err("the row sets nothing: fill at least one of price_minor, closed, min_stay, units".to_string());
    }
    Ok(RateLine { room_type_id, night, change: NightOverride { price_minor, closed, min_stay, units } })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const RT: &str = "01a2e024-3900-7fd0-8ac1-36517f89c1e9";

    #[test]
    fn the_written_rows_read_back_in_any_column_order() {
        let text = format!(
            "night,room_type_id,price_minor,closed,min_stay,units\n2027-03-01,{RT},13500,,2,\n2027-03-10,{RT},,true,,\n"
        );
        let rows = read_rates(text.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        let (a, b) = (rows[0].change, rows[1].change);
        assert_eq!((a.price_minor, a.min_stay, a.closed), (Some(13500), Some(2), None));
        assert_eq!((b.closed, b.price_minor), (Some(true), None));
    }

    #[test]
    fn every_problem_is_named_with_its_line() {
        let text = format!(
            "room_type_id,night,price_minor\n{RT},2027-02-30,100\n{RT},2027-03-01,ten\n{RT},2027-03-02,\n,2027-03-03,5\nrt,2027-03-03,5\n"
        );
        let problems = read_rates(text.as_bytes()).unwrap_err();
        let lines: Vec<u64> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [2, 3, 4, 5, 6], "{problems:?}");
        assert!(problems[0].message.contains("not a date"));
        assert!(problems[1].message.contains("not a whole number"));
        assert!(problems[2].message.contains("sets nothing"));
        assert!(problems[4].message.contains("not a room type id"));
    }

    #[test]
    fn unknown_or_missing_columns_are_refused_at_the_header() {
        assert_eq!(read_rates(b"room_type_id,night,price,closed\n").unwrap_err()[0].line, 1);
        assert!(read_rates(b"room_type_id,price_minor\n").unwrap_err()[0].message.contains("needed"));
        assert!(read_rates(b"night,night,room_type_id\n").unwrap_err()[0].message.contains("twice"));
    }

    #[test]
    fn a_byte_order_mark_and_spaces_are_taken() {
        let text = format!("\u{feff}room_type_id , night,units\n{RT}, 2027-03-01 , 3\n");
        assert_eq!(read_rates(text.as_bytes()).unwrap()[0].change.units, Some(3));
    }
}
