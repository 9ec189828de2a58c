//! The SQLite writer: one connection on its own thread owns every write, and commits
//! them in groups.
//!
//! SQLite allows one writer at a time; several connections writing would fight over
//! the lock (`SQLITE_BUSY`). Instead, writes queue here. The writer takes everything
//! waiting (up to [`MAX_BATCH`]), runs each operation inside its own savepoint of one
//! `BEGIN IMMEDIATE` transaction, commits once, and only then answers each caller. A
//! failed operation rolls back to its savepoint without touching its neighbours; a
//! failed commit fails every operation of the batch (503, never a false success).
//!
//! Revocations, the hot path, are not closures but data ([`Revocation`]): all of a
//! batch's are carried out together by `revocations::execute`, a few statements for
//! all of them. Should that fail, each
//! is retried alone in its own savepoint, so one bad revocation cannot sink the rest.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use diesel::connection::{AnsiTransactionManager, SimpleConnection};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, TransactionManager};
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};

use super::revocations::{self, Revocation, Revoked};
use super::sqlite::{self, Inline, SqliteConn};
use super::{Db, Operation, StoreError};

/// The most operations one commit carries: enough to amortize the fsync, small enough
/// that the first caller of a batch does not wait long for the last.
const MAX_BATCH: usize = 256;
/// Writes waiting beyond this make callers wait (back-pressure) rather than grow memory.
const QUEUE_DEPTH: usize = 4096;

type Delivery = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// What a job leaves once it has run: whether it succeeded, and how to answer its
/// caller once the commit's fate is known.
type Ran = (bool, Delivery);
type Job = Box<dyn for<'c> FnOnce(Db<'c>) -> BoxFuture<'c, Ran> + Send>;
type TxManager = <SqliteConn as AsyncConnection>::TransactionManager;

/// What the queue carries: any write, or a revocation to batch with the others.
enum Work {
    Job(Job),
    Revocation(Revocation, oneshot::Sender<Result<Revoked, StoreError>>),
}

#[derive(Clone)]
pub(super) struct Writer {
    jobs: mpsc::Sender<Work>,
    health: Arc<Health>,
}

/// Why the last batch could not commit (disk full, WAL unwritable, …), until a later
/// one commits: what `/readyz` reports.
#[derive(Default)]
struct Health {
    failing: AtomicBool,
    last_failure: Mutex<Option<String>>,
}

impl Health {
    fn record(&self, outcome: &Result<(), StoreError>) {
        // The common case, a commit while healthy, touches only the flag.
        if outcome.is_ok() && !self.failing.load(Ordering::Acquire) {
            return;
        }
        let mut last = self.last_failure.lock().unwrap_or_else(|p| p.into_inner());
        *last = outcome.as_ref().err().map(ToString::to_string);
        self.failing.store(last.is_some(), Ordering::Release);
    }

