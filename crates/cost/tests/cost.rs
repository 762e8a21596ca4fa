//! `innkeep cost`: each formula on a small case worked by hand, monotonicity over a sweep,
//! errors that name the field and the line, the price files, the examples and the chart.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use innkeep_cost::capacity::CapacityEntry;
use innkeep_cost::prices::{Tier, tiered};
use innkeep_cost::private::monthly_capital;
use innkeep_cost::{Capacity, Commitment, Measured, Prices, Profile, Report, examples, sizing};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6 * b.abs().max(1.0)
}

/// A profile small enough to work by hand.
const HAND: &str = r#"
name = "hand"

[load]
bookings_per_day = 2880
peak_bookings_per_hour = 360
peak_searches_per_s = 50
peak_availability_per_s = 100
client_events_per_day = 86_400_000
properties = 1000
photos_per_property = 10
photo_mb = 0.5
database_gb = 10
data_growth_gb_per_month = 1
retention_months = 12
availability_target_pct = 99.95
regions = 1

[capacity]
bookings_per_s = 100
search_req_per_s = 500
availability_req_per_s = 1000
events_per_s = 10000
node_vcpus = 2

[public]
commitment = "on-demand"
"#;

fn hand() -> (Profile, Capacity, Prices) {
    let p = Profile::parse(HAND).unwrap();
    let cap = p.capacity.as_ref().unwrap().capacity();
    (p, cap, Prices::bundled().unwrap())
}

#[test]
fn tiers_charge_each_band_at_its_own_price() {
    let t = [Tier { up_to_gb: 10.0, price: 1.0 }, Tier { up_to_gb: f64::INFINITY, price: 0.5 }];
    // 4 GB inside the first band: 4 x 1 = 4
    assert!(close(tiered(4.0, &t), 4.0));
    // 10 x 1 + (25 - 10) x 0.5 = 17.5
    assert!(close(tiered(25.0, &t), 17.5));
    let aws = Prices::bundled().unwrap().aws;
    // Transfer out, 12,000 GB: 10,240 x 0.09 + 1,760 x 0.085 = 921.6 + 149.6 = 1,071.2
    assert!(close(tiered(12_000.0, &aws.transfer.out), 1071.2));
}

#[test]
fn business_support_is_a_falling_share_with_a_minimum() {
    let aws = Prices::bundled().unwrap().aws;
    // 10% of the first 10,000 + 7% of the next 10,000 = 1,000 + 700 = 1,700
    assert!(close(aws.support.of(20_000.0), 1700.0));
    // 10% of 500 = 50, below the minimum of 100
    assert!(close(aws.support.of(500.0), 100.0));
}

#[test]
fn hardware_is_repaid_over_the_amortisation_years() {
    // 60,000 over 5 years with no interest: 60,000 / 60 = 1,000 a month
    assert!(close(monthly_capital(60_000.0, 5.0, 0.0), 1000.0));
    // At 5% a year: r = 0.05 / 12, n = 60, 60,000 x r / (1 - (1 + r)^-60) = 1,132.27
    assert!((monthly_capital(60_000.0, 5.0, 0.05) - 1132.27).abs() < 0.01);
}

#[test]
fn web_nodes_at_target_utilisation_with_a_spare_per_zone() {
    let (p, cap, prices) = hand();
    let plan = sizing::plan(&p, &cap, &prices.aws);
    // Peak hour over average hour: 360 x 24 / 2,880 = 3
    assert!(close(plan.demand.peak_factor, 3.0));
    // Client events at peak: 86,400,000 / 86,400 x 3 = 3,000/s
    assert!(close(plan.demand.events_per_s, 3000.0));
    // Node equivalents: 0.1/100 + 50/500 + 100/1000 + 3000/10000 = 0.001 + 0.1 + 0.1 + 0.3 = 0.501
    assert!(close(plan.demand.node_equivalents, 0.501));
    // 0.501 / 0.6 = 0.835 -> 1 node needed; 3 zones (99.95%): ceil(1/3) + 1 = 2 per zone, 6 in all
    assert_eq!((plan.zones, plan.web.needed, plan.web.per_zone, plan.web.nodes), (3, 1, 2, 6));
    assert_eq!(plan.web.instance.name, "m7i.large");
    let bill = innkeep_cost::public::bill(&plan, &prices.aws, Commitment::OnDemand, false);
    // 6 x 0.1008 $/h x 730 h = 441.504
    assert!(close(bill.tier("web"), 441.504));
}

