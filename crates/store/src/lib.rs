//! The store port on SQL databases: SQLite (the embedded default, WAL mode) and
//! PostgreSQL, through sqlx's `Any` driver with one SQL dialect both accept (`$n`
//! parameters, `ON CONFLICT`, integers for booleans and times) and one migration set
//! per backend.

mod codec;
mod sql;

use innkeep_app::StoreError;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};
use std::time::Duration;

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
    pub url: String,
    pub max_connections: u32,
    pub statement_timeout: Duration,
}

impl StoreOptions {
    /// Defaults for a URL.
    pub fn new(url: impl Into<String>) -> Self {
        StoreOptions { url: url.into(), max_connections: 16, statement_timeout: Duration::from_secs(10) }
    }
}

pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    // 40001 serialization_failure, 40P01 deadlock_detected (PostgreSQL); SQLITE_BUSY (5).
    let retryable =
        matches!(&e, sqlx::Error::Database(d) if matches!(d.code().as_deref(), Some("40001" | "40P01" | "5")));
    if retryable { StoreError::Retryable(e.to_string()) } else { StoreError::Database(e.to_string()) }
}

/// Run a transaction again, with backoff, while it fails with a transient conflict.
pub(crate) async fn retrying<T, F, Fut>(mut attempt: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    let mut wait = Duration::from_millis(5);
    for _ in 0..5 {
        match attempt().await {
            Err(StoreError::Retryable(e)) => {
                tracing::debug!(error = %e, "transient conflict; retrying the transaction");
                tokio::time::sleep(wait).await;
                wait *= 3;
            }
            other => return other,
        }
    }
    attempt().await
}

async fn pool(url: &str, backend: Backend, max: u32, timeout: Duration) -> Result<AnyPool, StoreError> {
    install_default_drivers();
    let ms = timeout.as_millis();
    let opts = AnyPoolOptions::new().max_connections(max).acquire_timeout(Duration::from_secs(30));
    let opts = opts.after_connect(move |conn, _| {
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
    });
    opts.connect(url).await.map_err(db_err)
}

/// Open a store: one writer connection and a reader pool on SQLite (writers queue in
/// process instead of spinning on the file lock), one pool on PostgreSQL.
pub async fn open(options: &StoreOptions) -> Result<SqlStore, StoreError> {
    let backend = Backend::of(&options.url)?;
    let (writer, reader) = match backend {
        Backend::Sqlite => {
            let writer = pool(&options.url, backend, 1, options.statement_timeout).await?;
            let reader = pool(&options.url, backend, options.max_connections, options.statement_timeout).await?;
            (writer, reader)
        }
        Backend::Postgres => {
            let p = pool(&options.url, backend, options.max_connections, options.statement_timeout).await?;
            (p.clone(), p)
        }
    };
    Ok(SqlStore::new(backend, writer, reader))
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
        match migrator.run(store.writer()).await {
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

    /// Drop a database made by `fresh_postgres_database`.
    pub async fn drop_postgres_database(admin_url: &str, name: &str) -> Result<(), StoreError> {
        let mut conn = PgConnection::connect(admin_url).await.map_err(db_err)?;
        conn.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
            .await
            .map_err(db_err)?;
        conn.close().await.map_err(db_err)
    }
}
