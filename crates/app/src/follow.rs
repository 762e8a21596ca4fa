//! The one loop that follows the outbox. Every part that reads the outbox in order (the
//! durable consumers, the NATS relay, each node's search index) is a [`Follower`]: it says
//! how to take its next batch, and [`follow`] decides when: at once after a full batch,
//! after a commit wakes it (letting a burst gather first), or at the poll interval, with a
//! growing pause after a failure, until the node stops.

use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// Why a step failed (logged; the step is tried again after a pause).
pub type StepError = Box<dyn std::error::Error + Send + Sync>;

/// One reader of the outbox.
#[async_trait]
pub trait Follower: Send {
    /// What the logs call it.
    fn name(&self) -> &str;

    /// Take the next batch after this follower's position and move the position over it;
    /// returns how many events it moved over.
    async fn step(&mut self) -> Result<usize, StepError>;
}

/// When to read.
#[derive(Debug, Clone, Copy)]
pub struct FollowOptions {
    /// Events a step reads at most: a step that read this many may have more behind it.
    pub batch: usize,
    /// How often to read when no commit wakes the follower.
    pub poll: Duration,
    /// How long to let events gather after a commit wakes the follower, so that under load
    /// one read covers many.
    pub linger: Duration,
}

/// The first pause after a failed step; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Follow the outbox with `follower` until `stop` turns true.
pub async fn follow(
    mut follower: impl Follower,
    commits: Arc<Notify>,
    opts: FollowOptions,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        // Register interest before reading, so a commit during the read is not missed.
        let woken = commits.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        match follower.step().await {
            Ok(n) => {
                backoff = FIRST_BACKOFF;
                // A full batch may have more behind it; a partial one read every event
                // visible then, so the next read waits for a commit (or the poll).
                if n >= opts.batch {
                    continue;
                }
            }
            Err(e) => {
                tracing::error!(follower = follower.name(), error = %e, "could not follow the outbox; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stop.wait_for(|s| *s) => return,
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        }
        let by_commit = tokio::select! {
            _ = &mut woken => true,
            _ = tokio::time::sleep(opts.poll) => false,
            _ = stop.wait_for(|s| *s) => return,
        };
        if by_commit {
            tokio::time::sleep(opts.linger).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Moves over what `pending` holds, `batch` at a time; fails while `failing` > 0.
    struct Counter {
        pending: Arc<Mutex<usize>>,
        failing: usize,
        steps: Arc<Mutex<Vec<Result<usize, ()>>>>,
    }

    #[async_trait]
    impl Follower for Counter {
        fn name(&self) -> &str {
            "counter"
        }

        async fn step(&mut self) -> Result<usize, StepError> {
            if self.failing > 0 {
                self.failing -= 1;
                self.steps.lock().unwrap().push(Err(()));
                return Err("down".into());
            }
            let mut p = self.pending.lock().unwrap();
            let n = (*p).min(3);
            *p -= n;
            self.steps.lock().unwrap().push(Ok(n));
            Ok(n)
        }
    }

    #[tokio::test(start_paused = true)]
    async fn drains_full_batches_at_once_retries_failures_and_wakes_on_a_commit() {
        let pending = Arc::new(Mutex::new(7));
        let steps = Arc::new(Mutex::new(Vec::new()));
        let follower = Counter { pending: pending.clone(), failing: 2, steps: steps.clone() };
        let commits = Arc::new(Notify::new());
        let (stop_tx, stop) = watch::channel(false);
        let opts = FollowOptions { batch: 3, poll: Duration::from_secs(3600), linger: Duration::from_millis(5) };
        let task = tokio::spawn(follow(follower, commits.clone(), opts, stop));
        tokio::time::sleep(Duration::from_secs(1)).await;
        // Two failures (retried after 100 ms, then 200 ms), then 3 + 3 + 1 without waiting.
        assert_eq!(*steps.lock().unwrap(), vec![Err(()), Err(()), Ok(3), Ok(3), Ok(1)]);
        // Nothing more is read until a commit (the poll is an hour away).
        *pending.lock().unwrap() = 2;
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert_eq!(steps.lock().unwrap().len(), 5);
        commits.notify_waiters();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(steps.lock().unwrap().last(), Some(&Ok(2)));
        stop_tx.send(true).unwrap();
        task.await.unwrap();
    }
}
