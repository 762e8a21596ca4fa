//! The SQL store's `TeamStore` role: invitations, members' roles and API keys.

use super::*;
use innkeep_app::team::{ApiKey, Invitation, Joining, MemberChange, TeamStore, joined_event};
use innkeep_core::Scope;

pub(super) const KEY_COLUMNS: &str =
    "id, tenant_id, name, scopes, prefix, created_by, created_at, last_used_at, revoked_at";

#[async_trait]
impl TeamStore for SqlStore {
    async fn add_invitation(&self, i: &Invitation, token_hash: &str) -> Result<(), StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            sqlx::query(
                "INSERT INTO invitations (id, token_hash, tenant_id, email, staff_role, invited_by, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(i.id.to_string())
            .bind(token_hash)
            .bind(i.tenant_id.to_string())
            .bind(i.email.as_str())
            .bind(i.role.as_str())
            .bind(i.invited_by.to_string())
            .bind(ms(i.created_at))
            .bind(ms(i.expires_at))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            self.commit(tx).await
        })
        .await
    }

    async fn open_invitations(&self, tenant: TenantId, now: Timestamp) -> Result<Vec<Invitation>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, tenant_id, email, staff_role, invited_by, created_at, expires_at FROM invitations \
             WHERE tenant_id = $1 AND accepted_at IS NULL AND expires_at > $2 ORDER BY created_at DESC, id DESC",
        )
        .bind(tenant.to_string())
        .bind(ms(now))
        .fetch_all(&self.writer())
        .await
        .map_err(db_err)?;
        rows.iter().map(invitation_of).collect()
    }

    async fn delete_invitation(&self, tenant: TenantId, id: uuid::Uuid) -> Result<bool, StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            let r = sqlx::query("DELETE FROM invitations WHERE id = $1 AND tenant_id = $2 AND accepted_at IS NULL")
                .bind(id.to_string())
                .bind(tenant.to_string())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            self.commit(tx).await?;
            Ok(r.rows_affected() > 0)
        })
        .await
    }

    async fn accept_invitation(
        &self,
        token_hash: &str,
        joining: &Joining,
        now: Timestamp,
    ) -> Result<Option<User>, StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            // One statement: of two acceptances at once, one finds `accepted_at` set.
            let row = sqlx::query(
                "UPDATE invitations SET accepted_at = $2 \
                 WHERE token_hash = $1 AND accepted_at IS NULL AND expires_at > $2 \
                 RETURNING tenant_id, email, staff_role",
            )
            .bind(token_hash)
            .bind(ms(now))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
            let Some(row) = row else {
                self.commit(tx).await?;
                return Ok(None);
            };
            let email: String = row.try_get("email").map_err(db_err)?;
            let role: String = row.try_get("staff_role").map_err(db_err)?;
            let user = User {
                id: joining.id,
                email: Email::parse(&email).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                name: joining.name.clone(),
                role: Role::Host,
                tenant_id: Some(parse::<TenantId>(&row.try_get::<String, _>("tenant_id").map_err(db_err)?)?),
                staff_role: Some(StaffRole::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role}")))?),
                created_at: now,
                locale: joining.locale,
                currency: None,
            };
            let r = sqlx::query(
                "INSERT INTO users (id, email, name, role, tenant_id, tenant_role, staff_role, password_hash, created_at, locale) \
                 VALUES ($1, $2, $3, 'host', $4, $5, $6, $7, $8, $9)",
            )
            .bind(user.id.to_string())
            .bind(user.email.as_str())
            .bind(&user.name)
            .bind(user.tenant_id.map(|t| t.to_string()))
            .bind(if user.staff_role == Some(StaffRole::Owner) { "owner" } else { "staff" })
            .bind(role.as_str())
            .bind(&joining.password_hash)
            .bind(ms(now))
            .bind(user.locale.as_str())
            .execute(&mut *tx)
            .await;
            match r {
                Err(e) if is_unique_violation(&e) => return Err(StoreError::Duplicate("email")),
                r => r.map_err(db_err)?,
            };
            sqlx::query("UPDATE invitations SET accepted_by = $2 WHERE token_hash = $1")
                .bind(token_hash)
                .bind(user.id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            append_event(&mut tx, &joined_event(&user, now)).await?;
            self.commit(tx).await?;
            Ok(Some(user))
        })
        .await
    }

    async fn set_member_role(
        &self,
        tenant: TenantId,
        user: UserId,
        role: Option<StaffRole>,
        now: Timestamp,
    ) -> Result<MemberChange, StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            // Changes to one tenant's team run one at a time (on SQLite every write does), so
            // two owners demoting each other at once cannot leave the team without one.
            if self.backend() == Backend::Postgres {
                sqlx::query("SELECT id FROM tenants WHERE id = $1 FOR UPDATE")
                    .bind(tenant.to_string())
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            }
            let current: Option<Option<String>> =
                sqlx::query_scalar("SELECT staff_role FROM users WHERE id = $1 AND tenant_id = $2 AND role = 'host'")
                    .bind(user.to_string())
                    .bind(tenant.to_string())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?;
            let Some(current) = current else {
                self.commit(tx).await?;
                return Ok(MemberChange::NotMember);
            };
            if current.as_deref() == Some("owner") && role != Some(StaffRole::Owner) {
                let owners: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM users WHERE tenant_id = $1 AND role = 'host' AND staff_role = 'owner'",
                )
                .bind(tenant.to_string())
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?;
                if owners <= 1 {
                    self.commit(tx).await?;
                    return Ok(MemberChange::LastOwner);
                }
            }
            match role {
                Some(r) => {
                    sqlx::query("UPDATE users SET staff_role = $2, tenant_role = $3 WHERE id = $1")
                        .bind(user.to_string())
                        .bind(r.as_str())
                        .bind(if r == StaffRole::Owner { "owner" } else { "staff" })
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                None => {
                    // Out of the team, the person keeps an account, as a guest.
                    sqlx::query(
                        "UPDATE users SET role = 'guest', tenant_id = NULL, tenant_role = NULL, staff_role = NULL WHERE id = $1",
                    )
                    .bind(user.to_string())
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                }
            }
            let events = super::accounts::end_sessions_in(&mut tx, user, None, Some(tenant), now).await?;
            self.commit(tx).await?;
            Ok(MemberChange::Changed(events))
        })
        .await
    }

    async fn add_api_key(&self, k: &ApiKey, secret_hash: &str) -> Result<(), StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            sqlx::query(
                "INSERT INTO api_keys (id, tenant_id, name, scopes, prefix, secret_hash, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(k.id.to_string())
            .bind(k.tenant_id.to_string())
            .bind(&k.name)
            .bind(k.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(","))
            .bind(&k.prefix)
            .bind(secret_hash)
            .bind(k.created_by.to_string())
            .bind(ms(k.created_at))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            self.commit(tx).await
        })
        .await
    }

    async fn api_keys(&self, tenant: TenantId) -> Result<Vec<ApiKey>, StoreError> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.to_string())
            .fetch_all(&self.writer())
            .await
            .map_err(db_err)?;
        rows.iter().map(key_of).collect()
    }

    async fn revoke_api_key(&self, tenant: TenantId, id: uuid::Uuid, now: Timestamp) -> Result<bool, StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            let r = sqlx::query(
                "UPDATE api_keys SET revoked_at = $3 WHERE id = $1 AND tenant_id = $2 AND revoked_at IS NULL",
            )
            .bind(id.to_string())
            .bind(tenant.to_string())
            .bind(ms(now))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            self.commit(tx).await?;
            Ok(r.rows_affected() > 0)
        })
        .await
    }

    async fn api_key_by_hash(&self, secret_hash: &str) -> Result<Option<ApiKey>, StoreError> {
        // From the primary: a revocation, or a suspension of the key's tenant or of whoever
        // made it, counts from the moment it commits.
        let columns = KEY_COLUMNS.split(", ").map(|c| format!("k.{c}")).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT {columns} FROM api_keys k JOIN tenants t ON t.id = k.tenant_id JOIN users u ON u.id = k.created_by \
             WHERE k.secret_hash = $1 AND t.suspended_at IS NULL AND u.suspended_at IS NULL"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(secret_hash)
            .fetch_optional(&self.writer())
            .await
            .map_err(db_err)?;
        row.as_ref().map(key_of).transpose()
    }

    async fn touch_api_key(&self, id: uuid::Uuid, now: Timestamp) -> Result<(), StoreError> {
        let since = now.checked_sub(innkeep_app::team::TOUCH_EVERY).unwrap_or(now);
        self.write(async {
            let mut tx = self.begin().await?;
            sqlx::query(
                "UPDATE api_keys SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $3)",
            )
            .bind(id.to_string())
            .bind(ms(now))
            .bind(ms(since))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            self.commit(tx).await
        })
        .await
    }
}

