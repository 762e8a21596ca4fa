//! Innkeep's outgoing messages. The notifications consumer turns outbox events into
//! rendered messages in the delivery log (`template`, `ics`; the account e-mails in
//! `account_mail`); the dispatcher sends what is due through the channels' senders
//! (`email`, `sms`, `webhook`, `slack`, `pagerduty`) and records each outcome; the alert
//! evaluator raises operator alerts from the node's own metrics.

pub mod account_mail;
pub mod alert;
pub mod consumer;
pub mod dispatch;
pub mod email;
pub use innkeep_core::format;
pub mod ics;
pub mod pagerduty;
pub mod sender;
pub mod slack;
pub mod sms;
pub mod template;
pub mod webhook;
