//! The private cloud: the VMs the plan needs, the OpenStack servers that host them (admin,
//! controllers, compute, Ceph storage), switches, racks and power, and the monthly cost of
//! owning and running them; and the capacity planner's checks.

use crate::bill::Bill;
use crate::prices::{NodeClass, OpenStack};
use crate::profile::Private;
use crate::sizing::Plan;
use serde::Serialize;

/// The design's smallest web node (deploy/openstack/heat: flavor m1.medium, app_vcpus 2).
pub const WEB_MIN_VCPUS: u32 = 2;
pub const WEB_MIN_MEMORY_GIB: f64 = 4.0;
/// The design's fewest web nodes (deploy/aws: app_min_size "at least 2").
pub const WEB_MIN_NODES: u32 = 2;

/// A kind of VM and how many.
#[derive(Debug, Clone, Serialize)]
pub struct Vm {
    pub role: String,
    pub count: u32,
    pub vcpus: u32,
    pub memory_gib: f64,
    /// Block storage per VM beyond its root disk.
    pub volume_gb: f64,
}

/// One row of the bill of materials.
#[derive(Debug, Clone, Serialize)]
pub struct BomRow {
    pub class: String,
    pub what: String,
    pub count: u32,
    pub unit_price: f64,
    pub capex: f64,
}

/// The operating figures in force: the price file's, overridden by the profile's.
#[derive(Debug, Clone, Serialize)]
pub struct Terms {
    pub amortisation_years: f64,
    pub capital_rate: f64,
    pub kwh_price: f64,
    pub pue: f64,
    pub rack_month: f64,
    pub transit_mbps_month: f64,
    pub support_per_server_year: f64,
    pub staff_fte_minimum: f64,
    pub staff_cost_per_fte_year: f64,
}

impl Terms {
    pub fn new(os: &OpenStack, p: &Private) -> Terms {
        let d = &os.defaults;
        Terms {
            amortisation_years: p.amortisation_years.unwrap_or(d.amortisation_years),
            capital_rate: p.capital_rate.unwrap_or(d.capital_rate),
            kwh_price: p.kwh_price.unwrap_or(d.kwh_price),
            pue: p.pue.unwrap_or(d.pue),
            rack_month: p.rack_month.unwrap_or(d.rack_month),
            transit_mbps_month: p.transit_mbps_month.unwrap_or(d.transit_mbps_month),
            support_per_server_year: p.support_per_server_year.unwrap_or(d.support_per_server_year),
            staff_fte_minimum: p.staff_fte_minimum.unwrap_or(d.staff_fte_minimum),
            staff_cost_per_fte_year: p.staff_cost_per_fte_year.unwrap_or(d.staff_cost_per_fte_year),
        }
    }
}

/// The private cloud for a plan.
#[derive(Debug, Clone, Serialize)]
pub struct PrivateCloud {
    pub vms: Vec<Vm>,
    pub vm_vcpus: u32,
    pub vm_memory_gib: f64,
    pub compute_nodes: u32,
    /// What decides the compute nodes: "vCPU", "memory" or "minimum".
    pub compute_bound: String,
    pub web_per_compute_node: u32,
    pub storage_nodes: u32,
    pub storage_raw_tb: f64,
    pub racks: u32,
    pub kw: f64,
    pub bom: Vec<BomRow>,
    pub capex: f64,
    pub checks: Vec<String>,
    pub terms: Terms,
    pub bill: Bill,
}

/// Monthly payment that repays `capex` over `years` at `rate` a year (straight line at 0).
pub fn monthly_capital(capex: f64, years: f64, rate: f64) -> f64 {
    let n = years * 12.0;
    if n <= 0.0 {
        return capex;
    }
    let r = rate / 12.0;
    if r <= 0.0 { capex / n } else { capex * r / (1.0 - (1.0 + r).powf(-n)) }
}

/// Most of anything counted (no deployment comes near it; it keeps every product in u32).
const MOST: f64 = 1_000_000.0;

fn ceil(x: f64) -> u32 {
    if x.is_finite() && x > 0.0 {
        x.ceil().min(MOST) as u32
    } else if x > 0.0 {
        MOST as u32
    } else {
        0
    }
}

fn class(os: &OpenStack, name: &str, price: Option<f64>) -> NodeClass {
    let mut c = os.class(name).cloned().unwrap_or_else(|| NodeClass {
        class: name.into(),
        what: String::new(),
        price: 0.0,
        vcpus: 1,
        memory_gib: 1.0,
        reserved_vcpus: 0,
        reserved_memory_gib: 0.0,
        raw_tb: 0.0,
        rack_units: 1,
        watts: 0.0,
        minimum: 1,
    });
    if let Some(p) = price {
        c.price = p;
    }
    c
}

