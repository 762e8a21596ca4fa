//! The senders against real servers on loopback: aiosmtpd for e-mail (skipped with a note
//! when python3 cannot import aiosmtpd and icalendar, unless INNKEEP_TEST_REQUIRE_SERVERS=1),
//! and HTTP receivers standing in for the SMS gateway, Slack, PagerDuty and a webhook
//! subscriber, answering well or failing in each way a receiver fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use innkeep_app::notify::{Attachment, Channel, Content, Delivery, DeliveryStatus, Webhook};
use innkeep_core::{EventId, TenantId};
use innkeep_notify::email::{EmailOptions, EmailSender};
use innkeep_notify::pagerduty::{PagerDutyOptions, PagerDutySender, event};
use innkeep_notify::sender::{SendError, Senders};
use innkeep_notify::slack::{SlackOptions, SlackSender};
use innkeep_notify::sms::{SmsOptions, SmsSender};
use innkeep_notify::webhook::{UrlRule, WebhookSender, verify};
use jiff::Timestamp;
use std::time::Duration;
use support::receiver::{self, Answer, Receiver};
use support::smtp::{self, SmtpServer};
use uuid::Uuid;

/// Long enough for a loaded CI machine on loopback, short enough for the slow receiver.
const TIMEOUT: Duration = Duration::from_millis(1500);
const SECRET: &str = "whsec_test";
const PHONE: &str = "+15005550009";

fn now() -> Timestamp {
    "2025-06-01T10:00:00Z".parse().unwrap()
}

fn delivery(channel: Channel, recipient: &str, content: Content) -> Delivery {
    Delivery {
        id: Uuid::now_v7(),
        event_id: Some(EventId(Uuid::now_v7())),
        tenant_id: Some(TenantId(Uuid::now_v7())),
        booking_id: None,
        webhook_id: None,
        template: "booking.confirmed".to_string(),
        channel,
        recipient: recipient.to_string(),
        status: DeliveryStatus::Pending,
        attempts: 1,
        last_error: None,
        next_attempt_at: now(),
        created_at: now(),
        sent_at: None,
        content,
    }
}

/// A message of `channel` as the consumer or the alert evaluator writes it.
fn message(channel: Channel) -> Delivery {
    match channel {
        Channel::Email => delivery(channel, "guest@example.com", text_email(true)),
        Channel::Sms => delivery(
            channel,
            PHONE,
            Content {
                subject: "Booking confirmed".into(),
                text: "Hotel Sol, 3-5 Jun: confirmed.".into(),
                ..Content::default()
            },
        ),
        Channel::Slack => delivery(
            channel,
            "#ops",
            Content {
                subject: "Disk almost full".into(),
                json: Some(serde_json::json!({ "text": "Disk almost full", "blocks": [] })),
                ..Content::default()
            },
        ),
        Channel::PagerDuty => delivery(
            channel,
            "pagerduty",
            Content {
                subject: "Outbox stuck".into(),
                json: Some(event("trigger", "alert/outbox", "Outbox stuck", "node-1", "critical")),
                ..Content::default()
            },
        ),
        Channel::Webhook => delivery(
            channel,
            "webhook",
            Content {
                subject: "booking.confirmed".into(),
                json: Some(serde_json::json!({ "type": "booking.confirmed", "data": { "nights": 2 } })),
                ..Content::default()
            },
        ),
    }
}

fn subscription(base: &str) -> Webhook {
    Webhook {
        id: Uuid::now_v7(),
        tenant_id: TenantId(Uuid::now_v7()),
        url: format!("{base}/hooks/innkeep"),
        events: Vec::new(),
        secret: SECRET.to_string(),
        created_at: now(),
    }
}

/// Senders of every HTTP channel pointed at `base` (webhooks may use loopback http).
fn http_senders(base: &str) -> Senders {
    Senders {
        email: None,
        sms: Some(
            SmsSender::new(&SmsOptions {
                base_url: base.to_string(),
                account_sid: "AC0123".to_string(),
                auth_token: "token-0123".to_string(),
                from: "+15005550006".to_string(),
                timeout: TIMEOUT,
            })
            .unwrap(),
        ),
        slack: Some(
            SlackSender::new(&SlackOptions { webhook_url: format!("{base}/services/T0/B0/XXXX"), timeout: TIMEOUT })
                .unwrap(),
        ),
        pagerduty: Some(
            PagerDutySender::new(&PagerDutyOptions {
                url: format!("{base}/v2/enqueue"),
                routing_key: "R0UTINGKEY".to_string(),
                timeout: TIMEOUT,
            })
            .unwrap(),
        ),
        webhooks: WebhookSender::new(UrlRule { allow_loopback_http: true }, TIMEOUT).unwrap(),
    }
}

