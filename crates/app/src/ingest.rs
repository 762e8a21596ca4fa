//! Client events (searches, views, clicks, funnel steps) streamed in by web and mobile
//! clients: validated item by item, the good ones appended to the client event log.

use crate::{Actor, AppError, Ports};
use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// Most items in one batch.
pub const MAX_BATCH: usize = 1000;

/// A client event as received.
#[derive(Debug, Clone, Deserialize)]
pub struct RawClientEvent {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub client_id: Option<String>,
    pub occurred_at: Option<String>,
    pub property_id: Option<String>,
    pub data: Option<serde_json::Value>,
}

/// A valid client event, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientEvent {
    #[serde(rename = "type")]
    pub kind: String,
    pub client_id: String,
    pub user_id: Option<innkeep_core::UserId>,
    pub occurred_at: Timestamp,
    pub received_at: Timestamp,
    pub property_id: Option<innkeep_core::PropertyId>,
    pub data: serde_json::Value,
}

/// Where accepted client events go: the embedded log or a JetStream stream.
#[async_trait]
pub trait ClientEventSink: Send + Sync + 'static {
    /// Append a batch; all or nothing.
    async fn append(&self, events: &[ClientEvent]) -> Result<(), String>;
}

/// Why one item was refused.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejected {
    pub index: usize,
    pub reason: String,
}

/// What a batch did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ingested {
    pub accepted: usize,
    pub rejected: Vec<Rejected>,
}

const KINDS: [&str; 4] = ["search", "view", "click", "funnel"];

fn check(raw: RawClientEvent, actor: Option<&Actor>, now: Timestamp) -> Result<ClientEvent, String> {
    let kind = raw.kind.ok_or("type is required")?;
    if !KINDS.contains(&kind.as_str()) {
        return Err(format!("type must be one of search, view, click, funnel, not {kind:?}"));
    }
    let client_id = raw.client_id.ok_or("client_id is required")?;
    if client_id.is_empty()
        || client_id.len() > 64
        || !client_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err("client_id must be 1 to 64 characters of A-Z a-z 0-9 - _".into());
    }
    let occurred_at: Timestamp = raw
        .occurred_at
        .ok_or("occurred_at is required")?
        .parse()
        .map_err(|_| "occurred_at must be an RFC 3339 instant".to_string())?;
    if occurred_at > now.checked_add(SignedDuration::from_mins(5)).unwrap_or(now) {
        return Err("occurred_at is in the future".into());
    }
    if occurred_at < now.checked_sub(SignedDuration::from_hours(24 * 7)).unwrap_or(now) {
        return Err("occurred_at is more than 7 days ago".into());
    }
    let property_id =
        raw.property_id.map(|p| p.parse().map_err(|_| "property_id must be a UUID".to_string())).transpose()?;
    let data = raw.data.unwrap_or(serde_json::Value::Null);
    if !(data.is_null() || data.is_object()) {
        return Err("data must be an object".into());
    }
    if serde_json::to_vec(&data).map(|v| v.len()).unwrap_or(usize::MAX) > 4096 {
        return Err("data is larger than 4 KiB".into());
    }
    Ok(ClientEvent {
        kind,
        client_id,
        user_id: actor.map(|a| a.user_id),
        occurred_at,
        received_at: now,
        property_id,
        data,
    })
}

/// Validate a batch item by item and append the good items.
pub async fn ingest(
    ports: &Ports,
    sink: &dyn ClientEventSink,
    actor: Option<&Actor>,
    batch: Vec<serde_json::Value>,
    now: Timestamp,
) -> Result<Ingested, AppError> {
    if batch.is_empty() || batch.len() > MAX_BATCH {
        return Err(AppError::invalid("body", "invalid_batch", format!("a batch holds 1 to {MAX_BATCH} events")));
    }
    let _ = ports;
    let mut good = Vec::with_capacity(batch.len());
    let mut rejected = Vec::new();
    for (index, item) in batch.into_iter().enumerate() {
        let parsed = serde_json::from_value::<RawClientEvent>(item).map_err(|e| format!("not an event object: {e}"));
        match parsed.and_then(|raw| check(raw, actor, now)) {
            Ok(e) => good.push(e),
            Err(reason) => rejected.push(Rejected { index, reason }),
        }
    }
    if !good.is_empty() {
        sink.append(&good)
            .await
            .map_err(|e| AppError::Store(crate::StoreError::Database(format!("client event log: {e}"))))?;
    }
    Ok(Ingested { accepted: good.len(), rejected })
}
