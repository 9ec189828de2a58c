//! The test harness: a real revokd on a real port (port 0), on SQLite (a fresh file per
//! test) or PostgreSQL (one fresh database per test process, unique domains per test),
//! driven over HTTP with reqwest.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use revokd::clock::Clock;
use revokd::config::Settings;
use revokd::security::AdminToken;
use revokd::startup::Application;
use revokd::store::DatabaseUrl;
use revokd::store::{Store, StoreOptions};
use serde_json::{Value, json};

pub const ADMIN_TOKEN: &str = "test-operator-token";
const DEFAULT_TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each listed test once per backend: `mod sqlite { .. }` and `mod postgres { .. }`.
#[macro_export]
macro_rules! both_backends {
    ($(async fn $name:ident($app:ident) $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some($app) = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await else { return };
                    $body
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some($app) = $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await else { return };
                    $body
                }
            )*
        }
    };
}

/// A name no other test (or test process) uses: fits the domain name pattern.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}-{}-{n}-{nanos}", std::process::id())
}

/// The PostgreSQL server for tests, or why there is none. A local server that is
/// installed but stopped is started first (`.ci/ensure-postgres`, once per test process).
fn postgres_server() -> Result<String, String> {
    let url = std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_TEST_DATABASE_URL.to_owned());
    let reach = |url: String| {
        run_blocking(async move {
            use diesel_async::{AsyncConnection, AsyncPgConnection};
            AsyncPgConnection::establish(&url)
                .await
                .map(|_| url)
                .map_err(|e| e.to_string())
        })
    };
    match reach(url.clone()) {
        Ok(url) => Ok(url),
        Err(unreachable) if is_local_default_port(&url) && start_local_postgres() => {
            reach(url).map_err(|again| format!("{again} (after starting it; first: {unreachable})"))
        }
        Err(unreachable) => Err(unreachable),
    }
}

fn is_local_default_port(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| {
        matches!(u.host_str(), Some("127.0.0.1" | "localhost")) && u.port_or_known_default() == Some(5432)
    })
}

/// Runs the project's own `.ci/ensure-postgres` once; whether it says the server is up.
fn start_local_postgres() -> bool {
    static STARTED: OnceLock<bool> = OnceLock::new();
    *STARTED.get_or_init(|| {
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/ensure-postgres");
        eprintln!(
            "PostgreSQL is not answering on 127.0.0.1:5432; trying {}",
            script.display()
        );
        std::process::Command::new(script)
            .status()
            .is_ok_and(|status| status.success())
    })
}

/// Creates a fresh database on the test server; its URL.
pub fn fresh_postgres_database(suffix: &str) -> Result<String, String> {
    let server = postgres_server()?;
    let name = format!(
        "revokd_test_{}_{}_{suffix}",
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        std::process::id()
    );
    let mut url = url::Url::parse(&server).map_err(|e| e.to_string())?;
    url.set_path(&name);
    run_blocking(async move {
        use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
        let mut admin = AsyncPgConnection::establish(&server).await.map_err(|e| e.to_string())?;
        drop_stale_databases(&mut admin).await;
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .map_err(|e| e.to_string())?;
        Ok(url.to_string())
    })
}

/// Test databases of runs that ended (or died) more than six hours ago: dropped, so the
/// server does not fill up run after run. Runs that may still be going are left alone.
async fn drop_stale_databases(admin: &mut diesel_async::AsyncPgConnection) {
    use diesel::sql_types::Text;
    use diesel_async::{RunQueryDsl, SimpleAsyncConnection};

    #[derive(diesel::QueryableByName)]
    struct Database {
        #[diesel(sql_type = Text)]
        datname: String,
    }
    let cutoff = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        - 6 * 3600;
    let Ok(databases) = diesel::sql_query("SELECT datname FROM pg_database WHERE datname LIKE 'revokd_test_%'")
        .load::<Database>(admin)
        .await
    else {
        return;
    };
    for database in databases {
        let created: u64 = database
            .datname
            .split('_')
            .nth(2)
            .and_then(|t| t.parse().ok())
            .unwrap_or(u64::MAX);
        if created < cutoff {
            let _ = admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", database.datname))
                .await;
        }
    }
}

/// Drops a database made by [`fresh_postgres_database`] (best effort).
pub fn drop_postgres_database(url: &str) {
    let Ok(server) = postgres_server() else { return };
    let Some(name) = url::Url::parse(url)
        .ok()
        .map(|u| u.path().trim_start_matches('/').to_owned())
    else {
        return;
    };
    let _ = run_blocking(async move {
        use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
        let mut admin = AsyncPgConnection::establish(&server).await.map_err(|e| e.to_string())?;
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .map_err(|e| e.to_string())
    });
}

