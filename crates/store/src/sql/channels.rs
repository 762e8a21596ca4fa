//! The SQL store's `ChannelStore` role: iCalendar export feeds, imported feeds and the
//! nights they block (each holding one unit, taken as a booking takes it).

use super::*;
use innkeep_app::channels::{
    Applied, ChannelStore, ExportNight, FeedNight, IcalExport, IcalFeed, SyncEvents, SyncResult, SyncStatus,
};
use innkeep_app::ota::OtaCodes;
use innkeep_app::tenant_data::TenantData;
use std::collections::BTreeMap;
use uuid::Uuid;

const FEED_COLUMNS: &str = "SELECT id, tenant_id, room_type_id, name, url, etag, last_modified, next_sync_at, \
     last_sync_at, last_status, last_error, created_at FROM ical_feeds";

fn feed_of(row: &AnyRow) -> Result<IcalFeed, StoreError> {
    let status: Option<String> = row.try_get("last_status").map_err(db_err)?;
    Ok(IcalFeed {
        id: parse(&row.try_get::<String, _>("id").map_err(db_err)?)?,
        tenant_id: parse(&row.try_get::<String, _>("tenant_id").map_err(db_err)?)?,
        room_type_id: parse(&row.try_get::<String, _>("room_type_id").map_err(db_err)?)?,
        name: row.try_get("name").map_err(db_err)?,
        url: row.try_get("url").map_err(db_err)?,
        etag: row.try_get("etag").map_err(db_err)?,
        last_modified: row.try_get("last_modified").map_err(db_err)?,
        next_sync_at: from_ms(row.try_get("next_sync_at").map_err(db_err)?)?,
        last_sync_at: row.try_get::<Option<i64>, _>("last_sync_at").map_err(db_err)?.map(from_ms).transpose()?,
        last_status: status.as_deref().and_then(SyncStatus::parse),
        last_error: row.try_get("last_error").map_err(db_err)?,
        created_at: from_ms(row.try_get("created_at").map_err(db_err)?)?,
    })
}

fn export_of(row: &AnyRow) -> Result<IcalExport, StoreError> {
    Ok(IcalExport {
        room_type_id: parse(&row.try_get::<String, _>("room_type_id").map_err(db_err)?)?,
        tenant_id: parse(&row.try_get::<String, _>("tenant_id").map_err(db_err)?)?,
        token: row.try_get("token").map_err(db_err)?,
        created_at: from_ms(row.try_get("created_at").map_err(db_err)?)?,
    })
}

/// The nights a feed blocks, read inside a transaction.
async fn feed_nights(tx: &mut Tx, id: &str) -> Result<Vec<FeedNight>, StoreError> {
    let rows = sqlx::query("SELECT night, uid, applied FROM ical_blocks WHERE feed_id = $1 ORDER BY night")
        .bind(id)
        .fetch_all(&mut **tx)
        .await
        .map_err(db_err)?;
    rows.iter().map(feed_night_of).collect()
}

fn feed_night_of(row: &AnyRow) -> Result<FeedNight, StoreError> {
    Ok(FeedNight {
        night: parse_date(&row.try_get::<String, _>("night").map_err(db_err)?)?,
        uid: row.try_get("uid").map_err(db_err)?,
        applied: row.try_get::<i64, _>("applied").map_err(db_err)? != 0,
    })
}

/// Take one unit of a night for a feed, only while one is left (as a hold does): whether
/// it was taken.
async fn take_unit(tx: &mut Tx, room_type: &str, night: Date) -> Result<bool, StoreError> {
    sqlx::query("INSERT INTO inventory (room_type_id, night, sold) VALUES ($1, $2, 0) ON CONFLICT (room_type_id, night) DO NOTHING")
        .bind(room_type)
        .bind(date(night))
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    let taken = sqlx::query(
        "UPDATE inventory SET sold = sold + 1 WHERE room_type_id = $1 AND night = $2 \
         AND sold < COALESCE(units, (SELECT units FROM room_types WHERE id = $1))",
    )
    .bind(room_type)
    .bind(date(night))
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(taken.rows_affected() == 1)
}

