//! The SQL store's two-factor role: TOTP secrets, the last step used, recovery codes (their
//! SHA-256) and setup-pending sessions.

use super::*;
use innkeep_app::two_factor::{TwoFactorRecord, TwoFactorStore};

#[async_trait]
impl TwoFactorStore for SqlStore {
    async fn two_factor(&self, user: UserId) -> Result<Option<TwoFactorRecord>, StoreError> {
        // Owners by their staff role, or by the tenant role of the accounts made before it.
        let sql = "SELECT t.secret, t.enabled_at, \
             CAST((SELECT COUNT(*) FROM two_factor_recovery_codes r WHERE r.user_id = u.id AND r.used_at IS NULL) AS BIGINT) AS codes_left, \
             CAST(CASE WHEN COALESCE(u.staff_role, u.tenant_role) = 'owner' THEN 1 ELSE 0 END AS BIGINT) AS owner \
             FROM users u LEFT JOIN two_factor t ON t.user_id = u.id WHERE u.id = $1";
        let Some(row) = sqlx::query(sql).bind(user.to_string()).fetch_optional(&self.writer()).await.map_err(db_err)?
        else {
            return Ok(None);
        };
        let enabled_at: Option<i64> = row.try_get("enabled_at").map_err(db_err)?;
        let codes_left: i64 = row.try_get("codes_left").map_err(db_err)?;
        Ok(Some(TwoFactorRecord {
            secret: row.try_get("secret").map_err(db_err)?,
            enabled_at: enabled_at.map(from_ms).transpose()?,
            recovery_codes_left: u32::try_from(codes_left).unwrap_or(0),
            tenant_owner: row.try_get::<i64, _>("owner").map_err(db_err)? == 1,
        }))
    }

    async fn start_two_factor(&self, user: UserId, secret: &str, now: Timestamp) -> Result<bool, StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            // One statement: an enrolment that is on is left as it is.
            let started: Option<String> = sqlx::query_scalar(
                "INSERT INTO two_factor (user_id, secret, enabled_at, last_step, created_at) VALUES ($1, $2, NULL, 0, $3) \
                 ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, last_step = 0, created_at = excluded.created_at \
                 WHERE two_factor.enabled_at IS NULL RETURNING user_id",
            )
            .bind(user.to_string())
            .bind(secret)
            .bind(ms(now))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
            self.commit(tx).await?;
            Ok(started.is_some())
        })
        .await
    }

    async fn enable_two_factor(
        &self,
        user: UserId,
        step: i64,
        recovery_hashes: &[String],
        keep_session: &str,
        now: Timestamp,
    ) -> Result<Option<Vec<Event>>, StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            let enabled: Option<String> = sqlx::query_scalar(
                "UPDATE two_factor SET enabled_at = $2, last_step = $3 WHERE user_id = $1 AND enabled_at IS NULL RETURNING user_id",
            )
            .bind(user.to_string())
            .bind(ms(now))
            .bind(step)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
            if enabled.is_none() {
                tx.rollback().await?;
                return Ok(None);
            }
            sqlx::query("DELETE FROM two_factor_recovery_codes WHERE user_id = $1")
                .bind(user.to_string())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            for hash in recovery_hashes {
                sqlx::query(
                    "INSERT INTO two_factor_recovery_codes (user_id, code_hash, used_at, created_at) VALUES ($1, $2, NULL, $3)",
                )
                .bind(user.to_string())
                .bind(hash)
                .bind(ms(now))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            }
            sqlx::query("UPDATE sessions SET two_factor_pending = 0 WHERE token_hash = $1 AND user_id = $2")
                .bind(keep_session)
                .bind(user.to_string())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            let tenant: Option<String> = sqlx::query_scalar("SELECT tenant_id FROM users WHERE id = $1")
                .bind(user.to_string())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?
                .flatten();
            let tenant = tenant.as_deref().map(parse::<TenantId>).transpose()?;
            let ended: Vec<String> = sqlx::query_scalar(
                "DELETE FROM sessions WHERE user_id = $1 AND two_factor_pending = 1 AND token_hash <> $2 RETURNING token_hash",
            )
            .bind(user.to_string())
            .bind(keep_session)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
            let mut events = Vec::new();
            for token_hash in ended {
                let change = innkeep_app::event::Change::SessionEnded(innkeep_app::event::SessionEnded { token_hash });
                let event = Event::new(&change, now, tenant, user.0);
                append_event(&mut tx, &event).await?;
                events.push(event);
            }
            self.commit(tx).await?;
            Ok(Some(events))
        })
        .await
    }

    async fn use_two_factor_step(&self, user: UserId, step: i64) -> Result<bool, StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            // One statement: of two sign-ins with the same code at once, one finds the step used.
            let used: Option<String> = sqlx::query_scalar(
                "UPDATE two_factor SET last_step = $2 WHERE user_id = $1 AND enabled_at IS NOT NULL AND last_step < $2 RETURNING user_id",
            )
            .bind(user.to_string())
            .bind(step)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
            self.commit(tx).await?;
            Ok(used.is_some())
        })
        .await
    }

    async fn use_recovery_code(&self, user: UserId, code_hash: &str, now: Timestamp) -> Result<bool, StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            let used: Option<String> = sqlx::query_scalar(
                "UPDATE two_factor_recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL \
                 AND EXISTS (SELECT 1 FROM two_factor t WHERE t.user_id = $1 AND t.enabled_at IS NOT NULL) RETURNING user_id",
            )
            .bind(user.to_string())
            .bind(code_hash)
            .bind(ms(now))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
            self.commit(tx).await?;
            Ok(used.is_some())
        })
        .await
    }

    async fn disable_two_factor(&self, user: UserId) -> Result<bool, StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            sqlx::query("DELETE FROM two_factor_recovery_codes WHERE user_id = $1")
                .bind(user.to_string())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            let removed: Option<Option<i64>> =
                sqlx::query_scalar("DELETE FROM two_factor WHERE user_id = $1 RETURNING enabled_at")
                    .bind(user.to_string())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?;
            self.commit(tx).await?;
            Ok(removed.flatten().is_some())
        })
        .await
    }

    async fn create_setup_session(
        &self,
        token_hash: &str,
        user: UserId,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            sqlx::query(
                "INSERT INTO sessions (token_hash, user_id, expires_at, created_at, two_factor_pending) VALUES ($1, $2, $3, $4, 1)",
            )
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

    async fn session_setup_pending(&self, token_hash: &str) -> Result<bool, StoreError> {
        let pending: Option<i64> =
            sqlx::query_scalar("SELECT CAST(two_factor_pending AS BIGINT) FROM sessions WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_optional(&self.writer())
                .await
                .map_err(db_err)?;
        Ok(pending == Some(1))
    }
}
