//! Where the data lives: `DATABASE_URL` parsed into a backend and its address. The
//! store owns it (it decides what a backend accepts); `config` only reads the variable.

use std::fmt;

use url::Url;

/// Where the data lives. Debug and Display never show a PostgreSQL password.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A file path (SQLite creates it on first use).
    Sqlite(String),
    /// A `postgres://` or `postgresql://` URL.
    Postgres(String),
}

impl DatabaseUrl {
    pub const DEFAULT_SQLITE: &str = "revokd.db";

    /// `sqlite://PATH`, `sqlite:PATH`, a plain path, or `postgres://…`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            let url = Url::parse(raw).map_err(|e| format!("not a valid PostgreSQL URL: {e}"))?;
            if url.host_str().is_none_or(str::is_empty) && !raw.contains("host=") {
                return Err("a PostgreSQL URL needs a host, e.g. postgres://user@127.0.0.1:5432/revokd".into());
            }
            return Ok(Self::Postgres(raw.to_owned()));
        }
        let path = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
            .unwrap_or(raw);
        if path.is_empty() {
            return Err("empty database path".into());
        }
        if path.contains("://") {
            return Err("unsupported scheme: use sqlite://PATH, a plain file path, or postgres://…".into());
        }
        if path == ":memory:" || path.contains("mode=memory") {
            return Err(
                "an in-memory SQLite database cannot be shared by the writer and readers: give a file path".into(),
            );
        }
        Ok(Self::Sqlite(path.to_owned()))
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite://{path}"),
            Self::Postgres(raw) => match Url::parse(raw) {
                Ok(mut url) => {
                    if url.password().is_some() {
                        let _ = url.set_password(Some("***"));
                    }
                    write!(f, "{url}")
                }
                Err(_) => f.write_str("postgres://(unparsable)"),
            },
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_url_forms() {
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/revokd.db").unwrap(),
            DatabaseUrl::Sqlite("/var/lib/revokd.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://data.db").unwrap(),
            DatabaseUrl::Sqlite("data.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("./x.db").unwrap(),
            DatabaseUrl::Sqlite("./x.db".into())
        );
        assert!(matches!(
            DatabaseUrl::parse("postgres://u@127.0.0.1/db").unwrap(),
            DatabaseUrl::Postgres(_)
        ));
        assert!(DatabaseUrl::parse("mysql://u@h/db").is_err());
        assert!(DatabaseUrl::parse(":memory:").is_err());
        assert!(DatabaseUrl::parse("postgres://").is_err());
    }

    #[test]
    fn postgres_password_never_displayed() {
        let url = DatabaseUrl::parse("postgres://revokd:hunter22@db.internal:5432/revokd").unwrap();
        assert!(!format!("{url}").contains("hunter22"));
        assert!(!format!("{url:?}").contains("hunter22"));
    }
}
