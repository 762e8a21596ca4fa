//! The audit log: who did what, when and from where. Sign-ins and their failures, changes
//! to accounts, teams and keys, and every change staff make to rates, availability,
//! bookings and properties, each an entry kept in the `audit_log` table and, in the same
//! transaction, an `audit.recorded` outbox event (so the lake has them too).
//!
//! The front ends write an entry after they answered (see `innkeep-http`'s `audit.rs`):
//! an entry is a record of a request, not part of the change it describes. So an entry can
//! be lost if the node dies between the change's commit and the entry's write (the change
//! itself, with its own event, is committed already); a failed write is logged and counted
//! (`innkeep_audit_failures_total`), never answered to the client.

use crate::event::Change;
use crate::{Actor, AppError, Event, Ports, StoreError};
use async_trait::async_trait;
use innkeep_core::{Role, TenantId, UserId};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex, PoisonError};
use uuid::Uuid;

/// The most entries one page of the log holds.
pub const MAX_PAGE: u32 = 200;

/// The longest `User-Agent` kept (the rest is cut off).
pub const MAX_USER_AGENT: usize = 200;

/// The longest action name.
const MAX_ACTION: usize = 64;

/// One audited request: who (a user, an API key, or only the e-mail tried), did what
/// (`action`, `method`, `target`), with which outcome (`status`), when and from where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// A UUID v7: the log's order.
    pub id: Uuid,
    pub at: Timestamp,
    /// The tenant acted on or for (the actor's, for a host).
    pub tenant_id: Option<TenantId>,
    pub actor_user_id: Option<UserId>,
    /// The API key the request was made with, if it was.
    pub actor_key_id: Option<String>,
    /// What was done, in snake_case (`sign_in`, `sign_in_failed`, `calendar_changed`, ...).
    pub action: String,
    /// What it was done to: the request's path (with its ids), or the e-mail address a
    /// sign-in named.
    pub target: String,
    /// The HTTP method.
    pub method: String,
    /// The HTTP status answered.
    pub status: u16,
    /// The client's IP address, as the node saw it.
    pub address: Option<String>,
    /// The client's `User-Agent`, cut to [`MAX_USER_AGENT`] characters.
    pub user_agent: Option<String>,
}

impl Entry {
    /// The `audit.recorded` event of this entry.
    pub fn event(&self) -> Event {
        Event::new(&Change::AuditRecorded(self.clone()), self.at, self.tenant_id, self.id)
    }
}

/// Whether `s` is an action name: snake_case ASCII, 1 to 64 characters.
pub fn is_action(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_ACTION
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && s.as_bytes()[0].is_ascii_lowercase()
}

/// Which entries to list: newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub tenant_id: Option<TenantId>,
    pub actor_user_id: Option<UserId>,
    pub action: Option<String>,
    /// Older than this entry (the last of the page before).
    pub before: Option<Uuid>,
    /// 1 to [`MAX_PAGE`].
    pub limit: u32,
}

/// The store port of the audit log.
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Keep entries, each with its `audit.recorded` event, all in one transaction.
    async fn record_audits(&self, entries: &[(Entry, Event)]) -> Result<(), StoreError>;
    /// Entries matching a filter, newest first.
    async fn list_audit(&self, filter: &AuditFilter) -> Result<Vec<Entry>, StoreError>;
}

/// Keep entries, each with its event, in one transaction; none if one's action is no
/// action name.
pub async fn record(ports: &Ports, entries: &[Entry]) -> Result<(), AppError> {
    if entries.iter().any(|e| !is_action(&e.action)) {
        return Err(AppError::invalid("action", "invalid_action", "an action is a snake_case name"));
    }
    let with_events: Vec<(Entry, Event)> = entries.iter().map(|e| (e.clone(), e.event())).collect();
    ports.store.record_audits(&with_events).await?;
    Ok(())
}

/// The most entries written in one transaction.
const BATCH: usize = 256;

/// The most entries waiting for the writer; past it an entry is dropped (and counted).
const QUEUE: usize = 16_384;

/// Writes the front ends' entries in the background: each write takes every entry that
/// arrived within [`LINGER`] of the first (up to [`BATCH`]) in one transaction, so under
/// load one commit covers many requests instead of one each. An entry is kept as before,
/// after its request was answered; one the database refuses (or that finds the queue full,
/// the database far behind) is logged and counted in `innkeep_audit_failures_total`.
pub struct AuditWriter {
    ports: Ports,
    queue: std::sync::OnceLock<tokio::sync::mpsc::Sender<Entry>>,
    pending: Arc<Pending>,
}

/// Entries queued and not yet written (or given up), and a wake-up when that reaches zero.
#[derive(Default)]
struct Pending {
    count: std::sync::atomic::AtomicUsize,
    settled: tokio::sync::Notify,
}

impl Pending {
    fn done(&self, n: usize) {
        if self.count.fetch_sub(n, std::sync::atomic::Ordering::AcqRel) == n {
            self.settled.notify_waiters();
        }
    }
}

impl AuditWriter {
    /// A writer for `ports`; its task starts with the first entry.
    pub fn new(ports: Ports) -> AuditWriter {
        AuditWriter { ports, queue: std::sync::OnceLock::new(), pending: Arc::default() }
    }

