//! Status lists in the store (SPEC §3.10, DESIGN.md "Status lists"): index ranges
//! reserved for issuance, the bits in fixed-size chunks, and what a list's endpoint
//! reads. Bits are set only from inside the transaction of whatever ended their token:
//! the revocation pipeline (`revocations`) and, for a token born dead, its issuance.
//!
//! A list's version is the sum of its chunks' versions (on PostgreSQL plus its queued
//! bits, `postgres.rs`); every change adds to it, so the sum goes up exactly when a bit
//! changed, and it is read with the bits it describes, in one statement.

mod postgres;

use std::collections::BTreeMap;

use diesel::dsl::{not, sql};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable};
use diesel_async::RunQueryDsl;

pub use postgres::fold_pending;
pub(super) use postgres::fold_while_open;
pub(crate) use postgres::{IssuedBornDead, QUEUE_BITS_HEAD, QUEUE_BITS_TAIL};

use super::schema::{domains, status_list_chunks, status_lists, tokens};
use super::{Db, StoreError, liveness};
use crate::clock::UnixMicros;
use crate::domain::revocation::TokenKind;
use crate::domain::status_list::{CHUNK_BITS, CHUNK_BYTES, LIST_SIZE, RANGE_SIZE, StatusSlot, set_bit};
use crate::on_db;

/// Indices `start..end` of list `list`, reserved for one instance's issuance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reserved {
    pub list: i64,
    pub start: i64,
    pub end: i64,
}

/// Reserves the next [`RANGE_SIZE`] indices of the domain's newest list, opening the
/// next list when it is full. Run inside a write: the `UPDATE … RETURNING` on the
/// list's row is what keeps two instances from ever sharing an index.
pub async fn reserve_range(db: &mut Db<'_>, domain_id: i64, now: UnixMicros) -> Result<Reserved, StoreError> {
    // Another instance may open the same next list first; then take a range of it.
    for _ in 0..4 {
        let newest: Option<i64> = on_db!(db, |conn| status_lists::table
            .filter(status_lists::domain_id.eq(domain_id))
            .select(diesel::dsl::max(status_lists::list_no))
            .get_result(conn)
            .await)?;
        let reserved = match newest {
            Some(list) => take_range(db, domain_id, list).await?,
            None => None,
        };
        let range = match reserved {
            Some(range) => range,
            None => {
                let list = newest.map_or(1, |newest| newest + 1);
                let opened = on_db!(db, |conn| diesel::insert_into(status_lists::table)
                    .values((
                        status_lists::domain_id.eq(domain_id),
                        status_lists::list_no.eq(list),
                        status_lists::reserved.eq(RANGE_SIZE),
                        status_lists::created_at.eq(now),
                    ))
                    .on_conflict_do_nothing()
                    .execute(conn)
                    .await)?;
                if opened == 0 {
                    continue;
                }
                Reserved {
                    list,
                    start: 0,
                    end: RANGE_SIZE,
                }
            }
        };
        create_chunk(db, domain_id, range).await?;
        return Ok(range);
    }
    Err(StoreError::Contention(
        "status list ranges: too many concurrent openings".into(),
    ))
}

/// The next range of `list`, if it has room.
async fn take_range(db: &mut Db<'_>, domain_id: i64, list: i64) -> Result<Option<Reserved>, StoreError> {
    let end: Option<i64> = on_db!(db, |conn| diesel::update(
        status_lists::table
            .filter(status_lists::domain_id.eq(domain_id))
            .filter(status_lists::list_no.eq(list))
            .filter(status_lists::reserved.le(LIST_SIZE - RANGE_SIZE))
    )
    .set(status_lists::reserved.eq(status_lists::reserved + RANGE_SIZE))
    .returning(status_lists::reserved)
    .get_result(conn)
    .await
    .optional())?;
    Ok(end.map(|end| Reserved {
        list,
        start: end - RANGE_SIZE,
        end,
    }))
}