    fn last_failure(&self) -> Option<String> {
        if !self.failing.load(Ordering::Acquire) {
            return None;
        }
        self.last_failure.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Writer {
    /// Opens the writer connection and starts its thread; fails if the file cannot
    /// be opened.
    pub(super) async fn start(path: String) -> Result<Self, StoreError> {
        let (jobs, queue) = mpsc::channel(QUEUE_DEPTH);
        let (opened_tx, opened) = oneshot::channel();
        let health = Arc::new(Health::default());
        let recorded = health.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread().build() {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = opened_tx.send(Err(StoreError::Internal(e.to_string())));
                        return;
                    }
                };
                match sqlite::open_writer(&path) {
                    Ok(conn) => {
                        // Checkpoints run beside the writer for as long as it runs.
                        let (_checkpoints_until_dropped, stop) = std::sync::mpsc::channel::<()>();
                        let checkpointed = path.clone();
                        let checkpointer = std::thread::Builder::new()
                            .name("sqlite-checkpoint".into())
                            .spawn(move || sqlite::checkpoint_until(&checkpointed, &stop));
                        if let Err(e) = checkpointer {
                            let _ = opened_tx.send(Err(StoreError::Internal(format!(
                                "cannot start the SQLite checkpointer: {e}"
                            ))));
                            return;
                        }
                        let _ = opened_tx.send(Ok(()));
                        runtime.block_on(run(path, wrap(conn), queue, &recorded));
                    }
                    Err(e) => {
                        let _ = opened_tx.send(Err(e));
                    }
                }
            })
            .map_err(|e| StoreError::Internal(format!("cannot start the SQLite writer: {e}")))?;
        opened
            .await
            .map_err(|_| StoreError::Internal("the SQLite writer died at start-up".into()))??;
        Ok(Self { jobs, health })
    }

    /// `Err` while writes cannot succeed: the writer has stopped, or its last batch
    /// failed to commit and none has committed since.
    pub(super) fn health(&self) -> Result<(), String> {
        if self.jobs.is_closed() {
            return Err("the SQLite writer has stopped".into());
        }
        match self.health.last_failure() {
            Some(failure) => Err(format!("the last SQLite write failed: {failure}")),
            None => Ok(()),
        }
    }

    /// Queues `op` and waits until the batch holding it has committed.
    pub(super) async fn submit<T: Send + 'static>(&self, op: impl Operation<T>) -> Result<T, StoreError> {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |db| {
            Box::pin(async move {
                let result = op(db).await;
                let succeeded = result.is_ok();
                let deliver: Delivery = Box::new(move |committed| {
                    // The caller may have gone away (request cancelled); nothing to do then.
                    let _ = answer.send(committed.and(result));
                });
                (succeeded, deliver)
            })
        });
        self.enqueue(Work::Job(job), answered).await
    }

    /// Queues a revocation and waits until the batch holding it has committed.
    pub(super) async fn revoke(&self, revocation: Revocation) -> Result<Revoked, StoreError> {
        let (answer, answered) = oneshot::channel();
        self.enqueue(Work::Revocation(revocation, answer), answered).await
    }

    async fn enqueue<T>(
        &self,
        work: Work,
        answered: oneshot::Receiver<Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        self.jobs
            .send(work)
            .await
            .map_err(|_| StoreError::unavailable("the SQLite writer has stopped"))?;
        // A dropped sender means the work never ran to the end (its batch could not
        // begin, or it panicked): nothing of it was committed.
        answered
            .await
            .map_err(|_| StoreError::unavailable("the write was not carried out"))?
    }
}

fn wrap(conn: diesel::SqliteConnection) -> SqliteConn {
    SyncConnectionWrapper::with_runtime(conn, Inline)
}

async fn run(path: String, mut conn: SqliteConn, mut queue: mpsc::Receiver<Work>, health: &Health) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let committed = commit_batch(&mut conn, batch.drain(..)).await;
        health.record(&committed);
        if let Err(error) = committed {
            tracing::error!(%error, "SQLite batch failed; reopening the writer connection");
            // Whatever state the failure left behind (an open transaction, a broken
            // transaction manager) must not leak into the next batch.
            match sqlite::open_writer(&path) {
                Ok(fresh) => conn = wrap(fresh),
                Err(error) => tracing::error!(%error, "cannot reopen the SQLite writer; keeping the old connection"),
            }
        }
    }
}