/// Give back the unit a feed held on a night.
async fn release_unit(tx: &mut Tx, room_type: &str, night: Date) -> Result<(), StoreError> {
    let released =
        sqlx::query("UPDATE inventory SET sold = sold - 1 WHERE room_type_id = $1 AND night = $2 AND sold > 0")
            .bind(room_type)
            .bind(date(night))
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
    if released.rows_affected() != 1 {
        return Err(StoreError::Corrupt(format!("a feed held {night} of room type {room_type}, which was not sold")));
    }
    Ok(())
}

#[async_trait]
impl ChannelStore for SqlStore {
    async fn ical_export(&self, room_type: RoomTypeId) -> Result<Option<IcalExport>, StoreError> {
        let row =
            sqlx::query("SELECT room_type_id, tenant_id, token, created_at FROM ical_exports WHERE room_type_id = $1")
                .bind(room_type.to_string())
                .fetch_optional(&self.reader())
                .await
                .map_err(db_err)?;
        row.as_ref().map(export_of).transpose()
    }

    async fn ical_export_by_token(&self, token: &str) -> Result<Option<IcalExport>, StoreError> {
        let row = sqlx::query("SELECT room_type_id, tenant_id, token, created_at FROM ical_exports WHERE token = $1")
            .bind(token)
            .fetch_optional(&self.reader())
            .await
            .map_err(db_err)?;
        row.as_ref().map(export_of).transpose()
    }

    async fn put_ical_export(&self, e: &IcalExport) -> Result<(), StoreError> {
        self.write(async {
            self.retrying(|| async {
                let mut tx = self.begin().await?;
                sqlx::query(
                    "INSERT INTO ical_exports (room_type_id, tenant_id, token, created_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (room_type_id) DO UPDATE SET token = excluded.token, created_at = excluded.created_at",
                )
                .bind(e.room_type_id.to_string())
                .bind(e.tenant_id.to_string())
                .bind(&e.token)
                .bind(ms(e.created_at))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                self.commit(tx).await
            })
            .await
        })
        .await
    }

