//! Paying for bookings: payments by bank transfer (a unique ISO 11649 reference the guest
//! quotes, matched when an operator imports the bank's statement), the ledger entries
//! every movement of money writes in the same transaction as the state it changes, and
//! the ledger check.
//!
//! Card payments go through a payment provider (see [`crate::card`]); where none is
//! configured a card payment is refused with `method_unavailable` (nothing is created).

use crate::event::Change;
use crate::store::Transition;
use crate::{Actor, AppError, Event, Ports, StoreError};
use async_trait::async_trait;
use innkeep_core::ledger::Entry;
use innkeep_core::payment::{parse_rf, rf_reference};
use innkeep_core::{BookingId, BookingStatus, Duty, Money, PaymentMethod, PaymentStatus, Role, TenantId, UserId};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A payment of a booking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub id: Uuid,
    pub booking_id: BookingId,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub method: PaymentMethod,
    pub status: PaymentStatus,
    /// What is asked.
    pub amount: Money,
    /// What arrived so far (a transfer may pay less, or more, than asked).
    pub received: Money,
    pub refunded: Money,
    /// The ISO 11649 reference a bank transfer must quote.
    pub reference: Option<String>,
    /// The payment provider's id of a card payment.
    pub provider_id: Option<String>,
    /// What the paying guest's client confirms a card payment with at the provider (shown
    /// to that guest only; never in an event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    pub failure: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Payment {
    /// The payment as others may see it (events, hosts, admins): without the client secret.
    pub fn without_secret(&self) -> Payment {
        Payment { client_secret: None, ..self.clone() }
    }
}

/// Where a guest sends a bank transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankAccount {
    pub beneficiary: String,
    pub iban: String,
    pub bic: String,
}

impl Default for BankAccount {
    /// A demo account (the IBAN of the ISO 13616 example), to be configured in production.
    fn default() -> Self {
        BankAccount {
            beneficiary: "Innkeep Demo Payments".into(),
            iban: "GB82WEST12345698765432".into(),
            bic: "WESTGB2L".into(),
        }
    }
}

/// The payment settings a node runs with.
#[derive(Debug, Clone, Default)]
pub struct PaymentSettings {
    pub bank: BankAccount,
    /// Whether a card payment provider is configured (card payments are refused without).
    pub card: bool,
    /// Where the paying guest's browser confirms a card payment, with `{id}` and
    /// `{client_secret}` in it (the provider's hosted step); none: the client confirms
    /// with the client secret itself (the provider's script or SDK).
    pub checkout_url: Option<String>,
    /// VAT charged on commission, in basis points (2000 = 20%).
    pub vat_bp: u32,
}

/// A ledger entry to write, with what it records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    pub id: Uuid,
    /// `transfer_received`, `unapplied_received`, `refund_owed`, ...
    pub kind: &'static str,
    /// The payment, refund, payout or statement line it records.
    pub subject_id: Uuid,
    pub entry: Entry,
    pub at: Timestamp,
}

/// One line of a bank statement, as imported (credits pay; debits are reported only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementLine {
    pub booking_date: Option<Date>,
    pub amount: Money,
    pub credit: bool,
    /// Every reference the bank gave the line (remittance text, end-to-end id, ...).
    pub references: Vec<String>,
    /// A problem the parser found (an amount more precise than the currency allows, ...).
    pub problem: Option<String>,
}

/// What importing a line did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineOutcome {
    /// It paid a payment in full (its booking is confirmed if it was held).
    Paid,
    /// It paid more than was asked: the payment is paid, the rest is held for the guest.
    Overpaid,
    /// It paid part of what was asked; the payment waits for the rest.
    Underpaid,
    /// It quoted a payment that is no longer open (paid already, failed, canceled): the
    /// money is held for the guest.
    NotOpen,
    /// Its currency is not the payment's: held for the guest.
    WrongCurrency,
    /// No payment has its reference: held for the guest until someone matches it.
    Unmatched,
    /// A debit (money out): reported, not matched.
    Debit,
    /// The parser could not read it whole (see `problem`): reported, not matched.
    Unreadable,
    /// Imported before: nothing changed.
    Duplicate,
}

impl LineOutcome {
    const ALL: [LineOutcome; 9] = [
        LineOutcome::Paid,
        LineOutcome::Overpaid,
        LineOutcome::Underpaid,
        LineOutcome::NotOpen,
        LineOutcome::WrongCurrency,
        LineOutcome::Unmatched,
        LineOutcome::Debit,
        LineOutcome::Unreadable,
        LineOutcome::Duplicate,
    ];

