//! Status-list bits on PostgreSQL, where many instances and connections revoke at once.
//!
//! Setting a bit in its chunk locks the chunk's row until the commit, and the tokens
//! revoked at any moment share chunks (32,768 consecutive issuances each): concurrent
//! revocation batches waited for each other's commit on that row (BENCHMARKS.md,
//! issue 14). So a revocation *queues* its bits instead, as rows of
//! `status_list_pending` (distinct rows: inserts do not wait for each other), and each
//! instance folds the queue into the chunks now and then ([`fold_pending`]).
//!
//! The queue is part of the list: a list's version is its chunks' versions plus its
//! queued rows, and what a list's endpoint reads is the chunks with the queued bits
//! set (both in one statement, one snapshot). A fold moves rows into their chunk and
//! adds their number to the chunk's version, so neither the bits nor the version a
//! reader sees change, and no rendering is redone for it. Large sets (a bulk
//! revocation's) go straight to the chunks: one write per chunk beats a row per token.

use std::time::Duration;

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Binary, Nullable};
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::{Chunk, DomainSlot};
use crate::clock::UnixMicros;
use crate::store::{StoreError, liveness};

/// Sets of at most this many bits are queued; larger ones are written to the chunks.
const QUEUE_AT_MOST: usize = 4096;

/// How often each instance folds the queue into the chunks.
const FOLD_EVERY: Duration = Duration::from_secs(1);

/// The start of the `UPDATE` that sets bits in their chunks: what follows is a row
/// source of `(d, l, i)` (domain, list, index) and [`SET_BITS_TAIL`]. Each chunk's
/// version goes up by the number of bits set in it (a fold keeps the list's version).
const SET_BITS_HEAD: &str = "UPDATE status_list_chunks c \
     SET bits = revokd_set_bits(c.bits, s.offsets), version = c.version + s.n \
     FROM (SELECT d, l, i / 32768 AS chunk_no, array_agg(i % 32768) AS offsets, count(*) AS n FROM ";
const SET_BITS_TAIL: &str = " GROUP BY 1, 2, 3) s \
     WHERE c.domain_id = s.d AND c.list_no = s.l AND c.chunk_no = s.chunk_no";

/// The start of the `INSERT` that queues bits: what follows is a row source of
/// `(d, l, i)` and [`QUEUE_BITS_TAIL`]. The revocation fast path feeds it the tokens it
/// marked; [`set_bits`] feeds it arrays.
pub(crate) const QUEUE_BITS_HEAD: &str =
    "INSERT INTO status_list_pending (domain_id, list_no, idx) SELECT d, l, i FROM ";
pub(crate) const QUEUE_BITS_TAIL: &str = " ON CONFLICT DO NOTHING";

/// Sets these bits (INVALID) in one statement: queued, or in the chunks when many.
pub(super) async fn set_bits(conn: &mut AsyncPgConnection, bits: &[DomainSlot]) -> Result<(), StoreError> {
    if bits.len() <= QUEUE_AT_MOST {
        BitsFromArrays::<true>::new(bits).execute(conn).await?;
    } else {
        BitsFromArrays::<false>::new(bits).execute(conn).await?;
    }
    Ok(())
}

/// [`QUEUE_BITS_HEAD`] (`QUEUE`) or [`SET_BITS_HEAD`] over `unnest` of one array per
/// column.
struct BitsFromArrays<const QUEUE: bool> {
    domain_ids: Vec<i64>,
    lists: Vec<i64>,
    indices: Vec<i64>,
}

impl<const QUEUE: bool> BitsFromArrays<QUEUE> {
    fn new(bits: &[DomainSlot]) -> Self {
        Self {
            domain_ids: bits.iter().map(|(d, _)| *d).collect(),
            lists: bits.iter().map(|(_, s)| s.list).collect(),
            indices: bits.iter().map(|(_, s)| s.idx).collect(),
        }
    }
}

