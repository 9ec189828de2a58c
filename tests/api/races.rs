//! SPEC §5: concurrent revocations and refreshes of one family never deadlock into a
//! `503` or `500`, and once they are answered every token of the family is dead, the
//! ones the racing refreshes minted included.

use std::future::Future;
use std::pin::Pin;

use futures_util::future::join_all;
use serde_json::json;

use crate::helpers::{Answer, TestApp, TestClient};

const ROUNDS: usize = 25;

type Pending<'a> = Pin<Box<dyn Future<Output = Answer> + Send + 'a>>;

fn refresh<'a>(app: &'a TestApp, domain: &'a str, web: &'a TestClient, token: &'a str) -> Pending<'a> {
    Box::pin(async move {
        app.token(
            domain,
            web,
            &[("grant_type", "refresh_token"), ("refresh_token", token)],
        )
        .await
    })
}

fn revoke_family<'a>(app: &'a TestApp, domain: &'a str, web: &'a TestClient, token: &'a str) -> Pending<'a> {
    Box::pin(async move {
        app.revoke(domain, web, &[("token", token), ("revoke_level", "RELATED_TOKENS")])
            .await
    })
}

/// A family of three generations: `[A1, R1, A2, R2, A3, R3]`, R1 and R2 rotated.
async fn family(app: &TestApp, domain: &str, web: &TestClient) -> Vec<String> {
    let (access, refresh_token) = app.login(domain, web, "alice", "pw").await;
    let mut tokens = vec![access, refresh_token];
    for _ in 0..2 {
        let current = tokens.last().unwrap().clone();
        let answer = app
            .token(
                domain,
                web,
                &[("grant_type", "refresh_token"), ("refresh_token", &current)],
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        tokens.push(answer.body["access_token"].as_str().unwrap().to_owned());
        tokens.push(answer.body["refresh_token"].as_str().unwrap().to_owned());
    }
    tokens
}

crate::both_backends! {
    async fn revocations_racing_refreshes_of_one_family_never_fail(app) {
        let domain = app.create_domain().await;
        let web = app
            .create_client(&domain, json!({"client_id":"web","grant_types":["password","refresh_token"]}))
            .await;
        let rs = app.create_client(&domain, json!({"client_id":"rs"})).await;
        app.create_user(&domain, "alice", "pw").await;
        for round in 0..ROUNDS {
            // Two families at once, so one batch of revocations can reach both.
            let (one, two) = (family(&app, &domain, &web).await, family(&app, &domain, &web).await);
            let mut racing: Vec<Pending> = Vec::new();
            for tokens in [&one, &two] {
                racing.push(refresh(&app, &domain, &web, &tokens[5]));
                racing.push(revoke_family(&app, &domain, &web, &tokens[4]));
                racing.push(refresh(&app, &domain, &web, &tokens[5]));
                // Reuse of a rotated refresh token revokes the family from inside a refresh.
                racing.push(refresh(&app, &domain, &web, &tokens[1]));
                racing.push(revoke_family(&app, &domain, &web, &tokens[0]));
                racing.push(revoke_family(&app, &domain, &web, &tokens[3]));
            }
            let answers = join_all(racing).await;
            let mut minted = Vec::new();
            for answer in &answers {
                assert!(answer.status < 500, "round {round}: {} {}", answer.status, answer.text);
                for field in ["access_token", "refresh_token"] {
                    if let Some(token) = answer.body[field].as_str() {
                        minted.push(token.to_owned());
                    }
                }
            }
            for token in one.iter().chain(&two).chain(&minted) {
                assert!(!app.is_active(&domain, &rs, token).await, "round {round}: a token of a revoked family is live");
            }
        }
    }
}
