//! The SQL store's `ReviewStore` role: reviews of stays, their answers, reports and hiding.

use super::*;
use innkeep_app::review::{Rating, Review, ReviewStore, Written};
use innkeep_core::{ReviewId, Scores};

const REVIEW_COLUMNS: &str = "SELECT id, booking_id, property_id, tenant_id, user_id, author, score_cleanliness, \
     score_location, score_value, score_staff, score_comfort, overall, body, created_at, reply, replied_at, hidden_at, \
     reports FROM reviews";

fn score(row: &AnyRow, column: &str) -> Result<u8, StoreError> {
    let v: i64 = row.try_get(column).map_err(db_err)?;
    u8::try_from(v).map_err(|_| StoreError::Corrupt(format!("{column} {v}")))
}

fn review_of(row: &AnyRow) -> Result<Review, StoreError> {
    let at = |column: &str| -> Result<Option<Timestamp>, StoreError> {
        row.try_get::<Option<i64>, _>(column).map_err(db_err)?.map(from_ms).transpose()
    };
    Ok(Review {
        id: parse(&row.try_get::<String, _>("id").map_err(db_err)?)?,
        booking_id: parse(&row.try_get::<String, _>("booking_id").map_err(db_err)?)?,
        property_id: parse(&row.try_get::<String, _>("property_id").map_err(db_err)?)?,
        tenant_id: parse(&row.try_get::<String, _>("tenant_id").map_err(db_err)?)?,
        user_id: parse(&row.try_get::<String, _>("user_id").map_err(db_err)?)?,
        author: row.try_get("author").map_err(db_err)?,
        scores: Scores {
            cleanliness: score(row, "score_cleanliness")?,
            location: score(row, "score_location")?,
            value: score(row, "score_value")?,
            staff: score(row, "score_staff")?,
            comfort: score(row, "score_comfort")?,
        },
        overall: u16::try_from(row.try_get::<i64, _>("overall").map_err(db_err)?).unwrap_or(0),
        text: row.try_get("body").map_err(db_err)?,
        created_at: from_ms(row.try_get("created_at").map_err(db_err)?)?,
        reply: row.try_get("reply").map_err(db_err)?,
        replied_at: at("replied_at")?,
        hidden_at: at("hidden_at")?,
        reports: u32::try_from(row.try_get::<i64, _>("reports").map_err(db_err)?).unwrap_or(u32::MAX),
    })
}

#[async_trait]
impl ReviewStore for SqlStore {
    async fn insert_review(&self, r: &Review, event: &Event) -> Result<Written, StoreError> {
        self.write(async {
            self.retrying(|| async {
                let mut tx = self.begin().await?;
                let inserted = sqlx::query(
                    "INSERT INTO reviews (id, booking_id, property_id, tenant_id, user_id, author, score_cleanliness, \
                     score_location, score_value, score_staff, score_comfort, overall, body, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                )
                .bind(r.id.to_string())
                .bind(r.booking_id.to_string())
                .bind(r.property_id.to_string())
                .bind(r.tenant_id.to_string())
                .bind(r.user_id.to_string())
                .bind(&r.author)
                .bind(i64::from(r.scores.cleanliness))
                .bind(i64::from(r.scores.location))
                .bind(i64::from(r.scores.value))
                .bind(i64::from(r.scores.staff))
                .bind(i64::from(r.scores.comfort))
                .bind(i64::from(r.overall))
                .bind(&r.text)
                .bind(ms(r.created_at))
                .execute(&mut *tx)
                .await;
                match inserted {
                    // The booking was reviewed already (perhaps a moment ago, in another request).
                    Err(e) if is_unique_violation(&e) => return Ok(Written::AlreadyDone),
                    other => other.map_err(db_err)?,
                };
                append_event(&mut tx, event).await?;
                self.commit(tx).await?;
                Ok(Written::Done)
            })
            .await
        })
        .await
    }

    async fn review(&self, id: ReviewId) -> Result<Option<Review>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{REVIEW_COLUMNS} WHERE id = $1")))
            .bind(id.to_string())
            .fetch_optional(&self.reader())
            .await
            .map_err(db_err)?;
        row.as_ref().map(review_of).transpose()
    }

