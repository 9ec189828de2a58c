//! Builds the application from settings: store, state, routes, HTTP server. Tests
//! call [`Application::build`] with port 0 and talk to the real server.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use anyhow::Context;

use crate::admin::Admin;
use crate::clock::Clock;
use crate::config::Settings;
use crate::http::limits;
use crate::http::metrics::Metrics;
use crate::http::middleware::{observe, require_https};
use crate::http::routes;
use crate::http::state::AppState;
use crate::oauth::{KeyRing, TokenService};
use crate::openapi;
use crate::security::FailureLimit;
use crate::status_lists::Publisher;
use crate::store::{Backend, Store};
use crate::tls;

pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Opens the store (running migrations), binds the listener and prepares the server.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let store = Store::open(&settings.database, &settings.store)
            .await
            .with_context(|| format!("cannot open the store at {}", settings.database))?;
        Self::with_store(settings, store, Clock::system())
    }

    /// Like [`Application::build`] with a store and clock the caller already holds.
    pub fn with_store(settings: Settings, store: Store, clock: Clock) -> anyhow::Result<Self> {
        let tls = settings.tls.as_ref().map(tls::server_config).transpose()?;
        let listener =
            TcpListener::bind(settings.listen).with_context(|| format!("cannot listen on {}", settings.listen))?;
        let port = listener.local_addr()?.port();
        let backend = match store.backend() {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        };
        tracing::info!(
            address = %listener.local_addr()?,
            tls = tls.is_some(),
            database = %settings.database,
            "revokd listening"
        );
        let require_https_on = settings.require_https;
        let allow_get_revoke = !settings.require_post;
        let workers = settings.workers;
        let keys = Arc::new(KeyRing::default());
        let state = web::Data::new(AppState {
            admin: Admin::new(store.clone(), clock.clone()),
            tokens: TokenService::new(store.clone(), clock.clone(), keys.clone()),
            status_lists: Publisher::new(store.clone(), clock.clone(), keys),
            admin_token: settings.admin_token.clone(),
            metrics: Metrics::new(backend),
            auth_failures: FailureLimit::new(settings.auth_failures_per_minute),
            openapi_json: openapi::document_json(),
            store,
            clock,
            settings,
        });
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .configure(|cfg| routes::mount(cfg, allow_get_revoke))
                .wrap(actix_web::middleware::Condition::new(
                    require_https_on,
                    from_fn(require_https),
                ))
                .wrap(from_fn(observe))
        })
        .client_request_timeout(limits::REQUEST_READ_TIMEOUT)
        .keep_alive(limits::KEEP_ALIVE)
        .shutdown_timeout(10);
        if let Some(workers) = workers {
            server = server.workers(workers);
        }
        let server = match tls {
            Some(config) => server.listen_rustls_0_23(listener, config)?,
            None => server.listen(listener)?,
        }
        .run();
        Ok(Self { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the process is told to stop (SIGINT / SIGTERM), then drains.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