    /// The stored and reported name (`paid`, `not_open`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            LineOutcome::Paid => "paid",
            LineOutcome::Overpaid => "overpaid",
            LineOutcome::Underpaid => "underpaid",
            LineOutcome::NotOpen => "not_open",
            LineOutcome::WrongCurrency => "wrong_currency",
            LineOutcome::Unmatched => "unmatched",
            LineOutcome::Debit => "debit",
            LineOutcome::Unreadable => "unreadable",
            LineOutcome::Duplicate => "duplicate",
        }
    }

    /// The outcome a stored name names.
    pub fn parse(s: &str) -> Option<LineOutcome> {
        LineOutcome::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// A line as stored, with what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredLine {
    pub id: Uuid,
    /// What makes it the same line when the statement is imported again.
    pub fingerprint: String,
    pub statement_id: String,
    pub booking_date: Option<Date>,
    pub amount: Money,
    pub credit: bool,
    /// The reference that matched, or the line's references joined.
    pub reference: String,
    pub payment_id: Option<Uuid>,
    pub outcome: LineOutcome,
    pub created_at: Timestamp,
}

/// A provider event as recorded (each is handled once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEventRecord {
    pub id: String,
    pub kind: String,
    pub payment_id: Option<Uuid>,
    pub received_at: Timestamp,
}

/// Everything one statement line or one provider event changes, written in one
/// transaction.
#[derive(Debug, Clone)]
pub struct Settlement {
    /// The statement line, if a line pays; the write is skipped if it was imported before.
    pub line: Option<StoredLine>,
    /// A stored line that matched nothing, as a person matched it to a payment: written only
    /// if it is still unmatched (else nothing changes, `Ok(false)`).
    pub matched: Option<StoredLine>,
    /// The provider event, if an event pays; the write is skipped if it was handled before.
    pub provider_event: Option<ProviderEventRecord>,
    /// The payment as it was read (the write happens only if it is still so) and as it
    /// becomes.
    pub payment: Option<(Payment, Payment)>,
    /// A held booking the payment confirms.
    pub confirm: Option<Transition>,
    pub postings: Vec<Posting>,
    pub events: Vec<Event>,
    /// Refunds the change owes the guest (money that came after the booking ended), made
    /// under the system's key `unheld:{payment}` so they are made once.
    pub refunds: Vec<Refund>,
}

/// A refund of (part of) a payment: owed to the guest from when it is made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    pub id: Uuid,
    pub payment_id: Uuid,
    pub amount: Money,
    /// `pending` until it is paid out to the guest.
    pub status: String,
    /// `requested` (by a host or an admin), `cancellation` (the policy's refund) or
    /// `booking_not_held` (money that came after the booking expired or was cancelled).
    pub reason: String,
    /// Why the provider refused to refund, if it did.
    #[serde(default)]
    pub failure: Option<String>,
    pub created_at: Timestamp,
}

/// A refund to make, with its Idempotency-Key's scope (the user, or `system`).
#[derive(Debug, Clone)]
pub struct NewRefund {
    pub refund: Refund,
    pub scope: String,
    pub key: String,
    pub request_hash: String,
    pub posting: Posting,
    pub event: Event,
}

/// What making a refund did.
#[derive(Debug, Clone)]
pub enum RefundMade {
    /// Made; the payment's refunded amount is now this.
    Made(Box<Payment>),
    /// The key was seen with the same request: the earlier refund.
    Replayed(Box<Refund>),
    /// The key was seen with another request.
    KeyReused,
    /// It would refund more than the payment received (in total, whatever ran at once).
    MoreThanReceived,
}

/// What creating a payment did.
#[derive(Debug, Clone)]
pub enum PaymentCreated {
    Created,
    /// The key was seen with the same request: the earlier payment.
    Replayed(Box<Payment>),
    /// The key was seen with another request.
    KeyReused,
    /// Another payment of the booking is open.
    OpenExists,
}

/// An entry or balance the ledger check found wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerProblem {
    /// The entry (for an unbalanced entry) or the account (for a wrong balance).
    pub subject: String,
    pub problem: String,
}

/// What the ledger check read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerReport {
    pub entries: i64,
    pub lines: i64,
    pub accounts: i64,
    pub problems: Vec<LedgerProblem>,
}

