//! `innkeep`: serve, migrate, load demo data, manage users, benchmark.

use anyhow::Context;
use clap::{Parser, Subcommand};
use innkeep::config::Config;
use innkeep::startup::{self, Server};
use innkeep_app::SystemClock;
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
    },
    /// Measure booking commits/s and availability latency against a real server on demo
    /// data, beside raw SQLite doing the same work.
    Bench {
        /// Demo properties to load (the figure uses 100000).
        #[arg(long, default_value_t = 100_000)]
        properties: usize,
        /// Seconds per phase.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Concurrent clients for the booking phases.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// Only the cache phase: hot reads with no cache, in process and on Redis.
        #[arg(long)]
        cache: bool,
        /// The Redis server of the cache phase (none: that row is skipped).
        #[arg(long, env = "INNKEEP_TEST_REDIS_URL", default_value = "")]
        redis: String,
        /// Run the PostgreSQL benchmark instead, in a fresh database on this server, beside pgbench.
        #[arg(long)]
        postgres: Option<String>,
        /// With --postgres: run with 1, 2, ... up to this many `innkeep serve` nodes.
        #[arg(long, default_value_t = 3)]
        nodes: usize,
        /// With --postgres: also run every phase, on both sides, at these client counts
        /// (e.g. `--sweep 16,32`), and compare the peak rates.
        #[arg(long, value_delimiter = ',')]
        sweep: Vec<usize>,
        /// Only the client event ingestion figures (embedded log, JetStream with --nats).
        #[arg(long)]
        ingest: bool,
        /// Events per batch (with --ingest).
        #[arg(long, default_value_t = 1000)]
        batch: usize,
        /// NATS JetStream to measure ingestion into (with --ingest), e.g. nats://127.0.0.1:4222.
        #[arg(long, default_value = "")]
        nats: String,
        /// Only the search and autocomplete figures, beside plain SQL.
        #[arg(long)]
        search: bool,
        /// With --search: the data directory to use (the demo is loaded into it if empty, and
        /// kept for the next run); a fresh temporary one otherwise.
        #[arg(long)]
        data: Option<PathBuf>,
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
    /// Administration.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Show the effective configuration (secrets masked).
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
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
enum SearchCommand {
    /// Rebuild the search index from the database and report its size and time.
    Reindex,
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
    use innkeep_app::Store;
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
            // With the demo, /readyz answers 503 until the demo is loaded and searchable.
            let server = Server::start_with(config, Arc::new(SystemClock), true, demo).await?;
            if demo {
                let s = innkeep::demo::load(&server.ports, &server.store, demo_properties, 42)
                    .await
                    .context("loading demo data")?;
                if s.properties > 0 {
                    tracing::info!(
                        properties = s.properties,
                        room_types = s.room_types,
                        bookings = s.bookings,
                        "demo data loaded"
                    );
                }
                server.ready_when_indexed().await?;
                eprintln!(
                    "Innkeep is serving the demo on http://{} (sign in as {} / {})",
                    server.addr,
                    innkeep::demo::DEMO_GUEST,
                    innkeep::demo::DEMO_PASSWORD
                );
            }
            let stop = server.stopper();
            tokio::spawn(async move {
                startup::shutdown_signal().await;
                let _ = stop.send(true);
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
        Command::Demo { data, properties, seed } => {
            set_data(config, data);
            let store = startup::open_store(config).await?;
            let ports = startup::ports(config, store.clone(), Arc::new(SystemClock), &startup::open_search()?);
            let start = std::time::Instant::now();
            let s = innkeep::demo::load(&ports, &store, properties, seed).await?;
            store.close().await;
            println!(
                "loaded {} properties, {} room types, {} bookings in {:.1} s",
                s.properties,
                s.room_types,
                s.bookings,
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
            let cmd = innkeep_app::auth::Register { email, password, name, role };
            let user = innkeep_app::auth::register(&ports, cmd, jiff::Timestamp::now())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            store.close().await;
            println!("created {} {} ({})", user.role.as_str(), user.id, user.email.as_str());
            Ok(())
        }
        Command::Bench { properties, seconds, concurrency, cache: true, redis, .. } => {
            innkeep::bench::cache::run(properties, seconds, concurrency, &redis).await
        }
        Command::Bench { properties, seconds, concurrency, postgres: Some(admin_url), nodes, sweep, .. } => {
            let opts =
                innkeep::bench::postgres::PostgresBench { admin_url, nodes, properties, seconds, concurrency, sweep };
            innkeep::bench::postgres::run(opts).await
        }
        Command::Bench { ingest: true, seconds, concurrency, batch, nats, .. } => {
            let opts = innkeep::bench::ingest::IngestBenchOptions { seconds, concurrency, batch, nats_url: nats };
            innkeep::bench::ingest::run(opts).await?;
            Ok(())
        }
        Command::Bench { properties, seconds, concurrency, search: true, data, .. } => {
            innkeep::bench::run_search(innkeep::bench::BenchOptions { properties, seconds, concurrency }, data).await
        }
        Command::Bench { properties, seconds, concurrency, .. } => {
            innkeep::bench::run(innkeep::bench::BenchOptions { properties, seconds, concurrency }).await?;
            Ok(())
        }
        Command::Events { command, data } => {
            set_data(config, data);
            let store = startup::open_store(config).await?;
            let result = events(command, &store).await;
            store.close().await;
            result
        }
        Command::Search { command: SearchCommand::Reindex, data } => {
            set_data(config, data);
            let store = startup::open_store(config).await?;
            let index = innkeep_search::SearchIndex::open(None)?;
            let started = std::time::Instant::now();
            let (_, n) = innkeep_search::freshness::rebuild(&store, &index).await.map_err(|e| anyhow::anyhow!(e))?;
            store.close().await;
            println!("indexed {n} properties in {:.2} s", started.elapsed().as_secs_f64());
            Ok(())
        }
        Command::Config { command: ConfigCommand::Print } => {
            print!("{}", config.masked_toml());
            Ok(())
        }
    }
}
