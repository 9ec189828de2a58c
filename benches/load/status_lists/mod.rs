//! Token Status Lists' own figures (SPEC §3.10, DESIGN.md "Status lists"), once per
//! backend after the load runs:
//!
//! - `status-list-fetch`: a list of `--list-tokens` (10^6) tokens, 1% of them revoked
//!   at random positions, fetched (`Accept: application/statuslist+jwt`) through the
//!   closed-loop generator from the per-process cache, every answer checked; then 20
//!   times one of its tokens is revoked through the API and the first fetch after it
//!   (the re-rendering) is timed, against a cached fetch.
//! - `status-list-bulk`: the design choice for bulk revocations. The implemented one,
//!   bits set chunk by chunk in the bulk revocation's own transaction, costs the
//!   difference between a bulk revocation of that list's client and the same one of a
//!   client owning as many tokens in no list. The rejected one, watermarks combined
//!   with the per-token bits whenever a list is rendered, costs the query a renderer
//!   would run every time: the slots of the list's tokens that a watermark covers
//!   (`revokd::store::liveness::watermarked`), timed on a connection of its own.
//!
//! The list is seeded straight into the store: token rows with consecutive slots of a
//! fresh list, the revoked ones marked revoked, and the chunks with exactly their bits.

mod bulk;
mod direct;
mod fetch;
mod markdown;
mod reader;

use std::collections::HashSet;
use std::path::Path;

use anyhow::{Context as _, bail};
use revokd::domain::status_list::LIST_SIZE;
use revokd::store::{DatabaseUrl, Store};
use serde_json::Value;

use crate::loadgen::{self, Plan};
use crate::seed::{self, Fixture, LISTED, Seeding, UNLISTED};
use crate::servers::Server;
use direct::Direct;
pub use markdown::markdown;
use reader::{check_bits, get_jwks, verify};

/// Revocations through the API, each followed by a timed fetch.
const RERENDERS: usize = 20;
/// Cached fetches timed one at a time.
const CACHED_SAMPLES: usize = 100;

pub struct Context<'a> {
    pub backend: &'static str,
    pub database: &'a DatabaseUrl,
    pub url_for_server: &'a str,
    pub binary: &'a Path,
    pub plan: Plan,
    pub work: &'a Path,
    pub store: &'a Store,
    pub fixture: &'a Fixture,
    /// Tokens in the list.
    pub tokens: u64,
}

/// One backend's figures.
pub struct Results {
    backend: &'static str,
    /// Rows in `tokens` when the list was measured.
    tokens_stored: i64,
    list_tokens: u64,
    revoked: usize,
    fetch: Option<fetch::Fetch>,
    bulk: Option<bulk::Bulk>,
    checks: Vec<String>,
}

/// Positions `0..count` picked at random, distinct, and none of `except`.
fn pick(count: u64, how_many: usize, seed: u64, except: &HashSet<u64>) -> Vec<u64> {
    let mut x = seed | 1;
    let mut picked = Vec::with_capacity(how_many);
    let mut seen = HashSet::with_capacity(how_many);
    while picked.len() < how_many.min(count as usize - except.len()) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        let position = x.wrapping_mul(0x2545_f491_4f6c_dd1d) % count;
        if !except.contains(&position) && seen.insert(position) {
            picked.push(position);
        }
    }
    picked
}

/// What the parts of the measure share: the server, the list, and the bits it must show.
struct Session<'a, 'c> {
    cx: &'a Context<'c>,
    server: Server,
    path: String,
    request: Vec<u8>,
    jwks: Value,
    list: i64,
    count: u64,
    /// Every bit that must be set, as list indices (the list's slots are the tokens'
    /// positions, `Seeding::slot`).
    invalid: HashSet<u64>,
}

pub async fn measure(cx: &Context<'_>, fetch: bool, bulk: bool) -> anyhow::Result<Results> {
    let count = cx.tokens;
    if count > LIST_SIZE as u64 {
        bail!("--list-tokens {count}: a list holds {LIST_SIZE}");
    }
    eprintln!("{}: status lists, {count} tokens in one list", cx.backend);
    let revoked = pick(count, (count / 100) as usize, 0x5eed_0001, &HashSet::new());
    let revoked_set: HashSet<u64> = revoked.iter().copied().collect();
    let rerender = if fetch {
        pick(count, RERENDERS, 0x5eed_0002, &revoked_set)
    } else {
        Vec::new()
    };
    let list = seed::next_list(cx.store, cx.fixture).await?;
    let listed = Seeding {
        set: LISTED,
        range: 0..count,
        client_ref: cx.fixture.bulk_slots_ref,
        first_list: Some(list),
        revoked: revoked.clone(),
        // As issuance stores them: a client's tokens, and a list's, one after the other.
        in_index_order: true,
    };
    seed::add(cx.database, Some(cx.store), cx.fixture, &listed).await?;
    if bulk {
        // As many tokens in no list, as many of them revoked, so that both bulk
        // revocations reach the same number of live tokens.
        let unlisted = Seeding {
            set: UNLISTED,
            range: 0..count,
            client_ref: cx.fixture.bulk_plain_ref,
            first_list: None,
            revoked: revoked.iter().chain(&rerender).copied().collect(),
            in_index_order: true,
        };
        seed::add(cx.database, Some(cx.store), cx.fixture, &unlisted).await?;
    }
    let mut direct = Direct::open(cx.database).await?;
    let tokens_stored = direct.count_tokens().await?;
    let server = Server::revokd(
        cx.binary,
        cx.url_for_server,
        cx.work,
        &format!("revokd-{}-status-lists", cx.backend),
    )
    .await?;
    eprintln!("  revokd pid {} on {}", server.pid(), server.address);
    let jwks = get_jwks(&server).await?;
    let path = format!("/domains/{}/status-lists/{list}", seed::DOMAIN);
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/statuslist+jwt\r\n\r\n").into_bytes();
    let mut results = Results {
        backend: cx.backend,
        tokens_stored,
        list_tokens: count,
        revoked: revoked.len(),
        fetch: None,
        bulk: None,
        checks: Vec::new(),
    };
    let invalid: HashSet<u64> = revoked_set.clone();

    let (status, first) = loadgen::once(server.address, &request).await?;
    if status != 200 {
        bail!("GET {path}: {status} {}", String::from_utf8_lossy(&first));
    }
    let jwt = String::from_utf8(first)?;
    let verified = verify(&jwt, &jwks, &path)?;
    check_bits(&verified, count, |i| invalid.contains(&i)).context("the seeded list")?;
    results.checks.push(format!(
        "{}: the list's JWT ({} bytes) verifies against the domain's JWKS, its `sub` is the list URI, and its bits are exactly the {} seeded revocations",
        cx.backend,
        jwt.len(),
        revoked.len()
    ));

    let mut session = Session {
        cx,
        server,
        path,
        request,
        jwks,
        list,
        count,
        invalid,
    };
    if fetch {
        results.fetch = Some(fetch::run(&mut session, &rerender, &jwt, &verified.bytes, &mut results.checks).await?);
    }
    if bulk {
        results.bulk = Some(bulk::run(&mut session, &mut direct, &mut results.checks).await?);
    }
    Ok(results)
}
