//! One typed configuration: defaults, then `innkeep.toml`, then `INNKEEP_*` variables
//! with `__` between levels (`INNKEEP_DATABASE__URL`). Every default needs nothing installed.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the embedded database and other local state live.
    pub data_dir: PathBuf,
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub booking: BookingConfig,
    pub bus: BusConfig,
    pub cache: CacheConfig,
    pub ingest: IngestConfig,
    pub log: LogConfig,
    pub storage: StorageConfig,
    pub web: WebConfig,
    pub payments: PaymentsConfig,
    pub notify: NotifyConfig,
    pub auth: AuthConfig,
    pub analytics: AnalyticsConfig,
    pub channels: ChannelsConfig,
}

/// Calendar sync with other channels (iCalendar feeds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChannelsConfig {
    /// Serve export feeds and fetch imported ones on this node (every node may: each feed
    /// is fetched by one node at a time).
    pub enabled: bool,
    /// How often each imported feed is fetched (a failed fetch is tried again within 5
    /// minutes).
    pub sync_interval_secs: u64,
    /// A fetch that takes longer fails.
    pub timeout_secs: u64,
    /// A feed larger than this is refused (and its nights left as they were).
    pub max_feed_bytes: u64,
    /// Also accept `http://` feed URLs to a loopback address (development and tests).
    pub allow_loopback_http: bool,
}

impl Default for ChannelsConfig {
    fn default() -> Self {
        ChannelsConfig {
            enabled: true,
            sync_interval_secs: 900,
            timeout_secs: 20,
            max_feed_bytes: 2 * 1024 * 1024,
            allow_loopback_http: false,
        }
    }
}

/// The analytics lake (`data_dir/lake`, or `lake/` in the `storage` bucket).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnalyticsConfig {
    /// Write the lake from this node. One writer per lake: in a cluster, set it on one node
    /// only (every node still answers queries over the lake).
    pub writer: bool,
    /// How long the writer lets events gather after a commit before it writes a file.
    pub linger_secs: u64,
    /// How often the recommendation model is rebuilt from the bookings (when they changed).
    pub model_refresh_secs: u64,
    /// Files the writer encodes at once (each on a thread of its own while it catches up).
    pub writer_threads: usize,
}

impl Default for AnalyticsConfig {
    fn default() -> Self {
        AnalyticsConfig { writer: true, linger_secs: 5, model_refresh_secs: 60, writer_threads: 1 }
    }
}

/// Signing in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Whether host owners must use two-factor sign-in (operators always must).
    pub two_factor_for_owners: bool,
}

/// Outgoing messages: e-mail and SMS to guests and hosts, integrators' webhooks, and
/// operator alerts to Slack and PagerDuty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    /// Whether this node writes messages for events and sends them.
    pub enabled: bool,
    /// The SMTP server: `smtp://host:2525` (plain), `smtp://host:587?tls=required`
    /// (STARTTLS), `smtps://host:465` (TLS), with `user:password@` for credentials. Empty:
    /// e-mails are written as `.eml` files into `{data_dir}/mail` (nothing to install).
    pub smtp_url: String,
    /// The sender of e-mails (`Innkeep <bookings@innkeep.example>`).
    pub from: String,
    /// A send that takes longer fails (and is retried).
    pub timeout_secs: u64,
    /// Attempts before a message is parked (`innkeep notify replay` sends it again).
    pub max_attempts: u32,
    /// The wait after the first failed attempt; it doubles after each (with jitter).
    pub first_backoff_secs: u64,
    /// Days before check-in the guest's reminder goes out (0: no reminders).
    pub reminder_days: u32,
    /// The local time, in the property's zone, the reminder goes out at (`HH:MM`).
    pub reminder_time: String,
    pub sms: SmsConfig,
    /// A Slack incoming webhook for operator alerts (empty: none).
    pub slack_webhook_url: String,
    pub pagerduty: PagerDutyConfig,
    pub webhooks: WebhooksConfig,
    pub alerts: AlertsConfig,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            enabled: true,
            smtp_url: String::new(),
            from: "Innkeep <bookings@innkeep.localhost>".into(),
            timeout_secs: 10,
            max_attempts: 8,
            first_backoff_secs: 5,
            reminder_days: 2,
            reminder_time: "09:00".into(),
            sms: SmsConfig::default(),
            slack_webhook_url: String::new(),
            pagerduty: PagerDutyConfig::default(),
            webhooks: WebhooksConfig::default(),
            alerts: AlertsConfig::default(),
        }
    }
}