/// The store's payments role: payments, statement lines and the ledger.
#[async_trait]
pub trait Payments: Send + Sync {
    /// Create a payment under the guest's Idempotency-Key.
    async fn create_payment(
        &self,
        payment: &Payment,
        key: &str,
        request_hash: &str,
        event: &Event,
    ) -> Result<PaymentCreated, StoreError>;
    async fn payment(&self, id: Uuid) -> Result<Option<Payment>, StoreError>;
    async fn payments_of_booking(&self, booking: BookingId) -> Result<Vec<Payment>, StoreError>;
    /// A guest's payments, oldest first (one read for a page of their trips).
    async fn payments_of_user(&self, user: UserId) -> Result<Vec<Payment>, StoreError>;
    async fn payment_by_reference(&self, reference: &str) -> Result<Option<Payment>, StoreError>;
    /// The payment a guest created under an Idempotency-Key, with its request digest.
    async fn payment_by_key(&self, user: UserId, key: &str) -> Result<Option<(Payment, String)>, StoreError>;
    /// Apply one statement line: store it, update its payment if the payment is still as
    /// read (else `Stale`: read again), confirm the booking if it is still held (else
    /// `Stale`), post the entries (each balanced, checked again here) and append the
    /// events, in one transaction. `Ok(false)` if a line with its fingerprint was
    /// imported before (nothing changes).
    async fn settle(&self, settlement: &Settlement) -> Result<bool, StoreError>;
    /// Make a refund: the payment's refunded amount grows only if it stays within what was
    /// received (checked in the same statement), with its ledger entry and event, in one
    /// transaction.
    async fn refund(&self, r: &NewRefund) -> Result<RefundMade, StoreError>;
    /// The refunds of a payment, oldest first.
    async fn refunds_of(&self, payment: Uuid) -> Result<Vec<Refund>, StoreError>;
    /// Statement lines, newest first, of one outcome or all.
    async fn statement_lines(&self, outcome: Option<LineOutcome>, limit: u32) -> Result<Vec<StoredLine>, StoreError>;
    /// One statement line, read from the primary.
    async fn statement_line(&self, id: Uuid) -> Result<Option<StoredLine>, StoreError>;
    /// Check every entry balances per currency and every kept balance equals the sum of its
    /// lines.
    async fn check_ledger(&self) -> Result<LedgerReport, StoreError>;
    /// An account's balance per currency (debit positive), by account code.
    async fn ledger_balances(&self, account_prefix: &str) -> Result<Vec<(String, Money)>, StoreError>;
    /// Payments in a state, most recently changed first (an operator's list of failures).
    async fn payments_with_status(&self, status: PaymentStatus, limit: u32) -> Result<Vec<Payment>, StoreError>;
    /// The card payment the provider knows by this id.
    async fn payment_by_provider_id(&self, provider_id: &str) -> Result<Option<Payment>, StoreError>;
    /// Record the provider's payment made for a card payment, unless one is recorded
    /// already (`false`: the earlier one stays).
    async fn attach_intent(
        &self,
        payment: Uuid,
        provider_id: &str,
        client_secret: Option<&str>,
        at: Timestamp,
    ) -> Result<bool, StoreError>;
    /// A pending refund was paid back by the provider: mark it, post its entry and append
    /// its event, in one transaction (`false`: it was not pending any more).
    async fn refund_paid(&self, refund: Uuid, posting: &Posting, event: &Event) -> Result<bool, StoreError>;
    /// The provider refused a pending refund for good: mark it failed, with why (the money
    /// stays owed to the guest; an operator sees it).
    async fn refund_failed(&self, refund: Uuid, why: &str, at: Timestamp) -> Result<bool, StoreError>;
}

/// A payment id's reference body: 13 base-36 digits of its random bits (unique in
/// practice, and the store's unique index makes sure).
fn reference_for(id: Uuid) -> String {
    let mut n = u64::from_be_bytes(id.as_bytes()[8..16].try_into().unwrap_or([0; 8]));
    let mut body = Vec::with_capacity(15);
    for _ in 0..13 {
        let d = (n % 36) as u32;
        body.push(char::from_digit(d, 36).unwrap_or('0').to_ascii_uppercase());
        n /= 36;
    }
    let body: String = body.into_iter().rev().collect();
    rf_reference(&format!("IK{body}")).unwrap_or(body)
}

/// The request digest of a payment: which booking, which method.
fn fingerprint(booking: BookingId, method: PaymentMethod) -> String {
    use sha2::Digest;
    let canonical = serde_json::json!([booking, method]);
    hex::encode(sha2::Sha256::digest(canonical.to_string().as_bytes()))
}

/// Start paying a held booking (its guest only). A bank transfer answers at once with the
/// reference to quote; a card payment needs a payment provider.
#[tracing::instrument(skip_all, fields(booking_id = %booking_id, user_id = %actor.user_id))]
pub async fn pay(
    ports: &Ports,
    actor: &Actor,
    booking_id: BookingId,
    method: PaymentMethod,
    key: &str,
    now: Timestamp,
) -> Result<(Payment, bool), AppError> {
    actor.person()?;
    let booking = ports.store.booking(booking_id).await?.ok_or(AppError::NotFound { what: "booking" })?;
    if booking.user_id != actor.user_id {
        // Another guest's booking is not there for them; its hosts and admins see it but
        // do not pay.
        return Err(if actor.may(Duty::SeeBookings, booking.tenant_id) {
            AppError::Forbidden("the booking's guest")
        } else {
            AppError::NotFound { what: "booking" }
        });
    }
    if method == PaymentMethod::Card && !ports.settings.payments.card {
        return Err(AppError::invalid(
            "method",
            "method_unavailable",
            "card payments need a payment provider, and none is configured here; pay by bank_transfer",
        ));
    }
    let hash = fingerprint(booking_id, method);
    if let Some((p, h)) = ports.store.payment_by_key(actor.user_id, key).await? {
        return if h == hash { Ok((p, true)) } else { Err(AppError::IdempotencyMismatch) };
    }
    if booking.status != BookingStatus::Held {
        return Err(AppError::Conflict(format!("only a held booking can be paid; this one is {}", booking.status)));
    }
    let open = ports.store.payments_of_booking(booking_id).await?;
    if let Some(p) = open.iter().find(|p| p.status.is_open()) {
        // A request with the same key may have made it since the key was looked up.
        if let Some((p, h)) = ports.store.payment_by_key(actor.user_id, key).await? {
            return if h == hash { Ok((p, true)) } else { Err(AppError::IdempotencyMismatch) };
        }
        return Err(AppError::Conflict(match &p.reference {
            Some(r) => {
                format!("payment {} of this booking is open (reference {r}); pay it or wait for it to end", p.id)
            }
            None => format!("payment {} of this booking is open; pay it or wait for it to end", p.id),
        }));
    }
    let id = Uuid::now_v7();
    let payment = Payment {
        id,
        booking_id,
        tenant_id: booking.tenant_id,
        user_id: actor.user_id,
        method,
        status: PaymentStatus::RequiresAction,
        amount: booking.total,
        received: Money::zero(booking.total.currency),
        refunded: Money::zero(booking.total.currency),
        reference: (method == PaymentMethod::BankTransfer).then(|| reference_for(id)),
        provider_id: None,
        client_secret: None,
        failure: None,
        created_at: now,
        updated_at: now,
    };
    let event = Event::new(&Change::PaymentCreated(payment.clone()), now, Some(booking.tenant_id), id);
    match ports.store.create_payment(&payment, key, &hash, &event).await? {
        PaymentCreated::Created => {
            metrics::counter!("innkeep_payments_total", "method" => method.as_str(), "status" => "created")
                .increment(1);
            Ok((payment, false))
        }
        PaymentCreated::Replayed(p) => Ok((*p, true)),
        PaymentCreated::KeyReused => Err(AppError::IdempotencyMismatch),
        PaymentCreated::OpenExists => Err(AppError::Conflict("another payment of this booking is open".into())),
    }
}

