//! revokd's load benchmark: the HTTP ceiling, durable revocation, introspection and
//! `client_credentials` issuance on SQLite and PostgreSQL, at two table sizes, plus
//! pgbench's single-statement floor, all in one run so that every figure is a ratio
//! to a baseline measured minutes apart on the same machine.
//!
//! `bench/run` builds everything with the release profile and runs this; `cargo bench
//! --bench load -- --help` lists the knobs. Loopback only; nothing here is a test.

mod cpu;
mod loadgen;
mod pgbench;
mod report;
mod seed;
mod servers;
mod workloads;

use std::cell::Cell;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use revokd::store::DatabaseUrl;
use revokd::store::{Store, StoreOptions};

use loadgen::{Measured, Plan};
use report::{Measure, Report, Row};
use seed::{BACKGROUND, Fixture, PGBENCH_POOL, REVOCATION_POOL};
use servers::Server;
use workloads::{Introspect, Issue, Revoke, basic};

#[derive(Debug, Parser)]
#[command(about = "revokd load benchmark (see BENCHMARKS.md)")]
struct Options {
    /// Concurrent keep-alive connections (closed loop).
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Seconds of warm-up per figure, discarded.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Seconds measured per figure.
    #[arg(long, default_value_t = 6)]
    duration: u64,
    /// Tokens stored for introspection, one run per size, ascending.
    #[arg(long, value_delimiter = ',', default_value = "10000,10000000")]
    scales: Vec<u64>,
    /// Backends to measure.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    backends: Vec<String>,
    /// One-use tokens per revocation run (each request revokes a different one).
    #[arg(long, default_value_t = 400_000)]
    revocation_pool: u64,
    /// PostgreSQL server on which a scratch database is created (and dropped).
    #[arg(
        long,
        env = "BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    postgres_url: String,
    /// Where the results section is written.
    #[arg(long, default_value = "BENCHMARKS.md")]
    out: PathBuf,
    /// Scratch directory (SQLite files, server logs); kept when given.
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Only these of revokd's measures: revocation, introspection, issuance.
    #[arg(long, value_delimiter = ',', default_value = "revocation,introspection,issuance")]
    only: Vec<String>,
    /// Record a `perf record -g` profile of revokd during each measured window into this
    /// directory (one file per figure; `perf report -i FILE`).
    #[arg(long)]
    perf: Option<PathBuf>,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
    /// Internal: serve the ceiling's `GET /hello` on this address.
    #[arg(long, hide = true)]
    serve_hello: Option<SocketAddr>,
}

fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    if let Some(address) = options.serve_hello {
        return Ok(servers::serve_hello(address)?);
    }
    // One thread: the generator shares two cores with the server it measures, and the
    // ceiling is measured with the same generator, so its cost cancels out of ratios.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(run(options))
}

async fn run(options: Options) -> anyhow::Result<()> {
    let started = Instant::now();
    let plan = Plan {
        connections: options.connections,
        warmup: Duration::from_secs(options.warmup),
        measure: Duration::from_secs(options.duration),
    };
    let mut scales = options.scales.clone();
    scales.sort_unstable();
    let work = match &options.work_dir {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir().join(format!("revokd-bench-{}", std::process::id())),
    };
    std::fs::create_dir_all(&work)?;
    let binary = servers::revokd_binary()?;
    let mut report = Report {
        plan,
        ceiling: Vec::new(),
        rows: Vec::new(),
        peak_rss_kib: Vec::new(),
        checks: Vec::new(),
        environment: environment(),
        command: command_line(),
        wall_seconds: 0.0,
    };

    for backend in &options.backends {
        match backend.as_str() {
            "sqlite" => {
                let path = work.join("bench.db");
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
                let url = DatabaseUrl::Sqlite(path.display().to_string());
                measure_backend(
                    "sqlite",
                    &url,
                    &path.display().to_string(),
                    &binary,
                    &options,
                    &scales,
                    &work,
                    &mut report,
                )
                .await?;
            }
            "postgres" => {
                let scratch = ScratchDatabase::create(&options.postgres_url).await?;
                let url = DatabaseUrl::Postgres(scratch.url.clone());
                let result = measure_backend(
                    "postgres",
                    &url,
                    &scratch.url,
                    &binary,
                    &options,
                    &scales,
                    &work,
                    &mut report,
                )
                .await;
                scratch.drop_it().await;
                result?;
            }
            other => bail!("unknown backend {other:?}: sqlite or postgres"),
        }
    }
    report.ceiling.push(ceiling(&work, plan).await?);
    report.wall_seconds = started.elapsed().as_secs_f64();

    let section = report.markdown();
    println!("{section}");
    report::write_into(&options.out, &section).with_context(|| format!("cannot write {}", options.out.display()))?;
    eprintln!("results written to {}", options.out.display());
    if options.work_dir.is_none() {
        let _ = std::fs::remove_dir_all(&work);
    }
    Ok(())
}

async fn ceiling(work: &Path, plan: Plan) -> anyhow::Result<Measured> {
    eprintln!("ceiling: actix-web GET /hello");
    let server = Server::hello(work).await?;
    let before = cpu::Snapshot::take(server.pid());
    let measured = loadgen::run(server.address, Rc::new(workloads::Hello), plan).await;
    if let Some(cost) = before.cost_per_request(server.pid(), measured.answered) {
        eprintln!(
            "    {:.0} req/s, server CPU per request {:.1} µs",
            measured.per_second(),
            cost.server_us
        );
    }
    expect_clean("ceiling", &measured)?;
    Ok(measured)
}

