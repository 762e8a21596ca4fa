//! The messages an alert transition writes to the delivery log, routed as
//! `deploy/prometheus/alertmanager.yml` routes Prometheus's alerts: every alert to Slack,
//! critical ones also to PagerDuty.

use super::{Action, Severity, Transition};
use innkeep_app::notify::{Channel, Content, NewMessage};
use jiff::Timestamp;
use uuid::Uuid;

/// The delivery log entries for one transition on `node`, for the channels the node has
/// (`slack`, `pagerduty`): Slack for every transition, PagerDuty (Events API v2, without
/// its routing key, which the sender adds) for critical rules only. PagerDuty's
/// `dedup_key` is `innkeep/<node>/<rule>` for the trigger and the resolve alike, so one
/// incident pages once and is resolved by the node.
pub fn messages(t: &Transition, node: &str, now: Timestamp, slack: bool, pagerduty: bool) -> Vec<NewMessage> {
    let runbook = format!("deploy/prometheus/README.md#{}", t.rule.to_lowercase());
    let (status, emoji) = match t.action {
        Action::Fired => ("FIRING", ":rotating_light:"),
        Action::Resolved => ("RESOLVED", ":white_check_mark:"),
    };
    let text = format!("[{status}] {} ({}) on {node}: {}\nRunbook: {runbook}", t.rule, t.severity.as_str(), t.summary);
    let mut out = Vec::new();
    if slack {
        let json = serde_json::json!({ "text": format!("{emoji} {text}") });
        out.push(message(t, node, now, Channel::Slack, text.clone(), json));
    }
    if pagerduty && t.severity == Severity::Critical {
        let action = match t.action {
            Action::Fired => "trigger",
            Action::Resolved => "resolve",
        };
        let incident = format!("innkeep/{node}/{}", t.rule);
        let summary = format!("{}: {}", t.rule, t.summary);
        let mut json = crate::pagerduty::event(action, &incident, &summary, node, t.severity.as_str());
        if let Some(payload) = json.get_mut("payload").and_then(serde_json::Value::as_object_mut) {
            payload.insert("component".into(), "innkeep".into());
            payload.insert("custom_details".into(), serde_json::json!({ "runbook": runbook, "value": t.value }));
        }
        out.push(message(t, node, now, Channel::PagerDuty, text, json));
    }
    out
}

fn message(
    t: &Transition,
    node: &str,
    now: Timestamp,
    channel: Channel,
    text: String,
    json: serde_json::Value,
) -> NewMessage {
    let action = match t.action {
        Action::Fired => "fired",
        Action::Resolved => "resolved",
    };
    NewMessage {
        id: Uuid::now_v7(),
        // The log's dedup keys are unique across channels, so the channel ends the key.
        dedup_key: format!("alert/{node}/{}/{action}/{}/{}", t.rule, now.as_second(), channel.as_str()),
        event_id: None,
        tenant_id: None,
        booking_id: None,
        webhook_id: None,
        template: format!("alert.{}", t.rule),
        channel,
        recipient: channel.as_str().to_string(),
        content: Content {
            subject: t.summary.clone(),
            text,
            json: Some(json),
            transactional: true,
            ..Content::default()
        },
        not_before: now,
        created_at: now,
    }
}
