//! A host's four CSV files, uploaded to move a tenant in: any bytes, cut at NUL bytes into
//! properties.csv, room-types.csv, rates.csv and bookings.csv, into
//! `tenant_data::from_csv`. The properties: no panic, no hang; a refusal is a 400-kind
//! problem naming a file; a document read has no more rows than its files have lines.
#![no_main]

use innkeep_app::AppError;
use innkeep_app::tenant_data::{CSV_FILES, from_csv};
use innkeep_core::TenantId;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let files: Vec<(String, Vec<u8>)> =
        data.split(|b| *b == 0).zip(CSV_FILES).map(|(bytes, name)| (name.to_string(), bytes.to_vec())).collect();
    let Ok(tenant) = "01a2e024-3900-7000-8000-000000000000".parse::<TenantId>() else { return };
    match from_csv(&files, tenant, jiff::Timestamp::UNIX_EPOCH) {
        Ok(doc) => {
            let lines = data.iter().filter(|b| **b == b'\n' || **b == b'\r').count() + files.len();
            let rows = doc.properties.len() + doc.room_types.len() + doc.rates.len() + doc.bookings.len();
            assert!(rows <= lines, "{rows} rows from {lines} lines");
            assert!(doc.properties.iter().all(|p| p.tenant_id == tenant));
        }
        Err(AppError::Invalid { field, message, .. }) => {
            assert_eq!(field, "file");
            assert!(CSV_FILES.iter().any(|f| message.contains(f)), "{message}");
        }
        Err(e) => panic!("not a problem with the files: {e:?}"),
    }
});
