//! SQLite connections: how they are opened and how their queries run.
//!
//! Every SQLite connection is a `SyncConnectionWrapper` whose "blocking" work runs
//! inline on the calling thread. An indexed SQLite read takes microseconds, less than
//! a hand-off to tokio's blocking pool would; the writer has a thread of its own, so
//! blocking it is the point.

use std::error::Error;
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};
use diesel_async::sync_connection_wrapper::{SpawnBlocking, SyncConnectionWrapper};
use futures_util::future::BoxFuture;

use super::StoreError;

/// Runs the wrapped connection's work on the calling thread.
pub struct Inline;

impl SpawnBlocking for Inline {
    fn spawn_blocking<'a, R>(
        &mut self,
        task: impl FnOnce() -> R + Send + 'static,
    ) -> BoxFuture<'a, Result<R, Box<dyn Error + Send + Sync + 'static>>>
    where
        R: Send + 'static,
    {
        Box::pin(std::future::ready(Ok(task())))
    }

    fn get_runtime() -> Self {
        Inline
    }
}

/// The async face of one SQLite connection.
pub type SqliteConn = SyncConnectionWrapper<SqliteConnection, Inline>;

/// Settings every connection needs. `busy_timeout` lets a reader wait out a
/// checkpoint instead of failing; `foreign_keys` is off by default in SQLite. Each
/// connection has a page cache of its own (SQLite's default is 2 MiB): 16 MiB holds
/// the inner pages of the token indexes even at 10^7 tokens, so a look-up reads one or
/// two pages from the OS instead of five. Readers are handed out last-in-first-out,
/// so only the few in use fill theirs.
const COMMON_PRAGMAS: &str = "PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA cache_size = -16384;";

/// Opens the one connection that writes. WAL lets readers run beside it;
/// `synchronous = FULL` makes every commit durable before it returns. It never
/// checkpoints itself: [`checkpoint_until`] does, on a connection of its own, so the
/// writer does not stall for the copy and its fsync (tens of milliseconds) while
/// callers wait.
pub fn open_writer(path: &str) -> Result<SqliteConnection, StoreError> {
    let mut conn = SqliteConnection::establish(path)?;
    conn.batch_execute(COMMON_PRAGMAS)?;
    conn.batch_execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = 0;")?;
    Ok(conn)
}

/// How often the WAL is copied back into the database file.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(100);

/// Checkpoints the WAL of `path` every [`CHECKPOINT_INTERVAL`] until `stop` is closed
/// (its sender dropped). `PASSIVE` never blocks the writer or a reader; once a
/// checkpoint has caught up, the writer starts the WAL over from its beginning, so the
/// file stops growing.
pub fn checkpoint_until(path: &str, stop: &std::sync::mpsc::Receiver<()>) {
    let mut conn = None;
    while let Err(RecvTimeoutError::Timeout) = stop.recv_timeout(CHECKPOINT_INTERVAL) {
        if conn.is_none() {
            conn = SqliteConnection::establish(path)
                .map_err(|error| tracing::warn!(%error, "cannot open a connection to checkpoint the WAL"))
                .ok();
        }
        if let Some(open) = conn.as_mut()
            && let Err(error) = open.batch_execute("PRAGMA wal_checkpoint(PASSIVE);")
        {
            tracing::warn!(%error, "WAL checkpoint failed; retrying on a new connection");
            conn = None;
        }
    }
}

/// Opens a read-only connection for the reader pool.
pub fn open_reader(path: &str) -> Result<SqliteConn, diesel::ConnectionError> {
    let mut conn = SqliteConnection::establish(path)?;
    conn.batch_execute(COMMON_PRAGMAS)
        .and_then(|()| conn.batch_execute("PRAGMA query_only = ON;"))
        .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
    Ok(SyncConnectionWrapper::with_runtime(conn, Inline))
}
