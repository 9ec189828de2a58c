//! Group work on PostgreSQL: requests of one kind that arrive while others are in
//! flight wait in a queue and then go to the database together (one statement for a
//! batch of look-ups, one transaction for a batch of revocations). Under light load a
//! request goes alone and at once; under load, round trips, statement executions and
//! commits are shared by everything that waited, which is what lets many HTTP requests
//! cost PostgreSQL less than one pgbench transaction each. (SQLite needs none of this
//! for reads, which run in-process; its writes are batched by `writer.rs`.)

use std::sync::Arc;
use std::time::Duration;

use diesel_async::AsyncPgConnection;
use diesel_async::pooled_connection::deadpool::Pool;
use futures_util::future::BoxFuture;
use tokio::sync::{Mutex, mpsc, oneshot};

use super::StoreError;

/// The most requests one batch carries.
const MAX_BATCH: usize = 128;
/// Requests waiting beyond this make callers wait rather than grow memory.
const QUEUE_DEPTH: usize = 4096;
/// A batch that takes longer has met a stalled connection: its callers are told 503
/// (they give up at the same bound) and the connection is thrown away.
const RUN_TIMEOUT: Duration = Duration::from_secs(10);

type Answer<O> = oneshot::Sender<Result<O, StoreError>>;

/// What running a batch yields: one result per request, in order; `Err` fails all.
pub(super) type Ran<'c, O> = BoxFuture<'c, Result<Vec<Result<O, StoreError>>, StoreError>>;

/// Runs a batch on a connection.
pub(super) type Run<I, O> = for<'c> fn(&'c mut AsyncPgConnection, Vec<I>) -> Ran<'c, O>;

type Waiting<I, O> = Arc<Mutex<mpsc::Receiver<(I, Answer<O>)>>>;

pub(super) struct Batcher<I, O> {
    queue: mpsc::Sender<(I, Answer<O>)>,
}

impl<I, O> Clone for Batcher<I, O> {
    fn clone(&self) -> Self {
        Self {
            queue: self.queue.clone(),
        }
    }
}

impl<I: Send + 'static, O: Send + 'static> Batcher<I, O> {
    /// Starts `workers` tasks, each taking whatever waits (up to [`MAX_BATCH`]) and
    /// running it on a connection of `pool`; while one runs, the next batch gathers.
    /// They end when the last clone of the batcher is dropped.
    pub(super) fn start(pool: Pool<AsyncPgConnection>, workers: usize, run: Run<I, O>) -> Self {
        let (queue, waiting) = mpsc::channel(QUEUE_DEPTH);
        let waiting = Arc::new(Mutex::new(waiting));
        for _ in 0..workers {
            tokio::spawn(work(pool.clone(), waiting.clone(), run));
        }
        Self { queue }
    }

    pub(super) async fn submit(&self, item: I) -> Result<O, StoreError> {
        let (answer, answered) = oneshot::channel();
        self.queue
            .send((item, answer))
            .await
            .map_err(|_| StoreError::unavailable("the store has shut down"))?;
        answered
            .await
            .map_err(|_| StoreError::unavailable("the request was not carried out"))?
    }
}

async fn work<I, O>(pool: Pool<AsyncPgConnection>, waiting: Waiting<I, O>, run: Run<I, O>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        let taken = waiting.lock().await.recv_many(&mut batch, MAX_BATCH).await;
        if taken == 0 {
            return;
        }
        let (items, answers): (Vec<I>, Vec<Answer<O>>) = batch.drain(..).unzip();
        let started = std::time::Instant::now();
        let results = match pool.get().await {
            Ok(mut conn) => match tokio::time::timeout(RUN_TIMEOUT, run(&mut conn, items)).await {
                Ok(results) => results,
                Err(_) => {
                    drop(deadpool::managed::Object::take(conn));
                    Err(StoreError::unavailable("a batch timed out"))
                }
            },
            Err(error) => Err(error.into()),
        };
        tracing::trace!(
            size = answers.len(),
            elapsed_us = started.elapsed().as_micros() as u64,
            kind = std::any::type_name::<I>(),
            "PostgreSQL batch"
        );
        match results {
            Ok(results) => {
                for (answer, result) in answers.into_iter().zip(results) {
                    // A caller that gave up (timeout, cancelled request) is not waiting.
                    let _ = answer.send(result);
                }
            }
            Err(error) => {
                for answer in answers {
                    let _ = answer.send(Err(error.clone()));
                }
            }
        }
    }
}
