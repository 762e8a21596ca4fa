//! What one web node carries: measured by `innkeep bench embedded --json FILE` on the
//! operator's own hardware, or entered in the profile's `[capacity]` table.

use serde::{Deserialize, Serialize};

/// Capacity of one web node of `node_vcpus` vCPUs, each figure measured alone at 100% of
/// the node, so a mix of work uses the sum of its shares.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Capacity {
    pub bookings_per_s: f64,
    pub search_req_per_s: f64,
    pub availability_req_per_s: f64,
    pub events_per_s: f64,
    pub node_vcpus: u32,
    /// Where the figures come from, for the tables.
    pub source: String,
}

/// Capacity entered in the profile.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapacityEntry {
    pub bookings_per_s: f64,
    pub search_req_per_s: f64,
    pub availability_req_per_s: f64,
    pub events_per_s: f64,
    /// vCPUs of the machine the figures hold for (default 2).
    #[serde(default = "two")]
    pub node_vcpus: u32,
    #[serde(default)]
    pub note: Option<String>,
}

fn two() -> u32 {
    2
}

impl CapacityEntry {
    pub(crate) fn validate(&self) -> Result<(), (String, String)> {
        for (f, v) in [
            ("bookings_per_s", self.bookings_per_s),
            ("search_req_per_s", self.search_req_per_s),
            ("availability_req_per_s", self.availability_req_per_s),
            ("events_per_s", self.events_per_s),
        ] {
            if !v.is_finite() || v <= 0.0 {
                return Err((f.to_string(), "must be a measured rate above zero".into()));
            }
        }
        if !(1..=512).contains(&self.node_vcpus) {
            return Err(("node_vcpus".into(), "must be 1 to 512".into()));
        }
        Ok(())
    }

    pub fn capacity(&self) -> Capacity {
        Capacity {
            bookings_per_s: self.bookings_per_s,
            search_req_per_s: self.search_req_per_s,
            availability_req_per_s: self.availability_req_per_s,
            events_per_s: self.events_per_s,
            node_vcpus: self.node_vcpus,
            source: self.note.clone().unwrap_or_else(|| "entered in the profile".into()),
        }
    }
}

/// The file `innkeep bench embedded --json` writes (other fields in it are ignored).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measured {
    pub date: String,
    pub machine: Machine,
    pub bookings_per_s: f64,
    pub availability_req_per_s: f64,
    pub search_req_per_s: f64,
    pub events_per_s: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Machine {
    pub cores: u32,
    pub cpu_model: String,
}

/// A capacity file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CapacityError {
    #[error("not a capacity file from `innkeep bench embedded --json`: {0}")]
    Unreadable(String),
    #[error("`{field}`: {message}")]
    Invalid { field: String, message: String },
}

impl Measured {
    pub fn parse(json: &str) -> Result<Measured, CapacityError> {
        let m: Measured = serde_json::from_str(json).map_err(|e| CapacityError::Unreadable(e.to_string()))?;
        m.entry().validate().map_err(|(field, message)| CapacityError::Invalid { field, message })?;
        Ok(m)
    }

    fn entry(&self) -> CapacityEntry {
        CapacityEntry {
            bookings_per_s: self.bookings_per_s,
            search_req_per_s: self.search_req_per_s,
            availability_req_per_s: self.availability_req_per_s,
            events_per_s: self.events_per_s,
            node_vcpus: self.machine.cores,
            note: Some(format!(
                "measured by `innkeep bench embedded` on {} ({} vCPU, {})",
                self.date.get(..10).unwrap_or(&self.date),
                self.machine.cores,
                self.machine.cpu_model
            )),
        }
    }

    pub fn capacity(&self) -> Capacity {
        self.entry().capacity()
    }
}
