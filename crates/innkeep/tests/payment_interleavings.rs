//! Random interleavings of booking, paying (in full or in parts, by bank statement),
//! refunding (any amount), cancelling, completing stays (commission) and payout runs,
//! against a real server and store: after every step `innkeep ledger check` finds nothing
//! wrong, no payment has more refunded than it received, and no payout pays more than the
//! host had earned on stays that are over.

use crate::common;

use common::{TestApp, spawn_app};
use innkeep_app::Actor;
use innkeep_app::payment::{StatementLine, check_ledger, import_statement};
use innkeep_core::{Currency, Money, Role, TenantId, UserId};
use proptest::prelude::*;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
enum Op {
    Book,
    /// Pay booking `of` by transfer: all that is left, or half of it.
    Pay {
        of: usize,
        half: bool,
    },
    Refund {
        of: usize,
        minor: i64,
    },
    Cancel {
        of: usize,
    },
    Complete {
        of: usize,
    },
    Payout,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => Just(Op::Book),
        3 => (0..6usize, any::<bool>()).prop_map(|(of, half)| Op::Pay { of, half }),
        2 => (0..6usize, 1..40_000i64).prop_map(|(of, minor)| Op::Refund { of, minor }),
        1 => (0..6usize).prop_map(|of| Op::Cancel { of }),
        2 => (0..6usize).prop_map(|of| Op::Complete { of }),
        2 => Just(Op::Payout),
    ]
}

fn admin() -> Actor {
    Actor::new(UserId(uuid::Uuid::nil()), Role::Admin, None)
}

struct World {
    app: TestApp,
    host: String,
    guest: String,
    tenant: TenantId,
    room_type: String,
    bookings: Vec<String>,
    n: usize,
}

impl World {
    async fn new() -> World {
        let app = spawn_app().await;
        let host = app.user("host").await;
        let guest = app.user("guest").await;
        let p = app.property_paying(&host, "prepay").await;
        let tenant = p["tenant_id"].as_str().unwrap().parse().unwrap();
        let property = p["id"].as_str().unwrap().to_string();
        let room_type = app.room_type(&host, &property, 10).await;
        let account = json!({"name": "Casa Azul Lda", "iban": "DE89 3704 0044 0532 0130 00"});
        let r = app.call(reqwest::Method::PUT, "/api/v1/payouts/account", Some(&host), Some(account)).await;
        assert_eq!(r.status, 200, "{}", r.body);
        World { app, host, guest, tenant, room_type, bookings: Vec::new(), n: 0 }
    }

    fn key(&mut self) -> String {
        self.n += 1;
        format!("k{}", self.n)
    }

    async fn payments(&self, booking: &str) -> Vec<Value> {
        let r = self.app.get(&format!("/api/v1/bookings/{booking}/payments"), Some(&self.guest)).await;
        r.body.as_array().cloned().unwrap_or_default()
    }

    async fn post(&self, path: &str, token: &str, key: Option<&str>, body: Value) -> u16 {
        let mut req = self.app.client.post(self.app.url(path)).bearer_auth(token).json(&body);
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        let status = req.send().await.unwrap().status().as_u16();
        assert!(status < 500, "{path} answered {status}");
        status
    }

    async fn step(&mut self, op: &Op) {
        let ports = self.app.server.as_ref().unwrap().ports.clone();
        let now = self.app.clock.now_for_tests();
        let pick = |of: &usize, list: &Vec<String>| list.get(*of % list.len().max(1)).cloned();
        match op {
            Op::Book => {
                let day = 1 + 3 * self.bookings.len() as i64;
                let ci = jiff::civil::date(2027, 3, 1).checked_add(jiff::Span::new().days(day)).unwrap();
                let co = ci.checked_add(jiff::Span::new().days(2)).unwrap();
                let r = self.app.book(&self.guest, &self.room_type, &ci.to_string(), &co.to_string(), None).await;
                assert_eq!(r.status, 201, "{}", r.body);
                self.bookings.push(r.body["id"].as_str().unwrap().to_string());
            }
            Op::Pay { of, half } => {
                let Some(b) = pick(of, &self.bookings) else { return };
                let key = self.key();
                let body = json!({"method": "bank_transfer"});
                self.post(&format!("/api/v1/bookings/{b}/payments"), &self.guest.clone(), Some(&key), body).await;
                let Some(p) = self.payments(&b).await.into_iter().rev().find(|p| p["status"] == "requires_action")
                else {
                    return;
                };
                let left = p["amount"]["minor"].as_i64().unwrap() - p["received"]["minor"].as_i64().unwrap();
                let minor = if *half { (left / 2).max(1) } else { left };
                let line = StatementLine {
                    booking_date: None,
                    amount: Money::new(minor, Currency::parse("EUR").unwrap()),
                    credit: true,
                    references: vec![p["reference"].as_str().unwrap().to_string()],
                    problem: None,
                };
                import_statement(&ports, &admin(), &self.key(), &[line], now).await.unwrap();
            }
            Op::Refund { of, minor } => {
                let Some(b) = pick(of, &self.bookings) else { return };
                let key = self.key();
                for p in self.payments(&b).await.iter().filter(|p| p["status"] == "succeeded") {
                    let path = format!("/api/v1/payments/{}/refunds", p["id"].as_str().unwrap());
                    self.post(&path, &self.host.clone(), Some(&key), json!({"amount": minor})).await;
                }
            }
            Op::Cancel { of } => {
                let Some(b) = pick(of, &self.bookings) else { return };
                self.post(&format!("/api/v1/bookings/{b}/cancel"), &self.guest.clone(), None, json!({})).await;
            }
            Op::Complete { of } => {
                let Some(b) = pick(of, &self.bookings) else { return };
                let host = self.host.clone();
                if self.post(&format!("/api/v1/bookings/{b}/check-in"), &host, None, json!({})).await == 200 {
                    self.post(&format!("/api/v1/bookings/{b}/complete"), &host, None, json!({})).await;
                    // The stay's commission is metered by a consumer: wait for it.
                    let booking: innkeep_core::BookingId = b.parse().unwrap();
                    for _ in 0..200 {
                        let c = ports.store.commissions_of(self.tenant, None).await.unwrap();
                        if c.iter().any(|c| c.booking_id == booking) {
                            break;
                        }
                        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    }
                }
            }
            Op::Payout => {
                let earned: i64 = ports
                    .store
                    .payout_candidates()
                    .await
                    .unwrap()
                    .iter()
                    .filter(|c| c.tenant_id == self.tenant)
                    .map(|c| c.payable.minor - c.unearned.minor)
                    .sum();
                let run = innkeep_app::billing::run_payouts(&ports, now).await.unwrap();
                let paid: i64 = run.payouts.iter().map(|p| p.amount.minor).sum();
                assert!(paid <= earned.max(0), "paid {paid}, earned {earned}");
            }
        }
    }

    async fn check(&self) {
        let report = check_ledger(&self.app.server.as_ref().unwrap().ports).await.unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        for b in &self.bookings {
            for p in self.payments(b).await {
                let (received, refunded) =
                    (p["received"]["minor"].as_i64().unwrap(), p["refunded"]["minor"].as_i64().unwrap());
                assert!(refunded <= received, "refunded {refunded} of {received}: {p}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn any_interleaving_keeps_the_ledger_sound(ops in proptest::collection::vec(op(), 1..16)) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async {
            let mut w = World::new().await;
            for op in &ops {
                w.step(op).await;
                w.check().await;
            }
            w.app.stop().await;
        });
    }
}
