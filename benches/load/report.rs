//! Turns a run's figures into the results section of `BENCHMARKS.md`: every figure as a
//! ratio to a baseline measured in the same run, with p50/p99, and the targets of the
//! benchmark issue checked against them.

use std::fmt::Write;

use crate::cpu::Cost;
use crate::loadgen::{Measured, Plan};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    Revocation,
    Introspection,
    Issuance,
    PgbenchUpdate,
    PgbenchSelect,
}

impl Measure {
    /// The measure in a word or two.
    pub fn short_label(self) -> &'static str {
        match self {
            Self::Revocation => "revocation",
            Self::Introspection => "introspection",
            Self::Issuance => "client_credentials issuance",
            Self::PgbenchUpdate => "pgbench UPDATE",
            Self::PgbenchSelect => "pgbench SELECT",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Revocation => "revocation (durable, a distinct live token each)",
            Self::Introspection => "introspection (live tokens, uniform over the table)",
            Self::Issuance => "client_credentials issuance",
            Self::PgbenchUpdate => "pgbench `UPDATE tokens … WHERE token_hash = …`",
            Self::PgbenchSelect => "pgbench `SELECT … FROM tokens WHERE token_hash = …`",
        }
    }
}

/// A target of the benchmark issue: its name, the goal, and the measured ratio at a
/// table size.
type Target<'a> = (&'static str, f64, &'a dyn Fn(u64) -> Option<f64>);

pub struct Row {
    pub measure: Measure,
    pub backend: &'static str,
    pub scale: u64,
    pub measured: Measured,
    pub cost: Option<Cost>,
    /// How many ceilings were measured before this figure: its own ceiling is the mean
    /// of the one just before and the one just after.
    pub phase: usize,
}

pub struct Report {
    pub plan: Plan,
    pub ceiling: Vec<Measured>,
    pub rows: Vec<Row>,
    pub peak_rss_kib: Vec<(&'static str, u64)>,
    pub checks: Vec<String>,
    pub environment: String,
    pub command: String,
    pub wall_seconds: f64,
}

impl Report {
    fn ceiling(&self) -> f64 {
        let rates: Vec<f64> = self.ceiling.iter().map(Measured::per_second).collect();
        rates.iter().sum::<f64>() / rates.len().max(1) as f64
    }

    /// The ceiling of a phase: the mean of the measurements just before and after it.
    fn ceiling_of_phase(&self, phase: usize) -> f64 {
        let around: Vec<f64> = [phase.checked_sub(1), Some(phase)]
            .into_iter()
            .flatten()
            .filter_map(|i| self.ceiling.get(i))
            .map(Measured::per_second)
            .collect();
        if around.is_empty() {
            self.ceiling()
        } else {
            around.iter().sum::<f64>() / around.len() as f64
        }
    }

    /// A figure as a ratio to its own phase's ceiling.
    fn to_ceiling(&self, measure: Measure, backend: &str, scale: u64) -> Option<f64> {
        let row = self
            .rows
            .iter()
            .find(|r| r.measure == measure && r.backend == backend && r.scale == scale)?;
        Some(row.measured.per_second() / self.ceiling_of_phase(row.phase))
    }

    fn find(&self, measure: Measure, backend: &str, scale: u64) -> Option<&Measured> {
        self.rows
            .iter()
            .find(|r| r.measure == measure && r.backend == backend && r.scale == scale)
            .map(|r| &r.measured)
    }

    fn scales(&self) -> Vec<u64> {
        let mut scales: Vec<u64> = self.rows.iter().map(|r| r.scale).collect();
        scales.sort_unstable();
        scales.dedup();
        scales
    }

    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let ceiling = self.ceiling();
        let _ = writeln!(out, "Measured {}, in {:.0} s:\n", self.environment, self.wall_seconds);
        let _ = writeln!(out, "```sh\n{}\n```\n", self.command);
        let _ = writeln!(
            out,
            "Closed loop, {} connections, {} s warm-up discarded, {} s measured per figure. \
             Ceiling (actix-web `GET /hello`, same profile), measured before each phase and at \
             the end: {} req/s, mean **{:.0} req/s**; each figure is divided by the mean of the \
             ceilings just before and after it.\n",
            self.plan.connections,
            self.plan.warmup.as_secs_f64(),
            self.plan.measure.as_secs_f64(),
            self.ceiling
                .iter()
                .map(|m| format!("{:.0}", m.per_second()))
                .collect::<Vec<_>>()
                .join(", "),
            ceiling,
        );

