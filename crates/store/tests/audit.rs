//! The audit log's store contract, on SQLite always and on PostgreSQL when
//! INNKEEP_TEST_POSTGRES_URL names a server (a fresh database, dropped afterwards): an entry
//! is kept with its `audit.recorded` event in one transaction, and listed newest first by
//! tenant, actor and action, a page at a time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use innkeep_app::audit::{AuditFilter, AuditLog, Entry};
use innkeep_app::event::{Change, Event, EventKind};
use innkeep_app::store::Outbox;
use innkeep_core::{TenantId, UserId};
use innkeep_store::{SqlStore, StoreOptions};
use jiff::Timestamp;
use uuid::Uuid;

async fn on_every_backend<F, Fut>(test: F)
where
    F: Fn(SqlStore) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let store = innkeep_store::open(&StoreOptions::new(innkeep_store::sqlite_url(dir.path()))).await.unwrap();
    innkeep_store::migrate(&store).await.unwrap();
    test(store.clone()).await;
    store.close().await;

    let Some(admin) = innkeep_store::testing::server_url("INNKEEP_TEST_POSTGRES_URL") else { return };
    let (url, name) = innkeep_store::testing::fresh_postgres_database(&admin).await.expect("fresh database");
    let store = innkeep_store::open(&StoreOptions::new(url)).await.unwrap();
    innkeep_store::migrate(&store).await.unwrap();
    test(store.clone()).await;
    store.close().await;
    innkeep_store::testing::drop_postgres_database(&admin, &name).await.unwrap();
}

fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + secs).unwrap()
}

fn entry(secs: i64, tenant: Option<TenantId>, user: Option<UserId>, action: &str, status: u16) -> Entry {
    Entry {
        id: Uuid::now_v7(),
        at: at(secs),
        tenant_id: tenant,
        actor_user_id: user,
        actor_key_id: None,
        action: action.into(),
        target: "/api/v1/room-types/0190c8a2-0000-7000-8000-000000000000/calendar".into(),
        method: "PUT".into(),
        status,
        address: Some("192.0.2.10".into()),
        user_agent: Some("curl/8.5".into()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_is_kept_with_its_event_and_reads_back_whole() {
    on_every_backend(|store| async move {
        let tenant = TenantId(Uuid::now_v7());
        let user = UserId(Uuid::now_v7());
        let mut e = entry(0, Some(tenant), Some(user), "calendar_changed", 200);
        e.actor_key_id = Some("key-1".into());
        let before = store.last_event_seq().await.unwrap();
        store.record_audits(&[(e.clone(), e.event())]).await.unwrap();

        let listed = store.list_audit(&AuditFilter { limit: 10, ..Default::default() }).await.unwrap();
        assert_eq!(listed, vec![e.clone()]);

        let events = store.events_after(before, 10).await.unwrap();
        assert_eq!(events.len(), 1, "one event with the entry");
        assert_eq!(events[0].event.kind, EventKind::AuditRecorded);
        assert_eq!(events[0].event.tenant_id, Some(tenant));
        assert_eq!(events[0].event.change().unwrap(), Change::AuditRecorded(e));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_lists_newest_first_by_tenant_actor_and_action_a_page_at_a_time() {
    on_every_backend(|store| async move {
        let (a, b) = (TenantId(Uuid::now_v7()), TenantId(Uuid::now_v7()));
        let (ana, bo) = (UserId(Uuid::now_v7()), UserId(Uuid::now_v7()));
        let mut written = Vec::new();
        for i in 0..6 {
            let (tenant, user) = if i % 2 == 0 { (Some(a), Some(ana)) } else { (Some(b), Some(bo)) };
            written.push(entry(i, tenant, user, "booking_cancelled", 200));
        }
        written.push(entry(6, None, None, "sign_in_failed", 401));
        // One at a time and, the rest, as one batch: the log's order is the entries' ids.
        store.record_audits(&[(written[0].clone(), written[0].event())]).await.unwrap();
        let rest: Vec<(Entry, Event)> = written[1..].iter().map(|e| (e.clone(), e.event())).collect();
        store.record_audits(&rest).await.unwrap();
        let ids = |es: &[Entry]| es.iter().map(|e| e.id).collect::<Vec<_>>();
        let newest_first = |f: &dyn Fn(&Entry) -> bool| {
            let mut es: Vec<Entry> = written.iter().filter(|e| f(e)).cloned().collect();
            es.reverse();
            ids(&es)
        };

        let all = store.list_audit(&AuditFilter { limit: 200, ..Default::default() }).await.unwrap();
        assert_eq!(ids(&all), newest_first(&|_| true));

        let of_a = store.list_audit(&AuditFilter { tenant_id: Some(a), limit: 200, ..Default::default() }).await;
        assert_eq!(ids(&of_a.unwrap()), newest_first(&|e| e.tenant_id == Some(a)));

        let by_bo = store.list_audit(&AuditFilter { actor_user_id: Some(bo), limit: 200, ..Default::default() }).await;
        assert_eq!(ids(&by_bo.unwrap()), newest_first(&|e| e.actor_user_id == Some(bo)));

        let failed = AuditFilter { action: Some("sign_in_failed".into()), limit: 200, ..Default::default() };
        let failed = store.list_audit(&failed).await.unwrap();
        assert_eq!((failed.len(), failed[0].status), (1, 401));

        // Pages: two at a time, each older than the last of the page before.
        let mut pages = Vec::new();
        let mut before = None;
        loop {
            let page = store
                .list_audit(&AuditFilter { tenant_id: Some(a), before, limit: 2, ..Default::default() })
                .await
                .unwrap();
            if page.is_empty() {
                break;
            }
            before = page.last().map(|e| e.id);
            pages.extend(ids(&page));
        }
        assert_eq!(pages, newest_first(&|e| e.tenant_id == Some(a)));
    })
    .await;
}
