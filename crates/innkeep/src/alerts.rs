//! The node's own alerting where no Prometheus runs: every `notify.alerts.interval_secs`
//! the built-in rules are evaluated over what `/metrics` answers, and each alert that fires
//! or resolves is written to the delivery log for Slack and PagerDuty (the dispatcher sends
//! it, with retries, like any message). When the database cannot take it (the database
//! may be what the alert is about) the alert is sent straight away instead, once, and kept
//! to be written later only if that fails too.

use crate::config::Config;
use innkeep_app::Ports;
use innkeep_app::notify::{Delivery, DeliveryStatus, NewMessage};
use innkeep_notify::alert::{Evaluator, messages};
use innkeep_notify::sender::Senders;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::watch;

/// Evaluate the rules until `stop`.
pub async fn run(
    config: Config,
    ports: Ports,
    senders: std::sync::Arc<Senders>,
    addr: SocketAddr,
    mut stop: watch::Receiver<bool>,
) {
    let node = node_name(&config, addr);
    let slack = !config.notify.slack_webhook_url.is_empty();
    let pagerduty = !config.notify.pagerduty.routing_key.is_empty();
    let mut evaluator = Evaluator::new(node.clone());
    evaluator.speedup = config.notify.alerts.speedup;
    let every = Duration::from_secs(config.notify.alerts.interval_secs.max(1));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Alerts not yet written (the store failed): kept in order and written first next time.
    let mut unwritten = Vec::new();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let now = ports.clock.now();
        let text = innkeep_http::telemetry::render(ports.store.as_ref());
        for t in evaluator.evaluate(now, &text) {
            tracing::warn!(alert = t.rule, action = ?t.action, value = t.value, "alert");
            unwritten.extend(messages(&t, &node, now, slack, pagerduty));
        }
        if unwritten.is_empty() {
            continue;
        }
        match ports.store.enqueue(&unwritten).await {
            Ok(_) => unwritten.clear(),
            Err(e) => {
                tracing::error!(error = %e, "alerts could not be written to the delivery log; sending them directly");
                let mut kept = Vec::new();
                for m in unwritten.drain(..) {
                    if let Err(e) = senders.send(&delivery(&m), None, now).await {
                        tracing::warn!(alert = %m.template, error = %e, "alert not sent; kept for the delivery log");
                        kept.push(m);
                    }
                }
                // Bounded: an outage long enough to fill it is itself the alert.
                let excess = kept.len().saturating_sub(MAX_UNWRITTEN);
                kept.drain(..excess);
                unwritten = kept;
            }
        }
    }
}

/// Alerts kept in memory while the store fails.
const MAX_UNWRITTEN: usize = 1000;

/// A message as the senders take it, for a send outside the delivery log.
fn delivery(m: &NewMessage) -> Delivery {
    Delivery {
        id: m.id,
        event_id: m.event_id,
        tenant_id: m.tenant_id,
        booking_id: m.booking_id,
        webhook_id: m.webhook_id,
        template: m.template.clone(),
        channel: m.channel,
        recipient: m.recipient.clone(),
        status: DeliveryStatus::Pending,
        attempts: 1,
        last_error: None,
        next_attempt_at: m.not_before,
        created_at: m.created_at,
        sent_at: None,
        content: m.content.clone(),
    }
}

/// How alerts name this node: `server.public_url`'s host and the port it listens on.
fn node_name(config: &Config, addr: SocketAddr) -> String {
    let host = config
        .server
        .public_url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split(['/', ':']).next())
        .filter(|h| !h.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| addr.ip().to_string());
    format!("{host}:{}", addr.port())
}
