//! ISO 20022 bank-to-customer statements (camt.053.001.02 to camt.053.001.08).
//!
//! [`parse`] reads the statements of one document. Every version has its own namespace
//! URI, so elements are matched by local name; the few shapes that changed between versions
//! are read both ways (`Sts` is text up to version 7 and `Sts/Cd` in version 8; the
//! debtor's name is `Dbtr/Nm` up to version 7 and `Dbtr/Pty/Nm` in version 8). Real bank
//! files often break the schema's element order (see the corpus notes), so nothing here
//! depends on order.
//!
//! Lines. An entry (`Ntry`) with no or one transaction detail (`NtryDtls/TxDtls`) is one
//! line with the entry's amount and direction, and the detail's references and debtor. An
//! entry with several details (a batch) is one line per detail, each with the detail's own
//! amount (`TxDtls/Amt`, else `TxDtls/AmtDtls/TxAmt/Amt` as version 2 has it) and
//! direction; a detail without its own amount shows the entry's amount and is marked as a
//! problem, since the lines of the batch would then add up to more than the entry.
//!
//! What fails and what is marked. Bytes that are not well-formed XML, or a document that is
//! not a camt.053 (`Document/BkToCstmrStmt`), fail with [`Camt053Error`]. A line the bank
//! sent is never dropped: what cannot be trusted is kept and described in
//! [`StatementLine::problem`]:
//! - an amount with more decimals than its currency's minor unit (`18.150` EUR) is fine
//!   when the extra digits are zeros; a non-zero extra digit (`18.155` EUR) keeps the line
//!   with the amount *truncated toward zero* (18.15) and a problem. Truncating never invents
//!   money and never rounds in the bank's favour or ours; the problem text carries the
//!   bank's exact figure for whoever reviews it;
//! - an unknown currency code, or an amount that is missing or not a number, leaves
//!   `amount` empty with a problem;
//! - a missing or unknown `CdtDbtInd`, `RvslInd` or date is a problem too.

use crate::decimal::{self, DecimalError};
use crate::statement_line::StatementLine;
use crate::xml_tree::{self, Element};
use innkeep_core::{Currency, Money};
use jiff::civil::Date;

/// One account statement (`Stmt`) of a camt.053 document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The bank's statement id (`Stmt/Id`).
    pub id: String,
    /// The account's IBAN (`Acct/Id/IBAN`); `None` for accounts identified otherwise.
    pub account_iban: Option<String>,
    /// The account's currency (`Acct/Ccy`), when given and known to Innkeep.
    pub currency: Option<Currency>,
    /// The statement's lines in document order: one per entry, or one per transaction
    /// detail of an entry that has several (see the module documentation).
    pub lines: Vec<StatementLine>,
}

/// Why a document could not be read as camt.053 statements.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Camt053Error {
    #[error("not well-formed XML: {0}")]
    Malformed(String),
    #[error("not a camt.053 statement: {0}")]
    NotCamt053(String),
    #[error("statement {number} has no Id")]
    MissingStatementId { number: usize },
}

/// Read every statement (`Stmt`) of a camt.053 document, in document order.
pub fn parse(xml: &[u8]) -> Result<Vec<Statement>, Camt053Error> {
    let root = xml_tree::parse(xml).map_err(|e| Camt053Error::Malformed(e.to_string()))?;
    if root.name != "Document" {
        return Err(Camt053Error::NotCamt053(format!("the root element is <{}>, not <Document>", root.name)));
    }
    let body = root.child("BkToCstmrStmt").ok_or_else(|| {
        let found = root.children.first().map_or("nothing".to_string(), |c| format!("<{}>", c.name));
        Camt053Error::NotCamt053(format!("<Document> holds {found}, not <BkToCstmrStmt>"))
    })?;
    body.children("Stmt").enumerate().map(|(i, stmt)| statement(stmt, i + 1)).collect()
}

