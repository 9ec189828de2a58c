//! `status-list-bulk`: bulk revocation of the list's client against the same of a
//! client owning as many tokens in no list, and the query the rejected design would
//! run per rendering, before and after.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::Value;

use super::Session;
use super::direct::{Direct, QUERY_RUNS, Timed};
use super::reader::{check_bits, timed_get, verify};
use crate::loadgen;
use crate::seed;
use crate::servers::Server;

pub(super) struct Bulk {
    pub(super) reached: i64,
    pub(super) with_slots: Duration,
    pub(super) without_slots: Duration,
    /// `dry_run` of each first: the count alone.
    pub(super) dry_with_slots: Duration,
    pub(super) dry_without_slots: Duration,
    /// The first fetch after the bulk revocation with slots (a re-rendering).
    pub(super) first_fetch_after: Option<Duration>,
    pub(super) index_build: Duration,
    /// The rejected design's query, with [`SLOT_INDEX`]: before the list's bulk
    /// revocation (another client's watermark in the domain) and after it.
    pub(super) query_before: Timed,
    pub(super) query_after: Timed,
    /// The same after the bulk, as the schema is (no index by list).
    pub(super) query_after_unindexed: Timed,
}

/// The bulk measures on `session`'s list, on `direct` for the queries.
pub(super) async fn run(
    session: &mut Session<'_, '_>,
    direct: &mut Direct,
    checks: &mut Vec<String>,
) -> anyhow::Result<Bulk> {
    let Session {
        cx,
        ref server,
        ref path,
        ref request,
        ref jwks,
        list,
        count,
        ref mut invalid,
    } = *session;
    let reached = (count - invalid.len() as u64) as i64;
    direct.settle().await?;
    eprintln!("  bulk revocation of {reached} tokens without slots");
    let dry_without_slots = bulk_revoke(server, seed::BULK_PLAIN, reached, true).await?;
    let without_slots = bulk_revoke(server, seed::BULK_PLAIN, reached, false).await?;
    eprintln!(
        "    {:.2} s (its dry run: {:.2} s)",
        without_slots.as_secs_f64(),
        dry_without_slots.as_secs_f64()
    );
    eprintln!("  the rejected design's query, before the list's bulk revocation");
    let index_build = direct.create_slot_index().await?;
    let query_before = direct.time_query(cx.fixture, list, QUERY_RUNS).await?;
    if query_before.rows != 0 {
        bail!(
            "{} tokens of the list watermarked before its bulk revocation",
            query_before.rows
        );
    }
    direct.drop_slot_index().await?;
    direct.settle().await?;
    eprintln!("  bulk revocation of {reached} tokens with slots");
    let dry_with_slots = bulk_revoke(server, seed::BULK_SLOTS, reached, true).await?;
    let with_slots = bulk_revoke(server, seed::BULK_SLOTS, reached, false).await?;
    eprintln!(
        "    {:.2} s (its dry run: {:.2} s)",
        with_slots.as_secs_f64(),
        dry_with_slots.as_secs_f64()
    );
    let (elapsed, status, body) = timed_get(server, request).await?;
    if status != 200 {
        bail!("GET {path} after the bulk revocation: {status}");
    }
    eprintln!("    the first fetch after it: {:.1} ms", elapsed.as_secs_f64() * 1000.0);
    let after = verify(std::str::from_utf8(&body)?, jwks, path)?;
    check_bits(&after, count, |_| true).context("after the bulk revocation")?;
    checks.push(format!(
        "{}: both bulk revocations answered {reached} revoked tokens; the list fetched after the one with slots has all {count} bits set",
        cx.backend
    ));
    eprintln!("  the rejected design's query, after it");
    let query_after_unindexed = direct.time_query(cx.fixture, list, 1).await?;
    direct.create_slot_index().await?;
    let query_after = direct.time_query(cx.fixture, list, QUERY_RUNS).await?;
    direct.drop_slot_index().await?;
    // The watermark covers every token of the list, those revoked before included.
    for timed in [&query_after, &query_after_unindexed] {
        if timed.rows as u64 != count {
            bail!(
                "the query found {} watermarked tokens of the list, not {count}",
                timed.rows
            );
        }
    }
    Ok(Bulk {
        reached,
        with_slots,
        without_slots,
        dry_with_slots,
        dry_without_slots,
        first_fetch_after: Some(elapsed),
        index_build,
        query_before,
        query_after,
        query_after_unindexed,
    })
}

/// `POST /admin/v1/domains/bench/revocations` of every token of `client_id` (or its
/// `dry_run`), timed; it must answer `expected` revoked tokens.
async fn bulk_revoke(server: &Server, client_id: &str, expected: i64, dry_run: bool) -> anyhow::Result<Duration> {
    let body = format!(r#"{{"client_id":"{client_id}","reason":"bench","dry_run":{dry_run}}}"#);
    let request = format!(
        "POST /admin/v1/domains/{}/revocations HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        seed::DOMAIN,
        seed::ADMIN_TOKEN,
        body.len()
    );
    let started = Instant::now();
    let (status, answer) = loadgen::once(server.address, request.as_bytes()).await?;
    let elapsed = started.elapsed();
    let answer: Value = serde_json::from_slice(&answer).with_context(|| {
        format!(
            "bulk revocation of {client_id}: {status} {}",
            String::from_utf8_lossy(&answer)
        )
    })?;
    if status != 200 || answer["revoked_tokens"] != expected {
        bail!("bulk revocation of {client_id}: {status} {answer}, expected {expected} revoked tokens");
    }
    Ok(elapsed)
}
