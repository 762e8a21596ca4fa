//! The local cluster (`deploy/local`): HAProxy in front of three `innkeep serve` nodes on their
//! own loopback addresses, a PostgreSQL primary with a synchronous streaming replica, NATS,
//! Redis and the S3 API. Under booking and search load through the balancer one node is
//! killed with `kill -9`: no booking answered 201 is lost, no night is oversold, and no
//! request fails beyond those the client may retry with the same Idempotency-Key.
//! `deploy/local/chaos kill-node` does the work and exits non-zero on any violation; the
//! longer scenarios (promote, rolling restart, autoscale, backup and point-in-time restore)
//! run with `deploy/local/chaos all` (figures in BENCHMARKS.md).
//!
//! Needs PostgreSQL 15's programs (`/usr/lib/postgresql/15/bin`), HAProxy and pgBackRest
//! (installed from Debian when missing), and the NATS, Redis and S3 servers of the other
//! suites; it runs when `INNKEEP_TEST_NATS_URL` is set (required with
//! `INNKEEP_TEST_REQUIRE_SERVERS=1`, as in CI).

use std::process::Command;

#[test]
fn killing_a_node_under_load_through_haproxy_loses_no_booking() {
    let Some(nats) = innkeep_store::testing::server_url("INNKEEP_TEST_NATS_URL") else { return };
    let redis = innkeep_store::testing::server_url("INNKEEP_TEST_REDIS_URL").unwrap_or_default();
    let s3 = innkeep_store::testing::server_url("INNKEEP_TEST_S3_URL").unwrap_or_default();
    // http://KEY:SECRET@host:port
    let (creds, host) = s3.trim_start_matches("http://").split_once('@').expect("INNKEEP_TEST_S3_URL has KEY:SECRET@");
    let (key, secret) = creds.split_once(':').expect("KEY:SECRET");
    let scratch = tempfile::tempdir().expect("dir");
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let out = Command::new("python3")
        .current_dir(root)
        .args(["deploy/local/chaos", "kill-node", "--seconds", "10", "--port", "8930"])
        .env("INNKEEP_BIN", env!("CARGO_BIN_EXE_innkeep"))
        .env("TMPDIR", scratch.path())
        .env("INNKEEP_CLUSTER_NATS_URL", nats)
        .env("INNKEEP_CLUSTER_REDIS_URL", redis)
        .env("INNKEEP_CLUSTER_S3_ENDPOINT", format!("http://{host}"))
        .env("INNKEEP_CLUSTER_S3_KEY", key)
        .env("INNKEEP_CLUSTER_S3_SECRET", secret)
        .output()
        .expect("python3 runs deploy/local/chaos");
    let text = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the kill-node scenario found a violation or could not run:\n{text}");
    assert!(text.contains("| kill-node | ok |"), "it printed its figures:\n{text}");
}
