//! CPU time per request, from `/proc`: the server's own (all its threads) and that of
//! every PostgreSQL process. Unlike requests per second, this barely moves when
//! something else shares the machine, so it is the figure to compare while optimizing.

use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct Cost {
    pub server_us: f64,
    pub postgres_us: f64,
}

pub struct Snapshot {
    server: Duration,
    postgres: Duration,
}

impl Snapshot {
    pub fn take(server_pid: u32) -> Self {
        Self {
            server: process_cpu(server_pid).unwrap_or_default(),
            postgres: postgres_cpu(),
        }
    }

    /// CPU spent since the snapshot, per answered request.
    pub fn cost_per_request(&self, server_pid: u32, requests: u64) -> Option<Cost> {
        if requests == 0 {
            return None;
        }
        let server = process_cpu(server_pid)?.saturating_sub(self.server);
        let postgres = postgres_cpu().saturating_sub(self.postgres);
        let per = |d: Duration| d.as_secs_f64() * 1e6 / requests as f64;
        Some(Cost {
            server_us: per(server),
            postgres_us: per(postgres),
        })
    }
}

/// Clock ticks per second of `/proc/*/stat` (USER_HZ), 100 on every Linux in use.
const TICKS_PER_SEC: u64 = 100;

/// User + system time of a process, all its threads.
fn process_cpu(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; fields after its ')' are plain.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 1000 / TICKS_PER_SEC))
}

/// The benchmark's scratch database: PostgreSQL processes that serve another database
/// (someone's tests on the same server) are not counted.
static DATABASE: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Counts only the PostgreSQL processes of `database` (and the server's own: WAL
/// writer, checkpointer and the like) from now on; `None`: every one.
pub fn only_database(database: Option<&str>) {
    if let Ok(mut current) = DATABASE.lock() {
        *current = database.map(str::to_owned);
    }
}

fn postgres_cpu() -> Duration {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Duration::ZERO;
    };
    let database = DATABASE.lock().ok().and_then(|d| d.clone());
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|comm| comm.trim() == "postgres"))
        .filter(|pid| database.as_deref().is_none_or(|database| serves(*pid, database)))
        .filter_map(process_cpu)
        .sum()
}

/// Whether a PostgreSQL process works for `database` or for the whole server, by its
/// process title: a client backend is `postgres: [CLUSTER: ]USER DATABASE HOST(PORT)
/// STATE`, an autovacuum worker `postgres: [CLUSTER: ]autovacuum worker DATABASE`; the
/// others name none.
fn serves(pid: u32, database: &str) -> bool {
    let Ok(raw) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let title = String::from_utf8_lossy(&raw).replace('\0', " ");
    let Some(rest) = title.trim().strip_prefix("postgres: ") else {
        return true; // the postmaster
    };
    let mut words: Vec<&str> = rest.split_whitespace().collect();
    // `cluster_name` comes first when set (Debian: `15/main:`).
    if words.first().is_some_and(|w| w.ends_with(':')) {
        words.remove(0);
    }
    let rest = words.join(" ");
    let named = if rest.starts_with("autovacuum worker") {
        words.get(2).copied()
    } else if words
        .get(2)
        .is_some_and(|host| host.contains('(') || host.starts_with('['))
    {
        words.get(1).copied()
    } else {
        None
    };
    named.is_none_or(|named| named == database)
}