fn statement(stmt: &Element, number: usize) -> Result<Statement, Camt053Error> {
    let id = stmt.text_at(&["Id"]).ok_or(Camt053Error::MissingStatementId { number })?;
    let mut lines = Vec::new();
    for entry in stmt.children("Ntry") {
        entry_lines(entry, &mut lines);
    }
    Ok(Statement {
        id: id.to_string(),
        account_iban: stmt.text_at(&["Acct", "Id", "IBAN"]).map(str::to_string),
        currency: stmt.text_at(&["Acct", "Ccy"]).and_then(|c| Currency::parse(c).ok()),
        lines,
    })
}

fn entry_lines(entry: &Element, out: &mut Vec<StatementLine>) {
    let details: Vec<&Element> = entry.children("NtryDtls").flat_map(|d| d.children("TxDtls")).collect();
    match details.as_slice() {
        [] => out.push(line(entry, None, false)),
        [only] => out.push(line(entry, Some(only), false)),
        several => out.extend(several.iter().map(|tx| line(entry, Some(tx), true))),
    }
}

/// The line for `entry`, or for one of its details; `split` when the entry is shared out
/// over several details, each of which then brings its own amount and direction.
fn line(entry: &Element, tx: Option<&Element>, split: bool) -> StatementLine {
    let mut problems = Vec::new();

    let own_amount = tx.filter(|_| split).and_then(|t| t.child("Amt").or_else(|| t.path(&["AmtDtls", "TxAmt", "Amt"])));
    if split && own_amount.is_none() {
        problems.push("a transaction of a batch has no amount of its own; the entry's amount is shown".to_string());
    }
    let amount = amount(own_amount.or_else(|| entry.child("Amt")), &mut problems);

    let own_direction = tx.filter(|_| split).and_then(|t| t.text_at(&["CdtDbtInd"]));
    let credit = match own_direction.or_else(|| entry.text_at(&["CdtDbtInd"])) {
        Some("CRDT") => true,
        Some("DBIT") => false,
        Some(other) => {
            problems.push(format!("credit/debit indicator {other:?} is neither CRDT nor DBIT"));
            false
        }
        None => {
            problems.push("no credit/debit indicator".to_string());
            false
        }
    };

    let reversal = match entry.text_at(&["RvslInd"]) {
        None | Some("false" | "0") => false,
        Some("true" | "1") => true,
        Some(other) => {
            problems.push(format!("reversal indicator {other:?} is not a boolean"));
            false
        }
    };

    let status =
        entry.child("Sts").and_then(|s| s.text_at(&["Cd"]).or_else(|| s.text_at(&["Prtry"])).or(s.trimmed_text()));

    StatementLine {
        amount,
        credit,
        booking_date: date(entry.child("BookgDt"), "booking date", &mut problems),
        value_date: date(entry.child("ValDt"), "value date", &mut problems),
        references: references(entry, tx),
        reversal,
        debtor_name: tx
            .and_then(|t| {
                t.text_at(&["RltdPties", "Dbtr", "Nm"]).or_else(|| t.text_at(&["RltdPties", "Dbtr", "Pty", "Nm"]))
            })
            .map(str::to_string),
        status: status.map(str::to_string),
        problem: (!problems.is_empty()).then(|| problems.join("; ")),
    }
}

/// An `Amt` element (`<Amt Ccy="EUR">18.150</Amt>`) as money; see the module
/// documentation for what is marked and how.
fn amount(el: Option<&Element>, problems: &mut Vec<String>) -> Option<Money> {
    let Some(el) = el else {
        problems.push("no amount".to_string());
        return None;
    };
    let text = el.trimmed_text().unwrap_or("");
    let code = el.attribute("Ccy").map(str::trim).unwrap_or("");
    let Ok(currency) = Currency::parse(code) else {
        problems.push(format!("unknown currency {code:?} (amount {text:?})"));
        return None;
    };
    let minor = match decimal::parse_minor(text, currency.exponent()) {
        Ok(minor) => minor,
        Err(DecimalError::Syntax) => {
            problems.push(format!("amount {text:?} {code} is not a decimal number"));
            return None;
        }
        Err(DecimalError::Overflow) => {
            problems.push(format!("amount {text} {code} is out of range"));
            return None;
        }
    };
    let money = Money::new(minor.magnitude, currency);
    if minor.negative {
        problems.push(format!("amount {text} {code} is negative; its direction should be in CdtDbtInd"));
    }
    if minor.truncated {
        problems.push(format!("amount {text} has more precision than {code} allows; truncated toward zero to {money}"));
    }
    Some(money)
}

