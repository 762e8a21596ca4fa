//! Billing hosts: the platform's commission, metered per booking at check-out (a rate per
//! tenant, 15% unless an admin sets another, with VAT as configured); a monthly invoice per
//! tenant with a gap-free number per tenant and year; and payouts of what the platform owes
//! a host for stays that are over, in batches a bank can execute (pain.001, CSV).
//!
//! Each commission, invoice and payout is written in one transaction with its ledger entry
//! (commission and payout) and its event. A payout never pays more than the host's payable
//! balance (checked in the transaction that posts it, whatever runs at once) and never
//! pays money for a stay that has not ended.

use crate::event::{Change, EventKind, HandleError, StoredEvent};
use crate::payment::{Posting, ledger, posting};
use crate::{Actor, AppError, Event, Ports, StoreError};
use async_trait::async_trait;
use innkeep_core::ledger::Entry;
use innkeep_core::payment::{DEFAULT_COMMISSION_BP, commission};
use innkeep_core::{BookingId, BookingStatus, Currency, Duty, Money, Role, TenantId};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The commission of one completed stay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commission {
    pub booking_id: BookingId,
    pub tenant_id: TenantId,
    /// The month it is invoiced in (`2027-01`): the month of the check-out.
    pub month: String,
    pub check_in: Date,
    pub check_out: Date,
    /// What the stay cost the guest.
    pub base: Money,
    pub rate_bp: i64,
    pub net: Money,
    pub tax: Money,
    pub invoice_id: Option<Uuid>,
    pub created_at: Timestamp,
}

/// A monthly invoice of commission to a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    pub id: Uuid,
    pub tenant_id: TenantId,
    /// `2027-000001`: the year, then a number that counts up by one per tenant and year,
    /// with no gaps.
    pub number: String,
    pub year: i32,
    pub seq: i64,
    pub month: String,
    pub currency: Currency,
    pub net: Money,
    pub tax: Money,
    pub total: Money,
    pub vat_bp: i64,
    pub lines: Vec<Commission>,
    pub issued_at: Timestamp,
}

/// Where a host's payouts go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutAccount {
    pub tenant_id: TenantId,
    pub name: String,
    pub iban: String,
    pub bic: Option<String>,
    pub updated_at: Timestamp,
}

/// Money paid out to a host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payout {
    pub id: Uuid,
    pub batch_id: Uuid,
    pub tenant_id: TenantId,
    pub amount: Money,
    pub name: String,
    pub iban: String,
    pub bic: Option<String>,
    pub created_at: Timestamp,
}

/// What a host could be paid now, in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutCandidate {
    pub tenant_id: TenantId,
    /// What the ledger says the platform owes the host.
    pub payable: Money,
    /// Money received for stays that have not ended: not paid out yet.
    pub unearned: Money,
}

/// What making a payout did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayoutMade {
    Made,
    /// It would have paid more than the host's balance less what is held for stays not
    /// over yet (another run paid it meanwhile).
    MoreThanPayable,
}

/// The store's billing role: commission rates, commissions, invoices, payout accounts and
/// payouts.
#[async_trait]
pub trait Billing: Send + Sync {
    async fn commission_rate(&self, tenant: TenantId) -> Result<Option<i64>, StoreError>;
    /// Set a tenant's rate (`false`: there is no such tenant).
    async fn set_commission_rate(&self, tenant: TenantId, rate_bp: i64, at: Timestamp) -> Result<bool, StoreError>;
    /// Record a stay's commission with its entry and event, once per booking (`false`: it
    /// was metered before).
    async fn meter_commission(&self, c: &Commission, posting: &Posting, event: &Event) -> Result<bool, StoreError>;
    async fn commissions_of(&self, tenant: TenantId, invoice: Option<Uuid>) -> Result<Vec<Commission>, StoreError>;
    /// The (tenant, month, currency) groups of commissions not yet invoiced, of months
    /// before `before_month`.
    async fn uninvoiced(&self, before_month: &str) -> Result<Vec<(TenantId, String, Currency)>, StoreError>;
    /// Issue the invoice of a group: take the next number of the tenant's year, attach the
    /// group's uninvoiced commissions, in one transaction with its event. `None` if the
    /// group has nothing left to invoice (issued meanwhile).
    async fn issue_invoice(
        &self,
        tenant: TenantId,
        month: &str,
        currency: Currency,
        vat_bp: i64,
        id: Uuid,
        now: Timestamp,
    ) -> Result<Option<Invoice>, StoreError>;
    async fn invoice(&self, id: Uuid) -> Result<Option<Invoice>, StoreError>;
    /// Invoices, newest first: one tenant's, or everyone's.
    async fn invoices(&self, tenant: Option<TenantId>) -> Result<Vec<Invoice>, StoreError>;
    async fn payout_account(&self, tenant: TenantId) -> Result<Option<PayoutAccount>, StoreError>;
    async fn set_payout_account(&self, account: &PayoutAccount) -> Result<(), StoreError>;
    /// Each host and currency the platform owes money, with what of it is for stays not
    /// yet over.
    async fn payout_candidates(&self) -> Result<Vec<PayoutCandidate>, StoreError>;
    /// Pay out: the payout, its entry and event, in one transaction that is undone if the
    /// host's balance would then not cover what is held for its stays not over yet.
    async fn make_payout(&self, payout: &Payout, posting: &Posting, event: &Event) -> Result<PayoutMade, StoreError>;
    /// Payouts, newest first: one tenant's, or everyone's; or one batch's.
    async fn payouts(&self, tenant: Option<TenantId>, batch: Option<Uuid>) -> Result<Vec<Payout>, StoreError>;
}

