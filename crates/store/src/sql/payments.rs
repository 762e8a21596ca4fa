//! The SQL store's `Payments` role: payments, imported statement lines and the ledger
//! (append-only: triggers refuse to change or delete an entry or a line).

use super::*;
use innkeep_app::payment::{
    LedgerProblem, LedgerReport, LineOutcome, NewRefund, Payment, PaymentCreated, Payments, Posting, Refund,
    RefundMade, Settlement, StoredLine,
};
use innkeep_core::ledger::imbalance;
use innkeep_core::{Currency, Money, PaymentMethod, PaymentStatus};
use uuid::Uuid;

const PAYMENT_COLUMNS: &str = "id, booking_id, tenant_id, user_id, method, status, amount_minor, currency, received_minor, refunded_minor, reference, provider_id, client_secret, failure, created_at, updated_at";

pub(super) fn currency(code: &str) -> Result<Currency, StoreError> {
    Currency::parse(code).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn payment_of(row: &AnyRow) -> Result<Payment, StoreError> {
    let c = currency(&row.try_get::<String, _>("currency").map_err(db_err)?)?;
    let money = |col: &str| -> Result<Money, StoreError> { Ok(Money::new(row.try_get(col).map_err(db_err)?, c)) };
    let text = |col: &str| -> Result<String, StoreError> { row.try_get(col).map_err(db_err) };
    let opt = |col: &str| -> Result<Option<String>, StoreError> { row.try_get(col).map_err(db_err) };
    let method = text("method")?;
    let method =
        PaymentMethod::parse(&method).ok_or_else(|| StoreError::Corrupt(format!("payment method {method:?}")))?;
    let status = text("status")?;
    Ok(Payment {
        id: parse(&text("id")?)?,
        booking_id: parse(&text("booking_id")?)?,
        tenant_id: parse(&text("tenant_id")?)?,
        user_id: parse(&text("user_id")?)?,
        method,
        status: PaymentStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("payment status {status:?}")))?,
        amount: money("amount_minor")?,
        received: money("received_minor")?,
        refunded: money("refunded_minor")?,
        reference: opt("reference")?,
        provider_id: opt("provider_id")?,
        client_secret: opt("client_secret")?,
        failure: opt("failure")?,
        created_at: from_ms(row.try_get("created_at").map_err(db_err)?)?,
        updated_at: from_ms(row.try_get("updated_at").map_err(db_err)?)?,
    })
}

fn refund_of(row: &AnyRow) -> Result<Refund, StoreError> {
    let text = |col: &str| -> Result<String, StoreError> { row.try_get(col).map_err(db_err) };
    Ok(Refund {
        id: parse(&text("id")?)?,
        payment_id: parse(&text("payment_id")?)?,
        amount: Money::new(row.try_get("amount_minor").map_err(db_err)?, currency(&text("currency")?)?),
        status: text("status")?,
        reason: text("reason")?,
        failure: row.try_get("failure").map_err(db_err)?,
        created_at: from_ms(row.try_get("created_at").map_err(db_err)?)?,
    })
}

fn line_of(row: &AnyRow) -> Result<StoredLine, StoreError> {
    let text = |col: &str| -> Result<String, StoreError> { row.try_get(col).map_err(db_err) };
    let c = currency(&text("currency")?)?;
    let booking_date: Option<String> = row.try_get("booking_date").map_err(db_err)?;
    let payment_id: Option<String> = row.try_get("payment_id").map_err(db_err)?;
    Ok(StoredLine {
        id: parse(&text("id")?)?,
        fingerprint: text("fingerprint")?,
        statement_id: text("statement_id")?,
        booking_date: booking_date.as_deref().map(parse_date).transpose()?,
        amount: Money::new(row.try_get("amount_minor").map_err(db_err)?, c),
        credit: row.try_get::<i64, _>("credit").map_err(db_err)? != 0,
        reference: text("reference")?,
        payment_id: payment_id.as_deref().map(parse).transpose()?,
        outcome: {
            let o = text("outcome")?;
            LineOutcome::parse(&o).ok_or_else(|| StoreError::Corrupt(format!("statement line outcome {o:?}")))?
        },
        created_at: from_ms(row.try_get("created_at").map_err(db_err)?)?,
    })
}

