//! Revocation and issuance on an older revokd binary (`--baseline-binary`, built by
//! `bench/run --baseline-rev REV`), on the same database and the same kind of seeded
//! tokens, so that a change's cost is a ratio measured minutes apart on one machine.
//!
//! Per table size the runs alternate: this binary (the main run of `main.rs`), the
//! baseline, the baseline, this binary. A drift of the host that is linear over those
//! minutes then weighs the same on both sides. Each run is a fresh server; every
//! revocation run takes tokens of its own from the pool and is checked afterwards like
//! the main one (all revoked in the store, a sample over HTTP), and the bits of their
//! status-list slots: all set by this binary, none by a baseline that predates them.

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use revokd::store::Store;

use crate::cpu::{self, Cost};
use crate::loadgen::{self, Measured, Plan};
use crate::report::{Measure, Report, Row};
use crate::seed::{self, Fixture, REVOCATION_POOL, Seeding};
use crate::servers::Server;
use crate::workloads::{Issue, Revoke, basic};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binary {
    /// The binary under test (`target/release/revokd`).
    New,
    Baseline,
}

struct Sample {
    binary: Binary,
    measure: Measure,
    backend: &'static str,
    scale: u64,
    measured: Measured,
    cost: Option<Cost>,
}

/// The baseline's figures and this binary's, for every measure, backend and size.
pub struct Comparison {
    path: PathBuf,
    label: String,
    samples: Vec<Sample>,
    checks: Vec<String>,
}

/// What a run needs to know of the backend phase it belongs to.
pub struct Context<'a> {
    pub backend: &'static str,
    pub scale: u64,
    pub url_for_server: &'a str,
    pub new_binary: &'a Path,
    pub options_only: &'a [String],
    pub plan: Plan,
    pub work: &'a Path,
    pub store: &'a Store,
    pub fixture: &'a Fixture,
    /// The revocation pool, with its slots.
    pub pool: &'a Seeding,
}

impl Comparison {
    /// The baseline at `path`, named `label` (default: its file name) in the report.
    pub fn new(path: &Path, label: Option<String>) -> anyhow::Result<Self> {
        if !path.exists() {
            anyhow::bail!("baseline binary {} not found", path.display());
        }
        let label = label.unwrap_or_else(|| {
            path.file_name()
                .map_or("baseline".into(), |n| n.to_string_lossy().into_owned())
        });
        Ok(Self {
            path: path.to_owned(),
            label,
            samples: Vec::new(),
            checks: Vec::new(),
        })
    }

