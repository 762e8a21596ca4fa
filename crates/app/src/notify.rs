//! Notifications: the messages Innkeep sends (e-mail and SMS to guests and hosts, signed
//! webhooks to integrators, Slack and PagerDuty to operators), the delivery log that keeps
//! each one, and the store port behind both.
//!
//! A message is written to the log once, rendered, before anything is sent: by the
//! notifications consumer for an outbox event (its dedup key makes a second write of the
//! same message a no-op), or by the alert evaluator. A dispatcher then leases the messages
//! that are due, sends each, and records the outcome; a node that dies mid-send leaves
//! a lease that expires, so another node sends the message again under the same id
//! (at-least-once: a receiver drops the duplicate by its `Message-ID` or event id).

use crate::event::EventKind;
use crate::{Actor, AppError, Ports, StoreError};
use async_trait::async_trait;
use innkeep_core::{BookingId, Duty, EventId, TenantId};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Email,
    Sms,
    Webhook,
    Slack,
    PagerDuty,
}

impl Channel {
    pub const ALL: [Channel; 5] = [Channel::Email, Channel::Sms, Channel::Webhook, Channel::Slack, Channel::PagerDuty];

    /// The name in the API, the database and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Webhook => "webhook",
            Channel::Slack => "slack",
            Channel::PagerDuty => "pagerduty",
        }
    }

    /// The channel named `s`.
    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Where a message is in its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Waiting to be sent (the first time, or again after a failed attempt).
    Pending,
    Sent,
    /// Given up on after its attempts (or refused for good); `innkeep notify replay` sends
    /// it again.
    Parked,
    /// No longer to be sent (a reminder of a booking that was cancelled).
    Cancelled,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 4] =
        [DeliveryStatus::Pending, DeliveryStatus::Sent, DeliveryStatus::Parked, DeliveryStatus::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Parked => "parked",
            DeliveryStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryStatus> {
        DeliveryStatus::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// A file sent with an e-mail (the stay's `.ics`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub body: String,
}

/// What a message says, rendered once when it is written.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Content {
    /// An e-mail's subject, or a one-line summary for the other channels.
    pub subject: String,
    /// The plain text (an e-mail's text part, an SMS's body).
    pub text: String,
    /// An e-mail's HTML part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// The JSON body of a webhook, Slack or PagerDuty message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<serde_json::Value>,
    /// Whether the message is about something the recipient did or owns (a booking); one
    /// that is not (a reminder) carries `List-Unsubscribe`.
    #[serde(default)]
    pub transactional: bool,
    /// Where the recipient stops messages like this one (`List-Unsubscribe`, one click).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsubscribe_url: Option<String>,
    /// The message holds a secret (a single-use link): only its subject stays in the log
    /// once it is sent.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub secret: bool,
}

impl Content {
    /// What the log keeps of a sent message that held a secret.
    pub fn without_secret(&self) -> Content {
        Content { subject: self.subject.clone(), transactional: self.transactional, ..Content::default() }
    }
}

/// A message to write to the delivery log.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    /// The message's own id: an e-mail's `Message-ID`, a webhook delivery's id.
    pub id: Uuid,
    /// What makes it one message: the same key written twice is written once
    /// (`{event id}/{template}/{channel}/{recipient}`, say).
    pub dedup_key: String,
    pub event_id: Option<EventId>,
    pub tenant_id: Option<TenantId>,
    pub booking_id: Option<BookingId>,
    pub webhook_id: Option<Uuid>,
    /// Which message it is (`booking.confirmed`, `reminder`, `host.booking`, an event kind
    /// for a webhook, `alert.<name>` for an operator alert).
    pub template: String,
    pub channel: Channel,
    pub recipient: String,
    pub content: Content,
    /// Not to be sent before this (a reminder's time).
    pub not_before: Timestamp,
    pub created_at: Timestamp,
}

