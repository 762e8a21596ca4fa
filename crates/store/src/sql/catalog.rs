//! The SQL store's `Catalog` role: properties and room types, one at a time and in bulk.

use super::*;

#[async_trait]
impl Catalog for SqlStore {
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
                return Err(inventory::units_below_sold(&row)?);
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

    async fn room_type_for_hold(
        &self,
        id: RoomTypeId,
        from: Date,
        to: Date,
    ) -> Result<Option<(RoomType, Property, Option<Vec<NightRow>>)>, StoreError> {
        // Only PostgreSQL prices a hold from nights read before it (SQLite's hold reads them
        // in its own transaction); a range that is no stay leaves the hold to refuse it.
        let nights = (to - from).get_days();
        if self.backend != Backend::Postgres || from >= to || nights > i32::from(StayLimits::default().max_stay) {
            return Ok(self.room_type_with_property(id).await?.map(|(rt, p)| (rt, p, None)));
        }
        // From the primary, as the hold's statement will compare them with what it sells.
        let rows = sqlx::query(
            "SELECT r.doc AS room_type, p.doc AS property, i.night, i.sold, i.units, i.price_minor, i.closed, \
             i.min_stay FROM room_types r JOIN properties p ON p.id = r.property_id \
             LEFT JOIN inventory i ON i.room_type_id = r.id AND i.night >= $2 AND i.night < $3 \
             WHERE r.id = $1 ORDER BY i.night",
        )
        .bind(id.to_string())
        .bind(date(from))
        .bind(date(to))
        .fetch_all(&self.writer())
        .await
        .map_err(db_err)?;
        let Some(first) = rows.first() else { return Ok(None) };
        let doc = |column: &str| first.try_get::<String, _>(column).map_err(db_err);
        let (rt, property) = (from_json(&doc("room_type")?)?, from_json(&doc("property")?)?);
        let mut stored = Vec::with_capacity(rows.len());
        for row in &rows {
            // The left join's one row without a night when the stay has no stored night.
            if row.try_get::<Option<String>, _>("night").map_err(db_err)?.is_some() {
                stored.push(super::inventory::night_of(row)?);
            }
        }
        Ok(Some((rt, property, Some(stored))))
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
}
