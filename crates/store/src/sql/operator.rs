//! The SQL store's `Directory` role: finding users and tenants, and suspending them.

use super::*;
use innkeep_app::operator::{Directory, TenantEntry, UserEntry};

/// `%q%` for LIKE, lower-cased, with LIKE's own characters escaped (`ESCAPE '\'`).
fn pattern(q: &str) -> String {
    let escaped: String = q
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("%{escaped}%")
}

fn at(row: &AnyRow, name: &str) -> Result<Option<Timestamp>, StoreError> {
    row.try_get::<Option<i64>, _>(name).map_err(db_err)?.map(from_ms).transpose()
}

#[async_trait]
impl Directory for SqlStore {
    async fn find_users(&self, q: &str, limit: u32) -> Result<Vec<UserEntry>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS}, u.suspended_at \
             FROM users u WHERE LOWER(u.email) LIKE $1 ESCAPE '\\' OR LOWER(u.name) LIKE $1 ESCAPE '\\' \
             ORDER BY u.created_at DESC, u.id DESC LIMIT $2"
        )))
        .bind(pattern(q))
        .bind(i64::from(limit))
        .fetch_all(&self.writer())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let u = user_of(r)?;
                Ok(UserEntry {
                    user_id: u.id,
                    email: u.email,
                    name: u.name,
                    role: u.role,
                    tenant_id: u.tenant_id,
                    staff_role: u.staff_role,
                    created_at: u.created_at,
                    suspended_at: at(r, "suspended_at")?,
                })
            })
            .collect()
    }

    async fn find_tenants(&self, q: &str, limit: u32) -> Result<Vec<TenantEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.id, t.name, t.created_at, t.suspended_at, \
             (SELECT COUNT(*) FROM users u WHERE u.tenant_id = t.id) AS members \
             FROM tenants t WHERE LOWER(t.name) LIKE $1 ESCAPE '\\' OR t.id = $2 \
             ORDER BY t.created_at DESC, t.id DESC LIMIT $3",
        )
        .bind(pattern(q))
        .bind(q.trim())
        .bind(i64::from(limit))
        .fetch_all(&self.writer())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(TenantEntry {
                    tenant_id: parse::<TenantId>(&r.try_get::<String, _>("id").map_err(db_err)?)?,
                    name: r.try_get("name").map_err(db_err)?,
                    members: r.try_get("members").map_err(db_err)?,
                    created_at: from_ms(r.try_get("created_at").map_err(db_err)?)?,
                    suspended_at: at(r, "suspended_at")?,
                })
            })
            .collect()
    }

    async fn set_user_suspended(
        &self,
        user: UserId,
        at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<Option<Vec<Event>>, StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            let tenant: Option<Option<String>> =
                sqlx::query_scalar("UPDATE users SET suspended_at = $2 WHERE id = $1 RETURNING tenant_id")
                    .bind(user.to_string())
                    .bind(at.map(ms))
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?;
            let Some(tenant) = tenant else {
                self.commit(tx).await?;
                return Ok(None);
            };
            let tenant = tenant.as_deref().map(parse::<TenantId>).transpose()?;
            let events = match at {
                Some(_) => super::accounts::end_sessions_in(&mut tx, user, None, tenant, now).await?,
                None => Vec::new(),
            };
            self.commit(tx).await?;
            Ok(Some(events))
        })
        .await
    }

    async fn set_tenant_suspended(
        &self,
        tenant: TenantId,
        at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<Option<Vec<Event>>, StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            let r = sqlx::query("UPDATE tenants SET suspended_at = $2 WHERE id = $1")
                .bind(tenant.to_string())
                .bind(at.map(ms))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            if r.rows_affected() == 0 {
                self.commit(tx).await?;
                return Ok(None);
            }
            let mut events = Vec::new();
            if at.is_some() {
                let members: Vec<String> = sqlx::query_scalar("SELECT id FROM users WHERE tenant_id = $1")
                    .bind(tenant.to_string())
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db_err)?;
                for m in members {
                    let user = parse::<UserId>(&m)?;
                    events.extend(super::accounts::end_sessions_in(&mut tx, user, None, Some(tenant), now).await?);
                }
            }
            self.commit(tx).await?;
            Ok(Some(events))
        })
        .await
    }

    async fn suspended(&self, user: UserId) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT u.suspended_at AS user_at, t.suspended_at AS tenant_at FROM users u \
             LEFT JOIN tenants t ON t.id = u.tenant_id WHERE u.id = $1",
        )
        .bind(user.to_string())
        .fetch_optional(&self.writer())
        .await
        .map_err(db_err)?;
        Ok(match row {
            Some(r) => at(&r, "user_at")?.is_some() || at(&r, "tenant_at")?.is_some(),
            None => false,
        })
    }
}
