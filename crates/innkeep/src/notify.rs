//! The notifications part of a node, from its configuration: the senders of each
//! configured channel, the consumer that writes messages for events, the dispatcher that
//! sends them, and the built-in alert evaluator.

use crate::config::Config;
use anyhow::Context;
use innkeep_app::Ports;
use innkeep_app::notify::UrlCheck;
use innkeep_events::{ConsumerOptions, run_consumer};
use innkeep_notify::consumer::{Notifications, NotifySettings};
use innkeep_notify::dispatch::{DispatchOptions, Dispatcher};
use innkeep_notify::email::{EmailOptions, EmailSender};
use innkeep_notify::pagerduty::{PagerDutyOptions, PagerDutySender};
use innkeep_notify::sender::Senders;
use innkeep_notify::slack::{SlackOptions, SlackSender};
use innkeep_notify::sms::{SmsOptions, SmsSender};
use innkeep_notify::webhook::{UrlRule, WebhookSender};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// The senders of the configured channels. E-mail always has one: SMTP when
/// `notify.smtp_url` is set, else `.eml` files in `{data_dir}/mail`.
pub fn senders(config: &Config) -> anyhow::Result<Senders> {
    let n = &config.notify;
    let timeout = Duration::from_secs(n.timeout_secs.max(1));
    let options = EmailOptions {
        smtp_url: n.smtp_url.clone(),
        from: n.from.clone(),
        timeout,
        unsubscribe_url: format!("{}/account", public_url(config)),
    };
    let email = if n.smtp_url.is_empty() {
        EmailSender::to_files(&config.data_dir.join("mail"), &options)
    } else {
        EmailSender::new(&options)
    }
    .map_err(|e| anyhow::anyhow!("notify.smtp_url / notify.from: {e}"))?;
    let sms = (!n.sms.base_url.is_empty())
        .then(|| {
            SmsSender::new(&SmsOptions {
                base_url: n.sms.base_url.clone(),
                account_sid: n.sms.account_sid.clone(),
                auth_token: n.sms.auth_token.clone(),
                from: n.sms.from.clone(),
                timeout,
            })
            .map_err(|e| anyhow::anyhow!("notify.sms: {e}"))
        })
        .transpose()?;
    let slack = (!n.slack_webhook_url.is_empty())
        .then(|| {
            SlackSender::new(&SlackOptions { webhook_url: n.slack_webhook_url.clone(), timeout })
                .map_err(|e| anyhow::anyhow!("notify.slack_webhook_url: {e}"))
        })
        .transpose()?;
    let pagerduty = (!n.pagerduty.routing_key.is_empty())
        .then(|| {
            PagerDutySender::new(&PagerDutyOptions {
                url: n.pagerduty.url.clone(),
                routing_key: n.pagerduty.routing_key.clone(),
                timeout,
            })
            .map_err(|e| anyhow::anyhow!("notify.pagerduty: {e}"))
        })
        .transpose()?;
    let webhooks = WebhookSender::new(url_rule(config), Duration::from_secs(n.webhooks.timeout_secs.max(1)))
        .map_err(|e| anyhow::anyhow!("notify.webhooks: {e}"))?;
    Ok(Senders { email: Some(email), sms, slack, pagerduty, webhooks })
}

/// The rule integrators' webhook URLs meet on this node.
pub fn url_rule(config: &Config) -> UrlRule {
    UrlRule { allow_loopback_http: config.notify.webhooks.allow_loopback_http }
}

/// The dispatcher's retries, from the configuration.
pub fn dispatch_options(config: &Config) -> DispatchOptions {
    DispatchOptions {
        max_attempts: config.notify.max_attempts.max(1),
        first_backoff: Duration::from_secs(config.notify.first_backoff_secs.max(1)),
        // Longer than the slowest send: SMTP times each command out on its own.
        lease: Duration::from_secs(config.notify.timeout_secs.max(1) * 4 + 5),
        ..DispatchOptions::default()
    }
}

/// What the notifications consumer writes, from the configuration.
pub fn settings(config: &Config) -> anyhow::Result<NotifySettings> {
    let n = &config.notify;
    let reminder_time: jiff::civil::Time = n
        .reminder_time
        .parse()
        .with_context(|| format!("notify.reminder_time must be HH:MM, not {:?}", n.reminder_time))?;
    Ok(NotifySettings {
        public_url: public_url(config),
        sms: !n.sms.base_url.is_empty(),
        reminder_days: n.reminder_days,
        reminder_time,
    })
}

/// The site's address for links in messages: `server.public_url`, else the listen address.
pub(crate) fn public_url(config: &Config) -> String {
    let url = config.server.public_url.trim().trim_end_matches('/');
    if url.is_empty() { format!("http://{}", config.server.listen) } else { url.to_string() }
}

/// The running notifications part: what the HTTP layer needs of it.
pub struct Started {
    pub urls: UrlCheck,
    pub account_mail: Arc<dyn innkeep_app::credentials::AccountMail>,
}

/// Start the consumer, the dispatcher and (where Slack or PagerDuty is set) the alert
/// evaluator; `None` when `notify.enabled` is off.
pub fn start(
    config: &Config,
    ports: &Ports,
    commits: Arc<Notify>,
    options: ConsumerOptions,
    stop: &watch::Sender<bool>,
    addr: SocketAddr,
) -> anyhow::Result<Option<Started>> {
    if !config.notify.enabled {
        return Ok(None);
    }
    let senders = Arc::new(senders(config)?);
    let consumer = Arc::new(Notifications { ports: ports.clone(), settings: settings(config)? });
    tokio::spawn(run_consumer(ports.store.clone(), consumer, commits.clone(), options, stop.subscribe()));
    if (senders.slack.is_some() || senders.pagerduty.is_some()) && config.notify.alerts.enabled {
        tokio::spawn(crate::alerts::run(config.clone(), ports.clone(), senders.clone(), addr, stop.subscribe()));
    }
    let dispatcher = Dispatcher { ports: ports.clone(), senders, options: dispatch_options(config) };
    tokio::spawn(dispatcher.run(commits, stop.subscribe()));
    let rule = url_rule(config);
    Ok(Some(Started {
        urls: Arc::new(move |u: &str| rule.check(u).map(|_| ())),
        account_mail: Arc::new(innkeep_notify::account_mail::AccountMails { public_url: public_url(config) }),
    }))
}