/// Write one ledger entry, its lines and the balances they move.
pub(super) async fn post(tx: &mut Tx, p: &Posting) -> Result<(), StoreError> {
    // Entries are balanced when made; check again where they are written.
    if let Some((c, off)) = imbalance(p.entry.lines()).map_err(|e| StoreError::Corrupt(e.to_string()))? {
        return Err(StoreError::Corrupt(format!("ledger entry {} is {off} {c} off", p.id)));
    }
    sqlx::query(
        "INSERT INTO ledger_entries (id, kind, subject_id, reverses, created_at) VALUES ($1, $2, $3, NULL, $4)",
    )
    .bind(p.id.to_string())
    .bind(p.kind)
    .bind(p.subject_id.to_string())
    .bind(ms(p.at))
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    for (n, l) in p.entry.lines().iter().enumerate() {
        sqlx::query(
            "INSERT INTO ledger_lines (entry_id, n, account, amount_minor, currency) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(p.id.to_string())
        .bind(n as i64)
        .bind(l.account.code())
        .bind(l.amount.minor)
        .bind(l.amount.currency.code())
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
        sqlx::query(
            "INSERT INTO ledger_balances (account, currency, balance_minor) VALUES ($1, $2, $3) \
             ON CONFLICT (account, currency) DO UPDATE SET balance_minor = ledger_balances.balance_minor + excluded.balance_minor",
        )
        .bind(l.account.code())
        .bind(l.amount.currency.code())
        .bind(l.amount.minor)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    }
    Ok(())
}

#[async_trait]
impl Payments for SqlStore {
    async fn create_payment(
        &self,
        p: &Payment,
        key: &str,
        request_hash: &str,
        event: &Event,
    ) -> Result<PaymentCreated, StoreError> {
        let created = self
            .write(async {
                let mut tx = self.begin().await?;
                let r = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO payments ({PAYMENT_COLUMNS}, idempotency_key, request_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
                )))
                .bind(p.id.to_string())
                .bind(p.booking_id.to_string())
                .bind(p.tenant_id.to_string())
                .bind(p.user_id.to_string())
                .bind(PaymentMethod::as_str(p.method))
                .bind(p.status.as_str())
                .bind(p.amount.minor)
                .bind(p.amount.currency.code())
                .bind(p.received.minor)
                .bind(p.refunded.minor)
                .bind(p.reference.as_deref())
                .bind(p.provider_id.as_deref())
                .bind(p.client_secret.as_deref())
                .bind(p.failure.as_deref())
                .bind(ms(p.created_at))
                .bind(ms(p.updated_at))
                .bind(key)
                .bind(request_hash)
                .execute(&mut *tx)
                .await;
                match r {
                    Err(e) if is_unique_violation(&e) => return Ok(false),
                    r => r.map_err(db_err)?,
                };
                append_event(&mut tx, event).await?;
                self.commit(tx).await?;
                Ok(true)
            })
            .await?;
        if created {
            return Ok(PaymentCreated::Created);
        }
        // The key (another request got there first) or the booking's one open payment.
        Ok(match self.payment_by_key(p.user_id, key).await? {
            Some((earlier, hash)) if hash == request_hash => PaymentCreated::Replayed(Box::new(earlier)),
            Some(_) => PaymentCreated::KeyReused,
            None => PaymentCreated::OpenExists,
        })
    }

    async fn payment(&self, id: Uuid) -> Result<Option<Payment>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE id = $1")))
            .bind(id.to_string())
            .fetch_optional(&self.reader())
            .await
            .map_err(db_err)?;
        row.as_ref().map(payment_of).transpose()
    }

    async fn payments_of_booking(&self, booking: BookingId) -> Result<Vec<Payment>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE booking_id = $1 ORDER BY created_at, id"
        )))
        .bind(booking.to_string())
        .fetch_all(&self.reader())
        .await
        .map_err(db_err)?;
        rows.iter().map(payment_of).collect()
    }

    async fn payments_of_user(&self, user: UserId) -> Result<Vec<Payment>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE user_id = $1 ORDER BY created_at, id"
        )))
        .bind(user.to_string())
        .fetch_all(&self.reader())
        .await
        .map_err(db_err)?;
        rows.iter().map(payment_of).collect()
    }

    async fn payment_by_reference(&self, reference: &str) -> Result<Option<Payment>, StoreError> {
        let row =
            sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE reference = $1")))
                .bind(reference)
                .fetch_optional(&self.reader())
                .await
                .map_err(db_err)?;
        row.as_ref().map(payment_of).transpose()
    }

    async fn payment_by_key(&self, user: UserId, key: &str) -> Result<Option<(Payment, String)>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {PAYMENT_COLUMNS}, request_hash FROM payments WHERE user_id = $1 AND idempotency_key = $2"
        )))
        .bind(user.to_string())
        .bind(key)
        .fetch_optional(&self.reader())
        .await
        .map_err(db_err)?;
        match row {
            Some(r) => Ok(Some((payment_of(&r)?, r.try_get("request_hash").map_err(db_err)?))),
            None => Ok(None),
        }
    }

    async fn settle(&self, s: &Settlement) -> Result<bool, StoreError> {
        // In the writer's commit group on SQLite (one fsync for many), alone on PostgreSQL.
        self.retrying(|| {
            self.write(self.grouped(|mut tx| async move {
                let settled = settle_in(&mut tx, s).await;
                (tx, settled)
            }))
        })
        .await
    }

    async fn refund(&self, n: &NewRefund) -> Result<RefundMade, StoreError> {
        let r = &n.refund;
        let made = self
            .write(async {
                let mut tx = self.begin().await?;
                let inserted = sqlx::query(
                    "INSERT INTO refunds (id, payment_id, amount_minor, currency, status, reason, scope, idempotency_key, request_hash, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
                )
                .bind(r.id.to_string())
                .bind(r.payment_id.to_string())
                .bind(r.amount.minor)
                .bind(r.amount.currency.code())
                .bind(&r.status)
                .bind(&r.reason)
                .bind(&n.scope)
                .bind(&n.key)
                .bind(&n.request_hash)
                .bind(ms(r.created_at))
                .execute(&mut *tx)
                .await;
                match inserted {
                    Err(e) if is_unique_violation(&e) => return Ok(None),
                    other => other.map_err(db_err)?,
                };
                // The limit holds whatever ran at once: the row grows only within what it received.
                let grown = sqlx::query(
                    "UPDATE payments SET refunded_minor = refunded_minor + $1, updated_at = $2 \
                     WHERE id = $3 AND status = 'succeeded' AND refunded_minor + $1 <= received_minor",
                )
                .bind(r.amount.minor)
                .bind(ms(r.created_at))
                .bind(r.payment_id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                if grown.rows_affected() != 1 {
                    return Ok(Some(RefundMade::MoreThanReceived));
                }
                post(&mut tx, &n.posting).await?;
                append_event(&mut tx, &n.event).await?;
                let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE id = $1")))
                    .bind(r.payment_id.to_string())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_err)?;
                let payment = payment_of(&row)?;
                self.commit(tx).await?;
                Ok(Some(RefundMade::Made(Box::new(payment))))
            })
            .await?;
        if let Some(m) = made {
            return Ok(m);
        }
        // The key was used: the same request, or another.
        let row = sqlx::query(
            "SELECT id, payment_id, amount_minor, currency, status, reason, failure, request_hash, created_at FROM refunds WHERE scope = $1 AND idempotency_key = $2",
        )
        .bind(&n.scope)
        .bind(&n.key)
        .fetch_optional(&self.writer())
        .await
        .map_err(db_err)?;
        match row {
            Some(row) if row.try_get::<String, _>("request_hash").map_err(db_err)? == n.request_hash => {
                Ok(RefundMade::Replayed(Box::new(refund_of(&row)?)))
            }
            Some(_) => Ok(RefundMade::KeyReused),
            None => Err(StoreError::Stale),
        }
    }

    async fn refunds_of(&self, payment: Uuid) -> Result<Vec<Refund>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, payment_id, amount_minor, currency, status, reason, failure, created_at FROM refunds WHERE payment_id = $1 ORDER BY created_at, id",
        )
        .bind(payment.to_string())
        .fetch_all(&self.reader())
        .await
        .map_err(db_err)?;
        rows.iter().map(refund_of).collect()
    }

    async fn statement_lines(&self, outcome: Option<LineOutcome>, limit: u32) -> Result<Vec<StoredLine>, StoreError> {
        let columns = "id, fingerprint, statement_id, booking_date, amount_minor, currency, credit, reference, payment_id, outcome, created_at";
        let rows = match outcome {
            Some(o) => sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {columns} FROM statement_lines WHERE outcome = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
            )))
            .bind(o.as_str())
            .bind(i64::from(limit))
            .fetch_all(&self.reader())
            .await
            .map_err(db_err)?,
            None => sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {columns} FROM statement_lines ORDER BY created_at DESC, id DESC LIMIT $1"
            )))
            .bind(i64::from(limit))
            .fetch_all(&self.reader())
            .await
            .map_err(db_err)?,
        };
        rows.iter().map(line_of).collect()
    }

    async fn statement_line(&self, id: Uuid) -> Result<Option<StoredLine>, StoreError> {
        let row = sqlx::query(
            "SELECT id, fingerprint, statement_id, booking_date, amount_minor, currency, credit, reference, payment_id, outcome, created_at \
             FROM statement_lines WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.writer())
        .await
        .map_err(db_err)?;
        row.as_ref().map(line_of).transpose()
    }

    async fn check_ledger(&self) -> Result<LedgerReport, StoreError> {
        let pool = self.writer();
        let count = |sql: &'static str| {
            let pool = pool.clone();
            async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(&pool).await.map_err(db_err) }
        };
        let entries = count("SELECT COUNT(*) FROM ledger_entries").await?;
        let lines = count("SELECT COUNT(*) FROM ledger_lines").await?;
        let accounts = count("SELECT COUNT(*) FROM ledger_balances").await?;
        let mut problems = Vec::new();
        let unbalanced = sqlx::query(
            "SELECT entry_id, currency, SUM(amount_minor) AS off FROM ledger_lines GROUP BY entry_id, currency HAVING SUM(amount_minor) <> 0 ORDER BY entry_id",
        )
        .fetch_all(&pool)
        .await
        .map_err(db_err)?;
        for r in unbalanced {
            let entry: String = r.try_get("entry_id").map_err(db_err)?;
            let c: String = r.try_get("currency").map_err(db_err)?;
            let off: i64 = r.try_get("off").map_err(db_err)?;
            problems.push(LedgerProblem {
                subject: format!("entry {entry}"),
                problem: format!("its {c} lines sum to {off}, not 0"),
            });
        }
        let short = sqlx::query(
            "SELECT e.id AS id, COUNT(l.n) AS n FROM ledger_entries e LEFT JOIN ledger_lines l ON l.entry_id = e.id GROUP BY e.id HAVING COUNT(l.n) < 2",
        )
        .fetch_all(&pool)
        .await
        .map_err(db_err)?;
        for r in short {
            let entry: String = r.try_get("id").map_err(db_err)?;
            let n: i64 = r.try_get("n").map_err(db_err)?;
            problems.push(LedgerProblem {
                subject: format!("entry {entry}"),
                problem: format!("{n} lines; an entry needs two or more"),
            });
        }
        // Every kept balance equals the sum of its account's lines, and every account with
        // lines has a kept balance.
        let sums = sqlx::query(
            "SELECT s.account AS account, s.currency AS currency, s.total AS total, b.balance_minor AS kept \
             FROM (SELECT account, currency, SUM(amount_minor) AS total FROM ledger_lines GROUP BY account, currency) s \
             LEFT JOIN ledger_balances b ON b.account = s.account AND b.currency = s.currency \
             WHERE b.balance_minor IS NULL OR b.balance_minor <> s.total \
             UNION ALL \
             SELECT b.account, b.currency, 0, b.balance_minor FROM ledger_balances b \
             WHERE b.balance_minor <> 0 AND NOT EXISTS (SELECT 1 FROM ledger_lines l WHERE l.account = b.account AND l.currency = b.currency)",
        )
        .fetch_all(&pool)
        .await
        .map_err(db_err)?;
        for r in sums {
            let account: String = r.try_get("account").map_err(db_err)?;
            let c: String = r.try_get("currency").map_err(db_err)?;
            let total: i64 = r.try_get("total").map_err(db_err)?;
            let kept: Option<i64> = r.try_get("kept").map_err(db_err)?;
            problems.push(LedgerProblem {
                subject: format!("account {account} ({c})"),
                problem: match kept {
                    Some(k) => format!("kept balance {k} but its lines sum to {total}"),
                    None => format!("no kept balance; its lines sum to {total}"),
                },
            });
        }
        Ok(LedgerReport { entries, lines, accounts, problems })
    }

    async fn ledger_balances(&self, account_prefix: &str) -> Result<Vec<(String, Money)>, StoreError> {
        let rows =
            sqlx::query("SELECT account, currency, balance_minor FROM ledger_balances ORDER BY account, currency")
                .fetch_all(&self.reader())
                .await
                .map_err(db_err)?;
        rows.iter()
            .filter(|r| r.try_get::<String, _>("account").is_ok_and(|a| a.starts_with(account_prefix)))
            .map(|r| {
                let account: String = r.try_get("account").map_err(db_err)?;
                let c = currency(&r.try_get::<String, _>("currency").map_err(db_err)?)?;
                Ok((account, Money::new(r.try_get("balance_minor").map_err(db_err)?, c)))
            })
            .collect()
    }

    async fn payments_with_status(&self, status: PaymentStatus, limit: u32) -> Result<Vec<Payment>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE status = $1 ORDER BY updated_at DESC, id DESC LIMIT $2"
        )))
        .bind(status.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.reader())
        .await
        .map_err(db_err)?;
        rows.iter().map(|r| payment_of(r).map(|p| p.without_secret())).collect()
    }

    async fn payment_by_provider_id(&self, provider_id: &str) -> Result<Option<Payment>, StoreError> {
        let row =
            sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE provider_id = $1")))
                .bind(provider_id)
                .fetch_optional(&self.reader())
                .await
                .map_err(db_err)?;
        row.as_ref().map(payment_of).transpose()
    }

    async fn attach_intent(
        &self,
        payment: Uuid,
        provider_id: &str,
        client_secret: Option<&str>,
        at: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        self.retrying(|| {
            self.write(self.grouped(|mut tx| async move {
                let attached = attach_in(&mut tx, payment, provider_id, client_secret, at).await;
                (tx, attached)
            }))
        })
        .await
    }

    async fn refund_paid(&self, refund: Uuid, posting: &Posting, event: &Event) -> Result<bool, StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            let r = sqlx::query(
                "UPDATE refunds SET status = 'succeeded', updated_at = $1 WHERE id = $2 AND status = 'pending'",
            )
            .bind(ms(posting.at))
            .bind(refund.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            if r.rows_affected() != 1 {
                return Ok(false);
            }
            post(&mut tx, posting).await?;
            append_event(&mut tx, event).await?;
            self.commit(tx).await?;
            Ok(true)
        })
        .await
    }

    async fn refund_failed(&self, refund: Uuid, why: &str, at: jiff::Timestamp) -> Result<bool, StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            let r = sqlx::query(
                "UPDATE refunds SET status = 'failed', failure = $1, updated_at = $2 WHERE id = $3 AND status = 'pending'",
            )
            .bind(why)
            .bind(ms(at))
            .bind(refund.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            self.commit(tx).await?;
            Ok(r.rows_affected() == 1)
        })
        .await
    }
}

