//! Sizing: from the profile's peak load and one node's measured capacity to the number and
//! size of every tier (web nodes, PostgreSQL, cache, bus, object storage, lake and
//! analytics, load balancer, backups, data transfer). Both clouds price the same plan.

use crate::capacity::Capacity;
use crate::prices::{Aws, Instance};
use crate::profile::Profile;
use serde::Serialize;

/// Days in an average month (365.25 / 12 rounded as AWS does: 730 hours).
pub const DAYS_PER_MONTH: f64 = 730.0 / 24.0;
const KB_PER_GB: f64 = 1e6;

/// The load at peak.
#[derive(Debug, Clone, Serialize)]
pub struct Demand {
    /// Peak hour over the average hour, from the bookings.
    pub peak_factor: f64,
    pub bookings_per_s: f64,
    pub searches_per_s: f64,
    pub availability_per_s: f64,
    pub events_per_s: f64,
    /// Web nodes' worth of work at 100%: the sum of each rate over its measured capacity.
    pub node_equivalents: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Web {
    pub instance: Instance,
    /// Nodes the peak needs at the target utilisation.
    pub needed: u32,
    /// One spare per zone on top (N+1 per zone).
    pub per_zone: u32,
    pub nodes: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Postgres {
    pub class: Instance,
    /// vCPUs the peak write rate needs at the target utilisation.
    pub write_vcpus: f64,
    pub read_vcpus: f64,
    pub replicas: u32,
    /// The database at the end of the retention period, and the storage allocated for it.
    pub data_gb: f64,
    pub allocated_gb: f64,
    /// WAL shipped to each replica per month.
    pub wal_gb_month: f64,
    /// True when no class in the price file is big enough for the primary.
    pub over_largest: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cache {
    pub node: Instance,
    pub nodes: u32,
    pub memory_gb: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Bus {
    pub instance: Instance,
    pub servers: u32,
    pub msgs_per_s: f64,
    pub volume_gb_each: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Objects {
    pub photos_gb: f64,
    pub lake_gb: f64,
    pub backups_gb: f64,
    pub puts_month: f64,
    pub gets_month: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Traffic {
    pub requests_month: f64,
    /// HTML/JSON to the internet, and photos (through the CDN on the public cloud).
    pub api_gb_month: f64,
    pub photo_gb_month: f64,
    pub photo_requests_month: f64,
    /// Outgoing bandwidth at the peak hour, Mbps.
    pub peak_mbps: f64,
    /// Calls out (payment provider, mail, webhooks) through the NAT gateways.
    pub nat_gb_month: f64,
    pub logs_gb_month: f64,
    /// Load balancer capacity units, average.
    pub lcu: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Analytics {
    pub scan_gb_per_day: f64,
    pub core_node_hours_month: f64,
    pub primary_hours_month: f64,
    /// Spark worker VMs kept on the private cloud so the nightly job ends in 6 hours.
    pub private_workers: u32,
}

/// Every tier, sized.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub zones: u32,
    pub regions: u32,
    pub target_utilisation: f64,
    pub demand: Demand,
    pub web: Web,
    pub postgres: Postgres,
    pub cache: Cache,
    pub bus: Bus,
    pub objects: Objects,
    pub traffic: Traffic,
    pub analytics: Analytics,
}

/// The smallest instance with at least `vcpus` and `memory`; the largest if none is.
fn smallest(list: &[Instance], vcpus: f64, memory: f64) -> (Instance, bool) {
    let mut sorted: Vec<&Instance> = list.iter().collect();
    sorted.sort_by(|a, b| a.hourly.total_cmp(&b.hourly));
    match sorted.iter().find(|i| f64::from(i.vcpus) >= vcpus && i.memory_gib >= memory) {
        Some(i) => ((*i).clone(), false),
        None => (sorted.last().map(|i| (*i).clone()).unwrap_or_else(empty), true),
    }
}

fn empty() -> Instance {
    Instance { name: "none".into(), vcpus: 1, memory_gib: 1.0, hourly: 0.0 }
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

/// Size every tier of `p` for one region (the bills multiply by the regions).
pub fn plan(p: &Profile, cap: &Capacity, aws: &Aws) -> Plan {
    let l = &p.load;
    let s = &p.sizing;
    let u = s.target_utilisation;
    let zones = p.zones();

    // Peak hour over the average hour: 24 x peak bookings per hour / bookings per day.
    let peak_factor =
        if l.bookings_per_day > 0.0 { (l.peak_bookings_per_hour * 24.0 / l.bookings_per_day).max(1.0) } else { 1.0 };
    let bookings_per_s = l.peak_bookings_per_hour / 3600.0;
    let events_per_s = l.client_events_per_day / 86_400.0 * peak_factor;
    let availability_per_s = p.peak_availability_per_s();

    // Web nodes of the measured size; a node type with more vCPUs carries proportionally more.
    let (instance, _) = smallest(&aws.ec2.instances, f64::from(cap.node_vcpus), 4.0);
    let scale = f64::from(instance.vcpus) / f64::from(cap.node_vcpus.max(1));
    let node_equivalents = (bookings_per_s / cap.bookings_per_s
        + l.peak_searches_per_s / cap.search_req_per_s
        + availability_per_s / cap.availability_req_per_s
        + events_per_s / cap.events_per_s)
        / scale;
    let needed = ceil(node_equivalents / u).max(1);
    // N+1 per zone: each zone carries its share of the peak with one node to spare.
    let per_zone = needed.div_ceil(zones) + 1;
    let web = Web { instance, needed, per_zone, nodes: per_zone * zones };

    // PostgreSQL: the primary by write rate and memory for the working set; replicas by reads.
    let data_gb = l.database_gb + l.data_growth_gb_per_month * l.retention_months;
    let write_vcpus = bookings_per_s / s.postgres_bookings_per_s_per_vcpu / u;
    let read_vcpus = availability_per_s * s.replica_reads_per_availability / s.replica_reads_per_s_per_vcpu / u;
    let (class, over_largest) = smallest(&aws.rds.instances, write_vcpus, data_gb * s.postgres_memory_share);
    let replicas = ceil(read_vcpus / f64::from(class.vcpus)).max(1);
    // About 20 KB of WAL per booking (inventory rows, booking, ledger, outbox), plus the growth.
    let wal_gb_month = l.bookings_per_day * DAYS_PER_MONTH * 20.0 / KB_PER_GB + l.data_growth_gb_per_month;
    let postgres = Postgres {
        class,
        write_vcpus,
        read_vcpus,
        replicas,
        data_gb,
        allocated_gb: (data_gb * 1.25).max(20.0),
        wal_gb_month,
        over_largest,
    };

    // Cache: listing pages and price calendars of every property, plus a quarter for Redis.
    let memory_gb = l.properties * s.cache_kb_per_property / KB_PER_GB * 1.25;
    let (node, _) = smallest(&aws.elasticache.nodes, 0.0, memory_gb);
    let cache = Cache { node, nodes: zones.max(2), memory_gb };

    // Bus: booking events plus client events in batches of 500, on three NATS servers (R3).
    let msgs_per_s = bookings_per_s * s.events_per_booking + events_per_s / 500.0;
    let (bus_instance, _) = smallest(&aws.ec2.instances, msgs_per_s / s.bus_msgs_per_s_per_vcpu / u, 0.0);
    let stream_gb_per_day = (l.bookings_per_day * s.events_per_booking * 2.0
        + l.client_events_per_day * s.event_bytes / 1000.0)
        / KB_PER_GB;
    let bus = Bus {
        instance: bus_instance,
        servers: 3,
        msgs_per_s,
        volume_gb_each: (stream_gb_per_day * s.stream_days * 1.5).max(20.0),
    };

    // Object storage: photos in four sizes (x1.6 the original), the lake, database backups.
    let photos_gb = l.properties * l.photos_per_property * l.photo_mb * 1.6 / 1000.0;
    let lake_gb = l.client_events_per_day * s.event_bytes * DAYS_PER_MONTH * l.retention_months / 1e9;
    let backups_gb = data_gb * s.backup_copies;
    // Writes: 2% of photos replaced per month in 4 sizes, a lake file per 100,000 events,
    // 100,000 backup and WAL objects; reads: CDN misses (5% of the photo requests).
    let searches_per_day = l.peak_searches_per_s * 86_400.0 / peak_factor;
    let availability_per_day = availability_per_s * 86_400.0 / peak_factor;
    let photo_requests_month = searches_per_day * s.photos_per_search * DAYS_PER_MONTH;
    let objects = Objects {
        photos_gb,
        lake_gb,
        backups_gb,
        puts_month: l.properties * l.photos_per_property * 0.02 * 4.0
            + l.client_events_per_day * DAYS_PER_MONTH / 100_000.0
            + 100_000.0,
        gets_month: photo_requests_month * 0.05,
    };

    // Traffic: a page per search, 8 KB per availability answer, thumbnails per search.
    let requests_month = (searches_per_day + availability_per_day + l.bookings_per_day * 20.0) * DAYS_PER_MONTH
        + l.client_events_per_day * DAYS_PER_MONTH / 500.0;
    let api_gb_month =
        (searches_per_day * s.page_kb + availability_per_day * 8.0 + l.bookings_per_day * 20.0 * s.page_kb)
            * DAYS_PER_MONTH
            / KB_PER_GB;
    let photo_gb_month = photo_requests_month * s.thumbnail_kb / KB_PER_GB;
    let peak_mbps = (api_gb_month + photo_gb_month) * 8000.0 / (DAYS_PER_MONTH * 86_400.0) * peak_factor;
    let nat_gb_month = l.bookings_per_day * DAYS_PER_MONTH * 50.0 / KB_PER_GB + 10.0;
    let logs_gb_month = requests_month * 400.0 / 1e9;
    // ALB capacity units: the largest of new connections (25/s, one per 10 requests),
    // active connections (3,000 per minute) and processed bytes (1 GB per hour).
    let avg_req_s = requests_month / (DAYS_PER_MONTH * 86_400.0);
    let lcu = (avg_req_s / 10.0 / 25.0).max(avg_req_s / 10.0 * 60.0 / 3000.0).max(api_gb_month / 730.0);
    let traffic = Traffic {
        requests_month,
        api_gb_month,
        photo_gb_month,
        photo_requests_month,
        peak_mbps,
        nat_gb_month,
        logs_gb_month,
        lcu,
    };

    // Analytics: a nightly Spark job over the last days of events.
    let scan_gb_per_day =
        l.client_events_per_day * s.event_bytes * s.analytics_scan_days.min(l.retention_months * 30.0) / 1e9;
    let core_node_hours_day = (scan_gb_per_day / s.spark_gb_per_node_hour).max(2.0);
    let analytics = Analytics {
        scan_gb_per_day,
        core_node_hours_month: core_node_hours_day * DAYS_PER_MONTH,
        // The primary runs for the job's wall time at two core nodes.
        primary_hours_month: core_node_hours_day / 2.0 * DAYS_PER_MONTH,
        private_workers: ceil(scan_gb_per_day / s.spark_gb_per_node_hour / 6.0).max(2),
    };

    Plan {
        zones,
        regions: l.regions,
        target_utilisation: u,
        demand: Demand {
            peak_factor,
            bookings_per_s,
            searches_per_s: l.peak_searches_per_s,
            availability_per_s,
            events_per_s,
            node_equivalents,
        },
        web,
        postgres,
        cache,
        bus,
        objects,
        traffic,
        analytics,
    }
}