/// An SMS gateway speaking Twilio's Messages API; SMS go out only when `base_url` is set.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsConfig {
    /// `https://api.twilio.com`, or a gateway that speaks its API.
    pub base_url: String,
    pub account_sid: String,
    pub auth_token: String,
    /// The sending number (E.164).
    pub from: String,
}

/// PagerDuty's Events API v2; pages go out only when `routing_key` is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PagerDutyConfig {
    pub url: String,
    /// The integration key of the PagerDuty service.
    pub routing_key: String,
}

impl Default for PagerDutyConfig {
    fn default() -> Self {
        PagerDutyConfig { url: "https://events.pagerduty.com/v2/enqueue".into(), routing_key: String::new() }
    }
}

/// Integrators' webhooks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhooksConfig {
    /// Also accept `http://` URLs to a loopback address (development and tests).
    pub allow_loopback_http: bool,
    /// A delivery that takes longer fails (and is retried).
    pub timeout_secs: u64,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        WebhooksConfig { allow_loopback_http: false, timeout_secs: 5 }
    }
}

/// The built-in alert evaluator: the alerts of `deploy/prometheus` raised from the node's
/// own metrics, to Slack and PagerDuty, where no monitoring stack runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    /// Whether the node evaluates the alerts (only where Slack or PagerDuty is set).
    pub enabled: bool,
    /// How often the rules are evaluated.
    pub interval_secs: u64,
    /// Divides every window and `for` duration (1: as in Prometheus); more, for drills.
    pub speedup: f64,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig { enabled: true, interval_secs: 15, speedup: 1.0 }
    }
}

/// Payments: where guests send bank transfers, the card provider, commission's VAT.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PaymentsConfig {
    pub bank_beneficiary: String,
    pub bank_iban: String,
    pub bank_bic: String,
    /// VAT on commission invoices, in basis points (2000 = 20%).
    pub vat_bp: u32,
    /// How often a node issues the invoices of closed months and pays hosts out; 0: only
    /// `innkeep invoices issue` and `innkeep payouts run`.
    pub billing_interval_secs: u64,
    pub stripe: StripeConfig,
}

impl Default for PaymentsConfig {
    /// The demo account (ISO 13616's example IBAN); set a real one in production.
    fn default() -> Self {
        let bank = innkeep_app::payment::BankAccount::default();
        PaymentsConfig {
            bank_beneficiary: bank.beneficiary,
            bank_iban: bank.iban,
            bank_bic: bank.bic,
            vat_bp: 2000,
            billing_interval_secs: 86_400,
            stripe: StripeConfig::default(),
        }
    }
}

/// The card payment provider: Stripe's API (or anything that speaks it). Card payments are
/// offered only when `secret_key` is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StripeConfig {
    pub base_url: String,
    pub secret_key: String,
    /// The webhook endpoint's signing secret (`whsec_...`).
    pub webhook_secret: String,
    /// The API version sent on every call.
    pub api_version: String,
    /// Where the guest's browser confirms a card payment, with `{id}` and `{client_secret}`
    /// (a hosted step); empty: clients confirm with the client secret themselves.
    pub checkout_url: String,
    pub timeout_secs: u64,
}

impl Default for StripeConfig {
    fn default() -> Self {
        StripeConfig {
            base_url: "https://api.stripe.com".into(),
            secret_key: String::new(),
            webhook_secret: String::new(),
            api_version: "2024-06-20".into(),
            checkout_url: String::new(),
            timeout_secs: 20,
        }
    }
}

/// Object storage (photos).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// Empty: a local directory, `data_dir/objects`. `s3://BUCKET`: an S3 API bucket.
    pub url: String,
    /// `http(s)://host:port` of an S3-compatible server (path-style); empty for AWS.
    pub endpoint: String,
    /// The bucket's region; empty means us-east-1.
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// The web pages.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    /// A map tile URL template (`https://host/{z}/{x}/{y}.png`); empty: the map draws the
    /// country outlines shipped with the program.
    pub tile_url: String,
    /// The secret that signs the forms' CSRF tokens (at least 32 characters), the same on
    /// every node so a form rendered by one is accepted by another and after a restart.
    /// Empty: a random key per process (refused with PostgreSQL, where nodes share a database).
    pub csrf_key: String,
    /// Mark the cookies `Secure`; unset: whether `server.public_url` is https.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secure_cookies: Option<bool>,
}

