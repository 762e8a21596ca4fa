//! Group commit on SQLite: holds and status changes that arrive while the single writer is
//! busy share one transaction, and so one `fsync`, instead of one each.
//!
//! A writer takes its turn at the writer's open transaction (opening one when there is
//! none), runs its work inside a savepoint of its own and releases it, or rolls it back to
//! the savepoint when the work refused (a sold-out night undoes that hold only). If nobody
//! is waiting for a turn, or the group has [`MAX_GROUP`] members, that writer commits the
//! group; otherwise it leaves the transaction to the next in line. Every member is answered
//! only after the group's `COMMIT` returned, with that commit's outcome: nothing is
//! acknowledged before it is saved.
//!
//! When the storage fails inside a member's work (full, I/O error, lost lock) or a member's
//! request is dropped halfway through its work, the transaction's state is unknown: its
//! connection is closed (rolling back the whole group) and every member is told that its
//! write was not saved, as `Retryable` so that the store runs it again in a new group, or
//! with the storage's own error.
//!
//! On PostgreSQL every writer keeps a transaction of its own (the server already commits
//! concurrent transactions together).

use crate::tx::Tx;
use crate::{Backend, db_err};
use innkeep_app::StoreError;
use sqlx::{AnyPool, Executor};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Mutex, MutexGuard, Notify, watch};

/// Most writes committed together.
pub(crate) const MAX_GROUP: usize = 64;

/// How long a member waits for its group's commit before it looks whether the group still
/// has someone to commit it (a request dropped while waiting for its turn).
const LOOK_AGAIN: Duration = Duration::from_millis(20);

/// What a member's work asks for its changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keep {
    /// Keep them: they commit with the group.
    Yes,
    /// Undo them (the work refused, or only read): back to the member's savepoint.
    No,
}

/// The outcome of a group's commit, as each member reads it.
type Outcome = Option<Result<(), Failure>>;

/// Why a group did not commit, copied to every member.
#[derive(Debug, Clone)]
enum Failure {
    Full(String),
    Unavailable(String),
    Retry(String),
}

impl Failure {
    fn of(e: &StoreError) -> Failure {
        match e {
            StoreError::Full(m) => Failure::Full(m.clone()),
            StoreError::Unavailable(m) => Failure::Unavailable(m.clone()),
            other => Failure::Retry(format!("its commit group failed: {other}")),
        }
    }

    fn error(self) -> StoreError {
        match self {
            Failure::Full(m) => StoreError::Full(m),
            Failure::Unavailable(m) => StoreError::Unavailable(m),
            Failure::Retry(m) => StoreError::Retryable(m),
        }
    }
}

/// A storage failure after which the transaction's state is unknown (SQLite may have rolled
/// it back on its own); a refusal or a failed statement leaves it usable.
pub(crate) fn breaks_the_transaction(e: &StoreError) -> bool {
    matches!(e, StoreError::Full(_) | StoreError::Unavailable(_) | StoreError::Retryable(_))
}

/// The open transaction and its members.
#[derive(Default)]
struct Open {
    tx: Option<Tx>,
    members: usize,
    /// Told the group's outcome; one per transaction.
    outcome: Option<watch::Sender<Outcome>>,
    /// Counts transactions, so a member can tell whether the open one is still its own.
    serial: u64,
}

impl Open {
    /// Close the transaction without committing (its connection is closed, which rolls back)
    /// and tell the members why.
    fn abandon(&mut self, why: Failure) {
        self.tx = None;
        self.members = 0;
        if let Some(outcome) = self.outcome.take() {
            outcome.send_replace(Some(Err(why)));
        }
    }
}

/// The writer's shared transaction (SQLite).
pub(crate) struct Group {
    open: Mutex<Open>,
    /// Writers that asked for a turn and have not finished their work: while there are
    /// any, the group waits for them instead of committing.
    waiting: AtomicUsize,
    /// Told after every commit (the outbox's followers wake on it).
    committed: Arc<Notify>,
    /// Groups committed so far.
    commits: Arc<AtomicUsize>,
}

