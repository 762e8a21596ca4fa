//! The SQL store's `DataRights` role: everything kept about a person, and the erasure of
//! their account in one transaction (see `innkeep_app::data_rights`).

use super::*;
use innkeep_app::data_rights::{
    AccountCopy, DataRights, ERASED_NAME, Erasure, MessageCopy, PersonalData, SessionCopy, erased_address,
};
use innkeep_app::payment::Payments;
use innkeep_app::store::GuestContact;

/// The content an erased message is left with (its subject says so; nothing else).
const ERASED_CONTENT: &str = r#"{"subject":"(erased)","text":""}"#;

/// Most audit entries a copy carries (the newest).
const MAX_AUDIT: i64 = 10_000;

fn erased_guest(user: UserId) -> GuestContact {
    GuestContact { name: ERASED_NAME.to_string(), email: erased_address(user), phone: None }
}

async fn count(tx: &mut Tx, sql: &'static str, binds: &[&str]) -> Result<i64, StoreError> {
    let mut q = sqlx::query_scalar::<_, i64>(sql);
    for b in binds {
        q = q.bind(*b);
    }
    q.fetch_one(&mut **tx).await.map_err(db_err)
}

/// Rewrite the outbox payloads of `aggregate` with `erase` (which says whether it changed one).
async fn rewrite_payloads(
    tx: &mut Tx,
    aggregate: &str,
    erase: impl Fn(&mut serde_json::Value) -> bool,
) -> Result<(), StoreError> {
    // By the event's id: on PostgreSQL an event is numbered (`seq`) only some time after it
    // commits, once no older transaction is running, so a recent one has no number yet.
    let rows = sqlx::query("SELECT id, payload FROM outbox WHERE aggregate_id = $1")
        .bind(aggregate)
        .fetch_all(&mut **tx)
        .await
        .map_err(db_err)?;
    for r in rows {
        let id: String = r.try_get("id").map_err(db_err)?;
        let mut payload: serde_json::Value = from_json(&r.try_get::<String, _>("payload").map_err(db_err)?)?;
        if erase(&mut payload) {
            sqlx::query("UPDATE outbox SET payload = $2 WHERE id = $1")
                .bind(&id)
                .bind(to_json(&payload)?)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
        }
    }
    Ok(())
}

