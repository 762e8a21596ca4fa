//! The Slack sender: operator alerts posted to an incoming webhook.

use crate::sender::{SendError, body_start, detail, http_client, http_failure, http_status};
use innkeep_app::notify::Delivery;
use std::time::Duration;

/// Which incoming webhook takes the node's alerts.
#[derive(Debug, Clone)]
pub struct SlackOptions {
    /// The incoming webhook's URL (a secret: it never appears in an error).
    pub webhook_url: String,
    /// How long one request may take, from connecting to the last byte of the answer.
    pub timeout: Duration,
}

/// Sends Slack deliveries: the message's JSON (Block Kit), or its subject as text.
pub struct SlackSender {
    client: reqwest::Client,
    webhook_url: reqwest::Url,
}

impl SlackSender {
    /// A sender for `options`.
    pub fn new(options: &SlackOptions) -> Result<SlackSender, String> {
        let client =
            http_client(options.timeout).build().map_err(|e| format!("the Slack client cannot be built: {e}"))?;
        let webhook_url = reqwest::Url::parse(&options.webhook_url)
            .map_err(|e| format!("the Slack webhook URL does not parse: {e}"))?;
        Ok(SlackSender { client, webhook_url })
    }

    /// Send one Slack delivery.
    pub async fn send(&self, d: &Delivery) -> Result<(), SendError> {
        let body = match &d.content.json {
            Some(json) => json.clone(),
            None => serde_json::json!({ "text": d.content.subject }),
        };
        let response = self
            .client
            .post(self.webhook_url.clone())
            .json(&body)
            .send()
            .await
            .map_err(|e| http_failure("Slack", e))?;
        let status = response.status();
        if status == reqwest::StatusCode::OK {
            return Ok(());
        }
        let words = body_start(response).await;
        Err(http_status("Slack", status, &detail(&words, &d.recipient)))
    }
}
