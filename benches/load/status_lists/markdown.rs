//! The status-list section of `BENCHMARKS.md`.

use std::fmt::Write as _;
use std::time::Duration;

use super::direct::QUERY_RUNS;
use super::fetch::RENDER_RUNS;
use super::{CACHED_SAMPLES, RERENDERS, Results};
use crate::report::{Report, scale_label};
use crate::seed;

pub(super) fn quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

pub(super) fn max(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::NAN, f64::max)
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn verdict(met: bool) -> &'static str {
    if met { "✔" } else { "✘" }
}

/// The status-list section of `BENCHMARKS.md`.
pub fn markdown(results: &[Results], report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Measured {}, in the run of:\n", report.environment);
    let _ = writeln!(out, "```sh\n{}\n```\n", report.command);
    if let Some(first) = results.first() {
        let _ = writeln!(
            out,
            "One list of {} tokens (client `{}`), {} of them revoked at random positions, seeded \
             as token rows with consecutive slots and the list's chunks with exactly their bits.\n",
            scale_label(first.list_tokens),
            seed::BULK_SLOTS,
            thousands(first.revoked as u64),
        );
    }
    if results.iter().any(|r| r.fetch.is_some()) {
        let _ = writeln!(out, "#### Fetching the list, and re-rendering it after a change\n");
        let _ = writeln!(
            out,
            "Fetches: the closed loop of {} connections, {} s warm-up, {} s measured, every \
             answer checked (200, the list's JWT). One at a time: {CACHED_SAMPLES} cached \
             fetches; then {RERENDERS} times a revocation of one of the list's tokens through \
             `POST /oauth2/rest/token/revoke`, the first fetch after it (which renders the \
             list again: chunks read, zlib, signed, gzip) and the one after that (cached). \
             Each fetch on a new loopback connection. The parts of a rendering are timed again \
             in the benchmark's process on the list's bytes (median of {RENDER_RUNS}), with \
             zlib's other levels for comparison.\n",
            report.plan.connections,
            report.plan.warmup.as_secs_f64(),
            report.plan.measure.as_secs_f64(),
        );
        let _ = writeln!(
            out,
            "| backend | tokens stored | list JWT | fetches/s from cache | ≥ 1,000/s | p50 / p99 ms under load | CPU µs per fetch: revokd + PostgreSQL |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|");
        for r in results {
            let Some(f) = &r.fetch else { continue };
            let _ = writeln!(
                out,
                "| {} | {} | {} KiB | {:.0} | {} | {:.2} / {:.2} | {} |",
                r.backend,
                thousands(r.tokens_stored as u64),
                f.jwt_bytes / 1024,
                f.measured.per_second(),
                verdict(f.measured.per_second() >= 1000.0),
                f.measured.p50_ms(),
                f.measured.p99_ms(),
                f.cost.map_or("—".into(), |c| if r.backend == "postgres" {
                    format!("{:.0} + {:.0}", c.server_us, c.postgres_us)
                } else {
                    format!("{:.0}", c.server_us)
                }),
            );
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "| backend | first fetch after a revocation: p50 / max ms | ≤ 20 ms | the fetch after it: p50 / max ms | cached, one at a time: p50 / max ms | of a rendering, in the benchmark's process: `lst` as revokd writes it (zlib best) | zlib default | zlib fast | gzip of the JWT |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|");
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        for r in results {
            let Some(f) = &r.fetch else { continue };
            let p = &f.render;
            let _ = writeln!(
                out,
                "| {} | {:.2} / {:.2} | {} | {:.2} / {:.2} | {:.2} / {:.2} | {:.1} ms, {} KiB | {:.1} ms, {} KiB | {:.1} ms, {} KiB | {:.1} ms |",
                r.backend,
                quantile(&f.rerender_ms, 0.5),
                max(&f.rerender_ms),
                verdict(max(&f.rerender_ms) <= 20.0),
                quantile(&f.after_rerender_ms, 0.5),
                max(&f.after_rerender_ms),
                quantile(&f.cached_ms, 0.5),
                max(&f.cached_ms),
                ms(p.lst_best.0),
                p.lst_best.1 / 1024,
                ms(p.lst_default.0),
                p.lst_default.1 / 1024,
                ms(p.lst_fast.0),
                p.lst_fast.1 / 1024,
                ms(p.gzip_jwt),
            );
        }
        let _ = writeln!(out);
    }
    if results.iter().any(|r| r.bulk.is_some()) {
        let _ = writeln!(
            out,
            "#### Bulk revocation of the list's client: the bits' cost, and the alternative\n"
        );
        let _ = writeln!(
            out,
            "`POST /admin/v1/domains/bench/revocations` with `{{\"client_id\": …}}`, timed over \
             HTTP, once each, after a checkpoint and a `dry_run` of it (also timed): `{}` owns the list's \
             tokens (bits set chunk by chunk in the same transaction, as implemented), `{}` as \
             many tokens in no list, as many of them already revoked (no bits to set); both \
             sets stored in index order, as issuance would. The alternative design would not set bits in a \
             bulk revocation but combine the watermarks with the per-token bits whenever it \
             renders a list: the query it would need each time is the list's watermarked \
             tokens (`liveness::watermarked()` over the list's rows, on a connection of the \
             store, rows loaded), timed with an index `(domain_id, status_list, status_idx)` \
             that tokens do not have (built for the measure: median of {QUERY_RUNS} runs) and \
             as the schema is (one run).\n",
            seed::BULK_SLOTS,
            seed::BULK_PLAIN,
        );
        let _ = writeln!(
            out,
            "| backend | live tokens reached | bulk, tokens with slots: s | bulk, tokens in no list: s | the bits' cost: s (ratio) | dry runs (the count alone), with / without slots: s | first fetch after it: ms |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|");
        for r in results {
            let Some(b) = &r.bulk else { continue };
            let (with, without) = (b.with_slots.as_secs_f64(), b.without_slots.as_secs_f64());
            let _ = writeln!(
                out,
                "| {} | {} | {:.2} | {:.2} | {:+.2} ({:.2}×) | {:.2} / {:.2} | {} |",
                r.backend,
                thousands(b.reached as u64),
                with,
                without,
                with - without,
                with / without,
                b.dry_with_slots.as_secs_f64(),
                b.dry_without_slots.as_secs_f64(),
                b.first_fetch_after
                    .map_or("—".into(), |d| format!("{:.1}", d.as_secs_f64() * 1000.0)),
            );
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "| backend | the alternative, per rendering: with an index by list, before the bulk / after (rows after): ms | without it, after: ms | that index built in: s |"
        );
        let _ = writeln!(out, "|---|---|---|---|");
        for r in results {
            let Some(b) = &r.bulk else { continue };
            let _ = writeln!(
                out,
                "| {} | {:.0} / {:.0} ({}) | {:.0} | {:.1} |",
                r.backend,
                b.query_before.median_ms(),
                b.query_after.median_ms(),
                thousands(b.query_after.rows as u64),
                b.query_after_unindexed.median_ms(),
                b.index_build.as_secs_f64(),
            );
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "Checks:");
    for r in results {
        for check in &r.checks {
            let _ = writeln!(out, "- {check}");
        }
    }
    out
}