fn invitation_of(row: &AnyRow) -> Result<Invitation, StoreError> {
    let email: String = row.try_get("email").map_err(db_err)?;
    let role: String = row.try_get("staff_role").map_err(db_err)?;
    Ok(Invitation {
        id: parse::<uuid::Uuid>(&row.try_get::<String, _>("id").map_err(db_err)?)?,
        tenant_id: parse::<TenantId>(&row.try_get::<String, _>("tenant_id").map_err(db_err)?)?,
        email: Email::parse(&email).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        role: StaffRole::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role}")))?,
        invited_by: parse::<UserId>(&row.try_get::<String, _>("invited_by").map_err(db_err)?)?,
        created_at: from_ms(row.try_get("created_at").map_err(db_err)?)?,
        expires_at: from_ms(row.try_get("expires_at").map_err(db_err)?)?,
    })
}

pub(super) fn key_of(row: &AnyRow) -> Result<ApiKey, StoreError> {
    let scopes: String = row.try_get("scopes").map_err(db_err)?;
    let scopes = scopes
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| Scope::parse(s).ok_or_else(|| StoreError::Corrupt(format!("scope {s}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let at = |name: &str| -> Result<Option<Timestamp>, StoreError> {
        row.try_get::<Option<i64>, _>(name).map_err(db_err)?.map(from_ms).transpose()
    };
    Ok(ApiKey {
        id: parse::<uuid::Uuid>(&row.try_get::<String, _>("id").map_err(db_err)?)?,
        tenant_id: parse::<TenantId>(&row.try_get::<String, _>("tenant_id").map_err(db_err)?)?,
        name: row.try_get("name").map_err(db_err)?,
        scopes,
        prefix: row.try_get("prefix").map_err(db_err)?,
        created_by: parse::<UserId>(&row.try_get::<String, _>("created_by").map_err(db_err)?)?,
        created_at: from_ms(row.try_get("created_at").map_err(db_err)?)?,
        last_used_at: at("last_used_at")?,
        revoked_at: at("revoked_at")?,
    })
}
