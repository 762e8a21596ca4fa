//! A host's rates CSV, uploaded after editing in a spreadsheet: any bytes into
//! `rates_csv::read_rates`. The properties: no panic, no hang, at most `MAX_PROBLEMS`
//! problems, each on a line of the input, and every row read sets something.
#![no_main]

use innkeep_channels::rates_csv::{MAX_PROBLEMS, read_rates};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match read_rates(data) {
        Ok(rows) => {
            for r in &rows {
                let c = r.change;
                assert!(c.price_minor.is_some() || c.closed.is_some() || c.min_stay.is_some() || c.units.is_some());
            }
        }
        Err(problems) => {
            assert!(!problems.is_empty() && problems.len() <= MAX_PROBLEMS + 1, "{}", problems.len());
            let lines = data.iter().filter(|b| **b == b'\n' || **b == b'\r').count() as u64 + 1;
            for p in &problems {
                assert!(p.line >= 1 && p.line <= lines + 1, "{p} of {lines} lines");
            }
        }
    }
});
