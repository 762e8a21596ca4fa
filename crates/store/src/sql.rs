//! The store port in SQL. Every write is one transaction that also appends its event
//! to the outbox. Selling a night is a conditional update (`sold < units`) whose
//! affected rows are counted inside the transaction, so no two transactions can sell
//! the same last unit, in one process or many.

use crate::codec::{date, from_json, from_ms, ms, parse, parse_date, to_json};
use crate::primary::Primary;
use crate::replica::{Replicas, is_connection_error};
use crate::tx::{Faults, Tx};
use crate::{Backend, db_err};
use async_trait::async_trait;
use innkeep_app::event::{Event, EventKind, StoredEvent};
use innkeep_app::store::{
    Booking, BookingFilter, DeadLetter, HoldOutcome, Marks, NewHold, NewUser, NightRow, Photo, PriceHold, Property,
    RecentSearch, ReplicaStatus, RoomType, Transition, User,
};
use innkeep_app::{Store, StoreError};
use innkeep_core::{
    BookingId, Email, EventId, ImageKind, NightOverride, PhotoId, PropertyId, Role, RoomTypeId, Stay, TenantId, UserId,
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
}

impl SqlStore {
    pub(crate) fn new(
        backend: Backend,
        primary: Primary,
        sqlite_reader: Option<AnyPool>,
        replicas: Option<Replicas>,
    ) -> Self {
        SqlStore {
            backend,
            primary: Arc::new(primary),
            sqlite_reader,
            replicas: replicas.map(Arc::new),
            committed: Arc::new(Notify::new()),
            faults: Arc::new(Faults::default()),
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
        match Tx::begin(&self.primary.pool()).await {
            Err(e) if self.primary.can_fail_over() && is_connection_error(&e) => {
                self.primary.mark_suspect();
                self.primary.recover().await?;
                Tx::begin(&self.primary.pool()).await.map_err(db_err)
            }
            r => r.map_err(db_err),
        }
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
        created_at: from_ms(row.try_get("created_at").map_err(db_err)?)?,
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
    /// Bulk-load tenants, properties and room types in one transaction, with one
    /// `catalog.imported` event (used by the demo generator; the search index and other
    /// consumers rebuild from the database).
    async fn import_catalog(
        &self,
        tenants: &[(TenantId, String)],
        properties: &[Property],
        room_types: &[RoomType],
        event: &Event,
    ) -> Result<(), StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            let now = ms(event.occurred_at);
            for (id, name) in tenants {
                sqlx::query(
                    "INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
                )
                .bind(id.to_string())
                .bind(name)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            }
            for p in properties {
                insert_property_row(&mut tx, p).await?;
            }
            for rt in room_types {
                insert_room_type_row(&mut tx, rt).await?;
            }
            append_event(&mut tx, event).await?;
            self.commit(tx).await
        })
        .await
    }

    /// How many properties there are.
    async fn count_properties(&self) -> Result<i64, StoreError> {
        self.read_replica(
            |pool| async move { sqlx::query_scalar("SELECT COUNT(*) FROM properties").fetch_one(&pool).await },
            |_| true,
        )
        .await
    }

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

    async fn create_user(&self, new: &NewUser, event: &Event) -> Result<(), StoreError> {
        self.write(async {
            let u = &new.user;
            let mut tx = self.begin().await?;
            if let (Some(t), Some(name)) = (u.tenant_id, &new.tenant_name) {
                sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)")
                    .bind(t.to_string())
                    .bind(name)
                    .bind(ms(u.created_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            }
            let r = sqlx::query(
                "INSERT INTO users (id, email, name, role, tenant_id, tenant_role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(u.id.to_string())
            .bind(u.email.as_str())
            .bind(&u.name)
            .bind(u.role.as_str())
            .bind(u.tenant_id.map(|t| t.to_string()))
            .bind(u.tenant_id.map(|_| "owner"))
            .bind(&new.password_hash)
            .bind(ms(u.created_at))
            .execute(&mut *tx)
            .await;
            match r {
                Err(e) if is_unique_violation(&e) => return Err(StoreError::Duplicate("email")),
                r => r.map_err(db_err)?,
            };
            append_event(&mut tx, event).await?;
            self.commit(tx).await
        })
        .await
    }

    async fn user_credentials(&self, email: &Email) -> Result<Option<(User, String)>, StoreError> {
        let sql = "SELECT u.id, u.email, u.name, u.role, u.tenant_id, u.created_at, u.password_hash FROM users u WHERE u.email = $1";
        let Some(row) = sqlx::query(sql).bind(email.as_str()).fetch_optional(&self.reader()).await.map_err(db_err)?
        else {
            return Ok(None);
        };
        Ok(Some((user_of(&row)?, row.try_get("password_hash").map_err(db_err)?)))
    }

    async fn create_session(&self, token_hash: &str, user: UserId, expires_at: Timestamp) -> Result<(), StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            sqlx::query("INSERT INTO sessions (token_hash, user_id, expires_at, created_at) VALUES ($1, $2, $3, $4)")
                .bind(token_hash)
                .bind(user.to_string())
                .bind(ms(expires_at))
                .bind(ms(Timestamp::now()))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            self.commit(tx).await
        })
        .await
    }

    async fn session_user(&self, token_hash: &str, now: Timestamp) -> Result<Option<(User, Timestamp)>, StoreError> {
        let sql = "SELECT u.id, u.email, u.name, u.role, u.tenant_id, u.created_at, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > $2";
        let row =
            sqlx::query(sql).bind(token_hash).bind(ms(now)).fetch_optional(&self.reader()).await.map_err(db_err)?;
        row.as_ref().map(|r| Ok((user_of(r)?, from_ms(r.try_get("expires_at").map_err(db_err)?)?))).transpose()
    }

    async fn delete_session(&self, token_hash: &str, event: &Event) -> Result<(), StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(token_hash)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            append_event(&mut tx, event).await?;
            self.commit(tx).await
        })
        .await
    }

    async fn insert_property(&self, p: &Property, event: &Event) -> Result<(), StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            insert_property_row(&mut tx, p).await?;
            append_event(&mut tx, event).await?;
            self.commit(tx).await
        })
        .await
    }

    async fn update_property(&self, p: &Property, event: &Event) -> Result<(), StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            let r = sqlx::query(
                "UPDATE properties SET name = $1, city = $2, country = $3, latitude = $4, longitude = $5, doc = $6, updated_at = $7 WHERE id = $8",
            )
            .bind(&p.draft.name)
            .bind(&p.draft.address.city)
            .bind(p.draft.address.country.as_str())
            .bind(p.draft.latitude)
            .bind(p.draft.longitude)
            .bind(to_json(p)?)
            .bind(ms(p.updated_at))
            .bind(p.id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            if r.rows_affected() != 1 {
                return Err(StoreError::Stale);
            }
            append_event(&mut tx, event).await?;
            self.commit(tx).await
        })
        .await
    }

    async fn property(&self, id: PropertyId) -> Result<Option<Property>, StoreError> {
        self.doc_by_id("SELECT doc FROM properties WHERE id = $1", id.to_string()).await
    }

    async fn list_properties(
        &self,
        tenant: Option<TenantId>,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Property>, StoreError> {
        let rows = sqlx::query(
            "SELECT doc FROM properties WHERE ($1 IS NULL OR tenant_id = $1) ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3",
        )
        .bind(tenant.map(|t| t.to_string()))
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(&self.reader())
        .await
        .map_err(db_err)?;
        rows.iter().map(doc_of).collect()
    }

    async fn insert_room_type(&self, rt: &RoomType, event: &Event) -> Result<(), StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            insert_room_type_row(&mut tx, rt).await?;
            append_event(&mut tx, event).await?;
            self.commit(tx).await
        })
        .await
    }

    async fn update_room_type(&self, rt: &RoomType, from_night: Date, event: &Event) -> Result<(), StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            let r = sqlx::query("UPDATE room_types SET units = $1, doc = $2, updated_at = $3 WHERE id = $4")
                .bind(i64::from(rt.draft.units))
                .bind(to_json(rt)?)
                .bind(ms(rt.updated_at))
                .bind(rt.id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            if r.rows_affected() != 1 {
                return Err(StoreError::Stale);
            }
            let over = sqlx::query(
                "SELECT night, sold FROM inventory WHERE room_type_id = $1 AND night >= $2 AND units IS NULL AND sold > $3 ORDER BY night LIMIT 1",
            )
            .bind(rt.id.to_string())
            .bind(date(from_night))
            .bind(i64::from(rt.draft.units))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
            if let Some(row) = over {
                return Err(units_below_sold(&row)?);
            }
            append_event(&mut tx, event).await?;
            self.commit(tx).await
        })
        .await
    }

    async fn room_type(&self, id: RoomTypeId) -> Result<Option<RoomType>, StoreError> {
        self.doc_by_id("SELECT doc FROM room_types WHERE id = $1", id.to_string()).await
    }

    async fn room_type_with_property(&self, id: RoomTypeId) -> Result<Option<(RoomType, Property)>, StoreError> {
        let id = id.to_string();
        let row = self
            .read_replica(
                |pool| {
                    let id = id.clone();
                    async move {
                        sqlx::query(
                            "SELECT r.doc AS room_type, p.doc AS property FROM room_types r \
                             JOIN properties p ON p.id = r.property_id WHERE r.id = $1",
                        )
                        .bind(id)
                        .fetch_optional(&pool)
                        .await
                    }
                },
                Option::is_some,
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        let doc = |column: &str| row.try_get::<String, _>(column).map_err(db_err);
        Ok(Some((from_json(&doc("room_type")?)?, from_json(&doc("property")?)?)))
    }

    async fn room_types_of(&self, property: PropertyId) -> Result<Vec<RoomType>, StoreError> {
        let property = property.to_string();
        let rows = self
            .read_replica(
                |pool| {
                    let property = property.clone();
                    async move {
                        sqlx::query("SELECT doc FROM room_types WHERE property_id = $1 ORDER BY created_at, id")
                            .bind(property)
                            .fetch_all(&pool)
                            .await
                    }
                },
                |rows| !rows.is_empty(),
            )
            .await?;
        rows.iter().map(doc_of).collect()
    }

    async fn properties_by_ids(&self, ids: &[PropertyId]) -> Result<Vec<Property>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IN_LIST_MAX) {
            let sql = format!("SELECT doc FROM properties WHERE id IN ({})", placeholders(1, chunk.len()));
            let rows =
                self.read_replica(|pool| in_list(sql.clone(), &[], chunk, pool), |r| r.len() == chunk.len()).await?;
            for row in rows {
                out.push(doc_of(&row)?);
            }
        }
        Ok(out)
    }

    async fn room_types_of_many(&self, properties: &[PropertyId]) -> Result<Vec<RoomType>, StoreError> {
        let mut out = Vec::with_capacity(properties.len() * 2);
        for chunk in properties.chunks(IN_LIST_MAX) {
            let sql = format!(
                "SELECT doc FROM room_types WHERE property_id IN ({}) ORDER BY created_at, id",
                placeholders(1, chunk.len())
            );
            let rows = self.read_replica(|pool| in_list(sql.clone(), &[], chunk, pool), |r| !r.is_empty()).await?;
            for row in rows {
                out.push(doc_of(&row)?);
            }
        }
        Ok(out)
    }

    async fn all_room_types(&self, after: Option<RoomTypeId>, limit: u32) -> Result<Vec<RoomType>, StoreError> {
        let rows = sqlx::query("SELECT doc FROM room_types WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2")
            .bind(after.map(|a| a.to_string()))
            .bind(i64::from(limit))
            .fetch_all(&self.reader())
            .await
            .map_err(db_err)?;
        rows.iter().map(doc_of).collect()
    }

    async fn all_properties(&self, after: Option<PropertyId>, limit: u32) -> Result<Vec<Property>, StoreError> {
        let rows = sqlx::query("SELECT doc FROM properties WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2")
            .bind(after.map(|a| a.to_string()))
            .bind(i64::from(limit))
            .fetch_all(&self.reader())
            .await
            .map_err(db_err)?;
        rows.iter().map(doc_of).collect()
    }

    async fn set_nights(
        &self,
        room_type: RoomTypeId,
        range: &Stay,
        c: &NightOverride,
        event: &Event,
    ) -> Result<(), StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            let id = room_type.to_string();
            for night in range.each_night() {
                sqlx::query(
                    "INSERT INTO inventory (room_type_id, night, sold, units, price_minor, closed, min_stay) VALUES ($1, $2, 0, $3, $4, $5, $6) \
                     ON CONFLICT (room_type_id, night) DO UPDATE SET \
                     units = COALESCE(excluded.units, inventory.units), price_minor = COALESCE(excluded.price_minor, inventory.price_minor), \
                     closed = COALESCE(excluded.closed, inventory.closed), min_stay = COALESCE(excluded.min_stay, inventory.min_stay)",
                )
                .bind(&id)
                .bind(date(night))
                .bind(c.units.map(i64::from))
                .bind(c.price_minor)
                .bind(c.closed.map(i64::from))
                .bind(c.min_stay.map(i64::from))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            }
            let over = sqlx::query(
                "SELECT night, sold FROM inventory WHERE room_type_id = $1 AND night >= $2 AND night < $3 AND units IS NOT NULL AND sold > units ORDER BY night LIMIT 1",
            )
            .bind(&id)
            .bind(date(range.check_in()))
            .bind(date(range.check_out()))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
            if let Some(row) = over {
                return Err(units_below_sold(&row)?);
            }
            append_event(&mut tx, event).await?;
            self.commit(tx).await
        })
        .await
    }

    async fn nights(&self, room_type: RoomTypeId, range: &Stay) -> Result<Vec<NightRow>, StoreError> {
        let (rt, from, to) = (room_type.to_string(), date(range.check_in()), date(range.check_out()));
        let rows = self
            .read_replica(
                |pool| {
                    let (rt, from, to) = (rt.clone(), from.clone(), to.clone());
                    async move {
                        sqlx::query(
                            "SELECT night, sold, units, price_minor, closed, min_stay FROM inventory WHERE room_type_id = $1 AND night >= $2 AND night < $3 ORDER BY night",
                        )
                        .bind(rt)
                        .bind(from)
                        .bind(to)
                        .fetch_all(&pool)
                        .await
                    }
                },
                |_| true,
            )
            .await?;
        rows.iter().map(night_of).collect()
    }

    async fn nights_of_many(
        &self,
        room_types: &[RoomTypeId],
        range: &Stay,
    ) -> Result<Vec<(RoomTypeId, NightRow)>, StoreError> {
        let mut out = Vec::new();
        for chunk in room_types.chunks(IN_LIST_MAX) {
            let sql = format!(
                "SELECT room_type_id, night, sold, units, price_minor, closed, min_stay FROM inventory \
                 WHERE night >= $1 AND night < $2 AND room_type_id IN ({}) ORDER BY night",
                placeholders(3, chunk.len())
            );
            let dates = [date(range.check_in()), date(range.check_out())];
            let rows = self.read_replica(|pool| in_list(sql.clone(), &dates, chunk, pool), |_| true).await?;
            for row in rows {
                let id: RoomTypeId = parse(&row.try_get::<String, _>("room_type_id").map_err(db_err)?)?;
                out.push((id, night_of(&row)?));
            }
        }
        Ok(out)
    }

    async fn hold(&self, hold: &NewHold, price: &PriceHold<'_>) -> Result<HoldOutcome, StoreError> {
        self.retrying(|| self.hold_once(hold, price)).await
    }

    async fn transition(&self, t: &Transition, event: &Event) -> Result<(), StoreError> {
        self.retrying(|| self.transition_once(t, event)).await
    }

    async fn booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError> {
        // Read from the writer: a client reads its own booking right after writing it.
        let row = sqlx::query("SELECT doc FROM bookings WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.writer())
            .await
            .map_err(db_err)?;
        row.as_ref().map(doc_of).transpose()
    }

    async fn list_bookings(&self, f: &BookingFilter) -> Result<Vec<Booking>, StoreError> {
        let rows = sqlx::query(
            "SELECT doc FROM bookings WHERE ($1 IS NULL OR user_id = $1) AND ($2 IS NULL OR tenant_id = $2) \
             AND ($3 IS NULL OR property_id = $3) AND ($4 IS NULL OR status = $4) \
             AND ($5 IS NULL OR check_out > $5) AND ($6 IS NULL OR check_in < $6) \
             ORDER BY created_at DESC, id DESC LIMIT $7 OFFSET $8",
        )
        .bind(f.user_id.map(|v| v.to_string()))
        .bind(f.tenant_id.map(|v| v.to_string()))
        .bind(f.property_id.map(|v| v.to_string()))
        .bind(f.status.map(|v| v.as_str().to_string()))
        .bind(f.from.map(date))
        .bind(f.to.map(date))
        .bind(i64::from(f.limit))
        .bind(i64::from(f.offset))
        .fetch_all(&self.reader())
        .await
        .map_err(db_err)?;
        rows.iter().map(doc_of).collect()
    }

    async fn expired_holds(&self, now: Timestamp, limit: u32) -> Result<Vec<BookingId>, StoreError> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM bookings WHERE status = 'held' AND hold_expires_at <= $1 ORDER BY hold_expires_at LIMIT $2",
        )
        .bind(ms(now))
        .bind(i64::from(limit))
        .fetch_all(&self.writer())
        .await
        .map_err(db_err)?;
        ids.iter().map(|s| parse(s)).collect()
    }

    async fn events_after(&self, seq: i64, limit: u32) -> Result<Vec<StoredEvent>, StoreError> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT seq, id, type, version, occurred_at, tenant_id, aggregate_id, payload FROM outbox WHERE seq > $1 ORDER BY seq LIMIT $2"
            }
            Backend::Postgres => {
                "SELECT seq, id, type, version, occurred_at, tenant_id, aggregate_id, payload FROM outbox WHERE seq > $1 \
                 AND txid < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY seq LIMIT $2"
            }
        };
        let rows = sqlx::query(sql).bind(seq).bind(i64::from(limit)).fetch_all(&self.writer()).await.map_err(db_err)?;
        rows.iter().map(event_of).collect()
    }

    async fn last_event_seq(&self) -> Result<i64, StoreError> {
        let v: Option<i64> =
            sqlx::query_scalar("SELECT MAX(seq) FROM outbox").fetch_one(&self.writer()).await.map_err(db_err)?;
        Ok(v.unwrap_or(0))
    }

    async fn consumer_position(&self, consumer: &str) -> Result<i64, StoreError> {
        let v: Option<i64> = sqlx::query_scalar("SELECT seq FROM consumer_positions WHERE consumer = $1")
            .bind(consumer)
            .fetch_optional(&self.writer())
            .await
            .map_err(db_err)?;
        Ok(v.unwrap_or(0))
    }

    async fn consumer_positions(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query("SELECT consumer, seq FROM consumer_positions ORDER BY consumer")
            .fetch_all(&self.writer())
            .await
            .map_err(db_err)?;
        rows.iter().map(|r| Ok((r.try_get("consumer").map_err(db_err)?, r.try_get("seq").map_err(db_err)?))).collect()
    }

    async fn set_consumer_position(&self, consumer: &str, seq: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO consumer_positions (consumer, seq, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (consumer) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at",
        )
        .bind(consumer)
        .bind(seq)
        .bind(ms(Timestamp::now()))
        .execute(&self.writer())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn mark_processed(&self, consumer: &str, event: EventId) -> Result<bool, StoreError> {
        let mut conn = self.writer().acquire().await.map_err(db_err)?;
        let marked = mark_on(&mut conn, self.backend, consumer, event).await;
        if marked.is_err() {
            // After a failure the connection's state is unknown: it is not used again.
            conn.close_on_drop();
        }
        self.faults.note(&marked);
        marked
    }

    async fn marks<'a>(&'a self, consumer: &'a str) -> Result<Box<dyn Marks + 'a>, StoreError> {
        Ok(Box::new(SqlMarks { store: self, consumer, held: None }))
    }

    async fn processed_among(&self, consumer: &str, events: &[EventId]) -> Result<HashSet<EventId>, StoreError> {
        let mut out = HashSet::new();
        for chunk in events.chunks(IN_LIST_MAX) {
            let sql = format!(
                "SELECT event_id FROM processed_events WHERE consumer = $1 AND event_id IN ({})",
                placeholders(2, chunk.len())
            );
            for row in in_list(sql, &[consumer.to_string()], chunk, self.writer()).await.map_err(db_err)? {
                out.insert(parse(&row.try_get::<String, _>("event_id").map_err(db_err)?)?);
            }
        }
        Ok(out)
    }

    async fn was_processed(&self, consumer: &str, event: EventId) -> Result<bool, StoreError> {
        let v: Option<String> =
            sqlx::query_scalar("SELECT event_id FROM processed_events WHERE consumer = $1 AND event_id = $2")
                .bind(consumer)
                .bind(event.to_string())
                .fetch_optional(&self.writer())
                .await
                .map_err(db_err)?;
        Ok(v.is_some())
    }

    async fn add_dead_letter(&self, d: &DeadLetter) -> Result<(), StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            sqlx::query(
                "INSERT INTO dead_letters (consumer, seq, event_id, error, attempts, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (consumer, event_id) DO UPDATE SET error = excluded.error, attempts = excluded.attempts",
            )
            .bind(&d.consumer)
            .bind(d.seq)
            .bind(d.event_id.to_string())
            .bind(&d.error)
            .bind(i64::from(d.attempts))
            .bind(ms(d.created_at))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            self.commit(tx).await
        })
        .await
    }

    async fn dead_letters(&self, consumer: Option<&str>) -> Result<Vec<DeadLetter>, StoreError> {
        let rows = sqlx::query(
            "SELECT consumer, seq, event_id, error, attempts, created_at FROM dead_letters WHERE ($1 IS NULL OR consumer = $1) ORDER BY consumer, seq",
        )
        .bind(consumer)
        .fetch_all(&self.writer())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(DeadLetter {
                    consumer: r.try_get("consumer").map_err(db_err)?,
                    seq: r.try_get("seq").map_err(db_err)?,
                    event_id: parse(&r.try_get::<String, _>("event_id").map_err(db_err)?)?,
                    error: r.try_get("error").map_err(db_err)?,
                    attempts: u32::try_from(r.try_get::<i64, _>("attempts").map_err(db_err)?).unwrap_or(0),
                    created_at: from_ms(r.try_get("created_at").map_err(db_err)?)?,
                })
            })
            .collect()
    }

    async fn remove_dead_letter(&self, consumer: &str, event: EventId) -> Result<(), StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            sqlx::query("DELETE FROM dead_letters WHERE consumer = $1 AND event_id = $2")
                .bind(consumer)
                .bind(event.to_string())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            self.commit(tx).await
        })
        .await
    }

    async fn record_search(&self, user: UserId, query: &str, summary: &str, at: Timestamp) -> Result<(), StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            sqlx::query(
                "INSERT INTO search_history (id, user_id, query, summary, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(user.to_string())
            .bind(query)
            .bind(summary)
            .bind(ms(at))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            self.commit(tx).await
        })
        .await
    }

    fn replicas(&self) -> Vec<ReplicaStatus> {
        self.replica_status()
    }

    fn write_fault(&self) -> Option<innkeep_app::store::WriteFault> {
        self.faults.current()
    }

    async fn recent_searches(&self, user: UserId, limit: u32) -> Result<Vec<RecentSearch>, StoreError> {
        let rows = sqlx::query("SELECT query, summary, created_at FROM search_history WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2")
            .bind(user.to_string())
            .bind(i64::from(limit))
            .fetch_all(&self.writer())
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(RecentSearch {
                    query: r.try_get("query").map_err(db_err)?,
                    summary: r.try_get("summary").map_err(db_err)?,
                    searched_at: from_ms(r.try_get("created_at").map_err(db_err)?)?,
                })
            })
            .collect()
    }

    async fn insert_photo(&self, photo: &Photo, event: &Event) -> Result<(), StoreError> {
        self.write(async {
            self.retrying(|| async {
                let mut tx = self.begin().await?;
                sqlx::query(
                    "INSERT INTO photos (id, property_id, tenant_id, content_type, size, alt, object_key, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(photo.id.to_string())
                .bind(photo.property_id.to_string())
                .bind(photo.tenant_id.to_string())
                .bind(photo.kind.content_type())
                .bind(i64::try_from(photo.size).unwrap_or(i64::MAX))
                .bind(&photo.alt)
                .bind(&photo.key)
                .bind(ms(photo.created_at))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                append_event(&mut tx, event).await?;
                self.commit(tx).await
        })
        .await
    })
        .await
    }

    async fn photos_of(&self, property: PropertyId) -> Result<Vec<Photo>, StoreError> {
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(format!("{PHOTO_COLUMNS} WHERE property_id = $1 ORDER BY created_at, id")))
                .bind(property.to_string())
                .fetch_all(&self.reader())
                .await
                .map_err(db_err)?;
        rows.iter().map(photo_of).collect()
    }

    async fn photo(&self, id: PhotoId) -> Result<Option<Photo>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{PHOTO_COLUMNS} WHERE id = $1")))
            .bind(id.to_string())
            .fetch_optional(&self.reader())
            .await
            .map_err(db_err)?;
        row.as_ref().map(photo_of).transpose()
    }

    async fn cover_photos(&self, properties: &[PropertyId]) -> Result<Vec<Photo>, StoreError> {
        let mut covers: Vec<Photo> = Vec::new();
        for chunk in properties.chunks(100) {
            let marks = (1..=chunk.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
            let sql = format!("{PHOTO_COLUMNS} WHERE property_id IN ({marks}) ORDER BY created_at, id");
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for p in chunk {
                q = q.bind(p.to_string());
            }
            for row in q.fetch_all(&self.reader()).await.map_err(db_err)? {
                let photo = photo_of(&row)?;
                if !covers.iter().any(|c| c.property_id == photo.property_id) {
                    covers.push(photo);
                }
            }
        }
        Ok(covers)
    }

    async fn event(&self, id: EventId) -> Result<Option<StoredEvent>, StoreError> {
        let row = sqlx::query(
            "SELECT seq, id, type, version, occurred_at, tenant_id, aggregate_id, payload FROM outbox WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.writer())
        .await
        .map_err(db_err)?;
        row.as_ref().map(event_of).transpose()
    }
}

const PHOTO_COLUMNS: &str =
    "SELECT id, property_id, tenant_id, content_type, size, alt, object_key, created_at FROM photos";

fn photo_of(row: &AnyRow) -> Result<Photo, StoreError> {
    let ctype: String = row.try_get("content_type").map_err(db_err)?;
    Ok(Photo {
        id: parse(&row.try_get::<String, _>("id").map_err(db_err)?)?,
        property_id: parse(&row.try_get::<String, _>("property_id").map_err(db_err)?)?,
        tenant_id: parse(&row.try_get::<String, _>("tenant_id").map_err(db_err)?)?,
        kind: ImageKind::from_content_type(&ctype)
            .ok_or_else(|| StoreError::Corrupt(format!("photo content type {ctype}")))?,
        size: u64::try_from(row.try_get::<i64, _>("size").map_err(db_err)?).unwrap_or(0),
        alt: row.try_get("alt").map_err(db_err)?,
        key: row.try_get("object_key").map_err(db_err)?,
        created_at: from_ms(row.try_get("created_at").map_err(db_err)?)?,
    })
}

fn event_of(row: &AnyRow) -> Result<StoredEvent, StoreError> {
    let tenant: Option<String> = row.try_get("tenant_id").map_err(db_err)?;
    Ok(StoredEvent {
        seq: row.try_get("seq").map_err(db_err)?,
        event: Event {
            id: parse(&row.try_get::<String, _>("id").map_err(db_err)?)?,
            kind: {
                let kind: String = row.try_get("type").map_err(db_err)?;
                EventKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("unknown event type {kind:?}")))?
            },
            version: u16::try_from(row.try_get::<i64, _>("version").map_err(db_err)?).unwrap_or(1),
            occurred_at: from_ms(row.try_get("occurred_at").map_err(db_err)?)?,
            tenant_id: tenant.as_deref().map(parse).transpose()?,
            aggregate_id: parse(&row.try_get::<String, _>("aggregate_id").map_err(db_err)?)?,
            payload: from_json(&row.try_get::<String, _>("payload").map_err(db_err)?)?,
        },
    })
}

