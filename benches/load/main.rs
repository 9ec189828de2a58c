//! revokd's load benchmark: the HTTP ceiling, durable revocation, introspection and
//! `client_credentials` issuance on SQLite and PostgreSQL, at two table sizes, plus
//! pgbench's single-statement floor, all in one run so that every figure is a ratio
//! to a baseline measured minutes apart on the same machine. With `--baseline-binary`,
//! revocation and issuance are measured on an older revokd too (`baseline.rs`); the
//! status lists' own figures (fetches, re-rendering, bulk revocation with and without
//! their bits) are in `status_lists.rs`; a revocation policy's cost (revocation with
//! one against without, one evaluation) in `policy.rs`.
//!
//! `bench/run` builds everything with the release profile and runs this; `cargo bench
//! --bench load -- --help` lists the knobs. Loopback only; nothing here is a test.

mod baseline;
mod cpu;
mod loadgen;
mod pgbench;
mod policy;
mod report;
mod seed;
mod servers;
mod status_lists;
mod support;
mod workloads;

use std::cell::Cell;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use revokd::store::DatabaseUrl;
use revokd::store::{Store, StoreOptions};

use loadgen::{Measured, Plan};
use report::{Measure, Report};
use seed::{BACKGROUND, PGBENCH_POOL, REVOCATION_POOL, Seeding};
use servers::Server;
use support::{Profiler, ScratchDatabase, command_line, environment, expect_clean, push, verify_revoked};
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
    /// One-use tokens per revocation run (each request revokes a different one). They
    /// carry status-list slots, so revoking one sets its bit.
    #[arg(long, default_value_t = 250_000)]
    revocation_pool: u64,
    /// An older revokd binary (e.g. from `bench/run --baseline-rev REV`): revocation and
    /// issuance then also run on it, on the same database and tokens, alternating
    /// (this binary, the baseline, the baseline, this binary), reported as ratios.
    #[arg(long, env = "BENCH_BASELINE_BIN")]
    baseline_binary: Option<PathBuf>,
    /// How the baseline is named in the report (default: its file name).
    #[arg(long)]
    baseline_label: Option<String>,
    /// Rounds of this binary, the baseline, the baseline, this binary per table size
    /// (the first round's first run is the main run).
    #[arg(long, default_value_t = 1)]
    baseline_rounds: u64,
    /// Tokens in the status-list benchmark's list (1% of them revoked), and in the
    /// bulk revocations' two clients.
    #[arg(long, default_value_t = 1_000_000)]
    list_tokens: u64,
    /// PostgreSQL server on which a scratch database is created (and dropped).
    #[arg(
        long,
        env = "BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    postgres_url: String,
    /// Where the results sections are written.
    #[arg(long, default_value = "BENCHMARKS.md")]
    out: PathBuf,
    /// Which sections of `--out` this run may rewrite (each only if it measured what it
    /// shows): results, baseline, status-lists, policy.
    #[arg(long, value_delimiter = ',', default_value = "results,baseline,status-lists,policy")]
    sections: Vec<String>,
    /// Scratch directory (SQLite files, server logs); kept when given.
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Only these of revokd's measures: revocation, introspection, issuance,
    /// status-list-fetch (a list's fetches from cache and its re-rendering after a
    /// change), status-list-bulk (bulk revocation with and without the bits, and the
    /// query the rejected design would run per rendering), policy (revocation with a
    /// typical three-condition policy against none, and one evaluation in µs).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "revocation,introspection,issuance,status-list-fetch,status-list-bulk,policy"
    )]
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
    let mut comparison = match &options.baseline_binary {
        Some(path) => Some(baseline::Comparison::new(path, options.baseline_label.clone())?),
        None => None,
    };
    let mut lists: Vec<status_lists::Results> = Vec::new();
    let mut policies: Vec<policy::Results> = Vec::new();
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
                    Outputs {
                        report: &mut report,
                        comparison: comparison.as_mut(),
                        lists: &mut lists,
                        policies: &mut policies,
                    },
                )
                .await?;
            }
            "postgres" => {
                let scratch = ScratchDatabase::create(&options.postgres_url).await?;
                cpu::only_database(Some(&scratch.name));
                let url = DatabaseUrl::Postgres(scratch.url.clone());
                let result = measure_backend(
                    "postgres",
                    &url,
                    &scratch.url,
                    &binary,
                    &options,
                    &scales,
                    &work,
                    Outputs {
                        report: &mut report,
                        comparison: comparison.as_mut(),
                        lists: &mut lists,
                        policies: &mut policies,
                    },
                )
                .await;
                cpu::only_database(None);
                scratch.drop_it().await;
                result?;
            }
            other => bail!("unknown backend {other:?}: sqlite or postgres"),
        }
    }
    report.ceiling.push(ceiling(&work, plan).await?);
    report.wall_seconds = started.elapsed().as_secs_f64();

    // Each section is rewritten only by a run that measured what it shows.
    let mut sections = Vec::new();
    if !report.rows.is_empty() {
        sections.push((report::RESULTS, report.markdown()));
    }
    if let Some(comparison) = comparison.as_ref().filter(|c| !c.is_empty()) {
        sections.push((report::BASELINE, comparison.markdown(&report)));
    }
    if !lists.is_empty() {
        sections.push((report::STATUS_LISTS, status_lists::markdown(&lists, &report)));
    }
    if !policies.is_empty() {
        sections.push((report::POLICY, policy::markdown(&policies, &report)));
    }
    for (markers, section) in sections {
        println!("{section}");
        if !options.sections.iter().any(|s| s == markers.key) {
            eprintln!("{} not written to {} (--sections)", markers.name, options.out.display());
            continue;
        }
        report::write_into(&options.out, markers, &section)
            .with_context(|| format!("cannot write {}", options.out.display()))?;
        eprintln!("{} written to {}", markers.name, options.out.display());
    }
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

