//! Status-list slots of seeded tokens: the lists and chunks they lie in (created as
//! issuance would have, `reserved` past them), the seeded revocations' bits, and the
//! check after a revocation run that the revoked tokens' bits are set.

use std::ops::Range;

use anyhow::{Context, bail};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use revokd::domain::status_list::{CHUNK_BITS, CHUNK_BYTES, LIST_SIZE, RANGE_SIZE, set_bit};
use revokd::security::Sha256Digest;
use revokd::store::schema::{status_list_chunks, status_lists, tokens};
use revokd::store::{Store, status_lists as list_store};

use super::{Fixture, Seeding, TokenSet};

/// The list number after every list of the bench domain: where a seeding's slots start.
pub async fn next_list(store: &Store, fixture: &Fixture) -> anyhow::Result<i64> {
    let domain_id = fixture.domain_id;
    let newest: Option<i64> = store
        .read(move |mut db| {
            Box::pin(async move {
                Ok(revokd::on_db!(&mut db, |conn| status_lists::table
                    .filter(status_lists::domain_id.eq(domain_id))
                    .select(diesel::dsl::max(status_lists::list_no))
                    .get_result(conn)
                    .await)?)
            })
        })
        .await?;
    Ok(newest.map_or(1, |n| n + 1))
}

/// The rows of the lists `seeding`'s slots lie in, each `reserved` up to the range
/// (of [`RANGE_SIZE`]) its last slot lies in, and their chunks, with the bits of the
/// revoked tokens set.
pub(super) async fn add_lists(store: &Store, fixture: &Fixture, seeding: &Seeding, now: i64) -> anyhow::Result<()> {
    let last = seeding.range.end - 1;
    let (Some((first_list, _)), Some((last_list, last_idx))) = (seeding.slot(seeding.range.start), seeding.slot(last))
    else {
        return Ok(());
    };
    // (list, reserved, chunks with their bits)
    let mut lists: Vec<(i64, i64, Vec<Vec<u8>>)> = (first_list..=last_list)
        .map(|list| {
            let reserved = if list == last_list {
                (last_idx / RANGE_SIZE + 1) * RANGE_SIZE
            } else {
                LIST_SIZE
            };
            let chunks = (reserved + CHUNK_BITS - 1) / CHUNK_BITS;
            (list, reserved, vec![vec![0u8; CHUNK_BYTES]; chunks as usize])
        })
        .collect();
    for index in &seeding.revoked {
        let (list, idx) = seeding.slot(*index).context("a revoked token outside the seeding")?;
        let chunks = &mut lists[(list - first_list) as usize].2;
        set_bit(&mut chunks[(idx / CHUNK_BITS) as usize], (idx % CHUNK_BITS) as usize);
    }
    let domain_id = fixture.domain_id;
    store
        .write(move |mut db| {
            Box::pin(async move {
                for (list, reserved, chunks) in &lists {
                    revokd::on_db!(&mut db, |conn| diesel::insert_into(status_lists::table)
                        .values((
                            status_lists::domain_id.eq(domain_id),
                            status_lists::list_no.eq(*list),
                            status_lists::reserved.eq(*reserved),
                            status_lists::created_at.eq(now),
                        ))
                        .execute(conn)
                        .await)?;
                    for (chunk_no, bits) in chunks.iter().enumerate() {
                        let version = i64::from(bits.iter().any(|b| *b != 0));
                        revokd::on_db!(&mut db, |conn| diesel::insert_into(status_list_chunks::table)
                            .values((
                                status_list_chunks::domain_id.eq(domain_id),
                                status_list_chunks::list_no.eq(*list),
                                status_list_chunks::chunk_no.eq(chunk_no as i64),
                                status_list_chunks::bits.eq(bits),
                                status_list_chunks::version.eq(version),
                            ))
                            .execute(conn)
                            .await)?;
                    }
                }
                Ok(())
            })
        })
        .await?;
    Ok(())
}

/// Marks these tokens of `set` revoked (by the benchmark, at `at`), by their hashes.
pub(super) async fn mark_revoked(
    store: &Store,
    fixture: &Fixture,
    set: TokenSet,
    indices: &[u64],
    at: i64,
) -> anyhow::Result<()> {
    let domain_id = fixture.domain_id;
    for chunk in indices.chunks(1000) {
        let hashes: Vec<Vec<u8>> = chunk
            .iter()
            .map(|i| Sha256Digest::of(set.text(*i).as_bytes()).as_bytes().to_vec())
            .collect();
        let expected = hashes.len();
        let marked = store
            .write(move |mut db| {
                Box::pin(async move {
                    Ok(revokd::on_db!(&mut db, |conn| diesel::update(
                        tokens::table
                            .filter(tokens::domain_id.eq(domain_id))
                            .filter(tokens::token_hash.eq_any(&hashes))
                    )
                    .set((
                        tokens::revoked_at.eq(at),
                        tokens::revoked_by.eq("bench-seed"),
                        tokens::revoked_reason.eq("seeded revoked"),
                    ))
                    .execute(conn)
                    .await)?)
                })
            })
            .await?;
        if marked != expected {
            bail!("marked {marked} of {expected} {}* tokens revoked", set.prefix);
        }
    }
    Ok(())
}

/// The chunks of lists `lists` of the bench domain: `(list, chunk) -> bits`.
pub async fn read_chunks(
    store: &Store,
    fixture: &Fixture,
    lists: std::ops::RangeInclusive<i64>,
) -> anyhow::Result<std::collections::HashMap<(i64, i64), Vec<u8>>> {
    let domain_id = fixture.domain_id;
    let mut found = std::collections::HashMap::new();
    for list in lists {
        // As the list's endpoint reads them: on PostgreSQL with the queued bits set.
        let (_, chunks) = store
            .read(move |mut db| Box::pin(async move { list_store::chunks(&mut db, domain_id, list).await }))
            .await?;
        found.extend(chunks.into_iter().map(|chunk| ((list, chunk.no), chunk.bits)));
    }
    Ok(found)
}

/// Checks the status-list bits of the tokens `range` of `seeding` in the store: every
/// one set (revoked by a revokd with status lists) or none (by one that predates them),
/// never some; `Some(true)` requires them all. What it found, for the report's checks.
pub async fn verify_bits(
    store: &Store,
    fixture: &Fixture,
    seeding: &Seeding,
    range: Range<u64>,
    all_set: Option<bool>,
) -> anyhow::Result<String> {
    let (Some((first, _)), Some((last, _))) = (
        seeding.slot(range.start),
        range.end.checked_sub(1).and_then(|i| seeding.slot(i)),
    ) else {
        return Ok(String::new());
    };
    let chunks = read_chunks(store, fixture, first..=last).await?;
    let count = range.end - range.start;
    let mut set = 0u64;
    for index in range {
        let (list, idx) = seeding.slot(index).context("a token outside the seeding")?;
        let bits = chunks
            .get(&(list, idx / CHUNK_BITS))
            .with_context(|| format!("list {list} has no chunk {}", idx / CHUNK_BITS))?;
        set += u64::from(revokd::domain::status_list::bit(bits, (idx % CHUNK_BITS) as usize));
    }
    match (all_set, set) {
        (_, set) if set == count => Ok(format!("; all {count} of their status-list bits are set")),
        (None, 0) => Ok("; none of their status-list bits is set (a binary without status lists)".into()),
        (_, set) => bail!("{set} of the {count} revoked tokens have their status-list bit set"),
    }
}
