//! Event streaming. Every state change is an outbox row written in the same transaction
//! as the change (see `innkeep-store`). From there:
//!
//! - durable consumers (`consumer.rs`) each keep their own position in the outbox, retry a
//!   failing event with backoff, park it as a dead letter after `max_attempts`, and are
//!   idempotent by event id (a handled event is recorded and never handled twice);
//! - the NATS JetStream relay (`nats.rs`) publishes every event, in outbox order, with the
//!   event id as the message id so JetStream drops the duplicates a crash-and-resume sends.
//!
//! Client events (`POST /api/v1/events`) go to the embedded log (`log.rs`) or to a
//! JetStream stream (`client_stream.rs`).
//!
//! Delivery is at least once and in order per aggregate (the outbox is totally ordered).

pub mod client_stream;
pub mod consumer;
pub mod log;
pub mod nats;

pub use consumer::{ConsumerOptions, EventCounter, replay_dead_letters, run_consumer, run_once};
pub use innkeep_app::event::Consumer;