/// Runs one batch in one transaction and answers every caller after the commit.
async fn commit_batch(conn: &mut SqliteConn, work: impl ExactSizeIterator<Item = Work>) -> Result<(), StoreError> {
    let (size, started) = (work.len(), std::time::Instant::now());
    conn.spawn_blocking(|inner| AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE"))
        .await?;
    let mut deliveries = Vec::new();
    let mut revocations = Vec::new();
    for item in work {
        match item {
            Work::Job(job) => {
                if let Err(error) = run_job(conn, job, &mut deliveries).await {
                    return fail(conn, deliveries, error).await;
                }
            }
            Work::Revocation(write, answer) => revocations.push((write, answer)),
        }
    }
    if !revocations.is_empty()
        && let Err(error) = run_revocations(conn, revocations, &mut deliveries).await
    {
        return fail(conn, deliveries, error).await;
    }
    let ran = started.elapsed();
    let committed = TxManager::commit_transaction(conn).await.map_err(StoreError::from);
    let took = started.elapsed();
    deliveries.into_iter().for_each(|deliver| deliver(committed.clone()));
    tracing::trace!(
        size,
        run_us = ran.as_micros() as u64,
        commit_us = (took - ran).as_micros() as u64,
        answer_us = (started.elapsed() - took).as_micros() as u64,
        "SQLite write batch"
    );
    committed
}

/// Runs one job in a savepoint of its own. `Err` only when the savepoint itself
/// failed, which leaves the transaction unusable.
async fn run_job(conn: &mut SqliteConn, job: Job, deliveries: &mut Vec<Delivery>) -> Result<(), StoreError> {
    TxManager::begin_transaction(conn).await?;
    let ran = AssertUnwindSafe(job(Db::Sqlite(conn))).catch_unwind().await;
    let savepoint = match ran {
        Ok((true, deliver)) => {
            deliveries.push(deliver);
            TxManager::commit_transaction(conn).await
        }
        Ok((false, deliver)) => {
            deliveries.push(deliver);
            TxManager::rollback_transaction(conn).await
        }
        Err(_) => {
            tracing::error!("a store operation panicked; its savepoint is rolled back");
            TxManager::rollback_transaction(conn).await
        }
    };
    Ok(savepoint?)
}

/// Carries out every revocation of the batch together; if that fails, each alone, so
/// that only the one that cannot be done fails.
async fn run_revocations(
    conn: &mut SqliteConn,
    revocations: Vec<(Revocation, oneshot::Sender<Result<Revoked, StoreError>>)>,
    deliveries: &mut Vec<Delivery>,
) -> Result<(), StoreError> {
    let (writes, answers): (Vec<_>, Vec<_>) = revocations.into_iter().unzip();
    TxManager::begin_transaction(conn).await?;
    let together = revocations::execute(&mut Db::Sqlite(conn), &writes).await;
    let results = match together {
        Ok(revoked) => {
            TxManager::commit_transaction(conn).await?;
            revoked.into_iter().map(Ok).collect()
        }
        Err(error) => {
            tracing::warn!(%error, "a batch of revocations failed; retrying them one by one");
            TxManager::rollback_transaction(conn).await?;
            let mut results = Vec::with_capacity(writes.len());
            for write in &writes {
                TxManager::begin_transaction(conn).await?;
                match revocations::execute(&mut Db::Sqlite(conn), std::slice::from_ref(write)).await {
                    Ok(mut revoked) => {
                        TxManager::commit_transaction(conn).await?;
                        results.push(Ok(revoked.pop().unwrap_or_default()));
                    }
                    Err(error) => {
                        TxManager::rollback_transaction(conn).await?;
                        results.push(Err(error));
                    }
                }
            }
            results
        }
    };
    for (answer, result) in answers.into_iter().zip(results) {
        deliveries.push(Box::new(move |committed: Result<(), StoreError>| {
            // The caller may have gone away (request cancelled); nothing to do then.
            let _ = answer.send(committed.and(result));
        }));
    }
    Ok(())
}

/// Rolls the batch back and tells every caller answered so far; the others' senders
/// drop, which they read as "not carried out".
async fn fail(conn: &mut SqliteConn, deliveries: Vec<Delivery>, error: StoreError) -> Result<(), StoreError> {
    abort(conn).await;
    deliveries.into_iter().for_each(|deliver| deliver(Err(error.clone())));
    Err(error)
}

async fn abort(conn: &mut SqliteConn) {
    if TxManager::rollback_transaction(conn).await.is_err() {
        // The transaction manager lost track; make sure SQLite itself is out of it.
        let _ = conn.spawn_blocking(|inner| inner.batch_execute("ROLLBACK")).await;
    }
}
