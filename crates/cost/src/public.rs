//! The public cloud's monthly bill for a plan, at AWS list prices (us-east-1).

use crate::bill::Bill;
use crate::prices::{Aws, tiered};
use crate::profile::Commitment;
use crate::sizing::Plan;

/// The AWS bill for `plan`, bought with `commitment`, with Business support when `support`.
pub fn bill(plan: &Plan, aws: &Aws, commitment: Commitment, support: bool) -> Bill {
    let h = aws.hours_per_month;
    let (ec2, rds, cache) = match commitment {
        Commitment::OnDemand => (1.0, 1.0, 1.0),
        Commitment::OneYear => (aws.ec2.savings_1y, aws.rds.reserved_1y, aws.elasticache.reserved_1y),
        Commitment::ThreeYears => (aws.ec2.savings_3y, aws.rds.reserved_3y, aws.elasticache.reserved_3y),
    };
    let c = commitment.as_str();
    let mut b = Bill::default();

    let w = &plan.web;
    b.add(
        "web",
        format!("{} x {} ({c})", w.nodes, w.instance.name),
        f64::from(w.nodes),
        "nodes",
        f64::from(w.nodes) * w.instance.hourly * h * ec2,
    );

    let pg = &plan.postgres;
    b.add(
        "database",
        format!("RDS PostgreSQL {} Multi-AZ primary ({c})", pg.class.name),
        1.0,
        "instances",
        pg.class.hourly * aws.rds.multi_az_factor * h * rds,
    );
    b.add(
        "database",
        format!("{} read replicas {} ({c})", pg.replicas, pg.class.name),
        f64::from(pg.replicas),
        "instances",
        f64::from(pg.replicas) * pg.class.hourly * h * rds,
    );
    let storage = pg.allocated_gb
        * (aws.rds.storage_gp3_gb_month_multi_az + f64::from(pg.replicas) * aws.rds.storage_gp3_gb_month);
    b.add("database", "gp3 storage, primary (Multi-AZ) and replicas", pg.allocated_gb, "GB each", storage);
    // Automated backups are free up to the database's size.
    let backup_gb = (plan.objects.backups_gb - pg.data_gb).max(0.0);
    b.add(
        "backups",
        "RDS backup storage beyond the free allowance",
        backup_gb,
        "GB",
        backup_gb * aws.rds.backup_gb_month,
    );
    // WAL to the standby and each replica crosses zones (charged both ways).
    // (The Multi-AZ standby is always in another zone; replicas are when there are zones.)
    let copies = if plan.zones > 1 { f64::from(pg.replicas + 1) } else { 1.0 };
    let cross = pg.wal_gb_month * copies;
    b.add("transfer", "replication between zones", cross, "GB", cross * aws.transfer.inter_az_gb_each_way * 2.0);

    let ca = &plan.cache;
    b.add(
        "cache",
        format!("ElastiCache {} x {} ({c})", ca.nodes, ca.node.name),
        f64::from(ca.nodes),
        "nodes",
        f64::from(ca.nodes) * ca.node.hourly * h * cache,
    );

    let bus = &plan.bus;
    b.add(
        "bus",
        format!("NATS JetStream {} x {} ({c})", bus.servers, bus.instance.name),
        f64::from(bus.servers),
        "nodes",
        f64::from(bus.servers) * bus.instance.hourly * h * ec2,
    );
    let vol = bus.volume_gb_each * f64::from(bus.servers);
    b.add("bus", "gp3 volumes for the streams", vol, "GB", vol * aws.ebs.gp3_gb_month);

    let o = &plan.objects;
    let standard = o.photos_gb + o.lake_gb;
    b.add("objects", "S3 Standard: photos and the lake", standard, "GB", tiered(standard, &aws.s3.standard));
    b.add(
        "backups",
        "S3 Standard-IA: base backups and WAL archive",
        o.backups_gb,
        "GB",
        o.backups_gb * aws.s3.standard_ia_gb_month,
    );
    b.add("objects", "S3 PUT requests", o.puts_month, "requests", o.puts_month / 1000.0 * aws.s3.put_per_1000);
    b.add(
        "objects",
        "S3 GET requests (CDN misses)",
        o.gets_month,
        "requests",
        o.gets_month / 1000.0 * aws.s3.get_per_1000,
    );

    let a = &plan.analytics;
    let emr_rate = aws.emr.instance.hourly + aws.emr.emr_hourly;
    let emr_hours = a.core_node_hours_month + a.primary_hours_month;
    b.add(
        "analytics",
        format!("EMR {} node-hours (on-demand)", aws.emr.instance.name),
        emr_hours,
        "node-hours",
        emr_hours * emr_rate,
    );

    let t = &plan.traffic;
    let cf_gb = (t.photo_gb_month - aws.cloudfront.free_gb).max(0.0);
    b.add("transfer", "CloudFront: photos out", t.photo_gb_month, "GB", tiered(cf_gb, &aws.cloudfront.out));
    let cf_req = (t.photo_requests_month - aws.cloudfront.free_requests).max(0.0);
    b.add(
        "transfer",
        "CloudFront: HTTPS requests",
        t.photo_requests_month,
        "requests",
        cf_req / 10_000.0 * aws.cloudfront.https_per_10000,
    );
    let out_gb = (t.api_gb_month - aws.transfer.free_gb).max(0.0);
    b.add("transfer", "data transfer out (pages and API)", t.api_gb_month, "GB", tiered(out_gb, &aws.transfer.out));
    b.add("load balancer", "ALB hours", h, "hours", h * aws.alb.hourly);
    b.add("load balancer", "ALB capacity units", t.lcu * h, "LCU-hours", t.lcu * h * aws.alb.lcu_hourly);
    let nats = f64::from(plan.zones);
    b.add(
        "network",
        format!("NAT gateways, one per zone ({})", plan.zones),
        nats,
        "gateways",
        nats * h * aws.nat.hourly + t.nat_gb_month * aws.nat.per_gb,
    );

    // CloudWatch: 30 metrics a node for autoscaling and alarms, 20 alarms, access logs kept 30 days.
    let metrics = f64::from(w.nodes + bus.servers) * 30.0;
    b.add(
        "monitoring",
        "CloudWatch metrics, alarms and logs",
        t.logs_gb_month,
        "GB of logs",
        metrics * aws.cloudwatch.metric_month
            + 20.0 * aws.cloudwatch.alarm_month
            + t.logs_gb_month * (aws.cloudwatch.logs_ingest_gb + aws.cloudwatch.logs_store_gb_month),
    );
    let mut b = b.times(f64::from(plan.regions));
    if support {
        let s = aws.support.of(b.total());
        b.add("support", "AWS Business support", 1.0, "month", s);
    }
    b
}
