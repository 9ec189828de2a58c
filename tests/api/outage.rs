//! SPEC §3.1: when the store cannot be reached a revocation answers 503 with
//! Retry-After and changes nothing — never a false success — and the service recovers
//! without a restart. A TCP proxy in front of PostgreSQL plays the broken network.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use revokd::store::DatabaseUrl;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

use crate::helpers::{TestClient, shared_postgres, spawn_with_settings, test_settings};

/// Forwards connections to `upstream` until cut; while cut, drops every connection.
struct Proxy {
    port: u16,
    cut: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Proxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let links: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (is_cut, open_links) = (cut.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if is_cut.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let upstream = upstream.clone();
                let link = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                open_links.lock().unwrap().push(link.abort_handle());
            }
        });
        Self { port, cut, links }
    }

    /// Breaks every open connection and refuses new ones.
    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_outage_is_503_with_retry_after_and_recovers_without_restart() {
    let Some(DatabaseUrl::Postgres(real)) = shared_postgres() else {
        return;
    };
    let mut url = url::Url::parse(&real).unwrap();
    let upstream = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let proxy = Proxy::start(upstream).await;
    url.set_host(Some("127.0.0.1")).unwrap();
    url.set_port(Some(proxy.port)).unwrap();
    let mut settings = test_settings(DatabaseUrl::Postgres(url.to_string()));
    settings.store.wait_timeout = Duration::from_secs(1);
    let app = spawn_with_settings(settings, None).await;

    let domain = app.create_domain().await;
    let web = app
        .create_client(
            &domain,
            json!({"client_id":"web","grant_types":["password","refresh_token"]}),
        )
        .await;
    let rs: TestClient = app.create_client(&domain, json!({"client_id":"rs"})).await;
    app.create_user(&domain, "alice", "pw").await;
    let (first, _) = app.login(&domain, &web, "alice", "pw").await;
    let (second, _) = app.login(&domain, &web, "alice", "pw").await;
    assert_eq!(app.revoke(&domain, &web, &[("token", &first)]).await.status, 200);

    proxy.cut();
    let during = app.revoke(&domain, &web, &[("token", &second)]).await;
    during.assert_error(503, "temporarily_unavailable");
    assert!(
        during.header("retry-after").is_some_and(|v| v.parse::<u64>().is_ok()),
        "{:?}",
        during.headers
    );
    app.get("/readyz").await.assert_error(503, "temporarily_unavailable");

    proxy.restore();
    // Nothing was revoked by the failed call, and the same instance serves again.
    assert!(
        app.is_active(&domain, &rs, &second).await,
        "a 503 must not have revoked anything"
    );
    let after = app.revoke(&domain, &web, &[("token", &second)]).await;
    assert_eq!(after.status, 200, "{}", after.text);
    assert!(!app.is_active(&domain, &rs, &second).await);
    assert_eq!(app.get("/readyz").await.status, 200);
}

/// SQLite: while the writer cannot commit (here another connection holds the write
/// lock past the busy timeout, as a full disk or an unwritable WAL would fail it),
/// `/readyz` answers 503 and says why; the first write that commits again clears it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_reports_a_failing_sqlite_writer_until_a_write_commits() {
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, SqliteConnection};

    let Some(app) = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await else {
        return;
    };
    let DatabaseUrl::Sqlite(path) = app.database.clone() else {
        panic!("a SQLite app");
    };
    assert_eq!(app.get("/readyz").await.status, 200);
    let (locked_tx, locked) = std::sync::mpsc::channel();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let mut conn = SqliteConnection::establish(&path).unwrap();
        conn.batch_execute("BEGIN EXCLUSIVE").unwrap();
        locked_tx.send(()).unwrap();
        released.recv().unwrap();
        conn.batch_execute("COMMIT").unwrap();
    });
    locked.recv().unwrap();
    let refused = app
        .admin_post("/admin/v1/domains", json!({"name": crate::helpers::unique("d")}))
        .await;
    refused.assert_error(503, "temporarily_unavailable");
    // The writer gives up once its busy timeout has passed; from then on it is not ready.
    let mut ready = app.get("/readyz").await;
    for _ in 0..100 {
        if ready.status == 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        ready = app.get("/readyz").await;
    }
    ready.assert_error(503, "temporarily_unavailable");
    let why = ready.body["error_description"].as_str().unwrap().to_owned();
    assert!(
        why.contains("last SQLite write failed") && why.contains("locked"),
        "{why}"
    );
    release.send(()).unwrap();
    holder.join().unwrap();
    assert_eq!(app.get("/readyz").await.status, 503, "not ready until a write commits");
    app.create_domain().await;
    assert_eq!(app.get("/readyz").await.status, 200);
}
