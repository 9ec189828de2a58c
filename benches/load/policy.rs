//! The cost of a revocation policy (SPEC §3.12), once per backend after the load runs:
//! revocation throughput with a typical policy of three conditions installed on the
//! bench domain against none, on the same server, alternating (none, policy, policy,
//! none) so drift falls on both sides; and one evaluation of that policy's compiled
//! program, timed in the benchmark's process (10,000 evaluations).

use std::cell::Cell;
use std::fmt::Write as _;
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::bail;
use chrono::{DateTime, Utc};
use revokd::domain::ClientType;
use revokd::domain::policy::{Activation, ClientFacts, Limits, Policy, RequestFacts, TokenFacts};
use revokd::domain::revocation::{RevocationEndpoint, RevokeLevel, TokenKind, TokenTypeParam};
use revokd::store::DatabaseUrl;

use crate::cpu::{self, Cost};
use crate::loadgen::{self, Measured, Plan};
use crate::report::Report;
use crate::seed::{self, Fixture, POLICY_POOL};
use crate::servers::Server;
use crate::support::expect_clean;
use crate::workloads::{Revoke, basic};

/// The typical policy: the owner revokes, an unexpired token, not a protected one.
/// Every bench revocation passes all three, so both runs do the same work but the
/// policy's.
pub const TYPICAL: &str =
    "token.client_id == client.client_id && token.expires_at > now && !('protected' in token.scopes)";
/// Evaluations timed in process.
const EVALUATIONS: u32 = 10_000;

pub struct Context<'a> {
    pub backend: &'static str,
    pub database: &'a DatabaseUrl,
    pub url_for_server: &'a str,
    pub binary: &'a Path,
    pub plan: Plan,
    pub work: &'a Path,
    pub fixture: &'a Fixture,
    /// Tokens per run.
    pub tokens: u64,
}

struct Run {
    with_policy: bool,
    measured: Measured,
    cost: Option<Cost>,
}

/// One backend's figures.
pub struct Results {
    backend: &'static str,
    runs: Vec<Run>,
}

pub async fn measure(context: &Context<'_>) -> anyhow::Result<Results> {
    let Context {
        backend,
        database,
        url_for_server,
        binary,
        plan,
        work,
        fixture,
        tokens,
    } = *context;
    eprintln!("{backend}: revocation with and without a policy");
    seed::add_tokens(database, fixture, POLICY_POOL, 0..4 * tokens).await?;
    let server = Server::revokd(binary, url_for_server, work, &format!("revokd-{backend}-policy")).await?;
    let mut runs = Vec::new();
    for (i, with_policy) in [false, true, true, false].into_iter().enumerate() {
        set_policy(&server, with_policy).await?;
        let first = i as u64 * tokens;
        let revoke = Rc::new(Revoke {
            authorization: basic(seed::APP, &fixture.app_secret),
            set: POLICY_POOL,
            next: Cell::new(first),
            end: first + tokens,
        });
        let before = cpu::Snapshot::take(server.pid());
        let measured = loadgen::run(server.address, revoke, plan).await;
        let cost = before.cost_per_request(server.pid(), measured.answered);
        let name = if with_policy {
            "revocation with a policy"
        } else {
            "revocation without"
        };
        expect_clean(name, &measured)?;
        eprintln!("    {name}: {:.0} req/s", measured.per_second());
        runs.push(Run {
            with_policy,
            measured,
            cost,
        });
    }
    set_policy(&server, false).await?;
    Ok(Results { backend, runs })
}

/// Installs [`TYPICAL`] on the bench domain, or removes any policy, through the
/// operator API (so the server drops its cached copy).
async fn set_policy(server: &Server, with_policy: bool) -> anyhow::Result<()> {
    let path = format!("/admin/v1/domains/{}/revocation-policy", seed::DOMAIN);
    let body = serde_json::json!({ "expression": TYPICAL }).to_string();
    let request = if with_policy {
        format!(
            "PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            seed::ADMIN_TOKEN,
            body.len()
        )
    } else {
        format!(
            "DELETE {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\r\n",
            seed::ADMIN_TOKEN
        )
    };
    let (status, answer) = loadgen::once(server.address, request.as_bytes()).await?;
    // Removing a policy the domain does not have is a 404: nothing to remove.
    let done = status == 200 || (status == 404 && !with_policy);
    if !done {
        bail!(
            "setting the policy ({with_policy}): {status} {}",
            String::from_utf8_lossy(&answer)
        );
    }
    Ok(())
}

