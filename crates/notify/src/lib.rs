//! Innkeep's outgoing messages. The notifications consumer turns outbox events into
//! rendered messages in the delivery log (`template`, `ics`); the dispatcher sends what is
//! due through the channels' senders (`email`, `sms`, `webhook`, `slack`, `pagerduty`) and
//! records each outcome; the alert evaluator raises operator alerts from the node's own
//! metrics.

pub mod format;
pub mod ics;
pub mod template;

pub mod alert;
pub mod consumer;
pub mod dispatch;
pub mod email;
pub mod pagerduty;
pub mod sender;
pub mod slack;
pub mod sms;
pub mod webhook;
