//! The store port in SQL. Every write is one transaction that also appends its event
//! to the outbox. Selling a night is a conditional update (`sold < units`) whose
//! affected rows are counted inside the transaction, so no two transactions can sell
//! the same last unit, in one process or many.

mod accounts;
mod audit;
mod billing;
mod catalog;
mod channels;
mod data_rights;
mod history;
mod inventory;
mod notifications;
mod operator;
mod outbox;
mod payments;
mod photos;
mod reviews;
mod team;
mod two_factor;

use crate::codec::{date, from_json, from_ms, ms, parse, parse_date, to_json};
use crate::group::{Group, Keep, breaks_the_transaction};
use crate::primary::Primary;
use crate::replica::{Replicas, is_connection_error};
use crate::tx::{Faults, OneStatement, Tx};
use crate::{Backend, db_err};
use async_trait::async_trait;
use innkeep_app::event::{Event, EventKind, StoredEvent};
use innkeep_app::store::{
    AccountToken, BookedStay, Booking, BookingFilter, DeadLetter, HoldOutcome, Marks, NewHold, NewUser, NightRow,
    Photo, PriceHold, Property, RecentSearch, ReplicaStatus, RoomType, SessionRecord, TokenPurpose, Transition, User,
};
use innkeep_app::store::{Accounts, Catalog, History, Inventory, Outbox, Photos};
use innkeep_app::{Store, StoreError};
use innkeep_core::{
    BookingId, BookingStatus, Email, EventId, ImageKind, NightOverride, PhotoId, PropertyId, Role, RoomTypeId,
    StaffRole, Stay, StayLimits, TenantId, UserId,
};
use jiff::Timestamp;
use jiff::civil::Date;
use sqlx::any::AnyRow;
use sqlx::{Any, AnyPool, Row};
use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// The SQL store.
///
/// Where each read goes on PostgreSQL with read replicas (SQLite and PostgreSQL without
/// replicas read as before):
/// - to a replica (falling back to the primary when none serves or the read fails with a
///   connection error): `nights` (calendars, availability, the price of a search
///   candidate or a quote), `room_types_of`, `property`, `room_type`, `count_properties`.
///   `property` and `room_type` that find nothing, and `room_types_of` that finds none,
///   ask the primary again, so a host who has just created a property can add a room
///   type to it. An edit to an existing row shows up there after the replica's lag.
/// - to the primary: every write; every read of bookings (a guest sees the booking they
///   just made), users and sessions (sign-in right after sign-up), idempotency keys; the
///   outbox, consumer positions, dead letters and search history; `list_properties` (a
///   host's own list right after creating one); `all_properties` / `all_room_types` (the
///   index rebuild must match the outbox position it starts following from); `ready`.
///   The booking decision itself is always the conditional update in the primary's
///   transaction.
#[derive(Clone)]
pub struct SqlStore {
    backend: Backend,
    primary: Arc<Primary>,
    /// SQLite's pool of readers beside its single writer connection.
    sqlite_reader: Option<AnyPool>,
    replicas: Option<Arc<Replicas>>,
    committed: Arc<Notify>,
    faults: Arc<Faults>,
    /// SQLite's commit group for holds and status changes.
    group: Option<Arc<Group>>,
}

impl SqlStore {
    pub(crate) fn new(
        backend: Backend,
        primary: Primary,
        sqlite_reader: Option<AnyPool>,
        replicas: Option<Replicas>,
    ) -> Self {
        let committed = Arc::new(Notify::new());
        let group = (backend == Backend::Sqlite).then(|| Arc::new(Group::new(committed.clone())));
        SqlStore {
            backend,
            primary: Arc::new(primary),
            sqlite_reader,
            replicas: replicas.map(Arc::new),
            committed,
            faults: Arc::new(Faults::default()),
            group,
        }
    }