/// Shortest `web.csrf_key` accepted.
pub const CSRF_KEY_MIN_CHARS: usize = 32;

/// The cache of hot public reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// Empty: in process (one per node). `redis://host:6379`: Redis, shared by the nodes.
    pub url: String,
    /// How long a cached read is served; 0 turns the cache off.
    pub ttl_secs: u64,
    /// Most entries the in-process cache holds.
    pub max_entries: usize,
    /// Prefix of every Redis key.
    pub key_prefix: String,
    /// This node's name for its in-process cache's invalidation consumer; empty: the host
    /// name and the port served on.
    pub node_id: String,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            url: String::new(),
            ttl_secs: 60,
            max_entries: 100_000,
            key_prefix: "innkeep:".into(),
            node_id: String::new(),
        }
    }
}

/// Client event ingestion (`POST /api/v1/events`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    /// `log`: the embedded log in `data_dir/client-events`; `nats`: the JetStream stream
    /// below, on the server of `bus.url`.
    pub sink: String,
    /// The JetStream stream of client events (sink `nats`).
    pub stream: String,
    /// Client events are published on `PREFIX.<type>` (sink `nats`).
    pub subject_prefix: String,
    /// The embedded log starts a new segment past this size.
    pub segment_mib: u64,
    /// Client events are kept this long (log segments, or the stream's max age).
    pub retention_days: u64,
    /// Compact closed log segments: drop repeated event ids, gzip.
    pub compact: bool,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            sink: "log".into(),
            stream: "INNKEEP_CLIENT_EVENTS".into(),
            subject_prefix: "innkeep.client".into(),
            segment_mib: 64,
            retention_days: 7,
            compact: true,
        }
    }
}

/// The event bus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BusConfig {
    /// Empty: the embedded bus (consumers read the outbox in process). `nats://...`: also
    /// relay every event to NATS JetStream.
    pub url: String,
    /// The JetStream stream that receives the events.
    pub stream: String,
    /// Events are published on `PREFIX.<event type>`.
    pub subject_prefix: String,
    /// Tries before an event is parked as a dead letter.
    pub max_attempts: u32,
}

impl Default for BusConfig {
    fn default() -> Self {
        BusConfig {
            url: String::new(),
            stream: "INNKEEP_EVENTS".into(),
            subject_prefix: "innkeep.events".into(),
            max_attempts: 5,
        }
    }
}

/// The HTTP server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub listen: String,
    /// How long in-flight requests, and then the audit entries of their answers, may take
    /// to finish once the node stops accepting (after the drain).
    pub shutdown_grace_secs: u64,
    /// How long a node keeps serving after SIGTERM while `/readyz` answers 503 `draining`,
    /// so a load balancer takes it out before it stops accepting (its health check's
    /// interval times the failures it needs); 0: stop accepting at once.
    pub drain_secs: u64,
    /// The URL the site is reached at (`https://stays.example`); empty: not known. An
    /// https URL turns `web.secure_cookies` on by default.
    pub public_url: String,
}

/// The database.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://...` or `postgres://...`; empty means SQLite in `data_dir`. On PostgreSQL a
    /// libpq-style host list (`postgres://u@h1:5432,h2:5432/db`) names failover candidates:
    /// the node writes to the one that is not in recovery and moves when it fails.
    pub url: String,
    pub max_connections: u32,
    pub statement_timeout_ms: u64,
    /// PostgreSQL streaming replicas that serve read-only work (calendars, availability,
    /// search pricing, public property reads); empty means every read goes to the primary.
    pub replicas: Vec<String>,
    /// A replica further behind than this stops serving reads (and /readyz says degraded).
    pub replica_max_lag_ms: u64,
    /// How often replica lag and the primary's writability are checked.
    pub health_check_ms: u64,
    /// SQLite: holds and status changes that arrive while the writer is busy commit together
    /// (one `fsync` for the group); false commits each alone.
    pub group_commit: bool,
}