        let _ = writeln!(out, "### Targets\n");
        let scales = self.scales();
        let _ = write!(out, "| target | goal |");
        for scale in &scales {
            let _ = write!(out, " {} tokens |", scale_label(*scale));
        }
        let _ = writeln!(out);
        let _ = write!(out, "|---|---|");
        for _ in &scales {
            let _ = write!(out, "---|");
        }
        let _ = writeln!(out);
        let ratio_of = |m: Option<&Measured>, base: Option<f64>| -> Option<f64> {
            Some(m?.per_second() / base.filter(|b| *b > 0.0)?)
        };
        let targets: [Target<'_>; 6] = [
            ("SQLite revocations / ceiling", 0.35, &|s| {
                self.to_ceiling(Measure::Revocation, "sqlite", s)
            }),
            ("PostgreSQL revocations / pgbench UPDATE", 2.0, &|s| {
                ratio_of(
                    self.find(Measure::Revocation, "postgres", s),
                    self.find(Measure::PgbenchUpdate, "postgres", s)
                        .map(Measured::per_second),
                )
            }),
            ("SQLite introspections / ceiling", 0.60, &|s| {
                self.to_ceiling(Measure::Introspection, "sqlite", s)
            }),
            ("PostgreSQL introspections / pgbench SELECT", 1.0, &|s| {
                ratio_of(
                    self.find(Measure::Introspection, "postgres", s),
                    self.find(Measure::PgbenchSelect, "postgres", s)
                        .map(Measured::per_second),
                )
            }),
            ("SQLite issuance / ceiling", 0.15, &|s| {
                self.to_ceiling(Measure::Issuance, "sqlite", s)
            }),
            ("PostgreSQL issuance / ceiling", 0.15, &|s| {
                self.to_ceiling(Measure::Issuance, "postgres", s)
            }),
        ];
        for (name, goal, ratio) in targets {
            let _ = write!(out, "| {name} | ≥ {goal:.2} |");
            for scale in &scales {
                let _ = write!(out, " {} |", verdict(ratio(*scale), goal, true));
            }
            let _ = writeln!(out);
        }
        let _ = write!(out, "| worst p99 of revokd's runs (ms) | ≤ 10 |");
        for scale in &scales {
            let worst = self
                .rows
                .iter()
                .filter(|r| r.scale == *scale && !matches!(r.measure, Measure::PgbenchUpdate | Measure::PgbenchSelect))
                .map(|r| r.measured.p99_ms())
                .fold(None, |a: Option<f64>, b| Some(a.map_or(b, |a| a.max(b))));
            let _ = write!(out, " {} |", verdict(worst, 10.0, false));
        }
        let _ = writeln!(out);
        if let [small, .., large] = scales[..] {
            let worst = self
                .rows
                .iter()
                .filter(|r| r.scale == large && !matches!(r.measure, Measure::PgbenchUpdate | Measure::PgbenchSelect))
                .filter_map(|r| Some(r.measured.per_second() / self.find(r.measure, r.backend, small)?.per_second()))
                .fold(None, |a: Option<f64>, b| Some(a.map_or(b, |a| a.min(b))));
            let _ = writeln!(
                out,
                "| worst {} / {} figure of revokd | ≥ 0.90 | {} |",
                scale_label(large),
                scale_label(small),
                verdict(worst, 0.90, true)
            );
        }
        let worst_rss = self.peak_rss_kib.iter().map(|(_, kib)| *kib).max();
        let _ = writeln!(
            out,
            "| peak RSS of revokd (MiB) | ≤ 256 | {} |",
            verdict(worst_rss.map(|k| k as f64 / 1024.0), 256.0, false)
        );