/// One evaluation of [`TYPICAL`]'s compiled program, and its compilation.
struct Micro {
    evaluation: Duration,
    compilation: Duration,
}

fn micro() -> anyhow::Result<Micro> {
    let started = Instant::now();
    let policy = Policy::compile(TYPICAL)?;
    let compilation = started.elapsed();
    let at = |secs: i64| DateTime::<Utc>::from_timestamp(secs, 0).unwrap_or_default();
    let activation = Activation {
        client: ClientFacts {
            client_id: seed::APP.into(),
            client_type: ClientType::Confidential,
            domain_admin: false,
            scopes: vec!["openid".into()],
        },
        token: TokenFacts {
            kind: TokenKind::Access,
            client_id: seed::APP.into(),
            username: None,
            scopes: vec!["openid".into()],
            issued_at: at(1_800_000_000),
            expires_at: at(1_800_003_600),
            active: true,
        },
        request: RequestFacts {
            revoke_level: RevokeLevel::None,
            token_type: TokenTypeParam::None,
            endpoint: RevocationEndpoint::Oam,
            reason: None,
        },
        now: at(1_800_000_060),
    };
    let started = Instant::now();
    for _ in 0..EVALUATIONS {
        let decision = policy.evaluate(std::hint::black_box(&activation), Limits::default());
        if !decision.allow || decision.error.is_some() {
            bail!("the typical policy did not allow: {decision:?}");
        }
    }
    Ok(Micro {
        evaluation: started.elapsed() / EVALUATIONS,
        compilation,
    })
}

/// The policy section of `BENCHMARKS.md`.
pub fn markdown(results: &[Results], report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Measured {}, in the run of:\n", report.environment);
    let _ = writeln!(out, "```sh\n{}\n```\n", report.command);
    let _ = writeln!(
        out,
        "Revocation (`POST /oauth2/rest/token/revoke`, level `NONE`, one live token per request) \
         on one server, without a policy and with the typical one below, alternating (none, \
         policy, policy, none); the closed loop of {} connections, {} s warm-up, {} s measured \
         per run. The policy:\n\n```cel\n{TYPICAL}\n```\n",
        report.plan.connections,
        report.plan.warmup.as_secs_f64(),
        report.plan.measure.as_secs_f64(),
    );
    let _ = writeln!(
        out,
        "| backend | revocations/s without | with the policy | with / without | p50 / p99 ms without | with | revokd CPU µs per request without | with |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|");
    for result in results {
        let side =
            |with_policy: bool| -> Vec<&Run> { result.runs.iter().filter(|r| r.with_policy == with_policy).collect() };
        let (without, with) = (side(false), side(true));
        let mean = |runs: &[&Run], f: &dyn Fn(&Run) -> Option<f64>| {
            let values: Vec<f64> = runs.iter().filter_map(|r| f(r)).collect();
            (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
        };
        let rate = |runs: &[&Run]| mean(runs, &|r| Some(r.measured.per_second()));
        let p50 = |runs: &[&Run]| mean(runs, &|r| Some(r.measured.p50_ms()));
        let p99 = |runs: &[&Run]| mean(runs, &|r| Some(r.measured.p99_ms()));
        let cpu = |runs: &[&Run]| mean(runs, &|r| r.cost.as_ref().map(|c| c.server_us));
        let show = |v: Option<f64>, digits: usize| v.map_or("–".into(), |v| format!("{v:.digits$}"));
        let ratio = match (rate(&with), rate(&without)) {
            (Some(with), Some(without)) if without > 0.0 => format!("{:.2}", with / without),
            _ => "–".into(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {ratio} | {} / {} | {} / {} | {} | {} |",
            result.backend,
            show(rate(&without), 0),
            show(rate(&with), 0),
            show(p50(&without), 2),
            show(p99(&without), 2),
            show(p50(&with), 2),
            show(p99(&with), 2),
            show(cpu(&without), 1),
            show(cpu(&with), 1),
        );
    }
    match micro() {
        Ok(micro) => {
            let _ = writeln!(
                out,
                "\nOne evaluation of the compiled policy, in the benchmark's process (the mean of \
                 {EVALUATIONS}, the CEL variables built each time, as a revocation does): **{:.1} µs**; \
                 compiling it (once per process and change): {:.2} ms.",
                micro.evaluation.as_secs_f64() * 1e6,
                micro.compilation.as_secs_f64() * 1e3,
            );
        }
        Err(error) => {
            let _ = writeln!(out, "\nThe in-process evaluation could not be timed: {error}");
        }
    }
    out
}
