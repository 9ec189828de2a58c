//! Connection pools for each backend and the transaction discipline on top of them.

use std::time::Duration;

use deadpool::Runtime;
use deadpool::managed::QueueMode;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use diesel_async::{AnsiTransactionManager, AsyncPgConnection, TransactionManager};
use futures_util::FutureExt;

use std::collections::{BTreeMap, HashMap};

use super::DatabaseUrl;
use super::batcher::{Batcher, Ran};
use super::revocations::{self, Revocation, Revoked};
use super::sqlite::{self, SqliteConn};
use super::status_lists;
use super::tokens::{self, ClientToken, TokenView};
use super::writer::Writer;
use super::{Backend, Db, Operation, StoreError, StoreOptions};
use crate::security::Sha256Digest;

/// How long one store operation may take in all before the caller is told 503.
/// A stalled network to PostgreSQL must not hold a request forever.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(10);

/// SQLite readers: enough for every HTTP worker and a few CLI or admin reads.
const SQLITE_READERS: usize = 8;

/// PostgreSQL tasks batching token look-ups and revocations (`batcher.rs`): two
/// each, so one batch gathers while the other is in the database.
const LOOKUP_WORKERS: usize = 2;
const REVOCATION_WORKERS: usize = 2;
const ISSUANCE_WORKERS: usize = 2;

/// A token look-up: the domain's id and the SHA-256 of the presented string.
type Lookup = (i64, Sha256Digest);

#[derive(Clone)]
pub(super) enum Pools {
    Postgres {
        pool: Pool<AsyncPgConnection>,
        lookups: Batcher<Lookup, Option<TokenView>>,
        revocations: Batcher<Revocation, Revoked>,
        issuances: Batcher<ClientToken, ()>,
    },
    Sqlite {
        readers: Pool<SqliteConn>,
        writer: Writer,
    },
}

impl Pools {
    pub(super) async fn connect(url: &DatabaseUrl, options: &StoreOptions) -> Result<Self, StoreError> {
        match url {
            DatabaseUrl::Postgres(url) => {
                let mut config = ManagerConfig::<AsyncPgConnection>::default();
                config.recycling_method = RecyclingMethod::Fast;
                let manager = AsyncDieselConnectionManager::new_with_config(url.as_str(), config);
                // Last in, first out: the connections in use stay few and keep their
                // prepared statements and caches warm.
                let pool = Pool::builder(manager)
                    .max_size(options.pool_size)
                    .queue_mode(QueueMode::Lifo)
                    .runtime(Runtime::Tokio1)
                    .wait_timeout(Some(options.wait_timeout))
                    .create_timeout(Some(options.wait_timeout))
                    .recycle_timeout(Some(options.wait_timeout))
                    .build()
                    .map_err(|e| StoreError::Internal(e.to_string()))?;
                // Fail at start-up, not at the first request, when the server is unreachable.
                drop(pool.get().await?);
                tokio::spawn(status_lists::fold_while_open(pool.weak()));
                Ok(Self::Postgres {
                    lookups: Batcher::start(pool.clone(), LOOKUP_WORKERS, look_up_batch),
                    revocations: Batcher::start(pool.clone(), REVOCATION_WORKERS, revocations::run_pg_batch),
                    issuances: Batcher::start(pool.clone(), ISSUANCE_WORKERS, issue_batch),
                    pool,
                })
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
                    .queue_mode(QueueMode::Lifo)
                    .runtime(Runtime::Tokio1)
                    .wait_timeout(Some(options.wait_timeout))
                    .build()
                    .map_err(|e| StoreError::Internal(e.to_string()))?;
                Ok(Self::Sqlite { readers, writer })
            }
        }
    }

    pub(super) fn pool_usage(&self) -> super::metrics::PoolUsage {
        let status = match self {
            Self::Postgres { pool, .. } => pool.status(),
            Self::Sqlite { readers, .. } => readers.status(),
        };
        super::metrics::PoolUsage {
            open: status.size,
            idle: status.available,
            max: status.max_size,
        }
    }

    pub(super) fn backend(&self) -> Backend {
        match self {
            Self::Postgres { .. } => Backend::Postgres,
            Self::Sqlite { .. } => Backend::Sqlite,
        }
    }