    async fn reviews_by(&self, user: UserId) -> Result<Vec<Review>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{REVIEW_COLUMNS} WHERE user_id = $1 ORDER BY created_at DESC, id DESC"
        )))
        .bind(user.to_string())
        .fetch_all(&self.reader())
        .await
        .map_err(db_err)?;
        rows.iter().map(review_of).collect()
    }

    async fn review_of_booking(&self, booking: BookingId) -> Result<Option<Review>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{REVIEW_COLUMNS} WHERE booking_id = $1")))
            .bind(booking.to_string())
            .fetch_optional(&self.reader())
            .await
            .map_err(db_err)?;
        row.as_ref().map(review_of).transpose()
    }

    async fn reviews_of(
        &self,
        property: PropertyId,
        hidden_too: bool,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Review>, StoreError> {
        let hidden = if hidden_too { "" } else { " AND hidden_at IS NULL" };
        let sql = format!(
            "{REVIEW_COLUMNS} WHERE property_id = $1{hidden} ORDER BY created_at DESC, id DESC LIMIT {} OFFSET {}",
            limit.min(500),
            offset
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(property.to_string())
            .fetch_all(&self.reader())
            .await
            .map_err(db_err)?;
        rows.iter().map(review_of).collect()
    }

    async fn ratings(&self, properties: &[PropertyId]) -> Result<Vec<Rating>, StoreError> {
        let mut out = Vec::new();
        for chunk in properties.chunks(100) {
            let marks = (1..=chunk.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
            let sql = format!(
                "SELECT property_id, CAST(SUM(overall) AS BIGINT) AS total, COUNT(*) AS n FROM reviews \
                 WHERE property_id IN ({marks}) AND hidden_at IS NULL GROUP BY property_id"
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for p in chunk {
                q = q.bind(p.to_string());
            }
            for row in q.fetch_all(&self.reader()).await.map_err(db_err)? {
                let total: i64 = row.try_get("total").map_err(db_err)?;
                let n: i64 = row.try_get("n").map_err(db_err)?;
                if n > 0 {
                    out.push(Rating {
                        property_id: parse(&row.try_get::<String, _>("property_id").map_err(db_err)?)?,
                        // The mean in tenths, rounded half up.
                        average: u16::try_from((2 * total + n) / (2 * n)).unwrap_or(u16::MAX),
                        count: u32::try_from(n).unwrap_or(u32::MAX),
                    });
                }
            }
        }
        Ok(out)
    }

    async fn reply_review(
        &self,
        id: ReviewId,
        text: &str,
        now: Timestamp,
        event: &Event,
    ) -> Result<Written, StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            let done = sqlx::query("UPDATE reviews SET reply = $2, replied_at = $3 WHERE id = $1 AND reply IS NULL")
                .bind(id.to_string())
                .bind(text)
                .bind(ms(now))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            if done.rows_affected() == 0 {
                self.commit(tx).await?;
                return Ok(Written::AlreadyDone);
            }
            append_event(&mut tx, event).await?;
            self.commit(tx).await?;
            Ok(Written::Done)
        })
        .await
    }

    async fn report_review(
        &self,
        id: ReviewId,
        user: UserId,
        reason: &str,
        now: Timestamp,
    ) -> Result<Written, StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            let inserted = sqlx::query(
                "INSERT INTO review_reports (review_id, user_id, reason, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(id.to_string())
            .bind(user.to_string())
            .bind(reason)
            .bind(ms(now))
            .execute(&mut *tx)
            .await;
            match inserted {
                Err(e) if is_unique_violation(&e) => return Ok(Written::AlreadyDone),
                other => other.map_err(db_err)?,
            };
            sqlx::query("UPDATE reviews SET reports = reports + 1 WHERE id = $1")
                .bind(id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            self.commit(tx).await?;
            Ok(Written::Done)
        })
        .await
    }

    async fn set_review_hidden(
        &self,
        id: ReviewId,
        hidden: Option<Timestamp>,
        event: &Event,
    ) -> Result<(), StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            sqlx::query("UPDATE reviews SET hidden_at = $2 WHERE id = $1")
                .bind(id.to_string())
                .bind(hidden.map(ms))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            append_event(&mut tx, event).await?;
            self.commit(tx).await
        })
        .await
    }
}
