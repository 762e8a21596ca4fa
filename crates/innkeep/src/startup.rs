//! Wiring and lifecycle: open the store, build the ports, serve HTTP, sweep holds,
//! and drain in-flight requests on SIGTERM or SIGINT.

use crate::config::Config;
use anyhow::Context;
use innkeep_app::{Clock, Ports, Settings};
use innkeep_events::nats::{NatsOptions, NatsRelay};
use innkeep_events::{Consumer, ConsumerOptions, EventCounter, run_consumer};
use innkeep_search::{Gazetteer, SearchIndex};
use innkeep_store::{SqlStore, StoreOptions};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Open the configured store and apply its migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<SqlStore> {
    if config.database.url.is_empty() {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    }
    let mut options = StoreOptions::new(config.database_url());
    options.max_connections = config.database.max_connections;
    options.statement_timeout = Duration::from_millis(config.database.statement_timeout_ms);
    options.replicas = config.database.replicas.clone();
    options.replica_max_lag = Duration::from_millis(config.database.replica_max_lag_ms);
    options.health_interval = Duration::from_millis(config.database.health_check_ms);
    options.group_commit = config.database.group_commit;
    let store = innkeep_store::open(&options).await.context("opening the database")?;
    innkeep_store::migrate(&store).await.context("applying migrations")?;
    Ok(store)
}

/// The node's search: the shipped gazetteer and a local index.
#[derive(Clone)]
pub struct Search {
    pub index: Arc<SearchIndex>,
    pub places: Arc<Gazetteer>,
}

/// Load the gazetteer and open an empty in-memory index (filled by `Server::start`).
pub fn open_search() -> anyhow::Result<Search> {
    let places = Arc::new(Gazetteer::load().context("loading the gazetteer")?);
    let index = Arc::new(SearchIndex::open(None).context("opening the search index")?);
    Ok(Search { index, places })
}

/// The ports of the use cases, on a store, a clock and the node's search.
pub fn ports(config: &Config, store: SqlStore, clock: Arc<dyn Clock>, search: &Search) -> Ports {
    Ports {
        store: Arc::new(store),
        clock,
        index: search.index.clone(),
        places: search.places.clone(),
        settings: Settings {
            hold_ttl: jiff::SignedDuration::from_secs(config.booking.hold_ttl_secs),
            booking_window_days: config.booking.booking_window_days,
            cache_ttl: Duration::from_secs(config.cache.ttl_secs),
            payments: innkeep_app::payment::PaymentSettings {
                bank: innkeep_app::payment::BankAccount {
                    beneficiary: config.payments.bank_beneficiary.clone(),
                    iban: config.payments.bank_iban.clone(),
                    bic: config.payments.bank_bic.clone(),
                },
                card: !config.payments.stripe.secret_key.is_empty(),
                checkout_url: Some(config.payments.stripe.checkout_url.clone()).filter(|u| !u.is_empty()),
                vat_bp: config.payments.vat_bp,
            },
            two_factor_required_for_owners: config.auth.two_factor_for_owners,
            ..Settings::default()
        },
        // Commands read the store; `Server::start` puts the configured cache in.
        cache: Arc::new(innkeep_app::cache::NoCache),
        // `Server::start` shares the limits through Redis when the cache is on Redis.
        limiter: Arc::new(innkeep_app::limit::MemoryLimiter::default()),
        changes: Default::default(),
    }
}

/// Every `interval`: issue the invoices of closed months and pay hosts what they are owed
/// (each node may run it: a second run at once issues and pays nothing more).
async fn bill(ports: Ports, interval: Duration, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let now = ports.clock.now();
        if let Err(e) = innkeep_app::billing::issue_invoices(&ports, now).await {
            tracing::warn!(error = %e, "issuing invoices failed; trying again next time");
        }
        match innkeep_app::billing::run_payouts(&ports, now).await {
            Ok(run) if !run.payouts.is_empty() => {
                tracing::info!(batch_id = %run.batch_id, payouts = run.payouts.len(), "payout batch made; its files are at /api/v1/payouts/batches/{{id}}")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "payouts failed; trying again next time"),
        }
    }
}