/// A message in the delivery log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: Uuid,
    pub event_id: Option<EventId>,
    pub tenant_id: Option<TenantId>,
    pub booking_id: Option<BookingId>,
    pub webhook_id: Option<Uuid>,
    pub template: String,
    pub channel: Channel,
    pub recipient: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// When it is (next) due.
    pub next_attempt_at: Timestamp,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    #[serde(skip)]
    pub content: Content,
}

/// Which deliveries to list or replay.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub tenant_id: Option<TenantId>,
    pub webhook_id: Option<Uuid>,
    pub booking_id: Option<BookingId>,
    pub status: Option<DeliveryStatus>,
    pub channel: Option<Channel>,
    pub id: Option<Uuid>,
    /// Newest first, older than this id (a page's last).
    pub before: Option<Uuid>,
    pub limit: u32,
}

/// An integrator's subscription: events of its tenant posted to its URL, signed with its
/// secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub url: String,
    pub events: Vec<EventKind>,
    /// The HMAC-SHA256 key of `Innkeep-Signature`; shown once, when the webhook is made.
    #[serde(skip_serializing)]
    pub secret: String,
    pub created_at: Timestamp,
}

/// The store port of notifications: the delivery log and the webhooks.
#[async_trait]
pub trait Notifications: Send + Sync {
    /// Write messages, skipping any whose dedup key is already written; answers how many
    /// are new.
    async fn enqueue(&self, messages: &[NewMessage]) -> Result<u64, StoreError>;
    /// Cancel a booking's pending messages of one template (its reminder, when it is
    /// cancelled); answers how many.
    async fn cancel_pending(&self, booking: BookingId, template: &str) -> Result<u64, StoreError>;
    /// Lease up to `limit` pending messages due at `now` until `now + lease`, counting an
    /// attempt on each: no other node takes them meanwhile.
    async fn claim_due(
        &self,
        now: Timestamp,
        lease: jiff::SignedDuration,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError>;
    /// The earliest time a pending message falls due (to sleep until then).
    async fn next_due(&self) -> Result<Option<Timestamp>, StoreError>;
    /// A message was delivered; with `keep`, the log keeps that instead of its content.
    async fn record_sent(&self, id: Uuid, now: Timestamp, keep: Option<&Content>) -> Result<(), StoreError>;
    /// An attempt failed: try again at `retry_at`, or park the message when `None`.
    async fn record_failure(&self, id: Uuid, error: &str, retry_at: Option<Timestamp>) -> Result<(), StoreError>;
    /// The log, newest first.
    async fn deliveries(&self, filter: &DeliveryFilter) -> Result<Vec<Delivery>, StoreError>;
    /// Put parked messages matching `filter` back to pending, due `now`, with no attempts
    /// counted; answers how many.
    async fn replay(&self, filter: &DeliveryFilter, now: Timestamp) -> Result<u64, StoreError>;
    async fn insert_webhook(&self, webhook: &Webhook) -> Result<(), StoreError>;
    /// A tenant's webhooks (every tenant's for `None`), oldest first.
    async fn webhooks(&self, tenant: Option<TenantId>) -> Result<Vec<Webhook>, StoreError>;
    async fn webhook(&self, id: Uuid) -> Result<Option<Webhook>, StoreError>;
    /// Remove a webhook (its deliveries stay in the log); false if there was none.
    async fn delete_webhook(&self, id: Uuid) -> Result<bool, StoreError>;
    /// Whether the user still takes reminders.
    async fn wants_reminders(&self, user: innkeep_core::UserId) -> Result<bool, StoreError>;
    /// The user's unsubscribe token: `candidate` (random) the first time, the same token
    /// ever after. It is the whole of the unsubscribe link's authority: never logged.
    async fn unsubscribe_token(&self, user: innkeep_core::UserId, candidate: &str) -> Result<String, StoreError>;
    /// Stop the reminders of the user whose token this is; false for an unknown token.
    async fn unsubscribe(&self, token: &str) -> Result<bool, StoreError>;
}

/// The rule a webhook URL must meet (https, no private addresses, ...): why not, if not.
pub type UrlCheck = std::sync::Arc<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

/// The most webhooks one tenant may have.
pub const MAX_WEBHOOKS_PER_TENANT: usize = 20;

/// Event kinds an integrator may subscribe to: what happens to a tenant's bookings,
/// payments and catalogue (never accounts or sessions).
pub fn subscribable(kind: EventKind) -> bool {
    // Accounts and the audit log (staff addresses) are nobody's integration.
    !matches!(
        kind,
        EventKind::UserRegistered
            | EventKind::SessionEnded
            | EventKind::UserErased
            | EventKind::CatalogImported
            | EventKind::AuditRecorded
    )
}

/// A webhook to make.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub tenant_id: TenantId,
    pub url: String,
    pub events: Vec<String>,
}

