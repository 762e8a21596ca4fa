//! The dispatcher: sends the messages of the delivery log that are due, and records how
//! each attempt went.
//!
//! Each node runs one. It leases a batch of due messages (no other node takes them while
//! the lease lasts), sends them side by side, and records each outcome: sent; due again
//! after an exponential backoff with jitter; or parked after its last attempt (or at once
//! when the receiver refused it for good). A node killed between sending and recording
//! leaves a lease that runs out: the message is sent again, once, under the same id.

use crate::sender::{SendError, Senders};
use innkeep_app::notify::{Channel, Delivery};
use innkeep_app::{Ports, StoreError};
use jiff::SignedDuration;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// How the dispatcher retries.
#[derive(Debug, Clone, Copy)]
pub struct DispatchOptions {
    /// Messages leased per round.
    pub batch: u32,
    /// How long a leased message is the node's own: longer than the slowest send.
    pub lease: Duration,
    /// Attempts before a message is parked.
    pub max_attempts: u32,
    /// The wait after the first failed attempt, doubling after each (with jitter).
    pub first_backoff: Duration,
    pub max_backoff: Duration,
    /// The longest sleep with nothing due (a message written by another node is seen
    /// at the latest then).
    pub idle_poll: Duration,
}

impl Default for DispatchOptions {
    fn default() -> Self {
        DispatchOptions {
            batch: 32,
            lease: Duration::from_secs(120),
            max_attempts: 8,
            first_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(3600),
            idle_poll: Duration::from_secs(5),
        }
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub sent: usize,
    pub retried: usize,
    pub parked: usize,
}

impl Round {
    /// How many messages the round took.
    pub fn taken(&self) -> usize {
        self.sent + self.retried + self.parked
    }
}

/// Sends the delivery log's due messages.
pub struct Dispatcher {
    pub ports: Ports,
    pub senders: Arc<Senders>,
    pub options: DispatchOptions,
}

impl Dispatcher {
    /// Lease, send and record one batch of due messages.
    pub async fn round(&self) -> Result<Round, StoreError> {
        let now = self.ports.clock.now();
        let lease = SignedDuration::try_from(self.options.lease).unwrap_or(SignedDuration::from_secs(120));
        let due = self.ports.store.claim_due(now, lease, self.options.batch.max(1)).await?;
        let mut tasks = tokio::task::JoinSet::new();
        for d in due {
            let senders = self.senders.clone();
            let ports = self.ports.clone();
            tasks.spawn(async move {
                let webhook = match d.webhook_id {
                    Some(id) => ports.store.webhook(id).await?,
                    None => None,
                };
                let outcome = senders.send(&d, webhook.as_ref(), ports.clock.now()).await;
                Ok::<_, StoreError>((d, outcome))
            });
        }
        let mut round = Round::default();
        let mut first_error = None;
        while let Some(joined) = tasks.join_next().await {
            let (d, outcome) = match joined {
                Ok(Ok(r)) => r,
                // The lease runs out and another round sends the message.
                Ok(Err(e)) => {
                    first_error.get_or_insert(e);
                    continue;
                }
                Err(e) => {
                    tracing::error!(error = %e, "a send task failed");
                    continue;
                }
            };
            match self.record(&d, outcome).await {
                Ok(Outcome::Sent) => round.sent += 1,
                Ok(Outcome::Retried) => round.retried += 1,
                Ok(Outcome::Parked) => round.parked += 1,
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(round),
        }
    }

    /// Run rounds until nothing is due (for tests and `innkeep notify send`); answers the
    /// total.
    pub async fn drain(&self) -> Result<Round, StoreError> {
        let mut total = Round::default();
        loop {
            let r = self.round().await?;
            if r.taken() == 0 {
                return Ok(total);
            }
            total.sent += r.sent;
            total.retried += r.retried;
            total.parked += r.parked;
        }
    }

    /// Send until `stop`: a round whenever a commit may have written a message, a pending
    /// one falls due, or `idle_poll` passes.
    pub async fn run(self, commits: Arc<Notify>, mut stop: watch::Receiver<bool>) {
        let mut failures = 0u32;
        loop {
            if *stop.borrow() {
                return;
            }
            let woken = commits.notified();
            let wait = match self.round().await {
                Ok(r) if r.taken() >= self.options.batch as usize => {
                    failures = 0;
                    continue;
                }
                Ok(_) => {
                    failures = 0;
                    self.until_next_due().await
                }
                Err(e) => {
                    failures += 1;
                    tracing::warn!(error = %e, failures, "notification round failed");
                    Duration::from_millis(200 * u64::from(failures.min(25)))
                }
            };
            tokio::select! {
                _ = woken => {}
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {}
            }
        }
    }

    async fn until_next_due(&self) -> Duration {
        let idle = self.options.idle_poll;
        match self.ports.store.next_due().await {
            Ok(Some(at)) => {
                let left = at.duration_since(self.ports.clock.now());
                Duration::try_from(left).unwrap_or(Duration::ZERO).min(idle)
            }
            _ => idle,
        }
    }

    async fn record(&self, d: &Delivery, outcome: Result<(), SendError>) -> Result<Outcome, StoreError> {
        let now = self.ports.clock.now();
        let channel = d.channel.as_str();
        match outcome {
            Ok(()) => {
                let keep = d.content.secret.then(|| d.content.without_secret());
                self.ports.store.record_sent(d.id, now, keep.as_ref()).await?;
                metrics::counter!("innkeep_notifications_total", "channel" => channel, "status" => "sent").increment(1);
                tracing::info!(message_id = %d.id, channel, template = %d.template, attempts = d.attempts, "message sent");
                Ok(Outcome::Sent)
            }
            Err(e) => {
                let last = d.attempts >= self.options.max_attempts || matches!(e, SendError::Refused(_));
                let retry_at = if last { None } else { Some(now + backoff(&self.options, d.attempts)) };
                self.ports.store.record_failure(d.id, &e.to_string(), retry_at).await?;
                if last {
                    metrics::counter!("innkeep_notifications_total", "channel" => channel, "status" => "failed")
                        .increment(1);
                    tracing::warn!(message_id = %d.id, channel, attempts = d.attempts, error = %e, "message parked");
                    Ok(Outcome::Parked)
                } else {
                    metrics::counter!("innkeep_notifications_total", "channel" => channel, "status" => "retried")
                        .increment(1);
                    tracing::info!(message_id = %d.id, channel, attempts = d.attempts, error = %e, "message to retry");
                    Ok(Outcome::Retried)
                }
            }
        }
    }
}

/// The wait after `attempts` failed attempts: `first_backoff` doubled per attempt, up to
/// `max_backoff`, then a random half to all of it (so that messages failing together do not
/// come back together).
fn backoff(options: &DispatchOptions, attempts: u32) -> SignedDuration {
    let base = options.first_backoff.as_secs_f64() * 2f64.powi(attempts.saturating_sub(1).min(30) as i32);
    let capped = base.min(options.max_backoff.as_secs_f64());
    let jittered = capped * rand::Rng::random_range(&mut rand::rng(), 0.5..=1.0);
    SignedDuration::try_from_secs_f64(jittered).unwrap_or(SignedDuration::from_secs(60))
}

enum Outcome {
    Sent,
    Retried,
    Parked,
}

/// Channels the delivery log's messages may go to on this node.
pub fn configured(senders: &Senders) -> Vec<Channel> {
    let mut out = vec![Channel::Webhook];
    if senders.email.is_some() {
        out.push(Channel::Email);
    }
    if senders.sms.is_some() {
        out.push(Channel::Sms);
    }
    if senders.slack.is_some() {
        out.push(Channel::Slack);
    }
    if senders.pagerduty.is_some() {
        out.push(Channel::PagerDuty);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_per_attempt_with_jitter_up_to_the_cap() {
        let o = DispatchOptions {
            first_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(60),
            ..DispatchOptions::default()
        };
        for (attempts, full) in [(1, 5.0), (2, 10.0), (3, 20.0), (4, 40.0), (5, 60.0), (40, 60.0)] {
            for _ in 0..50 {
                let w = backoff(&o, attempts).as_secs_f64();
                assert!((full * 0.5..=full).contains(&w), "attempt {attempts}: {w} s not in [{}, {full}]", full * 0.5);
            }
        }
        let spread: std::collections::HashSet<u64> = (0..50).map(|_| backoff(&o, 3).as_millis() as u64).collect();
        assert!(spread.len() > 10, "jitter spreads retries: {spread:?}");
    }
}