#[test]
fn database_cache_and_bus_are_sized_by_their_own_drivers() {
    let (p, cap, prices) = hand();
    let plan = sizing::plan(&p, &cap, &prices.aws);
    let pg = &plan.postgres;
    // 10 GB + 1 GB/month x 12 months = 22 GB; a tenth in memory = 2.2 GiB -> db.m7g.large (8 GiB)
    assert!(close(pg.data_gb, 22.0));
    assert_eq!(pg.class.name, "db.m7g.large");
    // Writes: 0.1 bookings/s / 150 per vCPU / 0.6 = 0.00111 vCPU
    assert!(close(pg.write_vcpus, 0.1 / 150.0 / 0.6));
    // Replica reads: 100 x 0.2 / 1,500 / 0.6 = 0.0222 vCPU -> the minimum of one replica
    assert_eq!(pg.replicas, 1);
    let bill = innkeep_cost::public::bill(&plan, &prices.aws, Commitment::OnDemand, false);
    let primary = bill.lines.iter().find(|l| l.item.contains("Multi-AZ primary")).unwrap();
    // 0.168 $/h x 2 (Multi-AZ) x 730 h = 245.28
    assert!(close(primary.monthly, 245.28));
    // Cache: 1,000 properties x 64 KB x 1.25 = 0.08 GB -> cache.m7g.large, one per zone: 3 x 0.158 x 730 = 346.02
    assert!(close(plan.cache.memory_gb, 0.08));
    assert!(close(bill.tier("cache"), 346.02));
    // Bus: 0.1 x 6 + 3,000 / 500 = 6.6 messages/s on three m7i.large
    assert!(close(plan.bus.msgs_per_s, 6.6));
    assert_eq!((plan.bus.servers, plan.bus.instance.name.as_str()), (3, "m7i.large"));
    // Photos: 1,000 x 10 x 0.5 MB x 1.6 / 1,000 = 8 GB; backups: 22 GB x 4 copies = 88 GB
    assert!(close(plan.objects.photos_gb, 8.0));
    assert!(close(plan.objects.backups_gb, 88.0));
    // Lake: 86.4 M events x 120 B x 30.4167 days x 12 months / 1e9 = 3,784.32 GB
    assert!(close(plan.objects.lake_gb, 86_400_000.0 * 120.0 * (730.0 / 24.0) * 12.0 / 1e9));
}

#[test]
fn the_private_cloud_counts_servers_from_its_vms() {
    let (p, cap, prices) = hand();
    let plan = sizing::plan(&p, &cap, &prices.aws);
    let pc = innkeep_cost::private::build(&plan, &prices.openstack, &p.private);
    // A compute node: (64 - 4) / 2 = 30 by vCPU, (384 - 16) / 8 = 46 by memory -> 30 web nodes
    assert_eq!(pc.web_per_compute_node, 30);
    // VMs: 6 web x 2 + PostgreSQL 2 x 2 + 1 replica x 2 + Redis 3 x 2 + NATS 3 x 2 + Spark 3 x 4
    //      + amphorae 2 x 1 + bastion/Prometheus 2 x 2 = 12 + 4 + 2 + 6 + 6 + 12 + 2 + 4 = 48 vCPU
    assert_eq!(pc.vm_vcpus, 48);
    // 48 vCPU fit one node of 60; N+1 = 2; the minimum of 3 decides
    assert_eq!((pc.compute_nodes, pc.compute_bound.as_str()), (3, "minimum"));
    assert_eq!(pc.storage_nodes, 3);
    // 1 admin + 3 controllers + 3 compute + 3 storage = 10 servers, 1+3+3+6 = 13U: one rack
    assert_eq!(pc.racks, 1);
    // Capital: 6,000 + 3 x 9,000 + 3 x 15,000 + 3 x 18,000 + 2 x 12,000 + 2,000 = 158,000
    assert!(close(pc.capex, 158_000.0));
    // Staff: (1.0 + 0.02 x 10) FTE x 150,000 / 12 = 15,000
    let staff = pc.bill.tier("staff");
    assert!(close(staff, 15_000.0));
    // Power: (180 + 3 x 250 + 3 x 450 + 3 x 400 + 2 x 200 + 60) W = 3.94 kW x 730 h x 1.5 x 0.13
    assert!(close(pc.bill.tier("power"), 3.94 * 730.0 * 1.5 * 0.13));
}

fn capacity() -> Capacity {
    Measured::parse(examples::CAPACITY).unwrap().capacity()
}

fn all_examples() -> Vec<Profile> {
    [examples::SMALL, examples::MID_SIZE, examples::LARGE].iter().map(|t| Profile::parse(t).unwrap()).collect()
}

