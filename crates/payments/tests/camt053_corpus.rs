//! camt.053 statements from real banks and libraries (tests/corpus/camt053, from the shared corpus).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{corpus_dir, corpus_file, corpus_xml_files};
use innkeep_core::{Currency, Money};
use innkeep_payments::camt053::{self, Statement};
use jiff::civil::date;

fn statements(name: &str) -> Vec<Statement> {
    camt053::parse(&corpus_file(&format!("camt053/{name}"))).unwrap()
}

fn money(minor: i64, code: &str) -> Option<Money> {
    Some(Money::new(minor, Currency::parse(code).unwrap()))
}

#[test]
fn every_corpus_statement_parses_into_clean_lines() {
    let files = corpus_xml_files("camt053");
    assert_eq!(files.len(), 9, "SOURCES.md lists 9 camt.053 samples");
    for (name, bytes) in files {
        let statements = camt053::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!statements.is_empty(), "{name}");
        for line in statements.iter().flat_map(|s| &s.lines) {
            assert_eq!(line.problem, None, "{name}: {line:?}");
            assert!(line.amount.is_some() && line.booking_date.is_some(), "{name}: {line:?}");
        }
    }
}

#[test]
fn genkgo_minimal_v2_has_one_credit_with_a_creditor_reference() {
    let s = statements("genkgo-camt053.v2.minimal.xml");
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].id, "253EURNL26VAYB8060476890");
    assert_eq!(s[0].account_iban.as_deref(), Some("NL26VAYB8060476890"));
    assert_eq!(s[0].currency, Currency::parse("EUR").ok());
    assert_eq!(s[0].lines.len(), 1);
    let line = &s[0].lines[0];
    assert_eq!(line.amount, money(885, "EUR"));
    assert!(line.credit);
    assert!(!line.reversal);
    assert_eq!(line.booking_date, Some(date(2014, 12, 31)));
    assert_eq!(line.value_date, Some(date(2015, 1, 2)));
    assert_eq!(line.status.as_deref(), Some("BOOK"));
    assert_eq!(line.references, ["4654654654654654"]);
    assert_eq!(line.debtor_name.as_deref(), Some("NAME NAME"));
}

#[test]
fn genkgo_five_decimals_accepts_trailing_zeros() {
    let s = statements("genkgo-camt053.v2.five.decimals.xml");
    let line = &s[0].lines[0];
    // <Amt Ccy="EUR">8.850</Amt>
    assert_eq!((line.amount, line.problem.as_deref()), (money(885, "EUR"), None));
    assert_eq!(line.references, ["000000001", "Transaction Description"]);
}

#[test]
fn genkgo_multi_statement_gives_two_statements() {
    let s = statements("genkgo-camt053.v2.multi.statement.xml");
    let ids: Vec<&str> = s.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["253EURNL26VAYB8060476890", "254EURNL26VAYB8060476890"]);
    assert_eq!(s[1].lines.len(), 1);
    let line = &s[1].lines[0];
    assert_eq!(line.amount, money(700, "EUR"));
    assert!(!line.credit);
    assert_eq!(line.references, ["000000002", "Transaction Description 2"]);
}

#[test]
fn genkgo_v8_reads_status_code_date_time_and_party_name() {
    let s = statements("genkgo-camt053.v8.xml");
    // The account is identified by Othr/Id, not an IBAN, and gives no Ccy.
    assert_eq!((s[0].account_iban.as_deref(), s[0].currency), (None, None));
    let line = &s[0].lines[0];
    // One detail: the line has the entry's booked amount (the detail says 0 SEK).
    assert_eq!(line.amount, money(885, "EUR"));
    assert!(line.credit);
    assert_eq!(line.status.as_deref(), Some("BOOK"));
    assert_eq!(line.booking_date, Some(date(2014, 12, 31)));
    assert_eq!(line.references, ["MUELL/FINP/RA12345", "4654654654654654"]);
    assert_eq!(line.debtor_name.as_deref(), Some("NAME NAME"));
}

#[test]
fn viafintech_german_bank_splits_a_batch_and_skips_notprovided() {
    let s = statements("viafintech-valid_example.xml");
    assert_eq!(s[0].account_iban.as_deref(), Some("DE14740618130000033626"));
    let lines = &s[0].lines;
    assert_eq!(lines.len(), 5, "4 entries, the last a batch of 2");
    assert_eq!(lines[0].amount, money(200, "EUR"));
    assert!(!lines[0].credit);
    assert_eq!(
        lines[0].references,
        ["1234567890sdfghjk", "BankReference", "EndToEndReference", "TEST BERWEISUNG MITTELS BLZUND KONTONUMMER - DTA"]
    );
    assert_eq!(lines[0].debtor_name.as_deref(), Some("Wayne Enterprises"));
    assert_eq!(
        lines[1].references,
        ["Test+berweisung mit BIC und IBAN SEPA IBAN: DE58740618130100033626 BIC: GENODEF1PFK"]
    );
    assert!(lines[2].credit);
    // The 6.00 batch, shared out by each detail's AmtDtls/TxAmt.
    assert_eq!((lines[3].amount, lines[4].amount), (money(350, "EUR"), money(250, "EUR")));
    assert!(!lines[3].credit && !lines[4].credit);
    assert_eq!(lines[3].references, ["STZV-EtE27122013-11:02-1", "Sammelueberwseisung 2. Zahlung   TAN:283044"]);
}