/// Booking rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BookingConfig {
    /// How long a hold lasts before it expires.
    pub hold_ttl_secs: i64,
    /// How far ahead a check-in may be.
    pub booking_window_days: i32,
    /// How often the sweeper looks for expired holds.
    pub sweep_interval_secs: u64,
}

/// Logging.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A tracing filter such as "info" or "innkeep=debug,info".
    pub level: String,
    /// "text" or "json".
    pub format: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("data"),
            server: ServerConfig::default(),
            channels: ChannelsConfig::default(),
            database: DatabaseConfig::default(),
            booking: BookingConfig::default(),
            bus: BusConfig::default(),
            cache: CacheConfig::default(),
            ingest: IngestConfig::default(),
            log: LogConfig::default(),
            storage: StorageConfig::default(),
            web: WebConfig::default(),
            payments: PaymentsConfig::default(),
            notify: NotifyConfig::default(),
            auth: AuthConfig::default(),
            analytics: AnalyticsConfig::default(),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".into(),
            shutdown_grace_secs: 30,
            drain_secs: 0,
            public_url: String::new(),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: String::new(),
            max_connections: 16,
            statement_timeout_ms: 10_000,
            replicas: Vec::new(),
            replica_max_lag_ms: 10_000,
            health_check_ms: 1_000,
            group_commit: true,
        }
    }
}

impl Default for BookingConfig {
    fn default() -> Self {
        BookingConfig { hold_ttl_secs: 15 * 60, booking_window_days: 730, sweep_interval_secs: 15 }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig { level: "info".into(), format: "text".into() }
    }
}

impl Config {
    /// Load defaults, then the TOML file if it exists, then the environment.
    pub fn load(file: &Path) -> Result<Config, Box<figment::Error>> {
        Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(file))
            // INNKEEP_TEST_* belong to the test suites and INNKEEP_ADMIN_PASSWORD to the CLI.
            .merge(
                Env::prefixed("INNKEEP_")
                    .filter(|k| {
                        let k = k.as_str().to_ascii_lowercase();
                        !k.starts_with("test_") && k != "admin_password"
                    })
                    .split("__"),
            )
            .extract()
            .map_err(Box::new)
    }

    /// The database URL: the configured one, or SQLite in the data directory.
    pub fn database_url(&self) -> String {
        if self.database.url.is_empty() { innkeep_store::sqlite_url(&self.data_dir) } else { self.database.url.clone() }
    }

    /// Whether the database is PostgreSQL (which several nodes may share).
    pub fn uses_postgres(&self) -> bool {
        self.database_url().starts_with("postgres")
    }

    /// Whether cookies are marked `Secure`: `web.secure_cookies` if set, else whether
    /// `server.public_url` is https.
    pub fn secure_cookies(&self) -> bool {
        self.web
            .secure_cookies
            .unwrap_or_else(|| self.server.public_url.trim().to_ascii_lowercase().starts_with("https://"))
    }

    /// The configuration as TOML with secrets (database passwords) masked.
    pub fn masked_toml(&self) -> String {
        let mut c = self.clone();
        c.database.url = mask_url(&c.database.url);
        c.database.replicas = c.database.replicas.iter().map(|u| mask_url(u)).collect();
        c.bus.url = mask_url(&c.bus.url);
        c.cache.url = mask_url(&c.cache.url);
        if !c.storage.secret_access_key.is_empty() {
            c.storage.secret_access_key = "***".into();
        }
        c.notify.smtp_url = mask_url(&c.notify.smtp_url);
        c.notify.slack_webhook_url = mask_path(&c.notify.slack_webhook_url);
        for secret in [
            &mut c.web.csrf_key,
            &mut c.payments.stripe.secret_key,
            &mut c.payments.stripe.webhook_secret,
            &mut c.notify.sms.auth_token,
            &mut c.notify.pagerduty.routing_key,
        ] {
            if !secret.is_empty() {
                *secret = "***".into();
            }
        }
        toml_string(&c)
    }
}

fn toml_string(c: &Config) -> String {
    // figment can render a provider's data; serde_json keeps this dependency-free.
    let v = serde_json::to_value(c).unwrap_or_default();
    let mut out = String::new();
    if let serde_json::Value::Object(top) = v {
        for (k, v) in top.iter().filter(|(_, v)| !v.is_object()) {
            out.push_str(&format!("{k} = {v}\n"));
        }
        for (k, v) in top.iter().filter(|(_, v)| v.is_object()) {
            out.push_str(&format!("\n[{k}]\n"));
            if let serde_json::Value::Object(inner) = v {
                for (ik, iv) in inner {
                    out.push_str(&format!("{ik} = {iv}\n"));
                }
            }
        }
    }
    out
}