/// Apply settlement `s` in `tx`: whether it changed anything (a line, match or provider
/// event seen before changes nothing, and is undone).
async fn settle_in(tx: &mut Tx, s: &Settlement) -> Result<(bool, Keep), StoreError> {
    if let Some(l) = &s.line {
        let r = sqlx::query(
            "INSERT INTO statement_lines (id, fingerprint, statement_id, booking_date, amount_minor, currency, credit, reference, payment_id, outcome, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (fingerprint) DO NOTHING",
        )
        .bind(l.id.to_string())
        .bind(&l.fingerprint)
        .bind(&l.statement_id)
        .bind(l.booking_date.map(date))
        .bind(l.amount.minor)
        .bind(l.amount.currency.code())
        .bind(i64::from(l.credit))
        .bind(&l.reference)
        .bind(l.payment_id.map(|id| id.to_string()))
        .bind(l.outcome.as_str())
        .bind(ms(l.created_at))
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
        if r.rows_affected() == 0 {
            return Ok((false, Keep::No));
        }
    }
    if let Some(l) = &s.matched {
        let r = sqlx::query(
            "UPDATE statement_lines SET outcome = $1, payment_id = $2 WHERE id = $3 AND outcome = 'unmatched'",
        )
        .bind(l.outcome.as_str())
        .bind(l.payment_id.map(|id| id.to_string()))
        .bind(l.id.to_string())
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
        if r.rows_affected() == 0 {
            return Ok((false, Keep::No));
        }
    }
    if let Some(e) = &s.provider_event {
        let r = sqlx::query(
            "INSERT INTO provider_events (id, kind, payment_id, received_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&e.id)
        .bind(&e.kind)
        .bind(e.payment_id.map(|id| id.to_string()))
        .bind(ms(e.received_at))
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
        if r.rows_affected() == 0 {
            return Ok((false, Keep::No));
        }
    }
    if let Some((before, after)) = &s.payment {
        let r = sqlx::query(
            "UPDATE payments SET status = $1, received_minor = $2, refunded_minor = $3, updated_at = $4, \
             failure = $5, provider_id = COALESCE(provider_id, $6) \
             WHERE id = $7 AND status = $8 AND received_minor = $9 AND refunded_minor = $10",
        )
        .bind(after.status.as_str())
        .bind(after.received.minor)
        .bind(after.refunded.minor)
        .bind(ms(after.updated_at))
        .bind(&after.failure)
        .bind(&after.provider_id)
        .bind(before.id.to_string())
        .bind(before.status.as_str())
        .bind(before.received.minor)
        .bind(before.refunded.minor)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
        if r.rows_affected() != 1 {
            return Err(StoreError::Stale);
        }
    }
    if let Some(t) = &s.confirm {
        super::inventory::apply_transition(tx, t).await?;
    }
    for r in &s.refunds {
        // The system's refund of a payment that came too late: once per payment.
        let key = format!("unheld:{}", r.payment_id);
        sqlx::query(
            "INSERT INTO refunds (id, payment_id, amount_minor, currency, status, reason, scope, idempotency_key, request_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'system', $7, '', $8, $8)",
        )
        .bind(r.id.to_string())
        .bind(r.payment_id.to_string())
        .bind(r.amount.minor)
        .bind(r.amount.currency.code())
        .bind(&r.status)
        .bind(&r.reason)
        .bind(key)
        .bind(ms(r.created_at))
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    }
    for p in &s.postings {
        post(tx, p).await?;
    }
    for e in &s.events {
        append_event(tx, e).await?;
    }
    Ok((true, Keep::Yes))
}

/// Attach the provider's payment to ours in `tx`: whether that changed anything.
async fn attach_in(
    tx: &mut Tx,
    payment: Uuid,
    provider_id: &str,
    client_secret: Option<&str>,
    at: jiff::Timestamp,
) -> Result<(bool, Keep), StoreError> {
    let r = sqlx::query(
        "UPDATE payments SET provider_id = $1, client_secret = $2, updated_at = $3 WHERE id = $4 AND provider_id IS NULL",
    )
    .bind(provider_id)
    .bind(client_secret)
    .bind(ms(at))
    .bind(payment.to_string())
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    // The provider's event may have named the payment first: keep its secret anyway.
    let secret = sqlx::query(
        "UPDATE payments SET client_secret = $1 WHERE id = $2 AND provider_id = $3 AND client_secret IS NULL",
    )
    .bind(client_secret)
    .bind(payment.to_string())
    .bind(provider_id)
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    let changed = r.rows_affected() == 1 || secret.rows_affected() == 1;
    Ok((changed, if changed { Keep::Yes } else { Keep::No }))
}
