//! The e-mail sender: a delivery as a MIME message over SMTP.

use crate::sender::{SendError, detail, error_chain};
use innkeep_app::notify::{Attachment, Delivery};
use lettre::message::header::{ContentType, HeaderName, HeaderValue, MessageId};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// How to reach the SMTP server and what every message says of its sender.
#[derive(Debug, Clone)]
pub struct EmailOptions {
    /// `smtp://host:port` (plain), `smtps://host:465` (TLS), `smtp://host:587?tls=required`
    /// (STARTTLS); credentials as `smtp://user:password@host`.
    pub smtp_url: String,
    /// The `From` mailbox, `Innkeep <bookings@example.com>` or a bare address.
    pub from: String,
    /// How long one SMTP exchange (connect, each command) may take.
    pub timeout: Duration,
    /// Where a recipient stops non-transactional messages (`List-Unsubscribe`).
    pub unsubscribe_url: String,
}

/// Where e-mails go.
enum Transport {
    /// One SMTP server, its connections pooled.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// `.eml` files in a directory.
    Files(lettre::AsyncFileTransport<Tokio1Executor>),
}

/// Sends e-mail deliveries through one SMTP server (or into files).
pub struct EmailSender {
    transport: Transport,
    from: Mailbox,
    /// The domain of `from`, the right side of every `Message-ID`.
    domain: String,
    unsubscribe_url: String,
}

impl EmailSender {
    /// A sender for `options`; an SMTP URL or `from` that does not parse is refused here,
    /// at start-up, not on the first message. Call it inside the Tokio runtime: the
    /// connection pool starts a task there.
    pub fn new(options: &EmailOptions) -> Result<EmailSender, String> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err("the e-mail sender must be made inside the Tokio runtime".to_string());
        }
        let from: Mailbox =
            options.from.parse().map_err(|e| format!("the e-mail sender (from) does not parse: {e}"))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&options.smtp_url)
            .map_err(|e| format!("the SMTP URL does not parse: {}", error_chain(&e)))?
            .timeout(Some(options.timeout))
            .build();
        let domain = from.email.domain().to_string();
        Ok(EmailSender {
            transport: Transport::Smtp(transport),
            from,
            domain,
            unsubscribe_url: options.unsubscribe_url.clone(),
        })
    }

    /// A sender that writes each e-mail as `{dir}/{message id}.eml` instead of sending it
    /// (the embedded default: no SMTP server to install); `options.smtp_url` is unused.
    pub fn to_files(dir: &std::path::Path, options: &EmailOptions) -> Result<EmailSender, String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("the mail directory {} cannot be made: {e}", dir.display()))?;
        let from: Mailbox =
            options.from.parse().map_err(|e| format!("the e-mail sender (from) does not parse: {e}"))?;
        let domain = from.email.domain().to_string();
        let transport = Transport::Files(lettre::AsyncFileTransport::<Tokio1Executor>::new(dir));
        Ok(EmailSender { transport, from, domain, unsubscribe_url: options.unsubscribe_url.clone() })
    }

    /// Send one e-mail delivery; its `Message-ID` is made from the delivery's id, so every
    /// attempt carries the same one.
    pub async fn send(&self, d: &Delivery) -> Result<(), SendError> {
        let message = self.message(d)?;
        match &self.transport {
            Transport::Smtp(t) => t.send(message).await.map(|_| ()).map_err(|e| smtp_failure(&e, &d.recipient)),
            // A full or read-only disk may clear up: try again later.
            Transport::Files(t) => {
                t.send(message).await.map(|_| ()).map_err(|e| SendError::Retry(format!("mail file: {e}")))
            }
        }
    }

    /// The MIME message of a delivery.
    fn message(&self, d: &Delivery) -> Result<Message, SendError> {
        let to: Mailbox = d
            .recipient
            .parse()
            .map_err(|_| SendError::Refused("the recipient is not an e-mail address".to_string()))?;
        let content = &d.content;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(content.subject.clone())
            .header(MessageId::from(format!("<{}@{}>", d.id, self.domain)))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".to_string(),
            ));
        if let Some(url) = &content.unsubscribe_url {
            // The recipient's own link: one POST to it unsubscribes (RFC 8058).
            builder = builder
                .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("List-Unsubscribe"), format!("<{url}>")))
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                    "List-Unsubscribe=One-Click".to_string(),
                ));
        } else if !content.transactional {
            builder = builder.raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{}>", self.unsubscribe_url),
            ));
        }
        let text = SinglePart::plain(content.text.clone());
        let built = match (&content.html, content.attachments.is_empty()) {
            (None, true) => builder.singlepart(text),
            (Some(html), true) => {
                builder.multipart(MultiPart::alternative_plain_html(content.text.clone(), html.clone()))
            }
            (html, false) => {
                let mut mixed = match html {
                    Some(html) => MultiPart::mixed()
                        .multipart(MultiPart::alternative_plain_html(content.text.clone(), html.clone())),
                    None => MultiPart::mixed().singlepart(text),
                };
                for attachment in &content.attachments {
                    mixed = mixed.singlepart(attachment_part(attachment));
                }
                builder.multipart(mixed)
            }
        };
        built.map_err(|e| {
            SendError::Refused(format!("the message cannot be built: {}", detail(&e.to_string(), &d.recipient)))
        })
    }
}

/// A file as a MIME part: an `.ics` as a calendar others can add, anything else by its
/// declared type.
fn attachment_part(attachment: &Attachment) -> SinglePart {
    let is_calendar = attachment.filename.to_ascii_lowercase().ends_with(".ics")
        || attachment.content_type.to_ascii_lowercase().starts_with("text/calendar");
    let content_type = if is_calendar {
        ContentType::parse("text/calendar; charset=UTF-8; method=PUBLISH")
    } else {
        ContentType::parse(&attachment.content_type)
    };
    let content_type =
        content_type.or_else(|_| ContentType::parse("application/octet-stream")).unwrap_or(ContentType::TEXT_PLAIN);
    lettre::message::Attachment::new(attachment.filename.clone()).body(attachment.body.clone(), content_type)
}

/// What an SMTP failure means for the message: the server's 5xx refuses it for good; its
/// 4xx, a timeout, a lost connection or an unreadable answer are worth a retry.
fn smtp_failure(error: &lettre::transport::smtp::Error, recipient: &str) -> SendError {
    let words = detail(&error_chain(error), recipient);
    if error.is_permanent() {
        SendError::Refused(format!("smtp: {words}"))
    } else if error.is_client() {
        // The client could not speak to this server (no common authentication, say):
        // a configuration to fix, not a message to try again.
        SendError::Refused(format!("smtp: {words}"))
    } else {
        SendError::Retry(format!("smtp: {words}"))
    }
}
