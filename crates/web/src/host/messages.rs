//! The host's messages: its tenant's delivery log (e-mails, SMS and webhooks sent about its
//! bookings), newest first, a page at a time, filtered by status.

use super::*;
use innkeep_app::notify::{Delivery, DeliveryFilter, DeliveryStatus, deliveries};
use uuid::Uuid;

/// Messages per page.
const PER_PAGE: usize = 50;
/// Characters of a last error shown in the list (the whole error is in its title).
const ERROR_CHARS: usize = 120;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MessagesQuery {
    status: String,
    before: String,
}

/// One message as a row of a delivery table (the host's list and the operator's panel).
pub(crate) struct MessageRow {
    pub when: String,
    pub channel: &'static str,
    pub recipient: String,
    pub template: String,
    pub subject: String,
    pub status: &'static str,
    /// The `.state` tone of the status: parked stands out as `down`.
    pub tone: &'static str,
    pub attempts: u32,
    pub error: String,
    pub error_full: String,
}

impl MessageRow {
    pub(crate) fn of(d: &Delivery) -> MessageRow {
        let error_full = d.last_error.clone().unwrap_or_default();
        MessageRow {
            when: d.created_at.to_zoned_datetime(jiff::tz::TimeZone::UTC).strftime("%a %-d %b %Y %H:%M").to_string(),
            channel: d.channel.as_str(),
            recipient: d.recipient.clone(),
            template: d.template.clone(),
            subject: d.content.subject.clone(),
            status: d.status.as_str(),
            tone: tone(d.status),
            attempts: d.attempts,
            error: truncated(&error_full, ERROR_CHARS),
            error_full,
        }
    }
}

/// The `.state` class a status is shown with.
pub(crate) fn tone(s: DeliveryStatus) -> &'static str {
    match s {
        DeliveryStatus::Sent => "ok",
        DeliveryStatus::Pending => "warn",
        DeliveryStatus::Parked => "down",
        DeliveryStatus::Cancelled => "off",
    }
}

/// At most `n` characters of `s`, with an ellipsis when cut.
pub(crate) fn truncated(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_string(),
    }
}

#[derive(Template)]
#[template(path = "host_messages.html")]
struct MessagesPage {
    ctx: Ctx,
    /// (status, selected)
    statuses: Vec<(&'static str, bool)>,
    rows: Vec<MessageRow>,
    /// The link to the next page of older messages ("" on the last page).
    older: String,
    /// On a later page, the link back to the newest messages ("" on the first page).
    newest: String,
}

/// GET /host/messages
pub async fn messages(State(s): State<AppState>, v: Visitor, Query(q): Query<MessagesQuery>) -> PageResult {
    let a = host(&v)?;
    let bad = |m: &str| PageError::Message(StatusCode::BAD_REQUEST, m.to_string());
    let status = match q.status.as_str() {
        "" | "all" => None,
        st => Some(DeliveryStatus::parse(st).ok_or_else(|| bad(crate::i18n::t("Not a message status.")))?),
    };
    let before = match q.before.as_str() {
        "" => None,
        b => Some(b.parse::<Uuid>().map_err(|_| bad(crate::i18n::t("Not a page of messages.")))?),
    };
    // One more than a page, to know whether there is an older page.
    let filter = DeliveryFilter { status, before, limit: PER_PAGE as u32 + 1, ..DeliveryFilter::default() };
    let mut list = deliveries(&s.ports, &a, filter).await?;
    let more = list.len() > PER_PAGE;
    list.truncate(PER_PAGE);
    let st = status.map(|st| format!("status={}", st.as_str())).unwrap_or_default();
    let older = match list.last() {
        Some(last) if more && st.is_empty() => format!("/host/messages?before={}", last.id),
        Some(last) if more => format!("/host/messages?{st}&before={}", last.id),
        _ => String::new(),
    };
    let newest = match (before, st.is_empty()) {
        (None, _) => String::new(),
        (Some(_), true) => "/host/messages".to_string(),
        (Some(_), false) => format!("/host/messages?{st}"),
    };
    let statuses = DeliveryStatus::ALL.iter().map(|st| (st.as_str(), Some(*st) == status)).collect();
    Ok(render(&MessagesPage {
        ctx: v.ctx("Messages"),
        statuses,
        rows: list.iter().map(MessageRow::of).collect(),
        older,
        newest,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_error_is_cut_on_a_character() {
        assert_eq!(truncated("short", 10), "short");
        assert_eq!(truncated("ééééé", 3), "ééé…");
        assert_eq!(truncated("exactly", 7), "exactly");
    }
}
