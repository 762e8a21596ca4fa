//! Stripe: the webhook signature check, the objects Innkeep reads, and request bodies.
//!
//! Nothing here talks to Stripe. The caller sends and receives the bytes, passes the clock
//! reading into [`verify_signature`], and sends an `Idempotency-Key` header (the payment's
//! id) with every create request, so that a retried request never charges twice.
//!
//! Amounts: Stripe writes amounts as integers in the currency's smallest unit, which is
//! Innkeep's minor unit except for ISK (Stripe counts hundredths of a króna) and the
//! three-decimal currencies (Stripe refuses a last digit other than 0). Convert with
//! [`to_stripe_amount`] and [`from_stripe_amount`], never by hand.

mod amount;
mod objects;
mod payment_intent_request;
mod signature;

pub use amount::{AmountError, from_stripe_amount, to_stripe_amount};
pub use objects::{
    ApiError, ErrorDetails, Event, EventData, EventObject, PaymentIntent, PaymentIntentStatus, Refund, RefundStatus,
};
pub use payment_intent_request::{CreatePaymentIntent, CreateRefund, PaymentMethods};
pub use signature::{SignatureError, verify_signature};
