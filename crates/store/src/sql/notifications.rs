//! The SQL store's `Notifications` role: the delivery log and integrators' webhooks.
//!
//! A message is leased by one node at a time: `claim_due` sets `leased_until` on the rows
//! it takes in one statement (on PostgreSQL skipping rows another node is claiming), and
//! a row whose lease ran out (its node died mid-send) is due again.

use super::*;
use innkeep_app::notify::{
    Channel, Content, Delivery, DeliveryFilter, DeliveryStatus, NewMessage, Notifications, Webhook,
};

pub(super) const COLUMNS: &str = "id, event_id, tenant_id, booking_id, webhook_id, template, channel, recipient, content, status, \
                       attempts, last_error, next_attempt_at, created_at, sent_at";

#[async_trait]
impl Notifications for SqlStore {
    async fn enqueue(&self, messages: &[NewMessage]) -> Result<u64, StoreError> {
        if messages.is_empty() {
            return Ok(0);
        }
        self.write(async {
            self.retrying(|| async {
                let mut tx = self.begin().await?;
                let mut added = 0;
                for m in messages {
                    let r = sqlx::query(
                        "INSERT INTO notifications (id, dedup_key, event_id, tenant_id, booking_id, webhook_id, template, channel, recipient, content, status, attempts, next_attempt_at, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', 0, $11, $12) ON CONFLICT (dedup_key) DO NOTHING",
                    )
                    .bind(m.id.to_string())
                    .bind(&m.dedup_key)
                    .bind(m.event_id.map(|e| e.to_string()))
                    .bind(m.tenant_id.map(|t| t.to_string()))
                    .bind(m.booking_id.map(|b| b.to_string()))
                    .bind(m.webhook_id.map(|w| w.to_string()))
                    .bind(&m.template)
                    .bind(m.channel.as_str())
                    .bind(&m.recipient)
                    .bind(to_json(&m.content)?)
                    .bind(ms(m.not_before))
                    .bind(ms(m.created_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                    added += r.rows_affected();
                }
                self.commit(tx).await?;
                Ok(added)
            })
            .await
        })
        .await
    }

    async fn cancel_pending(&self, booking: BookingId, template: &str) -> Result<u64, StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            let r = sqlx::query(
                "UPDATE notifications SET status = 'cancelled', leased_until = NULL WHERE booking_id = $1 AND template = $2 AND status = 'pending'",
            )
            .bind(booking.to_string())
            .bind(template)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            self.commit(tx).await?;
            Ok(r.rows_affected())
        })
        .await
    }

    async fn claim_due(
        &self,
        now: Timestamp,
        lease: jiff::SignedDuration,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        let skip_locked = match self.backend() {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let until = now.checked_add(lease).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let sql = format!(
            "UPDATE notifications SET leased_until = $1, attempts = attempts + 1 WHERE id IN (\
             SELECT id FROM notifications WHERE status = 'pending' AND next_attempt_at <= $2 \
             AND (leased_until IS NULL OR leased_until <= $2) ORDER BY next_attempt_at, id LIMIT $3{skip_locked}) \
             AND status = 'pending' AND (leased_until IS NULL OR leased_until <= $2) RETURNING {COLUMNS}"
        );
        // Not counted as a write for the node's write-fault state (`self.write`): with nothing
        // due it changes nothing and commits even on a read-only file system, which would
        // report writes healthy every second while bookings fail.
        {
            let mut tx = self.begin().await?;
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(ms(until))
                .bind(ms(now))
                .bind(i64::from(limit))
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err)?;
            self.commit(tx).await?;
            let mut out = rows.iter().map(delivery_of).collect::<Result<Vec<_>, _>>()?;
            out.sort_by_key(|d| (d.next_attempt_at, d.id));
            Ok(out)
        }
    }

    async fn next_due(&self) -> Result<Option<Timestamp>, StoreError> {
        let v: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(CASE WHEN leased_until IS NOT NULL AND leased_until > next_attempt_at THEN leased_until ELSE next_attempt_at END) \
             FROM notifications WHERE status = 'pending'",
        )
        .fetch_one(&self.writer())
        .await
        .map_err(db_err)?;
        v.map(from_ms).transpose()
    }

    async fn record_sent(&self, id: uuid::Uuid, now: Timestamp, keep: Option<&Content>) -> Result<(), StoreError> {
        let keep = keep.map(to_json).transpose()?;
        self.write(async {
            self.retrying(|| async {
                let mut tx = self.begin().await?;
                sqlx::query(
                    "UPDATE notifications SET status = 'sent', sent_at = $2, leased_until = NULL, last_error = NULL, content = COALESCE($3, content) WHERE id = $1 AND status = 'pending'",
                )
                .bind(id.to_string())
                .bind(ms(now))
                .bind(keep.clone())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                self.commit(tx).await
            })
            .await
        })
        .await
    }

    async fn record_failure(&self, id: uuid::Uuid, error: &str, retry_at: Option<Timestamp>) -> Result<(), StoreError> {
        let error: String = error.chars().take(500).collect();
        self.write(async {
            self.retrying(|| async {
                let mut tx = self.begin().await?;
                let q = match retry_at {
                    Some(at) => sqlx::query(
                        "UPDATE notifications SET next_attempt_at = $2, last_error = $3, leased_until = NULL WHERE id = $1 AND status = 'pending'",
                    )
                    .bind(id.to_string())
                    .bind(ms(at))
                    .bind(&error),
                    None => sqlx::query(
                        "UPDATE notifications SET status = 'parked', last_error = $2, leased_until = NULL WHERE id = $1 AND status = 'pending'",
                    )
                    .bind(id.to_string())
                    .bind(&error),
                };
                q.execute(&mut *tx).await.map_err(db_err)?;
                self.commit(tx).await
            })
            .await
        })
        .await
    }

    async fn deliveries(&self, filter: &DeliveryFilter) -> Result<Vec<Delivery>, StoreError> {
        let (conditions, values) = conditions(filter);
        let sql = format!(
            "SELECT {COLUMNS} FROM notifications WHERE {conditions} ORDER BY id DESC LIMIT ${}",
            values.len() + 1
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for v in values {
            q = q.bind(v);
        }
        let rows = q.bind(i64::from(filter.limit.max(1))).fetch_all(&self.writer()).await.map_err(db_err)?;
        rows.iter().map(delivery_of).collect()
    }

    async fn replay(&self, filter: &DeliveryFilter, now: Timestamp) -> Result<u64, StoreError> {
        let filter = DeliveryFilter { status: Some(DeliveryStatus::Parked), before: None, ..filter.clone() };
        let (conditions, values) = conditions(&filter);
        let sql = format!(
            "UPDATE notifications SET status = 'pending', attempts = 0, leased_until = NULL, next_attempt_at = ${} WHERE {conditions}",
            values.len() + 1
        );
        self.write(async {
            let mut tx = self.begin().await?;
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for v in values {
                q = q.bind(v);
            }
            let r = q.bind(ms(now)).execute(&mut *tx).await.map_err(db_err)?;
            self.commit(tx).await?;
            Ok(r.rows_affected())
        })
        .await
    }

    async fn insert_webhook(&self, w: &Webhook) -> Result<(), StoreError> {
        let events: Vec<&str> = w.events.iter().map(|k| k.as_str()).collect();
        self.write(async {
            let mut tx = self.begin().await?;
            sqlx::query(
                "INSERT INTO webhooks (id, tenant_id, url, events, secret, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(w.id.to_string())
            .bind(w.tenant_id.to_string())
            .bind(&w.url)
            .bind(to_json(&events)?)
            .bind(&w.secret)
            .bind(ms(w.created_at))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            self.commit(tx).await
        })
        .await
    }

    async fn webhooks(&self, tenant: Option<TenantId>) -> Result<Vec<Webhook>, StoreError> {
        let select = "SELECT id, tenant_id, url, events, secret, created_at FROM webhooks";
        let rows = match tenant {
            Some(t) => {
                sqlx::query(sqlx::AssertSqlSafe(format!("{select} WHERE tenant_id = $1 ORDER BY created_at, id")))
                    .bind(t.to_string())
                    .fetch_all(&self.writer())
                    .await
            }
            None => {
                sqlx::query(sqlx::AssertSqlSafe(format!("{select} ORDER BY created_at, id")))
                    .fetch_all(&self.writer())
                    .await
            }
        }
        .map_err(db_err)?;
        rows.iter().map(webhook_of).collect()
    }

    async fn webhook(&self, id: uuid::Uuid) -> Result<Option<Webhook>, StoreError> {
        let row = sqlx::query("SELECT id, tenant_id, url, events, secret, created_at FROM webhooks WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.writer())
            .await
            .map_err(db_err)?;
        row.as_ref().map(webhook_of).transpose()
    }

    async fn delete_webhook(&self, id: uuid::Uuid) -> Result<bool, StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            let r = sqlx::query("DELETE FROM webhooks WHERE id = $1")
                .bind(id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            self.commit(tx).await?;
            Ok(r.rows_affected() > 0)
        })
        .await
    }

    async fn wants_reminders(&self, user: UserId) -> Result<bool, StoreError> {
        let v: Option<i64> = sqlx::query_scalar("SELECT reminders FROM users WHERE id = $1")
            .bind(user.to_string())
            .fetch_optional(&self.writer())
            .await
            .map_err(db_err)?;
        Ok(v.unwrap_or(1) != 0)
    }

    async fn unsubscribe_token(&self, user: UserId, candidate: &str) -> Result<String, StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            let token: Option<String> = sqlx::query_scalar(
                "UPDATE users SET unsubscribe_token = COALESCE(unsubscribe_token, $2) WHERE id = $1 RETURNING unsubscribe_token",
            )
            .bind(user.to_string())
            .bind(candidate)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
            self.commit(tx).await?;
            token.ok_or_else(|| StoreError::Corrupt(format!("no user {user}")))
        })
        .await
    }

    async fn unsubscribe(&self, token: &str) -> Result<bool, StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            let r = sqlx::query("UPDATE users SET reminders = 0 WHERE unsubscribe_token = $1")
                .bind(token)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            self.commit(tx).await?;
            Ok(r.rows_affected() > 0)
        })
        .await
    }
}

