//! The store port on SQL databases: SQLite (the embedded default, WAL mode) and
//! PostgreSQL, through sqlx's `Any` driver with one SQL dialect both accept (`$n`
//! parameters, `ON CONFLICT`, integers for booleans and times) and one migration set
//! per backend.

mod codec;
mod group;
mod primary;
mod replica;
mod sql;
mod tx;

use innkeep_app::StoreError;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};
use std::time::Duration;

pub use innkeep_app::store::{Accounts, Catalog, History, Inventory, Outbox, Photos, ReplicaStatus};
pub use primary::host_urls;
pub use sql::SqlStore;

/// Which database engine a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend of a `sqlite:` or `postgres:` URL.
    pub fn of(url: &str) -> Result<Backend, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::Database(format!("unsupported database URL scheme in {:?}", scheme(url))))
        }
    }
}

fn scheme(url: &str) -> &str {
    url.split(':').next().unwrap_or("")
}

/// How to connect.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// The primary; on PostgreSQL possibly a libpq-style host list (`postgres://u@h1,h2/db`),
    /// of which the writable host is used.
    pub url: String,
    pub max_connections: u32,
    pub statement_timeout: Duration,
    /// PostgreSQL read replicas for read-only work (ignored on SQLite).
    pub replicas: Vec<String>,
    /// A replica further behind than this stops serving reads until it catches up.
    pub replica_max_lag: Duration,
    /// How often replica lag and the primary's writability are checked.
    pub health_interval: Duration,
    /// SQLite: holds and status changes that meet a busy writer commit together (see
    /// `crates/store/src/group.rs`); false commits each alone. Ignored on PostgreSQL.
    pub group_commit: bool,
}

impl StoreOptions {
    /// Defaults for a URL.
    pub fn new(url: impl Into<String>) -> Self {
        StoreOptions {
            url: url.into(),
            max_connections: 16,
            statement_timeout: Duration::from_secs(10),
            replicas: Vec::new(),
            replica_max_lag: Duration::from_secs(10),
            health_interval: Duration::from_secs(1),
            group_commit: true,
        }
    }
}

pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    let text = e.to_string();
    match classify(&e) {
        Fault::Retry => StoreError::Retryable(text),
        Fault::Full => StoreError::Full(text),
        Fault::Storage => StoreError::Unavailable(text),
        Fault::Other => StoreError::Database(text),
    }
}

/// What a database error says about the storage.
#[derive(Debug, PartialEq, Eq)]
enum Fault {
    /// A conflict, a busy file or a lost or moved primary: the transaction may succeed if
    /// run again.
    Retry,
    /// No space left.
    Full,
    /// The storage failed (I/O error, read-only, cannot open the file).
    Storage,
    Other,
}

fn classify(e: &sqlx::Error) -> Fault {
    if let sqlx::Error::Io(io) = e
        && io.kind() == std::io::ErrorKind::StorageFull
    {
        return Fault::Full;
    }
    // The pool waited its whole acquire timeout for a connection (the database is down or
    // every connection is busy): answer now rather than wait that long again.
    if matches!(e, sqlx::Error::PoolTimedOut) {
        return Fault::Storage;
    }
    if replica::is_connection_error(e) {
        return Fault::Retry;
    }
    let sqlx::Error::Database(d) = e else { return Fault::Other };
    let code = d.code().unwrap_or_default();
    if d.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        // SQLite's extended result codes; the primary code is the low byte.
        return match code.parse::<i32>().map(|c| c & 0xff) {
            Ok(5 | 6 | 15) => Fault::Retry, // BUSY, LOCKED, PROTOCOL (a lock race)
            Ok(13) => Fault::Full,
            Ok(8 | 10 | 14) => Fault::Storage, // READONLY, IOERR, CANTOPEN
            _ => Fault::Other,
        };
    }
    // PostgreSQL SQLSTATEs: 40001 serialization_failure, 40P01 deadlock_detected, 25006
    // read_only_sql_transaction (the primary moved); 53100 disk_full; 53xxx insufficient
    // resources and 58030 io_error.
    match code.as_ref() {
        "40001" | "40P01" | "25006" => Fault::Retry,
        "53100" => Fault::Full,
        c if c.starts_with("53") || c == "58030" => Fault::Storage,
        _ => Fault::Other,
    }
}

/// How long a request waits for a database connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// The shape of a pool.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PoolSpec {
    backend: Backend,
    max: u32,
    statement_timeout: Duration,
    acquire_timeout: Duration,
}

async fn pool(url: &str, spec: PoolSpec) -> Result<AnyPool, StoreError> {
    pool_options(spec).connect(url).await.map_err(db_err)
}

/// A pool that connects on first use.
fn lazy_pool(url: &str, spec: PoolSpec) -> Result<AnyPool, StoreError> {
    pool_options(spec).connect_lazy(url).map_err(db_err)
}

fn pool_options(spec: PoolSpec) -> AnyPoolOptions {
    install_default_drivers();
    let backend = spec.backend;
    let ms = spec.statement_timeout.as_millis();
    // No ping before handing out a connection (sqlx's default is one round trip per
    // acquire): a SQLite connection cannot go stale, and on PostgreSQL a dead connection
    // fails its statement as a connection error, which the store already answers (another
    // replica or the primary for reads, failover and a retry for transactions).
    let opts = AnyPoolOptions::new()
        .max_connections(spec.max)
        .acquire_timeout(spec.acquire_timeout)
        .test_before_acquire(false);
    opts.after_connect(move |conn, _| {
        Box::pin(async move {
            match backend {
                Backend::Sqlite => {
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA synchronous = FULL").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    conn.execute(sqlx::AssertSqlSafe(format!("PRAGMA busy_timeout = {ms}"))).await?;
                }
                Backend::Postgres => {
                    conn.execute(sqlx::AssertSqlSafe(format!("SET statement_timeout = {ms}"))).await?;
                }
            }
            Ok(())
        })
    })
}

