//! Schema migrations, embedded in the binary: one folder per backend under
//! `migrations/`, with the same version names in both (PostgreSQL has one more, a
//! storage setting SQLite has no equivalent of).

use diesel::connection::SimpleConnection;
use diesel::migration::MigrationVersion;
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::DatabaseUrl;
use super::StoreError;
use super::sqlite;

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Serializes migrations of instances that start at once on one PostgreSQL database.
const PG_MIGRATION_LOCK: i64 = 0x7265_766f_6b64; // "revokd"

/// What to do to the schema.
#[derive(Debug, Clone, Copy)]
pub enum Direction {
    /// Apply every pending migration.
    Up,
    /// Revert every applied migration (drops all of revokd's tables).
    DownAll,
}

/// Applies pending migrations; returns the versions applied.
pub async fn run_pending(url: &DatabaseUrl) -> Result<Vec<String>, StoreError> {
    run(url, Direction::Up).await
}

/// Applies or reverts migrations. The harness is synchronous, so it runs on the
/// blocking pool (diesel-async's wrapper must not block a runtime thread).
pub async fn run(url: &DatabaseUrl, direction: Direction) -> Result<Vec<String>, StoreError> {
    let url = url.clone();
    tokio::task::spawn_blocking(move || match url {
        DatabaseUrl::Sqlite(path) => {
            let mut conn = sqlite::open_writer(&path)?;
            apply(&mut conn, SQLITE, direction)
        }
        DatabaseUrl::Postgres(url) => {
            let mut conn: AsyncConnectionWrapper<AsyncPgConnection> = diesel::Connection::establish(url.as_str())?;
            conn.batch_execute(&format!("SELECT pg_advisory_lock({PG_MIGRATION_LOCK})"))?;
            let applied = apply(&mut conn, POSTGRES, direction);
            conn.batch_execute(&format!("SELECT pg_advisory_unlock({PG_MIGRATION_LOCK})"))?;
            applied
        }
    })
    .await
    .map_err(|e| StoreError::Internal(format!("migration task failed: {e}")))?
}

/// The versions applied to the database and those this binary would apply, without
/// applying any (`revokd status`).
pub async fn status(url: &DatabaseUrl) -> Result<(Vec<String>, Vec<String>), StoreError> {
    let url = url.clone();
    tokio::task::spawn_blocking(move || match url {
        DatabaseUrl::Sqlite(path) => {
            let mut conn = sqlite::open_writer(&path)?;
            versions(&mut conn, SQLITE)
        }
        DatabaseUrl::Postgres(url) => {
            let mut conn: AsyncConnectionWrapper<AsyncPgConnection> = diesel::Connection::establish(url.as_str())?;
            versions(&mut conn, POSTGRES)
        }
    })
    .await
    .map_err(|e| StoreError::Internal(format!("migration task failed: {e}")))?
}

fn versions<C>(conn: &mut C, migrations: EmbeddedMigrations) -> Result<(Vec<String>, Vec<String>), StoreError>
where
    C: MigrationHarness<C::Backend> + diesel::Connection,
{
    let failed = |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Unavailable(format!("migrations: {e}"));
    let applied = conn.applied_migrations().map_err(failed)?;
    let pending = conn.pending_migrations(migrations).map_err(failed)?;
    Ok((
        applied.iter().map(ToString::to_string).collect(),
        pending.iter().map(|m| m.name().version().to_string()).collect(),
    ))
}

fn apply<C>(conn: &mut C, migrations: EmbeddedMigrations, direction: Direction) -> Result<Vec<String>, StoreError>
where
    C: MigrationHarness<C::Backend> + diesel::Connection,
{
    let versions: Result<Vec<MigrationVersion<'_>>, _> = match direction {
        Direction::Up => conn.run_pending_migrations(migrations),
        Direction::DownAll => conn.revert_all_migrations(migrations),
    };
    match versions {
        Ok(versions) => Ok(versions.iter().map(ToString::to_string).collect()),
        Err(e) => Err(StoreError::Internal(format!("migration failed: {e}"))),
    }
}