/// Where the paying guest's browser confirms an open card payment: the configured
/// checkout URL with the provider's payment id and client secret in it (none for others,
/// who are not shown the secret, or before the provider's payment is made).
pub fn checkout_url(settings: &PaymentSettings, p: &Payment) -> Option<String> {
    let template = settings.checkout_url.as_deref()?;
    if p.method != PaymentMethod::Card || !p.status.is_open() {
        return None;
    }
    let (id, secret) = (p.provider_id.as_deref()?, p.client_secret.as_deref()?);
    let enc = |v: &str| -> String {
        v.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    Some(template.replace("{id}", &enc(id)).replace("{client_secret}", &enc(secret)))
}

/// A payment, to its guest, the property's hosts and admins.
pub async fn payment(ports: &Ports, actor: &Actor, id: Uuid) -> Result<Payment, AppError> {
    let p = ports.store.payment(id).await?.ok_or(AppError::NotFound { what: "payment" })?;
    if p.user_id == actor.user_id {
        return Ok(p);
    }
    actor.check(Duty::SeeMoney, p.tenant_id, "payment")?;
    Ok(p.without_secret())
}

/// The payments of a booking the actor may see (the client secret to its guest only).
pub async fn payments_of_booking(ports: &Ports, actor: &Actor, booking: BookingId) -> Result<Vec<Payment>, AppError> {
    let b = crate::booking::visible_booking(ports, actor, booking).await?;
    if b.user_id != actor.user_id {
        actor.check(Duty::SeeMoney, b.tenant_id, "booking")?;
    }
    let payments = ports.store.payments_of_booking(b.id).await?;
    Ok(payments.into_iter().map(|p| if p.user_id == actor.user_id { p } else { p.without_secret() }).collect())
}

/// One line of an import report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportedLine {
    pub amount: Money,
    pub credit: bool,
    pub reference: String,
    pub payment_id: Option<Uuid>,
    pub outcome: LineOutcome,
    pub problem: Option<String>,
}

/// What importing a statement did, line by line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub lines: Vec<ImportedLine>,
    pub paid: usize,
    /// Lines that need a person: unmatched, over- or under-paid, not open, wrong currency,
    /// unreadable.
    pub to_review: usize,
    pub duplicates: usize,
}

/// Import a bank statement's lines (admins): each credit quoting an open bank-transfer
/// payment's reference pays it; everything else is reported, never dropped. Importing the
/// same statement again changes nothing.
#[tracing::instrument(skip_all, fields(statement_id = %statement_id, lines = lines.len()))]
pub async fn import_statement(
    ports: &Ports,
    actor: &Actor,
    statement_id: &str,
    lines: &[StatementLine],
    now: Timestamp,
) -> Result<ImportReport, AppError> {
    if actor.role != Role::Admin {
        return Err(AppError::Forbidden("admins"));
    }
    let mut report = ImportReport { lines: Vec::new(), paid: 0, to_review: 0, duplicates: 0 };
    for (n, line) in lines.iter().enumerate() {
        let imported = import_line(ports, statement_id, n, line, now).await?;
        match imported.outcome {
            LineOutcome::Paid => report.paid += 1,
            LineOutcome::Duplicate => report.duplicates += 1,
            LineOutcome::Debit => {}
            _ => report.to_review += 1,
        }
        metrics::counter!("innkeep_statement_lines_total", "outcome" => imported.outcome.as_str()).increment(1);
        report.lines.push(imported);
    }
    Ok(report)
}