#[test]
fn more_load_never_costs_less() {
    let prices = Prices::bundled().unwrap();
    let cap = capacity();
    for p in all_examples() {
        let mut last = (0.0, 0.0);
        for i in 0..120 {
            let k = 0.02 * 1.07f64.powi(i);
            let (public, private) = innkeep_cost::totals(&p.scaled(k), &cap, &prices);
            assert!(public >= last.0 - 1e-6, "{}: public fell at x{k:.3}: {} -> {public}", p.name, last.0);
            assert!(private >= last.1 - 1e-6, "{}: private fell at x{k:.3}: {} -> {private}", p.name, last.1);
            last = (public, private);
        }
    }
}

#[test]
fn a_longer_amortisation_never_raises_the_monthly_private_cost() {
    let prices = Prices::bundled().unwrap();
    let cap = capacity();
    for mut p in all_examples() {
        for rate in [0.0, 0.05, 0.15] {
            p.private.capital_rate = Some(rate);
            let mut last = f64::INFINITY;
            for years in 1..=15 {
                p.private.amortisation_years = Some(f64::from(years));
                let (_, private) = innkeep_cost::totals(&p, &cap, &prices);
                assert!(private <= last + 1e-6, "{} at {years} years and {rate}: {last} -> {private}", p.name);
                last = private;
            }
        }
    }
}

#[test]
fn a_bad_profile_names_the_field_and_the_line() {
    let with = |from: &str, to: &str| HAND.replacen(from, to, 1);
    // HAND starts with an empty line: `name` is on line 2, [load] on line 4.
    let line = |text: &str, needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;

    let t = with("peak_searches_per_s = 50", "peak_searches_per_s = \"many\"");
    let e = Profile::parse(&t).unwrap_err();
    assert_eq!((e.field.as_str(), e.line), ("load.peak_searches_per_s", line(&t, "\"many\"")), "{e}");

    let t = with("photo_mb = 0.5", "photo_mb = 0.5\nphoto_mbs = 1");
    let e = Profile::parse(&t).unwrap_err();
    assert_eq!((e.field.as_str(), e.line), ("load.photo_mbs", line(&t, "photo_mbs")), "{e}");
    assert!(e.to_string().contains("unknown field"), "{e}");

    let t = with("regions = 1\n", "");
    let e = Profile::parse(&t).unwrap_err();
    assert_eq!(e.field, "load.regions", "{e}");
    assert!(e.to_string().contains("missing field"), "{e}");

    let t = with("[public]", "[sizing]\ntarget_utilisation = 1.5\n\n[public]");
    let e = Profile::parse(&t).unwrap_err();
    assert_eq!((e.field.as_str(), e.line), ("sizing.target_utilisation", line(&t, "1.5")), "{e}");
    assert!(e.to_string().starts_with(&format!("line {}: `sizing.target_utilisation`", e.line)), "{e}");

    let t = with("peak_bookings_per_hour = 360", "peak_bookings_per_hour = 10");
    let e = Profile::parse(&t).unwrap_err();
    assert_eq!((e.field.as_str(), e.line), ("load.peak_bookings_per_hour", line(&t, "= 10")), "{e}");

    let t = with("database_gb = 10", "database_gb = -1");
    let e = Profile::parse(&t).unwrap_err();
    assert_eq!((e.field.as_str(), e.line), ("load.database_gb", line(&t, "-1")), "{e}");

    let t = with("events_per_s = 10000", "events_per_s = 0");
    let e = Profile::parse(&t).unwrap_err();
    assert_eq!((e.field.as_str(), e.line), ("capacity.events_per_s", line(&t, "events_per_s = 0")), "{e}");

    let t = with("commitment = \"on-demand\"", "commitment = \"2y\"");
    let e = Profile::parse(&t).unwrap_err();
    assert_eq!((e.field.as_str(), e.line), ("public.commitment", line(&t, "2y")), "{e}");

    let e = Profile::parse("name = \"x\"\n[load\n").unwrap_err();
    assert_eq!(e.line, 2, "{e}");
    for junk in ["", "\u{0}", "[[[", "name = 1", "load = 3\nname = \"a\""] {
        assert!(Profile::parse(junk).is_err());
    }
}

