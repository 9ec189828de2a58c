//! The store: one query path over SQLite and PostgreSQL.
//!
//! Store functions take a [`Db`] (a borrowed connection of either backend) and write
//! each diesel query once; the [`on_db!`] macro instantiates it for both connection
//! types. [`Store::read`] lends a pooled connection; [`Store::write`] runs a closure in
//! one transaction, which on SQLite means the single writer thread and its group commit
//! (see `writer.rs` and DESIGN.md).

pub mod account_sessions;
pub mod audit;
mod batcher;
pub mod clients;
pub mod consents;
pub mod directory;
pub mod domains;
mod error;
pub mod keys;
pub mod liveness;
pub mod metrics;
pub mod migrations;
pub mod models;
pub mod policies;
mod pool;
pub mod revocations;
pub mod schema;
mod sqlite;
pub mod status_lists;
pub mod tokens;
mod url;
pub mod users;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use diesel_async::AsyncPgConnection;
use futures_util::future::BoxFuture;

pub use error::StoreError;

use crate::domain::policy::Policy;
pub use sqlite::SqliteConn;

pub use url::DatabaseUrl;

/// A borrowed connection of either backend, handed to store functions.
pub enum Db<'c> {
    Postgres(&'c mut AsyncPgConnection),
    Sqlite(&'c mut SqliteConn),
}

/// Runs the same diesel expression on whichever connection `$db` holds:
/// `on_db!(db, |conn| query.get_result(conn).await)`.
#[macro_export]
macro_rules! on_db {
    ($db:expr, |$conn:ident| $body:expr) => {
        match $db {
            $crate::store::Db::Postgres(inner) => {
                let $conn = &mut **inner;
                $body
            }
            $crate::store::Db::Sqlite(inner) => {
                let $conn = &mut **inner;
                $body
            }
        }
    };
}

/// Binds values one after the other, separated by `, `, in a hand-written statement:
/// `push_binds!(out, Array<BigInt> => &ids, Array<Text> => &names)`.
macro_rules! push_binds {
    ($out:expr, $first_type:ty => $first:expr $(, $type:ty => $value:expr)* $(,)?) => {{
        $out.push_bind_param::<$first_type, _>($first)?;
        $(
            $out.push_sql(", ");
            $out.push_bind_param::<$type, _>($value)?;
        )*
    }};
}
pub(crate) use push_binds;

/// Which backend a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Pool sizing and the longest a request waits for the store before it is told 503.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub pool_size: usize,
    pub wait_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            pool_size: 16,
            wait_timeout: Duration::from_secs(3),
        }
    }
}

/// A store operation: gets a connection, returns a future that borrows it.
pub trait Operation<T>: for<'c> FnOnce(Db<'c>) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static {}
impl<T, F> Operation<T> for F where F: for<'c> FnOnce(Db<'c>) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static {}

/// Cheap to clone: every clone shares the same pools, writer and directory cache.
#[derive(Clone)]
pub struct Store {
    inner: pool::Pools,
    directory: Arc<directory::Directory>,
}

impl Store {
    /// Connects to the database, runs pending migrations, and starts the SQLite writer
    /// (SQLite) or the directory cache's listener (PostgreSQL).
    pub async fn open(url: &DatabaseUrl, options: &StoreOptions) -> Result<Self, StoreError> {
        migrations::run_pending(url).await?;
        let inner = pool::Pools::connect(url, options).await?;
        let directory = match url {
            DatabaseUrl::Sqlite(_) => Arc::new(directory::Directory::new(true)),
            DatabaseUrl::Postgres(url) => {
                let directory = Arc::new(directory::Directory::new(false));
                tokio::spawn(directory::listen(url.clone(), Arc::downgrade(&directory)));
                directory
            }
        };
        Ok(Self { inner, directory })
    }

    /// A domain and one of its clients by their public names, what client
    /// authentication needs: from memory when the directory holds it.
    pub async fn client_in_domain(
        &self,
        domain: &str,
        client_id: &str,
    ) -> Result<Option<directory::Entry>, StoreError> {
        if let Some(entry) = self.directory.get(domain, client_id) {
            return Ok(Some(entry));
        }
        let generation = self.directory.generation();
        let (domain, client_id) = (domain.to_owned(), client_id.to_owned());
        let found = self
            .read(move |mut db| Box::pin(async move { clients::find_with_domain(&mut db, &domain, &client_id).await }))
            .await?;
        Ok(found.map(|pair| {
            let entry = Arc::new(pair);
            self.directory.insert(generation, entry.clone());
            entry
        }))
    }