/// The card payment provider, where one is configured (`payments.stripe.secret_key`).
pub fn card_provider(config: &Config) -> anyhow::Result<Option<Arc<dyn innkeep_app::card::PaymentProvider>>> {
    let c = &config.payments.stripe;
    if c.secret_key.is_empty() {
        return Ok(None);
    }
    if c.webhook_secret.is_empty() {
        anyhow::bail!(
            "payments.stripe.webhook_secret is needed with payments.stripe.secret_key: without it no card payment could ever be confirmed"
        );
    }
    let client = innkeep_stripe::StripeClient::new(innkeep_stripe::StripeConfig {
        base_url: c.base_url.clone(),
        secret_key: c.secret_key.clone(),
        webhook_secret: c.webhook_secret.clone(),
        api_version: c.api_version.clone(),
        timeout: Duration::from_secs(c.timeout_secs.max(1)),
        tolerance: Duration::from_secs(300),
    })
    .context("making the payment provider's HTTP client")?;
    Ok(Some(Arc::new(client)))
}

/// The cache settings of the configuration.
pub fn cache_options(config: &Config) -> innkeep_cache::CacheOptions {
    innkeep_cache::CacheOptions {
        url: config.cache.url.clone(),
        key_prefix: config.cache.key_prefix.clone(),
        max_entries: config.cache.max_entries,
        ttl_secs: config.cache.ttl_secs,
    }
}

/// The consumer that invalidates the node's cache: one per node for an in-process cache
/// (named after the node, so every node sees every event), one shared by all nodes for Redis.
async fn cache_invalidator(
    config: &Config,
    ports: &Ports,
    addr: SocketAddr,
) -> anyhow::Result<innkeep_cache::CacheInvalidator> {
    let shared = innkeep_cache::is_shared(&cache_options(config));
    let name = if shared {
        innkeep_cache::invalidation::SHARED_NAME.to_string()
    } else if config.cache.node_id.is_empty() {
        innkeep_cache::invalidation::node_name(&innkeep_cache::invalidation::default_node_id(addr.port()))
    } else {
        innkeep_cache::invalidation::node_name(&config.cache.node_id)
    };
    let invalidator = innkeep_cache::CacheInvalidator::new(name, ports.cache.clone());
    invalidator.skip_backlog(ports.store.as_ref(), !shared).await.context("positioning the cache invalidation")?;
    Ok(invalidator)
}

/// The web pages' settings. A PostgreSQL database may be shared by several nodes, and a
/// form rendered by one node must be accepted by the others, so there `web.csrf_key` is
/// required; elsewhere an empty key means a random one for this process.
pub fn web_config(config: &Config) -> anyhow::Result<innkeep_web::WebConfig> {
    let key = config.web.csrf_key.as_str();
    let csrf_key = if key.is_empty() {
        anyhow::ensure!(
            !config.uses_postgres(),
            "web.csrf_key (INNKEEP_WEB__CSRF_KEY) is required with a PostgreSQL database: the nodes sharing a \
             database must share the key that signs their forms. Set the same random value of at least \
             {} characters on every node (for example the output of `openssl rand -hex 32`).",
            crate::config::CSRF_KEY_MIN_CHARS
        );
        tracing::warn!(
            "web.csrf_key is empty: forms are signed with a random key of this process and stop working when it restarts"
        );
        None
    } else {
        anyhow::ensure!(
            key.chars().count() >= crate::config::CSRF_KEY_MIN_CHARS,
            "web.csrf_key must be at least {} characters",
            crate::config::CSRF_KEY_MIN_CHARS
        );
        Some(key.as_bytes().to_vec())
    };
    Ok(innkeep_web::WebConfig {
        tile_url: Some(config.web.tile_url.clone()).filter(|u| !u.is_empty()),
        secure_cookies: config.secure_cookies(),
        csrf_key,
        public_url: Some(config.server.public_url.trim_end_matches('/').to_string()).filter(|u| !u.is_empty()),
    })
}

