//! The SQL store's `Photos` role: the photos of properties (their bytes are in object storage).

use super::*;

#[async_trait]
impl Photos for SqlStore {
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