/// Make a webhook for the actor's tenant; `check_url` is the URL rule of the node's
/// settings (https only, no private addresses), applied here so that a refused URL is a
/// 422, not a delivery that never arrives.
pub async fn create_webhook(
    ports: &Ports,
    actor: &Actor,
    cmd: NewWebhook,
    check_url: &UrlCheck,
    now: Timestamp,
) -> Result<Webhook, AppError> {
    if !actor.may(Duty::Team, cmd.tenant_id) {
        return Err(AppError::Forbidden("the owners of this tenant"));
    }
    check_url(&cmd.url).map_err(|reason| AppError::invalid("url", "webhook_url_refused", reason))?;
    if cmd.events.is_empty() || cmd.events.len() > EventKind::ALL.len() {
        return Err(AppError::invalid("events", "webhook_events", "name at least one event kind"));
    }
    let mut events = Vec::new();
    for name in &cmd.events {
        let kind = EventKind::parse(name).filter(|k| subscribable(*k)).ok_or_else(|| {
            AppError::invalid(
                "events",
                "webhook_events",
                format!("{name:?} is not an event kind a webhook can subscribe to"),
            )
        })?;
        if !events.contains(&kind) {
            events.push(kind);
        }
    }
    if ports.store.tenant_users(cmd.tenant_id).await?.is_empty() {
        return Err(AppError::NotFound { what: "tenant" });
    }
    if ports.store.webhooks(Some(cmd.tenant_id)).await?.len() >= MAX_WEBHOOKS_PER_TENANT {
        return Err(AppError::Conflict(format!("a tenant may have at most {MAX_WEBHOOKS_PER_TENANT} webhooks")));
    }
    let mut key = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut key);
    let webhook = Webhook {
        id: Uuid::now_v7(),
        tenant_id: cmd.tenant_id,
        url: cmd.url,
        events,
        secret: format!("whsec_{}", hex::encode(key)),
        created_at: now,
    };
    ports.store.insert_webhook(&webhook).await?;
    Ok(webhook)
}

/// A webhook the actor may see (its tenant's; any for an admin). Another tenant's is
/// answered as not found, so ids cannot be probed.
pub async fn webhook_of(ports: &Ports, actor: &Actor, id: Uuid) -> Result<Webhook, AppError> {
    match ports.store.webhook(id).await? {
        Some(w) if actor.may(Duty::Team, w.tenant_id) => Ok(w),
        _ => Err(AppError::NotFound { what: "webhook" }),
    }
}

/// Remove a webhook the actor manages.
pub async fn delete_webhook(ports: &Ports, actor: &Actor, id: Uuid) -> Result<(), AppError> {
    let w = webhook_of(ports, actor, id).await?;
    ports.store.delete_webhook(w.id).await?;
    Ok(())
}

/// The delivery log as the actor may see it: a host its tenant's, an admin everything.
pub async fn deliveries(ports: &Ports, actor: &Actor, mut filter: DeliveryFilter) -> Result<Vec<Delivery>, AppError> {
    match actor.role {
        innkeep_core::Role::Admin => {}
        innkeep_core::Role::Host => filter.tenant_id = Some(actor.host_tenant(Duty::Messages)?),
        innkeep_core::Role::Guest => return Err(AppError::Forbidden("hosts and admins")),
    }
    filter.limit = filter.limit.clamp(1, 200);
    Ok(ports.store.deliveries(&filter).await?)
}
