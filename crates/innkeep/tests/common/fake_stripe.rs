//! The fake card provider (`tests/fake_stripe/fake_stripe.py`, a FAKE of Stripe's published
//! API: no card network can be reached from here) as a child process, and what the tests
//! read from it.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const SECRET_KEY: &str = "sk_test_innkeep_fake";
pub const WEBHOOK_SECRET: &str = "whsec_innkeep_fake_secret";

/// The fake provider process, killed when dropped.
pub struct FakeStripe {
    child: Child,
    pub base: String,
    client: reqwest::Client,
}

impl FakeStripe {
    pub fn start() -> FakeStripe {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fake_stripe/fake_stripe.py");
        let mut child = Command::new("python3")
            .args([script, "--port", "0", "--secret-key", SECRET_KEY, "--webhook-secret", WEBHOOK_SECRET])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs the fake provider");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("the fake says where it is");
        let addr = line.trim().strip_prefix("listening on ").expect("listening on HOST:PORT").to_string();
        FakeStripe { child, base: format!("http://{addr}"), client: reqwest::Client::new() }
    }

    /// Where the fake delivers its events.
    pub async fn send_webhooks_to(&self, url: &str) {
        self.config(json!({"webhook_url": url, "webhooks": true})).await;
    }

    pub async fn config(&self, body: Value) {
        let r = self.client.post(format!("{}/_fake/config", self.base)).json(&body).send().await.expect("config");
        assert!(r.status().is_success(), "{}", r.status());
    }

    pub async fn read(&self, what: &str) -> Vec<Value> {
        let r = self.client.get(format!("{}/_fake/{what}", self.base)).send().await.expect("read the fake");
        let v: Value = r.json().await.expect("json");
        match v {
            Value::Array(a) => a,
            Value::Object(o) => o.get(what).and_then(Value::as_array).cloned().unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// The API calls to a path (`/v1/payment_intents`, ...).
    pub async fn calls_to(&self, method: &str, path: &str) -> Vec<Value> {
        self.read("calls").await.into_iter().filter(|c| c["method"] == method && c["path"] == path).collect()
    }

    /// Confirm a payment on the fake's hosted page, as the guest's browser would, with a
    /// test payment method (`pm_card_visa`, `pm_card_chargeDeclined`).
    pub async fn confirm(&self, intent: &str, client_secret: &str, method: &str) -> u16 {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        let r = client
            .post(format!("{}/_fake/checkout/{intent}", self.base))
            .form(&[
                ("client_secret", client_secret),
                ("payment_method", method),
                ("return_url", "http://127.0.0.1:9/back"),
            ])
            .send()
            .await
            .expect("checkout");
        r.status().as_u16()
    }

    /// Deliver an event again (same id, same body, a new signature).
    pub async fn resend(&self, event: &str) {
        let r = self.client.post(format!("{}/_fake/events/{event}/resend", self.base)).send().await.expect("resend");
        assert!(r.status().is_success(), "{}", r.status());
    }

    /// The events of a type, oldest first.
    pub async fn events(&self, kind: &str) -> Vec<Value> {
        self.read("events").await.into_iter().filter(|e| e["type"] == kind).collect()
    }

    /// Wait until every event so far was delivered with a 2xx.
    pub async fn delivered(&self) {
        for _ in 0..200 {
            if self.read("events").await.iter().all(|e| e["delivered"] == true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("events not delivered: {:?}", self.read("events").await);
    }
}

impl Drop for FakeStripe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `Stripe-Signature` header for a body, as Stripe makes it.
pub fn sign(body: &str, secret: &str, t: i64) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key");
    mac.update(format!("{t}.{body}").as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}
