//! `innkeep`: serve, migrate, load demo data, manage users, benchmark.

use anyhow::Context;
use clap::{Parser, Subcommand};
use innkeep::backup::Place;
use innkeep::config::Config;
use innkeep::startup::{self, Server};
use innkeep_app::SystemClock;
use innkeep_app::store::Outbox;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "innkeep", version, about = "Innkeep: search, book and run stays")]
struct Cli {
    /// Configuration file (optional; INNKEEP_* variables override it).
    #[arg(long, global = true, default_value = "innkeep.toml")]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API.
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080.
        #[arg(long)]
        listen: Option<String>,
        /// Data directory for the embedded database.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Load demo data first if the database is empty.
        #[arg(long)]
        demo: bool,
        /// Number of demo properties (with --demo).
        #[arg(long, default_value_t = 1000)]
        demo_properties: usize,
    },
    /// Apply database migrations (idempotent).
    Migrate {
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Load deterministic demo data into an empty database.
    Demo {
        #[arg(long)]
        data: Option<PathBuf>,
        /// Number of properties (100000 for the large set).
        #[arg(long, default_value_t = 1000)]
        properties: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Also this many past guests with tastes and their bookings over the last 18
        /// months (what `innkeep analytics evaluate` trains and tests recommendations on).
        #[arg(long, default_value_t = 0)]
        guests: usize,
    },
    /// Measure Innkeep over HTTP against real `innkeep serve` processes, beside the engine
    /// doing the same work in the same run (figures in BENCHMARKS.md).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// The event bus: consumer positions, dead letters, replay.
    Events {
        #[command(subcommand)]
        command: EventsCommand,
        #[arg(long, global = true)]
        data: Option<PathBuf>,
    },
    /// The search index.
    Search {
        #[command(subcommand)]
        command: SearchCommand,
        #[arg(long, global = true)]
        data: Option<PathBuf>,
    },
    /// Payments: import a bank statement.
    Payments {
        #[command(subcommand)]
        command: PaymentsCommand,
        #[arg(long, global = true)]
        data: Option<PathBuf>,
    },
    /// Outgoing messages: the delivery log, and sending parked messages again.
    Notify {
        #[command(subcommand)]
        command: NotifyCommand,
        #[arg(long, global = true)]
        data: Option<PathBuf>,
    },
    /// Backups of the embedded database, client-event log and object store.
    Backup {
        #[command(subcommand)]
        command: BackupCommand,
    },
    /// Host payouts: pay each host what it is owed for stays that are over.
    Payouts {
        #[command(subcommand)]
        command: PayoutsCommand,
        #[arg(long, global = true)]
        data: Option<PathBuf>,
    },
    /// A host's data (properties, room types, rates, bookings) out and in, as JSON.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
        #[arg(long, global = true)]
        data: Option<PathBuf>,
    },
    /// Commission invoices.
    Invoices {
        #[command(subcommand)]
        command: InvoicesCommand,
        #[arg(long, global = true)]
        data: Option<PathBuf>,
    },
    /// The double-entry ledger.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
        #[arg(long, global = true)]
        data: Option<PathBuf>,
    },
    /// Administration.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Monthly cost on a public and on a private cloud for a load profile, from measured capacity.
    Cost {
        /// The load profile (TOML; see examples/mid-size.toml).
        #[arg(long)]
        profile: PathBuf,
        /// Per-node capacity measured by `innkeep bench embedded --json FILE`.
        #[arg(long)]
        capacity: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = CostFormat::Markdown)]
        format: CostFormat,
        /// Write the chart of monthly cost against load (SVG) here.
        #[arg(long)]
        chart: Option<PathBuf>,
    },
    /// The analytics lake: sync, SQL, reports.
    Analytics {
        #[command(subcommand)]
        command: innkeep::analytics::AnalyticsCommand,
        #[arg(long, global = true)]
        data: Option<PathBuf>,
    },
    /// Show the effective configuration (secrets masked).
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum CostFormat {
    Markdown,
    Json,
    Csv,
}

