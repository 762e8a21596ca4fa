//! `innkeep cost`: what Innkeep costs per month on a public cloud (AWS list prices) and on a
//! private cloud (an OpenStack bill of materials), for the operator's load profile and the
//! capacity of one node measured by `innkeep bench embedded --json`; where the two cross;
//! and how the answer moves with utilisation, commitment and amortisation.
//!
//! Pure: no I/O, no clock. The binary reads the files; this crate parses and computes.

pub mod bill;
pub mod capacity;
mod chart;
mod output;
pub mod prices;
pub mod private;
pub mod profile;
pub mod public;
pub mod sizing;

pub use capacity::{Capacity, CapacityError, Measured};
pub use output::usd;
pub use prices::Prices;
pub use profile::{Commitment, Profile, ProfileError};

use bill::Bill;
use private::PrivateCloud;
use serde::Serialize;
use sizing::Plan;

/// The example profiles and the measured capacity shipped in `examples/`.
pub mod examples {
    pub const SMALL: &str = include_str!("../../../examples/small.toml");
    pub const MID_SIZE: &str = include_str!("../../../examples/mid-size.toml");
    pub const LARGE: &str = include_str!("../../../examples/large.toml");
    pub const CAPACITY: &str = include_str!("../../../examples/capacity.json");
}

/// Why no report could be made.
#[derive(Debug, thiserror::Error)]
pub enum CostError {
    #[error("profile: {0}")]
    Profile(#[from] ProfileError),
    #[error("capacity: {0}")]
    Capacity(#[from] CapacityError),
    #[error(
        "no capacity: give `--capacity` a file from `innkeep bench embedded --json FILE`, or a [capacity] table in the profile"
    )]
    NoCapacity,
    #[error("price file {file}: {message}")]
    Prices { file: &'static str, message: String },
    #[error("writing the table: {0}")]
    Output(String),
}

/// Where the prices come from.
#[derive(Debug, Clone, Serialize)]
pub struct PriceNote {
    pub aws_date: String,
    pub aws_region: String,
    pub aws_status: String,
    pub aws_sources: Vec<String>,
    pub openstack_date: String,
    pub openstack_status: String,
}

/// Both monthly totals at one load.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Point {
    /// The load as a multiple of the profile's.
    pub multiplier: f64,
    pub peak_searches_per_s: f64,
    pub peak_bookings_per_hour: f64,
    pub public: f64,
    pub private: f64,
}

/// The load at which the cheaper cloud changes.
#[derive(Debug, Clone, Serialize)]
pub struct BreakEven {
    pub multiplier: f64,
    pub peak_searches_per_s: f64,
    pub peak_bookings_per_hour: f64,
    pub monthly: f64,
    /// The cheaper cloud below this load.
    pub cheaper_below: String,
    /// How many times the two curves cross in the range (steps can make them cross again).
    pub crossings: usize,
}

/// A part of the system that grows as load grows, and at which multiple of the load.
#[derive(Debug, Clone, Serialize)]
pub struct Growth {
    pub multiplier: f64,
    pub what: String,
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Sensitivity {
    /// (target utilisation, public, private)
    pub utilisation: Vec<(f64, f64, f64)>,
    /// (commitment, public)
    pub commitment: Vec<(String, f64)>,
    /// (amortisation years, private)
    pub amortisation: Vec<(f64, f64)>,
}

/// Everything `innkeep cost` answers for one profile.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub profile: String,
    pub commitment: String,
    pub capacity: Capacity,
    pub prices: PriceNote,
    pub plan: Plan,
    pub public: Bill,
    pub public_monthly: f64,
    pub private: PrivateCloud,
    pub private_monthly: f64,
    pub cheaper: String,
    pub break_even: Option<BreakEven>,
    pub curve: Vec<Point>,
    pub grows_first: Vec<Growth>,
    pub sensitivity: Sensitivity,
    pub warnings: Vec<String>,
}

/// The loads the curve is drawn over, as multiples of the profile's: 0.02 to 50.
pub const CURVE_FROM: f64 = 0.02;
pub const CURVE_TO: f64 = 50.0;
const CURVE_POINTS: usize = 121;

/// The plan and both bills for one profile.
pub fn price(p: &Profile, cap: &Capacity, prices: &Prices) -> (Plan, Bill, PrivateCloud) {
    let plan = sizing::plan(p, cap, &prices.aws);
    let public = public::bill(&plan, &prices.aws, p.public.commitment, p.public.business_support.unwrap_or(true));
    let private = private::build(&plan, &prices.openstack, &p.private);
    (plan, public, private)
}

/// Both monthly totals for one profile.
pub fn totals(p: &Profile, cap: &Capacity, prices: &Prices) -> (f64, f64) {
    let (_, public, private) = price(p, cap, prices);
    (public.total(), private.bill.total())
}