    /// `Err` when writes cannot succeed now: the SQLite writer has stopped or its last
    /// commit failed (PostgreSQL: a round trip tells, see `Store::ping`).
    pub(super) fn writer_health(&self) -> Result<(), String> {
        match self {
            Self::Postgres { .. } => Ok(()),
            Self::Sqlite { writer, .. } => writer.health(),
        }
    }

    pub(super) async fn read<T: Send + 'static>(&self, op: impl Operation<T>) -> Result<T, StoreError> {
        bounded(async {
            match self {
                Self::Postgres { pool, .. } => {
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
                Self::Postgres { pool, .. } => {
                    let mut conn = pool.get().await?;
                    in_transaction(&mut conn, op).await
                }
                Self::Sqlite { writer, .. } => writer.submit(op).await,
            }
        })
        .await
    }

    pub(super) async fn token(&self, domain_id: i64, hash: Sha256Digest) -> Result<Option<TokenView>, StoreError> {
        match self {
            Self::Postgres { lookups, .. } => bounded(lookups.submit((domain_id, hash))).await,
            Self::Sqlite { .. } => {
                self.read(move |mut db| {
                    Box::pin(async move { tokens::view_by_hash(&mut db, domain_id, hash.as_bytes()).await })
                })
                .await
            }
        }
    }

    pub(super) async fn revoke(&self, revocation: Revocation) -> Result<Revoked, StoreError> {
        bounded(async {
            match self {
                Self::Postgres { revocations, .. } => revocations.submit(revocation).await,
                Self::Sqlite { writer, .. } => writer.revoke(revocation).await,
            }
        })
        .await
    }

    pub(super) async fn insert_client_token(&self, token: ClientToken) -> Result<(), StoreError> {
        match self {
            Self::Postgres { issuances, .. } => bounded(issuances.submit(token)).await,
            Self::Sqlite { .. } => {
                self.write(move |mut db| {
                    Box::pin(async move { tokens::insert_client_tokens(&mut db, std::slice::from_ref(&token)).await })
                })
                .await
            }
        }
    }
}

/// A batch of client tokens: one insert (a statement is atomic on its own); should it
/// fail for a reason other than the database being unreachable, each alone.
fn issue_batch(conn: &mut AsyncPgConnection, issued: Vec<ClientToken>) -> Ran<'_, ()> {
    Box::pin(async move {
        match tokens::insert_client_tokens(&mut Db::Postgres(conn), &issued).await {
            Ok(()) => Ok(issued.iter().map(|_| Ok(())).collect()),
            Err(error @ StoreError::Unavailable(_)) => Err(error),
            Err(error) => {
                tracing::warn!(%error, "a batch of token inserts failed; retrying them one by one");
                let mut results = Vec::with_capacity(issued.len());
                for token in &issued {
                    results
                        .push(tokens::insert_client_tokens(&mut Db::Postgres(conn), std::slice::from_ref(token)).await);
                }
                Ok(results)
            }
        }
    })
}

/// A batch of token look-ups: one statement per domain in it.
fn look_up_batch(conn: &mut AsyncPgConnection, wanted: Vec<Lookup>) -> Ran<'_, Option<TokenView>> {
    Box::pin(async move {
        let mut by_domain: BTreeMap<i64, Vec<Vec<u8>>> = BTreeMap::new();
        for (domain_id, hash) in &wanted {
            by_domain.entry(*domain_id).or_default().push(hash.as_bytes().to_vec());
        }
        let mut found: HashMap<Lookup, TokenView> = HashMap::new();
        for (domain_id, hashes) in by_domain {
            for view in tokens::views_by_hashes(&mut Db::Postgres(conn), domain_id, &hashes).await? {
                if let Some(hash) = Sha256Digest::from_slice(&view.token.token_hash) {
                    found.insert((domain_id, hash), view);
                }
            }
        }
        // The same token may be asked for twice in one batch: each gets the answer.
        Ok(wanted.iter().map(|wanted| Ok(found.get(wanted).cloned())).collect())
    })
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
    let outcome = op(Db::Postgres(conn)).await;
    finish_transaction(conn, outcome).await
}

/// Commits after a successful `outcome`, rolls back after a failed one.
pub(super) async fn finish_transaction<T>(
    conn: &mut AsyncPgConnection,
    outcome: Result<T, StoreError>,
) -> Result<T, StoreError> {
    match outcome {
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
