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
        self.write(self.grouped(|mut tx| async move {
            let placed = hold_in(&mut tx, hold, price).await;
            (tx, placed)
        }))
        .await
    }

    /// One attempt at a status change (`transition` retries transient conflicts).
    async fn transition_once(&self, t: &Transition, event: &Event) -> Result<(), StoreError> {
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
            "UPDATE inventory SET sold = sold - 1 WHERE room_type_id = $1 AND night >= $2 AND night < $3 AND sold > 0",
        )
        .bind(b.room_type_id.to_string())
        .bind(date(b.check_in))
        .bind(date(b.check_out))
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