/// Counts a writer in [`Group::waiting`] until dropped (also when its request is).
struct InLine<'a>(&'a AtomicUsize);

impl Drop for InLine<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A member's turn at the open transaction. Dropped while the member has the transaction
/// (its request was dropped halfway), it abandons the group.
struct Turn<'a> {
    open: MutexGuard<'a, Open>,
    working: bool,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        if self.working {
            self.open.abandon(Failure::Retry("a write of its commit group was interrupted".into()));
        }
    }
}

impl Group {
    pub(crate) fn new(committed: Arc<Notify>) -> Group {
        Group {
            open: Mutex::new(Open::default()),
            waiting: AtomicUsize::new(0),
            committed,
            commits: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Run `work` in the writer's open transaction on `pool` and answer its value once its
    /// group has committed (a refusal is answered at once: it changed nothing).
    pub(crate) async fn run<T, F, Fut>(&self, pool: &AnyPool, work: F) -> Result<T, StoreError>
    where
        F: FnOnce(Tx) -> Fut,
        Fut: Future<Output = (Tx, Result<(T, Keep), StoreError>)>,
    {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let in_line = InLine(&self.waiting);
        let mut turn = Turn { open: self.open.lock().await, working: false };
        if turn.open.tx.is_none() {
            let tx = Tx::begin(pool, Backend::Sqlite).await.map_err(db_err)?;
            let open = &mut *turn.open;
            open.tx = Some(tx);
            open.members = 0;
            open.serial += 1;
            open.outcome = Some(watch::channel(None).0);
        }
        let serial = turn.open.serial;
        let outcome = turn.open.outcome.as_ref().map(watch::Sender::subscribe);
        let (Some(mut tx), Some(outcome)) = (turn.open.tx.take(), outcome) else {
            return Err(StoreError::Retryable("the commit group had no transaction".into()));
        };
        turn.working = true;
        let (tx, result) = match tx.execute("SAVEPOINT member").await {
            Ok(_) => work(tx).await,
            Err(e) => (tx, Err(db_err(e))),
        };
        let ended = match &result {
            Err(e) if breaks_the_transaction(e) => Err(Failure::of(e)),
            Ok((_, Keep::Yes)) => end(tx, &["RELEASE member"]).await,
            _ => end(tx, &["ROLLBACK TO member", "RELEASE member"]).await,
        };
        match ended {
            Ok(tx) => turn.open.tx = Some(tx),
            Err(why) => {
                turn.open.abandon(why.clone());
                turn.working = false;
                return Err(result.err().unwrap_or_else(|| why.error()));
            }
        }
        turn.working = false;
        if result.is_ok() {
            turn.open.members += 1;
        }
        drop(in_line);
        if self.waiting.load(Ordering::SeqCst) == 0 || turn.open.members >= MAX_GROUP {
            self.commit(&mut turn.open);
        }
        drop(turn);
        let (value, _) = result?;
        self.outcome_of(outcome, serial).await?;
        Ok(value)
    }

    /// Wait until the group of `serial` committed or failed. A group whose next writer went
    /// away before its turn is committed by one of its waiting members.
    async fn outcome_of(&self, mut outcome: watch::Receiver<Outcome>, serial: u64) -> Result<(), StoreError> {
        loop {
            let told = match tokio::time::timeout(LOOK_AGAIN, outcome.wait_for(Option::is_some)).await {
                Ok(Ok(told)) => Some(told.clone().unwrap_or(Ok(())).map_err(Failure::error)),
                Ok(Err(_)) => Some(Err(StoreError::Retryable("its commit group ended without an outcome".into()))),
                Err(_) => None,
            };
            if let Some(told) = told {
                return told;
            }
            let mut open = self.open.lock().await;
            if open.serial == serial && open.tx.is_some() && self.waiting.load(Ordering::SeqCst) == 0 {
                self.commit(&mut open);
            }
        }
    }

    /// Commit the open group in a task of its own (a request that goes away cannot stop a
    /// commit halfway) and tell its members the outcome. The writer's connection goes back
    /// to its pool when the commit is over, so the next group begins after it.
    fn commit(&self, open: &mut Open) {
        let (Some(tx), Some(outcome)) = (open.tx.take(), open.outcome.take()) else { return };
        let members = std::mem::take(&mut open.members);
        let (committed, commits) = (self.committed.clone(), self.commits.clone());
        tokio::spawn(async move {
            match tx.commit().await {
                Ok(()) => {
                    metrics::histogram!("innkeep_store_group_commit_size").record(members as f64);
                    commits.fetch_add(1, Ordering::SeqCst);
                    committed.notify_waiters();
                    outcome.send_replace(Some(Ok(())));
                }
                Err(e) => {
                    outcome.send_replace(Some(Err(Failure::of(&db_err(e)))));
                }
            }
        });
    }
}

/// End a member's savepoint with `statements`; on failure the transaction is lost.
async fn end(mut tx: Tx, statements: &[&'static str]) -> Result<Tx, Failure> {
    for s in statements {
        if let Err(e) = tx.execute(*s).await {
            return Err(Failure::of(&db_err(e)));
        }
    }
    Ok(tx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{StoreOptions, open, sqlite_url};
    use sqlx::Row;
    use tokio::sync::oneshot;

    /// A store's writer pool with a table of keys, and a group of our own on it.
    async fn setup() -> (tempfile::TempDir, crate::SqlStore, Arc<Group>) {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&StoreOptions::new(sqlite_url(dir.path()))).await.unwrap();
        sqlx::query("CREATE TABLE k (name TEXT PRIMARY KEY)").execute(&store.writer()).await.unwrap();
        (dir, store, Arc::new(Group::new(Arc::new(Notify::new()))))
    }

    async fn names(store: &crate::SqlStore) -> Vec<String> {
        let rows = sqlx::query("SELECT name FROM k ORDER BY name").fetch_all(&store.writer()).await.unwrap();
        rows.iter().map(|r| r.get::<String, _>("name")).collect()
    }

    /// Insert `name` in the group; the work waits for `go` first (if any), and refuses
    /// (after inserting) when the name starts with "refuse".
    fn insert(
        group: &Arc<Group>,
        store: &crate::SqlStore,
        name: &'static str,
        go: Option<oneshot::Receiver<()>>,
    ) -> tokio::task::JoinHandle<Result<&'static str, StoreError>> {
        insert_telling(group, store, name, go, None)
    }

    /// As [`insert`], saying on `started` when its work has begun.
    fn insert_telling(
        group: &Arc<Group>,
        store: &crate::SqlStore,
        name: &'static str,
        go: Option<oneshot::Receiver<()>>,
        started: Option<oneshot::Sender<()>>,
    ) -> tokio::task::JoinHandle<Result<&'static str, StoreError>> {
        let (group, pool) = (group.clone(), store.writer());
        tokio::spawn(async move {
            group
                .run(&pool, |mut tx| async move {
                    if let Some(started) = started {
                        started.send(()).ok();
                    }
                    if let Some(go) = go {
                        go.await.ok();
                    }
                    let r = sqlx::query("INSERT INTO k (name) VALUES ($1)").bind(name).execute(&mut *tx).await;
                    let r = match r {
                        Ok(_) if name.starts_with("refuse") => Err(StoreError::Stale),
                        Ok(_) => Ok((name, Keep::Yes)),
                        Err(e) => Err(db_err(e)),
                    };
                    (tx, r)
                })
                .await
        })
    }

    /// Wait until `n` writers are in line for the group.
    async fn in_line(group: &Group, n: usize) {
        while group.waiting.load(Ordering::SeqCst) < n {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn group_commit_is_on_unless_the_options_turn_it_off() {
        let dir = tempfile::tempdir().unwrap();
        let mut options = StoreOptions::new(sqlite_url(dir.path()));
        assert!(open(&options).await.unwrap().commits_in_groups());
        options.group_commit = false;
        assert!(!open(&options).await.unwrap().commits_in_groups());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writers_in_line_commit_together_and_a_refusal_undoes_only_itself() {
        let (_dir, store, group) = setup().await;
        // The first writer holds its turn until the others are in line behind it.
        let (go, wait) = oneshot::channel();
        let (started, first_started) = oneshot::channel();
        let first = insert_telling(&group, &store, "a", Some(wait), Some(started));
        first_started.await.unwrap();
        let others = [insert(&group, &store, "b", None), insert(&group, &store, "refuse-c", None)];
        let last = {
            in_line(&group, 3).await;
            insert(&group, &store, "d", None)
        };
        in_line(&group, 4).await;
        go.send(()).unwrap();
        assert_eq!(first.await.unwrap().unwrap(), "a");
        let [b, c] = others;
        assert_eq!(b.await.unwrap().unwrap(), "b");
        assert!(matches!(c.await.unwrap(), Err(StoreError::Stale)), "the refusal is answered as such");
        assert_eq!(last.await.unwrap().unwrap(), "d");
        assert_eq!(names(&store).await, ["a", "b", "d"], "the refused insert alone is undone");
        assert_eq!(group.commits.load(Ordering::SeqCst), 1, "four writers, one commit");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_writer_dropped_halfway_fails_its_group_and_the_next_group_commits() {
        let (_dir, store, group) = setup().await;
        let (_go, wait) = oneshot::channel::<()>();
        let first = insert(&group, &store, "a", None);
        assert_eq!(first.await.unwrap().unwrap(), "a");

        // "b" is in its turn and waits; "c" is in line behind it. "b"'s request goes away.
        let (go_b, wait_b) = oneshot::channel::<()>();
        let b = insert(&group, &store, "b", Some(wait_b));
        in_line(&group, 1).await;
        let c = insert(&group, &store, "c", Some(wait));
        in_line(&group, 2).await;
        // (b's go stays unsent until b is gone: b never gets past it.)
        b.abort();
        assert!(b.await.unwrap_err().is_cancelled());
        drop(go_b);
        // "c" got the turn after "b" was dropped: a new transaction, since b's group was
        // abandoned with nothing of it saved; c commits once released.
        drop(_go);
        assert_eq!(c.await.unwrap().unwrap(), "c");
        assert_eq!(names(&store).await, ["a", "c"]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn members_already_done_are_told_when_a_later_member_is_dropped() {
        let (_dir, store, group) = setup().await;
        // "a" finishes its work while "b" is in line, so "a" leaves the group open to "b";
        // "b" is dropped during its work: "a" must hear that nothing was saved.
        let (go_a, wait_a) = oneshot::channel();
        let (started, a_started) = oneshot::channel();
        let a = insert_telling(&group, &store, "a", Some(wait_a), Some(started));
        // "a" has its turn (so "b" cannot take one first).
        a_started.await.unwrap();
        let (go_b, wait_b) = oneshot::channel::<()>();
        let (started, b_started) = oneshot::channel();
        let b = insert_telling(&group, &store, "b", Some(wait_b), Some(started));
        in_line(&group, 2).await;
        go_a.send(()).unwrap();
        // "b" has its turn once "a" is done with its own.
        b_started.await.unwrap();
        b.abort();
        assert!(matches!(a.await.unwrap(), Err(StoreError::Retryable(_))), "a's write was not saved and says so");
        drop(go_b);
        assert_eq!(names(&store).await, Vec::<String>::new());
        // And the writer works on.
        assert_eq!(insert(&group, &store, "e", None).await.unwrap().unwrap(), "e");
        assert_eq!(names(&store).await, ["e"]);
    }
}
