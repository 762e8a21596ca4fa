//! The parts beside the database that the binary wires in: object storage (a local
//! directory or S3), and the list of health probes the operator dashboard shows (each probe
//! lives with its part: database, read replicas, bus consumers, NATS relay, search index,
//! object storage).

use crate::config::Config;
use anyhow::Context;
use innkeep_app::Ports;
use innkeep_app::health::{
    ConsumerProbe, DatabaseProbe, FixedProbe, MAX_LAG, ObjectsProbe, PartHealth, Probe, ReplicasProbe, Status,
};
use innkeep_app::objects::ObjectStorage;
use innkeep_objects::{Location, S3Options, bucket_of};
use innkeep_search::SearchIndex;
use innkeep_search::freshness::FreshnessProbe;
use std::sync::Arc;

/// Where objects go according to the configuration.
pub fn object_location(config: &Config) -> anyhow::Result<Location> {
    let s = &config.storage;
    if s.url.is_empty() {
        return Ok(Location::Directory(config.data_dir.join("objects")));
    }
    let bucket = bucket_of(&s.url).map_err(|e| anyhow::anyhow!("storage.url: {e}"))?;
    Ok(bucket_location(config, &bucket))
}

/// A bucket on the S3 API configured in `[storage]` (its endpoint, region and keys).
pub fn bucket_location(config: &Config, bucket: &str) -> Location {
    let s = &config.storage;
    Location::S3(S3Options {
        bucket: bucket.to_string(),
        endpoint: s.endpoint.clone(),
        region: s.region.clone(),
        access_key_id: s.access_key_id.clone(),
        secret_access_key: s.secret_access_key.clone(),
    })
}

/// Open the configured object storage.
pub fn open_objects(config: &Config) -> anyhow::Result<Arc<dyn ObjectStorage>> {
    let objects = innkeep_objects::open(&object_location(config)?).context("opening object storage")?;
    tracing::info!(at = %objects.describe(), "object storage");
    Ok(Arc::new(objects))
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
    out.push(Arc::new(FreshnessProbe { index, store }));
    out.push(Arc::new(ObjectsProbe(objects)));
    out
}

/// The analytics lake: `data_dir/lake`, or `lake/` in the `storage.url` bucket.
pub fn open_lake(config: &Config) -> anyhow::Result<innkeep_analytics::Lake> {
    match object_location(config)? {
        Location::Directory(_) => {
            innkeep_analytics::Lake::in_directory(&config.data_dir.join("lake")).context("opening the analytics lake")
        }
        s3 @ Location::S3(_) => {
            let objects = innkeep_objects::open(&s3).context("opening the analytics lake")?;
            Ok(innkeep_analytics::Lake::under_prefix(objects.store(), "lake", &objects.describe()))
        }
    }
    .map(|lake| lake.with_threads(config.analytics.writer_threads))
}