    async fn delete_ical_export(&self, room_type: RoomTypeId) -> Result<(), StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            sqlx::query("DELETE FROM ical_exports WHERE room_type_id = $1")
                .bind(room_type.to_string())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            self.commit(tx).await
        })
        .await
    }

    async fn export_nights(
        &self,
        room_type: RoomTypeId,
        from: Date,
        to: Date,
    ) -> Result<(Vec<ExportNight>, u32), StoreError> {
        let rt = room_type.to_string();
        let units: Option<i64> = sqlx::query_scalar("SELECT units FROM room_types WHERE id = $1")
            .bind(&rt)
            .fetch_optional(&self.reader())
            .await
            .map_err(db_err)?;
        let rows = sqlx::query(
            "SELECT i.night, i.sold, COALESCE(i.units, r.units) AS units, COALESCE(i.closed, 0) AS closed, \
             (SELECT COUNT(*) FROM ical_blocks b WHERE b.room_type_id = i.room_type_id AND b.night = i.night \
              AND b.applied = 1) AS imported \
             FROM inventory i JOIN room_types r ON r.id = i.room_type_id \
             WHERE i.room_type_id = $1 AND i.night >= $2 AND i.night < $3 ORDER BY i.night",
        )
        .bind(&rt)
        .bind(date(from))
        .bind(date(to))
        .fetch_all(&self.reader())
        .await
        .map_err(db_err)?;
        let count = |row: &AnyRow, c: &str| -> Result<u32, StoreError> {
            Ok(u32::try_from(row.try_get::<i64, _>(c).map_err(db_err)?).unwrap_or(0))
        };
        let nights = rows
            .iter()
            .map(|row| {
                Ok(ExportNight {
                    night: parse_date(&row.try_get::<String, _>("night").map_err(db_err)?)?,
                    units: count(row, "units")?,
                    sold: count(row, "sold")?,
                    closed: row.try_get::<i64, _>("closed").map_err(db_err)? != 0,
                    imported: count(row, "imported")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok((nights, units.map_or(0, |u| u32::try_from(u).unwrap_or(0))))
    }

    async fn insert_ical_feed(&self, f: &IcalFeed) -> Result<(), StoreError> {
        self.write(async {
            self.retrying(|| async {
                let mut tx = self.begin().await?;
                sqlx::query(
                    "INSERT INTO ical_feeds (id, tenant_id, room_type_id, name, url, next_sync_at, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(f.id.to_string())
                .bind(f.tenant_id.to_string())
                .bind(f.room_type_id.to_string())
                .bind(&f.name)
                .bind(&f.url)
                .bind(ms(f.next_sync_at))
                .bind(ms(f.created_at))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                self.commit(tx).await
            })
            .await
        })
        .await
    }

    async fn ical_feed(&self, id: Uuid) -> Result<Option<IcalFeed>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{FEED_COLUMNS} WHERE id = $1")))
            .bind(id.to_string())
            .fetch_optional(&self.writer())
            .await
            .map_err(db_err)?;
        row.as_ref().map(feed_of).transpose()
    }

    async fn ical_feeds(&self, room_type: RoomTypeId) -> Result<Vec<IcalFeed>, StoreError> {
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(format!("{FEED_COLUMNS} WHERE room_type_id = $1 ORDER BY created_at, id")))
                .bind(room_type.to_string())
                .fetch_all(&self.writer())
                .await
                .map_err(db_err)?;
        rows.iter().map(feed_of).collect()
    }

    async fn ical_feed_nights(&self, id: Uuid) -> Result<Vec<FeedNight>, StoreError> {
        let rows = sqlx::query("SELECT night, uid, applied FROM ical_blocks WHERE feed_id = $1 ORDER BY night")
            .bind(id.to_string())
            .fetch_all(&self.writer())
            .await
            .map_err(db_err)?;
        rows.iter().map(feed_night_of).collect()
    }

    async fn delete_ical_feed(&self, id: Uuid, events: SyncEvents<'_>) -> Result<Applied, StoreError> {
        self.write(async {
            self.retrying(|| async {
                let mut tx = self.begin().await?;
                let feed = id.to_string();
                let room_type: Option<String> = sqlx::query_scalar("SELECT room_type_id FROM ical_feeds WHERE id = $1")
                    .bind(&feed)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?;
                let Some(room_type) = room_type else {
                    tx.rollback().await?;
                    return Ok(Applied::default());
                };
                let mut applied = Applied::default();
                for n in feed_nights(&mut tx, &feed).await? {
                    if n.applied {
                        release_unit(&mut tx, &room_type, n.night).await?;
                        applied.released.push(n.night);
                    }
                }
                for statement in ["DELETE FROM ical_blocks WHERE feed_id = $1", "DELETE FROM ical_feeds WHERE id = $1"]
                {
                    sqlx::query(statement).bind(&feed).execute(&mut *tx).await.map_err(db_err)?;
                }
                for e in events(&applied) {
                    append_event(&mut tx, &e).await?;
                }
                self.commit(tx).await?;
                Ok(applied)
            })
            .await
        })
        .await
    }

    async fn schedule_ical_feed(&self, id: Uuid, at: Timestamp) -> Result<(), StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            sqlx::query("UPDATE ical_feeds SET next_sync_at = $1 WHERE id = $2")
                .bind(ms(at))
                .bind(id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            self.commit(tx).await
        })
        .await
    }

    async fn lease_due_ical_feeds(
        &self,
        now: Timestamp,
        until: Timestamp,
        limit: u32,
    ) -> Result<Vec<IcalFeed>, StoreError> {
        // Most looks find nothing due: they are answered by a read, without a write
        // transaction.
        let due: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM ical_feeds WHERE next_sync_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)",
        )
        .bind(ms(now))
        .fetch_one(&self.writer())
        .await
        .map_err(db_err)?;
        if due == 0 {
            return Ok(Vec::new());
        }
        self.write(async {
            self.retrying(|| async {
                let mut tx = self.begin().await?;
                // The outer condition is checked again on each row as it is updated: two
                // nodes never both take a feed.
                let sql = format!(
                    "UPDATE ical_feeds SET lease_until = $2 WHERE id IN (SELECT id FROM ical_feeds \
                     WHERE next_sync_at <= $1 AND (lease_until IS NULL OR lease_until <= $1) \
                     ORDER BY next_sync_at LIMIT {}) AND next_sync_at <= $1 AND (lease_until IS NULL OR lease_until <= $1) \
                     RETURNING id",
                    limit.clamp(1, 100)
                );
                let ids: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .bind(ms(now))
                    .bind(ms(until))
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db_err)?;
                let mut feeds = Vec::with_capacity(ids.len());
                for id in &ids {
                    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{FEED_COLUMNS} WHERE id = $1")))
                        .bind(id)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    feeds.push(feed_of(&row)?);
                }
                self.commit(tx).await?;
                Ok(feeds)
            })
            .await
        })
        .await
    }

    async fn record_ical_sync(
        &self,
        id: Uuid,
        result: &SyncResult,
        at: Timestamp,
        next: Timestamp,
        events: SyncEvents<'_>,
    ) -> Result<Option<Applied>, StoreError> {
        self.write(async {
            self.retrying(|| async {
                let mut tx = self.begin().await?;
                let feed = id.to_string();
                let room_type: Option<String> = sqlx::query_scalar("SELECT room_type_id FROM ical_feeds WHERE id = $1")
                    .bind(&feed)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?;
                let Some(room_type) = room_type else {
                    tx.rollback().await?;
                    return Ok(None);
                };
                let mut applied = Applied::default();
                if let Some(wanted) = &result.nights {
                    let had: BTreeMap<Date, FeedNight> =
                        feed_nights(&mut tx, &feed).await?.into_iter().map(|n| (n.night, n)).collect();
                    for (night, old) in &had {
                        if wanted.contains_key(night) {
                            continue;
                        }
                        if old.applied {
                            release_unit(&mut tx, &room_type, *night).await?;
                            applied.released.push(*night);
                        }
                        sqlx::query("DELETE FROM ical_blocks WHERE feed_id = $1 AND night = $2")
                            .bind(&feed)
                            .bind(date(*night))
                            .execute(&mut *tx)
                            .await
                            .map_err(db_err)?;
                    }
                    for (night, uid) in wanted {
                        let old = had.get(night);
                        if old.is_some_and(|o| o.applied) {
                            continue;
                        }
                        // New, or a conflict before: a unit may be free now.
                        let taken = take_unit(&mut tx, &room_type, *night).await?;
                        if taken {
                            applied.held.push(*night);
                        } else if old.is_none() {
                            applied.new_conflicts.push(*night);
                        }
                        sqlx::query(
                            "INSERT INTO ical_blocks (feed_id, room_type_id, night, uid, applied) VALUES ($1, $2, $3, $4, $5) \
                             ON CONFLICT (feed_id, night) DO UPDATE SET uid = excluded.uid, applied = excluded.applied",
                        )
                        .bind(&feed)
                        .bind(&room_type)
                        .bind(date(*night))
                        .bind(uid)
                        .bind(i64::from(taken))
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    }
                }
                // Not modified or failed: the validators of the last good answer are kept.
                let keep_validators = result.status != SyncStatus::Ok;
                sqlx::query(
                    "UPDATE ical_feeds SET last_sync_at = $1, last_status = $2, last_error = $3, next_sync_at = $4, \
                     lease_until = NULL, etag = CASE WHEN $5 = 1 THEN etag ELSE $6 END, \
                     last_modified = CASE WHEN $5 = 1 THEN last_modified ELSE $7 END WHERE id = $8",
                )
                .bind(ms(at))
                .bind(result.status.as_str())
                .bind(result.error.as_deref())
                .bind(ms(next))
                .bind(i64::from(keep_validators))
                .bind(result.etag.as_deref())
                .bind(result.last_modified.as_deref())
                .bind(&feed)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                for e in events(&applied) {
                    append_event(&mut tx, &e).await?;
                }
                self.commit(tx).await?;
                Ok(Some(applied))
            })
            .await
        })
        .await
    }

    async fn ota_codes(&self, property: PropertyId) -> Result<Option<OtaCodes>, StoreError> {
        let row = sqlx::query("SELECT tenant_id, hotel_code FROM ota_hotels WHERE property_id = $1")
            .bind(property.to_string())
            .fetch_optional(&self.reader())
            .await
            .map_err(db_err)?;
        let Some(row) = row else { return Ok(None) };
        let tenant: String = row.try_get("tenant_id").map_err(db_err)?;
        let hotel_code: String = row.try_get("hotel_code").map_err(db_err)?;
        Ok(Some(self.ota_codes_of(parse(&tenant)?, property, hotel_code).await?))
    }

    async fn ota_hotel(&self, tenant: TenantId, hotel_code: &str) -> Result<Option<OtaCodes>, StoreError> {
        let property: Option<String> =
            sqlx::query_scalar("SELECT property_id FROM ota_hotels WHERE tenant_id = $1 AND hotel_code = $2")
                .bind(tenant.to_string())
                .bind(hotel_code)
                .fetch_optional(&self.reader())
                .await
                .map_err(db_err)?;
        let Some(property) = property else { return Ok(None) };
        Ok(Some(self.ota_codes_of(tenant, parse(&property)?, hotel_code.to_string()).await?))
    }

    async fn put_ota_codes(&self, c: &OtaCodes) -> Result<bool, StoreError> {
        self.write(async {
            self.retrying(|| async {
                let mut tx = self.begin().await?;
                let property = c.property_id.to_string();
                for statement in [
                    "DELETE FROM ota_room_types WHERE property_id = $1",
                    "DELETE FROM ota_hotels WHERE property_id = $1",
                ] {
                    sqlx::query(statement).bind(&property).execute(&mut *tx).await.map_err(db_err)?;
                }
                let inserted =
                    sqlx::query("INSERT INTO ota_hotels (tenant_id, hotel_code, property_id) VALUES ($1, $2, $3)")
                        .bind(c.tenant_id.to_string())
                        .bind(&c.hotel_code)
                        .bind(&property)
                        .execute(&mut *tx)
                        .await;
                match inserted {
                    Err(e) if is_unique_violation(&e) => {
                        tx.rollback().await?;
                        return Ok(false);
                    }
                    other => other.map_err(db_err)?,
                };
                for (code, room_type) in &c.room_types {
                    sqlx::query("INSERT INTO ota_room_types (property_id, code, room_type_id) VALUES ($1, $2, $3)")
                        .bind(&property)
                        .bind(code)
                        .bind(room_type.to_string())
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                self.commit(tx).await?;
                Ok(true)
            })
            .await
        })
        .await
    }

    async fn calendar_overrides(&self, room_type: RoomTypeId) -> Result<Vec<(Date, NightOverride)>, StoreError> {
        let rows = sqlx::query(
            "SELECT night, units, price_minor, closed, min_stay FROM inventory WHERE room_type_id = $1 \
             AND (units IS NOT NULL OR price_minor IS NOT NULL OR closed IS NOT NULL OR min_stay IS NOT NULL) ORDER BY night",
        )
        .bind(room_type.to_string())
        .fetch_all(&self.reader())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|row| {
                let opt = |c: &str| row.try_get::<Option<i64>, _>(c).map_err(db_err);
                let change = NightOverride {
                    units: opt("units")?.map(|v| u32::try_from(v).unwrap_or(0)),
                    price_minor: opt("price_minor")?,
                    closed: opt("closed")?.map(|v| v != 0),
                    min_stay: opt("min_stay")?.map(|v| u16::try_from(v).unwrap_or(u16::MAX)),
                };
                Ok((parse_date(&row.try_get::<String, _>("night").map_err(db_err)?)?, change))
            })
            .collect()
    }

    async fn import_tenant(&self, data: &TenantData, event: &Event) -> Result<(), StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            let taken = |what: &'static str| move |e: sqlx::Error| if is_unique_violation(&e) { StoreError::Duplicate(what) } else { db_err(e) };
            let ids = [
                ("properties", "a property of the document", data.properties.iter().map(|p| p.id.to_string()).collect::<Vec<_>>()),
                ("room_types", "a room type of the document", data.room_types.iter().map(|r| r.id.to_string()).collect()),
                ("bookings", "a booking of the document", data.bookings.iter().map(|b| b.id.to_string()).collect()),
            ];
            for (table, what, ids) in ids {
                for id in ids {
                    let sql = format!("SELECT COUNT(*) FROM {table} WHERE id = $1");
                    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(&id).fetch_one(&mut *tx).await.map_err(db_err)?;
                    if n > 0 {
                        return Err(StoreError::Duplicate(what));
                    }
                }
            }
            for p in &data.properties {
                insert_property_row(&mut tx, p).await?;
            }
            for rt in &data.room_types {
                insert_room_type_row(&mut tx, rt).await?;
            }
            for r in &data.rates {
                let c = &r.change;
                sqlx::query(
                    "INSERT INTO inventory (room_type_id, night, sold, units, price_minor, closed, min_stay) VALUES ($1, $2, 0, $3, $4, $5, $6)",
                )
                .bind(r.room_type_id.to_string())
                .bind(date(r.night))
                .bind(c.units.map(i64::from))
                .bind(c.price_minor)
                .bind(c.closed.map(i64::from))
                .bind(c.min_stay.map(i64::from))
                .execute(&mut *tx)
                .await
                .map_err(taken("a night of the document's rates"))?;
            }
            for b in &data.bookings {
                sqlx::query(
                    "INSERT INTO bookings (id, status, tenant_id, property_id, room_type_id, user_id, check_in, check_out, \
                     hold_expires_at, total_minor, currency, doc, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                )
                .bind(b.id.to_string())
                .bind(b.status.as_str())
                .bind(b.tenant_id.to_string())
                .bind(b.property_id.to_string())
                .bind(b.room_type_id.to_string())
                .bind(b.user_id.to_string())
                .bind(date(b.check_in))
                .bind(date(b.check_out))
                .bind(b.hold_expires_at.map(ms))
                .bind(b.total.minor)
                .bind(b.total.currency.code())
                .bind(to_json(b)?)
                .bind(ms(b.created_at))
                .bind(ms(b.updated_at))
                .execute(&mut *tx)
                .await
                .map_err(taken("a booking of the document"))?;
                if !innkeep_app::tenant_data::holds_nights(b.status) {
                    continue;
                }
                let rt = b.room_type_id.to_string();
                let mut night = b.check_in;
                while night < b.check_out {
                    sqlx::query(
                        "INSERT INTO inventory (room_type_id, night, sold) VALUES ($1, $2, $3) \
                         ON CONFLICT (room_type_id, night) DO UPDATE SET sold = inventory.sold + $3",
                    )
                    .bind(&rt)
                    .bind(date(night))
                    .bind(i64::from(b.rooms))
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                    night = night.tomorrow().map_err(|e| StoreError::Corrupt(e.to_string()))?;
                }
            }
            // Never more sold than there are units, whatever the document says.
            let over = sqlx::query(
                "SELECT i.night, i.sold FROM inventory i JOIN room_types r ON r.id = i.room_type_id \
                 WHERE r.tenant_id = $1 AND i.sold > COALESCE(i.units, r.units) ORDER BY i.night LIMIT 1",
            )
            .bind(event.tenant_id.map(|t| t.to_string()))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
            if let Some(row) = over {
                return Err(super::inventory::units_below_sold(&row)?);
            }
            append_event(&mut tx, event).await?;
            self.commit(tx).await
        })
        .await
    }

    async fn booking_by_idempotency_key(&self, user: UserId, key: &str) -> Result<Option<BookingId>, StoreError> {
        let id: Option<String> =
            sqlx::query_scalar("SELECT booking_id FROM idempotency_keys WHERE user_id = $1 AND key = $2")
                .bind(user.to_string())
                .bind(key)
                .fetch_optional(&self.writer())
                .await
                .map_err(db_err)?;
        id.as_deref().map(parse).transpose()
    }
}

impl SqlStore {
    /// A hotel's codes with its room types'.
    async fn ota_codes_of(
        &self,
        tenant: TenantId,
        property: PropertyId,
        hotel_code: String,
    ) -> Result<OtaCodes, StoreError> {
        let rows = sqlx::query("SELECT code, room_type_id FROM ota_room_types WHERE property_id = $1 ORDER BY code")
            .bind(property.to_string())
            .fetch_all(&self.reader())
            .await
            .map_err(db_err)?;
        let mut room_types = BTreeMap::new();
        for row in &rows {
            let code: String = row.try_get("code").map_err(db_err)?;
            let id: String = row.try_get("room_type_id").map_err(db_err)?;
            room_types.insert(code, parse(&id)?);
        }
        Ok(OtaCodes { tenant_id: tenant, property_id: property, hotel_code, room_types })
    }
}