/// What every benchmark takes.
#[derive(clap::Args)]
struct BenchLoad {
    /// Demo properties to load (the published figures use 100000).
    #[arg(long, default_value_t = 100_000)]
    properties: usize,
    /// Seconds per phase.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent clients.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
}

#[derive(Subcommand)]
enum BenchCommand {
    /// On the embedded defaults: booking commits/s with and without contention,
    /// availability, search and autocomplete, beside raw SQLite and plain SQL.
    Embedded {
        #[command(flatten)]
        load: BenchLoad,
        /// Also write the figures as numbers, with the machine and the date, to this file
        /// (the capacity `innkeep cost --capacity` reads).
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Search and autocomplete only, beside plain SQL.
    Search {
        #[command(flatten)]
        load: BenchLoad,
        /// The data directory to use (the demo is loaded into it if empty, and kept for the
        /// next run); a fresh temporary one otherwise.
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Hot reads with no cache, in process and on Redis.
    Cache {
        #[command(flatten)]
        load: BenchLoad,
        /// The Redis server (none: that row is skipped).
        #[arg(long, env = "INNKEEP_TEST_REDIS_URL", default_value = "")]
        redis: String,
    },
    /// On PostgreSQL, in a fresh database on this server, with 1..=N nodes, beside pgbench.
    Postgres {
        #[command(flatten)]
        load: BenchLoad,
        /// The server's administrative URL, e.g. postgres://postgres@127.0.0.1:5432/postgres.
        #[arg(long)]
        admin_url: String,
        /// Run with 1, 2, ... up to this many `innkeep serve` nodes.
        #[arg(long, default_value_t = 3)]
        nodes: usize,
        /// Also run every phase, on both sides, at these client counts (e.g. `--sweep 16,32`).
        #[arg(long, value_delimiter = ',')]
        sweep: Vec<usize>,
        /// Add this many milliseconds to every round trip between the nodes (and pgbench)
        /// and PostgreSQL, through a proxy in the benchmark, as if the database were in
        /// another zone.
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
    },
    /// Confirmed paid bookings per second end to end (hold, card payment through the fake
    /// provider of the tests, webhook, confirm, ledger) beside plain bookings (hold, confirm).
    Payments {
        #[command(flatten)]
        load: BenchLoad,
        /// A PostgreSQL server's administrative URL: run on a fresh database there instead
        /// of the embedded one.
        #[arg(long)]
        postgres: Option<String>,
        /// How often (milliseconds) a paying client looks whether its payment moved on; 0
        /// (the default): it asks the server to answer when it does (`Prefer: wait`).
        #[arg(long, default_value_t = 0)]
        poll_ms: u64,
        /// How long (milliseconds) the fake provider takes to answer each API call.
        #[arg(long, default_value_t = 0)]
        provider_delay_ms: u64,
    },
    /// The same booking and search load against servers already running with the demo data
    /// (a load balancer, then one node straight), one after the other, in one table.
    Remote {
        /// A target as LABEL=URL or URL; repeat for several.
        #[arg(long = "url", required = true)]
        targets: Vec<String>,
        /// Seconds per phase.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Concurrent booking clients.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
    },
    /// `innkeep ledger check` over a generated ledger, beside one plain scan of its lines.
    Ledger {
        /// Entries in the generated ledger (two lines each).
        #[arg(long, default_value_t = 1_000_000)]
        entries: u64,
    },
    /// Mixed load for a long time (search, availability, bookings, client events) against one
    /// server, sampling its memory, open files and database size each minute; fails if
    /// they grow beyond the stated bounds after the warm-up.
    Soak {
        /// Demo properties to load.
        #[arg(long, default_value_t = 10_000)]
        properties: usize,
        /// Minutes of load.
        #[arg(long, default_value_t = 30)]
        minutes: u64,
        /// Concurrent clients.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// Minutes before the bounds apply.
        #[arg(long, default_value_t = 5)]
        warm_up: u64,
    },
    /// Client event ingestion: the embedded log, and JetStream with --nats.
    Ingest {
        #[command(flatten)]
        load: BenchLoad,
        /// Events per batch.
        #[arg(long, default_value_t = 1000)]
        batch: usize,
        /// NATS JetStream to measure ingestion into, e.g. nats://127.0.0.1:4222.
        #[arg(long, default_value = "")]
        nats: String,
    },
    /// The analytics lake: the lake writer's events/s; the occupancy and funnel reports over
    /// it, DataFusion beside DuckDB and pyspark on the same files; suggestion latency.
    Analytics {
        /// Events to generate into the lake (bookings and client events over a year).
        #[arg(long, default_value_t = 10_000_000)]
        events: u64,
        /// Demo properties to load.
        #[arg(long, default_value_t = 2_000)]
        properties: usize,
        /// Demo guests with tastes (their bookings train the suggestions).
        #[arg(long, default_value_t = 300)]
        guests: usize,
        /// Seconds of load on each suggestion endpoint.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Timed runs of each report per engine (after a warm-up run).
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Leave pyspark out (it needs Java and the pyspark package).
        #[arg(long)]
        no_spark: bool,
        /// Files the lake writer encodes at once (`analytics.writer_threads`; 0: one per core).
        #[arg(long, default_value_t = 0)]
        writer_threads: usize,
        /// Keep the run's data directory (the lake and the demo) and print where it is.
        #[arg(long)]
        keep: bool,
        /// Seconds of HTTP ingestion into the embedded log measured in the same run as the
        /// lake writer's reference (0: none).
        #[arg(long, default_value_t = 5)]
        ingest_seconds: u64,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a user (guest, host or admin).
    CreateUser {
        #[arg(long)]
        email: String,
        /// Password (or INNKEEP_ADMIN_PASSWORD).
        #[arg(long, env = "INNKEEP_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "admin")]
        role: String,
        #[arg(long)]
        data: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum EventsCommand {
    /// Each consumer's position and lag behind the outbox.
    Status,
    /// Events consumers gave up on.
    DeadLetters {
        #[arg(long)]
        consumer: Option<String>,
    },
    /// Hand a consumer's dead letters to it again.
    Replay {
        #[arg(long)]
        consumer: String,
    },
}

#[derive(Subcommand)]
enum NotifyCommand {
    /// The delivery log, newest first.
    Log {
        /// Only messages in this status: pending, sent, parked or cancelled.
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Send parked messages again (all of them, or one message, one tenant's or one
    /// webhook's); the running nodes pick them up.
    Replay {
        /// One message, by its id.
        #[arg(long)]
        id: Option<uuid::Uuid>,
        #[arg(long)]
        tenant: Option<uuid::Uuid>,
        #[arg(long)]
        webhook: Option<uuid::Uuid>,
    },
}

#[derive(Subcommand)]
enum SearchCommand {
    /// Rebuild the search index from the database and report its size and time.
    Reindex,
}

#[derive(Subcommand)]
enum PaymentsCommand {
    /// Import a bank statement (camt.053 XML or CSV `date,amount,currency,reference`):
    /// credits quoting an open transfer's reference pay it; the rest is reported.
    Import { file: PathBuf },
}

#[derive(Subcommand)]
enum PayoutsCommand {
    /// Pay out, in one batch, what every host is owed for stays that are over; write the
    /// batch as pain.001 (for the bank) and CSV into `--out`. Run twice, it pays nothing
    /// the second time.
    Run {
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum BackupCommand {
    /// Take a consistent online snapshot (the server may keep running) into `--to`, a new
    /// or empty directory or `s3://BUCKET/PREFIX` (an empty prefix, on the S3 API and with
    /// the keys of `[storage]`), with a manifest of checksums.
    Create {
        #[arg(long)]
        to: String,
        /// The data directory to back up (default: the configured one).
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Check a backup's files (a directory or `s3://BUCKET/PREFIX`) against its manifest
    /// and its database's integrity.
    Verify {
        #[arg(long)]
        from: String,
    },
    /// Verify, then restore a backup (a directory or `s3://BUCKET/PREFIX`) into `--data`,
    /// which must hold no database yet.
    Restore {
        #[arg(long)]
        from: String,
        #[arg(long)]
        data: PathBuf,
    },
}

#[derive(Subcommand)]
enum InvoicesCommand {
    /// Issue the commission invoices of every closed month not yet invoiced.
    Issue,
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Write a tenant's properties, room types, rates and bookings as one JSON document, or
    /// as four CSV files.
    Export {
        /// The tenant.
        #[arg(long)]
        tenant: innkeep_core::TenantId,
        /// Write here (standard output if not given).
        #[arg(long, conflicts_with = "csv")]
        out: Option<PathBuf>,
        /// Write properties.csv, room-types.csv, rates.csv and bookings.csv into this
        /// directory (created if missing) instead.
        #[arg(long)]
        csv: Option<PathBuf>,
    },
    /// Put a document's data (ids kept) into the tenant of the host owner with this e-mail
    /// address: all of it, or nothing.
    Import {
        /// The document (`innkeep tenant export`'s), or a directory of its CSV files
        /// (`export --csv`'s; properties.csv and room-types.csv needed, rates.csv and
        /// bookings.csv read when there).
        file: PathBuf,
        /// The e-mail address of the owner whose tenant takes it.
        #[arg(long)]
        owner: String,
    },
}

#[derive(Subcommand)]
enum LedgerCommand {
    /// Check every entry balances per currency and every kept balance equals the sum of its
    /// lines; exits 1 naming each problem.
    Check,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the effective configuration.
    Print,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut config = Config::load(&cli.config).map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    innkeep::telemetry::init(&config.log.level, &config.log.format);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(cli.command, &mut config))
}

async fn events(command: EventsCommand, store: &innkeep_store::SqlStore) -> anyhow::Result<()> {
    match command {
        EventsCommand::Status => {
            let last = store.last_event_seq().await?;
            println!("outbox position {last}");
            for (name, seq) in store.consumer_positions().await? {
                println!("{name}: position {seq}, lag {}", last - seq);
            }
        }
        EventsCommand::DeadLetters { consumer } => {
            for d in store.dead_letters(consumer.as_deref()).await? {
                println!("{}\t{}\t{}\tattempts={}\t{}", d.consumer, d.seq, d.event_id, d.attempts, d.error);
            }
        }
        EventsCommand::Replay { consumer } => {
            let c = startup::consumers()
                .into_iter()
                .find(|c| c.name() == consumer)
                .ok_or_else(|| anyhow::anyhow!("no consumer named {consumer:?}"))?;
            let (ok, failed) = innkeep_events::replay_dead_letters(store, c.as_ref()).await?;
            println!("replayed {ok}, still failing {failed}");
        }
    }
    Ok(())
}

async fn notify(command: NotifyCommand, store: &innkeep_store::SqlStore) -> anyhow::Result<()> {
    use innkeep_app::notify::{DeliveryFilter, DeliveryStatus, Notifications};
    match command {
        NotifyCommand::Log { status, limit } => {
            let status = status
                .map(|s| DeliveryStatus::parse(&s).ok_or_else(|| anyhow::anyhow!("no status {s:?}")))
                .transpose()?;
            let filter = DeliveryFilter { status, limit: limit.clamp(1, 10_000), ..DeliveryFilter::default() };
            for d in store.deliveries(&filter).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\tattempts={}\t{}",
                    d.id,
                    d.created_at,
                    d.channel.as_str(),
                    d.template,
                    d.status.as_str(),
                    d.attempts,
                    d.last_error.unwrap_or_default()
                );
            }
        }
        NotifyCommand::Replay { id, tenant, webhook } => {
            let filter = DeliveryFilter {
                id,
                tenant_id: tenant.map(innkeep_core::TenantId),
                webhook_id: webhook,
                ..DeliveryFilter::default()
            };
            let n = store.replay(&filter, jiff::Timestamp::now()).await?;
            println!("{n} parked messages to send again");
        }
    }
    Ok(())
}

fn cost(
    profile: &std::path::Path,
    capacity: Option<&std::path::Path>,
    format: CostFormat,
    chart: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    use innkeep_cost as c;
    let read = |p: &std::path::Path| std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()));
    let text = read(profile)?;
    let profile = c::Profile::parse(&text).with_context(|| format!("in {}", profile.display()))?;
    let measured = match capacity {
        Some(p) => Some(c::Measured::parse(&read(p)?).with_context(|| format!("in {}", p.display()))?),
        None => None,
    };
    let report = c::Report::build(&profile, measured.as_ref(), &c::Prices::bundled()?)?;
    let out = match format {
        CostFormat::Markdown => report.markdown(),
        CostFormat::Json => report.json()?,
        CostFormat::Csv => report.csv()?,
    };
    print!("{out}");
    if let Some(path) = chart {
        std::fs::write(path, report.svg()).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("chart written to {}", path.display());
    }
    Ok(())
}

async fn bench(command: BenchCommand) -> anyhow::Result<()> {
    use innkeep_bench as b;
    match command {
        BenchCommand::Embedded { load: BenchLoad { properties, seconds, concurrency }, json } => {
            b::run(b::BenchOptions { properties, seconds, concurrency }, json.as_deref()).await.map(drop)
        }
        BenchCommand::Search { load: BenchLoad { properties, seconds, concurrency }, data } => {
            b::run_search(b::BenchOptions { properties, seconds, concurrency }, data).await
        }
        BenchCommand::Cache { load, redis } => {
            b::cache::run(load.properties, load.seconds, load.concurrency, &redis).await
        }
        BenchCommand::Postgres {
            load: BenchLoad { properties, seconds, concurrency },
            admin_url,
            nodes,
            sweep,
            latency_ms,
        } => {
            b::postgres::run(b::postgres::PostgresBench {
                admin_url,
                nodes,
                properties,
                seconds,
                concurrency,
                sweep,
                latency_ms,
            })
            .await
        }
        BenchCommand::Remote { targets, seconds, concurrency } => {
            b::remote::run(b::remote::RemoteBench { targets, seconds, concurrency }).await
        }
        BenchCommand::Ledger { entries } => b::ledger::run(entries).await,
        BenchCommand::Payments {
            load: BenchLoad { properties, seconds, concurrency },
            postgres,
            poll_ms,
            provider_delay_ms,
        } => {
            let (poll, delay) =
                (std::time::Duration::from_millis(poll_ms), std::time::Duration::from_millis(provider_delay_ms));
            b::payments::run(b::BenchOptions { properties, seconds, concurrency }, postgres.as_deref(), poll, delay)
                .await
        }
        BenchCommand::Soak { properties, minutes, concurrency, warm_up } => {
            b::soak::run(b::soak::SoakOptions { properties, minutes, concurrency, warm_up }).await
        }
        BenchCommand::Ingest { load, batch, nats } => {
            let opts = b::ingest::IngestBenchOptions {
                seconds: load.seconds,
                concurrency: load.concurrency,
                batch,
                nats_url: nats,
            };
            b::ingest::run(opts).await.map(drop)
        }
        BenchCommand::Analytics {
            events,
            properties,
            guests,
            seconds,
            runs,
            no_spark,
            writer_threads,
            keep,
            ingest_seconds,
        } => {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            let opts = b::analytics::AnalyticsBench {
                events,
                properties,
                guests,
                seconds,
                spark: !no_spark,
                runs: runs.max(1),
                writer_threads: if writer_threads == 0 { cores } else { writer_threads },
                keep,
                ingest_seconds,
            };
            b::analytics::run(opts).await.map(drop)
        }
    }
}

fn set_data(config: &mut Config, data: Option<PathBuf>) {
    if let Some(d) = data {
        config.data_dir = d;
    }
}

async fn run(command: Command, config: &mut Config) -> anyhow::Result<()> {
    match command {
        Command::Serve { listen, data, demo, demo_properties } => {
            set_data(config, data);
            if let Some(l) = listen {
                config.server.listen = l;
            }
            // Before the server accepts: a SIGTERM from then on drains it.
            let signal = startup::shutdown_signal();
            // With the demo, /readyz answers 503 until the demo is loaded and searchable.
            let server = Server::start_with(config, Arc::new(SystemClock), true, demo).await?;
            if demo {
                let s = innkeep_demo::load(&server.ports, demo_properties, 42).await.context("loading demo data")?;
                if s.properties > 0 {
                    let objects = innkeep::parts::open_objects(config)?;
                    let n = innkeep_demo::photos::load(&server.ports, objects.as_ref()).await.context("demo photos")?;
                    tracing::info!(properties = n, "demo photos drawn");
                    tracing::info!(
                        properties = s.properties,
                        room_types = s.room_types,
                        bookings = s.bookings,
                        reviews = s.reviews,
                        "demo data loaded"
                    );
                }
                server.ready_when_indexed().await?;
                eprintln!(
                    "Innkeep is serving the demo on http://{} (sign in as {} / {})",
                    server.addr,
                    innkeep_demo::DEMO_GUEST,
                    innkeep_demo::DEMO_PASSWORD
                );
            }
            let drain = server.drainer(std::time::Duration::from_secs(config.server.drain_secs));
            tokio::spawn(async move {
                signal.await;
                drain();
            });
            server.wait().await
        }
        Command::Migrate { data } => {
            set_data(config, data);
            let store = startup::open_store(config).await?;
            store.close().await;
            println!("migrations applied");
            Ok(())
        }
        Command::Demo { data, properties, seed, guests } => {
            set_data(config, data);
            let store = startup::open_store(config).await?;
            let ports = startup::ports(config, store.clone(), Arc::new(SystemClock), &startup::open_search()?);
            let start = std::time::Instant::now();
            let s = innkeep_demo::load(&ports, properties, seed).await?;
            if s.properties > 0 {
                innkeep_demo::photos::load(&ports, innkeep::parts::open_objects(config)?.as_ref()).await?;
            }
            if guests > 0 {
                let params = innkeep_demo::HistoryParams { guests, ..Default::default() };
                let h = innkeep_demo::history(&ports, &params).await?;
                println!("{h}");
            }
            store.close().await;
            println!(
                "loaded {} properties, {} room types, {} bookings, {} reviews in {:.1} s",
                s.properties,
                s.room_types,
                s.bookings,
                s.reviews,
                start.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Admin { command: AdminCommand::CreateUser { email, password, name, role, data } } => {
            set_data(config, data);
            let role =
                innkeep_core::Role::parse(&role).ok_or_else(|| anyhow::anyhow!("role must be guest, host or admin"))?;
            let store = startup::open_store(config).await?;
            let ports = startup::ports(config, store.clone(), Arc::new(SystemClock), &startup::open_search()?);
            let cmd = innkeep_app::auth::Register { email, password, name, role, locale: Default::default() };
            let user = innkeep_app::auth::register(&ports, cmd, jiff::Timestamp::now())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            store.close().await;
            println!("created {} {} ({})", user.role.as_str(), user.id, user.email.as_str());
            Ok(())
        }
        Command::Bench { command } => bench(command).await,
        Command::Cost { profile, capacity, format, chart } => {
            cost(&profile, capacity.as_deref(), format, chart.as_deref())
        }
        Command::Analytics { command, data } => {
            set_data(config, data);
            innkeep::analytics::run(config, command).await
        }
        Command::Events { command, data } => {
            set_data(config, data);
            let store = startup::open_store(config).await?;
            let result = events(command, &store).await;
            store.close().await;
            result
        }
        Command::Notify { command, data } => {
            set_data(config, data);
            let store = startup::open_store(config).await?;
            let result = notify(command, &store).await;
            store.close().await;
            result
        }
        Command::Search { command: SearchCommand::Reindex, data } => {
            set_data(config, data);
            let store = startup::open_store(config).await?;
            let index = innkeep_search::SearchIndex::open(None)?;
            let started = std::time::Instant::now();
            let (_, n) = innkeep_search::freshness::rebuild(&store, &index).await?;
            store.close().await;
            println!("indexed {n} properties in {:.2} s", started.elapsed().as_secs_f64());
            Ok(())
        }
        Command::Payments { command: PaymentsCommand::Import { file }, data } => {
            set_data(config, data);
            let store = startup::open_store(config).await?;
            let ports = startup::ports(config, store.clone(), Arc::new(SystemClock), &startup::open_search()?);
            let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let statements = innkeep_http::api::payments::statement_lines(&bytes)?;
            // The operator at the console acts as the system's administrator.
            let operator =
                innkeep_app::Actor::new(innkeep_core::UserId(uuid::Uuid::nil()), innkeep_core::Role::Admin, None);
            for innkeep_http::api::payments::ParsedStatement { id, lines, unreadable } in statements {
                let r = innkeep_app::payment::import_statement(&ports, &operator, &id, &lines, jiff::Timestamp::now())
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                println!("statement {id}: {} paid, {} to review, {} seen before", r.paid, r.to_review, r.duplicates);
                for l in &r.lines {
                    let payment = l.payment_id.map(|p| p.to_string()).unwrap_or_else(|| "-".into());
                    println!(
                        "  {:>14}  {:<6}  {:<14}  payment {payment}  {}",
                        l.amount.to_string(),
                        if l.credit { "credit" } else { "debit" },
                        format!("{:?}", l.outcome).to_lowercase(),
                        l.reference
                    );
                }
                for why in unreadable {
                    println!("  unreadable: {why}");
                }
            }
            store.close().await;
            Ok(())
        }
        Command::Payouts { command: PayoutsCommand::Run { out }, data } => {
            set_data(config, data);
            let store = startup::open_store(config).await?;
            let ports = startup::ports(config, store.clone(), Arc::new(SystemClock), &startup::open_search()?);
            let run = innkeep_app::billing::run_payouts(&ports, jiff::Timestamp::now())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            store.close().await;
            for (tenant, why) in &run.skipped {
                println!("not paid: tenant {tenant}: {why}");
            }
            if run.payouts.is_empty() {
                println!("nothing to pay out");
                return Ok(());
            }
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            for format in ["pain001", "csv"] {
                let body = innkeep_http::api::billing::batch_file(
                    &ports.settings.payments.bank,
                    run.batch_id,
                    &run.payouts,
                    format,
                )
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
                let path =
                    out.join(format!("payouts-{}.{}", run.batch_id, if format == "csv" { "csv" } else { "xml" }));
                std::fs::write(&path, body).with_context(|| format!("writing {}", path.display()))?;
                println!("wrote {}", path.display());
            }
            for p in &run.payouts {
                println!("paid {} to tenant {} ({}, {})", p.amount, p.tenant_id, p.name, p.iban);
            }
            Ok(())
        }
        Command::Backup { command } => {
            let (what, m) = match command {
                BackupCommand::Create { to, data } => {
                    set_data(config, data);
                    let to = Place::parse(&to, config)?;
                    ("backed up", innkeep::backup::create_at(&config.data_dir, &to).await?)
                }
                BackupCommand::Verify { from } => {
                    ("verified", innkeep::backup::verify_at(&Place::parse(&from, config)?).await?)
                }
                BackupCommand::Restore { from, data } => {
                    ("restored", innkeep::backup::restore_at(&Place::parse(&from, config)?, &data).await?)
                }
            };
            println!(
                "{what}: {} files, {} bookings, events up to {} (taken {})",
                m.files.len(),
                m.bookings,
                m.last_event_seq,
                m.created_at
            );
            Ok(())
        }
        Command::Tenant { command, data } => {
            set_data(config, data);
            let store = startup::open_store(config).await?;
            let ports = startup::ports(config, store.clone(), Arc::new(SystemClock), &startup::open_search()?);
            let result = tenant(&ports, command).await;
            store.close().await;
            result
        }
        Command::Invoices { command: InvoicesCommand::Issue, data } => {
            set_data(config, data);
            let store = startup::open_store(config).await?;
            let ports = startup::ports(config, store.clone(), Arc::new(SystemClock), &startup::open_search()?);
            let issued = innkeep_app::billing::issue_invoices(&ports, jiff::Timestamp::now())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            store.close().await;
            for i in &issued {
                println!(
                    "invoice {} to tenant {} for {}: {} ({} stays)",
                    i.number,
                    i.tenant_id,
                    i.month,
                    i.total,
                    i.lines.len()
                );
            }
            println!("{} invoices issued", issued.len());
            Ok(())
        }
        Command::Ledger { command: LedgerCommand::Check, data } => {
            set_data(config, data);
            let store = startup::open_store(config).await?;
            let started = std::time::Instant::now();
            let report = innkeep_app::payment::Payments::check_ledger(&store).await?;
            store.close().await;
            println!(
                "{} entries, {} lines, {} accounts checked in {:.2} s",
                report.entries,
                report.lines,
                report.accounts,
                started.elapsed().as_secs_f64()
            );
            for p in &report.problems {
                println!("{}: {}", p.subject, p.problem);
            }
            anyhow::ensure!(report.problems.is_empty(), "the ledger has {} problems", report.problems.len());
            Ok(())
        }
        Command::Config { command: ConfigCommand::Print } => {
            print!("{}", config.masked_toml());
            Ok(())
        }
    }
}

/// `innkeep tenant export|import`.
async fn tenant(ports: &innkeep_app::Ports, command: TenantCommand) -> anyhow::Result<()> {
    let now = jiff::Timestamp::now();
    match command {
        TenantCommand::Export { tenant, out, csv } => {
            let data =
                innkeep_app::tenant_data::export(ports, None, tenant, now).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            if let Some(dir) = csv {
                std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
                for file in innkeep_app::tenant_data::CSV_FILES {
                    let text = innkeep_app::tenant_data::to_csv(&data, file).map_err(|e| anyhow::anyhow!("{e}"))?;
                    let path = dir.join(file);
                    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
                }
                eprintln!(
                    "tenant {tenant}: {} properties, {} room types, {} rates, {} bookings written to {} as CSV",
                    data.properties.len(),
                    data.room_types.len(),
                    data.rates.len(),
                    data.bookings.len(),
                    dir.display()
                );
                return Ok(());
            }
            let text = serde_json::to_string_pretty(&data)?;
            match out {
                Some(path) => {
                    std::fs::write(&path, text)?;
                    eprintln!(
                        "tenant {tenant}: {} properties, {} room types, {} rates, {} bookings written to {}",
                        data.properties.len(),
                        data.room_types.len(),
                        data.rates.len(),
                        data.bookings.len(),
                        path.display()
                    );
                }
                None => println!("{text}"),
            }
            Ok(())
        }
        TenantCommand::Import { file, owner } => {
            let email = innkeep_core::Email::parse(&owner).map_err(|e| anyhow::anyhow!("--owner: {e}"))?;
            let (user, _) = ports
                .store
                .user_credentials(&email)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no user has the e-mail address {owner}"))?;
            let data = if file.is_dir() {
                let mut files = Vec::new();
                for name in innkeep_app::tenant_data::CSV_FILES {
                    let path = file.join(name);
                    if path.exists() {
                        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
                        files.push((name.to_string(), bytes));
                    }
                }
                let tenant = user.tenant_id.unwrap_or(innkeep_core::TenantId(uuid::Uuid::nil()));
                innkeep_app::tenant_data::from_csv(&files, tenant, now).map_err(|e| anyhow::anyhow!("{e}"))?
            } else {
                let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
                serde_json::from_str(&text).with_context(|| format!("{} is not a tenant document", file.display()))?
            };
            let done =
                innkeep_app::tenant_data::import(ports, &user, data, now).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "imported into tenant {}: {} properties, {} room types, {} rates, {} bookings",
                user.tenant_id.map(|t| t.to_string()).unwrap_or_default(),
                done.properties,
                done.room_types,
                done.rates,
                done.bookings
            );
            Ok(())
        }
    }
}
