//! The health of each part of a deployment, for operators. A probe reports one or more
//! parts; the binary assembles the list (database, bus consumers, NATS relay, search
//! index, object storage, and any part added later such as read replicas).

use crate::Store;
use async_trait::async_trait;
use std::sync::Arc;

/// How a part is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    /// Working, but behind or with parked failures.
    Warn,
    Down,
    /// Not configured on this deployment.
    Off,
}

impl Status {
    /// A lowercase word for pages and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Down => "down",
            Status::Off => "off",
        }
    }
}

/// One part's health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartHealth {
    pub part: String,
    pub status: Status,
    pub detail: String,
}

impl PartHealth {
    /// A part's health with a detail line.
    pub fn new(part: impl Into<String>, status: Status, detail: impl Into<String>) -> PartHealth {
        PartHealth { part: part.into(), status, detail: detail.into() }
    }
}

/// Something that can say how one or more parts are doing.
#[async_trait]
pub trait Probe: Send + Sync + 'static {
    /// Check now.
    async fn check(&self) -> Vec<PartHealth>;
}

/// The database answers and its migrations are applied.
pub struct DatabaseProbe(pub Arc<dyn Store>);

#[async_trait]
impl Probe for DatabaseProbe {
    async fn check(&self) -> Vec<PartHealth> {
        vec![match self.0.ready().await {
            Ok(()) => PartHealth::new("database", Status::Ok, "reachable, migrations applied"),
            Err(e) => PartHealth::new("database", Status::Down, e.to_string()),
        }]
    }
}

/// An outbox consumer's lag (events behind the newest) and parked dead letters.
pub struct ConsumerProbe {
    pub store: Arc<dyn Store>,
    pub consumer: String,
    pub label: String,
    /// Lag above this many events is a warning.
    pub max_lag: i64,
}

#[async_trait]
impl Probe for ConsumerProbe {
    async fn check(&self) -> Vec<PartHealth> {
        let lag = async {
            let newest = self.store.last_event_seq().await?;
            let at = self.store.consumer_position(&self.consumer).await?;
            let dead = self.store.dead_letters(Some(&self.consumer)).await?.len();
            Ok::<_, crate::StoreError>(((newest - at).max(0), dead))
        };
        vec![match lag.await {
            Ok((lag, dead)) => {
                let status = if lag > self.max_lag || dead > 0 { Status::Warn } else { Status::Ok };
                let mut detail = format!("lag {lag} event{}", if lag == 1 { "" } else { "s" });
                if dead > 0 {
                    detail.push_str(&format!(", {dead} dead letter{}", if dead == 1 { "" } else { "s" }));
                }
                PartHealth::new(self.label.clone(), status, detail)
            }
            Err(e) => PartHealth::new(self.label.clone(), Status::Down, e.to_string()),
        }]
    }
}

/// A part whose state is fixed at start, such as one that is not configured.
pub struct FixedProbe(pub PartHealth);

#[async_trait]
impl Probe for FixedProbe {
    async fn check(&self) -> Vec<PartHealth> {
        vec![self.0.clone()]
    }
}

/// Check every probe, in order.
pub async fn check_all(probes: &[Arc<dyn Probe>]) -> Vec<PartHealth> {
    let mut out = Vec::new();
    for p in probes {
        out.extend(p.check().await);
    }
    out
}

/// Consumer lag (events) above which a consumer or an index shows as behind.
pub const MAX_LAG: i64 = 1_000;

/// The read replicas as the store last measured them.
pub struct ReplicasProbe(pub Arc<dyn Store>);

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
pub struct ObjectsProbe(pub Arc<dyn crate::objects::ObjectStorage>);

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