        let _ = writeln!(out, "\n### Every figure\n");
        let _ = writeln!(
            out,
            "| measure | backend | tokens stored | req/s | × ceiling | p50 ms | p99 ms | CPU µs/req: revokd + PostgreSQL | errors |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|");
        for (i, m) in self.ceiling.iter().enumerate() {
            let when = if i + 1 == self.ceiling.len() {
                "at the end".to_owned()
            } else {
                self.rows.iter().find(|r| r.phase == i + 1).map_or("—".to_owned(), |r| {
                    format!("before {} at {}", r.backend, scale_label(r.scale))
                })
            };
            let _ = writeln!(
                out,
                "| ceiling: actix-web `GET /hello` ({when}) | — | — | {:.0} | {:.2} | {:.2} | {:.2} | — | {} |",
                m.per_second(),
                m.per_second() / ceiling,
                m.p50_ms(),
                m.p99_ms(),
                m.errors
            );
        }
        for row in &self.rows {
            let m = &row.measured;
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {}{} |",
                row.measure.label(),
                row.backend,
                scale_label(row.scale),
                m.per_second(),
                m.per_second() / ceiling,
                m.p50_ms(),
                m.p99_ms(),
                row.cost.map_or("—".into(), |c| if row.backend == "postgres" {
                    format!("{:.0} + {:.0}", c.server_us, c.postgres_us)
                } else {
                    format!("{:.0}", c.server_us)
                }),
                m.errors,
                if m.exhausted { " (token pool ran dry)" } else { "" },
            );
        }
        let _ = writeln!(out, "\nPeak RSS of revokd (VmHWM over all its runs on a backend):");
        for (backend, kib) in &self.peak_rss_kib {
            let _ = writeln!(out, "- {backend}: {:.1} MiB", *kib as f64 / 1024.0);
        }
        let _ = writeln!(out, "\nChecks after the runs:");
        for check in &self.checks {
            let _ = writeln!(out, "- {check}");
        }
        out
    }
}

pub fn scale_label(scale: u64) -> String {
    let exponent = (scale as f64).log10();
    if scale > 0 && (exponent - exponent.round()).abs() < 1e-9 {
        format!("10^{}", exponent.round() as u32)
    } else {
        scale.to_string()
    }
}

fn verdict(value: Option<f64>, goal: f64, at_least: bool) -> String {
    match value {
        None => "not measured".into(),
        Some(v) => {
            let met = if at_least { v >= goal } else { v <= goal };
            format!("{v:.2} {}", if met { "✔" } else { "✘" })
        }
    }
}

/// A part of `BENCHMARKS.md` that `bench/run` writes: what lies between its two
/// markers. Each is rewritten only by a run that measured what it shows, so the others
/// (and the hand-written text around them) stay as they were.
#[derive(Debug, Clone, Copy)]
pub struct Markers {
    /// What `--sections` calls it.
    pub key: &'static str,
    pub name: &'static str,
    start: &'static str,
    end: &'static str,
    /// The heading of the section created when the file has no such markers yet.
    heading: &'static str,
}

/// The load figures and targets above.
pub const RESULTS: Markers = Markers {
    key: "results",
    name: "results",
    start: "<!-- results:start (written by bench/run) -->",
    end: "<!-- results:end -->",
    heading: "## Results",
};

/// Revocation and issuance against a baseline binary (`baseline.rs`).
pub const BASELINE: Markers = Markers {
    key: "baseline",
    name: "baseline comparison",
    start: "<!-- baseline:start (written by bench/run --baseline-rev) -->",
    end: "<!-- baseline:end -->",
    heading: "## Against a baseline binary",
};

/// The status lists' own figures (`status_lists.rs`).
pub const STATUS_LISTS: Markers = Markers {
    key: "status-lists",
    name: "status-list figures",
    start: "<!-- status-lists:start (written by bench/run) -->",
    end: "<!-- status-lists:end -->",
    heading: "## Status lists",
};

/// Revocation with a policy against without, and one evaluation (`policy.rs`).
pub const POLICY: Markers = Markers {
    key: "policy",
    name: "revocation policy figures",
    start: "<!-- policy:start (written by bench/run) -->",
    end: "<!-- policy:end -->",
    heading: "## Revocation policies",
};

/// Replaces what lies between `markers` in `BENCHMARKS.md` (appending a section with
/// them if the file has none); everything else in the file stays.
pub fn write_into(path: &std::path::Path, markers: Markers, section: &str) -> std::io::Result<()> {
    let (start_marker, end_marker) = (markers.start, markers.end);
    let existing = std::fs::read_to_string(path).unwrap_or_default();
    let between = existing.find(start_marker).and_then(|start| {
        let end = start + existing[start..].find(end_marker)?;
        Some((start, end + end_marker.len()))
    });
    let replaced = match between {
        Some((start, end)) => format!(
            "{}{start_marker}\n{section}{end_marker}{}",
            &existing[..start],
            &existing[end..]
        ),
        None => format!(
            "{existing}\n{}\n\n{start_marker}\n{section}{end_marker}\n",
            markers.heading
        ),
    };
    std::fs::write(path, replaced)
}
