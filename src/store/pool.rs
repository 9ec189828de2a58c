//! Connection pools for each backend and the transaction discipline on top of them.

use std::time::Duration;

use deadpool::Runtime;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use diesel_async::{AnsiTransactionManager, AsyncPgConnection, TransactionManager};
use futures_util::FutureExt;

use super::sqlite::{self, SqliteConn};
use super::writer::Writer;
use super::{Backend, Db, Operation, StoreError, StoreOptions};
use crate::config::DatabaseUrl;

/// How long one store operation may take in all before the caller is told 503.
/// A stalled network to PostgreSQL must not hold a request forever.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(10);

/// SQLite readers: enough for every HTTP worker and a few CLI or admin reads.
const SQLITE_READERS: usize = 8;

#[derive(Clone)]
pub(super) enum Pools {
    Postgres(Pool<AsyncPgConnection>),
    Sqlite { readers: Pool<SqliteConn>, writer: Writer },
}

impl Pools {
    pub(super) async fn connect(url: &DatabaseUrl, options: &StoreOptions) -> Result<Self, StoreError> {
        match url {
            DatabaseUrl::Postgres(url) => {
                let mut config = ManagerConfig::<AsyncPgConnection>::default();
                config.recycling_method = RecyclingMethod::Fast;
                let manager = AsyncDieselConnectionManager::new_with_config(url.as_str(), config);
                let pool = Pool::builder(manager)
                    .max_size(options.pool_size)
                    .runtime(Runtime::Tokio1)
                    .wait_timeout(Some(options.wait_timeout))
                    .create_timeout(Some(options.wait_timeout))
                    .recycle_timeout(Some(options.wait_timeout))
                    .build()
                    .map_err(|e| StoreError::Internal(e.to_string()))?;
                // Fail at start-up, not at the first request, when the server is unreachable.
                drop(pool.get().await?);
                Ok(Self::Postgres(pool))
            }
            DatabaseUrl::Sqlite(path) => {
                let writer = Writer::start(path.clone()).await?;
                let mut config = ManagerConfig::<SqliteConn>::default();
                config.recycling_method = RecyclingMethod::Fast;
                config.custom_setup = Box::new(|path| {
                    let path = path.to_owned();
                    async move { sqlite::open_reader(&path) }.boxed()
                });
                let manager = AsyncDieselConnectionManager::new_with_config(path.as_str(), config);
                let readers = Pool::builder(manager)
                    .max_size(SQLITE_READERS)
                    .runtime(Runtime::Tokio1)
                    .wait_timeout(Some(options.wait_timeout))
                    .build()
                    .map_err(|e| StoreError::Internal(e.to_string()))?;
                Ok(Self::Sqlite { readers, writer })
            }
        }
    }

    pub(super) fn backend(&self) -> Backend {
        match self {
            Self::Postgres(_) => Backend::Postgres,
            Self::Sqlite { .. } => Backend::Sqlite,
        }
    }

    /// False when the SQLite writer thread has stopped: writes cannot succeed then.
    pub(super) fn can_write(&self) -> bool {
        match self {
            Self::Postgres(_) => true,
            Self::Sqlite { writer, .. } => writer.is_running(),
        }
    }

    pub(super) async fn read<T: Send + 'static>(&self, op: impl Operation<T>) -> Result<T, StoreError> {
        bounded(async {
            match self {
                Self::Postgres(pool) => {
                    let mut conn = pool.get().await?;
                    op(Db::Postgres(&mut conn)).await
                }
                Self::Sqlite { readers, .. } => {
                    let mut conn = readers.get().await?;
                    op(Db::Sqlite(&mut conn)).await
                }
            }
        })
        .await
    }

    pub(super) async fn write<T: Send + 'static>(&self, op: impl Operation<T>) -> Result<T, StoreError> {
        bounded(async {
            match self {
                Self::Postgres(pool) => {
                    let mut conn = pool.get().await?;
                    in_transaction(&mut conn, op).await
                }
                Self::Sqlite { writer, .. } => writer.submit(op).await,
            }
        })
        .await
    }
}

async fn bounded<T>(work: impl Future<Output = Result<T, StoreError>>) -> Result<T, StoreError> {
    tokio::time::timeout(OPERATION_TIMEOUT, work)
        .await
        .unwrap_or_else(|_| Err(StoreError::unavailable("store operation timed out")))
}

/// Runs `op` between BEGIN and COMMIT on a PostgreSQL connection; a failed `op`
/// rolls back. A connection dropped mid-transaction (request cancelled) is thrown
/// away by the pool, never reused with a transaction open.
async fn in_transaction<T>(conn: &mut AsyncPgConnection, op: impl Operation<T>) -> Result<T, StoreError> {
    AnsiTransactionManager::begin_transaction(conn).await?;
    match op(Db::Postgres(conn)).await {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(conn).await?;
            Ok(value)
        }
        Err(error) => {
            if let Err(rollback) = AnsiTransactionManager::rollback_transaction(conn).await {
                tracing::warn!(error = %rollback, "rollback failed; the pool drops the connection");
            }
            Err(error)
        }
    }
}
