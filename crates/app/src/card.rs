//! Card payments through a payment provider: the port a provider adapter implements, the
//! consumer that makes every provider call (from the outbox, never inside a guest's
//! request), and the provider's events (webhooks) that move a payment on.
//!
//! A guest's `POST /bookings/{id}/payments {"method": "card"}` only writes the payment and
//! its `payment.created` event. [`CardPayments`] reads the event and asks the provider for
//! a payment under the key `innkeep-payment-{id}`, so a call repeated after a crash is the
//! same call to the provider. The guest then confirms at the provider with the client
//! secret; the provider's event `succeeded` captures the money, posts it to the ledger and
//! confirms the booking, in one transaction. A slow or failing provider delays a payment:
//! calls are retried with backoff, and the booking is never failed for it.

use crate::event::{Change, EventKind, HandleError, StoredEvent};
use crate::payment::{Payment, ProviderEventRecord, Refund, Settlement, succeeded};
use crate::{AppError, Event, Ports, StoreError};
use async_trait::async_trait;
use innkeep_core::ledger::Entry;
use innkeep_core::{Money, PaymentMethod, PaymentStatus};
use jiff::Timestamp;
use std::time::Duration;
use uuid::Uuid;

/// The provider's payment made for one of ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderIntent {
    pub id: String,
    /// What the guest's client confirms the payment with.
    pub client_secret: Option<String>,
}

/// Why a provider call did not work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// Try again later: the provider was slow, unreachable, busy with the same key, or
    /// answered a server error.
    #[error("the payment provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider refused the request; the same request will be refused again.
    #[error("the payment provider refused: {0}")]
    Refused(String),
}

/// What a provider event says happened to a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderEventKind {
    Processing,
    /// The money was captured: this much.
    Succeeded {
        received: Money,
    },
    /// An attempt failed (a declined card, say), with the provider's reason.
    Failed {
        reason: String,
    },
    Canceled,
    /// Something Innkeep does not act on (it is recorded, once).
    Other,
}

/// A provider event whose signature was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEvent {
    /// The provider's event id: each is handled once.
    pub id: String,
    /// The provider's type name (`payment_intent.succeeded`, ...).
    pub type_name: String,
    pub kind: ProviderEventKind,
    /// The provider's payment id.
    pub intent_id: Option<String>,
    /// Our payment id, as the provider's payment carries it.
    pub payment_id: Option<Uuid>,
}

/// Why a provider event was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the signature does not hold: {0}")]
    Signature(String),
    #[error("the event cannot be read: {0}")]
    Malformed(String),
}

/// A card payment provider (Stripe's API, or a fake of it in tests).
#[async_trait]
pub trait PaymentProvider: Send + Sync {
    /// Make the provider's payment for ours; the same `key` makes it once.
    async fn create_intent(&self, payment: &Payment, key: &str) -> Result<ProviderIntent, ProviderError>;
    /// Refund (part of) a captured payment; the same `key` refunds once. Answers the
    /// provider's refund id.
    async fn refund(&self, payment: &Payment, refund: &Refund, key: &str) -> Result<String, ProviderError>;
    /// Check an event's signature header against its exact body, and read it.
    fn event(&self, signature: &str, body: &[u8], now: Timestamp) -> Result<ProviderEvent, WebhookError>;
}

/// The consumer that makes the provider calls: a provider payment for each new card
/// payment, a provider refund for each refund of a card payment.
pub struct CardPayments {
    pub ports: Ports,
    pub provider: std::sync::Arc<dyn PaymentProvider>,
    /// The first wait after an unavailable provider (doubling up to `max_backoff`).
    pub first_backoff: Duration,
    pub max_backoff: Duration,
    /// How long to keep trying one call before parking the event as a dead letter.
    pub give_up_after: Duration,
}

impl CardPayments {
    pub fn new(ports: Ports, provider: std::sync::Arc<dyn PaymentProvider>) -> Self {
        CardPayments {
            ports,
            provider,
            first_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(30),
            give_up_after: Duration::from_secs(3600),
        }
    }

    /// Call the provider until it answers or refuses, waiting longer after each
    /// unavailable answer.
    async fn call<T, F, Fut>(&self, what: &str, f: F) -> Result<Result<T, String>, HandleError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, ProviderError>>,
    {
        let started = tokio::time::Instant::now();
        let mut wait = self.first_backoff;
        loop {
            match f().await {
                Ok(v) => return Ok(Ok(v)),
                Err(ProviderError::Refused(why)) => return Ok(Err(why)),
                Err(ProviderError::Unavailable(why)) => {
                    metrics::counter!("innkeep_provider_retries_total", "call" => what.to_string()).increment(1);
                    if started.elapsed() >= self.give_up_after {
                        return Err(format!("{what}: the provider stayed unavailable: {why}").into());
                    }
                    tracing::warn!(call = what, error = %why, wait_ms = wait.as_millis() as u64, "payment provider unavailable; retrying");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(self.max_backoff);
                }
            }
        }
    }

