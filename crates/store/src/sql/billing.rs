//! The SQL store's `Billing` role: commission rates and commissions, invoices (numbered in
//! the invoice's transaction, so a number is never skipped), payout accounts and payouts.

use super::payments::{currency, post};
use super::*;
use innkeep_app::billing::{Billing, Commission, Invoice, Payout, PayoutAccount, PayoutCandidate, PayoutMade};
use innkeep_app::payment::Posting;
use innkeep_core::ledger::Account;
use innkeep_core::{Currency, Money, TenantId};
use uuid::Uuid;

const COMMISSION_COLUMNS: &str = "booking_id, tenant_id, month, check_in, check_out, base_minor, rate_bp, net_minor, tax_minor, currency, invoice_id, created_at";
const INVOICE_COLUMNS: &str =
    "id, tenant_id, year, seq, number, month, currency, net_minor, tax_minor, total_minor, vat_bp, issued_at";
/// Payments whose stays are not over yet (held, confirmed or in progress): money a payout
/// leaves where it is (over `payments p JOIN bookings b`).
const HELD_FOR_STAYS_NOT_OVER: &str = "p.status = 'succeeded' AND b.status IN ('held', 'confirmed', 'checked_in')";
/// An invoice's lines, in the order they are printed.
const LINE_ORDER: &str = "ORDER BY check_out, booking_id";
const PAYOUT_COLUMNS: &str = "id, batch_id, tenant_id, amount_minor, currency, name, iban, bic, created_at";

fn commission_of(row: &AnyRow) -> Result<Commission, StoreError> {
    let text = |col: &str| -> Result<String, StoreError> { row.try_get(col).map_err(db_err) };
    let int = |col: &str| -> Result<i64, StoreError> { row.try_get(col).map_err(db_err) };
    let c = currency(&text("currency")?)?;
    let invoice: Option<String> = row.try_get("invoice_id").map_err(db_err)?;
    Ok(Commission {
        booking_id: parse(&text("booking_id")?)?,
        tenant_id: parse(&text("tenant_id")?)?,
        month: text("month")?,
        check_in: parse_date(&text("check_in")?)?,
        check_out: parse_date(&text("check_out")?)?,
        base: Money::new(int("base_minor")?, c),
        rate_bp: int("rate_bp")?,
        net: Money::new(int("net_minor")?, c),
        tax: Money::new(int("tax_minor")?, c),
        invoice_id: invoice.as_deref().map(parse).transpose()?,
        created_at: from_ms(int("created_at")?)?,
    })
}

fn invoice_of(row: &AnyRow, lines: Vec<Commission>) -> Result<Invoice, StoreError> {
    let text = |col: &str| -> Result<String, StoreError> { row.try_get(col).map_err(db_err) };
    let int = |col: &str| -> Result<i64, StoreError> { row.try_get(col).map_err(db_err) };
    let c = currency(&text("currency")?)?;
    Ok(Invoice {
        id: parse(&text("id")?)?,
        tenant_id: parse(&text("tenant_id")?)?,
        number: text("number")?,
        year: i32::try_from(int("year")?).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        seq: int("seq")?,
        month: text("month")?,
        currency: c,
        net: Money::new(int("net_minor")?, c),
        tax: Money::new(int("tax_minor")?, c),
        total: Money::new(int("total_minor")?, c),
        vat_bp: int("vat_bp")?,
        lines,
        issued_at: from_ms(int("issued_at")?)?,
    })
}

fn payout_of(row: &AnyRow) -> Result<Payout, StoreError> {
    let text = |col: &str| -> Result<String, StoreError> { row.try_get(col).map_err(db_err) };
    Ok(Payout {
        id: parse(&text("id")?)?,
        batch_id: parse(&text("batch_id")?)?,
        tenant_id: parse(&text("tenant_id")?)?,
        amount: Money::new(row.try_get("amount_minor").map_err(db_err)?, currency(&text("currency")?)?),
        name: text("name")?,
        iban: text("iban")?,
        bic: row.try_get("bic").map_err(db_err)?,
        created_at: from_ms(row.try_get("created_at").map_err(db_err)?)?,
    })
}

/// An invoice's lines, in the order they are printed (in a transaction or not).
async fn lines_of<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    e: E,
    invoice: Uuid,
) -> Result<Vec<Commission>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COMMISSION_COLUMNS} FROM commissions WHERE invoice_id = $1 {LINE_ORDER}"
    )))
    .bind(invoice.to_string())
    .fetch_all(e)
    .await
    .map_err(db_err)?;
    rows.iter().map(commission_of).collect()
}