/// The database all PostgreSQL tests of this process share (each test uses its own
/// domains), created once; `None` (with the reason printed) when there is no server.
pub fn shared_postgres() -> Option<DatabaseUrl> {
    static SHARED: OnceLock<Result<String, String>> = OnceLock::new();
    match SHARED.get_or_init(|| fresh_postgres_database("shared")) {
        Ok(url) => Some(DatabaseUrl::Postgres(url.clone())),
        Err(reason) => skip_postgres(reason),
    }
}

pub fn skip_postgres<T>(reason: &str) -> Option<T> {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("PostgreSQL is required under CI=true: {reason}");
    }
    eprintln!("skipping PostgreSQL tests: {reason} (set TEST_DATABASE_URL or start PostgreSQL)");
    None
}

/// Runs a future on a runtime of its own (one-off set-up shared by tests that each
/// have their own runtime).
fn run_blocking<T: Send + 'static>(
    work: impl Future<Output = Result<T, String>> + Send + 'static,
) -> Result<T, String> {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?
            .block_on(work)
    })
    .join()
    .map_err(|_| "set-up thread panicked".to_owned())?
}

pub fn fresh_sqlite() -> (DatabaseUrl, TempFile) {
    let path = std::env::temp_dir().join(format!("{}.db", unique("revokd-test")));
    let url = DatabaseUrl::Sqlite(path.to_string_lossy().into_owned());
    (url, TempFile(path))
}

/// A SQLite file (and its WAL companions) removed when the test ends.
pub struct TempFile(std::path::PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

/// The application under test: a real server on a real port in this process, with its
/// store and clock at hand. Its HTTP helpers are those of [`Server`] (`Deref`).
pub struct TestApp {
    pub server: Server,
    pub database: DatabaseUrl,
    pub clock: Clock,
    pub store: Store,
    _file: Option<TempFile>,
}

impl std::ops::Deref for TestApp {
    type Target = Server;

    fn deref(&self) -> &Server {
        &self.server
    }
}

/// A revokd reached over HTTP, in this process or another, and the helpers that talk to
/// it as its clients and its operator would.
pub struct Server {
    pub address: String,
    pub http: reqwest::Client,
}

impl Server {
    pub fn on_port(port: u16) -> Self {
        Self {
            address: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("http client"),
        }
    }
}

pub fn test_settings(database: DatabaseUrl) -> Settings {
    Settings {
        listen: "127.0.0.1:0".parse().expect("loopback address"),
        database,
        admin_token: Some(AdminToken::new(ADMIN_TOKEN.to_owned())),
        workers: Some(1),
        // Tests fail authentications on purpose, all from 127.0.0.1; tests/api/brute_force.rs sets a limit.
        auth_failures_per_minute: 0,
        store: StoreOptions {
            pool_size: 4,
            ..StoreOptions::default()
        },
        ..Settings::default()
    }
}

/// The app on `backend` with default test settings; `None` when PostgreSQL is missing
/// outside CI.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> Option<TestApp> {
    let (database, file) = match backend {
        Backend::Sqlite => {
            let (url, file) = fresh_sqlite();
            (url, Some(file))
        }
        Backend::Postgres => (shared_postgres()?, None),
    };
    let mut settings = test_settings(database.clone());
    adjust(&mut settings);
    Some(spawn_with_settings(settings, file).await)
}

pub async fn spawn_with_settings(settings: Settings, file: Option<TempFile>) -> TestApp {
    let database = settings.database.clone();
    let store = Store::open(&database, &settings.store).await.expect("store opens");
    let clock = Clock::system();
    let app = Application::with_store(settings, store.clone(), clock.clone()).expect("app builds");
    let port = app.port();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        server: Server::on_port(port),
        database,
        clock,
        store,
        _file: file,
    }
}

/// A response reduced to what tests look at.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Answer {
    pub async fn from(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Self {
            status,
            headers,
            body,
            text,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the §3 error shape with this status and code.
    #[track_caller]
    pub fn assert_error(&self, status: u16, error: &str) {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.body["status"], "failure", "{}", self.text);
        assert_eq!(self.body["error"], error, "{}", self.text);
        assert!(
            self.body["error_description"].as_str().is_some_and(|d| !d.is_empty()),
            "{}",
            self.text
        );
        assert_eq!(self.body.as_object().map(|o| o.len()), Some(3), "{}", self.text);
    }
}