    /// Everything after the main run at a table size: its figures taken as this
    /// binary's first, then baseline, baseline, this binary, and `rounds - 1` more
    /// rounds of this binary, baseline, baseline, this binary, each revocation run on the
    /// next `pool` tokens from `pool_cursor`. This binary's peak RSS in these runs.
    pub async fn rounds(
        &mut self,
        cx: &Context<'_>,
        report: &mut Report,
        rounds: u64,
        pool_cursor: &mut u64,
        pool: u64,
    ) -> anyhow::Result<u64> {
        for measure in [Measure::Revocation, Measure::Issuance] {
            if let Some(row) = report
                .rows
                .iter()
                .find(|r| r.measure == measure && r.backend == cx.backend && r.scale == cx.scale)
            {
                self.push_new(row);
            }
        }
        let mut order = vec![Binary::Baseline, Binary::Baseline, Binary::New];
        for _ in 1..rounds {
            order.extend([Binary::New, Binary::Baseline, Binary::Baseline, Binary::New]);
        }
        let mut peak_rss = 0;
        for binary in order {
            let first = *pool_cursor;
            *pool_cursor += pool;
            let (checks, rss) = self.run(cx, binary, first..first + pool).await?;
            report.checks.extend(checks);
            if binary == Binary::New {
                peak_rss = peak_rss.max(rss);
            }
        }
        Ok(peak_rss)
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// A check the main run made, for this section too.
    pub fn push_check(&mut self, check: String) {
        self.checks.push(check);
    }

    /// A figure of the main run (this binary's first run at that size).
    fn push_new(&mut self, row: &Row) {
        self.samples.push(Sample {
            binary: Binary::New,
            measure: row.measure,
            backend: row.backend,
            scale: row.scale,
            measured: row.measured.clone(),
            cost: row.cost,
        });
    }

    /// One more run of `binary`: revocation (revoking `pool_range` of the pool) and
    /// issuance, as far as `--only` asks for them. The checks it made, and the server's
    /// peak RSS.
    async fn run(
        &mut self,
        cx: &Context<'_>,
        binary: Binary,
        pool_range: std::ops::Range<u64>,
    ) -> anyhow::Result<(Vec<String>, u64)> {
        let path = match binary {
            Binary::New => cx.new_binary,
            Binary::Baseline => self.path.as_path(),
        };
        let name = match binary {
            Binary::New => "new",
            Binary::Baseline => "baseline",
        };
        let server = Server::revokd(
            path,
            cx.url_for_server,
            cx.work,
            &format!("revokd-{}-{}-{name}-{}", cx.backend, cx.scale, pool_range.start),
        )
        .await?;
        eprintln!(
            "{}, {} tokens: {name} revokd ({}) pid {} on {}",
            cx.backend,
            cx.scale,
            path.display(),
            server.pid(),
            server.address
        );
        let revoke = Rc::new(Revoke {
            authorization: basic(seed::APP, &cx.fixture.app_secret),
            set: REVOCATION_POOL,
            next: std::cell::Cell::new(pool_range.start),
            end: pool_range.end,
        });
        let issue = Rc::new(Issue {
            authorization: basic(seed::APP, &cx.fixture.app_secret),
        });
        let measures: [(Measure, &str, Rc<dyn loadgen::Workload>); 2] = [
            (Measure::Revocation, "revocation", revoke.clone()),
            (Measure::Issuance, "issuance", issue),
        ];
        for (measure, what, workload) in measures {
            if !cx.options_only.iter().any(|o| o == what) {
                continue;
            }
            eprintln!("  {what} ({name})");
            let before = cpu::Snapshot::take(server.pid());
            let measured = loadgen::run(server.address, workload, cx.plan).await;
            let cost = before.cost_per_request(server.pid(), measured.answered);
            crate::support::expect_clean(what, &measured)?;
            eprintln!(
                "    {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms{}",
                measured.per_second(),
                measured.p50_ms(),
                measured.p99_ms(),
                cost.map(|c| format!(
                    ", CPU per request: revokd {:.0} µs, PostgreSQL {:.0} µs",
                    c.server_us, c.postgres_us
                ))
                .unwrap_or_default()
            );
            self.samples.push(Sample {
                binary,
                measure,
                backend: cx.backend,
                scale: cx.scale,
                measured,
                cost,
            });
        }
        let mut checks = Vec::new();
        let revoked = revoke.used(pool_range.start);
        if !revoked.is_empty() {
            let check = crate::support::verify_revoked(&server, cx.store, cx.fixture, revoked.clone()).await?;
            let all_set = (binary == Binary::New).then_some(true);
            let bits = seed::verify_bits(cx.store, cx.fixture, cx.pool, revoked, all_set).await?;
            checks.push(format!("{}, {}, {name} binary: {check}{bits}", cx.backend, cx.scale));
        }
        self.checks.extend(checks.iter().cloned());
        let rss = server.peak_rss_kib().unwrap_or(0);
        Ok((checks, rss))
    }

    /// The comparison table: for each figure both runs of each binary and the ratio of
    /// their means.
    pub fn markdown(&self, report: &Report) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Measured {}, against the baseline `{}` ({}), in the run of:\n",
            report.environment,
            self.label,
            self.path.display()
        );
        let _ = writeln!(out, "```sh\n{}\n```\n", report.command);
        let _ = writeln!(
            out,
            "Closed loop, {} connections, {} s warm-up discarded, {} s measured per figure; per \
             table size fresh servers in rounds of this binary, baseline, baseline, this \
             binary, each on its own slice of the revocation pool (whose tokens all have \
             status-list slots). \"with / without\" is the ratio of the runs' mean requests \
             per second (≥ 0.90: within 10%); CPU is µs per request, revokd + PostgreSQL (the \
             processes of the benchmark's database and the server's own), the steadier \
             measure on a shared machine.\n",
            report.plan.connections,
            report.plan.warmup.as_secs_f64(),
            report.plan.measure.as_secs_f64(),
        );
        let _ = writeln!(
            out,
            "| measure | backend | tokens stored | with status lists: req/s | without (`{}`): req/s | with / without | CPU with | CPU without | CPU with / without | p99 ms with / without |",
            self.label
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|");
        let mut keys: Vec<(&'static str, u64, Measure)> = Vec::new();
        for s in &self.samples {
            if !keys.contains(&(s.backend, s.scale, s.measure)) {
                keys.push((s.backend, s.scale, s.measure));
            }
        }
        for (backend, scale, measure) in keys {
            let of = |binary: Binary| -> Vec<&Sample> {
                self.samples
                    .iter()
                    .filter(|s| s.binary == binary && s.backend == backend && s.scale == scale && s.measure == measure)
                    .collect()
            };
            let (new, old) = (of(Binary::New), of(Binary::Baseline));
            let rates = |samples: &[&Sample]| -> String {
                samples
                    .iter()
                    .map(|s| format!("{:.0}", s.measured.per_second()))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let mean = |values: Vec<f64>| -> Option<f64> {
                (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
            };
            let rate = |samples: &[&Sample]| mean(samples.iter().map(|s| s.measured.per_second()).collect());
            let cpu = |samples: &[&Sample]| {
                mean(
                    samples
                        .iter()
                        .filter_map(|s| s.cost)
                        .map(|c| c.server_us + if backend == "postgres" { c.postgres_us } else { 0.0 })
                        .collect(),
                )
            };
            let cpu_text = |samples: &[&Sample]| {
                samples
                    .iter()
                    .filter_map(|s| s.cost)
                    .map(|c| {
                        if backend == "postgres" {
                            format!("{:.0} + {:.0}", c.server_us, c.postgres_us)
                        } else {
                            format!("{:.0}", c.server_us)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let p99 = |samples: &[&Sample]| {
                mean(
                    samples
                        .iter()
                        .filter(|s| s.measured.ok > 0)
                        .map(|s| s.measured.p99_ms())
                        .collect(),
                )
            };
            let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
                (Some(a), Some(b)) if b > 0.0 => Some(a / b),
                _ => None,
            };
            let throughput = ratio(rate(&new), rate(&old));
            let _ = writeln!(
                out,
                "| {} | {backend} | {} | {} | {} | {} | {} | {} | {} | {} / {} |",
                measure.short_label(),
                crate::report::scale_label(scale),
                rates(&new),
                rates(&old),
                throughput.map_or("—".into(), |r| format!(
                    "**{}** {}",
                    significant(r),
                    if r >= 0.90 { "✔" } else { "✘" }
                )),
                cpu_text(&new),
                cpu_text(&old),
                ratio(cpu(&new), cpu(&old)).map_or("—".into(), significant),
                p99(&new).map_or("—".into(), |v| format!("{v:.2}")),
                p99(&old).map_or("—".into(), |v| format!("{v:.2}")),
            );
        }
        let _ = writeln!(out, "\nChecks after the runs:");
        for check in &self.checks {
            let _ = writeln!(out, "- {check}");
        }
        out
    }
}

/// A ratio with two decimals, or two significant digits when it is below 0.1 (a
/// collapse should not read as 0.00).
fn significant(r: f64) -> String {
    if r >= 0.1 || r == 0.0 {
        format!("{r:.2}")
    } else {
        let decimals = (1 - r.log10().floor() as i32).max(2) as usize;
        format!("{r:.decimals$}")
    }
}
