//! What the benchmark's runs share besides the load itself: recording a figure, the
//! checks after a revocation run, `perf` profiles, the scratch PostgreSQL database, and
//! what the report says about the machine and the command. (Moved out of `main.rs`.)

use std::path::Path;

use anyhow::{Context, bail};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use revokd::store::Store;

use crate::cpu;
use crate::loadgen::{self, Measured, Plan};
use crate::report::{Measure, Report, Row};
use crate::seed::{self, Fixture, REVOCATION_POOL};
use crate::servers::Server;
use crate::workloads::{self, basic};

pub(crate) fn push(
    report: &mut Report,
    measure: Measure,
    backend: &'static str,
    scale: u64,
    measured: Measured,
    cost: Option<cpu::Cost>,
) {
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
    report.rows.push(Row {
        measure,
        backend,
        scale,
        measured,
        cost,
        phase: report.ceiling.len(),
    });
}

pub(crate) fn expect_clean(what: &str, measured: &Measured) -> anyhow::Result<()> {
    if measured.is_clean() {
        return Ok(());
    }
    bail!(
        "{what}: {} errors{}, first: {}",
        measured.errors,
        if measured.exhausted {
            ", token pool ran dry (raise --revocation-pool)"
        } else {
            ""
        },
        measured.first_error.as_deref().unwrap_or("-")
    )
}

/// Every token a revocation run was answered 200 for must be revoked in the store, and
/// introspection (over HTTP, on the still running server) must call a sample of them
/// inactive.
pub(crate) async fn verify_revoked(
    server: &Server,
    store: &Store,
    fixture: &Fixture,
    revoked: std::ops::Range<u64>,
) -> anyhow::Result<String> {
    let count = revoked.end - revoked.start;
    let unrevoked = seed::count_unrevoked(store, fixture, REVOCATION_POOL, revoked.clone()).await?;
    if unrevoked > 0 {
        bail!("{unrevoked} of {count} tokens answered as revoked are live in the store");
    }
    let step = (count / 1000).max(1);
    let authorization = basic(seed::RESOURCE_SERVER, &fixture.rs_secret);
    let mut sampled = 0;
    for index in revoked.step_by(step as usize) {
        let mut request = Vec::new();
        workloads::oauth_post(
            &mut request,
            "/oauth2/rest/token/introspect",
            &authorization,
            &format!("token={}", REVOCATION_POOL.text(index)),
        );
        let (status, body) = loadgen::once(server.address, &request).await?;
        if status != 200 || body != br#"{"active":false}"# {
            bail!(
                "revoked token {index} introspects as {status} {}",
                String::from_utf8_lossy(&body)
            );
        }
        sampled += 1;
    }
    Ok(format!(
        "all {count} tokens revoked in the run are revoked in the store; {sampled} sampled over HTTP introspect as {{\"active\":false}}"
    ))
}

/// `perf record` of the server over one measured window (after the warm-up).
pub(crate) struct Profiler(std::process::Child);

impl Profiler {
    pub(crate) fn start(server: &Server, plan: Plan, output: &Path) -> anyhow::Result<Self> {
        if let Some(dir) = output.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let child = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "sleep {warmup}; exec perf record -q --call-graph dwarf,16384 -F 599 -p {pid} -o '{out}' -- sleep {measure}",
                warmup = plan.warmup.as_secs_f64(),
                pid = server.pid(),
                out = output.display(),
                measure = plan.measure.as_secs_f64(),
            ))
            .stdout(std::process::Stdio::null())
            .spawn()
            .context("cannot run perf")?;
        Ok(Self(child))
    }

    pub(crate) fn finish(mut self) {
        let _ = self.0.wait();
    }
}

/// A database of its own on the PostgreSQL server, dropped afterwards.
pub(crate) struct ScratchDatabase {
    server: String,
    pub name: String,
    pub url: String,
}

impl ScratchDatabase {
    pub(crate) async fn create(server: &str) -> anyhow::Result<Self> {
        let name = format!("revokd_bench_{}", std::process::id());
        let mut admin = AsyncPgConnection::establish(server)
            .await
            .with_context(|| format!("cannot reach PostgreSQL at {server}"))?;
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).await?;
        admin.batch_execute(&format!("CREATE DATABASE {name}")).await?;
        let mut url = url::Url::parse(server)?;
        url.set_path(&name);
        Ok(Self {
            server: server.to_owned(),
            name,
            url: url.to_string(),
        })
    }

    pub(crate) async fn drop_it(self) {
        if let Ok(mut admin) = AsyncPgConnection::establish(&self.server).await {
            let _ = admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
                .await;
        }
    }
}

pub(crate) fn environment() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let commit = std::process::Command::new("git")
        .args(["describe", "--always", "--dirty"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    // `bench/run --rev REV`: the revokd measured is that commit's, not the tree's.
    let measured = std::env::var("BENCH_REVOKD_REV")
        .map(|rev| format!(", revokd built from `{rev}`"))
        .unwrap_or_default();
    format!("{date} on {cpu} × {cores} cores, commit `{commit}`{measured}")
}

pub(crate) fn command_line() -> String {
    // As typed to `bench/run`, which turns some of its options into others.
    if let Ok(command) = std::env::var("BENCH_COMMAND") {
        return command;
    }
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    if args.is_empty() {
        "bench/run".into()
    } else {
        format!("bench/run {}", args.join(" "))
    }
}
