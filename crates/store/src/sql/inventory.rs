//! The SQL store's `Inventory` role: nights, holds and bookings: where a night is sold, once.

use super::*;

#[async_trait]
impl Inventory for SqlStore {
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
        // A client reads its own booking right after writing it: from a reader that sees
        // every commit (SQLite's readers, PostgreSQL's primary), not from the single writer
        // connection every booking waits for.
        let row = sqlx::query("SELECT doc FROM bookings WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.reader())
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

    async fn booked_stays(&self, user: UserId, limit: u32) -> Result<Vec<BookedStay>, StoreError> {
        let rows = sqlx::query(
            "SELECT property_id, status, created_at FROM bookings WHERE user_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(user.to_string())
        .bind(i64::from(limit))
        .fetch_all(&self.reader())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|row| {
                let text = |c: &str| row.try_get::<String, _>(c).map_err(db_err);
                let status = text("status")?;
                Ok(BookedStay {
                    property_id: parse(&text("property_id")?)?,
                    status: BookingStatus::parse(&status)
                        .ok_or_else(|| StoreError::Corrupt(format!("unknown booking status {status}")))?,
                    created_at: from_ms(row.try_get::<i64, _>("created_at").map_err(db_err)?)?,
                })
            })
            .collect()
    }

    async fn all_bookings(&self, after: Option<BookingId>, limit: u32) -> Result<Vec<Booking>, StoreError> {
        let rows = sqlx::query("SELECT doc FROM bookings WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2")
            .bind(after.map(|a| a.to_string()))
            .bind(i64::from(limit))
            .fetch_all(&self.writer())
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
}

impl SqlStore {
    /// One attempt at placing a hold (`hold` retries transient conflicts).
    async fn hold_once(&self, hold: &NewHold, price: &PriceHold<'_>) -> Result<HoldOutcome, StoreError> {
        if self.backend == Backend::Postgres {
            return self.write(self.hold_in_one_call(hold, price)).await;
        }
        self.write(self.grouped(|mut tx| async move {
            let placed = hold_in(&mut tx, hold, price).await;
            (tx, placed)
        }))
        .await
    }

    /// One attempt at a status change (`transition` retries transient conflicts).
    async fn transition_once(&self, t: &Transition, event: &Event) -> Result<(), StoreError> {
        if self.backend == Backend::Postgres {
            return self.write(self.transition_in_one_call(t, event)).await;
        }
        self.write(self.grouped(|mut tx| async move {
            let moved = async {
                apply_transition(&mut tx, t).await?;
                append_event(&mut tx, event).await?;
                Ok(((), Keep::Yes))
            }
            .await;
            (tx, moved)
        }))
        .await
    }

    /// PostgreSQL: a hold in one call of `innkeep_hold` (migration 0022), one round trip and
    /// one transaction, priced from the nights as read with the room type (`NewHold::nights`)
    /// or, on a retry, just before it. The call sells the nights only if their prices and
    /// minimum stays (all pricing reads of them) are still those, so a change in between is
    /// a new attempt with a fresh read, never a wrong price.
    async fn hold_in_one_call(&self, hold: &NewHold, price: &PriceHold<'_>) -> Result<HoldOutcome, StoreError> {
        let mut read_with_room_type = hold.nights.as_deref();
        for _ in 0..PRICE_CHANGES_MAX {
            let rows = match read_with_room_type.take() {
                Some(stored) => as_held(&hold.stay, stored, hold.rooms),
                None => self.nights_as_held(hold).await?,
            };
            let priced = price(&rows);
            match self.call_hold(hold, &priced_from(&rows), priced.as_ref().ok()).await? {
                HoldCall::PriceChanged => continue,
                HoldCall::Created => {
                    self.committed.notify_waiters();
                    return match priced {
                        Ok((b, event)) => Ok(HoldOutcome::Created(b, event)),
                        Err(_) => Err(StoreError::Corrupt("a refused hold was stored".into())),
                    };
                }
                HoldCall::Replayed(b) => return Ok(HoldOutcome::Replayed(*b)),
                HoldCall::KeyReused => return Ok(HoldOutcome::KeyReused),
                HoldCall::Refused => {
                    return match priced {
                        Err(e) => Ok(HoldOutcome::Refused(e)),
                        Ok(_) => Err(StoreError::Corrupt("a priced hold was refused".into())),
                    };
                }
            }
        }
        Err(StoreError::Retryable("the nights' prices kept changing while the hold was placed".into()))
    }

    /// The stored nights of the hold's stay from the primary, one row per night, as selling
    /// them would leave them (`sold` counts the hold; a night without a row has none sold).
    async fn nights_as_held(&self, hold: &NewHold) -> Result<Vec<NightRow>, StoreError> {
        let stay = hold.stay;
        let rows = sqlx::query(
            "SELECT night, sold, units, price_minor, closed, min_stay FROM inventory WHERE room_type_id = $1 AND night >= $2 AND night < $3 ORDER BY night",
        )
        .bind(hold.room_type_id.to_string())
        .bind(date(stay.check_in()))
        .bind(date(stay.check_out()))
        .fetch_all(&self.writer())
        .await
        .map_err(db_err)?;
        let stored = rows.iter().map(night_of).collect::<Result<Vec<_>, _>>()?;
        Ok(as_held(&stay, &stored, hold.rooms))
    }

    /// One call of `innkeep_hold`: with `priced`, store the booking and its event if the key
    /// is new, every night has a unit left and the nights are as `expected`; without, only
    /// say which of those would have stopped it (else `Refused`), changing nothing.
    async fn call_hold(
        &self,
        hold: &NewHold,
        expected: &str,
        priced: Option<&(Booking, Event)>,
    ) -> Result<HoldCall, StoreError> {
        let b = priced.map(|p| &p.0);
        let e = priced.map(|p| &p.1);
        let doc = b.map(to_json).transpose()?;
        let payload = e.map(|e| to_json(&e.payload)).transpose()?;
        let stay = hold.stay;
        let mut conn = self.one_statement().await?;
        let q = sqlx::query(
            "SELECT outcome, booking_doc FROM innkeep_hold($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
             $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)",
        )
        .bind(hold.room_type_id.to_string())
        .bind(i64::from(hold.rooms))
        .bind(hold.user_id.to_string())
        .bind(date(stay.check_in()))
        .bind(date(stay.check_out()))
        .bind(hold.idempotency_key.clone())
        .bind(hold.request_hash.clone())
        .bind(expected.to_string())
        .bind(priced.is_none())
        .bind(b.map(|b| b.id.to_string()))
        .bind(b.map(|b| b.status.as_str().to_string()))
        .bind(b.map(|b| b.tenant_id.to_string()))
        .bind(b.map(|b| b.property_id.to_string()))
        .bind(b.and_then(|b| b.hold_expires_at.map(ms)))
        .bind(b.map(|b| b.total.minor))
        .bind(b.map(|b| b.total.currency.code().to_string()))
        .bind(doc)
        .bind(b.map(|b| ms(b.created_at)))
        .bind(b.map(|b| ms(b.updated_at)))
        .bind(e.map(|e| e.id.to_string()))
        .bind(e.map(|e| e.kind.as_str().to_string()))
        .bind(e.map(|e| i64::from(e.version)))
        .bind(e.map(|e| ms(e.occurred_at)))
        .bind(e.and_then(|e| e.tenant_id.map(|t| t.to_string())))
        .bind(e.map(|e| e.aggregate_id.to_string()))
        .bind(payload);
        // `fetch_all` reads the answer to its end, past the commit of the statement's own
        // transaction; the first row alone would not say the commit succeeded.
        let answer = q.fetch_all(&mut *conn).await;
        let rows = match answer {
            Ok(rows) => rows,
            Err(err) => {
                let called = refusal(&err);
                if let Some(r) = called {
                    conn.answered();
                    return r;
                }
                let err = db_err(err);
                if !breaks_the_transaction(&err) {
                    conn.answered();
                }
                return Err(err);
            }
        };
        conn.answered();
        let row = rows.first().ok_or_else(|| StoreError::Corrupt("innkeep_hold answered no row".into()))?;
        let outcome: String = row.try_get("outcome").map_err(db_err)?;
        match outcome.as_str() {
            "created" => Ok(HoldCall::Created),
            "key_reused" => Ok(HoldCall::KeyReused),
            "replayed" => {
                let doc: String = row.try_get("booking_doc").map_err(db_err)?;
                Ok(HoldCall::Replayed(Box::new(from_json(&doc)?)))
            }
            other => Err(StoreError::Corrupt(format!("innkeep_hold answered {other}"))),
        }
    }

    /// PostgreSQL: a status change in one call of `innkeep_transition` (migrations 0022, 0023).
    async fn transition_in_one_call(&self, t: &Transition, event: &Event) -> Result<(), StoreError> {
        let b = &t.booking;
        let nights = i64::from(b.stay()?.nights());
        let (doc, payload) = (to_json(b)?, to_json(&event.payload)?);
        let mut conn = self.one_statement().await?;
        let answer = sqlx::query_scalar::<_, String>(
            "SELECT innkeep_transition($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
        )
        .bind(b.id.to_string())
        .bind(t.from.as_str())
        .bind(b.status.as_str())
        .bind(b.hold_expires_at.map(ms))
        .bind(doc)
        .bind(ms(b.updated_at))
        .bind(t.release)
        .bind(b.room_type_id.to_string())
        .bind(date(b.check_in))
        .bind(date(b.check_out))
        .bind(nights)
        .bind(i64::from(b.rooms))
        .bind(event.id.to_string())
        .bind(event.kind.as_str())
        .bind(i64::from(event.version))
        .bind(ms(event.occurred_at))
        .bind(event.tenant_id.map(|t| t.to_string()))
        .bind(event.aggregate_id.to_string())
        .bind(payload)
        // Read to the end, past the commit (see `call_hold`).
        .fetch_all(&mut *conn)
        .await;
        let answer = match answer {
            Ok(a) => a,
            Err(err) => {
                let err = match &err {
                    sqlx::Error::Database(d) if d.code().as_deref() == Some("IK003") => {
                        StoreError::Corrupt(d.message().to_string())
                    }
                    _ => db_err(err),
                };
                if !breaks_the_transaction(&err) {
                    conn.answered();
                }
                return Err(err);
            }
        };
        conn.answered();
        match answer.first().map(String::as_str) {
            Some("moved") => {
                self.committed.notify_waiters();
                Ok(())
            }
            Some("stale") => Err(StoreError::Stale),
            other => Err(StoreError::Corrupt(format!("innkeep_transition answered {other:?}"))),
        }
    }
}

/// How many times a hold is priced again because its nights changed in between, before it
/// gives up as a transient conflict (which `hold` retries again, with backoff).
const PRICE_CHANGES_MAX: usize = 4;

/// What one call of `innkeep_hold` did.
enum HoldCall {
    Created,
    Replayed(Box<Booking>),
    KeyReused,
    /// The stay was refused by pricing, and nothing else would have stopped it.
    Refused,
    /// The nights' prices or minimum stays changed since they were read: nothing changed.
    PriceChanged,
}

/// The answer an error raised by `innkeep_hold` stands for, if it is one of its own
/// (each rolled the call back whole; the connection is sound).
fn refusal(err: &sqlx::Error) -> Option<Result<HoldCall, StoreError>> {
    let sqlx::Error::Database(d) = err else { return None };
    match d.code().as_deref() {
        Some("IK001") => Some(parse_date(d.message()).and_then(|night| Err(StoreError::SoldOut { night }))),
        Some("IK002") => Some(Ok(HoldCall::PriceChanged)),
        Some("IK004") => Some(Ok(HoldCall::Refused)),
        _ => None,
    }
}

/// The nights of `stay` as selling them would leave them, from their stored rows: one per
/// night in night order, `sold` counting the hold's `rooms` (a night without a row has none
/// sold).
fn as_held(stay: &Stay, stored: &[NightRow], rooms: u16) -> Vec<NightRow> {
    let rooms = u32::from(rooms);
    stay.each_night()
        .map(|d| match stored.iter().find(|r| r.date == d) {
            Some(r) => NightRow { sold: r.sold + rooms, ..*r },
            None => NightRow { date: d, sold: rooms, overrides: NightOverride::default() },
        })
        .collect()
}

/// What pricing read of the nights, as `innkeep_hold` compares it with the nights it sells:
/// `price:min_stay` per night in night order, empty where a night sets none.
fn priced_from(rows: &[NightRow]) -> String {
    let text = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    rows.iter()
        .map(|r| format!("{}:{}", text(r.overrides.price_minor), text(r.overrides.min_stay.map(i64::from))))
        .collect::<Vec<_>>()
        .join(",")
}

/// Place a hold inside the caller's transaction: what it did, and whether its changes are
/// to be kept (a replay or a refused price only read).
async fn hold_in(tx: &mut Tx, hold: &NewHold, price: &PriceHold<'_>) -> Result<(HoldOutcome, Keep), StoreError> {
    let user = hold.user_id.to_string();
    if let Some(key) = &hold.idempotency_key {
        let seen = sqlx::query("SELECT request_hash, booking_id FROM idempotency_keys WHERE user_id = $1 AND key = $2")
            .bind(&user)
            .bind(key)
            .fetch_optional(&mut **tx)
            .await
            .map_err(db_err)?;
        if let Some(row) = seen {
            let hash: String = row.try_get("request_hash").map_err(db_err)?;
            if hash != hold.request_hash {
                return Ok((HoldOutcome::KeyReused, Keep::No));
            }
            let id: String = row.try_get("booking_id").map_err(db_err)?;
            let booking = booking_in(tx, &id).await?;
            return Ok((HoldOutcome::Replayed(booking), Keep::No));
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
    q.execute(&mut **tx).await.map_err(db_err)?;
    // The decision: sell the hold's units of every night, only where that many are left and
    // the night is open. The nights come back as sold, and the stay is priced from them.
    let taken = sqlx::query(
        "UPDATE inventory SET sold = sold + $4 WHERE room_type_id = $1 AND night >= $2 AND night < $3 \
                 AND COALESCE(closed, 0) = 0 AND sold + $4 <= COALESCE(units, (SELECT units FROM room_types WHERE id = $1)) \
                 RETURNING night, sold, units, price_minor, closed, min_stay",
    )
    .bind(&rt)
    .bind(date(stay.check_in()))
    .bind(date(stay.check_out()))
    .bind(i64::from(hold.rooms))
    .fetch_all(&mut **tx)
    .await
    .map_err(db_err)?;
    let mut rows = taken.iter().map(night_of).collect::<Result<Vec<_>, _>>()?;
    if rows.len() != nights.len() {
        // The first night the update did not take is closed or has no unit left.
        let night = stay.each_night().find(|n| !rows.iter().any(|r| r.date == *n)).unwrap_or(stay.check_in());
        return Err(StoreError::SoldOut { night });
    }
    rows.sort_by_key(|r| r.date);
    let (b, event) = match price(&rows) {
        Ok(priced) => priced,
        Err(e) => return Ok((HoldOutcome::Refused(e), Keep::No)),
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
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
    if let Some(key) = &hold.idempotency_key {
        sqlx::query("INSERT INTO idempotency_keys (user_id, key, request_hash, booking_id, created_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(&user)
                    .bind(key)
                    .bind(&hold.request_hash)
                    .bind(b.id.to_string())
                    .bind(ms(b.created_at))
                    .execute(&mut **tx)
                    .await
                    .map_err(db_err)?;
    }
    append_event(tx, &event).await?;
    Ok((HoldOutcome::Created(b, event), Keep::Yes))
}

/// Move a booking to its new status if it is still in `t.from` (else `Stale`), releasing its
/// nights when `t.release`, inside the caller's transaction.
pub(super) async fn apply_transition(tx: &mut Tx, t: &Transition) -> Result<(), StoreError> {
    let b = &t.booking;
    let r = sqlx::query(
        "UPDATE bookings SET status = $1, hold_expires_at = $2, doc = $3, updated_at = $4 WHERE id = $5 AND status = $6",
    )
    .bind(b.status.as_str())
    .bind(b.hold_expires_at.map(ms))
    .bind(to_json(b)?)
    .bind(ms(b.updated_at))
    .bind(b.id.to_string())
    .bind(t.from.as_str())
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    if r.rows_affected() != 1 {
        return Err(StoreError::Stale);
    }
    if t.release {
        let released = sqlx::query(
            "UPDATE inventory SET sold = sold - $4 WHERE room_type_id = $1 AND night >= $2 AND night < $3 AND sold >= $4",
        )
        .bind(b.room_type_id.to_string())
        .bind(date(b.check_in))
        .bind(date(b.check_out))
        .bind(i64::from(b.rooms))
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
        if released.rows_affected() != u64::from(b.stay()?.nights()) {
            return Err(StoreError::Corrupt(format!("booking {} held nights that were not sold", b.id)));
        }
    }
    Ok(())
}

pub(super) fn units_below_sold(row: &AnyRow) -> Result<StoreError, StoreError> {
    Ok(StoreError::UnitsBelowSold {
        night: parse_date(&row.try_get::<String, _>("night").map_err(db_err)?)?,
        sold: u32::try_from(row.try_get::<i64, _>("sold").map_err(db_err)?).unwrap_or(0),
    })
}

pub(super) fn night_of(row: &AnyRow) -> Result<NightRow, StoreError> {
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
