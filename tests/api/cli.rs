//! The operator's CLI on a live deployment's database (SPEC §3.8): `revokd revoke`
//! (a token from standard input, or bulk; `--dry-run`), `revokd status` and `revokd
//! policy set|show|delete`, beside a running server that sees their effect at once.

use std::io::Write;
use std::process::{Command, Stdio};

use revokd::store::DatabaseUrl;
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// Runs `revokd ARGS` on the app's database with `stdin`; its exit success and JSON.
fn revokd(app: &TestApp, args: &[&str], stdin: &str) -> (bool, Value) {
    let url = match &app.database {
        DatabaseUrl::Sqlite(path) => format!("sqlite://{path}"),
        DatabaseUrl::Postgres(url) => url.clone(),
    };
    run(&url, args, stdin)
}

fn run(database_url: &str, args: &[&str], stdin: &str) -> (bool, Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_revokd"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("revokd runs");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let json = serde_json::from_str(&text).unwrap_or_else(|_| {
        panic!(
            "revokd {args:?}: no JSON on stdout: {text}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.success(), json)
}

crate::both_backends! {
    async fn set_show_and_delete_a_revocation_policy(app) {
        let domain = app.create_domain().await;
        let (ok, set) = revokd(&app, &["policy", "set", &domain, "--disabled"], "token.kind == 'access'\n  && true\n");
        assert!(ok, "{set}");
        assert_eq!(set["expression"], "token.kind == 'access'\n  && true");
        assert_eq!(set["enabled"], false);
        let shown = app.admin_get(&format!("/admin/v1/domains/{domain}/revocation-policy")).await;
        assert_eq!(shown.body, set, "{}", shown.text);
        let (ok, show) = revokd(&app, &["policy", "show", &domain], "");
        assert!(ok);
        assert_eq!(show, set);
        let (ok, deleted) = revokd(&app, &["policy", "delete", &domain], "");
        assert!(ok);
        assert_eq!(deleted, json!({"status": "success"}));
        let missing = app.admin_get(&format!("/admin/v1/domains/{domain}/revocation-policy")).await;
        missing.assert_error(404, "not_found");
    }

    async fn revoke_a_token_and_in_bulk_with_dry_runs_first(app) {
        let domain = app.create_domain().await;
        let web = app.create_client(&domain, json!({"client_id":"web","grant_types":["client_credentials"]})).await;
        let rs = app.create_client(&domain, json!({"client_id":"rs"})).await;
        let issue = || async {
            app.token(&domain, &web, &[("grant_type", "client_credentials")]).await.body["access_token"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        let token = issue().await;
        let line = format!("{token}\n");

        let (ok, dry) = revokd(&app, &["revoke", "token", &domain, "--dry-run"], &line);
        assert!(ok);
        assert_eq!(dry["revoked_tokens"], 1, "{dry}");
        assert!(app.is_active(&domain, &rs, &token).await, "a dry run changes nothing");

        let (ok, done) = revokd(&app, &["revoke", "token", &domain, "--reason", "incident 42"], &line);
        assert!(ok);
        assert_eq!(done["revoked_tokens"], 1, "{done}");
        assert!(!app.is_active(&domain, &rs, &token).await);
        let (_, again) = revokd(&app, &["revoke", "token", &domain], &line);
        assert_eq!(again["revoked_tokens"], 0, "already dead: nothing to end");
        let audit = app.admin_get(&format!("/admin/v1/domains/{domain}/audit")).await;
        let event = &audit.body["events"][0];
        assert_eq!(event["action"], "token.revoked", "{}", audit.text);
        assert_eq!(event["actor"], "cli");
        assert!(!audit.text.contains(&token));

        let (first, second) = (issue().await, issue().await);
        let (_, dry) = revokd(&app, &["revoke", "bulk", &domain, "--client-id", "web", "--dry-run"], "");
        assert_eq!(dry["revoked_tokens"], 2, "{dry}");
        assert!(app.is_active(&domain, &rs, &first).await);
        let (ok, bulk) = revokd(&app, &["revoke", "bulk", &domain, "--client-id", "web", "--type", "ACCESS_TOKENS"], "");
        assert!(ok);
        assert_eq!(bulk["revoked_tokens"], 2, "{bulk}");
        assert!(!app.is_active(&domain, &rs, &first).await && !app.is_active(&domain, &rs, &second).await);
    }

    async fn status_reports_the_store_the_migrations_and_each_domain(app) {
        let domain = app.create_domain().await;
        let web = app.create_client(&domain, json!({"client_id":"web","grant_types":["client_credentials"]})).await;
        let token = app.token(&domain, &web, &[("grant_type", "client_credentials")]).await.body["access_token"].as_str().unwrap().to_owned();
        app.token(&domain, &web, &[("grant_type", "client_credentials")]).await;
        app.revoke(&domain, &web, &[("token", &token)]).await;
        let (ok, status) = revokd(&app, &["status"], "");
        assert!(ok, "{status}");
        assert_eq!(status["store"]["reachable"], true);
        assert_eq!(status["migrations"]["pending"], json!([]));
        assert!(status["migrations"]["applied"].as_u64().unwrap() >= 5);
        let ours = status["domains"].as_array().unwrap().iter().find(|d| d["name"] == domain.as_str()).expect("the domain");
        assert_eq!(ours["clients"], 1);
        assert_eq!(ours["access_tokens"], json!({"stored": 2, "live": 1}));
        assert_eq!(ours["refresh_tokens"], json!({"stored": 0, "live": 0}));
    }
}

#[test]
fn status_of_an_unreachable_store_says_so_and_fails() {
    let (ok, status) = run("postgres://postgres@127.0.0.1:1/nothing", &["status"], "");
    assert!(!ok);
    assert_eq!(status["store"]["reachable"], false, "{status}");
}

#[test]
fn a_bulk_revocation_needs_a_user_or_a_client() {
    let dir = std::env::temp_dir().join(format!("revokd-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/cli.db", dir.display());
    let output = Command::new(env!("CARGO_BIN_EXE_revokd"))
        .args(["revoke", "bulk", "nosuchdomain"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("name a username, a client_id, or both"), "{stderr}");
    let _ = std::fs::remove_dir_all(dir);
}
