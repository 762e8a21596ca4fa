//! What the pages tell analytics: a search of stays and a view of a property, as client
//! events (the funnel's first two steps, and what trends), stored the way
//! `POST /api/v1/events` stores a client's. Recording never holds up or fails a page.

use crate::session::Visitor;
use innkeep_app::ingest::{ClientEvent, EncodedBatch};
use innkeep_app::node::AppState;
use innkeep_core::PropertyId;

/// Record one event of `kind` (`search` or `view`) in the background, if this node keeps
/// client events.
pub fn record(s: &AppState, v: &Visitor, kind: &str, property: Option<PropertyId>, data: serde_json::Value) {
    let Some(sink) = s.client_events.clone() else { return };
    let now = s.ports.clock.now();
    let user = v.user.as_ref().map(|(a, _)| a.user_id);
    let event = ClientEvent {
        id: uuid::Uuid::now_v7(),
        kind: kind.into(),
        client_id: user.map_or_else(|| "web".to_string(), |u| format!("web-{u}")),
        user_id: user,
        occurred_at: now,
        received_at: now,
        property_id: property,
        data,
    };
    tokio::spawn(async move {
        let stored = match EncodedBatch::from_events(&[event]) {
            Ok(batch) => sink.append(batch).await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = stored {
            tracing::warn!(error = %e, "a page's client event was not recorded");
        }
    });
}