impl<const QUEUE: bool> QueryFragment<Pg> for BitsFromArrays<QUEUE> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(if QUEUE { QUEUE_BITS_HEAD } else { SET_BITS_HEAD });
        out.push_sql("unnest(");
        crate::store::push_binds!(
            out,
            Array<BigInt> => &self.domain_ids,
            Array<BigInt> => &self.lists,
            Array<BigInt> => &self.indices,
        );
        out.push_sql(") AS u (d, l, i)");
        out.push_sql(if QUEUE { QUEUE_BITS_TAIL } else { SET_BITS_TAIL });
        Ok(())
    }
}

/// What [`BitsFromArrays`] is prepared as: its text depends only on `QUEUE`.
struct BitsFromArraysStatement<const QUEUE: bool>;

impl<const QUEUE: bool> QueryId for BitsFromArrays<QUEUE> {
    type QueryId = BitsFromArraysStatement<QUEUE>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

/// `status_lists::born_dead_among` on PostgreSQL, as a statement of its own whose
/// text is written out once per process (diesel-async writes out every statement's
/// text on every call, and the liveness rule's three subqueries are most of it): it
/// runs after every batch of issuances.
pub(super) struct BornDead {
    pub domain_id: i64,
    pub ids: Vec<i64>,
    pub now: UnixMicros,
}

impl QueryFragment<Pg> for BornDead {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("SELECT tokens.status_list, tokens.status_idx FROM tokens WHERE tokens.domain_id = ");
        out.push_bind_param::<BigInt, _>(&self.domain_id)?;
        out.push_sql(" AND tokens.id = ANY(");
        out.push_bind_param::<Array<BigInt>, _>(&self.ids)?;
        out.push_sql(") AND ");
        push_born_dead(&mut out, &self.now)
    }
}

/// The condition both statements here ask of a token row just stored: an access token
/// in a list, not marked and not expired, yet dead (its family or consent ended, or a
/// watermark covers it), so its bit must be set now.
fn push_born_dead<'b>(out: &mut AstPass<'_, 'b, Pg>, now: &'b UnixMicros) -> QueryResult<()> {
    out.push_sql(
        "(tokens.kind = 'access' AND tokens.status_list IS NOT NULL \
         AND tokens.revoked_at IS NULL AND tokens.expires_at > ",
    );
    out.push_bind_param::<BigInt, _>(now)?;
    out.push_sql(" AND NOT (");
    out.push_sql(liveness::not_ended_pg_text());
    out.push_sql("))");
    Ok(())
}

/// The client tokens of an issuance batch, found by their hashes, with whether each is
/// born dead: [`BornDead`] for a batch whose insert it is sent right behind, in the
/// same round trip (`tokens::insert_client_tokens`). One row per token it finds, so
/// the caller can tell it ran after the insert (it found them all).
pub(crate) struct IssuedBornDead<'a> {
    pub domain_ids: Vec<i64>,
    pub hashes: Vec<&'a [u8]>,
    pub now: UnixMicros,
}

impl QueryFragment<Pg> for IssuedBornDead<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("SELECT tokens.domain_id, tokens.status_list, tokens.status_idx, ");
        push_born_dead(&mut out, &self.now)?;
        out.push_sql(" FROM unnest(");
        crate::store::push_binds!(out, Array<BigInt> => &self.domain_ids, Array<Binary> => &self.hashes);
        out.push_sql(") AS u (d, h) JOIN tokens ON tokens.domain_id = u.d AND tokens.token_hash = u.h");
        Ok(())
    }
}

/// What [`IssuedBornDead`] is prepared as.
pub(crate) struct IssuedBornDeadStatement;

impl QueryId for IssuedBornDead<'_> {
    type QueryId = IssuedBornDeadStatement;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for IssuedBornDead<'_> {
    type SqlType = (BigInt, Nullable<BigInt>, Nullable<BigInt>, diesel::sql_types::Bool);
}

/// What [`BornDead`] is prepared as: its text does not depend on its values.
pub(super) struct BornDeadStatement;