/// A date choice (`BookgDt`, `ValDt`): `Dt`, or the date as written in `DtTm`.
fn date(el: Option<&Element>, what: &str, problems: &mut Vec<String>) -> Option<Date> {
    let text = el.and_then(|el| el.text_at(&["Dt"]).or_else(|| el.text_at(&["DtTm"])))?;
    // `Dt` may carry a zone (`2014-12-31+01:00`) and `DtTm` a time: the day is the first
    // ten characters either way, in the bank's own zone.
    match text.get(..10).unwrap_or(text).parse::<Date>() {
        Ok(day) => Some(day),
        Err(_) => {
            problems.push(format!("{what} {text:?} is not a date"));
            None
        }
    }
}

/// `NtryRef`, then the detail's `Refs/EndToEndId` (unless `NOTPROVIDED`) and
/// `Refs/AcctSvcrRef`, then its `RmtInf/Ustrd` and `RmtInf/Strd/CdtrRefInf/Ref`.
fn references(entry: &Element, tx: Option<&Element>) -> Vec<String> {
    let mut found: Vec<&str> = entry.text_at(&["NtryRef"]).into_iter().collect();
    if let Some(tx) = tx {
        for refs in tx.children("Refs") {
            for r in &refs.children {
                match (r.name.as_str(), r.trimmed_text()) {
                    ("EndToEndId", Some("NOTPROVIDED")) => {}
                    ("EndToEndId" | "AcctSvcrRef", Some(text)) => found.push(text),
                    _ => {}
                }
            }
        }
        for remittance in tx.children("RmtInf") {
            for part in &remittance.children {
                match part.name.as_str() {
                    "Ustrd" => found.extend(part.trimmed_text()),
                    "Strd" => found.extend(part.children("CdtrRefInf").filter_map(|c| c.text_at(&["Ref"]))),
                    _ => {}
                }
            }
        }
    }
    let mut unique: Vec<String> = Vec::with_capacity(found.len());
    for text in found {
        if !unique.iter().any(|u| u == text) {
            unique.push(text.to_string());
        }
    }
    unique
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(entries: &str) -> Vec<u8> {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
<GrpHdr><MsgId>M1</MsgId></GrpHdr>
<Stmt><Id>S1</Id><Acct><Id><IBAN>DE14740618130000033626</IBAN></Id><Ccy>EUR</Ccy></Acct>{entries}</Stmt>
</BkToCstmrStmt></Document>"#
        )
        .into_bytes()
    }

    fn only_line(entries: &str) -> StatementLine {
        let mut statements = parse(&doc(entries)).unwrap();
        assert_eq!(statements.len(), 1);
        let mut lines = statements.remove(0).lines;
        assert_eq!(lines.len(), 1);
        lines.remove(0)
    }

    fn eur(minor: i64) -> Option<Money> {
        Some(Money::new(minor, Currency::parse("EUR").unwrap()))
    }

    #[test]
    fn extra_non_zero_decimals_truncate_toward_zero_and_mark_the_line() {
        let line = only_line(r#"<Ntry><Amt Ccy="EUR">18.159</Amt><CdtDbtInd>CRDT</CdtDbtInd></Ntry>"#);
        assert_eq!(line.amount, eur(1815));
        assert_eq!(
            line.problem.as_deref(),
            Some("amount 18.159 has more precision than EUR allows; truncated toward zero to 18.15 EUR")
        );
    }

    #[test]
    fn extra_zero_decimals_are_clean() {
        let line = only_line(r#"<Ntry><Amt Ccy="EUR">18.150</Amt><CdtDbtInd>DBIT</CdtDbtInd></Ntry>"#);
        assert_eq!((line.amount, line.credit, line.problem), (eur(1815), false, None));
    }

    #[test]
    fn an_unknown_currency_keeps_the_line_without_an_amount() {
        let line = only_line(r#"<Ntry><Amt Ccy="XTS">5.00</Amt><CdtDbtInd>CRDT</CdtDbtInd></Ntry>"#);
        assert_eq!(line.amount, None);
        assert_eq!(line.problem.as_deref(), Some(r#"unknown currency "XTS" (amount "5.00")"#));
    }

    #[test]
    fn unreadable_fields_are_problems_not_failures() {
        let line = only_line(
            r#"<Ntry><Amt Ccy="EUR">1,5</Amt><CdtDbtInd>X</CdtDbtInd><RvslInd>maybe</RvslInd>
               <BookgDt><Dt>31.12.2014</Dt></BookgDt></Ntry>"#,
        );
        assert_eq!(line.amount, None);
        let problem = line.problem.unwrap();
        for part in ["not a decimal number", "neither CRDT nor DBIT", "not a boolean", "booking date"] {
            assert!(problem.contains(part), "{problem}");
        }
    }

    #[test]
    fn version_8_status_code_and_date_time_are_read() {
        let line = only_line(
            r#"<Ntry><Amt Ccy="EUR">1</Amt><CdtDbtInd>CRDT</CdtDbtInd><RvslInd>true</RvslInd>
               <Sts><Cd>PDNG</Cd></Sts><BookgDt><DtTm>2014-12-31T23:15:00-05:00</DtTm></BookgDt></Ntry>"#,
        );
        assert_eq!(line.status.as_deref(), Some("PDNG"));
        assert_eq!(line.booking_date, Some(jiff::civil::date(2014, 12, 31)));
        assert!(line.reversal);
        assert_eq!(line.problem, None);
    }

    #[test]
    fn a_batch_detail_without_its_own_amount_shows_the_entry_amount_and_is_marked() {
        let statements = parse(&doc(r#"<Ntry><Amt Ccy="EUR">6.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><NtryDtls>
               <TxDtls><Amt Ccy="EUR">3.50</Amt></TxDtls><TxDtls><Refs><EndToEndId>E2</EndToEndId></Refs></TxDtls>
               </NtryDtls></Ntry>"#))
        .unwrap();
        let lines = &statements[0].lines;
        assert_eq!((lines[0].amount, lines[0].problem.as_deref()), (eur(350), None));
        assert_eq!(lines[1].amount, eur(600));
        assert!(lines[1].problem.as_deref().unwrap_or("").contains("no amount of its own"));
    }

    #[test]
    fn references_skip_notprovided_and_duplicates() {
        let line = only_line(
            r#"<Ntry><NtryRef>R1</NtryRef><Amt Ccy="EUR">1</Amt><CdtDbtInd>CRDT</CdtDbtInd><NtryDtls><TxDtls>
               <Refs><EndToEndId>NOTPROVIDED</EndToEndId><AcctSvcrRef>R1</AcctSvcrRef></Refs>
               <RmtInf><Ustrd> a </Ustrd><Ustrd>b</Ustrd><Strd><CdtrRefInf><Ref>RF18539007547034</Ref></CdtrRefInf></Strd></RmtInf>
               </TxDtls></NtryDtls></Ntry>"#,
        );
        assert_eq!(line.references, ["R1", "a", "b", "RF18539007547034"]);
    }

    #[test]
    fn other_documents_are_refused() {
        assert!(matches!(parse(b"<Document><BkToCstmrDbtCdtNtfctn/></Document>"), Err(Camt053Error::NotCamt053(_))));
        assert!(matches!(parse(b"<Statement/>"), Err(Camt053Error::NotCamt053(_))));
        assert!(matches!(parse(b"<Document><BkToCstmrStmt>"), Err(Camt053Error::Malformed(_))));
        assert!(matches!(parse(b"{\"json\": true}"), Err(Camt053Error::Malformed(_))));
        assert_eq!(
            parse(b"<Document><BkToCstmrStmt><Stmt><Ntry/></Stmt></BkToCstmrStmt></Document>"),
            Err(Camt053Error::MissingStatementId { number: 1 })
        );
    }
}