/// The VMs a plan needs on the private cloud (one region).
pub fn vms(plan: &Plan) -> Vec<Vm> {
    let pg = &plan.postgres;
    let w = &plan.web;
    vec![
        Vm {
            role: "web node".into(),
            count: w.nodes,
            vcpus: w.instance.vcpus,
            memory_gib: w.instance.memory_gib,
            volume_gb: 0.0,
        },
        Vm {
            role: "PostgreSQL primary and synchronous standby".into(),
            count: 2,
            vcpus: pg.class.vcpus,
            memory_gib: pg.class.memory_gib,
            volume_gb: pg.allocated_gb,
        },
        Vm {
            role: "PostgreSQL read replica".into(),
            count: pg.replicas,
            vcpus: pg.class.vcpus,
            memory_gib: pg.class.memory_gib,
            volume_gb: pg.allocated_gb,
        },
        Vm {
            role: "Redis".into(),
            count: plan.cache.nodes,
            vcpus: plan.cache.node.vcpus,
            memory_gib: plan.cache.node.memory_gib.ceil(),
            volume_gb: 0.0,
        },
        Vm {
            role: "NATS JetStream".into(),
            count: plan.bus.servers,
            vcpus: plan.bus.instance.vcpus,
            memory_gib: plan.bus.instance.memory_gib,
            volume_gb: plan.bus.volume_gb_each,
        },
        Vm {
            role: "Spark (primary and workers, kept running)".into(),
            count: plan.analytics.private_workers + 1,
            vcpus: 4,
            memory_gib: 16.0,
            volume_gb: 100.0,
        },
        Vm { role: "Octavia amphora (active and standby)".into(), count: 2, vcpus: 1, memory_gib: 1.0, volume_gb: 0.0 },
        Vm { role: "bastion and Prometheus".into(), count: 2, vcpus: 2, memory_gib: 8.0, volume_gb: 200.0 },
    ]
}