#[async_trait]
impl Billing for SqlStore {
    async fn commission_rate(&self, tenant: TenantId) -> Result<Option<i64>, StoreError> {
        sqlx::query_scalar("SELECT rate_bp FROM commission_rates WHERE tenant_id = $1")
            .bind(tenant.to_string())
            .fetch_optional(&self.writer())
            .await
            .map_err(db_err)
    }

    async fn set_commission_rate(
        &self,
        tenant: TenantId,
        rate_bp: i64,
        at: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            let r = sqlx::query(
                "INSERT INTO commission_rates (tenant_id, rate_bp, updated_at) SELECT id, $2, $3 FROM tenants WHERE id = $1 \
                 ON CONFLICT (tenant_id) DO UPDATE SET rate_bp = excluded.rate_bp, updated_at = excluded.updated_at",
            )
            .bind(tenant.to_string())
            .bind(rate_bp)
            .bind(ms(at))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            self.commit(tx).await?;
            Ok(r.rows_affected() == 1)
        })
        .await
    }

    async fn meter_commission(&self, c: &Commission, posting: &Posting, event: &Event) -> Result<bool, StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            let r = sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO commissions ({COMMISSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, $11) \
                 ON CONFLICT (booking_id) DO NOTHING"
            )))
            .bind(c.booking_id.to_string())
            .bind(c.tenant_id.to_string())
            .bind(&c.month)
            .bind(date(c.check_in))
            .bind(date(c.check_out))
            .bind(c.base.minor)
            .bind(c.rate_bp)
            .bind(c.net.minor)
            .bind(c.tax.minor)
            .bind(c.net.currency.code())
            .bind(ms(c.created_at))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            if r.rows_affected() == 0 {
                return Ok(false);
            }
            post(&mut tx, posting).await?;
            append_event(&mut tx, event).await?;
            self.commit(tx).await?;
            Ok(true)
        })
        .await
    }

    async fn commissions_of(&self, tenant: TenantId, invoice: Option<Uuid>) -> Result<Vec<Commission>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COMMISSION_COLUMNS} FROM commissions WHERE tenant_id = $1 AND ($2 = '' OR invoice_id = $2) \
             {LINE_ORDER}"
        )))
        .bind(tenant.to_string())
        .bind(invoice.map(|i| i.to_string()).unwrap_or_default())
        .fetch_all(&self.writer())
        .await
        .map_err(db_err)?;
        rows.iter().map(commission_of).collect()
    }

    async fn uninvoiced(&self, before_month: &str) -> Result<Vec<(TenantId, String, Currency)>, StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT tenant_id, month, currency FROM commissions WHERE invoice_id IS NULL AND month < $1 \
             ORDER BY month, tenant_id, currency",
        )
        .bind(before_month)
        .fetch_all(&self.writer())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let text = |col: &str| -> Result<String, StoreError> { r.try_get(col).map_err(db_err) };
                Ok((parse(&text("tenant_id")?)?, text("month")?, currency(&text("currency")?)?))
            })
            .collect()
    }

    async fn issue_invoice(
        &self,
        tenant: TenantId,
        month: &str,
        cur: Currency,
        vat_bp: i64,
        id: Uuid,
        now: jiff::Timestamp,
    ) -> Result<Option<Invoice>, StoreError> {
        let year = i64::from(now.to_zoned_datetime(jiff::tz::TimeZone::UTC).year());
        let issued = self
            .write(async {
                let mut tx = self.begin().await?;
                // The next number of the tenant's year: the counter row is written first, so
                // a second issuer waits for this transaction and then takes the number after.
                sqlx::query(
                    "INSERT INTO invoice_counters (tenant_id, year, last) VALUES ($1, $2, 1) \
                     ON CONFLICT (tenant_id, year) DO UPDATE SET last = invoice_counters.last + 1",
                )
                .bind(tenant.to_string())
                .bind(year)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                let seq: i64 = sqlx::query_scalar("SELECT last FROM invoice_counters WHERE tenant_id = $1 AND year = $2")
                    .bind(tenant.to_string())
                    .bind(year)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_err)?;
                let sums = sqlx::query(
                    "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(net_minor), 0) AS BIGINT) AS net, CAST(COALESCE(SUM(tax_minor), 0) AS BIGINT) AS tax \
                     FROM commissions WHERE tenant_id = $1 AND month = $2 AND currency = $3 AND invoice_id IS NULL",
                )
                .bind(tenant.to_string())
                .bind(month)
                .bind(cur.code())
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?;
                let n: i64 = sums.try_get("n").map_err(db_err)?;
                if n == 0 {
                    // Issued meanwhile: the counter's step is rolled back with the rest.
                    return Ok(None);
                }
                let net: i64 = sums.try_get("net").map_err(db_err)?;
                let tax: i64 = sums.try_get("tax").map_err(db_err)?;
                let total = net.checked_add(tax).ok_or_else(|| StoreError::Corrupt("invoice total overflows".into()))?;
                let inserted = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO invoices ({INVOICE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
                )))
                .bind(id.to_string())
                .bind(tenant.to_string())
                .bind(year)
                .bind(seq)
                .bind(format!("{year}-{seq:06}"))
                .bind(month)
                .bind(cur.code())
                .bind(net)
                .bind(tax)
                .bind(total)
                .bind(vat_bp)
                .bind(ms(now))
                .execute(&mut *tx)
                .await;
                match inserted {
                    // Another issuer invoiced the month first.
                    Err(e) if is_unique_violation(&e) => return Ok(None),
                    other => other.map_err(db_err)?,
                };
                let attached = sqlx::query(
                    "UPDATE commissions SET invoice_id = $1 WHERE tenant_id = $2 AND month = $3 AND currency = $4 AND invoice_id IS NULL",
                )
                .bind(id.to_string())
                .bind(tenant.to_string())
                .bind(month)
                .bind(cur.code())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                if attached.rows_affected() != n as u64 {
                    return Err(StoreError::Stale);
                }
                let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {INVOICE_COLUMNS} FROM invoices WHERE id = $1")))
                    .bind(id.to_string())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_err)?;
                let lines = lines_of(&mut *tx, id).await?;
                let invoice = invoice_of(&row, lines)?;
                let event = Event::new(
                    &innkeep_app::event::Change::InvoiceIssued(invoice.clone()),
                    now,
                    Some(tenant),
                    id,
                );
                append_event(&mut tx, &event).await?;
                self.commit(tx).await?;
                Ok(Some(invoice))
            })
            .await?;
        Ok(issued)
    }

    async fn invoice(&self, id: Uuid) -> Result<Option<Invoice>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {INVOICE_COLUMNS} FROM invoices WHERE id = $1")))
            .bind(id.to_string())
            .fetch_optional(&self.writer())
            .await
            .map_err(db_err)?;
        let Some(row) = row else { return Ok(None) };
        let lines = lines_of(&self.writer(), id).await?;
        Ok(Some(invoice_of(&row, lines)?))
    }

    async fn invoices(&self, tenant: Option<TenantId>) -> Result<Vec<Invoice>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {INVOICE_COLUMNS} FROM invoices WHERE ($1 = '' OR tenant_id = $1) ORDER BY issued_at DESC, id DESC LIMIT 500"
        )))
        .bind(tenant.map(|t| t.to_string()).unwrap_or_default())
        .fetch_all(&self.writer())
        .await
        .map_err(db_err)?;
        // The list carries totals; the lines are read with one invoice.
        rows.iter().map(|r| invoice_of(r, Vec::new())).collect()
    }

    async fn payout_account(&self, tenant: TenantId) -> Result<Option<PayoutAccount>, StoreError> {
        let row =
            sqlx::query("SELECT tenant_id, name, iban, bic, updated_at FROM payout_accounts WHERE tenant_id = $1")
                .bind(tenant.to_string())
                .fetch_optional(&self.writer())
                .await
                .map_err(db_err)?;
        row.map(|r| {
            Ok(PayoutAccount {
                tenant_id: parse(&r.try_get::<String, _>("tenant_id").map_err(db_err)?)?,
                name: r.try_get("name").map_err(db_err)?,
                iban: r.try_get("iban").map_err(db_err)?,
                bic: r.try_get("bic").map_err(db_err)?,
                updated_at: from_ms(r.try_get("updated_at").map_err(db_err)?)?,
            })
        })
        .transpose()
    }

    async fn set_payout_account(&self, a: &PayoutAccount) -> Result<(), StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            sqlx::query(
                "INSERT INTO payout_accounts (tenant_id, name, iban, bic, updated_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (tenant_id) DO UPDATE SET name = excluded.name, iban = excluded.iban, bic = excluded.bic, updated_at = excluded.updated_at",
            )
            .bind(a.tenant_id.to_string())
            .bind(&a.name)
            .bind(&a.iban)
            .bind(&a.bic)
            .bind(ms(a.updated_at))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            self.commit(tx).await
        })
        .await
    }

    async fn payout_candidates(&self) -> Result<Vec<PayoutCandidate>, StoreError> {
        // What the ledger owes each host (a credit balance), and of it what was received
        // for stays not over yet (held, confirmed or in progress).
        let owed = sqlx::query(
            "SELECT account, currency, balance_minor FROM ledger_balances WHERE account LIKE 'host_payable:%' AND balance_minor < 0 \
             ORDER BY account, currency",
        )
        .fetch_all(&self.writer())
        .await
        .map_err(db_err)?;
        let unearned = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT p.tenant_id, p.currency, CAST(SUM(p.received_minor - p.refunded_minor) AS BIGINT) AS minor FROM payments p \
             JOIN bookings b ON b.id = p.booking_id WHERE {HELD_FOR_STAYS_NOT_OVER} GROUP BY p.tenant_id, p.currency"
        )))
        .fetch_all(&self.writer())
        .await
        .map_err(db_err)?;
        let mut held = std::collections::HashMap::new();
        for r in &unearned {
            let tenant: String = r.try_get("tenant_id").map_err(db_err)?;
            let cur: String = r.try_get("currency").map_err(db_err)?;
            let minor: i64 = r.try_get("minor").map_err(db_err)?;
            held.insert((tenant, cur), minor);
        }
        let mut out = Vec::new();
        for r in &owed {
            let account: String = r.try_get("account").map_err(db_err)?;
            let Some(Account::HostPayable(tenant)) = Account::parse(&account) else { continue };
            let cur_code: String = r.try_get("currency").map_err(db_err)?;
            let c = currency(&cur_code)?;
            let balance: i64 = r.try_get("balance_minor").map_err(db_err)?;
            let unearned = held.get(&(tenant.to_string(), cur_code)).copied().unwrap_or(0).max(0);
            out.push(PayoutCandidate {
                tenant_id: tenant,
                payable: Money::new(balance.saturating_neg(), c),
                unearned: Money::new(unearned, c),
            });
        }
        Ok(out)
    }

    async fn make_payout(&self, p: &Payout, posting: &Posting, event: &Event) -> Result<PayoutMade, StoreError> {
        self.write(async {
            let mut tx = self.begin().await?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO payouts ({PAYOUT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            )))
            .bind(p.id.to_string())
            .bind(p.batch_id.to_string())
            .bind(p.tenant_id.to_string())
            .bind(p.amount.minor)
            .bind(p.amount.currency.code())
            .bind(&p.name)
            .bind(&p.iban)
            .bind(&p.bic)
            .bind(ms(p.created_at))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            post(&mut tx, posting).await?;
            // The balance row was updated above, so a payout running at once waits for this
            // one and then reads the balance it left: neither pays more than is owed, nor
            // money for stays not over yet.
            let after: i64 =
                sqlx::query_scalar("SELECT balance_minor FROM ledger_balances WHERE account = $1 AND currency = $2")
                    .bind(Account::HostPayable(p.tenant_id).code())
                    .bind(p.amount.currency.code())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_err)?;
            // Money held for stays not over yet stays owed: read after the balance row was
            // written, so it sees what any payout that ran at once left.
            let unearned: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT CAST(COALESCE(SUM(p.received_minor - p.refunded_minor), 0) AS BIGINT) FROM payments p \
                 JOIN bookings b ON b.id = p.booking_id WHERE p.tenant_id = $1 AND p.currency = $2 AND {HELD_FOR_STAYS_NOT_OVER}"
            )))
            .bind(p.tenant_id.to_string())
            .bind(p.amount.currency.code())
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
            if after.saturating_add(unearned.max(0)) > 0 {
                drop(tx); // rolled back
                return Ok(PayoutMade::MoreThanPayable);
            }
            append_event(&mut tx, event).await?;
            self.commit(tx).await?;
            Ok(PayoutMade::Made)
        })
        .await
    }

    async fn payouts(&self, tenant: Option<TenantId>, batch: Option<Uuid>) -> Result<Vec<Payout>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {PAYOUT_COLUMNS} FROM payouts WHERE ($1 = '' OR tenant_id = $1) AND ($2 = '' OR batch_id = $2) \
             ORDER BY created_at DESC, id DESC LIMIT 1000"
        )))
        .bind(tenant.map(|t| t.to_string()).unwrap_or_default())
        .bind(batch.map(|b| b.to_string()).unwrap_or_default())
        .fetch_all(&self.writer())
        .await
        .map_err(db_err)?;
        rows.iter().map(payout_of).collect()
    }
}