    /// Make the provider's payment for a new card payment.
    async fn start(&self, id: Uuid) -> Result<(), HandleError> {
        let Some(p) = self.ports.store.payment(id).await? else { return Ok(()) };
        if p.method != PaymentMethod::Card || p.provider_id.is_some() || !p.status.is_open() {
            return Ok(());
        }
        let key = format!("innkeep-payment-{}", p.id);
        match self.call("create_intent", || self.provider.create_intent(&p, &key)).await? {
            Ok(intent) => {
                let now = self.ports.clock.now();
                self.ports.store.attach_intent(p.id, &intent.id, intent.client_secret.as_deref(), now).await?;
                // No event says so: the guest waiting for the client secret is told here.
                self.ports.changes.changed(p.id);
                metrics::counter!("innkeep_payments_total", "method" => "card", "status" => "intent").increment(1);
            }
            Err(why) => {
                tracing::warn!(payment_id = %p.id, reason = %why, "the provider refused a card payment");
                fail(&self.ports, p, &why).await?;
            }
        }
        Ok(())
    }

    /// Pay back, through the provider, each pending refund of a card payment.
    async fn pay_refunds(&self, id: Uuid) -> Result<(), HandleError> {
        let Some(p) = self.ports.store.payment(id).await? else { return Ok(()) };
        if p.method != PaymentMethod::Card || p.provider_id.is_none() {
            return Ok(());
        }
        for r in self.ports.store.refunds_of(p.id).await? {
            if r.status != "pending" {
                continue;
            }
            let key = format!("innkeep-refund-{}", r.id);
            let now = self.ports.clock.now();
            match self.call("refund", || self.provider.refund(&p, &r, &key)).await? {
                Ok(_) => {
                    let entry = Entry::refund_paid(true, r.amount).map_err(|e| e.to_string())?;
                    let posting = crate::payment::posting("refund_paid", r.id, entry, now);
                    let paid = crate::payment::Refund { status: "succeeded".into(), ..r.clone() };
                    let event = Event::new(&Change::RefundPaid(paid), now, Some(p.tenant_id), r.id);
                    self.ports.store.refund_paid(r.id, &posting, &event).await?;
                    metrics::counter!("innkeep_refunds_paid_total", "method" => "card").increment(1);
                }
                Err(why) => {
                    tracing::warn!(refund_id = %r.id, reason = %why, "the provider refused a refund");
                    self.ports.store.refund_failed(r.id, &why, now).await?;
                }
            }
        }
        Ok(())
    }
}

#[async_trait]
impl crate::event::Consumer for CardPayments {
    fn name(&self) -> &str {
        "card-payments"
    }

    /// Handling an event again repeats the provider call with the same key (the provider
    /// answers what it answered) and writes only what is not written yet.
    fn idempotent(&self) -> bool {
        true
    }

    /// Provider calls of different payments overlap (each waits on the provider's network
    /// round trip); those of one payment stay in order.
    fn concurrency(&self) -> usize {
        32
    }

    async fn handle(&self, event: &StoredEvent) -> Result<(), HandleError> {
        // Only payment events are decoded: this consumer sees every event.
        match event.event.kind {
            EventKind::PaymentCreated => {
                let Ok(Change::PaymentCreated(p)) = event.event.change() else { return Ok(()) };
                if p.method == PaymentMethod::Card { self.start(p.id).await } else { Ok(()) }
            }
            EventKind::PaymentRefunded => {
                let Ok(Change::PaymentRefunded(p)) = event.event.change() else { return Ok(()) };
                if p.method == PaymentMethod::Card { self.pay_refunds(p.id).await } else { Ok(()) }
            }
            _ => Ok(()),
        }
    }
}

/// End an open payment as failed, with why.
async fn fail(ports: &Ports, before: Payment, why: &str) -> Result<(), AppError> {
    let status = PaymentStatus::Failed;
    if !before.status.is_open() {
        return Ok(());
    }
    let now = ports.clock.now();
    let mut s = Settlement::of_provider_event(ProviderEventRecord {
        id: format!("innkeep:{}:{}", before.id, status.as_str()),
        kind: status.as_str().into(),
        payment_id: Some(before.id),
        received_at: now,
    });
    let after = Payment { status, failure: Some(why.to_string()), updated_at: now, ..before.clone() };
    metrics::counter!("innkeep_payments_total", "method" => "card", "status" => status.as_str()).increment(1);
    s.events.push(Event::new(&Change::PaymentUpdated(after.without_secret()), now, Some(after.tenant_id), after.id));
    s.payment = Some((before, after));
    ports.store.settle(&s).await?;
    Ok(())
}