/// The chunk a range lies in, all VALID, unless an earlier range created it.
async fn create_chunk(db: &mut Db<'_>, domain_id: i64, range: Reserved) -> Result<(), StoreError> {
    let zeros = vec![0u8; CHUNK_BYTES];
    on_db!(db, |conn| diesel::insert_into(status_list_chunks::table)
        .values((
            status_list_chunks::domain_id.eq(domain_id),
            status_list_chunks::list_no.eq(range.list),
            status_list_chunks::chunk_no.eq(range.start / CHUNK_BITS),
            status_list_chunks::bits.eq(&zeros),
            status_list_chunks::version.eq(0i64),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await)?;
    Ok(())
}

/// A bit to set: the token's domain and its slot.
pub type DomainSlot = (i64, StatusSlot);

/// Sets these bits (INVALID). On PostgreSQL one statement, which queues them
/// (`postgres.rs`); on SQLite the writer flips them in their chunks, one write per
/// chunk, each chunk's version one up.
pub async fn set_bits(db: &mut Db<'_>, bits: &[DomainSlot]) -> Result<(), StoreError> {
    if bits.is_empty() {
        return Ok(());
    }
    match db {
        Db::Postgres(conn) => postgres::set_bits(conn, bits).await?,
        Db::Sqlite(conn) => {
            let mut by_chunk: BTreeMap<(i64, i64, i64), Vec<i64>> = BTreeMap::new();
            for (domain_id, slot) in bits {
                by_chunk
                    .entry((*domain_id, slot.list, slot.chunk()))
                    .or_default()
                    .push(slot.offset());
            }
            for ((domain_id, list, chunk), offsets) in by_chunk {
                let row = status_list_chunks::table
                    .filter(status_list_chunks::domain_id.eq(domain_id))
                    .filter(status_list_chunks::list_no.eq(list))
                    .filter(status_list_chunks::chunk_no.eq(chunk));
                let Some(mut stored): Option<Vec<u8>> = row
                    .select(status_list_chunks::bits)
                    .get_result(&mut **conn)
                    .await
                    .optional()?
                else {
                    // Created with the range its indices came from: a missing one
                    // would be a defect, and the revocation must not look done.
                    return Err(StoreError::Internal(format!(
                        "status list {list} of domain {domain_id} has no chunk {chunk}"
                    )));
                };
                stored.resize(CHUNK_BYTES, 0);
                for offset in offsets {
                    set_bit(&mut stored, offset as usize);
                }
                diesel::update(row)
                    .set((
                        status_list_chunks::bits.eq(stored),
                        status_list_chunks::version.eq(status_list_chunks::version + 1),
                    ))
                    .execute(&mut **conn)
                    .await?;
            }
        }
    }
    Ok(())
}

/// The filters every question below asks with, on `tokens`: access tokens in a list,
/// not marked and not expired, yet dead (their family or consent ended, or a watermark
/// covers them); their slots.
macro_rules! unmarked_dead_slots {
    ($query:expr, $domain_id:expr, $now:expr) => {
        $query
            .filter(tokens::domain_id.eq($domain_id))
            .filter(tokens::kind.eq(TokenKind::Access))
            .filter(tokens::status_list.is_not_null())
            .filter(tokens::revoked_at.is_null())
            .filter(tokens::expires_at.gt($now))
            .filter(not(liveness::not_ended()))
            .select((tokens::status_list, tokens::status_idx))
    };
}

/// The slots of these tokens (just inserted) that are dead already: what they were
/// issued under ended while they were being issued (`tokens::born_dead`). By primary
/// key only: a disjunction with other columns would make SQLite scan the table.
pub async fn born_dead_among(
    db: &mut Db<'_>,
    domain_id: i64,
    ids: &[i64],
    now: UnixMicros,
) -> Result<Vec<StatusSlot>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let found: Vec<(Option<i64>, Option<i64>)> = match db {
        Db::Postgres(conn) => {
            postgres::BornDead {
                domain_id,
                ids: ids.to_vec(),
                now,
            }
            .load(&mut **conn)
            .await?
        }
        // One statement per token (an issuance stores one at a time here), the same
        // text each time, so the writer prepares it once: diesel prepares every
        // `IN (…)` list anew, and this check ran on every issuance. Through the
        // synchronous API, which finds the prepared statement by type where the async
        // wrapper would write out its text (three subqueries) on every call.
        Db::Sqlite(conn) => {
            let ids = ids.to_vec();
            conn.spawn_blocking(move |sync| {
                let mut found = Vec::new();
                for id in ids {
                    found.extend(diesel::RunQueryDsl::load::<(Option<i64>, Option<i64>)>(
                        unmarked_dead_slots!(tokens::table.filter(tokens::id.eq(id)), domain_id, now),
                        sync,
                    )?);
                }
                Ok(found)
            })
            .await?
        }
    };
    Ok(slots(found))
}

/// The slots of access tokens in these families or under these consents that are dead
/// although no one marked them. A revocation on PostgreSQL asks this about the families
/// and consents it ended, after ending them: a token a concurrent grant inserted there,
/// which its marking could not see, is committed by then (the grant's foreign keys held
/// the family's or consent's row, which the marking locked `FOR UPDATE`).
pub async fn unmarked_dead_under(
    db: &mut Db<'_>,
    domain_id: i64,
    families: &[i64],
    consents: &[i64],
    now: UnixMicros,
) -> Result<Vec<StatusSlot>, StoreError> {
    if families.is_empty() && consents.is_empty() {
        return Ok(Vec::new());
    }
    let found: Vec<(Option<i64>, Option<i64>)> = on_db!(db, |conn| unmarked_dead_slots!(
        tokens::table.filter(
            tokens::family_ref
                .eq_any(families)
                .assume_not_null()
                .or(tokens::consent_ref.eq_any(consents).assume_not_null())
        ),
        domain_id,
        now
    )
    .load(conn)
    .await)?;
    Ok(slots(found))
}

/// Slots from `(status_list, status_idx)` columns; rows without one are in no list.
pub fn slots(columns: impl IntoIterator<Item = (Option<i64>, Option<i64>)>) -> Vec<StatusSlot> {
    columns
        .into_iter()
        .filter_map(|(list, idx)| Some(StatusSlot { list: list?, idx: idx? }))
        .collect()
}

/// What a list's endpoint checks on every request: the domain's id and TTL setting,
/// and the list's current version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListState {
    pub domain_id: i64,
    pub ttl_secs: i64,
    pub version: i64,
}

