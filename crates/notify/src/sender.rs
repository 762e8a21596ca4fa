//! The senders of every channel behind one `send`, and the one error they answer: worth a
//! retry, or refused for good.

use crate::email::EmailSender;
use crate::pagerduty::PagerDutySender;
use crate::slack::SlackSender;
use crate::sms::SmsSender;
use crate::webhook::WebhookSender;
use innkeep_app::notify::{Channel, Delivery, Webhook};
use jiff::Timestamp;

/// Why a message was not delivered. The text is stored as the delivery's last error: it
/// never holds a recipient's address or a URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth another attempt later (unreachable, timeout, 5xx, 429, SMTP 4xx, connection closed).
    #[error("{0}")]
    Retry(String),
    /// Will fail the same way again (4xx other than 408/429, SMTP 5xx, a refused URL, the channel not configured).
    #[error("{0}")]
    Refused(String),
}

/// The node's senders, one per channel; a channel without one is not configured.
pub struct Senders {
    /// SMTP e-mail to guests and hosts.
    pub email: Option<EmailSender>,
    /// SMS through the gateway.
    pub sms: Option<SmsSender>,
    /// Operator alerts to a Slack incoming webhook.
    pub slack: Option<SlackSender>,
    /// Operator alerts to PagerDuty.
    pub pagerduty: Option<PagerDutySender>,
    /// Signed posts to integrators' webhooks (always available).
    pub webhooks: WebhookSender,
}

impl Senders {
    /// Send one message by its channel; `webhook` is the subscription of a webhook delivery (its URL and secret; None if it was deleted -> Refused).
    pub async fn send(&self, delivery: &Delivery, webhook: Option<&Webhook>, now: Timestamp) -> Result<(), SendError> {
        match delivery.channel {
            Channel::Email => configured(&self.email, Channel::Email)?.send(delivery).await,
            Channel::Sms => configured(&self.sms, Channel::Sms)?.send(delivery).await,
            Channel::Slack => configured(&self.slack, Channel::Slack)?.send(delivery).await,
            Channel::PagerDuty => configured(&self.pagerduty, Channel::PagerDuty)?.send(delivery).await,
            Channel::Webhook => match webhook {
                Some(w) => self.webhooks.send(delivery, w, now).await,
                None => Err(SendError::Refused("the webhook was deleted".to_string())),
            },
        }
    }
}

fn configured<T>(sender: &Option<T>, channel: Channel) -> Result<&T, SendError> {
    sender.as_ref().ok_or_else(|| SendError::Refused(format!("{} is not configured", channel.as_str())))
}

/// The most characters of a receiver's own words kept in an error.
pub(crate) const MAX_DETAIL_CHARS: usize = 200;

/// A receiver's words fit for the delivery log: the recipient's address replaced, cut to
/// `MAX_DETAIL_CHARS`, on one line.
pub(crate) fn detail(text: &str, recipient: &str) -> String {
    let text = if recipient.is_empty() { text.to_string() } else { text.replace(recipient, "<recipient>") };
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cut: String = one_line.chars().take(MAX_DETAIL_CHARS).collect();
    if cut.len() < one_line.len() {
        cut.push('…');
    }
    cut
}

/// The outcome of an HTTP request that got no response: every such failure (refused or
/// closed connection, timeout) is worth a retry, except a request that could not be built.
pub(crate) fn http_failure(what: &str, error: reqwest::Error) -> SendError {
    let builder = error.is_builder();
    let message = format!("{what}: {}", error_chain(&error.without_url()));
    if builder { SendError::Refused(message) } else { SendError::Retry(message) }
}

/// An error and its sources, `a: b: c`, skipping a source that repeats its parent.
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let part = inner.to_string();
        if !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = inner.source();
    }
    text
}

/// The outcome of an HTTP status that is not the receiver's success: 408, 429 and 5xx are
/// worth a retry, a redirect or any other status is refused. `body` is the receiver's
/// answer (cut by `detail`).
pub(crate) fn http_status(what: &str, status: reqwest::StatusCode, body: &str) -> SendError {
    let mut message = format!("{what} answered {}", status.as_u16());
    if !body.trim().is_empty() {
        message.push_str(": ");
        message.push_str(body);
    }
    if status.is_redirection() {
        SendError::Refused(format!("{what} answered {}: redirects are not followed", status.as_u16()))
    } else if status == reqwest::StatusCode::REQUEST_TIMEOUT
        || status == reqwest::StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
    {
        SendError::Retry(message)
    } else {
        SendError::Refused(message)
    }
}

/// The first bytes of a response's body as text (a hostile receiver cannot make the sender
/// read more); empty if reading fails.
pub(crate) async fn body_start(mut response: reqwest::Response) -> String {
    const LIMIT: usize = 4096;
    let mut bytes = Vec::new();
    while bytes.len() < LIMIT {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    bytes.truncate(LIMIT);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// An HTTP client for a sender: the timeout over the whole exchange, no redirects
/// followed, no proxy taken from the environment.
pub(crate) fn http_client(timeout: std::time::Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent("Innkeep/1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detail_hides_the_recipient_and_keeps_two_hundred_characters() {
        let text = format!("The 'To' number +15005550001 is not valid.{}", "x".repeat(500));
        let cut = detail(&text, "+15005550001");
        assert!(!cut.contains("+15005550001"));
        assert!(cut.starts_with("The 'To' number <recipient> is not valid."));
        assert_eq!(cut.chars().count(), MAX_DETAIL_CHARS + 1);
    }

    #[test]
    fn statuses_worth_a_retry_are_408_429_and_5xx() {
        for code in [408, 429, 500, 502, 503] {
            let status = reqwest::StatusCode::from_u16(code).unwrap_or_default();
            assert!(matches!(http_status("x", status, ""), SendError::Retry(_)), "{code}");
        }
        for code in [301, 302, 400, 401, 403, 404, 410, 422] {
            let status = reqwest::StatusCode::from_u16(code).unwrap_or_default();
            assert!(matches!(http_status("x", status, ""), SendError::Refused(_)), "{code}");
        }
    }
}
