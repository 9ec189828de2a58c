//! `status-list-fetch`: the list fetched from cache under load, one at a time, and
//! right after each of [`RERENDERS`] revocations of its tokens (a rendering each).

use std::io::Write as _;
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use super::markdown::{max, quantile};
use super::reader::{check_bits, timed_get, verify};
use super::{CACHED_SAMPLES, RERENDERS, Session};
use crate::cpu::{self, Cost};
use crate::loadgen::{self, Measured, Workload};
use crate::seed::{self, LISTED};
use crate::workloads::{self, basic};

pub(super) struct Fetch {
    pub(super) jwt_bytes: usize,
    /// What a rendering does, redone in this process on the list's bytes.
    pub(super) render: RenderParts,
    pub(super) measured: Measured,
    pub(super) cost: Option<Cost>,
    /// Milliseconds, one fetch at a time.
    pub(super) cached_ms: Vec<f64>,
    pub(super) rerender_ms: Vec<f64>,
    pub(super) after_rerender_ms: Vec<f64>,
}

/// The parts of a rendering, timed on the list's bytes in the benchmark's process
/// (median of [`RENDER_RUNS`]): `lst` as revokd writes it (`encode_lst`, zlib at
/// `Compression::best()`), the same at zlib's default and fastest levels for
/// comparison, and the gzip of the JWT (the publisher's default level).
pub(super) struct RenderParts {
    pub(super) lst_best: (Duration, usize),
    pub(super) lst_default: (Duration, usize),
    pub(super) lst_fast: (Duration, usize),
    pub(super) gzip_jwt: Duration,
}

pub(super) const RENDER_RUNS: usize = 5;

impl RenderParts {
    fn measure(bytes: &[u8], jwt: &str) -> Self {
        fn median(mut runs: Vec<Duration>) -> Duration {
            runs.sort();
            runs[runs.len() / 2]
        }
        fn timed(f: impl Fn() -> usize) -> (Duration, usize) {
            let mut size = 0;
            let runs = (0..RENDER_RUNS)
                .map(|_| {
                    let started = Instant::now();
                    size = f();
                    started.elapsed()
                })
                .collect();
            (median(runs), size)
        }
        let zlib = |level: flate2::Compression| {
            let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), level);
            let _ = encoder.write_all(bytes);
            encoder.finish().map_or(0, |c| c.len())
        };
        Self {
            lst_best: timed(|| revokd::domain::status_list::encode_lst(bytes).len()),
            lst_default: timed(|| zlib(flate2::Compression::default())),
            lst_fast: timed(|| zlib(flate2::Compression::fast())),
            gzip_jwt: timed(|| {
                let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                let _ = encoder.write_all(jwt.as_bytes());
                encoder.finish().map_or(0, |c| c.len())
            })
            .0,
        }
    }
}

/// Fetches of one list; a good answer is `200` with a JWT of the list's header and
/// length (a re-signing after `ttl` changes only `iat`, `exp` and the signature).
struct FetchList {
    request: Vec<u8>,
    header: Vec<u8>,
    length: usize,
}

impl Workload for FetchList {
    fn next_request(&self, out: &mut Vec<u8>) -> Option<()> {
        out.extend_from_slice(&self.request);
        Some(())
    }

    fn accept(&self, status: u16, body: &[u8]) -> bool {
        status == 200 && body.len() == self.length && body.starts_with(&self.header)
    }
}