    /// Measure the replicas now, then check them and the primary every `every` in the
    /// background (until the store is closed or dropped).
    pub(crate) async fn watch(&self, every: Duration) {
        if let Some(r) = &self.replicas {
            r.check(&self.primary.pool()).await;
        }
        if self.replicas.is_none() && !self.primary.can_fail_over() {
            return;
        }
        let primary = Arc::downgrade(&self.primary);
        let replicas = self.replicas.as_ref().map(Arc::downgrade);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every.max(Duration::from_millis(50)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(primary) = primary.upgrade() else { return };
                if primary.is_closed() {
                    return;
                }
                primary.check().await;
                if let Some(r) = replicas.as_ref().and_then(|r| r.upgrade()) {
                    r.check(&primary.pool()).await;
                }
            }
        });
    }

    /// This store with every read on the primary: for consumers that follow the outbox
    /// and must read at least what the event they handle wrote (the search index).
    pub fn on_primary(&self) -> SqlStore {
        SqlStore { replicas: None, ..self.clone() }
    }

    /// The read replicas as last measured, for /readyz, /metrics and the operator pages.
    pub fn replica_status(&self) -> Vec<ReplicaStatus> {
        self.replicas.as_ref().map(|r| r.status()).unwrap_or_default()
    }

    /// Which host of a `database.url` host list takes the writes now (0 without a list).
    pub fn primary_host(&self) -> usize {
        self.primary.current_host()
    }

    /// A read-only query that may run on a replica: on one that serves, else on the
    /// primary; again on the primary if the replica fails to answer or `found` says its
    /// answer may be behind (nothing found).
    async fn read_replica<T, F, Fut>(&self, query: F, found: impl Fn(&T) -> bool) -> Result<T, StoreError>
    where
        F: Fn(AnyPool) -> Fut,
        Fut: Future<Output = Result<T, sqlx::Error>>,
    {
        if let Some(replica) = self.replicas.as_ref().and_then(|r| r.pick()) {
            match query(replica.pool.clone()).await {
                Ok(v) if found(&v) => {
                    replica.served_one();
                    return Ok(v);
                }
                Ok(_) => {}
                Err(e) if is_connection_error(&e) => replica.mark_down(&e),
                // A standby may cancel a query that conflicts with replay (40001).
                Err(sqlx::Error::Database(d)) if d.code().as_deref() == Some("40001") => {}
                Err(e) => return Err(db_err(e)),
            }
        }
        query(self.reader()).await.map_err(db_err)
    }

    /// The document of the row with this id, read where [`read_replica`](Self::read_replica)
    /// says (again on the primary when a replica does not have it yet).
    async fn doc_by_id<T: serde::de::DeserializeOwned>(
        &self,
        sql: &'static str,
        id: String,
    ) -> Result<Option<T>, StoreError> {
        let row = self
            .read_replica(
                |pool| {
                    let id = id.clone();
                    async move { sqlx::query(sql).bind(id).fetch_optional(&pool).await }
                },
                Option::is_some,
            )
            .await?;
        row.as_ref().map(doc_of).transpose()
    }

    /// Run a transaction again, with backoff, while it fails with a transient conflict or
    /// a lost primary (which is looked for again before the next attempt).
    async fn retrying<T, F, Fut>(&self, mut attempt: F) -> Result<T, StoreError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, StoreError>>,
    {
        let mut wait = Duration::from_millis(5);
        for _ in 0..6 {
            match attempt().await {
                Err(StoreError::Retryable(e)) => {
                    tracing::debug!(error = %e, "transient failure; retrying the transaction");
                    self.primary.mark_suspect();
                    tokio::time::sleep(wait).await;
                    wait *= 3;
                }
                other => return other,
            }
        }
        attempt().await
    }

    /// This store with every hold and status change committed alone (no commit group).
    pub(crate) fn without_group_commit(self) -> SqlStore {
        SqlStore { group: None, ..self }
    }

    /// Whether holds and status changes commit in groups.
    #[cfg(test)]
    pub(crate) fn commits_in_groups(&self) -> bool {
        self.group.is_some()
    }

    /// Run one hold or status change and answer it once committed: on SQLite in the
    /// writer's commit group (see [`crate::group`]), on PostgreSQL in a transaction of its
    /// own. `work` gets the transaction and gives it back with its outcome.
    async fn grouped<T, F, Fut>(&self, work: F) -> Result<T, StoreError>
    where
        F: FnOnce(Tx) -> Fut,
        Fut: Future<Output = (Tx, Result<(T, Keep), StoreError>)>,
    {
        if let Some(group) = &self.group {
            return group.run(&self.primary.pool(), work).await;
        }
        let (tx, result) = work(self.begin().await?).await;
        match result {
            Ok((value, Keep::Yes)) => {
                self.commit(tx).await?;
                Ok(value)
            }
            Ok((value, Keep::No)) => {
                tx.rollback().await?;
                Ok(value)
            }
            // A refusal keeps the connection; after a storage failure it is closed (dropped).
            Err(e) if !breaks_the_transaction(&e) => {
                tx.rollback().await?;
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    /// Notified after every commit, so outbox consumers wake without polling.
    pub fn commits(&self) -> Arc<Notify> {
        self.committed.clone()
    }

    async fn commit(&self, tx: Tx) -> Result<(), StoreError> {
        tx.commit().await.map_err(db_err)?;
        self.committed.notify_waiters();
        Ok(())
    }

    /// Run a write and note what its outcome says about the storage: a write refused by
    /// the storage (full, I/O error, read-only) marks writes as failing, for /readyz and
    /// /metrics; a write that commits clears the mark.
    async fn write<T>(&self, work: impl Future<Output = Result<T, StoreError>>) -> Result<T, StoreError> {
        let outcome = work.await;
        self.faults.note(&outcome);
        outcome
    }

    /// Why writes fail now, if they do.
    pub fn write_fault(&self) -> Option<innkeep_app::store::WriteFault> {
        self.faults.current()
    }

    /// Which engine this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool that writes (on the current primary).
    pub fn writer(&self) -> AnyPool {
        self.primary.pool()
    }

    /// The pool for reads that must see the latest writes: SQLite's readers, or the
    /// PostgreSQL primary.
    pub fn reader(&self) -> AnyPool {
        self.sqlite_reader.clone().unwrap_or_else(|| self.primary.pool())
    }

    /// Close every connection (the SQLite WAL is checkpointed on the last close).
    pub async fn close(&self) {
        if let Some(r) = &self.sqlite_reader {
            r.close().await;
        }
        if let Some(rs) = &self.replicas {
            rs.close().await;
        }
        self.primary.close().await;
    }

    async fn begin(&self) -> Result<Tx, StoreError> {
        if self.primary.is_suspect() {
            self.primary.recover().await?;
        }
        match Tx::begin(&self.primary.pool(), self.backend).await {
            Err(e) if self.primary.can_fail_over() && is_connection_error(&e) => {
                self.primary.mark_suspect();
                self.primary.recover().await?;
                Tx::begin(&self.primary.pool(), self.backend).await.map_err(db_err)
            }
            r => r.map_err(db_err),
        }
    }

    /// A connection of the primary for one statement in autocommit (see [`OneStatement`]).
    async fn one_statement(&self) -> Result<OneStatement, StoreError> {
        if self.primary.is_suspect() {
            self.primary.recover().await?;
        }
        OneStatement::acquire(&self.primary.pool()).await.map_err(db_err)
    }
}

async fn append_event(tx: &mut Tx, e: &Event) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO outbox (id, type, version, occurred_at, tenant_id, aggregate_id, payload) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(e.id.to_string())
    .bind(e.kind.as_str())
    .bind(i64::from(e.version))
    .bind(ms(e.occurred_at))
    .bind(e.tenant_id.map(|t| t.to_string()))
    .bind(e.aggregate_id.to_string())
    .bind(to_json(&e.payload)?)
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

async fn insert_property_row(tx: &mut Tx, p: &Property) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO properties (id, tenant_id, name, city, country, latitude, longitude, doc, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(p.id.to_string())
    .bind(p.tenant_id.to_string())
    .bind(&p.draft.name)
    .bind(&p.draft.address.city)
    .bind(p.draft.address.country.as_str())
    .bind(p.draft.latitude)
    .bind(p.draft.longitude)
    .bind(to_json(p)?)
    .bind(ms(p.created_at))
    .bind(ms(p.updated_at))
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

async fn insert_room_type_row(tx: &mut Tx, rt: &RoomType) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO room_types (id, property_id, tenant_id, units, doc, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(rt.id.to_string())
    .bind(rt.property_id.to_string())
    .bind(rt.tenant_id.to_string())
    .bind(i64::from(rt.draft.units))
    .bind(to_json(rt)?)
    .bind(ms(rt.created_at))
    .bind(ms(rt.updated_at))
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// The columns `user_of` reads, of `users u`.
const USER_COLUMNS: &str =
    "u.id, u.email, u.name, u.role, u.tenant_id, u.staff_role, u.created_at, u.locale, u.currency";

fn user_of(row: &AnyRow) -> Result<User, StoreError> {
    let email: String = row.try_get("email").map_err(db_err)?;
    let role: String = row.try_get("role").map_err(db_err)?;
    let tenant: Option<String> = row.try_get("tenant_id").map_err(db_err)?;
    Ok(User {
        id: parse::<UserId>(&row.try_get::<String, _>("id").map_err(db_err)?)?,
        email: Email::parse(&email).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        name: row.try_get("name").map_err(db_err)?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role}")))?,
        tenant_id: tenant.as_deref().map(parse::<TenantId>).transpose()?,
        staff_role: match row.try_get::<Option<String>, _>("staff_role").map_err(db_err)? {
            Some(r) => Some(StaffRole::parse(&r).ok_or_else(|| StoreError::Corrupt(format!("staff role {r}")))?),
            None => None,
        },
        created_at: from_ms(row.try_get("created_at").map_err(db_err)?)?,
        locale: innkeep_core::Locale::parse(&row.try_get::<String, _>("locale").map_err(db_err)?).unwrap_or_default(),
        currency: row
            .try_get::<Option<String>, _>("currency")
            .map_err(db_err)?
            .as_deref()
            .map(payments::currency)
            .transpose()?,
    })
}

fn doc_of<T: serde::de::DeserializeOwned>(row: &AnyRow) -> Result<T, StoreError> {
    from_json(&row.try_get::<String, _>("doc").map_err(db_err)?)
}

async fn booking_in(tx: &mut Tx, id: &str) -> Result<Booking, StoreError> {
    let row =
        sqlx::query("SELECT doc FROM bookings WHERE id = $1").bind(id).fetch_one(&mut **tx).await.map_err(db_err)?;
    doc_of(&row)
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            d.is_unique_violation()
                || d.message().contains("UNIQUE constraint failed")
                || d.code().as_deref() == Some("23505")
        }
        _ => false,
    }
}

#[async_trait]
impl Store for SqlStore {
    async fn ready(&self) -> Result<(), StoreError> {
        let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = TRUE")
            .fetch_one(&self.reader())
            .await
            .map_err(db_err)?;
        let known = match self.backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite").iter().count(),
            Backend::Postgres => sqlx::migrate!("migrations/postgres").iter().count(),
        };
        if applied < known as i64 {
            return Err(StoreError::Database(format!("{applied} of {known} migrations applied")));
        }
        Ok(())
    }

    fn replicas(&self) -> Vec<ReplicaStatus> {
        self.replica_status()
    }

    fn write_fault(&self) -> Option<innkeep_app::store::WriteFault> {
        self.faults.current()
    }
}

/// Run `sql` with `first` and then `ids` as its parameters; all rows.
async fn in_list<I: ToString>(
    sql: String,
    first: &[String],
    ids: &[I],
    pool: AnyPool,
) -> Result<Vec<AnyRow>, sqlx::Error> {
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for v in first {
        q = q.bind(v.clone());
    }
    for id in ids {
        q = q.bind(id.to_string());
    }
    q.fetch_all(&pool).await
}

/// Ids per `IN (...)` list: well below SQLite's and PostgreSQL's parameter limits.
const IN_LIST_MAX: usize = 500;

/// `$from, $from+1, ...`: `n` numbered parameters.
fn placeholders(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}