/// The WHERE clause of a filter (numbered from `$1`) and its values, in order.
fn conditions(f: &DeliveryFilter) -> (String, Vec<String>) {
    let mut parts = vec!["1 = 1".to_string()];
    let mut values = Vec::new();
    let mut add = |column: &str, op: &str, value: String| {
        values.push(value);
        parts.push(format!("{column} {op} ${}", values.len()));
    };
    if let Some(t) = f.tenant_id {
        add("tenant_id", "=", t.to_string());
    }
    if let Some(w) = f.webhook_id {
        add("webhook_id", "=", w.to_string());
    }
    if let Some(b) = f.booking_id {
        add("booking_id", "=", b.to_string());
    }
    if let Some(s) = f.status {
        add("status", "=", s.as_str().to_string());
    }
    if let Some(c) = f.channel {
        add("channel", "=", c.as_str().to_string());
    }
    if let Some(id) = f.id {
        add("id", "=", id.to_string());
    }
    if let Some(before) = f.before {
        add("id", "<", before.to_string());
    }
    (parts.join(" AND "), values)
}

pub(super) fn delivery_of(r: &AnyRow) -> Result<Delivery, StoreError> {
    let opt = |name: &str| -> Result<Option<String>, StoreError> { r.try_get(name).map_err(db_err) };
    let channel: String = r.try_get("channel").map_err(db_err)?;
    let status: String = r.try_get("status").map_err(db_err)?;
    let content: Content = from_json(&r.try_get::<String, _>("content").map_err(db_err)?)?;
    Ok(Delivery {
        id: parse(&r.try_get::<String, _>("id").map_err(db_err)?)?,
        event_id: opt("event_id")?.as_deref().map(parse).transpose()?,
        tenant_id: opt("tenant_id")?.as_deref().map(parse).transpose()?,
        booking_id: opt("booking_id")?.as_deref().map(parse).transpose()?,
        webhook_id: opt("webhook_id")?.as_deref().map(parse).transpose()?,
        template: r.try_get("template").map_err(db_err)?,
        channel: Channel::parse(&channel).ok_or_else(|| StoreError::Corrupt(format!("channel {channel}")))?,
        recipient: r.try_get("recipient").map_err(db_err)?,
        status: DeliveryStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("status {status}")))?,
        attempts: u32::try_from(r.try_get::<i64, _>("attempts").map_err(db_err)?).unwrap_or(u32::MAX),
        last_error: opt("last_error")?,
        next_attempt_at: from_ms(r.try_get("next_attempt_at").map_err(db_err)?)?,
        created_at: from_ms(r.try_get("created_at").map_err(db_err)?)?,
        sent_at: r.try_get::<Option<i64>, _>("sent_at").map_err(db_err)?.map(from_ms).transpose()?,
        content,
    })
}

fn webhook_of(r: &AnyRow) -> Result<Webhook, StoreError> {
    let names: Vec<String> = from_json(&r.try_get::<String, _>("events").map_err(db_err)?)?;
    Ok(Webhook {
        id: parse(&r.try_get::<String, _>("id").map_err(db_err)?)?,
        tenant_id: parse(&r.try_get::<String, _>("tenant_id").map_err(db_err)?)?,
        url: r.try_get("url").map_err(db_err)?,
        events: names.iter().filter_map(|n| EventKind::parse(n)).collect(),
        secret: r.try_get("secret").map_err(db_err)?,
        created_at: from_ms(r.try_get("created_at").map_err(db_err)?)?,
    })
}