impl SqlStore {
    /// One attempt at placing a hold (`hold` retries transient conflicts).
    async fn hold_once(&self, hold: &NewHold, price: &PriceHold<'_>) -> Result<HoldOutcome, StoreError> {
        self.write(async {
            let user = hold.user_id.to_string();
            let mut tx = self.begin().await?;
            if let Some(key) = &hold.idempotency_key {
                let seen =
                    sqlx::query("SELECT request_hash, booking_id FROM idempotency_keys WHERE user_id = $1 AND key = $2")
                        .bind(&user)
                        .bind(key)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db_err)?;
                if let Some(row) = seen {
                    let hash: String = row.try_get("request_hash").map_err(db_err)?;
                    if hash != hold.request_hash {
                        tx.rollback().await?;
                        return Ok(HoldOutcome::KeyReused);
                    }
                    let id: String = row.try_get("booking_id").map_err(db_err)?;
                    let booking = booking_in(&mut tx, &id).await?;
                    tx.rollback().await?;
                    return Ok(HoldOutcome::Replayed(booking));
                }
            }
            let stay = hold.stay;
            let rt = hold.room_type_id.to_string();
            // Every night gets a row (one statement for the stay), so the update below can
            // take them all.
            let nights: Vec<String> = stay.each_night().map(date).collect();
            let values = (0..nights.len()).map(|i| format!("($1, ${}, 0)", i + 2)).collect::<Vec<_>>().join(", ");
            let insert = format!(
                "INSERT INTO inventory (room_type_id, night, sold) VALUES {values} ON CONFLICT (room_type_id, night) DO NOTHING"
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(insert)).bind(&rt);
            for n in &nights {
                q = q.bind(n);
            }
            q.execute(&mut *tx).await.map_err(db_err)?;
            // The decision: sell one unit of every night, only where one is left and open. The
            // nights come back as sold, and the stay is priced from them.
            let taken = sqlx::query(
                "UPDATE inventory SET sold = sold + 1 WHERE room_type_id = $1 AND night >= $2 AND night < $3 \
                 AND COALESCE(closed, 0) = 0 AND sold < COALESCE(units, (SELECT units FROM room_types WHERE id = $1)) \
                 RETURNING night, sold, units, price_minor, closed, min_stay",
            )
            .bind(&rt)
            .bind(date(stay.check_in()))
            .bind(date(stay.check_out()))
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
            if taken.len() != nights.len() {
                tx.rollback().await?;
                return Err(StoreError::SoldOut { night: self.first_full_night(&rt, &stay).await? });
            }
            let mut rows = taken.iter().map(night_of).collect::<Result<Vec<_>, _>>()?;
            rows.sort_by_key(|r| r.date);
            let (b, event) = match price(&rows) {
                Ok(priced) => priced,
                Err(e) => {
                    tx.rollback().await?;
                    return Ok(HoldOutcome::Refused(e));
                }
            };
            sqlx::query(
                "INSERT INTO bookings (id, status, tenant_id, property_id, room_type_id, user_id, check_in, check_out, hold_expires_at, total_minor, currency, doc, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            )
            .bind(b.id.to_string())
            .bind(b.status.as_str())
            .bind(b.tenant_id.to_string())
            .bind(b.property_id.to_string())
            .bind(&rt)
            .bind(&user)
            .bind(date(b.check_in))
            .bind(date(b.check_out))
            .bind(b.hold_expires_at.map(ms))
            .bind(b.total.minor)
            .bind(b.total.currency.code())
            .bind(to_json(&b)?)
            .bind(ms(b.created_at))
            .bind(ms(b.updated_at))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            if let Some(key) = &hold.idempotency_key {
                sqlx::query("INSERT INTO idempotency_keys (user_id, key, request_hash, booking_id, created_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(&user)
                    .bind(key)
                    .bind(&hold.request_hash)
                    .bind(b.id.to_string())
                    .bind(ms(b.created_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            }
            append_event(&mut tx, &event).await?;
            self.commit(tx).await?;
            Ok(HoldOutcome::Created(b, event))
        })
        .await
    }

    /// One attempt at a status change (`transition` retries transient conflicts).
    async fn transition_once(&self, t: &Transition, event: &Event) -> Result<(), StoreError> {
        self.write(async {
            let b = &t.booking;
            let mut tx = self.begin().await?;
            let r = sqlx::query("UPDATE bookings SET status = $1, hold_expires_at = $2, doc = $3, updated_at = $4 WHERE id = $5 AND status = $6")
                .bind(b.status.as_str())
                .bind(b.hold_expires_at.map(ms))
                .bind(to_json(b)?)
                .bind(ms(b.updated_at))
                .bind(b.id.to_string())
                .bind(t.from.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            if r.rows_affected() != 1 {
                return Err(StoreError::Stale);
            }
            if t.release {
                let released = sqlx::query("UPDATE inventory SET sold = sold - 1 WHERE room_type_id = $1 AND night >= $2 AND night < $3 AND sold > 0")
                    .bind(b.room_type_id.to_string())
                    .bind(date(b.check_in))
                    .bind(date(b.check_out))
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                if released.rows_affected() != u64::from(b.stay()?.nights()) {
                    return Err(StoreError::Corrupt(format!("booking {} held nights that were not sold", b.id)));
                }
            }
            append_event(&mut tx, event).await?;
            self.commit(tx).await
        })
        .await
    }
}

impl SqlStore {
    /// The first night of a stay that is closed or has no unit left (for the refusal's message).
    async fn first_full_night(&self, rt: &str, stay: &Stay) -> Result<Date, StoreError> {
        let night: Option<String> = sqlx::query_scalar(
            "SELECT night FROM inventory WHERE room_type_id = $1 AND night >= $2 AND night < $3 \
             AND (COALESCE(closed, 0) <> 0 OR sold >= COALESCE(units, (SELECT units FROM room_types WHERE id = $1))) ORDER BY night LIMIT 1",
        )
        .bind(rt)
        .bind(date(stay.check_in()))
        .bind(date(stay.check_out()))
        .fetch_optional(&self.writer())
        .await
        .map_err(db_err)?;
        night.as_deref().map(parse_date).transpose().map(|n| n.unwrap_or(stay.check_in()))
    }
}

/// Mark `event` processed by `consumer` on `conn`, committed on its own: one round trip.
async fn mark_on(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    consumer: &str,
    event: EventId,
) -> Result<bool, StoreError> {
    if backend == Backend::Postgres {
        // No wait for the WAL flush: a mark is lost only if the database itself crashes in
        // the next moment (the event is then handled once more); a crash of this process
        // loses none, since the commit is done. Otherwise every mark is one more fsync'd
        // commit beside each booking's. The simple protocol takes no parameters: the values
        // are a UUID, a number and our own consumer name, quoted.
        let sql = format!(
            "SET LOCAL synchronous_commit TO OFF; \
             INSERT INTO processed_events (consumer, event_id, processed_at) VALUES ('{}', '{}', {}) \
             ON CONFLICT (consumer, event_id) DO NOTHING",
            consumer.replace('\'', "''"),
            event,
            ms(Timestamp::now())
        );
        let r = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut *conn).await.map_err(db_err)?;
        return Ok(r.rows_affected() == 1);
    }
    let r = sqlx::query(
        "INSERT INTO processed_events (consumer, event_id, processed_at) VALUES ($1, $2, $3) ON CONFLICT (consumer, event_id) DO NOTHING",
    )
    .bind(consumer)
    .bind(event.to_string())
    .bind(ms(Timestamp::now()))
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(r.rows_affected() == 1)
}

/// A batch's marks: on PostgreSQL one connection held until the batch ends (released to
/// the pool once); on SQLite, whose single writer connection every write shares, the pool
/// for each mark.
struct SqlMarks<'a> {
    store: &'a SqlStore,
    consumer: &'a str,
    held: Option<sqlx::pool::PoolConnection<Any>>,
}

#[async_trait]
impl Marks for SqlMarks<'_> {
    async fn mark(&mut self, event: EventId) -> Result<bool, StoreError> {
        if self.store.backend != Backend::Postgres {
            return self.store.mark_processed(self.consumer, event).await;
        }
        let conn = match &mut self.held {
            Some(conn) => conn,
            None => self.held.insert(self.store.writer().acquire().await.map_err(db_err)?),
        };
        let r = mark_on(conn, Backend::Postgres, self.consumer, event).await;
        if r.is_err() {
            // A failed connection is not used again, by this batch or by the pool.
            conn.close_on_drop();
            self.held = None;
        }
        r
    }
}

fn units_below_sold(row: &AnyRow) -> Result<StoreError, StoreError> {
    Ok(StoreError::UnitsBelowSold {
        night: parse_date(&row.try_get::<String, _>("night").map_err(db_err)?)?,
        sold: u32::try_from(row.try_get::<i64, _>("sold").map_err(db_err)?).unwrap_or(0),
    })
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

fn night_of(row: &AnyRow) -> Result<NightRow, StoreError> {
    let opt = |c: &str| row.try_get::<Option<i64>, _>(c).map_err(db_err);
    Ok(NightRow {
        date: parse_date(&row.try_get::<String, _>("night").map_err(db_err)?)?,
        sold: u32::try_from(row.try_get::<i64, _>("sold").map_err(db_err)?).unwrap_or(0),
        overrides: NightOverride {
            units: opt("units")?.map(|v| u32::try_from(v).unwrap_or(0)),
            price_minor: opt("price_minor")?,
            closed: opt("closed")?.map(|v| v != 0),
            min_stay: opt("min_stay")?.map(|v| u16::try_from(v).unwrap_or(1)),
        },
    })
}
