//! `innkeep analytics`: bring the lake up to date, run SQL over it, print a report.

use crate::config::Config;
use crate::startup;
use innkeep_app::analytics::{Analytics, Limits, Report, Table};
use std::time::Duration;

#[derive(clap::Subcommand)]
pub enum AnalyticsCommand {
    /// Write every outbox event and closed client-event segment not yet in the lake, and
    /// the properties' snapshot (what `innkeep serve` does as it runs).
    Sync,
    /// Run one read-only SQL query over the lake (tables: events, booking_events,
    /// bookings, client_events, properties, lake).
    Sql {
        query: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Bring the lake up to date first (not while `innkeep serve` writes it).
        #[arg(long)]
        sync: bool,
        /// Rows printed at most.
        #[arg(long, default_value_t = 1000)]
        limit: usize,
    },
    /// Print a report: occupancy, occupancy-by-city, occupancy-by-month, lead-time,
    /// length-of-stay, cancellations, funnel, top-destinations, revenue-per-tenant.
    Report {
        name: String,
        /// Only this tenant's properties.
        #[arg(long)]
        tenant: Option<uuid::Uuid>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Merge the small files of each kind and day.
    Compact,
    /// Evaluate the recommendations offline: train on the bookings made before a cut-off,
    /// test on each guest's later ones; hit rate and NDCG at k beside a popularity and a
    /// random baseline (load guests with tastes first: `innkeep demo --guests 300`).
    Evaluate {
        /// The cut-off, this many days before now.
        #[arg(long, default_value_t = 120)]
        days: i64,
        #[arg(long, default_value_t = 10)]
        k: usize,
        /// The random baseline's seed.
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

/// Run a command against the configured database and lake.
pub async fn run(config: &Config, command: AnalyticsCommand) -> anyhow::Result<()> {
    let lake = crate::parts::open_lake(config)?;
    let sql = innkeep_analytics::LakeSql::new(lake.clone());
    let limits = |rows| Limits { rows, time: Duration::from_secs(600) };
    match command {
        AnalyticsCommand::Sync => {
            let started = std::time::Instant::now();
            let synced = sync(config, &lake).await?;
            println!(
                "lake at {}: {} outbox events and {} client events in {} files ({:.1} s)",
                lake.describe(),
                synced.outbox_events,
                synced.client_events,
                synced.files,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        AnalyticsCommand::Sql { query, format, sync: first, limit } => {
            if first {
                sync(config, &lake).await?;
            }
            let table = sql.sql(&query, limits(limit)).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            print(&table, format)
        }
        AnalyticsCommand::Report { name, tenant, format } => {
            let report = Report::named(&name).ok_or_else(|| {
                let names: Vec<&str> = Report::ALL.iter().map(|(n, _)| *n).collect();
                anyhow::anyhow!("no report named {name:?}; the reports: {}", names.join(", "))
            })?;
            let table = sql
                .report(report, tenant.map(innkeep_core::TenantId), limits(100_000))
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            print(&table, format)
        }
        AnalyticsCommand::Evaluate { days, k, seed } => {
            let store = startup::open_store(config).await?;
            let clock = std::sync::Arc::new(innkeep_app::SystemClock);
            let ports = startup::ports(config, store.clone(), clock, &startup::open_search()?);
            let cutoff = jiff::Timestamp::now().checked_sub(jiff::SignedDuration::from_hours(24 * days))?;
            let e = innkeep_app::recommend::evaluate_store(&ports, cutoff, k, seed).await;
            store.close().await;
            println!("generator (the defaults of innkeep demo --guests N): {}", innkeep_demo::HistoryParams::default());
            println!("{}", e.map_err(|e| anyhow::anyhow!("{e}"))?);
            Ok(())
        }
        AnalyticsCommand::Compact => {
            lake.recover().await?;
            println!("{} files merged away", lake.compact(2).await?);
            Ok(())
        }
    }
}

async fn sync(config: &Config, lake: &innkeep_analytics::Lake) -> anyhow::Result<innkeep_analytics::Synced> {
    let store = startup::open_store(config).await?;
    let client = startup::client_source(config).await?;
    let synced = lake.sync(&store, Some(client.as_ref())).await;
    store.close().await;
    Ok(synced?)
}

fn print(table: &Table, format: Format) -> anyhow::Result<()> {
    match format {
        Format::Csv => print!("{}", table.to_csv()),
        Format::Json => println!("{}", serde_json::to_string_pretty(table)?),
        Format::Table => {
            let text = |v: &serde_json::Value| match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            };
            let cells: Vec<Vec<String>> = table.rows.iter().map(|r| r.iter().map(text).collect()).collect();
            let widths: Vec<usize> = (0..table.columns.len())
                .map(|i| cells.iter().map(|r| r[i].chars().count()).chain([table.columns[i].len()]).max().unwrap_or(0))
                .collect();
            let line = |row: &[String]| {
                row.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect::<Vec<_>>().join(" | ")
            };
            println!("{}", line(&table.columns));
            println!("{}", widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("-+-"));
            for r in &cells {
                println!("{}", line(r));
            }
            let more = if table.truncated { " (more rows were cut)" } else { "" };
            println!("({} rows{more})", table.rows.len());
        }
    }
    Ok(())
}
