//! The servers under load, each in a process of its own like in production: revokd's
//! release binary, and the ceiling, a trivial actix-web handler built with the same
//! profile as this benchmark (this very executable, started with `--serve-hello`).

use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::loadgen;

pub struct Server {
    child: Child,
    pub address: SocketAddr,
    log: PathBuf,
}

/// A loopback port nobody listens on right now.
fn free_address() -> anyhow::Result<SocketAddr> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

/// revokd's release binary, beside this benchmark's executable (`target/release/deps/..`).
pub fn revokd_binary() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("REVOKD_BIN") {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe()?;
    let release = exe
        .parent()
        .and_then(Path::parent)
        .context("the benchmark runs from target/<profile>/deps")?;
    let binary = release.join("revokd");
    if !binary.exists() {
        bail!(
            "{} not found: run `cargo build --release` first (bench/run does)",
            binary.display()
        );
    }
    Ok(binary)
}

impl Server {
    /// `revokd serve` on `database_url` with its default settings (and the bench's
    /// operator token, for bulk revocations).
    pub async fn revokd(binary: &Path, database_url: &str, work: &Path, name: &str) -> anyhow::Result<Self> {
        let address = free_address()?;
        let log = work.join(format!("{name}.log"));
        let child = Command::new(binary)
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("REVOKD_LISTEN", address.to_string())
            .env("REVOKD_ADMIN_TOKEN", crate::seed::ADMIN_TOKEN)
            .env(
                "RUST_LOG",
                std::env::var("BENCH_RUST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .env_remove("REVOKD_WORKERS")
            .stdin(Stdio::null())
            .stdout(File::create(&log)?)
            .stderr(File::create(&log)?.try_clone()?)
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let server = Self { child, address, log };
        server
            .wait_until_ready(b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .await?;
        Ok(server)
    }

    /// The ceiling: this executable serving `GET /hello`.
    pub async fn hello(work: &Path) -> anyhow::Result<Self> {
        let address = free_address()?;
        let log = work.join("hello.log");
        let child = Command::new(std::env::current_exe()?)
            .args(["--serve-hello", &address.to_string()])
            .stdin(Stdio::null())
            .stdout(File::create(&log)?)
            .stderr(File::create(&log)?.try_clone()?)
            .spawn()?;
        let server = Self { child, address, log };
        server.wait_until_ready(crate::workloads::HELLO_REQUEST).await?;
        Ok(server)
    }

    async fn wait_until_ready(&self, probe: &[u8]) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok((200, _)) = loadgen::once(self.address, probe).await {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        bail!("the server on {} did not become ready; its log:\n{log}", self.address)
    }

    /// Peak resident memory so far (VmHWM), in KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The child side of [`Server::hello`]: actix-web with its default workers, one
/// handler returning a constant.
pub fn serve_hello(address: SocketAddr) -> std::io::Result<()> {
    use actix_web::{App, HttpServer, web};
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(|| App::new().route("/hello", web::get().to(|| async { "Hello, world!" })))
            .bind(address)?
            .run()
            .await
    })
}