/// Build the private cloud for `plan` and price a month of it.
pub fn build(plan: &Plan, os: &OpenStack, p: &Private) -> PrivateCloud {
    let t = Terms::new(os, p);
    let d = &os.defaults;
    let vms = vms(plan);
    let vm_vcpus: u32 = vms.iter().map(|v| v.count * v.vcpus).sum();
    let vm_memory_gib: f64 = vms.iter().map(|v| f64::from(v.count) * v.memory_gib).sum();
    let largest = vms
        .iter()
        .filter(|v| v.count > 0)
        .map(|v| (v.vcpus, v.memory_gib))
        .fold((0u32, 0.0f64), |a, b| (a.0.max(b.0), a.1.max(b.1)));

    let admin = class(os, "admin", None);
    let controller = class(os, "controller", None);
    let compute = class(os, "compute", p.compute_node_price);
    let storage = class(os, "storage", p.storage_node_price);

    // Compute: no overcommit (steady latency), N+1 hosts, at least the class minimum (the
    // database's primary, standby and a replica on three different hosts).
    let usable_vcpus = compute.vcpus.saturating_sub(compute.reserved_vcpus).max(1);
    let usable_mem = (compute.memory_gib - compute.reserved_memory_gib).max(1.0);
    let by_cpu = ceil(f64::from(vm_vcpus) / f64::from(usable_vcpus));
    let by_mem = ceil(vm_memory_gib / usable_mem);
    let compute_bound = if by_cpu.max(by_mem) + 1 < compute.minimum {
        "minimum"
    } else if by_cpu >= by_mem {
        "vCPU"
    } else {
        "memory"
    };
    let compute_nodes = (by_cpu.max(by_mem) + 1).max(compute.minimum);
    let w = &plan.web.instance;
    let web_per_compute_node = (usable_vcpus / w.vcpus.max(1)).min((usable_mem / w.memory_gib.max(1.0)).floor() as u32);

    // Ceph: every byte kept `ceph_replicas` times, planned to `ceph_max_fill`.
    let o = &plan.objects;
    let vm_gb: f64 = vms.iter().map(|v| f64::from(v.count) * (v.volume_gb + d.vm_root_gb)).sum();
    let stored_gb = o.photos_gb + o.lake_gb + o.backups_gb + vm_gb;
    let storage_raw_tb = stored_gb * f64::from(d.ceph_replicas) / d.ceph_max_fill / 1000.0;
    let storage_nodes = ceil(storage_raw_tb / storage.raw_tb.max(0.001)).max(storage.minimum);

    let admins = admin.minimum.max(1);
    let controllers = controller.minimum.max(1);
    let servers = admins + controllers + compute_nodes + storage_nodes;
    let server_units = admins * admin.rack_units
        + controllers * controller.rack_units
        + compute_nodes * compute.rack_units
        + storage_nodes * storage.rack_units;
    let racks = server_units.div_ceil(d.rack_units_for_servers.max(1)).max(1);

    let mut bom = vec![
        row(&admin, admins),
        row(&controller, controllers),
        row(&compute, compute_nodes),
        row(&storage, storage_nodes),
    ];
    let mut watts = f64::from(admins) * admin.watts
        + f64::from(controllers) * controller.watts
        + f64::from(compute_nodes) * compute.watts
        + f64::from(storage_nodes) * storage.watts;
    for s in &os.switches {
        let n = s.per_rack * racks;
        bom.push(BomRow {
            class: s.class.clone(),
            what: s.what.clone(),
            count: n,
            unit_price: s.price,
            capex: f64::from(n) * s.price,
        });
        watts += f64::from(n) * s.watts;
    }
    let capex: f64 = bom.iter().map(|r| r.capex).sum();
    let kw = watts / 1000.0;

    let mut checks = Vec::new();
    checks.push(format!(
        "a compute node ({} vCPU, {} GiB, {} vCPU and {} GiB kept for the host) hosts {} web nodes of {} vCPU / {} GiB",
        compute.vcpus,
        compute.memory_gib,
        compute.reserved_vcpus,
        compute.reserved_memory_gib,
        web_per_compute_node,
        w.vcpus,
        w.memory_gib
    ));
    let web_ok = w.vcpus >= WEB_MIN_VCPUS && w.memory_gib >= WEB_MIN_MEMORY_GIB;
    checks.push(format!(
        "web node {} vCPU / {} GiB against the design's smallest ({WEB_MIN_VCPUS} vCPU / {WEB_MIN_MEMORY_GIB} GiB, deploy/openstack/heat m1.medium): {}",
        w.vcpus,
        w.memory_gib,
        if web_ok { "ok" } else { "TOO SMALL" }
    ));
    checks.push(format!(
        "{} web nodes against the design's fewest ({WEB_MIN_NODES}, deploy/aws app_min_size): {}",
        plan.web.nodes,
        if plan.web.nodes >= WEB_MIN_NODES { "ok" } else { "TOO FEW" }
    ));
    let fits = largest.0 <= usable_vcpus && largest.1 <= usable_mem;
    checks.push(format!(
        "largest VM ({} vCPU / {} GiB) fits on one compute node: {}",
        largest.0,
        largest.1,
        if fits { "yes" } else { "NO: choose a larger compute node class" }
    ));
    checks.push(format!(
        "{compute_nodes} compute nodes: {} (N+1; at least {} so the primary, its standby and a replica sit on different hosts)",
        match compute_bound {
            "minimum" => "the minimum decides".to_string(),
            b => format!("{b} decides"),
        },
        compute.minimum
    ));
    checks.push(format!(
        "{storage_nodes} Ceph storage nodes for {:.1} TB raw ({} copies, filled to {:.0}%)",
        storage_raw_tb,
        d.ceph_replicas,
        d.ceph_max_fill * 100.0
    ));

    // The month.
    let mut bill = Bill::default();
    let capital = monthly_capital(capex, t.amortisation_years, t.capital_rate);
    bill.add(
        "hardware",
        format!(
            "servers and switches, {capex:.0} over {} years at {:.1}%",
            t.amortisation_years,
            t.capital_rate * 100.0
        ),
        f64::from(servers),
        "servers",
        capital,
    );
    let kwh = kw * os.hours_per_month * t.pue;
    bill.add("power", format!("{kw:.1} kW x PUE {} x {} per kWh", t.pue, t.kwh_price), kwh, "kWh", kwh * t.kwh_price);
    bill.add("space", format!("{racks} racks"), f64::from(racks), "racks", f64::from(racks) * t.rack_month);
    let mbps = plan.traffic.peak_mbps.max(d.transit_min_mbps);
    bill.add("transfer", "internet transit (95th percentile)", mbps, "Mbps", mbps * t.transit_mbps_month);
    bill.add(
        "support",
        "hardware support and OS/OpenStack subscriptions",
        f64::from(servers),
        "servers",
        f64::from(servers) * t.support_per_server_year / 12.0,
    );
    let fte = t.staff_fte_minimum + d.staff_fte_per_server * f64::from(servers);
    bill.add("staff", "running the hardware and OpenStack", fte, "FTE", fte * t.staff_cost_per_fte_year / 12.0);
    let bill = bill.times(f64::from(plan.regions));

    PrivateCloud {
        vms,
        vm_vcpus,
        vm_memory_gib,
        compute_nodes,
        compute_bound: compute_bound.into(),
        web_per_compute_node,
        storage_nodes,
        storage_raw_tb,
        racks,
        kw,
        bom,
        capex: capex * f64::from(plan.regions),
        checks,
        terms: t,
        bill,
    }
}

fn row(c: &NodeClass, count: u32) -> BomRow {
    BomRow {
        class: c.class.clone(),
        what: c.what.clone(),
        count,
        unit_price: c.price,
        capex: f64::from(count) * c.price,
    }
}
