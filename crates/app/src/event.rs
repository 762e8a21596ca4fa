//! Outbox events: every state change is recorded as an event in the same transaction.
//! The catalogue is documented in docs/events.md.

use async_trait::async_trait;
use innkeep_core::{EventId, TenantId};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An event as written to the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: EventId,
    #[serde(rename = "type")]
    pub kind: String,
    pub version: u16,
    pub occurred_at: Timestamp,
    pub tenant_id: Option<TenantId>,
    pub aggregate_id: Uuid,
    pub payload: serde_json::Value,
}

/// An event read back from the outbox, with its position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub seq: i64,
    #[serde(flatten)]
    pub event: Event,
}

impl Event {
    /// A version-1 event of `kind` about `aggregate_id`, carrying `payload`.
    pub fn new(
        kind: &str,
        now: Timestamp,
        tenant_id: Option<TenantId>,
        aggregate_id: Uuid,
        payload: impl Serialize,
    ) -> Event {
        Event {
            id: EventId::new_v7(now),
            kind: kind.to_string(),
            version: 1,
            occurred_at: now,
            tenant_id,
            aggregate_id,
            payload: serde_json::to_value(payload).unwrap_or(serde_json::Value::Null),
        }
    }
}

/// A named consumer of outbox events: the port adapters implement, and `innkeep-events`
/// runs. `handle` must be safe to call again for an event it has seen (the runner records
/// handled events, but a crash between handling and recording means one more call).
#[async_trait]
pub trait Consumer: Send + Sync + 'static {
    /// The stable name that keys the consumer's position.
    fn name(&self) -> &str;
    /// Act on one event; an error is retried, then parked as a dead letter.
    async fn handle(&self, event: &StoredEvent) -> Result<(), String>;
    /// Whether handling an event twice is harmless (deleting a cache key, say). Then the
    /// runner records no processed mark per event, only its position once a batch: after a
    /// crash the rest of the batch is handled again. Otherwise (the default) every handled
    /// event is recorded before the next, so the consumer acts on none twice.
    fn idempotent(&self) -> bool {
        false
    }
}