/// The ISO 11649 references a line may quote, most likely first: each reference field
/// that is one, then runs of words of free text that start with `RF` and check (longest
/// first). A run of words can check by chance (one in 97), so the caller takes the first
/// that names a payment.
fn quoted_references(line: &StatementLine) -> Vec<String> {
    let mut found: Vec<String> = line.references.iter().filter_map(|r| parse_rf(r)).collect();
    for r in &line.references {
        // "Booking RF18 5390 0754 7034, thanks": try runs of words that start with RF.
        let words: Vec<&str> = r.split(|c: char| c.is_whitespace() || c == ',' || c == ';' || c == '/').collect();
        for i in 0..words.len() {
            if !words[i].to_ascii_uppercase().starts_with("RF") {
                continue;
            }
            for j in (i + 1..=words.len().min(i + 7)).rev() {
                if let Some(rf) = parse_rf(&words[i..j].concat())
                    && !found.contains(&rf)
                {
                    found.push(rf);
                }
            }
        }
    }
    found
}

/// A line's fingerprint: the statement, its position, and what it says.
fn line_fingerprint(statement_id: &str, n: usize, line: &StatementLine) -> String {
    use sha2::Digest;
    let canonical = serde_json::json!([statement_id, n, line.booking_date, line.amount, line.credit, line.references]);
    hex::encode(sha2::Sha256::digest(canonical.to_string().as_bytes()))
}

