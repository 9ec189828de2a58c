//! SPEC §5, abuse: failed authentications are counted per address (and, for password
//! sign-ins, per user name); past the limit the next attempt gets `429` + `Retry-After`
//! without its credentials being checked, and nobody else is slowed.

use std::net::IpAddr;

use serde_json::json;

use crate::helpers::{Answer, Backend, TestApp, TestClient, basic_escape, spawn_app_with};

const LIMIT: usize = 3;

async fn app_with_limit(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |s| s.auth_failures_per_minute = LIMIT).await
}

/// A client whose connections come from `127.0.0.<last>`.
fn from(last: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::from([127, 0, 0, last]))
        .build()
        .unwrap()
}

async fn post(
    app: &TestApp,
    http: &reqwest::Client,
    path: &str,
    domain: &str,
    client: &TestClient,
    form: &[(&str, &str)],
) -> Answer {
    let request = http
        .post(app.url(&format!("{path}?identityDomain={domain}")))
        .basic_auth(
            basic_escape(&client.client_id),
            client.secret.as_deref().map(basic_escape),
        )
        .form(form);
    Answer::from(request.send().await.unwrap()).await
}

fn assert_slowed(answer: &Answer) {
    answer.assert_error(429, "temporarily_unavailable");
    let wait: u64 = answer.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_secrets_slow_their_address_and_no_other() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = app_with_limit(backend).await else {
            continue;
        };
        let domain = app.create_domain().await;
        let svc = app
            .create_client(&domain, json!({"client_id":"svc","grant_types":["client_credentials"]}))
            .await;
        let rs = app.create_client(&domain, json!({"client_id":"rs"})).await;
        let canary = app.token(&domain, &svc, &[("grant_type", "client_credentials")]).await;
        let canary = canary.body["access_token"].as_str().unwrap().to_owned();
        let attacker = from(2);
        let wrong = TestClient {
            client_id: "svc".into(),
            secret: Some("guess".into()),
        };
        let unknown = TestClient {
            client_id: "nobody".into(),
            secret: Some("guess".into()),
        };
        for n in 0..LIMIT {
            let client = if n % 2 == 0 { &wrong } else { &unknown };
            post(
                &app,
                &attacker,
                "/oauth2/rest/token/revoke",
                &domain,
                client,
                &[("token", &canary)],
            )
            .await
            .assert_error(401, "invalid_client");
        }
        // Now even the right secret from that address is refused, and changes nothing.
        let refused = post(
            &app,
            &attacker,
            "/oauth2/rest/token/revoke",
            &domain,
            &svc,
            &[("token", &canary)],
        )
        .await;
        assert_slowed(&refused);
        assert!(app.is_active(&domain, &rs, &canary).await);
        let also = post(
            &app,
            &attacker,
            "/oauth2/rest/token",
            &domain,
            &svc,
            &[("grant_type", "client_credentials")],
        )
        .await;
        assert_slowed(&also);
        // The honest client elsewhere is not slowed.
        let honest = post(
            &app,
            &from(3),
            "/oauth2/rest/token",
            &domain,
            &svc,
            &[("grant_type", "client_credentials")],
        )
        .await;
        assert_eq!(honest.status, 200, "{}", honest.text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_lock_the_user_name_for_the_window() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = app_with_limit(backend).await else {
            continue;
        };
        let domain = app.create_domain().await;
        let web = app
            .create_client(
                &domain,
                json!({"client_id":"web","grant_types":["password","refresh_token"]}),
            )
            .await;
        app.create_user(&domain, "alice", "pw-a").await;
        app.create_user(&domain, "bob", "pw-b").await;
        let sign_in = |user: &'static str, password: &'static str| {
            [("grant_type", "password"), ("username", user), ("password", password)]
        };
        for last in 4..4 + LIMIT as u8 {
            // Each from its own address: it is alice's name that is counted.
            post(
                &app,
                &from(last),
                "/oauth2/rest/token",
                &domain,
                &web,
                &sign_in("alice", "guess"),
            )
            .await
            .assert_error(400, "invalid_grant");
        }
        let locked = post(
            &app,
            &from(20),
            "/oauth2/rest/token",
            &domain,
            &web,
            &sign_in("alice", "pw-a"),
        )
        .await;
        assert_slowed(&locked);
        let bob = post(
            &app,
            &from(20),
            "/oauth2/rest/token",
            &domain,
            &web,
            &sign_in("bob", "pw-b"),
        )
        .await;
        assert_eq!(bob.status, 200, "{}", bob.text);
        // The same name in another domain is another user.
        let elsewhere = app.create_domain().await;
        let web2 = app
            .create_client(&elsewhere, json!({"client_id":"web","grant_types":["password"]}))
            .await;
        app.create_user(&elsewhere, "alice", "pw-a").await;
        let other = post(
            &app,
            &from(21),
            "/oauth2/rest/token",
            &elsewhere,
            &web2,
            &sign_in("alice", "pw-a"),
        )
        .await;
        assert_eq!(other.status, 200, "{}", other.text);
    }
}
