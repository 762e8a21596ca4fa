//! The parts beside the database that the binary wires in: object storage (a local
//! directory or S3) and the health probes the operator dashboard lists (database, read
//! replicas, bus consumers, NATS relay, search index, object storage).

use crate::config::Config;
use anyhow::Context;
use async_trait::async_trait;
use innkeep_app::Ports;
use innkeep_app::health::{ConsumerProbe, DatabaseProbe, FixedProbe, PartHealth, Probe, Status};
use innkeep_app::objects::ObjectStorage;
use innkeep_objects::{Location, S3Options, bucket_of};
use innkeep_search::SearchIndex;
use std::sync::Arc;

/// Consumer lag (events) above which a consumer shows as behind.
const MAX_LAG: i64 = 1_000;

/// Where objects go according to the configuration.
pub fn object_location(config: &Config) -> anyhow::Result<Location> {
    let s = &config.storage;
    if s.url.is_empty() {
        return Ok(Location::Directory(config.data_dir.join("objects")));
    }
    let bucket = bucket_of(&s.url).map_err(|e| anyhow::anyhow!("storage.url: {e}"))?;
    Ok(Location::S3(S3Options {
        bucket,
        endpoint: s.endpoint.clone(),
        region: s.region.clone(),
        access_key_id: s.access_key_id.clone(),
        secret_access_key: s.secret_access_key.clone(),
    }))
}

/// Open the configured object storage.
pub fn open_objects(config: &Config) -> anyhow::Result<Arc<dyn ObjectStorage>> {
    let objects = innkeep_objects::open(&object_location(config)?).context("opening object storage")?;
    tracing::info!(at = %objects.describe(), "object storage");
    Ok(Arc::new(objects))
}

/// How far the node's search index is behind the outbox.
struct SearchFreshness {
    index: Arc<SearchIndex>,
    store: Arc<dyn innkeep_app::Store>,
}

#[async_trait]
impl Probe for SearchFreshness {
    async fn check(&self) -> Vec<PartHealth> {
        let part = "search index (this node)";
        let at = self.index.position();
        vec![match self.store.last_event_seq().await {
            Err(e) => PartHealth::new(part, Status::Down, e.to_string()),
            Ok(_) if at < 0 => PartHealth::new(part, Status::Down, "not built yet"),
            Ok(newest) => {
                let behind = (newest - at).max(0);
                let status = if behind > MAX_LAG { Status::Warn } else { Status::Ok };
                PartHealth::new(
                    part,
                    status,
                    format!("{} documents; {behind} outbox events behind", self.index.num_docs()),
                )
            }
        }]
    }
}

/// The read replicas as the store last measured them.
struct ReplicasProbe(Arc<dyn innkeep_app::Store>);

#[async_trait]
impl Probe for ReplicasProbe {
    async fn check(&self) -> Vec<PartHealth> {
        let replicas = self.0.replicas();
        if replicas.is_empty() {
            return vec![PartHealth::new("read replicas", Status::Off, "none configured (database.replicas is empty)")];
        }
        replicas
            .into_iter()
            .map(|r| {
                let part = format!("read replica {}", r.name);
                let lag = r.lag_seconds.map_or("lag unknown".to_string(), |s| format!("lag {s:.1} s"));
                match (r.up, r.serving) {
                    (false, _) => PartHealth::new(part, Status::Down, "not answering; its reads run on the primary"),
                    (true, false) => PartHealth::new(part, Status::Warn, format!("{lag}: too far behind to serve")),
                    (true, true) => PartHealth::new(part, Status::Ok, format!("{lag}; {} reads served", r.reads)),
                }
            })
            .collect()
    }
}

/// Object storage answers a read.
struct ObjectsProbe(Arc<dyn ObjectStorage>);

#[async_trait]
impl Probe for ObjectsProbe {
    async fn check(&self) -> Vec<PartHealth> {
        let part = "object storage";
        vec![match self.0.get("health/probe").await {
            Ok(_) => PartHealth::new(part, Status::Ok, self.0.describe()),
            Err(e) => PartHealth::new(part, Status::Down, format!("{}: {e}", self.0.describe())),
        }]
    }
}

/// The parts the dashboard lists, in order.
pub fn probes(
    config: &Config,
    ports: &Ports,
    index: Arc<SearchIndex>,
    objects: Arc<dyn ObjectStorage>,
    consumers: &[String],
) -> Vec<Arc<dyn Probe>> {
    let store = ports.store.clone();
    let mut out: Vec<Arc<dyn Probe>> =
        vec![Arc::new(DatabaseProbe(store.clone())), Arc::new(ReplicasProbe(store.clone()))];
    for c in consumers {
        out.push(Arc::new(ConsumerProbe {
            store: store.clone(),
            consumer: c.clone(),
            label: format!("bus consumer {c}"),
            max_lag: MAX_LAG,
        }));
    }
    if config.bus.url.is_empty() {
        out.push(Arc::new(FixedProbe(PartHealth::new(
            "NATS relay",
            Status::Off,
            "not configured (bus.url is empty): events stay on the embedded bus",
        ))));
    } else {
        out.push(Arc::new(ConsumerProbe {
            store: store.clone(),
            consumer: innkeep_events::nats::RELAY.to_string(),
            label: "NATS relay".into(),
            max_lag: MAX_LAG,
        }));
    }
    out.push(Arc::new(SearchFreshness { index, store }));
    out.push(Arc::new(ObjectsProbe(objects)));
    out
}
