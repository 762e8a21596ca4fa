//! Files written by `pain001` validate against the official pain.001.001.03 schema
//! (tests/xsd, see SOURCES.md there), checked with
//! `xmllint --noout --schema tests/xsd/pain.001.001.03.xsd FILE`.
//! Skips when xmllint is missing, unless INNKEEP_TEST_REQUIRE_SERVERS=1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use innkeep_core::{Currency, Money};
use innkeep_payments::pain001::{CreditTransfer, Party, PaymentBatch, pain001};
use std::process::Command;

const SCHEMA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/xsd/pain.001.001.03.xsd");

fn required() -> bool {
    std::env::var("INNKEEP_TEST_REQUIRE_SERVERS").is_ok_and(|v| v == "1")
}

/// Whether `xmllint --version` runs; when it does not, the test skips, or fails when tools
/// are required.
fn has_xmllint() -> bool {
    let runs = Command::new("xmllint").arg("--version").output().is_ok_and(|o| o.status.success());
    if !runs {
        assert!(
            !required(),
            "xmllint is required (INNKEEP_TEST_REQUIRE_SERVERS=1) but does not run; install libxml2-utils"
        );
        eprintln!("skipping pain.001 schema validation: xmllint is not installed (libxml2-utils)");
    }
    runs
}

/// Write `xml` to a fresh temporary file and validate it against the schema.
fn assert_valid(name: &str, xml: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{name}.xml"));
    std::fs::write(&path, xml).unwrap();
    let out = Command::new("xmllint").args(["--noout", "--schema", SCHEMA]).arg(&path).output().unwrap();
    assert!(
        out.status.success(),
        "{name} does not validate against pain.001.001.03:\n{}\n--- file ---\n{xml}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn money(minor: i64, code: &str) -> Money {
    Money::new(minor, Currency::parse(code).unwrap())
}

fn party(name: &str, iban: &str, bic: Option<&str>) -> Party {
    Party { name: name.to_string(), iban: iban.to_string(), bic: bic.map(str::to_string) }
}

fn transfer(id: &str, amount: Money, creditor: Party, remittance: &str) -> CreditTransfer {
    CreditTransfer { end_to_end_id: id.to_string(), amount, creditor, remittance: remittance.to_string() }
}

fn batch(debtor: Party, transfers: Vec<CreditTransfer>) -> PaymentBatch {
    PaymentBatch {
        message_id: "INNKEEP-PAYOUT-2026-03-01-0001".to_string(),
        created_at: "2026-03-01T09:30:47.5Z".parse().unwrap(),
        execution_date: jiff::civil::date(2026, 3, 2),
        debtor,
        transfers,
    }
}

fn innkeep() -> Party {
    party("Innkeep GmbH", "DE89 3704 0044 0532 0130 00", Some("COBADEFFXXX"))
}

#[test]
fn a_eur_only_batch_validates() {
    if !has_xmllint() {
        return;
    }
    let b = batch(
        innkeep(),
        vec![
            transfer(
                "PO-1",
                money(12_345, "EUR"),
                party("Hotel Zur Post", "FR14 2004 1010 0505 0001 3M02 606", None),
                "Payout March",
            ),
            transfer("PO-2", money(1, "EUR"), party("Pension Am See", "AT611904300234573201", Some("BKAUATWW")), ""),
        ],
    );
    assert_valid("eur", &pain001(&b).unwrap());
}

#[test]
fn a_batch_in_eur_and_gbp_validates() {
    if !has_xmllint() {
        return;
    }
    let b = batch(
        party("Innkeep GmbH", "DE89370400440532013000", None),
        vec![
            transfer(
                "PO-1",
                money(50_000, "EUR"),
                party("Hotel Zur Post", "NL91ABNA0417164300", Some("ABNANL2A")),
                "Payout",
            ),
            transfer(
                "PO-2",
                money(25_099, "GBP"),
                party("The Crown Inn Ltd", "GB29 NWBK 6016 1331 9268 19", Some("NWBKGB2L")),
                "Payout",
            ),
            transfer("PO-3", money(7, "EUR"), party("Gîte du Lac", "FR1420041010050500013M02606", None), "Adjustment"),
        ],
    );
    let xml = pain001(&b).unwrap();
    assert_eq!(xml.matches("<PmtInf>").count(), 2);
    assert_eq!(xml.matches("<Cd>SEPA</Cd>").count(), 1);
    assert_valid("eur-gbp", &xml);
}

#[test]
fn special_characters_and_non_latin_text_validate() {
    if !has_xmllint() {
        return;
    }
    let b = batch(
        party("Innkeep <GmbH> & \"Co\"", "DE89370400440532013000", None),
        vec![
            transfer(
                "PO-1",
                money(10_000, "EUR"),
                party("O'Brien & Söhne <Gasthof> ]]> &amp;", "FR1420041010050500013M02606", None),
                "Booking #42 'late' \"checkout\" & <more> ]]> \u{0}\u{7}\u{1b} end",
            ),
            transfer(
                "PO-2",
                money(20_000, "EUR"),
                party("東京ホテル Ålesund Łódź Ελλάδα Москва", "NL91ABNA0417164300", None),
                "مرحبا 👍🏽 שלום \u{202E}evil\u{202C} e\u{301} \r\n\ttabs",
            ),
            transfer("PO-3", money(30_000, "EUR"), party("🏨🏨🏨", "AT611904300234573201", None), "\u{FEFF}\u{200B}"),
        ],
    );
    let xml = pain001(&b).unwrap();
    assert!(xml.is_ascii(), "{xml}");
    assert_valid("special", &xml);
}

#[test]
fn long_names_and_remittance_are_cut_to_validate() {
    if !has_xmllint() {
        return;
    }
    let long = "Gasthof Zum Goldenen Hirschen und Pension Alpenblick am Großen Ahornboden ".repeat(4);
    let mut b = batch(
        party(&long, "DE89370400440532013000", None),
        vec![transfer(
            &"E".repeat(35),
            money(99_999_999_999, "EUR"),
            party(&long, "FR1420041010050500013M02606", None),
            &"Payout for bookings 1001, 1002, 1003 – ß ".repeat(10),
        )],
    );
    b.message_id = "M".repeat(35);
    assert_valid("long", &pain001(&b).unwrap());
}

#[test]
fn a_thousand_transfers_validate() {
    if !has_xmllint() {
        return;
    }
    let ibans = ["FR1420041010050500013M02606", "NL91ABNA0417164300", "GB29NWBK60161331926819", "AT611904300234573201"];
    let currencies = ["EUR", "GBP", "JPY", "KWD", "EUR"];
    let transfers = (0..1000)
        .map(|i: i64| {
            let creditor = party(
                &format!("Host {i} & Partner"),
                ibans[i as usize % ibans.len()],
                (i % 3 == 0).then_some("NWBKGB2L"),
            );
            let amount = money(1 + i * 7_919, currencies[i as usize % currencies.len()]);
            transfer(&format!("PO-{i:06}"), amount, creditor, &format!("Payout {i} <ref>"))
        })
        .collect();
    let xml = pain001(&batch(innkeep(), transfers)).unwrap();
    assert_eq!(xml.matches("<CdtTrfTxInf>").count(), 1000);
    assert_eq!(xml.matches("<PmtInf>").count(), 4);
    assert_valid("thousand", &xml);
}
