//! No input makes a parser panic: corpus files cut short or with bytes changed, and
//! arbitrary text for the CSV and signature checks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::corpus_xml_files;
use innkeep_payments::{camt053, statement_csv, stripe};
use proptest::prelude::*;
use std::sync::LazyLock;
use std::time::Duration;

static CAMT_FILES: LazyLock<Vec<(String, Vec<u8>)>> = LazyLock::new(|| corpus_xml_files("camt053"));

/// A corpus file cut at `cut` (a fraction of its length), then with `edits` applied at
/// positions given as fractions of the remaining length.
fn damaged(file: usize, cut: f64, edits: &[(f64, u8)]) -> Vec<u8> {
    let files = &*CAMT_FILES;
    let bytes = &files[file % files.len()].1;
    let len = ((bytes.len() as f64) * cut) as usize;
    let mut out = bytes[..len.min(bytes.len())].to_vec();
    for &(at, byte) in edits {
        if !out.is_empty() {
            let i = (((out.len() - 1) as f64) * at) as usize;
            out[i] = byte;
        }
    }
    out
}

/// Bytes that matter to XML and to numbers, so that mutations hit the interesting cases.
fn xml_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        Just(b'<'),
        Just(b'>'),
        Just(b'/'),
        Just(b'&'),
        Just(b'"'),
        Just(b'.'),
        Just(b'-'),
        Just(b'9'),
        Just(b'x'),
        Just(0xFF),
        any::<u8>()
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn damaged_camt053_files_never_panic(
        file in 0usize..64,
        cut in 0.0f64..=1.0,
        edits in prop::collection::vec((0.0f64..=1.0, xml_byte()), 0..8),
    ) {
        let bytes = damaged(file, cut, &edits);
        let _ = camt053::parse(&bytes);
    }

    #[test]
    fn arbitrary_csv_never_panics(text in "[0-9a-zA-Z,.\"\\-+ \\n\\r\u{feff}é]{0,200}") {
        let (lines, errors) = statement_csv::parse(text.as_bytes());
        prop_assert!(lines.iter().all(|l| l.problem.is_none()));
        prop_assert!(errors.iter().all(|e| e.line >= 1));
    }

    #[test]
    fn arbitrary_signature_headers_never_panic(
        header in "[tv01=,a-f0-9 \\-]{0,120}",
        payload in prop::collection::vec(any::<u8>(), 0..64),
        now in any::<i64>(),
        tolerance in any::<u64>(),
    ) {
        let _ = stripe::verify_signature(&payload, &header, "whsec_x", Duration::from_secs(tolerance), now);
    }
}

#[test]
fn every_single_byte_change_of_a_small_statement_is_handled() {
    let (_, bytes) = CAMT_FILES.iter().find(|(name, _)| name == "genkgo-camt053.v2.five.decimals.xml").unwrap();
    for i in 0..bytes.len() {
        for replacement in [b'<', b'&', b'9', 0xFF] {
            let mut changed = bytes.clone();
            changed[i] = replacement;
            let _ = camt053::parse(&changed);
        }
    }
}