/// Open a store: one writer connection and a reader pool on SQLite (writers queue in
/// process instead of spinning on the file lock). On PostgreSQL one pool on the primary
/// (the writable host of a host list, followed on failover) and one per read replica,
/// checked every `health_interval`.
pub async fn open(options: &StoreOptions) -> Result<SqlStore, StoreError> {
    let backend = Backend::of(&options.url)?;
    install_default_drivers();
    let spec = PoolSpec {
        backend,
        max: options.max_connections,
        statement_timeout: options.statement_timeout,
        // A request waits at most this long for a connection (sqlx keeps retrying a refused
        // connection until then): a database that is down answers 503 in seconds, not minutes.
        acquire_timeout: ACQUIRE_TIMEOUT,
    };
    match backend {
        Backend::Sqlite => {
            let writer = pool(&options.url, PoolSpec { max: 1, ..spec }).await?;
            let reader = pool(&options.url, spec).await?;
            let store = SqlStore::new(backend, primary::Primary::fixed(&options.url, spec, writer), Some(reader), None);
            Ok(if options.group_commit { store } else { store.without_group_commit() })
        }
        Backend::Postgres => {
            let hosts = host_urls(&options.url);
            let primary = primary::Primary::open(hosts, spec).await?;
            let replicas = if options.replicas.is_empty() {
                None
            } else {
                let replica_spec = PoolSpec { acquire_timeout: Duration::from_secs(1), ..spec };
                Some(replica::Replicas::open(&options.replicas, replica_spec, options.replica_max_lag)?)
            };
            let store = SqlStore::new(backend, primary, None, replicas);
            store.watch(options.health_interval).await;
            Ok(store)
        }
    }
}

/// Apply the backend's migrations; running it again changes nothing. Nodes starting
/// together may race to create the migrations table, so a failed attempt is retried.
pub async fn migrate(store: &SqlStore) -> Result<(), StoreError> {
    let migrator = match store.backend() {
        Backend::Sqlite => sqlx::migrate!("migrations/sqlite"),
        Backend::Postgres => sqlx::migrate!("migrations/postgres"),
    };
    let mut attempt = 0;
    loop {
        match migrator.run(&store.writer()).await {
            Ok(()) => return Ok(()),
            Err(e) if attempt < 5 => {
                attempt += 1;
                tracing::warn!(error = %e, attempt, "migration attempt failed; retrying");
                tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
            }
            Err(e) => return Err(StoreError::Database(e.to_string())),
        }
    }
}

/// The SQLite URL of the database file in a data directory (created if missing).
pub fn sqlite_url(data_dir: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("innkeep.db").display())
}

/// Helpers for tests that need a fresh PostgreSQL database.
pub mod testing {
    use super::db_err;
    use innkeep_app::StoreError;
    use innkeep_app::event::StoredEvent;
    use innkeep_app::store::Outbox;
    use sqlx::Connection;
    use sqlx::Executor;
    use sqlx::postgres::PgConnection;

    /// Create a uniquely named database on the server of `admin_url`; returns its URL and name.
    pub async fn fresh_postgres_database(admin_url: &str) -> Result<(String, String), StoreError> {
        let name = format!("innkeep_test_{}", uuid::Uuid::now_v7().simple());
        let mut conn = PgConnection::connect(admin_url).await.map_err(db_err)?;
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.map_err(db_err)?;
        conn.close().await.map_err(db_err)?;
        let base = admin_url.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin_url);
        Ok((format!("{base}/{name}"), name))
    }

    /// The URL of a test server from the environment variable `var`, or `None` when it is not
    /// set and the test should skip; with `INNKEEP_TEST_REQUIRE_SERVERS` set (as in CI) a
    /// missing URL fails the test instead.
    pub fn server_url(var: &str) -> Option<String> {
        match std::env::var(var) {
            Ok(url) => Some(url),
            Err(_) => {
                assert!(std::env::var("INNKEEP_TEST_REQUIRE_SERVERS").is_err(), "{var} is required");
                eprintln!("skipping: {var} is not set");
                None
            }
        }
    }

    /// Every event committed so far, in outbox order. PostgreSQL numbers an event (and so
    /// shows it to readers) only once no older transaction is running anywhere on the
    /// server, other tests' included: this waits, at most 30 s, until every outbox row is
    /// numbered. On SQLite it answers at once.
    pub async fn settled_events(store: &crate::SqlStore) -> Result<Vec<StoredEvent>, StoreError> {
        let written: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM outbox").fetch_one(&store.writer()).await.map_err(db_err)?;
        events_since(store, 0, usize::try_from(written).unwrap_or(0)).await
    }

    /// The events after `seq`, once there are `n` of them (at most 30 s: see [`settled_events`]).
    pub async fn events_since(store: &crate::SqlStore, seq: i64, n: usize) -> Result<Vec<StoredEvent>, StoreError> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let events = store.events_after(seq, 1_000_000).await?;
            if events.len() >= n || std::time::Instant::now() > deadline {
                return Ok(events);
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Drop a database made by `fresh_postgres_database`.
    pub async fn drop_postgres_database(admin_url: &str, name: &str) -> Result<(), StoreError> {
        let mut conn = PgConnection::connect(admin_url).await.map_err(db_err)?;
        conn.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
            .await
            .map_err(db_err)?;
        conn.close().await.map_err(db_err)
    }
}
