//! Typed configuration, read once from the environment (SPEC §4) and validated at
//! start-up so that a typo stops the service with a message naming the variable.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use crate::http::origin::TrustedProxies;
use crate::security::AdminToken;
use crate::store::{DatabaseUrl, StoreOptions};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// A certificate chain and private key, both PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub database: DatabaseUrl,
    /// `None`: the operator API answers 401 to everyone; the CLI still works.
    pub admin_token: Option<AdminToken>,
    /// Base URL advertised in metadata instead of the address a request reached.
    pub public_url: Option<Url>,
    /// Peers whose `Forwarded` / `X-Forwarded-*` headers are believed.
    pub trusted_proxies: TrustedProxies,
    pub require_post: bool,
    /// Refuse plain-HTTP requests (unless a trusted proxy says `X-Forwarded-Proto: https`).
    pub require_https: bool,
    pub tls: Option<TlsFiles>,
    pub log_format: LogFormat,
    pub store: StoreOptions,
    /// HTTP worker threads; `None` means one per core.
    pub workers: Option<usize>,
    /// Failed authentications per address (and per user name) and minute before `429`;
    /// 0 switches the limit off.
    pub auth_failures_per_minute: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database: DatabaseUrl::Sqlite(DatabaseUrl::DEFAULT_SQLITE.into()),
            admin_token: None,
            public_url: None,
            trusted_proxies: TrustedProxies::default(),
            require_post: true,
            require_https: false,
            tls: None,
            log_format: LogFormat::Text,
            store: StoreOptions::default(),
            workers: None,
            auth_failures_per_minute: 20,
        }
    }
}

/// A configuration mistake, naming the variable and what was wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("invalid {variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

impl Settings {
    /// Every variable [`Settings::from_lookup`] reads (a unit test below holds the two
    /// together; `tests/api/operations.rs` holds the README's settings table to it, and
    /// `tests/api/deployment.rs` the compose file).
    pub const VARIABLES: &[&str] = &[
        "REVOKD_LISTEN",
        "DATABASE_URL",
        "REVOKD_ADMIN_TOKEN",
        "REVOKD_PUBLIC_URL",
        "REVOKD_TRUSTED_PROXIES",
        "REVOKD_REQUIRE_HTTPS",
        "REVOKD_REQUIRE_POST",
        "REVOKD_TLS_CERT",
        "REVOKD_TLS_KEY",
        "REVOKD_LOG_FORMAT",
        "REVOKD_DB_POOL_SIZE",
        "REVOKD_DB_WAIT_TIMEOUT_MS",
        "REVOKD_WORKERS",
        "REVOKD_AUTH_FAILURES_PER_MINUTE",
    ];

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds settings from any variable source (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let var = |name: &'static str| lookup(name).filter(|v| !v.trim().is_empty()).map(|v| (name, v));

        let listen = match var("REVOKD_LISTEN") {
            Some((name, v)) => parse_listen(&v).map_err(|p| err(name, p))?,
            None => defaults.listen,
        };
        let database = match var("DATABASE_URL") {
            Some((name, v)) => DatabaseUrl::parse(&v).map_err(|p| err(name, p))?,
            None => defaults.database,
        };
        let admin_token = var("REVOKD_ADMIN_TOKEN").map(|(_, v)| AdminToken::new(v));
        let public_url = match var("REVOKD_PUBLIC_URL") {
            Some((name, v)) => Some(parse_public_url(&v).map_err(|p| err(name, p))?),
            None => None,
        };
        let trusted_proxies = match var("REVOKD_TRUSTED_PROXIES") {
            Some((name, v)) => TrustedProxies::parse(&v).map_err(|p| err(name, p))?,
            None => defaults.trusted_proxies,
        };
        let require_post = flag(var("REVOKD_REQUIRE_POST"), defaults.require_post)?;
        let require_https = flag(var("REVOKD_REQUIRE_HTTPS"), defaults.require_https)?;
        let tls = match (var("REVOKD_TLS_CERT"), var("REVOKD_TLS_KEY")) {
            (None, None) => None,
            (Some((_, cert)), Some((_, key))) => Some(TlsFiles {
                cert: readable_file("REVOKD_TLS_CERT", cert)?,
                key: readable_file("REVOKD_TLS_KEY", key)?,
            }),
            (Some(_), None) => {
                return Err(err(
                    "REVOKD_TLS_KEY",
                    "REVOKD_TLS_CERT is set, so the key is required too",
                ));
            }
            (None, Some(_)) => {
                return Err(err(
                    "REVOKD_TLS_CERT",
                    "REVOKD_TLS_KEY is set, so the certificate is required too",
                ));
            }
        };
        let log_format = match var("REVOKD_LOG_FORMAT") {
            Some((name, v)) => match v.trim().to_ascii_lowercase().as_str() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                _ => return Err(err(name, format!("{v:?}: expected `text` or `json`"))),
            },
            None => defaults.log_format,
        };
        let mut store = defaults.store;
        if let Some((name, v)) = var("REVOKD_DB_POOL_SIZE") {
            store.pool_size = positive(name, &v, 1024)?;
        }
        if let Some((name, v)) = var("REVOKD_DB_WAIT_TIMEOUT_MS") {
            store.wait_timeout = Duration::from_millis(positive(name, &v, 600_000)? as u64);
        }
        let workers = match var("REVOKD_WORKERS") {
            Some((name, v)) => Some(positive(name, &v, 1024)?),
            None => defaults.workers,
        };
        let auth_failures_per_minute = match var("REVOKD_AUTH_FAILURES_PER_MINUTE") {
            Some((name, v)) => whole(name, &v, 1_000_000)?,
            None => defaults.auth_failures_per_minute,
        };
        Ok(Self {
            listen,
            database,
            admin_token,
            public_url,
            trusted_proxies,
            require_post,
            require_https,
            tls,
            log_format,
            store,
            workers,
            auth_failures_per_minute,
        })
    }
}

