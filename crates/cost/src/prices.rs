//! The two price files, kept in the repository under `crates/cost/prices/` and built into
//! the program: AWS list prices (transcribed, dated) and the private cloud's bill of
//! materials (no public prices: defaults for the operator's own quotes).

use crate::CostError;
use serde::{Deserialize, Serialize};

/// The AWS price file as shipped.
pub const AWS_TOML: &str = include_str!("../prices/aws.toml");
/// The OpenStack bill of materials as shipped.
pub const OPENSTACK_TOML: &str = include_str!("../prices/openstack.toml");

/// Both price files.
#[derive(Debug, Clone, Serialize)]
pub struct Prices {
    pub aws: Aws,
    pub openstack: OpenStack,
}

impl Prices {
    /// The price files built into the program.
    pub fn bundled() -> Result<Prices, CostError> {
        Prices::parse(AWS_TOML, OPENSTACK_TOML)
    }

    /// Price files given as text (an operator's edited copies).
    pub fn parse(aws: &str, openstack: &str) -> Result<Prices, CostError> {
        let aws: Aws =
            toml::from_str(aws).map_err(|e| CostError::Prices { file: "aws.toml", message: e.to_string() })?;
        let openstack: OpenStack = toml::from_str(openstack)
            .map_err(|e| CostError::Prices { file: "openstack.toml", message: e.to_string() })?;
        if aws.ec2.instances.is_empty() || aws.rds.instances.is_empty() || aws.elasticache.nodes.is_empty() {
            return Err(CostError::Prices { file: "aws.toml", message: "an instance list is empty".into() });
        }
        for class in ["admin", "controller", "compute", "storage"] {
            if !openstack.node_classes.iter().any(|n| n.class == class) {
                return Err(CostError::Prices { file: "openstack.toml", message: format!("no `{class}` node class") });
            }
        }
        Ok(Prices { aws, openstack })
    }
}

/// One instance type or class with its on-demand hourly rate.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instance {
    pub name: String,
    pub vcpus: u32,
    pub memory_gib: f64,
    pub hourly: f64,
}

/// One step of a tiered price: applies to the volume up to `up_to_gb` (cumulative).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    pub up_to_gb: f64,
    pub price: f64,
}

/// Price `gb` through tiers (each tier's price for the part of the volume inside it).
pub fn tiered(gb: f64, tiers: &[Tier]) -> f64 {
    let (mut total, mut below) = (0.0, 0.0);
    for t in tiers {
        if gb <= below {
            break;
        }
        total += (gb.min(t.up_to_gb) - below) * t.price;
        below = t.up_to_gb;
    }
    total
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Aws {
    pub provider: String,
    pub region: String,
    pub currency: String,
    pub date: String,
    pub status: String,
    pub hours_per_month: f64,
    pub sources: Vec<String>,
    pub ec2: Ec2,
    pub rds: Rds,
    pub elasticache: ElastiCache,
    pub ebs: Ebs,
    pub s3: S3,
    pub cloudfront: CloudFront,
    pub transfer: Transfer,
    pub alb: Alb,
    pub emr: Emr,
    pub nat: Nat,
    pub cloudwatch: CloudWatch,
    pub support: Support,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ec2 {
    pub savings_1y: f64,
    pub savings_3y: f64,
    pub instances: Vec<Instance>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rds {
    pub multi_az_factor: f64,
    pub reserved_1y: f64,
    pub reserved_3y: f64,
    pub storage_gp3_gb_month: f64,
    pub storage_gp3_gb_month_multi_az: f64,
    pub backup_gb_month: f64,
    pub instances: Vec<Instance>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElastiCache {
    pub reserved_1y: f64,
    pub reserved_3y: f64,
    pub nodes: Vec<Instance>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ebs {
    pub gp3_gb_month: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3 {
    pub standard: Vec<Tier>,
    pub standard_ia_gb_month: f64,
    pub put_per_1000: f64,
    pub get_per_1000: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudFront {
    pub free_gb: f64,
    pub free_requests: f64,
    pub out: Vec<Tier>,
    pub https_per_10000: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    pub free_gb: f64,
    pub out: Vec<Tier>,
    pub inter_az_gb_each_way: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alb {
    pub hourly: f64,
    pub lcu_hourly: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Emr {
    pub instance: Instance,
    pub emr_hourly: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Nat {
    pub hourly: f64,
    pub per_gb: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudWatch {
    pub metric_month: f64,
    pub logs_ingest_gb: f64,
    pub logs_store_gb_month: f64,
    pub alarm_month: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Support {
    pub minimum: f64,
    pub shares: Vec<Share>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Share {
    pub up_to: f64,
    pub share: f64,
}

impl Support {
    /// Business support for a month's bill: the shares by band, at least the minimum.
    pub fn of(&self, bill: f64) -> f64 {
        let tiers: Vec<Tier> = self.shares.iter().map(|s| Tier { up_to_gb: s.up_to, price: s.share }).collect();
        tiered(bill, &tiers).max(self.minimum)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenStack {
    pub provider: String,
    pub currency: String,
    pub date: String,
    pub status: String,
    pub hours_per_month: f64,
    pub sources: Vec<String>,
    pub defaults: PrivateDefaults,
    pub node_classes: Vec<NodeClass>,
    pub switches: Vec<Switch>,
}

impl OpenStack {
    /// The node class of that name (every class the planner uses is checked on parsing).
    pub fn class(&self, name: &str) -> Option<&NodeClass> {
        self.node_classes.iter().find(|n| n.class == name)
    }
}

/// The private cloud's operating figures; each may be overridden in the profile.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivateDefaults {
    pub amortisation_years: f64,
    pub capital_rate: f64,
    pub kwh_price: f64,
    pub pue: f64,
    pub rack_month: f64,
    pub rack_units_for_servers: u32,
    pub transit_mbps_month: f64,
    pub transit_min_mbps: f64,
    pub support_per_server_year: f64,
    pub staff_fte_minimum: f64,
    pub staff_fte_per_server: f64,
    pub staff_cost_per_fte_year: f64,
    pub ceph_replicas: u32,
    pub ceph_max_fill: f64,
    pub vm_root_gb: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeClass {
    pub class: String,
    pub what: String,
    pub price: f64,
    pub vcpus: u32,
    pub memory_gib: f64,
    #[serde(default)]
    pub reserved_vcpus: u32,
    #[serde(default)]
    pub reserved_memory_gib: f64,
    #[serde(default)]
    pub raw_tb: f64,
    pub rack_units: u32,
    pub watts: f64,
    pub minimum: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Switch {
    pub class: String,
    pub what: String,
    pub price: f64,
    pub per_rack: u32,
    pub watts: f64,
}
