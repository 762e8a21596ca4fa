//! The card provider adapter: Stripe's PaymentIntents and Refunds HTTP API behind the app's
//! [`PaymentProvider`] port. The request bodies, objects and signature check are the pure
//! `innkeep_payments::stripe`; this crate sends and receives.
//!
//! Every POST is form-encoded, carries the caller's `Idempotency-Key` and the pinned
//! `Stripe-Version`, and is answered within `timeout`. Answers are sorted for the caller:
//! a timeout, a lost connection, 409 (the same key still in flight), 429 and 5xx are
//! *unavailable* (call again later with the same key), 401/403 too (a key being fixed by
//! an operator should delay payments, not fail them); any other 4xx is *refused*.

use async_trait::async_trait;
use innkeep_app::card::{
    PaymentProvider, ProviderError, ProviderEvent, ProviderEventKind, ProviderIntent, WebhookError,
};
use innkeep_app::payment::{Payment, Refund};
use innkeep_core::Currency;
use innkeep_payments::stripe::{
    ApiError, CreatePaymentIntent, CreateRefund, Event, EventObject, PaymentIntent, PaymentMethods,
    Refund as StripeRefund, from_stripe_amount, verify_signature,
};
use jiff::Timestamp;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// The API version Innkeep is written against (sent on every request).
pub const API_VERSION: &str = "2024-06-20";

/// How to reach Stripe (or a service that speaks its API).
#[derive(Debug, Clone)]
pub struct StripeConfig {
    /// `https://api.stripe.com`, without a trailing slash.
    pub base_url: String,
    /// `sk_live_...` / `sk_test_...`.
    pub secret_key: String,
    /// The webhook endpoint's signing secret, `whsec_...`.
    pub webhook_secret: String,
    pub api_version: String,
    /// How long one call may take.
    pub timeout: Duration,
    /// How old a signed event may be (Stripe suggests five minutes).
    pub tolerance: Duration,
}

/// Stripe's API over HTTP.
pub struct StripeClient {
    config: StripeConfig,
    http: reqwest::Client,
}

impl StripeClient {
    pub fn new(config: StripeConfig) -> Result<StripeClient, reqwest::Error> {
        let http = reqwest::Client::builder().timeout(config.timeout).connect_timeout(config.timeout).build()?;
        Ok(StripeClient { config, http })
    }

    async fn post<T: DeserializeOwned>(&self, path: &str, body: String, key: &str) -> Result<T, ProviderError> {
        let url = format!("{}{path}", self.config.base_url.trim_end_matches('/'));
        let answer = self
            .http
            .post(&url)
            .bearer_auth(&self.config.secret_key)
            .header("Idempotency-Key", key)
            .header("Stripe-Version", &self.config.api_version)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| ProviderError::Unavailable(format!("POST {path}: {e}")))?;
        let status = answer.status();
        let bytes = answer.bytes().await.map_err(|e| ProviderError::Unavailable(format!("POST {path}: {e}")))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes)
                .map_err(|e| ProviderError::Unavailable(format!("POST {path}: an answer that cannot be read: {e}")));
        }
        let why = match serde_json::from_slice::<ApiError>(&bytes) {
            Ok(e) => format!(
                "{} {}: {}",
                status.as_u16(),
                e.error.code.as_deref().unwrap_or(&e.error.type_),
                e.error.message.as_deref().unwrap_or("no message")
            ),
            Err(_) => format!("{} without an error body", status.as_u16()),
        };
        let retry = status.is_server_error() || matches!(status.as_u16(), 401 | 403 | 409 | 429);
        Err(if retry { ProviderError::Unavailable(why) } else { ProviderError::Refused(why) })
    }
}

#[async_trait]
impl PaymentProvider for StripeClient {
    async fn create_intent(&self, payment: &Payment, key: &str) -> Result<ProviderIntent, ProviderError> {
        let request = CreatePaymentIntent {
            amount: payment.amount,
            booking_id: payment.booking_id.to_string(),
            payment_id: payment.id.to_string(),
            methods: PaymentMethods::Card,
            confirm: false,
        };
        let body = request.form_encode().map_err(|e| ProviderError::Refused(e.to_string()))?;
        let intent: PaymentIntent = self.post("/v1/payment_intents", body, key).await?;
        Ok(ProviderIntent { id: intent.id, client_secret: intent.client_secret })
    }