    /// Queue an entry for the next write. Called on a Tokio runtime.
    pub fn write(&self, entry: Entry) {
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = tokio::sync::mpsc::channel(QUEUE);
            tokio::spawn(drain(self.ports.clone(), rx, self.pending.clone()));
            tx
        });
        self.pending.count.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        if let Err(e) = queue.try_send(entry) {
            tracing::warn!(error = %e, "audit entry not queued");
            metrics::counter!("innkeep_audit_failures_total").increment(1);
            self.pending.done(1);
        }
    }

    /// Wait until every entry queued so far was written (or given up): for a node's
    /// shutdown and for tests that read the log right after writing.
    pub async fn settled(&self) {
        loop {
            let wake = self.pending.settled.notified();
            tokio::pin!(wake);
            wake.as_mut().enable();
            if self.pending.count.load(std::sync::atomic::Ordering::Acquire) == 0 {
                return;
            }
            wake.await;
        }
    }
}

/// How long the writer lets entries gather after the first of a batch arrived: requests
/// answered within it share one transaction (an entry is written after its answer anyway).
const LINGER: std::time::Duration = std::time::Duration::from_millis(20);

/// Write what waits, a batch at a time, until every sender is gone.
async fn drain(ports: Ports, mut queue: tokio::sync::mpsc::Receiver<Entry>, pending: Arc<Pending>) {
    let mut batch = Vec::with_capacity(BATCH);
    while queue.recv_many(&mut batch, BATCH).await > 0 {
        if batch.len() < BATCH {
            tokio::time::sleep(LINGER).await;
            while batch.len() < BATCH
                && let Ok(entry) = queue.try_recv()
            {
                batch.push(entry);
            }
        }
        if let Err(e) = record(&ports, &batch).await {
            tracing::warn!(error = %e, entries = batch.len(), "audit entries not written");
            metrics::counter!("innkeep_audit_failures_total").increment(batch.len() as u64);
        }
        pending.done(batch.len());
        batch.clear();
    }
}

/// The log as the actor may see it: an admin every tenant's (and the entries of no
/// tenant, such as failed sign-ins), a host its own tenant's, a guest nothing.
pub async fn list(ports: &Ports, actor: &Actor, mut filter: AuditFilter) -> Result<Vec<Entry>, AppError> {
    match actor.role {
        Role::Admin => {}
        Role::Host => {
            let own = actor.tenant_id.ok_or(AppError::Forbidden("the tenant's owners and operators"))?;
            let tenant = *filter.tenant_id.get_or_insert(own);
            // duty: team
            if !actor.may(innkeep_core::Duty::Team, tenant) {
                return Err(AppError::Forbidden("the tenant's owners and operators"));
            }
        }
        Role::Guest => return Err(AppError::Forbidden("the tenant's owners and operators")),
    }
    if let Some(a) = &filter.action
        && !is_action(a)
    {
        return Err(AppError::invalid("action", "invalid_action", "an action is a snake_case name"));
    }
    filter.limit = filter.limit.clamp(1, MAX_PAGE);
    Ok(ports.store.list_audit(&filter).await?)
}

/// What a front end learns about who is acting while it handles a request, for the entry
/// written after the answer: the actor once authenticated, the API key, and the e-mail a
/// sign-in named. Shared between the request's handler and the middleware that writes the
/// entry (a clone is the same note).
#[derive(Debug, Clone, Default)]
pub struct AuditNote(Arc<Mutex<Note>>);

/// The contents of an [`AuditNote`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Note {
    pub actor: Option<Actor>,
    pub key_id: Option<String>,
    /// The e-mail address a sign-in tried.
    pub subject: Option<String>,
}

impl AuditNote {
    fn edit(&self, f: impl FnOnce(&mut Note)) {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// The request's actor is `actor`.
    pub fn actor(&self, actor: &Actor) {
        self.edit(|n| n.actor = Some(*actor));
    }

    /// The request was made with this API key.
    pub fn key(&self, key_id: &str) {
        self.edit(|n| n.key_id = Some(key_id.to_string()));
    }

    /// The request (a sign-in) named this e-mail address.
    pub fn subject(&self, email: &str) {
        let email: String = email.trim().chars().take(254).collect();
        self.edit(|n| n.subject = Some(email.to_lowercase()));
    }

    /// What is noted so far.
    pub fn get(&self) -> Note {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names_are_snake_case() {
        for ok in ["sign_in", "sign_in_failed", "key_used", "a1"] {
            assert!(is_action(ok), "{ok}");
        }
        for bad in ["", "Sign_in", "sign-in", "_x", "1x", "sign in", &"a".repeat(65)] {
            assert!(!is_action(bad), "{bad}");
        }
    }

    #[test]
    fn an_entry_reads_back_from_its_event() {
        let entry = Entry {
            id: Uuid::nil(),
            at: Timestamp::UNIX_EPOCH,
            tenant_id: None,
            actor_user_id: None,
            actor_key_id: None,
            action: "sign_in_failed".into(),
            target: "ana@example.com".into(),
            method: "POST".into(),
            status: 401,
            address: Some("192.0.2.1".into()),
            user_agent: None,
        };
        let event = entry.event();
        assert_eq!(event.kind.as_str(), "audit.recorded");
        assert_eq!(event.change().ok(), Some(Change::AuditRecorded(entry)));
    }

    #[test]
    fn a_note_keeps_what_the_handler_learned() {
        let note = AuditNote::default();
        let seen = note.clone();
        note.subject(" Ana@Example.com ");
        assert_eq!(seen.get().subject.as_deref(), Some("ana@example.com"));
        assert_eq!(seen.get().actor, None);
    }
}
