//! PostgreSQL's own floor: pgbench running the single statement revokd's hot path
//! boils down to, against the same table, at the same concurrency. Each transaction's
//! latency comes from pgbench's per-transaction log, so p50/p99 compare like for like.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};
use hdrhistogram::Histogram;

use crate::loadgen::{Measured, Plan};

/// Runs `script` with pgbench (`-M prepared`, `plan.connections` clients): a warm-up
/// run first, thrown away, then the measured one.
pub fn run(
    database_url: &str,
    script: &str,
    defines: &[(&str, String)],
    plan: Plan,
    work: &Path,
) -> anyhow::Result<Measured> {
    let script_path = work.join("pgbench.sql");
    std::fs::write(&script_path, script)?;
    let logs = work.join("pgbench-logs");
    let _ = std::fs::remove_dir_all(&logs);
    std::fs::create_dir_all(&logs)?;
    let warmup = plan.warmup.as_secs().max(1);
    pgbench(database_url, &script_path, defines, plan.connections, warmup, None)?;
    let seconds = plan.measure.as_secs().max(1);
    let output = pgbench(
        database_url,
        &script_path,
        defines,
        plan.connections,
        seconds,
        Some(&logs),
    )?;
    let transactions = output
        .lines()
        .find_map(|line| line.strip_prefix("number of transactions actually processed: "))
        .and_then(|n| n.trim().parse::<u64>().ok())
        .context("pgbench printed no transaction count")?;
    let failed = output
        .lines()
        .find_map(|line| line.strip_prefix("number of failed transactions: "))
        .and_then(|n| n.split_whitespace().next())
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0);
    let mut latency_us = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    for entry in std::fs::read_dir(&logs)? {
        let text = std::fs::read_to_string(entry?.path())?;
        // "client_id transaction_no time script_no time_epoch time_us": `time` is the
        // transaction's latency in microseconds.
        for micros in text.lines().filter_map(|l| l.split(' ').nth(2)?.parse::<u64>().ok()) {
            latency_us.saturating_record(micros.max(1));
        }
    }
    Ok(Measured {
        ok: transactions,
        answered: transactions,
        errors: failed,
        first_error: None,
        exhausted: false,
        seconds: seconds as f64,
        latency_us,
    })
}

fn pgbench(
    database_url: &str,
    script: &Path,
    defines: &[(&str, String)],
    clients: usize,
    seconds: u64,
    log_dir: Option<&Path>,
) -> anyhow::Result<String> {
    let mut command = Command::new("pgbench");
    command
        .args(["--no-vacuum", "--protocol=prepared", "--jobs=2"])
        .arg(format!("--client={clients}"))
        .arg(format!("--time={seconds}"))
        .arg(format!("--file={}", script.display()));
    for (name, value) in defines {
        command.arg(format!("--define={name}={value}"));
    }
    if let Some(dir) = log_dir {
        command
            .arg("--log")
            .arg(format!("--log-prefix={}", dir.join("tx").display()));
    }
    let output = command
        .arg(database_url)
        .output()
        .context("cannot run pgbench (Debian: apt install postgresql-contrib)")?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        bail!("pgbench failed: {}{}", stdout, String::from_utf8_lossy(&output.stderr));
    }
    Ok(stdout)
}
