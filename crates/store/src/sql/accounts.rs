//! The SQL store's `Accounts` role: users and their sessions.

use super::*;

#[async_trait]
impl Accounts for SqlStore {
    async fn create_user(&self, new: &NewUser, event: &Event) -> Result<(), StoreError> {
        self.write(async {
            let u = &new.user;
            let mut tx = self.begin().await?;
            if let (Some(t), Some(name)) = (u.tenant_id, &new.tenant_name) {
                sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)")
                    .bind(t.to_string())
                    .bind(name)
                    .bind(ms(u.created_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            }
            let r = sqlx::query(
                "INSERT INTO users (id, email, name, role, tenant_id, tenant_role, staff_role, password_hash, created_at, locale) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(u.id.to_string())
            .bind(u.email.as_str())
            .bind(&u.name)
            .bind(u.role.as_str())
            .bind(u.tenant_id.map(|t| t.to_string()))
            .bind(u.staff_role.map(|r| if r == StaffRole::Owner { "owner" } else { "staff" }))
            .bind(u.staff_role.map(StaffRole::as_str))
            .bind(&new.password_hash)
            .bind(ms(u.created_at))
            .bind(u.locale.as_str())
            .execute(&mut *tx)
            .await;
            match r {
                Err(e) if is_unique_violation(&e) => return Err(StoreError::Duplicate("email")),
                r => r.map_err(db_err)?,
            };
            append_event(&mut tx, event).await?;
            self.commit(tx).await
        })
        .await
    }

    async fn user_credentials(&self, email: &Email) -> Result<Option<(User, String)>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.email = $1");
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(email.as_str())
            .fetch_optional(&self.reader())
            .await
            .map_err(db_err)?
        else {
            return Ok(None);
        };
        Ok(Some((user_of(&row)?, row.try_get("password_hash").map_err(db_err)?)))
    }

    async fn create_session(&self, token_hash: &str, user: UserId, expires_at: Timestamp) -> Result<(), StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            sqlx::query("INSERT INTO sessions (token_hash, user_id, expires_at, created_at) VALUES ($1, $2, $3, $4)")
                .bind(token_hash)
                .bind(user.to_string())
                .bind(ms(expires_at))
                .bind(ms(Timestamp::now()))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            self.commit(tx).await
        })
        .await
    }

    async fn session_user(&self, token_hash: &str, now: Timestamp) -> Result<Option<(User, Timestamp)>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > $2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(token_hash)
            .bind(ms(now))
            .fetch_optional(&self.reader())
            .await
            .map_err(db_err)?;
        row.as_ref().map(|r| Ok((user_of(r)?, from_ms(r.try_get("expires_at").map_err(db_err)?)?))).transpose()
    }

    async fn delete_session(&self, token_hash: &str, event: &Event) -> Result<(), StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(token_hash)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            append_event(&mut tx, event).await?;
            self.commit(tx).await
        })
        .await
    }

    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_optional(&self.reader())
            .await
            .map_err(db_err)?;
        row.as_ref().map(user_of).transpose()
    }

    async fn sessions_of(&self, user: UserId, now: Timestamp) -> Result<Vec<SessionRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT token_hash, created_at, expires_at FROM sessions WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at DESC, token_hash",
        )
        .bind(user.to_string())
        .bind(ms(now))
        .fetch_all(&self.writer())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(SessionRecord {
                    token_hash: r.try_get("token_hash").map_err(db_err)?,
                    created_at: from_ms(r.try_get("created_at").map_err(db_err)?)?,
                    expires_at: from_ms(r.try_get("expires_at").map_err(db_err)?)?,
                })
            })
            .collect()
    }

    async fn end_sessions(
        &self,
        user: UserId,
        keep: Option<&str>,
        password_hash: Option<&str>,
        now: Timestamp,
    ) -> Result<Vec<Event>, StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            let tenant: Option<String> = sqlx::query_scalar("SELECT tenant_id FROM users WHERE id = $1")
                .bind(user.to_string())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?
                .flatten();
            let tenant = tenant.as_deref().map(parse::<TenantId>).transpose()?;
            if let Some(hash) = password_hash {
                sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                    .bind(user.to_string())
                    .bind(hash)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            }
            let events = end_sessions_in(&mut tx, user, keep, tenant, now).await?;
            self.commit(tx).await?;
            Ok(events)
        })
        .await
    }

    async fn password_hash(&self, user: UserId) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
            .bind(user.to_string())
            .fetch_optional(&self.writer())
            .await
            .map_err(db_err)
    }

    async fn add_account_token(&self, token: &AccountToken) -> Result<(), StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            sqlx::query(
                "INSERT INTO account_tokens (token_hash, user_id, purpose, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&token.token_hash)
            .bind(token.user_id.to_string())
            .bind(token.purpose.as_str())
            .bind(ms(token.expires_at))
            .bind(ms(token.created_at))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            self.commit(tx).await
        })
        .await
    }

    async fn use_account_token(
        &self,
        token_hash: &str,
        purpose: TokenPurpose,
        now: Timestamp,
    ) -> Result<Option<UserId>, StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            // One statement: of two uses at once, one finds `used_at` set.
            let user: Option<String> = sqlx::query_scalar(
                "UPDATE account_tokens SET used_at = $3 WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 RETURNING user_id",
            )
            .bind(token_hash)
            .bind(purpose.as_str())
            .bind(ms(now))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
            self.commit(tx).await?;
            user.as_deref().map(parse::<UserId>).transpose()
        })
        .await
    }

    async fn set_email_verified(&self, user: UserId, at: Timestamp) -> Result<(), StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            sqlx::query("UPDATE users SET email_verified_at = COALESCE(email_verified_at, $2) WHERE id = $1")
                .bind(user.to_string())
                .bind(ms(at))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            self.commit(tx).await
        })
        .await
    }

    async fn email_verified_at(&self, user: UserId) -> Result<Option<Timestamp>, StoreError> {
        let v: Option<Option<i64>> = sqlx::query_scalar("SELECT email_verified_at FROM users WHERE id = $1")
            .bind(user.to_string())
            .fetch_optional(&self.writer())
            .await
            .map_err(db_err)?;
        v.flatten().map(from_ms).transpose()
    }

    async fn update_profile(
        &self,
        user: UserId,
        name: Option<&str>,
        locale: Option<innkeep_core::Locale>,
        currency: Option<innkeep_core::Currency>,
    ) -> Result<(), StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            sqlx::query(
                "UPDATE users SET name = COALESCE($2, name), locale = COALESCE($3, locale), currency = COALESCE($4, currency) WHERE id = $1",
            )
                .bind(user.to_string())
                .bind(name)
                .bind(locale.map(|l| l.as_str()))
                .bind(currency.map(|c| c.code().to_string()))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            self.commit(tx).await
        })
        .await
    }

    async fn tenant_users(&self, tenant: TenantId) -> Result<Vec<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.tenant_id = $1 ORDER BY u.created_at, u.id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.to_string())
            .fetch_all(&self.reader())
            .await
            .map_err(db_err)?;
        rows.iter().map(user_of).collect()
    }
}

/// End a user's sessions (all but `keep`, a token hash) in `tx`, with a `session.ended`
/// event each; the events written.
pub(super) async fn end_sessions_in(
    tx: &mut Tx,
    user: UserId,
    keep: Option<&str>,
    tenant: Option<TenantId>,
    now: Timestamp,
) -> Result<Vec<Event>, StoreError> {
    let ended: Vec<String> =
        sqlx::query_scalar("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2 RETURNING token_hash")
            .bind(user.to_string())
            .bind(keep.unwrap_or(""))
            .fetch_all(&mut **tx)
            .await
            .map_err(db_err)?;
    let mut events = Vec::new();
    for token_hash in ended {
        let change = innkeep_app::event::Change::SessionEnded(innkeep_app::event::SessionEnded { token_hash });
        let event = Event::new(&change, now, tenant, user.0);
        append_event(tx, &event).await?;
        events.push(event);
    }
    Ok(events)
}