/// The fetch measures on `session`'s list: `jwt` is what its first fetch answered,
/// `bytes` its bits; `rerender` the tokens to revoke one by one.
pub(super) async fn run(
    session: &mut Session<'_, '_>,
    rerender: &[u64],
    jwt: &str,
    bytes: &[u8],
    checks: &mut Vec<String>,
) -> anyhow::Result<Fetch> {
    let Session {
        cx,
        ref server,
        ref path,
        ref request,
        ref jwks,
        count,
        ref mut invalid,
        ..
    } = *session;
    let render = RenderParts::measure(bytes, jwt);
    eprintln!(
        "  a rendering's parts, in this process: lst (zlib best) {:.1} ms, {} bytes; zlib default {:.1} ms, {} bytes; zlib fast {:.1} ms, {} bytes; gzip of the JWT {:.1} ms",
        render.lst_best.0.as_secs_f64() * 1000.0,
        render.lst_best.1,
        render.lst_default.0.as_secs_f64() * 1000.0,
        render.lst_default.1,
        render.lst_fast.0.as_secs_f64() * 1000.0,
        render.lst_fast.1,
        render.gzip_jwt.as_secs_f64() * 1000.0,
    );
    eprintln!("  fetches from cache");
    let mut cached_ms = Vec::with_capacity(CACHED_SAMPLES);
    for _ in 0..CACHED_SAMPLES {
        let (elapsed, status, body) = timed_get(server, request).await?;
        if status != 200 || body.len() != jwt.len() {
            bail!("a cached GET {path} answered {status}, {} bytes", body.len());
        }
        cached_ms.push(elapsed.as_secs_f64() * 1000.0);
    }
    let workload = Rc::new(FetchList {
        request: request.clone(),
        header: format!("{}.", jwt.split('.').next().unwrap_or_default()).into_bytes(),
        length: jwt.len(),
    });
    let before = cpu::Snapshot::take(server.pid());
    let measured = loadgen::run(server.address, workload, cx.plan).await;
    let cost = before.cost_per_request(server.pid(), measured.answered);
    crate::support::expect_clean("status list fetches", &measured)?;
    eprintln!(
        "    {:.0} fetches/s, p50 {:.2} ms, p99 {:.2} ms{}",
        measured.per_second(),
        measured.p50_ms(),
        measured.p99_ms(),
        cost.map(|c| format!(
            ", CPU per fetch: revokd {:.0} µs, PostgreSQL {:.0} µs",
            c.server_us, c.postgres_us
        ))
        .unwrap_or_default()
    );

    eprintln!("  re-rendering after a revocation, {RERENDERS} times");
    let authorization = basic(seed::BULK_SLOTS, &cx.fixture.bulk_slots_secret);
    let mut rerender_ms = Vec::new();
    let mut after_rerender_ms = Vec::new();
    for &index in rerender {
        let mut revoke = Vec::new();
        workloads::oauth_post(
            &mut revoke,
            "/oauth2/rest/token/revoke",
            &authorization,
            &format!("token={}&token_type_hint=access_token", LISTED.text(index)),
        );
        let (status, body) = loadgen::once(server.address, &revoke).await?;
        if status != 200 || body != br#"{"status":"success"}"# {
            bail!("revoking {}: {status} {}", index, String::from_utf8_lossy(&body));
        }
        invalid.insert(index);
        let (elapsed, status, body) = timed_get(server, request).await?;
        if status != 200 {
            bail!("GET {path} after a revocation: {status}");
        }
        rerender_ms.push(elapsed.as_secs_f64() * 1000.0);
        let (again, status, _) = timed_get(server, request).await?;
        if status != 200 {
            bail!("GET {path} after a revocation, again: {status}");
        }
        after_rerender_ms.push(again.as_secs_f64() * 1000.0);
        let list = verify(std::str::from_utf8(&body)?, jwks, path)?;
        check_bits(&list, count, |i| invalid.contains(&i)).context("after a revocation")?;
    }
    eprintln!(
        "    first fetch after a revocation: p50 {:.2} ms, max {:.2} ms; the one after it: p50 {:.2} ms; cached, one at a time: p50 {:.2} ms",
        quantile(&rerender_ms, 0.5),
        max(&rerender_ms),
        quantile(&after_rerender_ms, 0.5),
        quantile(&cached_ms, 0.5),
    );
    checks.push(format!(
        "{}: every one of {} fetches under load answered 200 with the list's JWT; after each of the {RERENDERS} revocations the first fetch showed its bit (and exactly the others)",
        cx.backend,
        measured.ok
    ));
    Ok(Fetch {
        jwt_bytes: jwt.len(),
        render,
        measured,
        cost,
        cached_ms,
        rerender_ms,
        after_rerender_ms,
    })
}
