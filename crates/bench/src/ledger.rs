//! `innkeep bench ledger`: `innkeep ledger check` over a ledger of N entries (two lines
//! each, on a fresh embedded database), beside one plain scan of the same lines (the
//! least any check must read).

use crate::open_store;
use innkeep_app::payment::Payments;
use std::time::Instant;

/// Fill a fresh database with `entries` balanced entries (a bank line and a host's line,
/// spread over 1,000 tenants), then time the check and the plain scan.
pub async fn run(entries: u64) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("innkeep-bench-ledger-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    let store = open_store(&dir, None).await?;
    let pool = store.writer();
    let started = Instant::now();
    // Generated in SQL (the fastest way to write them); the same rows the store would write.
    let fill = [
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
         INSERT INTO ledger_entries (id, kind, subject_id, reverses, created_at) \
         SELECT printf('e%09d', i), 'transfer_received', printf('p%09d', i), NULL, i FROM n",
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
         INSERT INTO ledger_lines (entry_id, n, account, amount_minor, currency) \
         SELECT printf('e%09d', i), 0, 'bank', 1 + i % 50000, 'EUR' FROM n \
         UNION ALL SELECT printf('e%09d', i), 1, printf('host_payable:00000000-0000-0000-0000-%012d', i % 1000), -(1 + i % 50000), 'EUR' FROM n",
        "INSERT INTO ledger_balances (account, currency, balance_minor) \
         SELECT account, currency, SUM(amount_minor) FROM ledger_lines GROUP BY account, currency",
    ];
    for sql in fill {
        sqlx::query(sql).bind(entries as i64).execute(&pool).await?;
    }
    let filled = started.elapsed();
    let started = Instant::now();
    let report = store.check_ledger().await?;
    let check = started.elapsed();
    anyhow::ensure!(report.problems.is_empty(), "the generated ledger has problems: {:?}", report.problems);
    let started = Instant::now();
    let (n, sum): (i64, i64) =
        sqlx::query_as("SELECT COUNT(*), SUM(amount_minor) FROM ledger_lines").fetch_one(&pool).await?;
    let scan = started.elapsed();
    anyhow::ensure!(sum == 0, "the lines do not sum to zero");
    store.close().await;
    println!(
        "# innkeep bench ledger: {entries} entries, {n} lines, {} accounts (filled in {:.1} s)",
        report.accounts,
        filled.as_secs_f64()
    );
    println!();
    println!("| figure | innkeep | reference | ratio |");
    println!("|---|---|---|---|");
    println!(
        "| `innkeep ledger check` (every entry balanced per currency, every kept balance = its lines) | {:.2} s | one scan of the lines (`COUNT`, `SUM`): {:.2} s | {:.1} |",
        check.as_secs_f64(),
        scan.as_secs_f64(),
        check.as_secs_f64() / scan.as_secs_f64().max(1e-9)
    );
    Ok(())
}
