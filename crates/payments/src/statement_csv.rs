//! Bank statements as a simple CSV, for banks that offer no camt.053:
//!
//! ```text
//! date,amount,currency,reference
//! 2026-03-01,120.50,EUR,RF18539007547034
//! 2026-03-02,-30.00,EUR,"Fee, March"
//! ```
//!
//! The header row is optional (a first row whose first field is `date` is taken as one).
//! Fields are comma-separated with CSV quoting (`"a, b"`, `"say ""hi"""`) and trimmed. The
//! date is `YYYY-MM-DD`; the amount uses `.` as the decimal point, no thousands separators,
//! and a leading `-` for money going out; the currency is an ISO 4217 code (any case). Blank
//! lines are skipped.
//!
//! Unlike camt.053, this format is ours, so it is strict: a row that does not fit, including
//! an amount with a non-zero digit beyond its currency's minor unit, is not imported but
//! reported as a [`RowError`] with its line number, and the rows after it are still read.
//! The lines returned never carry a [`StatementLine::problem`].

use crate::decimal::{self, DecimalError};
use crate::statement_line::StatementLine;
use innkeep_core::{Currency, Money};
use jiff::civil::Date;

/// A row that could not be imported, with its 1-based line number in the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {kind}")]
pub struct RowError {
    pub line: u64,
    pub kind: RowErrorKind,
}

/// What was wrong with a row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowErrorKind {
    #[error("expected 4 fields (date,amount,currency,reference), found {0}")]
    FieldCount(usize),
    #[error("date {0:?} is not a YYYY-MM-DD date")]
    Date(String),
    #[error("amount {0:?} is not a decimal number such as 120.50 or -30.00")]
    Amount(String),
    #[error("amount {0:?} is out of range")]
    AmountOutOfRange(String),
    #[error("amount {amount} has more precision than {currency} allows")]
    Precision { amount: String, currency: Currency },
    #[error("unknown currency {0:?}")]
    Currency(String),
    #[error("not UTF-8 text")]
    Encoding,
    #[error("unreadable CSV: {0}")]
    Csv(String),
}

/// Read every row of a statement CSV: the lines that could be imported, in file order, and
/// the rows that could not.
pub fn parse(csv_bytes: &[u8]) -> (Vec<StatementLine>, Vec<RowError>) {
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(csv::Trim::All).from_reader(csv_bytes);
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    let mut counter = LineCounter { bytes: csv_bytes, offset: 0, line: 1 };
    for (index, record) in reader.byte_records().enumerate() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = counter.line_at(e.position());
                errors.push(RowError { line, kind: RowErrorKind::Csv(e.to_string()) });
                continue;
            }
        };
        let line = counter.line_at(record.position());
        if record.iter().all(<[u8]>::is_empty) {
            continue;
        }
        if index == 0 && record.get(0).is_some_and(|f| f.eq_ignore_ascii_case(b"date")) {
            continue;
        }
        match row(&record) {
            Ok(statement_line) => lines.push(statement_line),
            Err(kind) => errors.push(RowError { line, kind }),
        }
    }
    (lines, errors)
}

/// Line numbers as an editor shows them (CR, LF and CRLF each end a line, also inside
/// quotes). The csv crate's own `Position::line` is wrong after blank lines and CRLF
/// (rust-csv issues #208 and #395), and its byte offset can point at the line ends before
/// a record, so those are skipped here first.
struct LineCounter<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: u64,
}

impl LineCounter<'_> {
    /// The line on which the record reported at `position` starts; positions come in order.
    fn line_at(&mut self, position: Option<&csv::Position>) -> u64 {
        let reported = position.and_then(|p| usize::try_from(p.byte()).ok()).unwrap_or(self.offset);
        let mut start = reported.max(self.offset).min(self.bytes.len());
        while matches!(self.bytes.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        let skipped = &self.bytes[self.offset..start];
        let ends = skipped
            .iter()
            .enumerate()
            .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && skipped.get(i + 1) != Some(&b'\n')));
        self.line += ends.count() as u64;
        self.offset = start;
        self.line
    }
}

fn row(record: &csv::ByteRecord) -> Result<StatementLine, RowErrorKind> {
    let fields: Vec<&str> =
        record.iter().map(std::str::from_utf8).collect::<Result<_, _>>().map_err(|_| RowErrorKind::Encoding)?;
    let [date, amount, currency, reference] = fields[..] else {
        return Err(RowErrorKind::FieldCount(record.len()));
    };
    let booking_date = parse_date(date).ok_or_else(|| RowErrorKind::Date(date.to_string()))?;
    let currency =
        Currency::parse(&currency.to_ascii_uppercase()).map_err(|_| RowErrorKind::Currency(currency.to_string()))?;
    let minor = decimal::parse_minor(amount, currency.exponent()).map_err(|e| match e {
        DecimalError::Syntax => RowErrorKind::Amount(amount.to_string()),
        DecimalError::Overflow => RowErrorKind::AmountOutOfRange(amount.to_string()),
    })?;
    if minor.truncated {
        return Err(RowErrorKind::Precision { amount: amount.to_string(), currency });
    }
    Ok(StatementLine {
        amount: Some(Money::new(minor.magnitude, currency)),
        credit: !minor.negative,
        booking_date: Some(booking_date),
        value_date: None,
        references: if reference.is_empty() { Vec::new() } else { vec![reference.to_string()] },
        reversal: false,
        debtor_name: None,
        status: None,
        problem: None,
    })
}

