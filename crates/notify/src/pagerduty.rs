//! The PagerDuty sender: operator alerts as Events API v2 events (trigger and resolve).

use crate::sender::{SendError, body_start, detail, http_client, http_failure, http_status};
use innkeep_app::notify::Delivery;
use std::time::Duration;

/// PagerDuty's Events API v2 endpoint.
pub const EVENTS_URL: &str = "https://events.pagerduty.com/v2/enqueue";

/// Which service of PagerDuty takes the node's alerts.
#[derive(Debug, Clone)]
pub struct PagerDutyOptions {
    /// The Events API endpoint (`EVENTS_URL`).
    pub url: String,
    /// The integration key of the service (a secret: it never appears in an error).
    pub routing_key: String,
    /// How long one request may take, from connecting to the last byte of the answer.
    pub timeout: Duration,
}

/// An Events API v2 event without its routing key (the sender adds it): `action` is
/// `trigger` or `resolve`, `severity` one of `critical`, `error`, `warning`, `info`; the
/// same `dedup_key` resolves what it triggered.
pub fn event(action: &str, dedup_key: &str, summary: &str, source: &str, severity: &str) -> serde_json::Value {
    serde_json::json!({
        "event_action": action,
        "dedup_key": dedup_key,
        "payload": { "summary": summary, "source": source, "severity": severity },
    })
}

/// Sends PagerDuty deliveries: the message's JSON event with the routing key set.
pub struct PagerDutySender {
    client: reqwest::Client,
    url: reqwest::Url,
    routing_key: String,
}

impl PagerDutySender {
    /// A sender for `options`.
    pub fn new(options: &PagerDutyOptions) -> Result<PagerDutySender, String> {
        let client =
            http_client(options.timeout).build().map_err(|e| format!("the PagerDuty client cannot be built: {e}"))?;
        let url = reqwest::Url::parse(&options.url).map_err(|e| format!("the PagerDuty URL does not parse: {e}"))?;
        Ok(PagerDutySender { client, url, routing_key: options.routing_key.clone() })
    }

    /// Send one PagerDuty delivery.
    pub async fn send(&self, d: &Delivery) -> Result<(), SendError> {
        let Some(serde_json::Value::Object(fields)) = &d.content.json else {
            return Err(SendError::Refused("a PagerDuty message needs a JSON event".to_string()));
        };
        let mut body = fields.clone();
        body.insert("routing_key".to_string(), serde_json::Value::String(self.routing_key.clone()));
        let response =
            self.client.post(self.url.clone()).json(&body).send().await.map_err(|e| http_failure("PagerDuty", e))?;
        let status = response.status();
        if status == reqwest::StatusCode::ACCEPTED {
            return Ok(());
        }
        let words = body_start(response).await.replace(&self.routing_key, "<routing key>");
        Err(http_status("PagerDuty", status, &detail(&words, &d.recipient)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_names_its_action_dedup_key_and_payload() {
        let e = event("trigger", "alert/disk", "disk 95% full", "node-1", "critical");
        assert_eq!(e["event_action"], "trigger");
        assert_eq!(e["dedup_key"], "alert/disk");
        assert_eq!(e["payload"]["summary"], "disk 95% full");
        assert_eq!(e["payload"]["source"], "node-1");
        assert_eq!(e["payload"]["severity"], "critical");
        assert!(e.get("routing_key").is_none());
    }
}