async fn import_line(
    ports: &Ports,
    statement_id: &str,
    n: usize,
    line: &StatementLine,
    now: Timestamp,
) -> Result<ImportedLine, AppError> {
    // A payment changed, or a booking expired, between reading and writing: plan again.
    let mut tries = 0;
    loop {
        tries += 1;
        let (stored, settlement) = plan(ports, statement_id, n, line, now).await?;
        let mut imported = ImportedLine {
            amount: line.amount,
            credit: line.credit,
            reference: stored.reference,
            payment_id: stored.payment_id,
            outcome: stored.outcome,
            problem: line.problem.clone(),
        };
        match ports.store.settle(&settlement).await {
            Ok(true) => return Ok(imported),
            Ok(false) => {
                imported.outcome = LineOutcome::Duplicate;
                return Ok(imported);
            }
            Err(StoreError::Stale) if tries < 5 => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Match a statement line that matched nothing (a guest who mistyped the reference) to an
/// open bank-transfer payment in its currency (admins): the money held for the guest pays
/// it as the line would have (in full, in part, or with some left held), confirming a held
/// booking. The line as it became; matching it to the same payment again answers it as it
/// is; to another, or a line that matched already, is a conflict.
#[tracing::instrument(skip_all, fields(line_id = %line_id, payment_id = %payment_id))]
pub async fn match_line(
    ports: &Ports,
    actor: &Actor,
    line_id: Uuid,
    payment_id: Uuid,
    now: Timestamp,
) -> Result<StoredLine, AppError> {
    if actor.role != Role::Admin {
        return Err(AppError::Forbidden("admins"));
    }
    let mut tries = 0;
    loop {
        tries += 1;
        let line = ports.store.statement_line(line_id).await?.ok_or(AppError::NotFound { what: "statement line" })?;
        if line.outcome != LineOutcome::Unmatched {
            if line.payment_id == Some(payment_id) {
                return Ok(line);
            }
            return Err(AppError::Conflict(format!(
                "the line is {} already; only a line that matched nothing is matched by hand",
                line.outcome.as_str()
            )));
        }
        let before = ports.store.payment(payment_id).await?.ok_or(AppError::NotFound { what: "payment" })?;
        if before.method != PaymentMethod::BankTransfer || before.status != PaymentStatus::RequiresAction {
            // Paid by this very line since it was read (a racing match of the same): the same answer.
            if let Some(now_line) = ports.store.statement_line(line_id).await?
                && now_line.outcome != LineOutcome::Unmatched
                && now_line.payment_id == Some(payment_id)
            {
                return Ok(now_line);
            }
            return Err(AppError::Conflict("only an open bank transfer is paid by a statement line".into()));
        }
        if before.amount.currency != line.amount.currency {
            return Err(AppError::invalid(
                "payment_id",
                "wrong_currency",
                format!("the line is in {}, the payment in {}", line.amount.currency, before.amount.currency),
            ));
        }
        let lacking = before.amount.checked_sub(before.received)?;
        let applied = if line.amount.minor > lacking.minor { lacking } else { line.amount };
        let mut after = before.clone();
        after.received = before.received.checked_add(applied)?;
        after.updated_at = now;
        let paid = after.received == after.amount;
        let mut matched = line.clone();
        matched.payment_id = Some(payment_id);
        matched.outcome = if !paid {
            LineOutcome::Underpaid
        } else if applied.minor < line.amount.minor {
            LineOutcome::Overpaid
        } else {
            LineOutcome::Paid
        };
        let mut s = Settlement { matched: Some(matched.clone()), ..Settlement::empty() };
        if applied.minor > 0 {
            // The line was held for the guest when imported; the part applied moves to the host.
            let entry = Entry::unapplied_applied(before.tenant_id, applied).map_err(ledger)?;
            s.postings.push(posting("unapplied_applied", before.id, entry, now));
        }
        if paid {
            succeeded(ports, &mut s, before, after, now).await?;
        } else {
            s.events.push(Event::new(&Change::PaymentReceived(after.clone()), now, Some(after.tenant_id), after.id));
            s.payment = Some((before, after));
        }
        match ports.store.settle(&s).await {
            Ok(true) => {
                tracing::info!(outcome = matched.outcome.as_str(), "statement line matched by hand");
                return Ok(matched);
            }
            // Matched by someone else meanwhile, or the payment or booking changed: look again.
            Ok(false) | Err(StoreError::Stale) if tries < 5 => continue,
            Ok(false) => return Err(AppError::Conflict("the line was matched meanwhile".into())),
            Err(e) => return Err(e.into()),
        }
    }
}

/// A ledger entry to write, recording `subject`.
pub(crate) fn posting(kind: &'static str, subject: Uuid, entry: Entry, now: Timestamp) -> Posting {
    Posting { id: Uuid::now_v7(), kind, subject_id: subject, entry, at: now }
}

/// What a line would change, given the payment and booking as they are now.
async fn plan(
    ports: &Ports,
    statement_id: &str,
    n: usize,
    line: &StatementLine,
    now: Timestamp,
) -> Result<(StoredLine, Settlement), AppError> {
    let quoted = quoted_references(line);
    let mut found = None;
    if line.credit && line.amount.minor > 0 {
        for r in &quoted {
            if let Some(p) = ports.store.payment_by_reference(r).await? {
                found = Some((r.clone(), p));
                break;
            }
        }
    }
    let mut stored = StoredLine {
        id: Uuid::now_v7(),
        fingerprint: line_fingerprint(statement_id, n, line),
        statement_id: statement_id.to_string(),
        booking_date: line.booking_date,
        amount: line.amount,
        credit: line.credit,
        reference: match (&found, quoted.first()) {
            (Some((r, _)), _) | (None, Some(r)) => r.clone(),
            (None, None) => line.references.join(" | "),
        },
        payment_id: None,
        outcome: LineOutcome::Unmatched,
        created_at: now,
    };
    // A line that pays no payment: a debit moves nothing here; other money is held for the guest.
    let unpaid = |mut line: StoredLine, outcome: LineOutcome| -> Result<(StoredLine, Settlement), AppError> {
        line.outcome = outcome;
        let mut s = Settlement::of_line(line.clone());
        if outcome != LineOutcome::Debit {
            let entry = Entry::unapplied_received(line.amount).map_err(ledger)?;
            s.postings.push(posting("unapplied_received", line.id, entry, now));
        }
        Ok((line, s))
    };
    if !line.credit || line.amount.minor <= 0 {
        return unpaid(stored, LineOutcome::Debit);
    }
    if line.problem.is_some() {
        return unpaid(stored, LineOutcome::Unreadable);
    }
    let Some((_, before)) = found else { return unpaid(stored, LineOutcome::Unmatched) };
    stored.payment_id = Some(before.id);
    if before.amount.currency != line.amount.currency {
        return unpaid(stored, LineOutcome::WrongCurrency);
    }
    if before.status != PaymentStatus::RequiresAction {
        return unpaid(stored, LineOutcome::NotOpen);
    }
    // Money for this payment: what it still lacks pays it, the rest is held for the guest.
    let lacking = before.amount.checked_sub(before.received)?;
    let applied = if line.amount.minor > lacking.minor { lacking } else { line.amount };
    let extra = line.amount.checked_sub(applied)?;
    let mut after = before.clone();
    after.received = before.received.checked_add(applied)?;
    after.updated_at = now;
    let paid = after.received == after.amount;
    stored.outcome = if !paid {
        LineOutcome::Underpaid
    } else if extra.minor > 0 {
        LineOutcome::Overpaid
    } else {
        LineOutcome::Paid
    };
    let mut s = Settlement::of_line(stored.clone());
    if applied.minor > 0 {
        let entry = Entry::transfer_received(before.tenant_id, applied).map_err(ledger)?;
        s.postings.push(posting("transfer_received", before.id, entry, now));
    }
    if extra.minor > 0 {
        s.postings.push(posting(
            "unapplied_received",
            stored.id,
            Entry::unapplied_received(extra).map_err(ledger)?,
            now,
        ));
    }
    if paid {
        succeeded(ports, &mut s, before, after, now).await?;
    } else {
        s.events.push(Event::new(&Change::PaymentReceived(after.clone()), now, Some(after.tenant_id), after.id));
        s.payment = Some((before, after));
    }
    Ok((stored, s))
}

impl Settlement {
    fn empty() -> Settlement {
        Settlement {
            line: None,
            matched: None,
            provider_event: None,
            payment: None,
            confirm: None,
            postings: Vec::new(),
            events: Vec::new(),
            refunds: Vec::new(),
        }
    }

    fn of_line(line: StoredLine) -> Settlement {
        Settlement { line: Some(line), ..Settlement::empty() }
    }

    pub(crate) fn of_provider_event(event: ProviderEventRecord) -> Settlement {
        Settlement { provider_event: Some(event), ..Settlement::empty() }
    }
}

/// A payment is paid in full (its money is already posted): it confirms its booking if
/// the booking is still held; money for a booking that expired or was cancelled meanwhile
/// is owed back to the guest, all of it.
pub(crate) async fn succeeded(
    ports: &Ports,
    s: &mut Settlement,
    before: Payment,
    mut after: Payment,
    now: Timestamp,
) -> Result<(), AppError> {
    after.status = PaymentStatus::Succeeded;
    let booking = ports.store.booking(before.booking_id).await?.ok_or(AppError::NotFound { what: "booking" })?;
    s.events.push(Event::new(&Change::PaymentSucceeded(after.without_secret()), now, Some(after.tenant_id), after.id));
    if booking.status == BookingStatus::Held {
        let mut confirmed = booking.clone();
        confirmed.status = booking.status.transition(BookingStatus::Confirmed)?;
        confirmed.hold_expires_at = None;
        confirmed.updated_at = now;
        s.events.push(Event::new(&Change::Booking(confirmed.clone()), now, Some(confirmed.tenant_id), confirmed.id.0));
        s.confirm = Some(Transition { booking: confirmed, from: BookingStatus::Held, release: false });
    } else if !matches!(booking.status, BookingStatus::Confirmed | BookingStatus::CheckedIn | BookingStatus::Completed)
    {
        // Paid after the hold expired or the guest cancelled: the guest gets it all back.
        let owed = after.received.checked_sub(after.refunded)?;
        if owed.minor > 0 {
            let refund = Refund {
                id: Uuid::now_v7(),
                payment_id: after.id,
                amount: owed,
                status: "pending".into(),
                reason: "booking_not_held".into(),
                failure: None,
                created_at: now,
            };
            let entry = Entry::refund_owed(before.tenant_id, owed).map_err(ledger)?;
            s.postings.push(posting("refund_owed", refund.id, entry, now));
            after.refunded = after.refunded.checked_add(owed)?;
            s.refunds.push(refund);
            s.events.push(Event::new(
                &Change::PaymentRefunded(after.without_secret()),
                now,
                Some(after.tenant_id),
                after.id,
            ));
        }
    }
    s.payment = Some((before, after));
    Ok(())
}

pub(crate) fn ledger(e: innkeep_core::ledger::LedgerError) -> AppError {
    AppError::Store(StoreError::Corrupt(format!("a ledger entry could not be made: {e}")))
}

/// Refund (part of) a succeeded payment: the property's hosts or an admin; `amount` in
/// minor units, everything not yet refunded when absent. Never more than was received, in
/// total, however many refunds run at once.
#[tracing::instrument(skip_all, fields(payment_id = %payment_id, user_id = %actor.user_id))]
pub async fn refund(
    ports: &Ports,
    actor: &Actor,
    payment_id: Uuid,
    amount: Option<i64>,
    key: &str,
    now: Timestamp,
) -> Result<(Refund, bool), AppError> {
    let p = ports.store.payment(payment_id).await?.ok_or(AppError::NotFound { what: "payment" })?;
    if p.user_id == actor.user_id && !actor.may(Duty::Refunds, p.tenant_id) {
        return Err(AppError::Forbidden("the property's hosts and admins"));
    }
    actor.check(Duty::Refunds, p.tenant_id, "payment")?;
    make_refund(ports, &p, amount, &actor.user_id.to_string(), key, "requested", now).await
}

async fn make_refund(
    ports: &Ports,
    p: &Payment,
    amount: Option<i64>,
    scope: &str,
    key: &str,
    reason: &str,
    now: Timestamp,
) -> Result<(Refund, bool), AppError> {
    if p.status != PaymentStatus::Succeeded {
        return Err(AppError::Conflict(format!(
            "only a succeeded payment can be refunded; this one is {}",
            p.status.as_str()
        )));
    }
    let left = p.received.checked_sub(p.refunded)?;
    let amount = Money::new(amount.unwrap_or(left.minor), p.amount.currency);
    innkeep_core::payment::check_refund(p.received, p.refunded, amount).map_err(|e| match e {
        innkeep_core::payment::RefundError::MoreThanCaptured { .. } => {
            AppError::invalid("amount", "refund_exceeds_payment", e.to_string())
        }
        _ => AppError::invalid("amount", "invalid_amount", e.to_string()),
    })?;
    let refund = Refund {
        id: Uuid::now_v7(),
        payment_id: p.id,
        amount,
        status: "pending".into(),
        reason: reason.into(),
        failure: None,
        created_at: now,
    };
    let mut after = p.clone();
    after.refunded = p.refunded.checked_add(amount)?;
    after.updated_at = now;
    let hash = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(serde_json::json!([p.id, amount]).to_string().as_bytes()))
    };
    let new = NewRefund {
        scope: scope.to_string(),
        key: key.to_string(),
        request_hash: hash,
        posting: posting("refund_owed", refund.id, Entry::refund_owed(p.tenant_id, amount).map_err(ledger)?, now),
        event: Event::new(&Change::PaymentRefunded(after.without_secret()), now, Some(p.tenant_id), p.id),
        refund,
    };
    match ports.store.refund(&new).await? {
        RefundMade::Made(_) => {
            metrics::counter!("innkeep_refunds_total", "reason" => reason.to_string()).increment(1);
            Ok((new.refund, false))
        }
        RefundMade::Replayed(r) => Ok((*r, true)),
        RefundMade::KeyReused => Err(AppError::IdempotencyMismatch),
        RefundMade::MoreThanReceived => Err(AppError::invalid(
            "amount",
            "refund_exceeds_payment",
            "the payment has less left to refund than asked (another refund was made meanwhile)",
        )),
    }
}

/// The refunds of a payment the actor may see.
pub async fn refunds_of(ports: &Ports, actor: &Actor, payment_id: Uuid) -> Result<Vec<Refund>, AppError> {
    let p = payment(ports, actor, payment_id).await?;
    Ok(ports.store.refunds_of(p.id).await?)
}

/// Refunds what a cancellation's policy gives back, from the booking's succeeded payments:
/// a durable consumer of `booking.cancelled`, so a refund is made once even if the node dies
/// between the cancellation and the refund.
pub struct CancellationRefunds {
    pub ports: Ports,
}

#[async_trait]
impl crate::event::Consumer for CancellationRefunds {
    fn name(&self) -> &str {
        "cancellation-refunds"
    }

    /// Each refund is made under a key of the booking and payment: made once.
    fn idempotent(&self) -> bool {
        true
    }

    async fn handle(&self, event: &crate::event::StoredEvent) -> Result<(), crate::event::HandleError> {
        // Only cancellations are decoded: this consumer sees every event.
        if event.event.kind != crate::event::EventKind::BookingCancelled {
            return Ok(());
        }
        let Ok(Change::Booking(b)) = event.event.change() else { return Ok(()) };
        if b.status != BookingStatus::Cancelled {
            return Ok(());
        }
        let Some(mut owed) = b.refund.filter(|r| r.minor > 0) else { return Ok(()) };
        for p in self.ports.store.payments_of_booking(b.id).await? {
            let left = p.received.checked_sub(p.refunded)?;
            if p.status != PaymentStatus::Succeeded || left.minor <= 0 || owed.minor <= 0 {
                continue;
            }
            let amount = if owed.minor < left.minor { owed } else { left };
            // One key per booking and payment: handled twice, it is refunded once.
            let key = format!("cancellation:{}:{}", b.id, p.id);
            let now = event.event.occurred_at;
            make_refund(&self.ports, &p, Some(amount.minor), "system", &key, "cancellation", now).await?;
            owed = owed.checked_sub(amount)?;
        }
        Ok(())
    }
}

/// Check the ledger (operators).
pub async fn check_ledger(ports: &Ports) -> Result<LedgerReport, AppError> {
    Ok(ports.store.check_ledger().await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use innkeep_core::Currency;

    fn line(refs: &[&str]) -> StatementLine {
        StatementLine {
            booking_date: None,
            amount: Money::new(100, Currency::parse("EUR").unwrap_or_else(|_| unreachable!())),
            credit: true,
            references: refs.iter().map(|r| r.to_string()).collect(),
            problem: None,
        }
    }

    #[test]
    fn a_reference_is_found_wherever_the_bank_put_it() {
        let r = reference_for(Uuid::now_v7());
        assert!(parse_rf(&r).is_some(), "{r}");
        let first = |refs: &[&str]| quoted_references(&line(refs)).first().cloned();
        assert_eq!(first(&[&r]), Some(r.clone()));
        let spaced: String =
            r.chars().collect::<Vec<_>>().chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join(" ");
        let in_text = quoted_references(&line(&["NOTPROVIDED", &format!("Booking {spaced}, thanks")]));
        assert!(in_text.contains(&r), "{in_text:?}");
        assert_eq!(first(&[&r.to_lowercase()]), Some(r.clone()));
        assert_eq!(first(&["RF00 1234"]), None);
        assert_eq!(first(&[]), None);
        // A word after the reference can make a longer run check by chance (1 in 97): the
        // real reference is still a candidate, and the one that names a payment wins.
        let word = (0..36u32 * 36)
            .map(|n| {
                format!(
                    "{}{}",
                    char::from_digit(n / 36, 36).unwrap_or('0'),
                    char::from_digit(n % 36, 36).unwrap_or('0')
                )
                .to_uppercase()
            })
            .find(|w| parse_rf(&format!("{r}{w}")).is_some())
            .unwrap_or_default();
        assert!(!word.is_empty(), "some two-character word checks");
        let both = quoted_references(&line(&[&format!("Booking {spaced} {word}")]));
        assert_eq!(both.first(), Some(&format!("{r}{word}")), "the longer run checks");
        assert!(both.contains(&r), "{both:?}");
    }
}