/// Outbox events per lake file at most.
const LAKE_BATCH: u32 = 50_000;

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    pub ports: Ports,
    pub store: SqlStore,
    stop: watch::Sender<bool>,
    task: JoinHandle<anyhow::Result<()>>,
    starting: Arc<std::sync::atomic::AtomicBool>,
    draining: Arc<std::sync::atomic::AtomicBool>,
    index: Arc<innkeep_search::SearchIndex>,
    /// The node's audit log writer (entries are written in batches after their answers).
    pub audit: Arc<innkeep_app::audit::AuditWriter>,
    /// How the booking history index was made ready at the start.
    pub history: innkeep_search::history::Built,
}

/// The booking history index in `dir`; in memory (built from the bookings at every start)
/// when the directory cannot be used, for example while another process holds it (waited
/// for a little first, as the process before this one on a restart).
async fn open_history(dir: &std::path::Path) -> anyhow::Result<innkeep_search::HistoryIndex> {
    let mut waited = 0;
    loop {
        match innkeep_search::HistoryIndex::open(dir) {
            Ok(index) => return Ok(index),
            Err(e) if e.is_locked() && waited < 30 => {
                waited += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => {
                tracing::warn!(dir = %dir.display(), error = %e, "the booking history index is kept in memory");
                return Ok(innkeep_search::HistoryIndex::new()?);
            }
        }
    }
}

impl Server {
    /// Bind, then serve in the background; with `sweep`, expire holds on a timer.
    pub async fn start(config: &Config, clock: Arc<dyn Clock>, sweep: bool) -> anyhow::Result<Server> {
        Server::start_with(config, clock, sweep, false).await
    }

    /// As [`start`](Self::start); with `starting`, /readyz answers 503 until
    /// [`ready_when_indexed`](Self::ready_when_indexed) (for data loaded after the start).
    pub async fn start_with(
        config: &Config,
        clock: Arc<dyn Clock>,
        sweep: bool,
        starting: bool,
    ) -> anyhow::Result<Server> {
        // Metrics are recorded from here on (the store's write faults, the consumers, ...).
        innkeep_http::telemetry::metrics_handle();
        let starting = Arc::new(std::sync::atomic::AtomicBool::new(starting));
        let web = web_config(config)?;
        let store = open_store(config).await?;
        let search = open_search()?;
        let mut ports = ports(config, store.clone(), clock, &search);
        ports.cache = innkeep_cache::open(&cache_options(config)).await.context("opening the cache")?;
        ports.limiter = innkeep_cache::open_limiter(&cache_options(config)).await.context("opening the limits")?;
        let started = std::time::Instant::now();
        // The index follows the outbox, so it reads from the primary, never behind an event.
        let index_store: Arc<dyn innkeep_app::Store> = Arc::new(store.on_primary());
        let (from, indexed) = innkeep_search::freshness::rebuild(index_store.as_ref(), &search.index)
            .await
            .context("building the search index")?;
        tracing::info!(properties = indexed, ms = started.elapsed().as_millis() as u64, "search index built");
        let started = std::time::Instant::now();
        let history = Arc::new(open_history(&config.data_dir.join("history")).await?);
        let (built, booked) = innkeep_search::history::build(index_store.clone(), history.clone())
            .await
            .context("building the booking history index")?;
        let ms = started.elapsed().as_millis() as u64;
        tracing::info!(bookings = booked, ms, how = ?built, "booking history index ready");
        let listener = tokio::net::TcpListener::bind(&config.server.listen)
            .await
            .with_context(|| format!("binding {}", config.server.listen))?;
        let addr = listener.local_addr()?;
        let (stop, mut stopped) = watch::channel(false);
        if sweep {
            tokio::spawn(innkeep_app::booking::sweep_holds(
                ports.clone(),
                Duration::from_secs(config.booking.sweep_interval_secs.max(1)),
                stop.subscribe(),
            ));
        }
        let commits = store.commits();
        let index = search.index.clone();
        tokio::spawn(innkeep_search::history::follow(
            index_store.clone(),
            history.clone(),
            commits.clone(),
            stop.subscribe(),
        ));
        tokio::spawn(innkeep_search::freshness::follow(index_store, index, from, commits.clone(), stop.subscribe()));
        let options = ConsumerOptions { max_attempts: config.bus.max_attempts.max(1), ..ConsumerOptions::default() };
        for consumer in consumers() {
            tokio::spawn(run_consumer(ports.store.clone(), consumer, commits.clone(), options, stop.subscribe()));
        }
        let refunds = Arc::new(innkeep_app::payment::CancellationRefunds { ports: ports.clone() });
        tokio::spawn(run_consumer(ports.store.clone(), refunds, commits.clone(), options, stop.subscribe()));
        let meter = Arc::new(innkeep_app::billing::CommissionMeter { ports: ports.clone() });
        tokio::spawn(run_consumer(ports.store.clone(), meter, commits.clone(), options, stop.subscribe()));
        if config.payments.billing_interval_secs > 0 {
            tokio::spawn(bill(
                ports.clone(),
                Duration::from_secs(config.payments.billing_interval_secs),
                stop.subscribe(),
            ));
        }
        let provider = card_provider(config)?;
        if let Some(provider) = &provider {
            let cards = Arc::new(innkeep_app::card::CardPayments::new(ports.clone(), provider.clone()));
            // A guest waits for the provider's answer: its calls start at once after a commit
            // (they overlap, so there is nothing to gather a batch for).
            let now = ConsumerOptions { linger: Duration::ZERO, ..options };
            tokio::spawn(run_consumer(ports.store.clone(), cards, commits.clone(), now, stop.subscribe()));
        }
        if config.cache.ttl_secs > 0 {
            let invalidator = Arc::new(cache_invalidator(config, &ports, addr).await?);
            tokio::spawn(run_consumer(ports.store.clone(), invalidator, commits.clone(), options, stop.subscribe()));
        }
        if !config.bus.url.is_empty() {
            let relay = NatsRelay::connect(nats_options(config)).await.context("connecting to NATS")?;
            tokio::spawn(relay.run(ports.store.clone(), commits.clone(), stop.subscribe()));
        }
        let notify = crate::notify::start(config, &ports, commits.clone(), options, &stop, addr)?;
        if config.channels.enabled {
            let fetcher = crate::channels::Fetcher::new(config)?;
            let every = Duration::from_secs(config.channels.sync_interval_secs.max(1));
            tokio::spawn(crate::channels::run(ports.clone(), fetcher, every, stop.subscribe()));
        }
        let recommender = Arc::new(innkeep_app::recommend::Recommender::default());
        let trending = Arc::new(innkeep_app::trending::Trending::new());
        tokio::spawn(crate::suggest::rebuild_every(
            ports.clone(),
            recommender.clone(),
            Duration::from_secs(config.analytics.model_refresh_secs.max(1)),
            stop.subscribe(),
        ));
        // Waiting readers are told of changes at once after each commit.
        let changes = innkeep_app::changes::ChangeFeed::new(ports.store.clone(), ports.changes.clone());
        let opts = innkeep_app::follow::FollowOptions {
            batch: innkeep_app::changes::FEED_BATCH as usize,
            poll: innkeep_app::changes::LOOK_AGAIN,
            linger: Duration::ZERO,
        };
        tokio::spawn(innkeep_app::follow::follow(changes, commits.clone(), opts, stop.subscribe()));
        let feed = crate::suggest::TrendingFeed::new(ports.clone(), trending.clone(), recommender.clone());
        let opts = innkeep_app::follow::FollowOptions {
            batch: 5_000,
            poll: Duration::from_secs(5),
            linger: Duration::from_millis(200),
        };
        tokio::spawn(innkeep_app::follow::follow(feed, commits.clone(), opts, stop.subscribe()));
        let sink: Arc<dyn innkeep_app::ingest::ClientEventSink> = Arc::new(crate::suggest::TrendingSink {
            inner: client_event_sink(config, stop.subscribe()).await?,
            trending: trending.clone(),
            model: recommender.clone(),
        });
        let objects = crate::parts::open_objects(config)?;
        let lake = crate::parts::open_lake(config)?;
        if config.analytics.writer {
            let client = client_source(config).await?;
            // The lake follows the outbox from the primary, as the index does.
            let primary: Arc<dyn innkeep_app::Store> = Arc::new(store.on_primary());
            let writer = innkeep_analytics::LakeWriter::new(lake.clone(), primary, client, LAKE_BATCH);
            let opts = innkeep_app::follow::FollowOptions {
                batch: LAKE_BATCH as usize,
                poll: Duration::from_secs(30),
                linger: Duration::from_secs(config.analytics.linger_secs),
            };
            tokio::spawn(innkeep_app::follow::follow(writer, commits.clone(), opts, stop.subscribe()));
        }
        let mut consumer_names: Vec<String> = consumers().iter().map(|c| c.name().to_string()).collect();
        if notify.is_some() {
            consumer_names.push(innkeep_notify::consumer::NAME.to_string());
        }
        let probes = crate::parts::probes(config, &ports, search.index.clone(), objects.clone(), &consumer_names);
        let mut state = innkeep_app::node::AppState::new(ports.clone());
        if let Some(provider) = provider {
            state = state.with_provider(provider);
        }
        if let Some(n) = notify {
            state = state.with_webhook_urls(n.urls).with_account_mail(n.account_mail);
        }
        if config.channels.enabled {
            state = state.with_channels(innkeep_app::node::ChannelSettings {
                feed_urls: crate::channels::url_check(config),
                public_url: crate::notify::public_url(config),
            });
        }
        let state = state
            .with_analytics(Arc::new(innkeep_analytics::LakeSql::new(lake)))
            .with_history(history)
            .with_suggestions(recommender, trending)
            .with_client_events(sink)
            .with_objects(objects)
            .with_probes(probes)
            .with_starting(starting.clone());
        let draining = state.draining.clone();
        let audit = state.audit.clone();
        let last_entries = audit.clone();
        let app = innkeep_http::app(state, innkeep_web::routes_with(web));
        let grace = Duration::from_secs(config.server.shutdown_grace_secs);
        let task = tokio::spawn(async move {
            let mut drain = stopped.clone();
            let serve = axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
                .with_graceful_shutdown(async move {
                    let _ = stopped.wait_for(|s| *s).await;
                });
            let serve = tokio::spawn(async move { serve.await });
            let _ = drain.wait_for(|s| *s).await;
            // In-flight requests and then the audit entries of the last answers share one
            // `grace`; after it the server stops regardless.
            let deadline = tokio::time::Instant::now() + grace;
            match tokio::time::timeout_at(deadline, serve).await {
                Ok(r) => r?.context("serving")?,
                Err(_) => tracing::warn!("shutdown grace elapsed with requests in flight"),
            }
            if tokio::time::timeout_at(deadline, last_entries.settled()).await.is_err() {
                tracing::warn!("shutdown grace elapsed with audit entries unwritten");
            }
            Ok(())
        });
        tracing::info!(%addr, "listening");
        Ok(Server {
            addr,
            ports,
            store,
            stop,
            task,
            starting,
            draining,
            index: search.index.clone(),
            audit,
            history: built,
        })
    }

    /// Answer ready once the search index has followed every event written so far (the
    /// demo data loaded after the start, say): ready means a client sees the data.
    pub async fn ready_when_indexed(&self) -> anyhow::Result<()> {
        let head = self.ports.store.last_event_seq().await.map_err(|e| anyhow::anyhow!("reading the outbox: {e}"))?;
        while self.index.position() < head {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.starting.store(false, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    /// Stop accepting, drain in-flight requests, close the database.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        let r = self.task.await.context("server task")?;
        self.store.close().await;
        r
    }

    /// A handle that begins shutting down: /readyz answers 503 `draining` at once; after
    /// `drain` (requests still served meanwhile) the server stops accepting and finishes
    /// those in flight.
    pub fn drainer(&self, drain: Duration) -> impl FnOnce() -> JoinHandle<()> + Send + 'static {
        let (draining, stop) = (self.draining.clone(), self.stop.clone());
        move || {
            draining.store(true, std::sync::atomic::Ordering::SeqCst);
            tracing::info!(secs = drain.as_secs(), "draining: /readyz answers 503 until the server stops accepting");
            tokio::spawn(async move {
                tokio::time::sleep(drain).await;
                let _ = stop.send(true);
            })
        }
    }

    /// A sender that stops the server when `true` is sent (for signal handlers).
    pub fn stopper(&self) -> watch::Sender<bool> {
        self.stop.clone()
    }

    /// Wait until the server task ends.
    pub async fn wait(self) -> anyhow::Result<()> {
        let r = self.task.await.context("server task")?;
        self.store.close().await;
        r
    }
}

/// The embedded bus's durable consumers.
pub fn consumers() -> Vec<Arc<dyn Consumer>> {
    vec![Arc::new(EventCounter)]
}

/// Where accepted client events go (`ingest.sink`): the embedded log (flushed to disk every
/// second until `stop`) or a JetStream stream on `bus.url`.
pub async fn client_event_sink(
    config: &Config,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<Arc<dyn innkeep_app::ingest::ClientEventSink>> {
    let retention = Duration::from_secs(config.ingest.retention_days.max(1) * 24 * 3600);
    match config.ingest.sink.as_str() {
        "log" => {
            let log = Arc::new(
                innkeep_events::log::EventLog::open(innkeep_events::log::LogOptions {
                    dir: config.data_dir.join("client-events"),
                    segment_bytes: config.ingest.segment_mib.max(1) * 1024 * 1024,
                    retention,
                    compact: config.ingest.compact,
                })
                .context("opening the client event log")?,
            );
            tokio::spawn(innkeep_events::log::sync_every(log.clone(), Duration::from_secs(1), stop));
            Ok(log)
        }
        "nats" => {
            anyhow::ensure!(!config.bus.url.is_empty(), "ingest.sink = \"nats\" needs bus.url");
            let stream = innkeep_events::client_stream::ClientStream::connect(
                &innkeep_events::client_stream::ClientStreamOptions {
                    url: config.bus.url.clone(),
                    stream: config.ingest.stream.clone(),
                    subject_prefix: config.ingest.subject_prefix.clone(),
                    max_age: retention,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("connecting the client event stream to NATS: {e}"))?;
            Ok(Arc::new(stream))
        }
        other => anyhow::bail!("ingest.sink must be \"log\" or \"nats\", not {other:?}"),
    }
}

/// Where the lake takes client events from: the closed segments of this node's log, or the
/// JetStream stream every node publishes to.
pub async fn client_source(config: &Config) -> anyhow::Result<Arc<dyn innkeep_app::ingest::ClientSource>> {
    match config.ingest.sink.as_str() {
        "nats" => {
            let source = innkeep_events::client_stream::StreamSource::connect(&config.bus.url, &config.ingest.stream)
                .await
                .map_err(|e| anyhow::anyhow!("connecting the lake to the client event stream: {e}"))?;
            Ok(Arc::new(source))
        }
        _ => Ok(Arc::new(innkeep_events::log::ClosedSegments(config.data_dir.join("client-events")))),
    }
}

/// Where the NATS relay publishes.
pub fn nats_options(config: &Config) -> NatsOptions {
    NatsOptions {
        url: config.bus.url.clone(),
        stream: config.bus.stream.clone(),
        subject_prefix: config.bus.subject_prefix.clone(),
    }
}

/// Resolves on SIGTERM or SIGINT. The handlers are installed when this is called, not when
/// the future is first polled: call it before the server accepts, so that a SIGTERM sent as
/// soon as `/readyz` answers 200 drains the node instead of killing it.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let (term, int) = {
        use tokio::signal::unix::{SignalKind, signal};
        (signal(SignalKind::terminate()).ok(), signal(SignalKind::interrupt()).ok())
    };
    async move {
        #[cfg(unix)]
        {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = wait(term) => {}
                _ = wait(int) => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutdown signal received; draining");
    }
}