#[test]
fn viafintech_dutch_bank_keeps_an_entry_without_details() {
    let s = statements("viafintech-valid_example_with_batch.xml");
    let lines = &s[0].lines;
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0].amount, money(475374, "EUR"));
    assert!(!lines[0].credit);
    assert_eq!(lines[0].references, ["032222222222222221000000001"]);
    assert_eq!(lines[1].amount, money(268800, "EUR"));
    assert!(lines[1].credit);
    assert_eq!(lines[1].references, ["032019164412145727005003002", "GBSXX21170607391766562", "TERUGGAAF"]);
    assert_eq!(lines[2].debtor_name.as_deref(), Some("Bedrijf BV"));
}

#[test]
fn viafintech_swiss_v8_reads_short_decimals_and_structured_references() {
    let s = statements("viafintech-valid_example_v8.xml");
    assert_eq!(s[0].id, "R30B4SA880HMZ9XA");
    assert_eq!(s[0].currency, Currency::parse("CHF").ok());
    let lines = &s[0].lines;
    assert_eq!(lines.len(), 3);
    // <Amt Ccy="CHF">474.4</Amt>
    assert_eq!(lines[0].amount, money(47440, "CHF"));
    assert_eq!(lines[0].references, ["9999181ZC0283079", "80000004540000100095", "INVOICE R77561"]);
    assert_eq!(lines[0].debtor_name.as_deref(), Some("Jon Doe"));
    assert_eq!(lines[1].references.last().map(String::as_str), Some("RF38000000000000000000552"));
    assert_eq!(lines[2].amount, money(2097, "EUR"));
    assert!(!lines[2].credit);
}

#[test]
fn viafintech_postfinance_v4_has_one_line_per_detail_and_a_reversal() {
    let s = statements("viafintech-valid_example_v4.xml");
    assert_eq!(s[0].account_iban.as_deref(), Some("CH0309000000250090342"));
    let lines = &s[0].lines;
    assert_eq!(lines.len(), 32, "13 entries with 32 transaction details");
    // The 1000.00 entry shared out over 10 details.
    let batch: Vec<&_> =
        lines.iter().filter(|l| l.references.first().map(String::as_str) == Some("010000004")).collect();
    assert_eq!(batch.len(), 10);
    let total: i64 = batch.iter().map(|l| l.amount.unwrap().minor).sum();
    assert_eq!(total, 100_000);
    assert_eq!(batch[0].debtor_name.as_deref(), Some("Hans Kaufmann"));
    assert!(batch[0].references.contains(&"CreditorReference".to_string()));
    let reversals: Vec<&_> = lines.iter().filter(|l| l.reversal).collect();
    assert_eq!(reversals.len(), 2);
    assert!(reversals.iter().any(|l| l.amount == money(600, "CHF")
        && l.references.contains(&"EndToEnd-2B6C-CHDDBB5".to_string())
        && l.booking_date == Some(date(2016, 4, 10))));
}

#[test]
fn a_truncated_statement_is_refused_never_half_imported() {
    for (name, bytes) in corpus_xml_files("camt053") {
        let end = bytes.windows(11).rposition(|w| w == b"</Document>").unwrap() + 10;
        let step = (end / 300).max(1);
        for cut in (0..end).step_by(step).chain([end - 1]) {
            assert!(camt053::parse(&bytes[..cut]).is_err(), "{name} cut at {cut} was accepted");
        }
        assert!(camt053::parse(&bytes[..end + 1]).is_ok(), "{name}");
    }
}

/// The corpus files that SOURCES.md says validate; the viafintech ones are real bank output
/// that breaks the schema (element order, a non-v4 UUID) and are read tolerantly above.
#[test]
fn schema_valid_corpus_files_validate_with_xmllint() {
    if std::process::Command::new("xmllint").arg("--version").output().is_err() {
        eprintln!("skipped: xmllint is not installed (Debian package libxml2-utils)");
        return;
    }
    let dir = corpus_dir().join("camt053");
    for (file, xsd) in [
        ("genkgo-camt053.v2.minimal.xml", "camt.053.001.02.xsd"),
        ("genkgo-camt053.v2.five.decimals.xml", "camt.053.001.02.xsd"),
        ("genkgo-camt053.v2.multi.statement.xml", "camt.053.001.02.xsd"),
        ("genkgo-camt053.v8.xml", "camt.053.001.08.xsd"),
    ] {
        let out = std::process::Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(dir.join("xsd").join(xsd))
            .arg(dir.join(file))
            .output()
            .unwrap();
        assert!(out.status.success(), "{file}: {}", String::from_utf8_lossy(&out.stderr));
    }
}