#[test]
fn the_price_files_parse_and_carry_their_dates_and_sources() {
    let prices = Prices::bundled().unwrap();
    let is_date = |d: &str| {
        d.len() == 10
            && d.chars().enumerate().all(|(i, c)| if i == 4 || i == 7 { c == '-' } else { c.is_ascii_digit() })
    };
    assert!(is_date(&prices.aws.date), "{}", prices.aws.date);
    assert!(is_date(&prices.openstack.date), "{}", prices.openstack.date);
    assert_eq!(prices.aws.region, "us-east-1");
    assert!(prices.aws.status.contains("not verified"));
    assert!(prices.openstack.status.contains("no public prices"));
    for s in prices.aws.sources.iter().chain(&prices.openstack.sources) {
        assert!(s.starts_with("https://"), "{s}");
    }
    assert!(prices.aws.sources.len() >= 10);
    assert!(innkeep_cost::prices::AWS_TOML.contains("TRANSCRIBED"));
    assert!(innkeep_cost::prices::OPENSTACK_TOML.contains("is a DEFAULT"));
}

#[test]
fn each_example_profile_runs_and_the_chart_is_valid_svg() {
    let prices = Prices::bundled().unwrap();
    let measured = Measured::parse(examples::CAPACITY).unwrap();
    for p in all_examples() {
        let r = Report::build(&p, Some(&measured), &prices).unwrap();
        assert!(r.public_monthly > 0.0 && r.private_monthly > 0.0);
        let md = r.markdown();
        assert!(md.contains("public cloud") && md.contains("private cloud"), "{md}");
        assert!(md.contains("Break-even") || md.contains("No break-even"), "{md}");
        let json: serde_json::Value = serde_json::from_str(&r.json().unwrap()).unwrap();
        assert!(json["public_monthly"].as_f64().unwrap() > 0.0);
        let csv = r.csv().unwrap();
        assert!(csv.starts_with("section,tier,item,quantity,unit,usd_per_month\n"));
        assert!(csv.contains("total,public,"));
        valid_svg(&r.svg());
    }
}

#[test]
fn names_are_escaped_in_the_chart() {
    let (mut p, _, prices) = hand();
    p.name = "<script>alert(1)</script> & co".into();
    let r = Report::build(&p, None, &prices).unwrap();
    let svg = r.svg();
    assert!(!svg.contains("<script>"));
    assert!(svg.contains("&lt;script&gt;"));
    valid_svg(&svg);
}

#[test]
fn without_any_capacity_the_report_says_what_to_give() {
    let t = HAND.split("[capacity]").next().unwrap().to_string() + "[public]\ncommitment = \"1y\"\n";
    let p = Profile::parse(&t).unwrap();
    let e = Report::build(&p, None, &Prices::bundled().unwrap()).unwrap_err();
    assert!(e.to_string().contains("--capacity"), "{e}");
    assert!(Measured::parse("{}").is_err());
    assert!(Measured::parse("not json").is_err());
    let entry: CapacityEntry = serde_json::from_str(
        r#"{"bookings_per_s":1,"search_req_per_s":1,"availability_req_per_s":1,"events_per_s":1}"#,
    )
    .unwrap();
    assert_eq!(entry.node_vcpus, 2);
}

fn valid_svg(svg: &str) {
    let mut reader = quick_xml::Reader::from_str(svg);
    let (mut root, mut lines, mut depth) = (None, 0, 0i32);
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Start(e) => {
                if root.is_none() {
                    root = Some(String::from_utf8_lossy(e.name().as_ref()).to_string());
                }
                if e.name().as_ref() == b"polyline" {
                    lines += 1;
                }
                depth += 1;
            }
            quick_xml::events::Event::End(_) => depth -= 1,
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(root.as_deref(), Some("svg"));
    assert_eq!(depth, 0);
    assert_eq!(lines, 2, "one line per cloud");
}

#[test]
fn absurd_loads_are_priced_without_panicking() {
    let (mut p, _, prices) = hand();
    for x in [&mut p.load.bookings_per_day, &mut p.load.peak_bookings_per_hour, &mut p.load.peak_searches_per_s] {
        *x = 1e15;
    }
    p.load.peak_availability_per_s = Some(1e15);
    p.load.client_events_per_day = 1e15;
    p.load.properties = 1e15;
    p.load.database_gb = 1e15;
    let r = Report::build(&p, None, &prices).unwrap();
    assert!(r.public_monthly.is_finite() && r.private_monthly.is_finite());
    assert!(!r.warnings.is_empty(), "the database is beyond the largest class");
    valid_svg(&r.svg());
    // And nothing at all.
    let t = HAND.replace("= 2880", "= 0").replace("= 360", "= 0").replace("= 50\n", "= 0\n");
    let r = Report::build(&Profile::parse(&t).unwrap(), None, &prices).unwrap();
    assert!(r.public_monthly > 0.0, "a floor of servers even with no load");
    valid_svg(&r.svg());
}