/// The month (`2027-01`) of a date.
pub fn month_of(d: Date) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

/// Meters the platform's commission of each stay as it completes (check-out): a durable
/// consumer of `booking.completed`, so each stay is metered once.
pub struct CommissionMeter {
    pub ports: Ports,
}

#[async_trait]
impl crate::event::Consumer for CommissionMeter {
    fn name(&self) -> &str {
        "commission-meter"
    }

    /// A stay is metered once whatever runs it again (one row per booking).
    fn idempotent(&self) -> bool {
        true
    }

    async fn handle(&self, event: &StoredEvent) -> Result<(), HandleError> {
        if event.event.kind != EventKind::BookingCompleted {
            return Ok(());
        }
        let Ok(Change::Booking(b)) = event.event.change() else { return Ok(()) };
        meter(&self.ports, &b, event.event.occurred_at).await?;
        Ok(())
    }
}

/// Meter one completed stay's commission (once; again changes nothing).
pub async fn meter(ports: &Ports, b: &crate::store::Booking, now: Timestamp) -> Result<Option<Commission>, AppError> {
    if b.status != BookingStatus::Completed {
        return Ok(None);
    }
    let rate_bp = ports.store.commission_rate(b.tenant_id).await?.unwrap_or(DEFAULT_COMMISSION_BP);
    let (net, tax) = commission(b.total, rate_bp, i64::from(ports.settings.payments.vat_bp))?;
    if net.minor <= 0 {
        return Ok(None);
    }
    let c = Commission {
        booking_id: b.id,
        tenant_id: b.tenant_id,
        month: month_of(b.check_out),
        check_in: b.check_in,
        check_out: b.check_out,
        base: b.total,
        rate_bp,
        net,
        tax,
        invoice_id: None,
        created_at: now,
    };
    let posting = posting("commission", b.id.0, Entry::commission(b.tenant_id, net, tax).map_err(ledger)?, now);
    let event = Event::new(&Change::CommissionMetered(c.clone()), now, Some(b.tenant_id), b.id.0);
    if ports.store.meter_commission(&c, &posting, &event).await? {
        metrics::counter!("innkeep_commissions_total").increment(1);
        return Ok(Some(c));
    }
    Ok(None)
}

/// Set a tenant's commission rate (admins), in basis points from 0 to 10000.
pub async fn set_rate(ports: &Ports, actor: &Actor, tenant: TenantId, rate_bp: i64) -> Result<(), AppError> {
    if actor.role != Role::Admin {
        return Err(AppError::Forbidden("admins"));
    }
    if !(0..=10_000).contains(&rate_bp) {
        return Err(AppError::invalid("rate_bp", "invalid_rate", "a rate is 0 to 10000 basis points (100%)"));
    }
    if !ports.store.set_commission_rate(tenant, rate_bp, ports.clock.now()).await? {
        return Err(AppError::NotFound { what: "tenant" });
    }
    Ok(())
}

/// A tenant's rate (its hosts, admins).
pub async fn rate(ports: &Ports, actor: &Actor, tenant: TenantId) -> Result<i64, AppError> {
    actor.check(Duty::SeeMoney, tenant, "tenant")?;
    Ok(ports.store.commission_rate(tenant).await?.unwrap_or(DEFAULT_COMMISSION_BP))
}

/// Issue the invoices of every month before `now`'s that has commission not yet invoiced.
pub async fn issue_invoices(ports: &Ports, now: Timestamp) -> Result<Vec<Invoice>, AppError> {
    let this_month = month_of(now.to_zoned_datetime(jiff::tz::TimeZone::UTC).date());
    let mut issued = Vec::new();
    for (tenant, month, currency) in ports.store.uninvoiced(&this_month).await? {
        let vat = i64::from(ports.settings.payments.vat_bp);
        if let Some(i) = ports.store.issue_invoice(tenant, &month, currency, vat, Uuid::now_v7(), now).await? {
            metrics::counter!("innkeep_invoices_total").increment(1);
            issued.push(i);
        }
    }
    Ok(issued)
}

