//! The Stripe objects Innkeep reads, with only the fields it uses; every other field is
//! ignored, so new fields in Stripe's API change nothing here.
//!
//! Amounts are Stripe's integers; turn them into money with
//! [`from_stripe_amount`](super::from_stripe_amount). Fields Stripe can expand into whole
//! objects (`latest_charge`, `payment_intent`) are read as the id either way.

use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;

/// A PaymentIntent: one attempt to collect one payment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PaymentIntent {
    /// `pi_...`
    pub id: String,
    /// Always `payment_intent`.
    pub object: String,
    /// What is to be collected, in Stripe's unit of `currency`.
    pub amount: i64,
    /// What has been collected so far.
    pub amount_received: i64,
    /// Lowercase ISO 4217 code (`usd`).
    pub currency: String,
    pub status: PaymentIntentStatus,
    /// What Innkeep stored at creation (`booking_id`, `payment_id`).
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// The id of the latest charge (`ch_...`), once there is one.
    #[serde(default, deserialize_with = "id_or_object")]
    pub latest_charge: Option<String>,
    /// For the browser to confirm the payment; never log it.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Why the last attempt failed, when it did.
    #[serde(default)]
    pub last_payment_error: Option<ErrorDetails>,
}

/// Where a PaymentIntent is, as Stripe says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentIntentStatus {
    RequiresPaymentMethod,
    RequiresConfirmation,
    RequiresAction,
    Processing,
    RequiresCapture,
    Canceled,
    Succeeded,
    /// A status newer than this code; treat as "not final, ask again".
    #[serde(other)]
    Unknown,
}

/// A refund of (part of) a payment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Refund {
    /// `re_...`
    pub id: String,
    pub amount: i64,
    pub currency: String,
    /// Stripe documents the status as nullable.
    #[serde(default)]
    pub status: Option<RefundStatus>,
    /// The refunded PaymentIntent's id, when the refund belongs to one.
    #[serde(default, deserialize_with = "id_or_object")]
    pub payment_intent: Option<String>,
}

/// Where a refund is, as Stripe says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    Pending,
    RequiresAction,
    Succeeded,
    Failed,
    Canceled,
    /// A status newer than this code.
    #[serde(other)]
    Unknown,
}

/// A webhook event. Check its signature first ([`verify_signature`](super::verify_signature)).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Event {
    /// `evt_...`; Stripe may deliver an event more than once, so handle it idempotently by id.
    pub id: String,
    /// `payment_intent.succeeded`, `charge.refunded`, ...
    #[serde(rename = "type")]
    pub type_: String,
    /// Unix seconds.
    pub created: i64,
    pub data: EventData,
}

/// The object an event is about.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct EventData {
    /// As Stripe sent it; decode with [`Event::object`].
    pub object: serde_json::Value,
}

/// An event's object, decoded when it is one Innkeep reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventObject {
    PaymentIntent(PaymentIntent),
    Refund(Refund),
    /// Any other kind, named by its `object` field (`charge`, `plan`, ...).
    Other(String),
}

impl Event {
    /// Decode `data.object` by its `object` field.
    pub fn object(&self) -> Result<EventObject, serde_json::Error> {
        let object = &self.data.object;
        Ok(match object.get("object").and_then(serde_json::Value::as_str) {
            Some("payment_intent") => EventObject::PaymentIntent(PaymentIntent::deserialize(object)?),
            Some("refund") => EventObject::Refund(Refund::deserialize(object)?),
            other => EventObject::Other(other.unwrap_or_default().to_string()),
        })
    }
}

/// The body of a Stripe error response: `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ApiError {
    pub error: ErrorDetails,
}

/// What went wrong, in an error response or a PaymentIntent's `last_payment_error`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ErrorDetails {
    /// `card_error`, `invalid_request_error`, `idempotency_error`, `api_error`, ...
    #[serde(rename = "type")]
    pub type_: String,
    /// A short machine-readable code (`card_declined`), when given.
    #[serde(default)]
    pub code: Option<String>,
    /// For people; for a `card_error`, fit to show the guest.
    #[serde(default)]
    pub message: Option<String>,
    /// The request parameter at fault, when there is one.
    #[serde(default)]
    pub param: Option<String>,
}

/// An expandable field: the id as a string, or the expanded object whose `id` is taken.
fn id_or_object<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum IdOrObject {
        Id(String),
        Object { id: String },
    }
    Ok(Option::<IdOrObject>::deserialize(deserializer)?.map(|v| match v {
        IdOrObject::Id(id) | IdOrObject::Object { id } => id,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expanded_fields_are_read_as_ids() {
        let pi: PaymentIntent = serde_json::from_str(
            r#"{"id":"pi_1","object":"payment_intent","amount":1,"amount_received":1,"currency":"eur",
                "status":"succeeded","latest_charge":{"id":"ch_1","object":"charge","amount":1}}"#,
        )
        .unwrap();
        assert_eq!(pi.latest_charge.as_deref(), Some("ch_1"));
        assert!(pi.metadata.is_empty());
        let refund: Refund =
            serde_json::from_str(r#"{"id":"re_1","amount":1,"currency":"eur","status":null,"payment_intent":"pi_1"}"#)
                .unwrap();
        assert_eq!((refund.payment_intent.as_deref(), refund.status), (Some("pi_1"), None));
    }

    #[test]
    fn new_statuses_are_unknown_not_errors() {
        let refund: Refund =
            serde_json::from_str(r#"{"id":"re_1","amount":1,"currency":"eur","status":"teleported"}"#).unwrap();
        assert_eq!(refund.status, Some(RefundStatus::Unknown));
    }

    #[test]
    fn an_api_error_body_is_read() {
        let body = r#"{"error":{"type":"card_error","code":"card_declined","decline_code":"generic_decline",
                       "message":"Your card was declined.","param":null,"doc_url":"https://stripe.com/docs/error-codes"}}"#;
        let err: ApiError = serde_json::from_str(body).unwrap();
        assert_eq!(err.error.type_, "card_error");
        assert_eq!(err.error.code.as_deref(), Some("card_declined"));
        assert_eq!(err.error.message.as_deref(), Some("Your card was declined."));
        assert_eq!(err.error.param, None);
    }

    #[test]
    fn an_event_about_a_payment_intent_decodes_it() {
        let event: Event = serde_json::from_str(
            r#"{"id":"evt_1","object":"event","type":"payment_intent.succeeded","created":1700000000,"livemode":false,
                "data":{"object":{"id":"pi_1","object":"payment_intent","amount":12050,"amount_received":12050,
                "currency":"eur","status":"succeeded","metadata":{"booking_id":"b1","payment_id":"p1"}}}}"#,
        )
        .unwrap();
        let EventObject::PaymentIntent(pi) = event.object().unwrap() else { panic!("not a payment intent") };
        assert_eq!(pi.status, PaymentIntentStatus::Succeeded);
        assert_eq!(pi.metadata.get("booking_id").map(String::as_str), Some("b1"));
    }
}
