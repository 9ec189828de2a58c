//! SPEC §3.5: end users list and withdraw consents with their bearer access token.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Answer, TestApp, TestClient};

async fn as_user(app: &TestApp, method: Method, path: &str, domain: &str, bearer: &str) -> Answer {
    Answer::from(
        app.http
            .request(method, app.url(&format!("{path}?identityDomain={domain}")))
            .bearer_auth(bearer)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn scene(app: &TestApp) -> (String, TestClient, TestClient, TestClient) {
    let domain = app.create_domain().await;
    let grants = json!(["password", "refresh_token", "client_credentials"]);
    let web = app
        .create_client(
            &domain,
            json!({"client_id":"web","grant_types":grants,"scopes":["openid"]}),
        )
        .await;
    let mobile = app
        .create_client(
            &domain,
            json!({"client_id":"mobile","grant_types":grants,"scopes":["openid","email"]}),
        )
        .await;
    let rs = app.create_client(&domain, json!({"client_id":"rs"})).await;
    app.create_user(&domain, "alice", "pw").await;
    app.create_user(&domain, "bob", "pw").await;
    (domain, web, mobile, rs)
}

crate::both_backends! {
    async fn users_list_their_active_consents(app) {
        let (domain, web, mobile, _) = scene(&app).await;
        let (alice_web, _) = app.login(&domain, &web, "alice", "pw").await;
        app.login(&domain, &mobile, "alice", "pw").await;
        app.login(&domain, &web, "bob", "pw").await;
        let answer = as_user(&app, Method::GET, "/oauth2/rest/consents", &domain, &alice_web).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        let consents = answer.body["consents"].as_array().unwrap();
        assert_eq!(consents.len(), 2, "only alice's: {}", answer.text);
        assert_eq!(consents[0]["client_id"], "web");
        assert_eq!(consents[0]["scopes"], json!(["openid"]));
        assert_eq!(consents[1]["client_id"], "mobile");
        assert_eq!(consents[1]["scopes"], json!(["openid", "email"]));
        for consent in consents {
            assert_eq!(consent.as_object().unwrap().len(), 4);
            assert!(consent["granted_at"].as_str().unwrap().ends_with('Z'));
            // Opaque (SPEC §3.5): 128 bits in hex, not the row's number.
            let id = consent["consent_id"].as_str().unwrap();
            assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()), "{id}");
        }
        assert_ne!(consents[0]["consent_id"], consents[1]["consent_id"]);
    }

    async fn withdrawing_a_consent_revokes_every_token_under_it(app) {
        let (domain, web, mobile, rs) = scene(&app).await;
        let (a1, r1) = app.login(&domain, &web, "alice", "pw").await;
        let (a2, r2) = app.login(&domain, &web, "alice", "pw").await;
        let (keep, _) = app.login(&domain, &mobile, "alice", "pw").await;
        let (bobs, _) = app.login(&domain, &web, "bob", "pw").await;
        let listed = as_user(&app, Method::GET, "/oauth2/rest/consents", &domain, &keep).await;
        let web_consent = listed.body["consents"].as_array().unwrap().iter().find(|c| c["client_id"] == "web").unwrap()["consent_id"].as_str().unwrap().to_owned();

        // Bob cannot see or touch alice's consent.
        as_user(&app, Method::DELETE, &format!("/oauth2/rest/consents/{web_consent}"), &domain, &bobs)
            .await
            .assert_error(404, "not_found");
        for malformed in ["not-a-number", "1", &web_consent.to_uppercase(), &format!("{web_consent}0")] {
            as_user(&app, Method::DELETE, &format!("/oauth2/rest/consents/{malformed}"), &domain, &keep).await.assert_error(404, "not_found");
        }

        let answer = as_user(&app, Method::DELETE, &format!("/oauth2/rest/consents/{web_consent}"), &domain, &keep).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(answer.body, json!({"status":"success"}));
        for token in [&a1, &r1, &a2, &r2] {
            assert!(!app.is_active(&domain, &rs, token).await);
        }
        assert!(app.is_active(&domain, &rs, &keep).await);
        assert!(app.is_active(&domain, &rs, &bobs).await);
        let after = as_user(&app, Method::GET, "/oauth2/rest/consents", &domain, &keep).await;
        assert_eq!(after.body["consents"].as_array().unwrap().len(), 1);
        // Withdrawn once: gone.
        as_user(&app, Method::DELETE, &format!("/oauth2/rest/consents/{web_consent}"), &domain, &keep).await.assert_error(404, "not_found");
        let audit = app.admin_get(&format!("/admin/v1/domains/{domain}/audit?limit=1")).await;
        assert_eq!(audit.body["events"][0]["action"], "consent.withdrawn");
        assert_eq!(audit.body["events"][0]["actor"], "user:alice");
        // A new login gives a new consent.
        app.login(&domain, &web, "alice", "pw").await;
    }

    async fn a_revoked_or_foreign_bearer_token_is_refused(app) {
        let (domain, web, ..) = scene(&app).await;
        let (other, other_web, ..) = scene(&app).await;
        let (access, refresh) = app.login(&domain, &web, "alice", "pw").await;
        let (foreign, _) = app.login(&other, &other_web, "alice", "pw").await;
        let machine = app.token(&domain, &web, &[("grant_type", "client_credentials")]).await.body["access_token"].as_str().unwrap().to_owned();
        app.revoke(&domain, &web, &[("token", &access)]).await;
        for bearer in [access.as_str(), refresh.as_str(), foreign.as_str(), machine.as_str(), "garbage"] {
            let answer = as_user(&app, Method::GET, "/oauth2/rest/consents", &domain, bearer).await;
            answer.assert_error(401, "invalid_token");
            assert!(answer.header("www-authenticate").is_some_and(|v| v.starts_with("Bearer")));
        }
        let none = Answer::from(app.http.get(app.url(&format!("/oauth2/rest/consents?identityDomain={domain}"))).send().await.unwrap()).await;
        none.assert_error(401, "invalid_token");
        let unknown_domain = as_user(&app, Method::GET, "/oauth2/rest/consents", "nosuchdomain", &foreign).await;
        unknown_domain.assert_error(401, "invalid_token");
    }
}