impl QueryId for BornDead {
    type QueryId = BornDeadStatement;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for BornDead {
    type SqlType = (Nullable<BigInt>, Nullable<BigInt>);
}

/// Moves every queued bit whose chunk exists into it, in one statement (atomic: a
/// reader sees the bits queued or folded, never neither). Answers how many moved.
pub async fn fold_pending(conn: &mut AsyncPgConnection) -> Result<usize, StoreError> {
    let statement = format!(
        "WITH moved AS (DELETE FROM status_list_pending p USING status_list_chunks c \
         WHERE c.domain_id = p.domain_id AND c.list_no = p.list_no AND c.chunk_no = p.idx / 32768 \
         RETURNING p.domain_id AS d, p.list_no AS l, p.idx AS i), \
         folded AS ({SET_BITS_HEAD}moved{SET_BITS_TAIL} RETURNING s.n) \
         SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) AS moved FROM folded"
    );
    #[derive(QueryableByName)]
    struct Moved {
        #[diesel(sql_type = BigInt)]
        moved: i64,
    }
    let moved: Moved = diesel::sql_query(statement).get_result(conn).await?;
    Ok(usize::try_from(moved.moved).unwrap_or_default())
}

/// Folds the queue every [`FOLD_EVERY`] for as long as the pool is open.
pub(in crate::store) async fn fold_while_open(
    pool: deadpool::managed::WeakPool<AsyncDieselConnectionManager<AsyncPgConnection>>,
) {
    let mut ticks = tokio::time::interval(FOLD_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(pool) = pool.upgrade() else {
            return;
        };
        let folded = async {
            let mut conn = pool.get().await?;
            fold_pending(&mut conn).await
        }
        .await;
        // A failure leaves the queue as it was (the statement is atomic): the lists
        // stay right, and the next tick tries again.
        if let Err(error) = folded {
            tracing::warn!(%error, "folding the queued status-list bits failed; trying again");
        }
    }
}

/// A list's version: its chunks' and its queued bits'. `None` when it has no chunk.
pub(super) async fn version(
    conn: &mut AsyncPgConnection,
    domain_id: i64,
    list: i64,
) -> Result<Option<i64>, StoreError> {
    #[derive(QueryableByName)]
    struct Version {
        #[diesel(sql_type = Nullable<BigInt>)]
        version: Option<i64>,
    }
    let found: Version = diesel::sql_query(
        "SELECT CAST(SUM(version) AS BIGINT) + (SELECT COUNT(*) FROM status_list_pending p \
         WHERE p.domain_id = $1 AND p.list_no = $2) AS version \
         FROM status_list_chunks WHERE domain_id = $1 AND list_no = $2",
    )
    .bind::<BigInt, _>(domain_id)
    .bind::<BigInt, _>(list)
    .get_result(conn)
    .await?;
    Ok(found.version)
}

/// A list's chunks with their queued bits set, each chunk's version counting them.
pub(super) async fn chunks(conn: &mut AsyncPgConnection, domain_id: i64, list: i64) -> Result<Vec<Chunk>, StoreError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        chunk_no: i64,
        #[diesel(sql_type = Binary)]
        bits: Vec<u8>,
        #[diesel(sql_type = BigInt)]
        version: i64,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT c.chunk_no, \
         CASE WHEN p.offsets IS NULL THEN c.bits ELSE revokd_set_bits(c.bits, p.offsets) END AS bits, \
         c.version + COALESCE(p.n, 0) AS version \
         FROM status_list_chunks c LEFT JOIN \
         (SELECT idx / 32768 AS chunk_no, array_agg(idx % 32768) AS offsets, count(*) AS n \
          FROM status_list_pending WHERE domain_id = $1 AND list_no = $2 GROUP BY 1) p \
         ON p.chunk_no = c.chunk_no \
         WHERE c.domain_id = $1 AND c.list_no = $2 ORDER BY c.chunk_no",
    )
    .bind::<BigInt, _>(domain_id)
    .bind::<BigInt, _>(list)
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| Chunk {
            no: row.chunk_no,
            bits: row.bits,
            version: row.version,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::status_list::CHUNK_BITS;

    #[test]
    fn the_statements_split_indices_as_the_chunks_do() {
        // The SQL spells the chunk size out; it must be the one the chunks are made of.
        assert_eq!(CHUNK_BITS, 32768);
        assert!(SET_BITS_HEAD.contains("i / 32768") && SET_BITS_HEAD.contains("i % 32768"));
    }
}
