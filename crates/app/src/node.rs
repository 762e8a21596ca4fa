//! What a node's front ends share: the ports, the node's optional parts (photo storage,
//! client-event sink), the health probes the operator sees, the node's request window and
//! whether it is still starting. The binary builds it; the API and the pages take it as
//! their router state, so neither front end depends on the other.

use crate::Ports;
use std::sync::Arc;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub ports: Ports,
    /// Where client events go; without one, `POST /api/v1/events` answers 404.
    pub client_events: Option<Arc<dyn crate::ingest::ClientEventSink>>,
    /// Where photos are kept; without one, photo uploads answer 404.
    pub objects: Option<Arc<dyn crate::objects::ObjectStorage>>,
    /// The card payment provider whose events the webhook takes; without one, 404.
    pub provider: Option<Arc<dyn crate::card::PaymentProvider>>,
    /// The rule integrators' webhook URLs must meet; without one, the webhook endpoints
    /// answer 404 (nothing would send their deliveries).
    pub webhook_urls: Option<crate::notify::UrlCheck>,
    /// Calendar sync with other channels; without it, the iCalendar endpoints answer 404
    /// (no node would fetch the feeds).
    pub channels: Option<ChannelSettings>,
    /// Renders the account e-mails (password resets, verifications); without it, those
    /// endpoints answer 404 (no e-mail would go out).
    pub account_mail: Option<Arc<dyn crate::credentials::AccountMail>>,
    /// SQL and reports over the analytics lake; without it, the analytics endpoints answer
    /// 404.
    pub analytics: Option<Arc<dyn crate::analytics::Analytics>>,
    /// The booking history index; without it, the historical search answers 404.
    pub history: Option<Arc<dyn crate::history::BookingHistory>>,
    /// The recommendation model (rebuilt in the background) and this node's trending
    /// counts; without them, the suggestion endpoints answer 404.
    pub recommender: Option<Arc<crate::recommend::Recommender>>,
    pub trending: Option<Arc<crate::trending::Trending>>,
    /// This node's recent requests (latency, errors), fed by the request middleware.
    pub requests: Arc<crate::requests::RequestStats>,
    /// The parts whose health the operator dashboard shows, in order.
    pub probes: Arc<Vec<Arc<dyn crate::health::Probe>>>,
    /// Set while the node is still getting ready (loading demo data, building what it
    /// serves from): /readyz answers 503 `starting` until it is cleared.
    pub starting: Arc<std::sync::atomic::AtomicBool>,
    /// Set once the node is shutting down: /readyz answers 503 `draining` while requests
    /// are still served, so a load balancer takes the node out first.
    pub draining: Arc<std::sync::atomic::AtomicBool>,
    /// This node's counts of refused and failed requests (unauthorized-access bursts), fed
    /// by the front ends; one per node, as its metrics are.
    pub access: Arc<crate::intrusion::Detector>,
    /// Writes the audit log's entries in batches, after the requests were answered.
    pub audit: Arc<crate::audit::AuditWriter>,
}

/// What the iCalendar endpoints need of the node.
#[derive(Clone)]
pub struct ChannelSettings {
    /// The rule an imported feed's URL must meet (https, no private addresses).
    pub feed_urls: crate::notify::UrlCheck,
    /// The address the node is reached at (`https://stay.example`), for export URLs.
    pub public_url: String,
}

impl AppState {
    /// State around the ports.
    pub fn new(ports: Ports) -> Self {
        AppState {
            client_events: None,
            objects: None,
            provider: None,
            webhook_urls: None,
            channels: None,
            account_mail: None,
            analytics: None,
            history: None,
            recommender: None,
            trending: None,
            requests: Arc::new(crate::requests::RequestStats::default()),
            probes: Arc::new(vec![Arc::new(crate::health::DatabaseProbe(ports.store.clone()))]),
            starting: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            draining: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            access: Arc::new(crate::intrusion::Detector::new()),
            audit: Arc::new(crate::audit::AuditWriter::new(ports.clone())),
            ports,
        }
    }

    /// Keep photos in object storage.
    pub fn with_objects(mut self, objects: Arc<dyn crate::objects::ObjectStorage>) -> Self {
        self.objects = Some(objects);
        self
    }

    /// Take integrators' webhooks whose URLs meet `check`.
    pub fn with_webhook_urls(mut self, check: crate::notify::UrlCheck) -> Self {
        self.webhook_urls = Some(check);
        self
    }

    /// Sync calendars with other channels: feed URLs meet `settings.feed_urls`.
    pub fn with_channels(mut self, settings: ChannelSettings) -> Self {
        self.channels = Some(settings);
        self
    }

    /// Mail account links rendered by `mail`.
    pub fn with_account_mail(mut self, mail: Arc<dyn crate::credentials::AccountMail>) -> Self {
        self.account_mail = Some(mail);
        self
    }

    /// Answer SQL and reports from this engine.
    pub fn with_analytics(mut self, analytics: Arc<dyn crate::analytics::Analytics>) -> Self {
        self.analytics = Some(analytics);
        self
    }

    /// Find bookings across the history in this index.
    pub fn with_history(mut self, history: Arc<dyn crate::history::BookingHistory>) -> Self {
        self.history = Some(history);
        self
    }

    /// Suggest stays from this model, and show what trends on this node.
    pub fn with_suggestions(
        mut self,
        recommender: Arc<crate::recommend::Recommender>,
        trending: Arc<crate::trending::Trending>,
    ) -> Self {
        self.recommender = Some(recommender);
        self.trending = Some(trending);
        self
    }

    /// Take card payment events from this provider.
    pub fn with_provider(mut self, provider: Arc<dyn crate::card::PaymentProvider>) -> Self {
        self.provider = Some(provider);
        self
    }

    /// Report the health of these parts (replaces the default: the database only).
    pub fn with_probes(mut self, probes: Vec<Arc<dyn crate::health::Probe>>) -> Self {
        self.probes = Arc::new(probes);
        self
    }

    /// Answer not ready while `starting` is set.
    pub fn with_starting(mut self, starting: Arc<std::sync::atomic::AtomicBool>) -> Self {
        self.starting = starting;
        self
    }

    /// Take client events into a sink.
    pub fn with_client_events(mut self, sink: Arc<dyn crate::ingest::ClientEventSink>) -> Self {
        self.client_events = Some(sink);
        self
    }
}