/// A URL whose path is its secret (a Slack webhook): `https://hooks.slack.com/***`.
pub fn mask_path(url: &str) -> String {
    match url.find("://").and_then(|i| url[i + 3..].find('/').map(|j| i + 3 + j)) {
        Some(cut) if cut + 1 < url.len() => format!("{}/***", &url[..cut]),
        _ => url.to_string(),
    }
}

/// `postgres://user:secret@host/db` -> `postgres://user:***@host/db`.
pub fn mask_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_masked() {
        assert_eq!(mask_url("postgres://app:s3cret@db:5432/innkeep"), "postgres://app:***@db:5432/innkeep");
        assert_eq!(mask_url("sqlite://data/innkeep.db"), "sqlite://data/innkeep.db");
    }

    #[test]
    fn notification_secrets_are_masked_when_printed() {
        let mut c = Config::default();
        c.notify.smtp_url = "smtp://mailer:hunter2hunter2@mail.example:587?tls=required".into();
        c.notify.slack_webhook_url = "https://hooks.slack.com/services/T000/B000/XXXXSECRET".into();
        c.notify.sms.auth_token = "twilio-token-secret".into();
        c.notify.pagerduty.routing_key = "pd-routing-secret".into();
        let printed = c.masked_toml();
        for secret in ["hunter2hunter2", "XXXXSECRET", "twilio-token-secret", "pd-routing-secret"] {
            assert!(!printed.contains(secret), "{secret} printed");
        }
        assert!(printed.contains("https://hooks.slack.com/***"), "{printed}");
    }

    #[test]
    fn the_csrf_key_is_masked_when_printed() {
        let mut c = Config::default();
        c.web.csrf_key = "k".repeat(40);
        let printed = c.masked_toml();
        assert!(!printed.contains(&c.web.csrf_key) && printed.contains("csrf_key = \"***\""), "{printed}");
    }

    #[test]
    fn cookies_are_secure_by_default_when_the_public_url_is_https() {
        let mut c = Config::default();
        assert!(!c.secure_cookies());
        c.server.public_url = "http://stays.example".into();
        assert!(!c.secure_cookies());
        c.server.public_url = "https://stays.example".into();
        assert!(c.secure_cookies());
        c.web.secure_cookies = Some(false);
        assert!(!c.secure_cookies());
        c.server.public_url = String::new();
        c.web.secure_cookies = Some(true);
        assert!(c.secure_cookies());
    }

    #[test]
    fn web_settings_load_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("innkeep.toml");
        std::fs::write(&file, "[web]\ncsrf_key = \"0123456789abcdef0123456789abcdef\"\nsecure_cookies = true\n")
            .unwrap();
        let c = Config::load(&file).unwrap();
        assert_eq!(c.web.csrf_key, "0123456789abcdef0123456789abcdef");
        assert_eq!(c.web.secure_cookies, Some(true));
        std::fs::write(&file, "[server]\npublic_url = \"https://stays.example\"\n").unwrap();
        let c = Config::load(&file).unwrap();
        assert_eq!(c.web.secure_cookies, None);
        assert!(c.secure_cookies());
    }

    #[test]
    fn group_commit_is_on_unless_the_file_turns_it_off() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("innkeep.toml");
        std::fs::write(&file, "[database]\nmax_connections = 4\n").unwrap();
        assert!(Config::load(&file).unwrap().database.group_commit);
        std::fs::write(&file, "[database]\ngroup_commit = false\n").unwrap();
        assert!(!Config::load(&file).unwrap().database.group_commit);
    }

    #[test]
    fn unknown_keys_fail_loudly() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("innkeep.toml");
        std::fs::write(&file, "[server]\nlisten = \"127.0.0.1:9\"\nlsten = 1\n").unwrap();
        assert!(Config::load(&file).is_err());
        std::fs::write(&file, "[server]\nlisten = \"127.0.0.1:9\"\n").unwrap();
        assert_eq!(Config::load(&file).unwrap().server.listen, "127.0.0.1:9");
    }
}