/// The invoices an actor may see: a host its tenant's, an admin everyone's.
pub async fn invoices(ports: &Ports, actor: &Actor) -> Result<Vec<Invoice>, AppError> {
    match actor.role {
        Role::Admin => Ok(ports.store.invoices(None).await?),
        Role::Host => Ok(ports.store.invoices(Some(actor.host_tenant(Duty::SeeMoney)?)).await?),
        _ => Err(AppError::Forbidden("hosts and admins")),
    }
}

/// One invoice, to its tenant's hosts and admins.
pub async fn invoice(ports: &Ports, actor: &Actor, id: Uuid) -> Result<Invoice, AppError> {
    let i = ports.store.invoice(id).await?.ok_or(AppError::NotFound { what: "invoice" })?;
    actor.check(Duty::SeeMoney, i.tenant_id, "invoice")?;
    Ok(i)
}

/// Set where a host's payouts go (its hosts). The IBAN is checked (ISO 13616).
pub async fn set_payout_account(
    ports: &Ports,
    actor: &Actor,
    name: &str,
    iban: &str,
    bic: Option<&str>,
) -> Result<PayoutAccount, AppError> {
    let tenant = actor.host_tenant(Duty::PayoutAccount)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 70 {
        return Err(AppError::invalid("name", "invalid_name", "the account holder's name, 1 to 70 characters"));
    }
    let iban = innkeep_core::payment::valid_iban(iban)
        .ok_or_else(|| AppError::invalid("iban", "invalid_iban", "not a valid IBAN (ISO 13616)"))?;
    let bic = match bic.map(str::trim).filter(|b| !b.is_empty()) {
        Some(b) => Some(
            innkeep_core::payment::valid_bic(b)
                .ok_or_else(|| AppError::invalid("bic", "invalid_bic", "not a valid BIC (ISO 9362)"))?,
        ),
        None => None,
    };
    let account = PayoutAccount { tenant_id: tenant, name: name.to_string(), iban, bic, updated_at: ports.clock.now() };
    ports.store.set_payout_account(&account).await?;
    Ok(account)
}

/// A payout run: what was paid, and who could not be paid and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PayoutRun {
    pub batch_id: Uuid,
    pub payouts: Vec<Payout>,
    /// `(tenant, why)`: no payout account, or nothing earned yet.
    pub skipped: Vec<(TenantId, String)>,
}

/// Pay each host what the platform owes it for stays that are over, in one batch
/// (operators). Run twice, the second run pays nothing: the first took the balance.
pub async fn run_payouts(ports: &Ports, now: Timestamp) -> Result<PayoutRun, AppError> {
    let batch_id = Uuid::now_v7();
    let mut run = PayoutRun { batch_id, payouts: Vec::new(), skipped: Vec::new() };
    for c in ports.store.payout_candidates().await? {
        let amount = c.payable.checked_sub(c.unearned)?;
        if amount.minor <= 0 {
            continue;
        }
        let Some(account) = ports.store.payout_account(c.tenant_id).await? else {
            run.skipped.push((c.tenant_id, format!("{amount} is due and no payout account is set")));
            continue;
        };
        let payout = Payout {
            id: Uuid::now_v7(),
            batch_id,
            tenant_id: c.tenant_id,
            amount,
            name: account.name,
            iban: account.iban,
            bic: account.bic,
            created_at: now,
        };
        let posting = posting("payout", payout.id, Entry::payout(c.tenant_id, amount).map_err(ledger)?, now);
        let event = Event::new(&Change::PayoutMade(payout.clone()), now, Some(c.tenant_id), payout.id);
        match ports.store.make_payout(&payout, &posting, &event).await? {
            PayoutMade::Made => {
                metrics::counter!("innkeep_payouts_total").increment(1);
                run.payouts.push(payout);
            }
            PayoutMade::MoreThanPayable => {
                run.skipped.push((c.tenant_id, "paid by another run meanwhile".into()));
            }
        }
    }
    Ok(run)
}

/// The payouts an actor may see: a host its tenant's, an admin everyone's.
pub async fn payouts(ports: &Ports, actor: &Actor) -> Result<Vec<Payout>, AppError> {
    match actor.role {
        Role::Admin => Ok(ports.store.payouts(None, None).await?),
        Role::Host => Ok(ports.store.payouts(Some(actor.host_tenant(Duty::SeeMoney)?), None).await?),
        _ => Err(AppError::Forbidden("hosts and admins")),
    }
}
