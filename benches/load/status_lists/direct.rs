//! The benchmark's own connection for the rejected design's query (and the index it
//! would need), outside revokd's store.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use revokd::store::schema::tokens;
use revokd::store::{DatabaseUrl, liveness};

use crate::seed::Fixture;

/// Runs of each timing of the rejected design's query.
pub(super) const QUERY_RUNS: usize = 3;
/// The index the rejected design would need (tokens have none by list).
const SLOT_INDEX: &str = "bench_tokens_by_status_slot";

/// A query's run times and the rows it answered.
pub(super) struct Timed {
    pub(super) runs: Vec<Duration>,
    pub(super) rows: usize,
}

impl Timed {
    pub(super) fn median_ms(&self) -> f64 {
        let mut ms: Vec<f64> = self.runs.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
        ms.sort_by(f64::total_cmp);
        ms.get(ms.len() / 2).copied().unwrap_or(f64::NAN)
    }
}

/// A connection of the benchmark's own, outside revokd's store (whose operations are
/// bounded to 10 s, less than a scan of 10^7 rows may take).
pub(super) enum Direct {
    Sqlite(String),
    Postgres(Box<AsyncPgConnection>),
}

impl Direct {
    pub(super) async fn open(database: &DatabaseUrl) -> anyhow::Result<Self> {
        Ok(match database {
            DatabaseUrl::Sqlite(path) => Self::Sqlite(path.clone()),
            DatabaseUrl::Postgres(url) => Self::Postgres(Box::new(AsyncPgConnection::establish(url).await?)),
        })
    }

    /// Runs `op` on a connection: SQLite's on a blocking thread (a connection each time).
    pub(super) async fn sqlite<T: Send + 'static>(
        path: &str,
        op: impl FnOnce(&mut SqliteConnection) -> QueryResult<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || -> anyhow::Result<T> {
            let mut conn = SqliteConnection::establish(&path)?;
            SimpleConnection::batch_execute(&mut conn, "PRAGMA busy_timeout = 60000; PRAGMA cache_size = -16384;")?;
            Ok(op(&mut conn)?)
        })
        .await?
    }

    pub(super) async fn execute(&mut self, sql: &str) -> anyhow::Result<()> {
        match self {
            Self::Sqlite(path) => {
                let sql = sql.to_owned();
                Self::sqlite(path, move |conn| SimpleConnection::batch_execute(conn, &sql)).await
            }
            Self::Postgres(conn) => Ok(conn.batch_execute(sql).await?),
        }
    }

    pub(super) async fn count_tokens(&mut self) -> anyhow::Result<i64> {
        match self {
            Self::Sqlite(path) => {
                Self::sqlite(path, |conn| {
                    diesel::RunQueryDsl::get_result(tokens::table.count(), conn)
                })
                .await
            }
            Self::Postgres(conn) => Ok(tokens::table.count().get_result(conn).await?),
        }
    }

    /// The index a renderer looking up a list's tokens would need, built now.
    pub(super) async fn create_slot_index(&mut self) -> anyhow::Result<Duration> {
        let started = Instant::now();
        self.execute(&format!(
            "CREATE INDEX {SLOT_INDEX} ON tokens (domain_id, status_list, status_idx) WHERE status_list IS NOT NULL"
        ))
        .await?;
        if let Self::Postgres(_) = self {
            // What autovacuum would soon do. (Not on SQLite: statistics there would
            // change the plans of the server's own statements.)
            self.execute("ANALYZE tokens").await?;
        }
        Ok(started.elapsed())
    }

    pub(super) async fn drop_slot_index(&mut self) -> anyhow::Result<()> {
        self.execute(&format!("DROP INDEX {SLOT_INDEX}")).await
    }

    /// What the seeding and the index left in the WAL goes to the database files now
    /// (and the page cache to disk), not during the bulk revocation timed next.
    pub(super) async fn settle(&mut self) -> anyhow::Result<()> {
        match self {
            Self::Sqlite(_) => self.execute("PRAGMA wal_checkpoint(TRUNCATE)").await?,
            Self::Postgres(_) => self.execute("CHECKPOINT").await?,
        }
        let _ = std::process::Command::new("sync").status();
        Ok(())
    }

    /// The rejected design's query, `runs` times: the slots of the list's tokens that
    /// a watermark covers, by revokd's own fragment (`liveness::watermarked`), what a
    /// renderer would have to OR into the per-token bits on every rendering (rows
    /// loaded, as it would need them).
    pub(super) async fn time_query(&mut self, fixture: &Fixture, list: i64, runs: usize) -> anyhow::Result<Timed> {
        let domain_id = fixture.domain_id;
        let query = move || {
            tokens::table
                .filter(tokens::domain_id.eq(domain_id))
                .filter(tokens::status_list.eq(list))
                .filter(tokens::status_idx.is_not_null())
                .filter(liveness::watermarked())
                .select(tokens::status_idx)
        };
        let mut timed = Timed {
            runs: Vec::new(),
            rows: 0,
        };
        for _ in 0..runs {
            let (elapsed, rows) = match self {
                Self::Sqlite(path) => {
                    Self::sqlite(path, move |conn| {
                        let started = Instant::now();
                        let slots: Vec<Option<i64>> = diesel::RunQueryDsl::load(query(), conn)?;
                        Ok((started.elapsed(), slots.len()))
                    })
                    .await?
                }
                Self::Postgres(conn) => {
                    let started = Instant::now();
                    let slots: Vec<Option<i64>> = query().load(conn).await?;
                    (started.elapsed(), slots.len())
                }
            };
            eprintln!("    {:.0} ms, {rows} rows", elapsed.as_secs_f64() * 1000.0);
            timed.runs.push(elapsed);
            timed.rows = rows;
        }
        Ok(timed)
    }
}