/// The domain's id and `status_list_ttl_secs`, by name.
pub async fn domain_settings(db: &mut Db<'_>, domain: &str) -> Result<Option<(i64, i64)>, StoreError> {
    Ok(on_db!(db, |conn| domains::table
        .filter(domains::name.eq(domain))
        .select((domains::id, domains::status_list_ttl_secs))
        .get_result(conn)
        .await
        .optional())?)
}

/// The list's state, `None` when the domain or the list does not exist. (A list has a
/// chunk from its first range on: no chunk, no list.)
pub async fn state(db: &mut Db<'_>, domain: &str, list: i64) -> Result<Option<ListState>, StoreError> {
    let Some((domain_id, ttl_secs)) = domain_settings(db, domain).await? else {
        return Ok(None);
    };
    let version: Option<i64> = match db {
        Db::Postgres(conn) => postgres::version(conn, domain_id, list).await?,
        Db::Sqlite(conn) => {
            status_list_chunks::table
                .filter(status_list_chunks::domain_id.eq(domain_id))
                .filter(status_list_chunks::list_no.eq(list))
                .select(sql::<Nullable<BigInt>>("CAST(SUM(version) AS BIGINT)"))
                .get_result(&mut **conn)
                .await?
        }
    };
    Ok(version.map(|version| ListState {
        domain_id,
        ttl_secs,
        version,
    }))
}

/// One stored chunk of a list.
#[derive(Debug, Clone, Queryable)]
pub struct Chunk {
    pub no: i64,
    pub bits: Vec<u8>,
    /// Goes up with every change to its bits.
    pub version: i64,
}

/// A list's chunks and the version they make, read together (on PostgreSQL with the
/// queued bits set in them).
pub async fn chunks(db: &mut Db<'_>, domain_id: i64, list: i64) -> Result<(i64, Vec<Chunk>), StoreError> {
    let rows: Vec<Chunk> = match db {
        Db::Postgres(conn) => postgres::chunks(conn, domain_id, list).await?,
        Db::Sqlite(conn) => {
            status_list_chunks::table
                .filter(status_list_chunks::domain_id.eq(domain_id))
                .filter(status_list_chunks::list_no.eq(list))
                .select((
                    status_list_chunks::chunk_no,
                    status_list_chunks::bits,
                    status_list_chunks::version,
                ))
                .order(status_list_chunks::chunk_no)
                .load(&mut **conn)
                .await?
        }
    };
    let version = rows.iter().map(|chunk| chunk.version).sum();
    Ok((version, rows))
}

/// The domain's lists, in order.
pub async fn lists(db: &mut Db<'_>, domain_id: i64) -> Result<Vec<i64>, StoreError> {
    Ok(on_db!(db, |conn| status_lists::table
        .filter(status_lists::domain_id.eq(domain_id))
        .select(status_lists::list_no)
        .order(status_lists::list_no)
        .load(conn)
        .await)?)
}
