//! The SQL store's `AuditLog` role: the audit log's entries, each written with its
//! `audit.recorded` outbox event, a batch of them in one transaction.

use super::*;
use innkeep_app::audit::{AuditFilter, AuditLog, Entry};

pub(super) const COLUMNS: &str =
    "id, at, tenant_id, actor_user_id, actor_key_id, action, target, method, status, address, user_agent";

#[async_trait]
impl AuditLog for SqlStore {
    async fn record_audits(&self, entries: &[(Entry, Event)]) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        self.write(async {
            self.retrying(|| async {
                let mut tx = self.begin().await?;
                for (e, event) in entries {
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "INSERT INTO audit_log ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                    )))
                    .bind(e.id.to_string())
                    .bind(ms(e.at))
                    .bind(e.tenant_id.map(|t| t.to_string()))
                    .bind(e.actor_user_id.map(|u| u.to_string()))
                    .bind(e.actor_key_id.clone())
                    .bind(&e.action)
                    .bind(&e.target)
                    .bind(&e.method)
                    .bind(i64::from(e.status))
                    .bind(e.address.clone())
                    .bind(e.user_agent.clone())
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                    append_event(&mut tx, event).await?;
                }
                self.commit(tx).await
            })
            .await
        })
        .await
    }

    async fn list_audit(&self, f: &AuditFilter) -> Result<Vec<Entry>, StoreError> {
        let mut parts = vec!["1 = 1".to_string()];
        let mut values = Vec::new();
        let mut add = |column: &str, op: &str, value: String| {
            values.push(value);
            parts.push(format!("{column} {op} ${}", values.len()));
        };
        if let Some(t) = f.tenant_id {
            add("tenant_id", "=", t.to_string());
        }
        if let Some(u) = f.actor_user_id {
            add("actor_user_id", "=", u.to_string());
        }
        if let Some(a) = &f.action {
            add("action", "=", a.clone());
        }
        if let Some(before) = f.before {
            add("id", "<", before.to_string());
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_log WHERE {} ORDER BY id DESC LIMIT ${}",
            parts.join(" AND "),
            values.len() + 1
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for v in values {
            q = q.bind(v);
        }
        let rows = q.bind(i64::from(f.limit.max(1))).fetch_all(&self.writer()).await.map_err(db_err)?;
        rows.iter().map(entry_of).collect()
    }
}

pub(super) fn entry_of(r: &AnyRow) -> Result<Entry, StoreError> {
    let opt = |name: &str| -> Result<Option<String>, StoreError> { r.try_get(name).map_err(db_err) };
    let status: i64 = r.try_get("status").map_err(db_err)?;
    Ok(Entry {
        id: parse(&r.try_get::<String, _>("id").map_err(db_err)?)?,
        at: from_ms(r.try_get("at").map_err(db_err)?)?,
        tenant_id: opt("tenant_id")?.as_deref().map(parse).transpose()?,
        actor_user_id: opt("actor_user_id")?.as_deref().map(parse).transpose()?,
        actor_key_id: opt("actor_key_id")?,
        action: r.try_get("action").map_err(db_err)?,
        target: r.try_get("target").map_err(db_err)?,
        method: r.try_get("method").map_err(db_err)?,
        status: u16::try_from(status).map_err(|_| StoreError::Corrupt(format!("status {status}")))?,
        address: opt("address")?,
        user_agent: opt("user_agent")?,
    })
}
