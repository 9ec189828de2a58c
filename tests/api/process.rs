//! revokd as a process of its own, as in production: started on a store, stopped by
//! SIGKILL (`tests/api/crash.rs`) or SIGTERM (`tests/api/shutdown.rs`).

use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use revokd::store::DatabaseUrl;

use crate::helpers::{ADMIN_TOKEN, Server};

/// The revokd binary on `database`, serving on a port of its own. Killed and waited
/// for on drop, also when a test fails half-way.
pub struct Process {
    child: Child,
    pub server: Server,
}

impl Process {
    pub async fn start(database: &DatabaseUrl, port: u16) -> Self {
        let url = match database {
            DatabaseUrl::Sqlite(path) | DatabaseUrl::Postgres(path) => path.clone(),
        };
        let process = Self {
            child: Command::new(env!("CARGO_BIN_EXE_revokd"))
                .arg("serve")
                .env("DATABASE_URL", url)
                .env("REVOKD_LISTEN", format!("127.0.0.1:{port}"))
                .env("REVOKD_ADMIN_TOKEN", ADMIN_TOKEN)
                .env("REVOKD_AUTH_FAILURES_PER_MINUTE", "0")
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("revokd starts"),
            server: Server::on_port(port),
        };
        for _ in 0..200 {
            let ready = process.server.http.get(process.server.url("/readyz")).send().await;
            if ready.is_ok_and(|r| r.status() == 200) {
                return process;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("revokd did not become ready on port {port}");
    }

    /// SIGKILL: no drain, no shutdown hook.
    pub fn kill(self) {}

    /// Sends SIGTERM (as an orchestrator stopping a container does).
    pub fn terminate(&self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "SIGTERM could not be sent");
    }

    /// Waits up to `limit` for the process to exit; its status, or `None` if it is
    /// still running.
    pub async fn exited_within(&mut self, limit: Duration) -> Option<(ExitStatus, Duration)> {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return Some((status, started.elapsed()));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