/// Where a backend's figures go.
struct Outputs<'a> {
    report: &'a mut Report,
    comparison: Option<&'a mut baseline::Comparison>,
    lists: &'a mut Vec<status_lists::Results>,
    policies: &'a mut Vec<policy::Results>,
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
    outputs: Outputs<'_>,
) -> anyhow::Result<()> {
    let Outputs {
        report,
        mut comparison,
        lists,
        policies,
    } = outputs;
    eprintln!("{backend}: preparing");
    let fixture = seed::prepare(database).await?;
    let store = Store::open(database, &StoreOptions::default()).await?;
    let pool = options.revocation_pool;
    // Every revocation run takes a slice of its own; with a baseline there are four
    // runs per table size and round.
    let runs_per_scale = if comparison.is_some() {
        4 * options.baseline_rounds.max(1)
    } else {
        1
    };
    let pool_seeding = Seeding {
        first_list: Some(seed::next_list(&store, &fixture).await?),
        ..Seeding::plain(
            REVOCATION_POOL,
            0..pool * runs_per_scale * scales.len() as u64,
            &fixture,
        )
    };
    seed::add(database, Some(&store), &fixture, &pool_seeding).await?;
    let mut pool_cursor = 0;
    let pgbench_pool = 200_000;
    if backend == "postgres" {
        seed::add_tokens(database, &fixture, PGBENCH_POOL, 0..pgbench_pool).await?;
    }
    let plan = report.plan;
    let mut stored = 0;
    let mut peak_rss = 0;
    for &scale in scales {
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

        let first = pool_cursor;
        pool_cursor += pool;
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

        let check = verify_revoked(&server, &store, &fixture, revoked.clone()).await?;
        let bits = seed::verify_bits(&store, &fixture, &pool_seeding, revoked, None).await?;
        let found = format!("{check}{bits}");
        if let Some(comparison) = comparison.as_deref_mut() {
            comparison.push_check(format!("{backend}, {scale}, new binary (the main run): {found}"));
        }
        report.checks.push(format!("{backend}, {scale}: {found}"));
        peak_rss = peak_rss.max(server.peak_rss_kib().unwrap_or(0));
        drop(server);

        if let Some(comparison) = comparison.as_deref_mut() {
            let context = baseline::Context {
                backend,
                scale,
                url_for_server,
                new_binary: binary,
                options_only: &options.only,
                plan,
                work,
                store: &store,
                fixture: &fixture,
                pool: &pool_seeding,
            };
            let rss = comparison
                .rounds(&context, report, options.baseline_rounds, &mut pool_cursor, pool)
                .await?;
            peak_rss = peak_rss.max(rss);
        }

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

    if options.only.iter().any(|o| o == "policy") {
        let context = policy::Context {
            backend,
            database,
            url_for_server,
            binary,
            plan: report.plan,
            work,
            fixture: &fixture,
            tokens: (pool / 2).max(1),
        };
        policies.push(policy::measure(&context).await?);
    }

    let fetch = options.only.iter().any(|o| o == "status-list-fetch");
    let bulk = options.only.iter().any(|o| o == "status-list-bulk");
    if fetch || bulk {
        let context = status_lists::Context {
            backend,
            database,
            url_for_server,
            binary,
            plan,
            work,
            store: &store,
            fixture: &fixture,
            tokens: options.list_tokens,
        };
        lists.push(status_lists::measure(&context, fetch, bulk).await?);
    }
    Ok(())
}