    async fn refund(&self, payment: &Payment, refund: &Refund, key: &str) -> Result<String, ProviderError> {
        let Some(intent) = &payment.provider_id else {
            return Err(ProviderError::Refused("the payment has no provider payment to refund".into()));
        };
        let request = CreateRefund {
            payment_intent: intent.clone(),
            amount: refund.amount,
            refund_id: refund.id.to_string(),
            payment_id: payment.id.to_string(),
        };
        let body = request.form_encode().map_err(|e| ProviderError::Refused(e.to_string()))?;
        let made: StripeRefund = self.post("/v1/refunds", body, key).await?;
        Ok(made.id)
    }

    fn event(&self, signature: &str, body: &[u8], now: Timestamp) -> Result<ProviderEvent, WebhookError> {
        verify_signature(body, signature, &self.config.webhook_secret, self.config.tolerance, now.as_second())
            .map_err(|e| WebhookError::Signature(e.to_string()))?;
        read_event(body)
    }
}

/// The event types Innkeep acts on: the webhook endpoint needs only these as its
/// `enabled_events` (others are answered 200 and change nothing).
pub const ENABLED_EVENTS: [&str; 4] = [
    "payment_intent.processing",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
];

/// Read a (signature-checked) event into what it says about a payment.
pub fn read_event(body: &[u8]) -> Result<ProviderEvent, WebhookError> {
    let event: Event = serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    let object = event.object().map_err(|e| WebhookError::Malformed(e.to_string()))?;
    let (intent_id, payment_id, kind) = match object {
        EventObject::PaymentIntent(pi) => {
            let kind = match event.type_.as_str() {
                "payment_intent.processing" => ProviderEventKind::Processing,
                "payment_intent.succeeded" => {
                    let currency = Currency::parse(&pi.currency.to_ascii_uppercase())
                        .map_err(|e| WebhookError::Malformed(e.to_string()))?;
                    let received = from_stripe_amount(pi.amount_received, currency.code())
                        .map_err(|e| WebhookError::Malformed(e.to_string()))?;
                    ProviderEventKind::Succeeded { received }
                }
                "payment_intent.payment_failed" => ProviderEventKind::Failed {
                    reason: pi
                        .last_payment_error
                        .as_ref()
                        .map(|e| e.message.clone().or(e.code.clone()).unwrap_or_else(|| e.type_.clone()))
                        .unwrap_or_else(|| "the payment failed".into()),
                },
                "payment_intent.canceled" => ProviderEventKind::Canceled,
                _ => ProviderEventKind::Other,
            };
            let payment_id = pi.metadata.get("payment_id").and_then(|id| id.parse().ok());
            (Some(pi.id), payment_id, kind)
        }
        _ => (None, None, ProviderEventKind::Other),
    };
    Ok(ProviderEvent { id: event.id, type_name: event.type_, kind, intent_id, payment_id })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_succeeded_intent_event_reads_as_captured_money() {
        let body = serde_json::json!({
            "id": "evt_1", "object": "event", "type": "payment_intent.succeeded", "created": 1,
            "data": {"object": {"id": "pi_1", "object": "payment_intent", "amount": 1200, "amount_received": 1200,
                "currency": "eur", "status": "succeeded",
                "metadata": {"payment_id": "0190f3a2-7c1e-7d3a-9f00-aaaaaaaaaaaa"}}}
        });
        let e = read_event(body.to_string().as_bytes()).unwrap();
        assert_eq!(e.intent_id.as_deref(), Some("pi_1"));
        assert!(e.payment_id.is_some());
        match e.kind {
            ProviderEventKind::Succeeded { received } => {
                assert_eq!((received.minor, received.currency.code()), (1200, "EUR"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn other_objects_are_recorded_not_acted_on() {
        let body = br#"{"id":"evt_2","object":"event","type":"charge.refunded","created":1,"data":{"object":{"id":"ch_1","object":"charge"}}}"#;
        assert_eq!(read_event(body).unwrap().kind, ProviderEventKind::Other);
        assert!(matches!(read_event(b"{"), Err(WebhookError::Malformed(_))));
    }
}