const HTTP_CHANNELS: [Channel; 4] = [Channel::Sms, Channel::Slack, Channel::PagerDuty, Channel::Webhook];

/// Send one message of each HTTP channel to `base`, answering each outcome by channel.
async fn send_each(base: &str) -> Vec<(Channel, Result<(), SendError>)> {
    let senders = http_senders(base);
    let webhook = subscription(base);
    let mut outcomes = Vec::new();
    for channel in HTTP_CHANNELS {
        outcomes.push((channel, senders.send(&message(channel), Some(&webhook), now()).await));
    }
    outcomes
}

// ---- SMS ----

#[tokio::test]
async fn an_sms_is_posted_to_the_gateway_with_basic_auth_and_form_fields() {
    let gateway = Receiver::start(Answer::Status(201, r#"{"sid": "SM1", "status": "queued"}"#.into())).await;
    let senders = http_senders(&gateway.base);
    senders.send(&message(Channel::Sms), None, now()).await.unwrap();

    let received = gateway.received();
    assert_eq!(received.len(), 1);
    let request = &received[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/2010-04-01/Accounts/AC0123/Messages.json");
    let expected_auth =
        reqwest::Client::new().get("http://x.invalid/").basic_auth("AC0123", Some("token-0123")).build().unwrap();
    assert_eq!(request.header("authorization"), expected_auth.headers()["authorization"].to_str().unwrap());
    assert_eq!(request.header("content-type"), "application/x-www-form-urlencoded");
    let form = request.form();
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    assert_eq!(field("To"), Some(PHONE));
    assert_eq!(field("From"), Some("+15005550006"));
    assert_eq!(field("Body"), Some("Hotel Sol, 3-5 Jun: confirmed."));
}

#[tokio::test]
async fn a_gateway_refusing_the_number_is_refused_with_its_code_but_not_the_number() {
    let twilio = format!(
        r#"{{"code": 21211, "message": "The 'To' number {PHONE} is not a valid phone number.", "status": 400}}"#
    );
    let gateway = Receiver::start(Answer::Status(400, twilio)).await;
    let result = http_senders(&gateway.base).send(&message(Channel::Sms), None, now()).await;
    let Err(SendError::Refused(reason)) = result else { panic!("expected refused, got {result:?}") };
    assert!(reason.contains("21211") && reason.contains("is not a valid phone number"), "{reason}");
    assert!(!reason.contains(PHONE), "the number is not kept in the error: {reason}");
}

#[tokio::test]
async fn a_gateway_answering_429_is_worth_a_retry() {
    let gateway =
        Receiver::start(Answer::Status(429, r#"{"code": 20429, "message": "Too Many Requests"}"#.into())).await;
    let result = http_senders(&gateway.base).send(&message(Channel::Sms), None, now()).await;
    assert!(matches!(result, Err(SendError::Retry(_))), "{result:?}");
}

// ---- Slack and PagerDuty ----

#[tokio::test]
async fn a_slack_message_posts_its_json_or_else_its_subject_as_text() {
    let slack = Receiver::start(Answer::Status(200, "ok".into())).await;
    let senders = http_senders(&slack.base);
    senders.send(&message(Channel::Slack), None, now()).await.unwrap();
    let mut plain = message(Channel::Slack);
    plain.content.json = None;
    senders.send(&plain, None, now()).await.unwrap();

    let received = slack.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].path, "/services/T0/B0/XXXX");
    assert_eq!(received[0].header("content-type"), "application/json");
    assert_eq!(received[0].json(), serde_json::json!({ "text": "Disk almost full", "blocks": [] }));
    assert_eq!(received[1].json(), serde_json::json!({ "text": "Disk almost full" }));
}

#[tokio::test]
async fn a_slack_webhook_that_is_gone_is_refused_without_its_url() {
    let slack = Receiver::start(Answer::Status(404, "no_service".into())).await;
    let result = http_senders(&slack.base).send(&message(Channel::Slack), None, now()).await;
    let Err(SendError::Refused(reason)) = result else { panic!("expected refused, got {result:?}") };
    assert!(reason.contains("404") && reason.contains("no_service"), "{reason}");
    assert!(!reason.contains("XXXX"), "the webhook URL is a secret: {reason}");
}

#[tokio::test]
async fn a_pagerduty_event_carries_the_routing_key_and_the_alert() {
    let pagerduty =
        Receiver::start(Answer::Status(202, r#"{"status": "success", "dedup_key": "alert/outbox"}"#.into())).await;
    http_senders(&pagerduty.base).send(&message(Channel::PagerDuty), None, now()).await.unwrap();
    let received = pagerduty.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].path, "/v2/enqueue");
    let body = received[0].json();
    assert_eq!(body["routing_key"], "R0UTINGKEY");
    assert_eq!(body["event_action"], "trigger");
    assert_eq!(body["dedup_key"], "alert/outbox");
    assert_eq!(body["payload"]["summary"], "Outbox stuck");
    assert_eq!(body["payload"]["severity"], "critical");
}

#[tokio::test]
async fn pagerduty_answering_400_is_refused() {
    let pagerduty = Receiver::start(Answer::Status(
        400,
        r#"{"status": "invalid event", "errors": ["Event object is invalid"]}"#.into(),
    ))
    .await;
    let result = http_senders(&pagerduty.base).send(&message(Channel::PagerDuty), None, now()).await;
    assert!(matches!(result, Err(SendError::Refused(_))), "{result:?}");
}

// ---- Webhooks ----

#[tokio::test]
async fn a_webhook_is_signed_and_the_subscriber_verifies_it() {
    let subscriber = Receiver::start(Answer::Status(204, String::new())).await;
    let webhook = subscription(&subscriber.base);
    let d = message(Channel::Webhook);
    http_senders(&subscriber.base).send(&d, Some(&webhook), now()).await.unwrap();

    let received = subscriber.received();
    assert_eq!(received.len(), 1);
    let request = &received[0];
    assert_eq!(request.path, "/hooks/innkeep");
    assert_eq!(request.header("content-type"), "application/json");
    assert_eq!(request.header("user-agent"), "Innkeep-Webhooks/1");
    assert_eq!(request.header("innkeep-event-id"), d.event_id.unwrap().to_string());
    assert_eq!(request.header("innkeep-delivery-id"), d.id.to_string());
    assert_eq!(request.json(), d.content.json.clone().unwrap());
    let signature = request.header("innkeep-signature");
    let t = now().as_second();
    assert!(signature.starts_with(&format!("t={t},v1=")), "{signature}");
    assert!(verify(signature, SECRET, &request.body, t + 10, 300), "the subscriber accepts it");
    assert!(!verify(signature, "whsec_other", &request.body, t, 300), "not with another secret");
    assert!(!verify(signature, SECRET, b"{\"type\":\"forged\"}", t, 300), "not for another body");
    assert!(!verify(signature, SECRET, &request.body, t + 3600, 300), "not an hour later (a replay)");
}

#[tokio::test]
async fn a_webhook_delivery_without_an_event_names_itself_as_the_event() {
    let subscriber = Receiver::start(Answer::Status(200, String::new())).await;
    let mut d = message(Channel::Webhook);
    d.event_id = None;
    http_senders(&subscriber.base).send(&d, Some(&subscription(&subscriber.base)), now()).await.unwrap();
    assert_eq!(subscriber.received()[0].header("innkeep-event-id"), d.id.to_string());
}

#[tokio::test]
async fn a_webhook_to_loopback_is_refused_before_any_request_when_loopback_is_not_allowed() {
    let subscriber = Receiver::start(Answer::Status(200, String::new())).await;
    let sender = WebhookSender::new(UrlRule::default(), TIMEOUT).unwrap();
    let result = sender.send(&message(Channel::Webhook), &subscription(&subscriber.base), now()).await;
    let Err(SendError::Refused(reason)) = result else { panic!("expected refused, got {result:?}") };
    assert!(reason.contains("https"), "{reason}");
    assert!(subscriber.received().is_empty(), "nothing was posted");
}

#[tokio::test]
async fn a_deleted_webhook_is_refused() {
    let result = http_senders(&receiver::down()).send(&message(Channel::Webhook), None, now()).await;
    assert_eq!(result, Err(SendError::Refused("the webhook was deleted".to_string())));
}

#[tokio::test]
async fn a_channel_without_a_sender_is_refused_as_not_configured() {
    let senders = Senders {
        email: None,
        sms: None,
        slack: None,
        pagerduty: None,
        webhooks: WebhookSender::new(UrlRule::default(), TIMEOUT).unwrap(),
    };
    for (channel, name) in
        [(Channel::Email, "email"), (Channel::Sms, "sms"), (Channel::Slack, "slack"), (Channel::PagerDuty, "pagerduty")]
    {
        let result = senders.send(&message(channel), None, now()).await;
        assert_eq!(result, Err(SendError::Refused(format!("{name} is not configured"))));
    }
}

// ---- Faults, on every HTTP channel ----

#[tokio::test]
async fn a_receiver_that_is_down_is_worth_a_retry() {
    for (channel, outcome) in send_each(&receiver::down()).await {
        assert!(matches!(outcome, Err(SendError::Retry(_))), "{channel:?}: {outcome:?}");
    }
}

#[tokio::test]
async fn a_receiver_answering_500_is_worth_a_retry() {
    let failing = Receiver::start(Answer::Status(500, "internal error".into())).await;
    for (channel, outcome) in send_each(&failing.base).await {
        let Err(SendError::Retry(reason)) = outcome else { panic!("{channel:?}: {outcome:?}") };
        assert!(reason.contains("500"), "{channel:?}: {reason}");
    }
    assert_eq!(failing.received().len(), HTTP_CHANNELS.len(), "each request reached the receiver");
}

#[tokio::test]
async fn a_receiver_answering_beyond_the_timeout_is_worth_a_retry() {
    let slow = Receiver::start(Answer::Slow(Duration::from_secs(30))).await;
    let started = std::time::Instant::now();
    for (channel, outcome) in send_each(&slow.base).await {
        assert!(matches!(outcome, Err(SendError::Retry(_))), "{channel:?}: {outcome:?}");
    }
    assert!(started.elapsed() < Duration::from_secs(20), "each gave up at its timeout, not the answer");
    assert_eq!(slow.received().len(), HTTP_CHANNELS.len());
}

#[tokio::test]
async fn a_receiver_closing_the_connection_without_answering_is_worth_a_retry() {
    for (channel, outcome) in send_each(&receiver::closing().await).await {
        assert!(matches!(outcome, Err(SendError::Retry(_))), "{channel:?}: {outcome:?}");
    }
}

#[tokio::test]
async fn a_receiver_answering_400_is_refused() {
    let refusing = Receiver::start(Answer::Status(400, format!("bad request {}", "x".repeat(1000)))).await;
    for (channel, outcome) in send_each(&refusing.base).await {
        let Err(SendError::Refused(reason)) = outcome else { panic!("{channel:?}: {outcome:?}") };
        assert!(reason.contains("400"), "{channel:?}: {reason}");
        assert!(reason.len() < 320, "{channel:?}: the receiver's answer is cut: {} bytes", reason.len());
    }
}

#[tokio::test]
async fn a_redirect_is_refused_and_its_target_never_requested() {
    let redirecting = Receiver::start(Answer::Redirect).await;
    for (channel, outcome) in send_each(&redirecting.base).await {
        let Err(SendError::Refused(reason)) = outcome else { panic!("{channel:?}: {outcome:?}") };
        assert!(reason.contains("redirects are not followed"), "{channel:?}: {reason}");
    }
    let received = redirecting.received();
    assert_eq!(received.len(), HTTP_CHANNELS.len());
    assert!(received.iter().all(|r| r.path != "/target"), "the Location was not followed");
}

// ---- E-mail ----

const ICS: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Innkeep//EN\r\nMETHOD:PUBLISH\r\nBEGIN:VEVENT\r\nUID:booking-1@innkeep.example\r\nDTSTAMP:20250601T100000Z\r\nDTSTART:20250603T140000Z\r\nDTEND:20250605T100000Z\r\nSUMMARY:Stay at Hotel Sol\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

fn text_email(transactional: bool) -> Content {
    Content {
        subject: "Your booking at Café Sol – confirmed".into(),
        text: "Hello,\nyour stay is confirmed.\n".into(),
        transactional,
        ..Content::default()
    }
}

fn email_sender(smtp_url: &str) -> EmailSender {
    EmailSender::new(&EmailOptions {
        smtp_url: smtp_url.to_string(),
        from: "Innkeep <bookings@innkeep.example>".to_string(),
        timeout: Duration::from_secs(5),
        unsubscribe_url: "https://innkeep.example/unsubscribe".to_string(),
    })
    .unwrap()
}

/// Whether the SMTP server can run here; a missing one skips with a note, or fails when
/// INNKEEP_TEST_REQUIRE_SERVERS=1 (as in CI).
fn smtp_server_or_skip() -> Option<SmtpServer> {
    if smtp::available() {
        return Some(SmtpServer::start());
    }
    assert!(
        std::env::var("INNKEEP_TEST_REQUIRE_SERVERS").as_deref() != Ok("1"),
        "python3 with aiosmtpd and icalendar is required when INNKEEP_TEST_REQUIRE_SERVERS=1 (.ci/services.sh installs them)"
    );
    eprintln!("skipping: python3 cannot import aiosmtpd and icalendar (.ci/services.sh installs them)");
    None
}

fn senders_with_email(smtp_url: &str) -> Senders {
    Senders {
        email: Some(email_sender(smtp_url)),
        sms: None,
        slack: None,
        pagerduty: None,
        webhooks: WebhookSender::new(UrlRule::default(), TIMEOUT).unwrap(),
    }
}

#[tokio::test]
async fn an_email_with_html_and_a_calendar_arrives_as_one_mixed_message() {
    let Some(server) = smtp_server_or_skip() else { return };
    let mut content = text_email(false);
    content.html = Some("<p>Hello,<br>your stay is <b>confirmed</b>.</p>".into());
    content.attachments =
        vec![Attachment { filename: "stay.ics".into(), content_type: "text/calendar".into(), body: ICS.into() }];
    let d = delivery(Channel::Email, "guest@example.com", content);
    senders_with_email(&server.url()).send(&d, None, now()).await.unwrap();

    let messages = server.messages();
    assert_eq!(messages.len(), 1);
    let mail = &messages[0];
    let headers = &mail["headers"];
    assert_eq!(headers["message-id"], format!("<{}@innkeep.example>", d.id));
    assert_eq!(headers["to"], "guest@example.com");
    assert_eq!(headers["from"], "Innkeep <bookings@innkeep.example>");
    assert_eq!(headers["subject"], "Your booking at Café Sol – confirmed");
    assert_eq!(headers["auto-submitted"], "auto-generated");
    assert_eq!(
        headers["list-unsubscribe"], "<https://innkeep.example/unsubscribe>",
        "a reminder may be unsubscribed from"
    );
    assert!(headers.get("date").is_some());

    let parts = mail["parts"].as_array().unwrap();
    let types: Vec<&str> = parts.iter().map(|p| p["content_type"].as_str().unwrap()).collect();
    assert_eq!(types, ["multipart/mixed", "multipart/alternative", "text/plain", "text/html", "text/calendar"]);
    assert_eq!(parts[2]["body"].as_str().unwrap().replace("\r\n", "\n"), "Hello,\nyour stay is confirmed.\n");
    assert!(parts[3]["body"].as_str().unwrap().contains("<b>confirmed</b>"));
    let calendar = &parts[4];
    assert_eq!(calendar["params"]["method"], "PUBLISH");
    assert_eq!(calendar["params"]["charset"].as_str().unwrap().to_ascii_lowercase(), "utf-8");
    assert_eq!(calendar["filename"], "stay.ics");
    assert_eq!(
        calendar["body"].as_str().unwrap().replace("\r\n", "\n"),
        ICS.replace("\r\n", "\n"),
        "the calendar arrives intact"
    );
    assert_eq!(calendar["calendar"]["method"], "PUBLISH");
    assert_eq!(calendar["calendar"]["events"][0]["uid"], "booking-1@innkeep.example");
    assert_eq!(calendar["calendar"]["events"][0]["summary"], "Stay at Hotel Sol");
}

#[tokio::test]
async fn a_transactional_email_has_no_list_unsubscribe_and_keeps_its_message_id_when_sent_again() {
    let Some(server) = smtp_server_or_skip() else { return };
    let senders = senders_with_email(&server.url());
    let d = delivery(Channel::Email, "guest@example.com", text_email(true));
    senders.send(&d, None, now()).await.unwrap();
    senders.send(&d, None, now()).await.unwrap();

    let messages = server.messages();
    assert_eq!(messages.len(), 2);
    for mail in &messages {
        let headers = &mail["headers"];
        assert_eq!(headers["message-id"], format!("<{}@innkeep.example>", d.id), "the receiver can drop the duplicate");
        assert!(headers.get("list-unsubscribe").is_none(), "a booking's own message offers no unsubscribe");
        assert_eq!(headers["auto-submitted"], "auto-generated");
        let parts = mail["parts"].as_array().unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0]["content_type"], "text/plain");
    }
}

#[tokio::test]
async fn an_smtp_server_refusing_the_recipient_is_refused_without_naming_it() {
    let Some(server) = smtp_server_or_skip() else { return };
    let d = delivery(Channel::Email, "unknown@example.com", text_email(true));
    let result = senders_with_email(&server.url()).send(&d, None, now()).await;
    let Err(SendError::Refused(reason)) = result else { panic!("expected refused, got {result:?}") };
    assert!(reason.contains("550"), "{reason}");
    assert!(!reason.contains("unknown@example.com"), "the address is not kept in the error: {reason}");
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn an_smtp_server_deferring_the_recipient_is_worth_a_retry() {
    let Some(server) = smtp_server_or_skip() else { return };
    let d = delivery(Channel::Email, "greylisted@example.com", text_email(true));
    let result = senders_with_email(&server.url()).send(&d, None, now()).await;
    let Err(SendError::Retry(reason)) = result else { panic!("expected retry, got {result:?}") };
    assert!(reason.contains("451"), "{reason}");
    assert!(!reason.contains("greylisted@example.com"), "{reason}");
}

#[tokio::test]
async fn an_smtp_server_that_is_down_is_worth_a_retry() {
    let port = receiver::down().rsplit(':').next().unwrap().to_string();
    let d = delivery(Channel::Email, "guest@example.com", text_email(true));
    let result = senders_with_email(&format!("smtp://127.0.0.1:{port}")).send(&d, None, now()).await;
    assert!(matches!(result, Err(SendError::Retry(_))), "{result:?}");
}

#[tokio::test]
async fn an_email_to_something_that_is_not_an_address_is_refused() {
    let d = delivery(Channel::Email, "not an address", text_email(true));
    let result = senders_with_email("smtp://127.0.0.1:9").send(&d, None, now()).await;
    assert_eq!(result, Err(SendError::Refused("the recipient is not an e-mail address".to_string())));
}

#[tokio::test]
async fn an_smtp_url_or_sender_that_does_not_parse_is_refused_at_start() {
    let options = |smtp_url: &str, from: &str| EmailOptions {
        smtp_url: smtp_url.to_string(),
        from: from.to_string(),
        timeout: TIMEOUT,
        unsubscribe_url: "https://innkeep.example/unsubscribe".to_string(),
    };
    assert!(EmailSender::new(&options("smtp://127.0.0.1:25", "bookings@innkeep.example")).is_ok());
    assert!(EmailSender::new(&options("smtps://user:pw@mail.example.com", "bookings@innkeep.example")).is_ok());
    assert!(EmailSender::new(&options("smtp://mail.example.com:587?tls=required", "bookings@innkeep.example")).is_ok());
    assert!(EmailSender::new(&options("imap://mail.example.com", "bookings@innkeep.example")).is_err());
    assert!(EmailSender::new(&options("smtp://127.0.0.1:25", "not an address")).is_err());
}

#[test]
fn an_email_sender_made_outside_the_runtime_is_an_error_not_a_panic() {
    let made = EmailSender::new(&EmailOptions {
        smtp_url: "smtp://127.0.0.1:25".to_string(),
        from: "bookings@innkeep.example".to_string(),
        timeout: TIMEOUT,
        unsubscribe_url: "https://innkeep.example/unsubscribe".to_string(),
    });
    assert!(made.is_err());
}
