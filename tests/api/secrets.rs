//! Client secrets and passwords are stored only as SHA-256 / Argon2id and never logged.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use revokd::store::{clients, domains, users};
use serde_json::json;
use sha2::{Digest, Sha256};

/// Everything any test of this binary logs, at every level revokd emits.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = buffer.clone();
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
            .with_ansi(false)
            .with_writer(move || Sink(sink.clone()))
            .try_init();
        buffer
    })
    .clone()
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut buffer) = self.0.lock() {
            buffer.extend_from_slice(data);
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

crate::both_backends! {
    async fn secrets_and_passwords_are_hashed_and_never_logged(app) {
        let logs = captured_logs();
        let domain = app.create_domain().await;
        let client = app
            .create_client(&domain, json!({"client_id":"web","grant_types":["client_credentials","password","refresh_token"]}))
            .await;
        let secret = client.secret.clone().unwrap();
        let password = format!("pw-{}", crate::helpers::unique("p"));
        app.create_user(&domain, "alice", &password).await;
        let (access, refresh) = app.login(&domain, &client, "alice", &password).await;
        app.token(&domain, &client, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
        app.revoke(&domain, &client, &[("token", &access)]).await;
        // A failed attempt must not log what it was given either.
        app.token(&domain, &client, &[("grant_type", "password"), ("username", "alice"), ("password", "wrong-guess-xyz")]).await;

        let (name, cid) = (domain.clone(), client.client_id.clone());
        let (stored_secret, stored_password) = app
            .store
            .read(move |mut db| {
                Box::pin(async move {
                    let domain = domains::find_by_name(&mut db, &name).await?.unwrap();
                    let client = clients::find(&mut db, domain.id, &cid).await?.unwrap();
                    let user = users::find(&mut db, domain.id, "alice").await?.unwrap();
                    Ok((client.secret_hash, user.password_hash))
                })
            })
            .await
            .unwrap();
        assert_eq!(stored_secret.as_deref(), Some(Sha256::digest(secret.as_bytes()).as_slice()));
        assert!(stored_password.starts_with("$argon2id$"), "{stored_password}");
        assert!(!stored_password.contains(&password));

        let text = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
        assert!(text.contains("request answered"), "the capture works: {} bytes", text.len());
        for needle in [secret.as_str(), password.as_str(), access.as_str(), refresh.as_str(), "wrong-guess-xyz"] {
            assert!(!text.contains(needle), "a secret reached the logs");
        }
    }
}