impl Report {
    /// Size and price `profile` with the measured capacity (else the profile's own).
    pub fn build(profile: &Profile, measured: Option<&Measured>, prices: &Prices) -> Result<Report, CostError> {
        let cap = match (measured, &profile.capacity) {
            (Some(m), _) => m.capacity(),
            (None, Some(c)) => c.capacity(),
            (None, None) => return Err(CostError::NoCapacity),
        };
        let (plan, public, private) = price(profile, &cap, prices);
        let (public_monthly, private_monthly) = (public.total(), private.bill.total());

        let point = |k: f64| {
            let q = profile.scaled(k);
            let (public, private) = totals(&q, &cap, prices);
            Point {
                multiplier: k,
                peak_searches_per_s: q.load.peak_searches_per_s,
                peak_bookings_per_hour: q.load.peak_bookings_per_hour,
                public,
                private,
            }
        };
        let step = (CURVE_TO / CURVE_FROM).ln() / (CURVE_POINTS - 1) as f64;
        let curve: Vec<Point> = (0..CURVE_POINTS).map(|i| point(CURVE_FROM * (step * i as f64).exp())).collect();
        let break_even = break_even(&curve);

        let mut warnings = Vec::new();
        if plan.postgres.over_largest {
            warnings.push(format!(
                "the PostgreSQL primary needs more than the largest class priced ({}): partition the data or add a class to aws.toml",
                plan.postgres.class.name
            ));
        }
        if private.checks.iter().any(|c| c.contains("NO:") || c.contains("TOO")) {
            warnings.push("a capacity planner check failed (see the checks)".into());
        }
        if cap.node_vcpus != plan.web.instance.vcpus {
            warnings.push(format!(
                "capacity was measured on {} vCPU; web nodes are {} with {} vCPU, assumed to scale with vCPUs",
                cap.node_vcpus, plan.web.instance.name, plan.web.instance.vcpus
            ));
        }

        let sensitivity = Sensitivity {
            utilisation: [0.4, 0.5, 0.6, 0.7, 0.8]
                .iter()
                .map(|&u| {
                    let mut q = profile.clone();
                    q.sizing.target_utilisation = u;
                    let (a, b) = totals(&q, &cap, prices);
                    (u, a, b)
                })
                .collect(),
            commitment: Commitment::ALL
                .iter()
                .map(|&c| {
                    let mut q = profile.clone();
                    q.public.commitment = c;
                    (c.as_str().to_string(), totals(&q, &cap, prices).0)
                })
                .collect(),
            amortisation: [3.0, 4.0, 5.0, 6.0, 7.0]
                .iter()
                .map(|&y| {
                    let mut q = profile.clone();
                    q.private.amortisation_years = Some(y);
                    (y, totals(&q, &cap, prices).1)
                })
                .collect(),
        };

        let a = &prices.aws;
        let o = &prices.openstack;
        Ok(Report {
            profile: profile.name.clone(),
            commitment: profile.public.commitment.as_str().into(),
            grows_first: grows_first(profile, &cap, prices),
            capacity: cap,
            prices: PriceNote {
                aws_date: a.date.clone(),
                aws_region: a.region.clone(),
                aws_status: a.status.clone(),
                aws_sources: a.sources.clone(),
                openstack_date: o.date.clone(),
                openstack_status: o.status.clone(),
            },
            cheaper: if public_monthly <= private_monthly { "public".into() } else { "private".into() },
            plan,
            public,
            public_monthly,
            private,
            private_monthly,
            break_even,
            curve,
            sensitivity,
            warnings,
        })
    }
}

/// Where public minus private changes sign along the curve, interpolated on the log of
/// the load; the first such load.
pub fn break_even(curve: &[Point]) -> Option<BreakEven> {
    let diff = |p: &Point| p.public - p.private;
    let mut found: Option<BreakEven> = None;
    let mut crossings = 0;
    for w in curve.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        let (da, db) = (diff(a), diff(b));
        if da == 0.0 || (da < 0.0) == (db < 0.0) {
            continue;
        }
        crossings += 1;
        if found.is_some() {
            continue;
        }
        let f = da / (da - db);
        let lk = a.multiplier.ln() + f * (b.multiplier.ln() - a.multiplier.ln());
        let k = lk.exp();
        let r = k / a.multiplier;
        found = Some(BreakEven {
            multiplier: k,
            peak_searches_per_s: a.peak_searches_per_s * r,
            peak_bookings_per_hour: a.peak_bookings_per_hour * r,
            monthly: a.public + f * (b.public - a.public),
            cheaper_below: if da < 0.0 { "public".into() } else { "private".into() },
            crossings: 0,
        });
    }
    found.map(|mut b| {
        b.crossings = crossings;
        b
    })
}

/// What grows first as load grows: for each part, the smallest multiple of the load (up to
/// x10, in steps of 10%) at which its count or size changes.
pub fn grows_first(profile: &Profile, cap: &Capacity, prices: &Prices) -> Vec<Growth> {
    fn parts(plan: &Plan, pc: &PrivateCloud) -> Vec<(&'static str, String)> {
        vec![
            ("web nodes", plan.web.nodes.to_string()),
            ("PostgreSQL primary class", plan.postgres.class.name.clone()),
            ("PostgreSQL read replicas", plan.postgres.replicas.to_string()),
            ("cache node type", plan.cache.node.name.clone()),
            ("NATS server type", plan.bus.instance.name.clone()),
            ("Spark workers (private)", plan.analytics.private_workers.to_string()),
            ("compute nodes (private)", pc.compute_nodes.to_string()),
            ("Ceph storage nodes (private)", pc.storage_nodes.to_string()),
            ("racks (private)", pc.racks.to_string()),
        ]
    }
    let (plan, _, pc) = price(profile, cap, prices);
    let base = parts(&plan, &pc);
    let mut seen: Vec<Growth> = Vec::new();
    let mut k = 1.0;
    for _ in 0..25 {
        k *= 1.1;
        let (plan, _, pc) = price(&profile.scaled(k), cap, prices);
        for ((what, from), (_, to)) in base.iter().zip(parts(&plan, &pc)) {
            if *from != to && !seen.iter().any(|g| g.what == *what) {
                seen.push(Growth { multiplier: k, what: (*what).into(), from: from.clone(), to });
            }
        }
    }
    seen
}