#[async_trait]
impl DataRights for SqlStore {
    async fn personal_data(&self, user: UserId, now: Timestamp) -> Result<Option<PersonalData>, StoreError> {
        let db = self.writer();
        let id = user.to_string();
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS}, u.email_verified_at, u.reminders, \
             (SELECT COUNT(*) FROM two_factor t WHERE t.user_id = u.id AND t.enabled_at IS NOT NULL) AS two_factor \
             FROM users u WHERE u.id = $1 AND u.erased_at IS NULL"
        )))
        .bind(&id)
        .fetch_optional(&db)
        .await
        .map_err(db_err)?
        else {
            return Ok(None);
        };
        let u = user_of(&row)?;
        let account = AccountCopy {
            user_id: u.id,
            email: u.email.as_str().to_string(),
            name: u.name,
            role: u.role,
            tenant_id: u.tenant_id,
            staff_role: u.staff_role,
            locale: u.locale,
            currency: u.currency,
            created_at: u.created_at,
            email_verified_at: row
                .try_get::<Option<i64>, _>("email_verified_at")
                .map_err(db_err)?
                .map(from_ms)
                .transpose()?,
            reminders: row.try_get::<i64, _>("reminders").map_err(db_err)? != 0,
            two_factor_enabled: row.try_get::<i64, _>("two_factor").map_err(db_err)? > 0,
        };
        let sessions = self
            .sessions_of(user, now)
            .await?
            .into_iter()
            .map(|s| SessionCopy { created_at: s.created_at, expires_at: s.expires_at })
            .collect();
        let bookings = sqlx::query("SELECT doc FROM bookings WHERE user_id = $1 ORDER BY created_at, id")
            .bind(&id)
            .fetch_all(&db)
            .await
            .map_err(db_err)?;
        let bookings: Vec<Booking> = bookings.iter().map(doc_of).collect::<Result<_, _>>()?;
        let searches = self.recent_searches(user, u32::MAX).await?;
        // Messages to their address, and e-mails and texts about their bookings to the
        // guest details given there; never what hosts were sent.
        let messages = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM notifications WHERE recipient = $1 ORDER BY created_at, id",
            super::notifications::COLUMNS
        )))
        .bind(account.email.as_str())
        .fetch_all(&db)
        .await
        .map_err(db_err)?;
        let mut messages: Vec<MessageCopy> = messages
            .iter()
            .map(|r| super::notifications::delivery_of(r).map(MessageCopy::from))
            .collect::<Result<_, _>>()?;
        // A booking's guest details may give another address, and a phone: messages to those
        // (text messages of a booking only ever go to its guest).
        for b in &bookings {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {} FROM notifications WHERE booking_id = $1 AND (channel = 'sms' OR (recipient = $2 AND recipient <> $3)) \
                 ORDER BY created_at, id",
                super::notifications::COLUMNS
            )))
            .bind(b.id.to_string())
            .bind(&b.guest.email)
            .bind(account.email.as_str())
            .fetch_all(&db)
            .await
            .map_err(db_err)?;
            for r in &rows {
                messages.push(super::notifications::delivery_of(r)?.into());
            }
        }
        let audit = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM audit_log WHERE actor_user_id = $1 OR target = $2 ORDER BY id DESC LIMIT {MAX_AUDIT}",
            super::audit::COLUMNS
        )))
        .bind(&id)
        .bind(account.email.as_str())
        .fetch_all(&db)
        .await
        .map_err(db_err)?;
        let audit = audit.iter().map(super::audit::entry_of).collect::<Result<_, _>>()?;
        let keys = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM api_keys WHERE created_by = $1 ORDER BY created_at, id",
            super::team::KEY_COLUMNS
        )))
        .bind(&id)
        .fetch_all(&db)
        .await
        .map_err(db_err)?;
        let api_keys = keys.iter().map(super::team::key_of).collect::<Result<_, _>>()?;
        Ok(Some(PersonalData {
            exported_at: now,
            account,
            sessions,
            bookings,
            payments: self.payments_of_user(user).await?.iter().map(|p| p.without_secret()).collect(),
            searches,
            messages,
            audit,
            api_keys,
            reviews: innkeep_app::review::ReviewStore::reviews_by(self, user).await?,
        }))
    }

    async fn erase_user(
        &self,
        user: UserId,
        today: Date,
        now: Timestamp,
        event: &Event,
    ) -> Result<Erasure, StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            let id = user.to_string();
            let row = sqlx::query("SELECT email, tenant_id, staff_role FROM users WHERE id = $1 AND erased_at IS NULL")
                .bind(&id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
            let Some(row) = row else {
                self.commit(tx).await?;
                return Ok(Erasure::Gone);
            };
            let email: String = row.try_get("email").map_err(db_err)?;
            let tenant: Option<String> = row.try_get("tenant_id").map_err(db_err)?;
            let staff_role: Option<String> = row.try_get("staff_role").map_err(db_err)?;
            if let Some(t) = &tenant {
                // One erasure of a tenant's members at a time: two owners erasing at once
                // must not both see the other as the owner that remains.
                sqlx::query("UPDATE tenants SET name = name WHERE id = $1")
                    .bind(t)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                if staff_role.as_deref() == Some(StaffRole::Owner.as_str()) {
                    let owners = count(
                        &mut tx,
                        "SELECT COUNT(*) FROM users WHERE tenant_id = $1 AND id <> $2 AND staff_role = 'owner'",
                        &[t, &id],
                    )
                    .await?;
                    let others =
                        count(&mut tx, "SELECT COUNT(*) FROM users WHERE tenant_id = $1 AND id <> $2", &[t, &id]).await?;
                    let properties = count(&mut tx, "SELECT COUNT(*) FROM properties WHERE tenant_id = $1", &[t]).await?;
                    if owners == 0 && (others > 0 || properties > 0) {
                        self.commit(tx).await?;
                        return Ok(Erasure::LastOwner);
                    }
                }
            }
            let open = count(
                &mut tx,
                "SELECT COUNT(*) FROM bookings WHERE user_id = $1 AND status IN ('held', 'confirmed', 'checked_in') AND check_out >= $2",
                &[&id, &date(today)],
            )
            .await?;
            if open > 0 {
                self.commit(tx).await?;
                return Ok(Erasure::OpenStays(u32::try_from(open).unwrap_or(u32::MAX)));
            }
            let erased = erased_address(user);
            // The read above takes no lock: a second erasure of the same person running at
            // the same moment waits here for the first and then finds nobody left to erase.
            let rewritten = sqlx::query(
                "UPDATE users SET erased_at = $2, email = $3, name = $4, password_hash = '!', unsubscribe_token = NULL, \
                 reminders = 0, email_verified_at = NULL, currency = NULL, tenant_id = NULL, tenant_role = NULL, \
                 staff_role = NULL WHERE id = $1 AND erased_at IS NULL",
            )
            .bind(&id)
            .bind(ms(now))
            .bind(&erased)
            .bind(ERASED_NAME)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            if rewritten.rows_affected() == 0 {
                self.commit(tx).await?;
                return Ok(Erasure::Gone);
            }
            let tenant_id = tenant.as_deref().map(parse::<TenantId>).transpose()?;
            let mut events = super::accounts::end_sessions_in(&mut tx, user, None, tenant_id, now).await?;
            for sql in [
                "DELETE FROM account_tokens WHERE user_id = $1",
                "DELETE FROM two_factor_recovery_codes WHERE user_id = $1",
                "DELETE FROM two_factor WHERE user_id = $1",
                "DELETE FROM search_history WHERE user_id = $1",
                // Their reviews stay with the property, signed by no one; their reports go.
                "UPDATE reviews SET author = 'Former guest' WHERE user_id = $1",
                "DELETE FROM review_reports WHERE user_id = $1",
            ] {
                sqlx::query(sql).bind(&id).execute(&mut *tx).await.map_err(db_err)?;
            }
            sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE created_by = $1 AND revoked_at IS NULL")
                .bind(&id)
                .bind(ms(now))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            sqlx::query("DELETE FROM invitations WHERE email = $1 AND accepted_at IS NULL")
                .bind(&email)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            sqlx::query("UPDATE invitations SET email = $2 WHERE email = $1")
                .bind(&email)
                .bind(&erased)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            // Their bookings keep everything but who stayed; so do the events that carry them,
            // and the messages about them lose their content (pending ones are not sent).
            let guest = erased_guest(user);
            let guest_json = serde_json::to_value(&guest).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let rows = sqlx::query("SELECT doc FROM bookings WHERE user_id = $1")
                .bind(&id)
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err)?;
            let mut recipients = vec![email.clone()];
            for r in &rows {
                let mut b: Booking = doc_of(r)?;
                recipients.push(b.guest.email.clone());
                recipients.extend(b.guest.phone.clone());
                b.guest = guest.clone();
                let booking = b.id.to_string();
                sqlx::query("UPDATE bookings SET doc = $2 WHERE id = $1")
                    .bind(&booking)
                    .bind(to_json(&b)?)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                rewrite_payloads(&mut tx, &booking, |p| match p.get_mut("guest") {
                    Some(g) => {
                        *g = guest_json.clone();
                        true
                    }
                    None => false,
                })
                .await?;
                // Text messages of a booking only ever go to its guest.
                sqlx::query(
                    "UPDATE notifications SET content = $2, \
                     recipient = CASE WHEN channel = 'sms' THEN $3 ELSE recipient END, \
                     status = CASE WHEN status = 'pending' THEN 'cancelled' ELSE status END, leased_until = NULL \
                     WHERE booking_id = $1",
                )
                .bind(&booking)
                .bind(ERASED_CONTENT)
                .bind(&erased)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            }
            recipients.sort();
            recipients.dedup();
            for r in &recipients {
                sqlx::query(
                    "UPDATE notifications SET recipient = $2, content = $3, \
                     status = CASE WHEN status = 'pending' THEN 'cancelled' ELSE status END, leased_until = NULL \
                     WHERE recipient = $1",
                )
                .bind(r)
                .bind(&erased)
                .bind(ERASED_CONTENT)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            }
            // Failed sign-ins named the address: the entries stay, the address goes.
            let entries: Vec<String> =
                sqlx::query_scalar("UPDATE audit_log SET target = $2 WHERE LOWER(target) = LOWER($1) RETURNING id")
                    .bind(&email)
                    .bind(ERASED_NAME)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db_err)?;
            for entry in &entries {
                rewrite_payloads(&mut tx, entry, |p| match p.get_mut("target") {
                    Some(t) => {
                        *t = serde_json::Value::String(ERASED_NAME.to_string());
                        true
                    }
                    None => false,
                })
                .await?;
            }
            append_event(&mut tx, event).await?;
            events.push(event.clone());
            self.commit(tx).await?;
            Ok(Erasure::Erased(events))
        })
        .await
    }
}