#[allow(clippy::too_many_arguments)]
async fn measure_backend(
    backend: &'static str,
    database: &DatabaseUrl,
    url_for_server: &str,
    binary: &Path,
    options: &Options,
    scales: &[u64],
    work: &Path,
    report: &mut Report,
) -> anyhow::Result<()> {
    eprintln!("{backend}: preparing");
    let fixture = seed::prepare(database).await?;
    let store = Store::open(database, &StoreOptions::default()).await?;
    let pool = options.revocation_pool;
    seed::add_tokens(database, &fixture, REVOCATION_POOL, 0..pool * scales.len() as u64).await?;
    let pgbench_pool = 200_000;
    if backend == "postgres" {
        seed::add_tokens(database, &fixture, PGBENCH_POOL, 0..pgbench_pool).await?;
    }
    let plan = report.plan;
    let mut stored = 0;
    let mut peak_rss = 0;
    for (run, &scale) in scales.iter().enumerate() {
        seed::add_tokens(database, &fixture, BACKGROUND, stored..scale).await?;
        stored = scale;
        // The host's speed drifts over minutes: each phase gets a ceiling of its own,
        // measured right before it (and the next one right after).
        report.ceiling.push(ceiling(work, plan).await?);
        let server = Server::revokd(binary, url_for_server, work, &format!("revokd-{backend}-{scale}")).await?;
        eprintln!(
            "{backend}, {scale} tokens: revokd pid {} on {}",
            server.pid(),
            server.address
        );

        let first = run as u64 * pool;
        let revoke = Rc::new(Revoke {
            authorization: basic(seed::APP, &fixture.app_secret),
            set: REVOCATION_POOL,
            next: Cell::new(first),
            end: first + pool,
        });
        let introspect = Rc::new(Introspect {
            authorization: basic(seed::RESOURCE_SERVER, &fixture.rs_secret),
            set: BACKGROUND,
            count: scale,
            rng: Cell::new(0x9e37_79b9_7f4a_7c15 ^ scale),
            expect_active: true,
        });
        let issue = Rc::new(Issue {
            authorization: basic(seed::APP, &fixture.app_secret),
        });
        let measures: [(Measure, &str, Rc<dyn loadgen::Workload>); 3] = [
            (Measure::Revocation, "revocation", revoke.clone()),
            (Measure::Introspection, "introspection", introspect),
            (Measure::Issuance, "issuance", issue),
        ];
        for (measure, name, workload) in measures {
            if !options.only.iter().any(|o| o == name) {
                continue;
            }
            eprintln!("  {name}");
            let profile = match &options.perf {
                Some(dir) => Some(Profiler::start(
                    &server,
                    plan,
                    &dir.join(format!("{backend}-{name}-{scale}.data")),
                )?),
                None => None,
            };
            let before = cpu::Snapshot::take(server.pid());
            let measured = loadgen::run(server.address, workload, plan).await;
            let cost = before.cost_per_request(server.pid(), measured.answered);
            if let Some(profile) = profile {
                profile.finish();
            }
            expect_clean(name, &measured)?;
            push(report, measure, backend, scale, measured, cost);
        }
        let revoked = revoke.used(first);

        let check = verify_revoked(&server, &store, &fixture, revoked).await?;
        report.checks.push(format!("{backend}, {}: {check}", scale));
        peak_rss = peak_rss.max(server.peak_rss_kib().unwrap_or(0));
        drop(server);

        if let DatabaseUrl::Postgres(url) = database {
            let defines = [("domain", fixture.domain_id.to_string())];
            eprintln!("  pgbench UPDATE");
            let update = format!(
                "\\set i random(0, {last})\n\
                 UPDATE tokens SET revoked_at = 1, revoked_by = 'pgbench', revoked_reason = 'pgbench' \
                 WHERE domain_id = :domain AND token_hash = sha256(convert_to({text}, 'UTF8'));\n",
                last = pgbench_pool - 1,
                text = PGBENCH_POOL.pgbench_text(),
            );
            let measured = pgbench::run(url, &update, &defines, plan, work)?;
            push(report, Measure::PgbenchUpdate, backend, scale, measured, None);
            eprintln!("  pgbench SELECT");
            let select = format!(
                "\\set i random(0, {last})\n\
                 SELECT * FROM tokens WHERE domain_id = :domain AND token_hash = sha256(convert_to({text}, 'UTF8'));\n",
                last = scale - 1,
                text = BACKGROUND.pgbench_text(),
            );
            let measured = pgbench::run(url, &select, &defines, plan, work)?;
            push(report, Measure::PgbenchSelect, backend, scale, measured, None);
        }
    }
    report.peak_rss_kib.push((backend, peak_rss));
    Ok(())
}

fn push(
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

fn expect_clean(what: &str, measured: &Measured) -> anyhow::Result<()> {
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
async fn verify_revoked(
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
struct Profiler(std::process::Child);

impl Profiler {
    fn start(server: &Server, plan: Plan, output: &Path) -> anyhow::Result<Self> {
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

    fn finish(mut self) {
        let _ = self.0.wait();
    }
}

/// A database of its own on the PostgreSQL server, dropped afterwards.
struct ScratchDatabase {
    server: String,
    name: String,
    url: String,
}

impl ScratchDatabase {
    async fn create(server: &str) -> anyhow::Result<Self> {
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

    async fn drop_it(self) {
        if let Ok(mut admin) = AsyncPgConnection::establish(&self.server).await {
            let _ = admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
                .await;
        }
    }
}

fn environment() -> String {
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
    format!("{date} on {cpu} × {cores} cores, commit `{commit}`")
}

fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    if args.is_empty() {
        "bench/run".into()
    } else {
        format!("bench/run {}", args.join(" "))
    }
}
