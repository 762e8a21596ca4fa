//! Browser journeys against the real binary with demo data: starts `innkeep serve --demo`
//! on a free port with a fresh data directory and card payments through the fake provider
//! process (tests/fake_stripe, a FAKE of Stripe's published API), waits for /readyz, then
//! runs `node tests/browser/journeys.mjs BASE` (Debian chromium via playwright-core, axe-core's
//! WCAG 2.2 AA rules on every page).
//! Skips when node or /usr/bin/chromium is missing, unless INNKEEP_TEST_REQUIRE_SERVERS=1.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn required() -> bool {
    std::env::var("INNKEEP_TEST_REQUIRE_SERVERS").is_ok_and(|v| v == "1")
}

fn skip(why: &str) {
    assert!(!required(), "browser journeys required but {why}");
    eprintln!("skipping browser journeys: {why}");
}

fn has_node() -> bool {
    Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn ready(base: &str) -> bool {
    let addr = base.trim_start_matches("http://");
    let Ok(mut s) = std::net::TcpStream::connect(addr) else { return false };
    use std::io::{Read, Write};
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(format!("GET /readyz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).is_err() {
        return false;
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.starts_with("HTTP/1.1 200")
}

/// The fake card provider, sending its events to `webhook`: the process and its base URL.
fn fake_provider(webhook: &str) -> (Child, String) {
    use std::io::BufRead;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fake_stripe/fake_stripe.py");
    let mut child = Command::new("python3")
        .args([script, "--port", "0", "--secret-key", "sk_test_browser_journey"])
        .args(["--webhook-secret", "whsec_browser_journey", "--webhook-url", webhook])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 runs the fake provider");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("listening on ").expect("the fake says where it is").to_string();
    (child, format!("http://{addr}"))
}

#[test]
fn guest_host_and_operator_journeys_work_in_a_browser() {
    let chromium = std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !has_node() {
        return skip("node is not installed");
    }
    if !Path::new(&chromium).exists() {
        return skip("chromium is not installed (apt-get install -y chromium)");
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();
    let browser_dir = root.join("tests/browser");
    // The journeys' npm packages (package.json pins them; .ci/services.sh installs them in CI).
    let packages = ["playwright-core", "axe-core"];
    if packages.iter().any(|p| !browser_dir.join("node_modules").join(p).exists()) {
        let install = if browser_dir.join("package-lock.json").exists() { "ci" } else { "install" };
        let status = Command::new("npm").args([install, "--no-audit", "--no-fund"]).current_dir(&browser_dir).status();
        if !status.is_ok_and(|s| s.success()) {
            return skip("npm could not install playwright-core and axe-core");
        }
    }
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let (fake, fake_base) = fake_provider(&format!("{base}/api/v1/payments/webhooks/stripe"));
    let _fake = KillOnDrop(fake);
    let server = Command::new(env!("CARGO_BIN_EXE_innkeep"))
        .args(["serve", "--demo", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(data.path())
        .env("INNKEEP_LOG__LEVEL", "warn")
        .env("INNKEEP_PAYMENTS__STRIPE__BASE_URL", &fake_base)
        .env("INNKEEP_PAYMENTS__STRIPE__SECRET_KEY", "sk_test_browser_journey")
        .env("INNKEEP_PAYMENTS__STRIPE__WEBHOOK_SECRET", "whsec_browser_journey")
        .env(
            "INNKEEP_PAYMENTS__STRIPE__CHECKOUT_URL",
            format!("{fake_base}/_fake/checkout/{{id}}?client_secret={{client_secret}}"),
        )
        .stdout(Stdio::null())
        .spawn()
        .expect("innkeep starts");
    let _server = KillOnDrop(server);
    let deadline = Instant::now() + Duration::from_secs(180);
    while !ready(&base) {
        assert!(Instant::now() < deadline, "the server did not become ready at {base}");
        std::thread::sleep(Duration::from_millis(250));
    }
    let status = Command::new("node")
        .arg("tests/browser/journeys.mjs")
        .arg(&base)
        .current_dir(&root)
        .env("CHROMIUM_PATH", &chromium)
        .status()
        .expect("node runs");
    if !status.success() {
        // What the card provider saw and sent, to tell a payment problem from a page problem.
        let events = Command::new("python3")
            .args(["-c", "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())"])
            .arg(format!("{fake_base}/_fake/events"))
            .output();
        if let Ok(out) = events {
            eprintln!("the fake provider's events:\n{}", String::from_utf8_lossy(&out.stdout));
        }
    }
    assert!(status.success(), "browser journeys failed (see output above)");
}