    /// The domain's revocation policy, compiled, when it has one that is enabled
    /// (SPEC §3.12): from memory when the directory holds it, which drops it on every
    /// change as it does the domain's clients.
    pub async fn revocation_policy(&self, domain_id: i64) -> Result<Option<Arc<Policy>>, StoreError> {
        if let Some(cached) = self.directory.policy(domain_id) {
            return Ok(cached);
        }
        let generation = self.directory.generation();
        let row = self
            .read(move |mut db| Box::pin(async move { policies::find(&mut db, domain_id).await }))
            .await?;
        let policy = row.filter(|row| row.enabled).map(|row| {
            Arc::new(Policy::compile(&row.expression).unwrap_or_else(|error| {
                tracing::error!(domain_id, %error, "a stored revocation policy no longer compiles");
                Policy::unusable(error)
            }))
        });
        self.directory.insert_policy(generation, domain_id, policy.clone());
        Ok(policy)
    }

    /// A token by the SHA-256 of its string, with everything that decides whether it
    /// is live (`tokens::view_by_hash`, `liveness`); on PostgreSQL batched with the look-ups of
    /// concurrent requests.
    pub async fn token(
        &self,
        domain_id: i64,
        hash: crate::security::Sha256Digest,
    ) -> Result<Option<tokens::TokenView>, StoreError> {
        self.inner.token(domain_id, hash).await
    }

    /// Carries out a revocation through the one pipeline (`revocations`); `Ok` only
    /// once it is durable. Batched with the revocations of concurrent requests.
    pub async fn revoke(&self, revocation: revocations::Revocation) -> Result<revocations::Revoked, StoreError> {
        let level = revocation.level;
        let result = self.inner.revoke(revocation).await;
        metrics::revocation(level, result.as_ref().ok().map(|r| r.ended_anything()));
        result
    }

    /// The connections of the pool (PostgreSQL) or of the readers (SQLite).
    pub fn pool_usage(&self) -> metrics::PoolUsage {
        self.inner.pool_usage()
    }

    /// Stores a `client_credentials` access token; `Ok` only once it is durable.
    /// Batched with the tokens of concurrent requests on PostgreSQL (one insert for all)
    /// and group-committed by the writer on SQLite.
    pub async fn insert_client_token(&self, token: tokens::ClientToken) -> Result<(), StoreError> {
        self.inner.insert_client_token(token).await
    }

    /// Forget what is cached of the domain with this id, after a change to it or its
    /// clients has committed. (Other processes learn it from
    /// [`directory::announce_change`], which the change must run.)
    pub fn domain_changed(&self, domain_id: i64) {
        self.directory.invalidate_domain(domain_id);
    }

    pub fn backend(&self) -> Backend {
        self.inner.backend()
    }

    /// Runs `op` on a pooled connection, outside any explicit transaction.
    pub async fn read<T: Send + 'static>(&self, op: impl Operation<T>) -> Result<T, StoreError> {
        self.inner.read(op).await
    }

    /// Runs `op` in one transaction; `Ok` only once that transaction is durable.
    /// If `op` fails, nothing it wrote remains.
    pub async fn write<T: Send + 'static>(&self, op: impl Operation<T>) -> Result<T, StoreError> {
        self.inner.write(op).await
    }

    /// One round trip to the database, and a writer whose last commit succeeded
    /// (readiness probe).
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.inner.writer_health().map_err(StoreError::unavailable)?;
        self.read(|mut db| {
            Box::pin(async move {
                use diesel::dsl::sql;
                use diesel::sql_types::Integer;
                use diesel_async::RunQueryDsl;
                let one: i32 = on_db!(&mut db, |conn| diesel::select(sql::<Integer>("1"))
                    .get_result(conn)
                    .await)?;
                debug_assert_eq!(one, 1);
                Ok(())
            })
        })
        .await
    }
}