/// Exactly `YYYY-MM-DD` (jiff alone would also take other ISO 8601 shapes).
fn parse_date(text: &str) -> Option<Date> {
    let b = text.as_bytes();
    let shape_ok = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() });
    shape_ok.then(|| text.parse::<Date>().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(minor: i64, code: &str) -> Option<Money> {
        Some(Money::new(minor, Currency::parse(code).unwrap()))
    }

    #[test]
    fn rows_with_and_without_header_become_lines() {
        let with_header =
            "date,amount,currency,reference\n2026-03-01,120.50,EUR,RF18539007547034\n2026-03-02,-30.00,eur,\n";
        let without_header = "2026-03-01,120.50,EUR,RF18539007547034\r\n2026-03-02,-30.00,eur,\r\n";
        for input in [with_header, without_header] {
            let (lines, errors) = parse(input.as_bytes());
            assert_eq!(errors, []);
            assert_eq!(lines.len(), 2);
            assert_eq!(lines[0].amount, money(12050, "EUR"));
            assert!(lines[0].credit);
            assert_eq!(lines[0].booking_date, Some(jiff::civil::date(2026, 3, 1)));
            assert_eq!(lines[0].references, ["RF18539007547034"]);
            assert_eq!(lines[1].amount, money(3000, "EUR"));
            assert!(!lines[1].credit);
            assert!(lines[1].references.is_empty());
        }
    }

    #[test]
    fn quoted_fields_keep_commas_quotes_and_newlines() {
        let input =
            "2026-03-02,-30.00,EUR,\"Fee, March \"\"B\"\"\"\n2026-03-03,5,JPY,\"two\nlines\"\n2026-03-04,1,EUR,x\n";
        let (lines, errors) = parse(input.as_bytes());
        assert_eq!(errors, []);
        assert_eq!(lines[0].references, ["Fee, March \"B\""]);
        assert_eq!(lines[1].references, ["two\nlines"]);
        assert_eq!(lines[1].amount, money(5, "JPY"));
        assert_eq!(lines.len(), 3);
    }

    #[test]
    fn bad_rows_are_reported_with_their_line_number_and_the_rest_is_read() {
        let input = "date,amount,currency,reference\n\
                     2026-03-01,120.50,EUR,ok\n\
                     01.03.2026,1.00,EUR,a\n\
                     2026-03-01,1.005,EUR,b\n\
                     2026-03-01,1.000,EUR,trailing zeros are fine\n\
                     2026-03-01,1,XXX,c\n\
                     2026-03-01,\"1,50\",EUR,d\n\
                     2026-03-01,1.00,EUR\n\
                     \n\
                     2026-02-30,1.00,EUR,e\n\
                     2026-03-01,99999999999999999999,EUR,f\n\
                     2026-03-01,-0.5,EUR,last\n";
        let (lines, errors) = parse(input.as_bytes());
        let eur = Currency::parse("EUR").unwrap();
        assert_eq!(
            errors,
            [
                RowError { line: 3, kind: RowErrorKind::Date("01.03.2026".into()) },
                RowError { line: 4, kind: RowErrorKind::Precision { amount: "1.005".into(), currency: eur } },
                RowError { line: 6, kind: RowErrorKind::Currency("XXX".into()) },
                RowError { line: 7, kind: RowErrorKind::Amount("1,50".into()) },
                RowError { line: 8, kind: RowErrorKind::FieldCount(3) },
                RowError { line: 10, kind: RowErrorKind::Date("2026-02-30".into()) },
                RowError { line: 11, kind: RowErrorKind::AmountOutOfRange("99999999999999999999".into()) },
            ]
        );
        assert_eq!(errors[0].to_string(), "line 3: date \"01.03.2026\" is not a YYYY-MM-DD date");
        let refs: Vec<&str> = lines.iter().map(|l| l.references[0].as_str()).collect();
        assert_eq!(refs, ["ok", "trailing zeros are fine", "last"]);
        assert_eq!((lines[2].amount, lines[2].credit), (money(50, "EUR"), false));
    }

    #[test]
    fn line_numbers_count_blank_lines_crlf_cr_and_quoted_newlines() {
        let bad = |input: &str| -> Vec<u64> { parse(input.as_bytes()).1.iter().map(|e| e.line).collect() };
        assert_eq!(bad("x\n\n\nx\n"), [1, 4]);
        assert_eq!(bad("\r\n\r\nx\r\n\r\nx\r\nx"), [3, 5, 6]);
        assert_eq!(bad("x\r\rx\r"), [1, 3]);
        assert_eq!(bad("2026-03-01,1,EUR,\"a\nb\nc\"\n\nx\n"), [5]);
        assert_eq!(bad("date,amount,currency,reference\r\n2026-03-01,1,EUR,a\r\n\r\n2026-03-01,1,EUR\r\n"), [4]);
    }

    #[test]
    fn invalid_utf8_and_unclosed_quotes_do_not_stop_the_import() {
        let (lines, errors) = parse(b"2026-03-01,1.00,EUR,\xFF\n2026-03-01,2.00,EUR,ok\n2026-03-01,3.00,EUR,\"open");
        assert_eq!(errors, [RowError { line: 1, kind: RowErrorKind::Encoding }]);
        // csv reads an unclosed quote to the end of input as one field.
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1].references, ["open"]);
    }

    #[test]
    fn a_utf8_byte_order_mark_does_not_hide_the_header() {
        let (lines, errors) = parse("\u{feff}date,amount,currency,reference\n2026-03-01,1.00,EUR,x\n".as_bytes());
        assert_eq!((lines.len(), errors), (1, vec![]));
    }
}