/// A client as created, with its secret when it has one.
#[derive(Debug, Clone)]
pub struct TestClient {
    pub client_id: String,
    pub secret: Option<String>,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> Answer {
        Answer::from(self.http.get(self.url(path)).send().await.expect("request")).await
    }

    pub async fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Answer {
        let mut request = self.http.request(method, self.url(path)).bearer_auth(ADMIN_TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        Answer::from(request.send().await.expect("request")).await
    }

    pub async fn admin_get(&self, path: &str) -> Answer {
        self.admin(reqwest::Method::GET, path, None).await
    }

    pub async fn admin_post(&self, path: &str, body: Value) -> Answer {
        self.admin(reqwest::Method::POST, path, Some(body)).await
    }

    /// A new domain with default settings plus `settings`; its name.
    pub async fn create_domain_with(&self, settings: Value) -> String {
        let name = unique("d");
        let mut body = json!({ "name": name });
        if let (Some(body), Some(extra)) = (body.as_object_mut(), settings.as_object()) {
            body.extend(extra.clone());
        }
        let answer = self.admin_post("/admin/v1/domains", body).await;
        assert_eq!(answer.status, 201, "{}", answer.text);
        name
    }

    pub async fn create_domain(&self) -> String {
        self.create_domain_with(json!({})).await
    }

    pub async fn create_client(&self, domain: &str, spec: Value) -> TestClient {
        let answer = self
            .admin_post(&format!("/admin/v1/domains/{domain}/clients"), spec)
            .await;
        assert_eq!(answer.status, 201, "{}", answer.text);
        TestClient {
            client_id: answer.body["client_id"].as_str().expect("client_id").to_owned(),
            secret: answer.body["client_secret"].as_str().map(str::to_owned),
        }
    }

    pub async fn create_user(&self, domain: &str, username: &str, password: &str) {
        let answer = self
            .admin_post(
                &format!("/admin/v1/domains/{domain}/users"),
                json!({ "username": username, "password": password }),
            )
            .await;
        assert_eq!(answer.status, 201, "{}", answer.text);
    }

    /// POSTs a form to an OAuth endpoint of `domain` (named by the query parameter),
    /// authenticating `client` with HTTP Basic when it has a secret, else by client_id.
    pub async fn oauth_post(&self, path: &str, domain: &str, client: &TestClient, form: &[(&str, &str)]) -> Answer {
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        let mut request = self.http.post(self.url(&format!("{path}?identityDomain={domain}")));
        match &client.secret {
            Some(secret) => request = request.basic_auth(basic_escape(&client.client_id), Some(basic_escape(secret))),
            None => fields.push(("client_id", &client.client_id)),
        }
        Answer::from(request.form(&fields).send().await.expect("request")).await
    }

    pub async fn token(&self, domain: &str, client: &TestClient, form: &[(&str, &str)]) -> Answer {
        self.oauth_post("/oauth2/rest/token", domain, client, form).await
    }

    pub async fn revoke(&self, domain: &str, client: &TestClient, form: &[(&str, &str)]) -> Answer {
        self.oauth_post("/oauth2/rest/token/revoke", domain, client, form).await
    }

    pub async fn introspect(&self, domain: &str, client: &TestClient, token: &str) -> Answer {
        self.oauth_post("/oauth2/rest/token/introspect", domain, client, &[("token", token)])
            .await
    }

    /// Whether `token` is live, asked through introspection by `client`.
    pub async fn is_active(&self, domain: &str, client: &TestClient, token: &str) -> bool {
        let answer = self.introspect(domain, client, token).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        answer.body["active"].as_bool().expect("active")
    }

    /// A password grant that must succeed: `(access_token, refresh_token)`.
    pub async fn login(&self, domain: &str, client: &TestClient, username: &str, password: &str) -> (String, String) {
        let answer = self
            .token(
                domain,
                client,
                &[
                    ("grant_type", "password"),
                    ("username", username),
                    ("password", password),
                ],
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        (
            answer.body["access_token"].as_str().expect("access_token").to_owned(),
            answer.body["refresh_token"].as_str().expect("refresh_token").to_owned(),
        )
    }
}

/// Polls `check` until it holds, for at most `within`; how long it took. For what
/// another instance learns by a notification, a moment after the change.
pub async fn eventually<F, Fut>(within: std::time::Duration, mut check: F) -> Option<std::time::Duration>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = std::time::Instant::now();
    while started.elapsed() < within {
        if check().await {
            return Some(started.elapsed());
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    None
}

/// RFC 6749 §2.3.1: Basic credentials are form-urlencoded before base64.
pub fn basic_escape(raw: &str) -> String {
    form_urlencoded::byte_serialize(raw.as_bytes()).collect()
}
