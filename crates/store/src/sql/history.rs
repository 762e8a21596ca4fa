//! The SQL store's `History` role: what each guest searched for.

use super::*;

#[async_trait]
impl History for SqlStore {
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
}