/// Take a provider event (a webhook): check its signature, then apply it to its payment
/// once, moving the payment forward only (an event that arrives late or twice changes
/// nothing). Answers whether it changed anything.
#[tracing::instrument(skip_all)]
pub async fn provider_event(
    ports: &Ports,
    provider: &dyn PaymentProvider,
    signature: Option<&str>,
    body: &[u8],
) -> Result<bool, AppError> {
    let now = ports.clock.now();
    // A signature's age is measured on the wall clock: the provider signs with its own.
    let signed_since = Timestamp::now();
    let signature = signature.ok_or_else(|| {
        AppError::invalid("Stripe-Signature", "invalid_signature", "the event carries no signature header")
    })?;
    let event = provider.event(signature, body, signed_since).map_err(|e| match e {
        WebhookError::Signature(why) => AppError::invalid("Stripe-Signature", "invalid_signature", why),
        WebhookError::Malformed(why) => AppError::invalid("body", "invalid_event", why),
    })?;
    metrics::counter!("innkeep_provider_events_total", "type" => event.type_name.clone()).increment(1);
    // A payment changed between reading and writing: read again.
    for _ in 0..5 {
        let s = plan_event(ports, &event, now).await?;
        if s.payment.is_none() {
            // Not ours, not acted on, or past it: nothing to write, and the same again.
            return Ok(false);
        }
        match ports.store.settle(&s).await {
            Ok(true) => return Ok(true),
            Ok(false) => return Ok(false),
            Err(StoreError::Stale) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::Store(StoreError::Stale))
}

async fn plan_event(ports: &Ports, event: &ProviderEvent, now: Timestamp) -> Result<Settlement, AppError> {
    let mut payment = match &event.intent_id {
        Some(id) => ports.store.payment_by_provider_id(id).await?,
        None => None,
    };
    if payment.is_none()
        && let Some(id) = event.payment_id
    {
        // The provider's answer to our call was lost (a crash): the event still names ours.
        payment = ports.store.payment(id).await?.filter(|p| p.method == PaymentMethod::Card);
    }
    let mut s = Settlement::of_provider_event(ProviderEventRecord {
        id: event.id.clone(),
        kind: event.type_name.clone(),
        payment_id: payment.as_ref().map(|p| p.id),
        received_at: now,
    });
    let Some(before) = payment else {
        if event.kind != ProviderEventKind::Other {
            tracing::warn!(event_id = %event.id, "a provider event names no payment of ours");
        }
        return Ok(s);
    };
    let mut after = before.clone();
    after.updated_at = now;
    if after.provider_id.is_none() {
        after.provider_id = event.intent_id.clone();
    }
    let next = match &event.kind {
        ProviderEventKind::Processing => PaymentStatus::Processing,
        ProviderEventKind::Succeeded { .. } => PaymentStatus::Succeeded,
        ProviderEventKind::Failed { .. } => PaymentStatus::Failed,
        ProviderEventKind::Canceled => PaymentStatus::Canceled,
        ProviderEventKind::Other => return Ok(s),
    };
    if before.status == next || !before.status.can_become(next) {
        // Late, repeated, or out of order: the payment is past it.
        return Ok(s);
    }
    match &event.kind {
        ProviderEventKind::Succeeded { received } => {
            if received.currency != before.amount.currency || received.minor <= 0 {
                return Err(AppError::invalid(
                    "body",
                    "invalid_event",
                    format!("the provider captured {received}, and the payment asks {}", before.amount),
                ));
            }
            after.received = *received;
            after.failure = None;
            let entry = Entry::card_captured(before.tenant_id, *received).map_err(crate::payment::ledger)?;
            s.postings.push(crate::payment::posting("card_captured", before.id, entry, now));
            metrics::counter!("innkeep_payments_total", "method" => "card", "status" => "succeeded").increment(1);
            succeeded(ports, &mut s, before, after, now).await?;
        }
        other => {
            // Processing, failed (with the provider's reason) or canceled.
            after.status = next;
            if let ProviderEventKind::Failed { reason } = other {
                after.failure = Some(reason.clone());
            }
            metrics::counter!("innkeep_payments_total", "method" => "card", "status" => next.as_str()).increment(1);
            let event = Change::PaymentUpdated(after.without_secret());
            s.events.push(Event::new(&event, now, Some(after.tenant_id), after.id));
            s.payment = Some((before, after));
        }
    }
    Ok(s)
}