fn err(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

fn parse_listen(raw: &str) -> Result<SocketAddr, String> {
    let raw = raw.trim();
    if let Ok(addr) = raw.parse() {
        return Ok(addr);
    }
    let mut resolved = raw
        .to_socket_addrs()
        .map_err(|e| format!("{raw:?} is not HOST:PORT (e.g. 127.0.0.1:8080): {e}"))?;
    resolved.next().ok_or_else(|| format!("{raw:?} resolves to no address"))
}

fn parse_public_url(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw.trim()).map_err(|e| format!("{raw:?} is not an absolute URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{raw:?} must be an http or https URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{raw:?} must not carry a query or fragment"));
    }
    Ok(url)
}

fn flag(value: Option<(&'static str, String)>, default: bool) -> Result<bool, ConfigError> {
    let Some((name, v)) = value else {
        return Ok(default);
    };
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(err(name, format!("{v:?}: expected true or false"))),
    }
}

fn positive(name: &'static str, raw: &str, max: usize) -> Result<usize, ConfigError> {
    match raw.trim().parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(err(name, format!("{raw:?}: expected a whole number from 1 to {max}"))),
    }
}

fn whole(name: &'static str, raw: &str, max: usize) -> Result<usize, ConfigError> {
    match raw.trim().parse::<usize>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(err(name, format!("{raw:?}: expected a whole number from 0 to {max}"))),
    }
}

fn readable_file(name: &'static str, path: String) -> Result<PathBuf, ConfigError> {
    let path = PathBuf::from(path);
    std::fs::File::open(&path).map_err(|e| err(name, format!("cannot read {}: {e}", path.display())))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_serve_sqlite_on_loopback_8080() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(s.database, DatabaseUrl::Sqlite("revokd.db".into()));
        assert!(s.require_post);
        assert!(!s.require_https);
        assert!(s.admin_token.is_none());
        assert_eq!(s.auth_failures_per_minute, 20);
    }

    #[test]
    fn bad_values_name_their_variable() {
        let e = settings(&[("REVOKD_LISTEN", "not an address")]).unwrap_err();
        assert_eq!(e.variable, "REVOKD_LISTEN");
        let e = settings(&[("DATABASE_URL", "mysql://x@y/z")]).unwrap_err();
        assert_eq!(e.variable, "DATABASE_URL");
        assert!(e.to_string().starts_with("invalid DATABASE_URL:"));
        let e = settings(&[("REVOKD_REQUIRE_POST", "maybe")]).unwrap_err();
        assert_eq!(e.variable, "REVOKD_REQUIRE_POST");
        let e = settings(&[("REVOKD_TLS_CERT", "/nonexistent/cert.pem")]).unwrap_err();
        assert_eq!(e.variable, "REVOKD_TLS_KEY");
        let e = settings(&[("REVOKD_PUBLIC_URL", "https://x.example/?a=b")]).unwrap_err();
        assert_eq!(e.variable, "REVOKD_PUBLIC_URL");
        let e = settings(&[("REVOKD_TRUSTED_PROXIES", "10.0.0.0/8, proxy.example")]).unwrap_err();
        assert_eq!(e.variable, "REVOKD_TRUSTED_PROXIES");
        let e = settings(&[("REVOKD_AUTH_FAILURES_PER_MINUTE", "-1")]).unwrap_err();
        assert_eq!(e.variable, "REVOKD_AUTH_FAILURES_PER_MINUTE");
        let e = settings(&[("REVOKD_DB_POOL_SIZE", "0")]).unwrap_err();
        assert_eq!(e.variable, "REVOKD_DB_POOL_SIZE");
    }

    #[test]
    fn variables_lists_exactly_what_is_read() {
        let asked = std::sync::Mutex::new(std::collections::BTreeSet::new());
        Settings::from_lookup(|name| {
            asked.lock().unwrap().insert(name.to_owned());
            None
        })
        .unwrap();
        let listed: std::collections::BTreeSet<String> = Settings::VARIABLES.iter().map(|v| v.to_string()).collect();
        assert_eq!(asked.into_inner().unwrap(), listed);
    }

    #[test]
    fn flags_and_formats_parse() {
        let s = settings(&[
            ("REVOKD_REQUIRE_POST", "false"),
            ("REVOKD_LOG_FORMAT", "JSON"),
            ("REVOKD_LISTEN", "0.0.0.0:9000"),
        ])
        .unwrap();
        assert!(!s.require_post);
        assert_eq!(s.log_format, LogFormat::Json);
        assert_eq!(s.listen.port(), 9000);
    }
}
