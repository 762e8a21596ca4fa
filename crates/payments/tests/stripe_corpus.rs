//! Stripe's own fixtures and signature cases (tests/corpus/stripe, from the shared corpus).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::corpus_file;
use innkeep_payments::stripe::{
    self, Event, EventObject, PaymentIntent, PaymentIntentStatus, Refund, RefundStatus, SignatureError,
};
use serde::Deserialize;
use std::time::Duration;

#[derive(Deserialize)]
struct Vectors {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    payload: String,
    secret: String,
    header: String,
    now: i64,
    tolerance_s: Option<u64>,
    expected: Expected,
}

#[derive(Deserialize)]
struct Expected {
    valid: bool,
    error: Option<String>,
}

/// stripe-python's message for each error kind; the tolerance one ends in the timestamp.
fn stripe_message_matches(error: SignatureError, message: &str) -> bool {
    match error {
        SignatureError::TimestampOutsideTolerance => message.starts_with(&error.to_string()),
        _ => message == error.to_string(),
    }
}

#[test]
fn every_signature_vector_gets_stripes_verdict() {
    let vectors: Vectors = serde_json::from_slice(&corpus_file("stripe/webhook-signature-vectors.json")).unwrap();
    assert_eq!(vectors.cases.len(), 12);
    let mut kinds_seen = Vec::new();
    for case in &vectors.cases {
        // `null` is "no tolerance" in stripe-python; our API has no off switch, only a huge one.
        let tolerance = case.tolerance_s.map_or(Duration::MAX, Duration::from_secs);
        let result = stripe::verify_signature(case.payload.as_bytes(), &case.header, &case.secret, tolerance, case.now);
        match (&result, case.expected.valid) {
            (Ok(t), true) => {
                assert_eq!(case.header.strip_prefix("t=").unwrap().split(',').next(), Some(&*t.to_string()))
            }
            (Err(e), false) => {
                let message = case.expected.error.as_deref().unwrap();
                assert!(stripe_message_matches(*e, message), "{}: got {e:?}, Stripe says {message:?}", case.name);
                kinds_seen.push(*e);
            }
            _ => panic!("{}: got {result:?}, Stripe says valid = {}", case.name, case.expected.valid),
        }
    }
    for kind in [
        SignatureError::MalformedHeader,
        SignatureError::NoV1Signature,
        SignatureError::NoMatchingSignature,
        SignatureError::TimestampOutsideTolerance,
    ] {
        assert!(kinds_seen.contains(&kind), "no vector exercised {kind:?}");
    }
}

#[test]
fn payment_intent_fixtures_of_2025_and_2022_parse() {
    let pi: PaymentIntent =
        serde_json::from_slice(&corpus_file("stripe/payment_intent.fixtures3-2025-11.json")).unwrap();
    assert_eq!(pi.id, "pi_1PgafyB7WZ01zgkWSjxsAJo3");
    assert_eq!(pi.object, "payment_intent");
    assert_eq!((pi.amount, pi.amount_received, pi.currency.as_str()), (1099, 0, "usd"));
    assert_eq!(pi.status, PaymentIntentStatus::RequiresPaymentMethod);
    assert!(pi.metadata.is_empty());
    assert_eq!(pi.latest_charge, None);
    assert_eq!(pi.client_secret.as_deref(), Some("pi_1PgafyB7WZ01zgkWSjxsAJo3_secret_Dm43xiq1k0ywrRRjDoi8y1gkM"));
    // The fixture's error has only a type.
    let error = pi.last_payment_error.unwrap();
    assert_eq!((error.type_.as_str(), error.code, error.message), ("idempotency_error", None, None));
    assert_eq!(stripe::from_stripe_amount(pi.amount, &pi.currency).unwrap().to_string(), "10.99 USD");

    // The 2022 shape: `charges` list instead of `latest_charge`, no payment error.
    let old: PaymentIntent =
        serde_json::from_slice(&corpus_file("stripe/payment_intent.fixtures3-2022-03.json")).unwrap();
    assert_eq!(old.id, "pi_1KgrhlEzs4zNlWI5DZ1RjhXa");
    assert_eq!((old.latest_charge, old.last_payment_error), (None, None));
}

#[test]
fn refund_fixture_parses() {
    let refund: Refund = serde_json::from_slice(&corpus_file("stripe/refund.fixtures3-2025-11.json")).unwrap();
    assert_eq!(refund.id, "re_1Pgc72B7WZ01zgkWqPvrRrPE");
    assert_eq!((refund.amount, refund.currency.as_str()), (100, "usd"));
    assert_eq!(refund.status, Some(RefundStatus::Succeeded));
    assert_eq!(refund.payment_intent, None);
}

#[test]
fn event_fixture_parses_and_its_plan_object_is_other() {
    let event: Event = serde_json::from_slice(&corpus_file("stripe/event.fixtures3-2025-11.json")).unwrap();
    assert_eq!(event.id, "evt_1Pgc76B7WZ01zgkWwyRHS12y");
    assert_eq!(event.type_, "plan.created");
    assert_eq!(event.created, 1234567890);
    assert_eq!(event.data.object["id"], "price_1PgafmB7WZ01zgkW6dKueIc5");
    assert_eq!(event.object().unwrap(), EventObject::Other("plan".into()));
}

#[test]
fn fixture_objects_wrapped_in_events_decode_as_their_kind() {
    for (file, kind) in
        [("payment_intent.fixtures3-2025-11.json", "payment_intent"), ("refund.fixtures3-2025-11.json", "refund")]
    {
        let object: serde_json::Value = serde_json::from_slice(&corpus_file(&format!("stripe/{file}"))).unwrap();
        let event: Event = serde_json::from_value(serde_json::json!({
            "id": "evt_x", "object": "event", "type": format!("{kind}.created"), "created": 1, "data": {"object": object}
        }))
        .unwrap();
        match (kind, event.object().unwrap()) {
            ("payment_intent", EventObject::PaymentIntent(pi)) => assert_eq!(pi.amount, 1099),
            ("refund", EventObject::Refund(refund)) => assert_eq!(refund.amount, 100),
            (_, other) => panic!("{file}: decoded as {other:?}"),
        }
    }
}
