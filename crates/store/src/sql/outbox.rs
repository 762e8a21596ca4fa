//! The SQL store's `Outbox` role: the outbox, consumer positions, processed marks and dead letters.

use super::*;

#[async_trait]
impl Outbox for SqlStore {
    async fn events_after(&self, seq: i64, limit: u32) -> Result<Vec<StoredEvent>, StoreError> {
        self.number_events().await?;
        let rows = sqlx::query(
            "SELECT seq, id, type, version, occurred_at, tenant_id, aggregate_id, payload FROM outbox WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(seq)
        .bind(i64::from(limit))
        .fetch_all(&self.reader())
        .await
        .map_err(db_err)?;
        rows.iter().map(event_of).collect()
    }

    async fn last_event_seq(&self) -> Result<i64, StoreError> {
        self.number_events().await?;
        let v: Option<i64> =
            sqlx::query_scalar("SELECT MAX(seq) FROM outbox").fetch_one(&self.reader()).await.map_err(db_err)?;
        Ok(v.unwrap_or(0))
    }

    async fn consumer_position(&self, consumer: &str) -> Result<i64, StoreError> {
        let v: Option<i64> = sqlx::query_scalar("SELECT seq FROM consumer_positions WHERE consumer = $1")
            .bind(consumer)
            .fetch_optional(&self.reader())
            .await
            .map_err(db_err)?;
        Ok(v.unwrap_or(0))
    }

    async fn consumer_positions(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query("SELECT consumer, seq FROM consumer_positions ORDER BY consumer")
            .fetch_all(&self.reader())
            .await
            .map_err(db_err)?;
        rows.iter().map(|r| Ok((r.try_get("consumer").map_err(db_err)?, r.try_get("seq").map_err(db_err)?))).collect()
    }

    async fn set_consumer_position(&self, consumer: &str, seq: i64) -> Result<(), StoreError> {
        let query = sqlx::query(
            "INSERT INTO consumer_positions (consumer, seq, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (consumer) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at",
        )
        .bind(consumer)
        .bind(seq)
        .bind(ms(Timestamp::now()));
        if self.backend == Backend::Postgres {
            query.execute(&self.writer()).await.map_err(db_err)?;
            return Ok(());
        }
        // On SQLite without its own fsync, like a processed mark: a position lost with the
        // machine only makes the consumer read again what it handled (acting once rests on
        // the processed marks, or on the consumer being idempotent), while an fsync'd commit
        // per batch and consumer would take the single writer from the bookings.
        let mut conn = self.writer().acquire().await.map_err(db_err)?;
        let written = without_fsync(&mut conn, query).await;
        if written.is_err() {
            conn.close_on_drop();
        }
        self.faults.note(&written);
        written.map(|_| ())
    }

    async fn take_lease(&self, name: &str, holder: &str, now: Timestamp, until: Timestamp) -> Result<bool, StoreError> {
        let taken = sqlx::query(
            "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE leases.holder = excluded.holder OR leases.expires_at < $4",
        )
        .bind(name)
        .bind(holder)
        .bind(ms(until))
        .bind(ms(now))
        .execute(&self.writer())
        .await
        .map_err(db_err)?;
        Ok(taken.rows_affected() == 1)
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
            for row in in_list(sql, &[consumer.to_string()], chunk, self.reader()).await.map_err(db_err)? {
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
                .fetch_optional(&self.reader())
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
        .fetch_all(&self.reader())
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

    async fn event(&self, id: EventId) -> Result<Option<StoredEvent>, StoreError> {
        let row = sqlx::query(
            "SELECT COALESCE(seq, 0) AS seq, id, type, version, occurred_at, tenant_id, aggregate_id, payload FROM outbox WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.reader())
        .await
        .map_err(db_err)?;
        row.as_ref().map(event_of).transpose()
    }
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
    // SQLite: the same bargain (see [`without_fsync`]).
    let query = sqlx::query(
        "INSERT INTO processed_events (consumer, event_id, processed_at) VALUES ($1, $2, $3) ON CONFLICT (consumer, event_id) DO NOTHING",
    )
    .bind(consumer)
    .bind(event.to_string())
    .bind(ms(Timestamp::now()));
    Ok(without_fsync(conn, query).await? == 1)
}

/// Run one statement in autocommit on SQLite's writer `conn` without waiting for its fsync;
/// answers the rows it changed. In WAL mode `synchronous = NORMAL` commits without an fsync
/// and loses nothing when this process crashes, only when the machine does; the next durable
/// commit on the writer (every other write is `FULL`) flushes it with its own. The setting
/// goes back to `FULL` at once; after a failure the caller closes the connection, whose
/// setting is then unknown.
async fn without_fsync<'q>(
    conn: &mut sqlx::AnyConnection,
    query: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>,
) -> Result<u64, StoreError> {
    sqlx::raw_sql("PRAGMA synchronous = NORMAL").execute(&mut *conn).await.map_err(db_err)?;
    let r = query.execute(&mut *conn).await.map_err(db_err)?;
    sqlx::raw_sql("PRAGMA synchronous = FULL").execute(&mut *conn).await.map_err(db_err)?;
    Ok(r.rows_affected())
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

impl SqlStore {
    /// On PostgreSQL, number the events that can no longer be overtaken: those written by
    /// transactions older than every running one, in the order of their transactions (see
    /// migration 0010). One node numbers at a time (an advisory lock; the others skip), so
    /// numbers appear in increasing order. On SQLite a row is numbered when it is written:
    /// transactions there commit one at a time, in the order they write.
    async fn number_events(&self) -> Result<(), StoreError> {
        if self.backend != Backend::Postgres {
            return Ok(());
        }
        let mut tx = self.writer().begin().await.map_err(db_err)?;
        let mine: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(7236001)")
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
        if !mine {
            return tx.rollback().await.map_err(db_err);
        }
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM outbox WHERE seq IS NULL AND txid < pg_snapshot_xmin(pg_current_snapshot()) \
             ORDER BY txid, id LIMIT 5000",
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        if ids.is_empty() {
            // Ended here, not when the pool gets round to it: the lock is free for the next reader.
            return tx.rollback().await.map_err(db_err);
        }
        let mut numbers: Vec<i64> =
            sqlx::query_scalar("SELECT nextval(pg_get_serial_sequence('outbox', 'seq')) FROM generate_series(1, $1)")
                .bind(ids.len() as i64)
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err)?;
        numbers.sort_unstable();
        // The Any driver binds no arrays: the pairs go as one JSON document.
        let pairs: Vec<serde_json::Value> =
            ids.iter().zip(&numbers).map(|(id, n)| serde_json::json!({"id": id, "seq": n})).collect();
        sqlx::query(
            "UPDATE outbox SET seq = u.seq FROM json_to_recordset($1::json) AS u(id text, seq bigint) WHERE outbox.id = u.id",
        )
        .bind(serde_json::Value::Array(pairs).to_string())
        .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }
}
