//! SPEC §3.13 security events: a password change, a disabled user and a rotated client
//! secret kill exactly the tokens they should (introspection and the status list),
//! through the revocation pipeline with their fixed reasons, and nothing of other users,
//! clients or domains.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, TestClient};
use crate::status_list_reader::invalid_by_reader;

struct Scene {
    domain: String,
    web: TestClient,
    mobile: TestClient,
    rs: TestClient,
}

async fn scene(app: &TestApp) -> Scene {
    let domain = app.create_domain().await;
    let grants = json!(["password", "refresh_token", "client_credentials"]);
    let web = app
        .create_client(&domain, json!({"client_id":"web","grant_types":grants}))
        .await;
    let mobile = app
        .create_client(&domain, json!({"client_id":"mobile","grant_types":grants}))
        .await;
    let rs = app.create_client(&domain, json!({"client_id":"rs"})).await;
    app.create_user(&domain, "alice", "pw").await;
    app.create_user(&domain, "bob", "pw").await;
    Scene {
        domain,
        web,
        mobile,
        rs,
    }
}

impl Scene {
    async fn active(&self, app: &TestApp, tokens: &[&str]) -> Vec<bool> {
        let mut active = Vec::new();
        for token in tokens {
            active.push(app.is_active(&self.domain, &self.rs, token).await);
        }
        active
    }

    fn path(&self, rest: &str) -> String {
        format!("/admin/v1/domains/{}{rest}", self.domain)
    }

    async fn reasons(&self, app: &TestApp) -> Vec<String> {
        let audit = app.admin_get(&self.path("/audit")).await;
        audit.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                format!(
                    "{} {}",
                    e["action"].as_str().unwrap(),
                    e["details"]["reason"].as_str().unwrap_or("-")
                )
            })
            .collect()
    }
}

crate::both_backends! {
    async fn a_password_change_kills_the_users_tokens_and_only_theirs(app) {
        let s = scene(&app).await;
        let (alice_web, alice_refresh) = app.login(&s.domain, &s.web, "alice", "pw").await;
        let (alice_mobile, _) = app.login(&s.domain, &s.mobile, "alice", "pw").await;
        let (bob_web, _) = app.login(&s.domain, &s.web, "bob", "pw").await;
        let answer = app.admin(Method::PUT, &s.path("/users/alice/password"), Some(json!({"password":"new pw"}))).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(answer.body, json!({"status":"success"}));
        assert_eq!(s.active(&app, &[&alice_web, &alice_refresh, &alice_mobile, &bob_web]).await, [false, false, false, true]);
        assert_eq!(invalid_by_reader(&app, &s.domain, &[&alice_web, &alice_mobile, &bob_web]).await, [true, true, false]);
        let old = app.token(&s.domain, &s.web, &[("grant_type", "password"), ("username", "alice"), ("password", "pw")]).await;
        old.assert_error(400, "invalid_grant");
        let (fresh, _) = app.login(&s.domain, &s.web, "alice", "new pw").await;
        assert!(app.is_active(&s.domain, &s.rs, &fresh).await, "tokens after the change live");
        let reasons = s.reasons(&app).await;
        assert!(reasons.contains(&"tokens.bulk_revoked password_changed".to_owned()), "{reasons:?}");
        assert!(reasons.iter().any(|r| r.starts_with("user.password_changed")), "{reasons:?}");

        // The domain may keep tokens across a password change.
        let patched = app.admin(Method::PATCH, &s.path(""), Some(json!({"revoke_on_password_change": false}))).await;
        assert_eq!(patched.body["revoke_on_password_change"], false, "{}", patched.text);
        app.admin(Method::PUT, &s.path("/users/alice/password"), Some(json!({"password":"third"}))).await;
        assert!(app.is_active(&s.domain, &s.rs, &fresh).await);
        app.admin(Method::PUT, &s.path("/users/nobody/password"), Some(json!({"password":"x"}))).await.assert_error(404, "not_found");
        app.admin(Method::PUT, &s.path("/users/alice/password"), Some(json!({"password":""}))).await.assert_error(400, "invalid_request");
    }

    async fn a_disabled_user_gets_no_tokens_and_holds_none(app) {
        let s = scene(&app).await;
        let (alice, alice_refresh) = app.login(&s.domain, &s.web, "alice", "pw").await;
        let (bob, _) = app.login(&s.domain, &s.web, "bob", "pw").await;
        let answer = app.admin(Method::PATCH, &s.path("/users/alice"), Some(json!({"disabled": true}))).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(answer.body, json!({"username":"alice","disabled":true}));
        assert_eq!(s.active(&app, &[&alice, &alice_refresh, &bob]).await, [false, false, true]);
        assert_eq!(invalid_by_reader(&app, &s.domain, &[&alice, &bob]).await, [true, false]);
        app.token(&s.domain, &s.web, &[("grant_type", "password"), ("username", "alice"), ("password", "pw")])
            .await
            .assert_error(400, "invalid_grant");
        app.token(&s.domain, &s.web, &[("grant_type", "refresh_token"), ("refresh_token", &alice_refresh)])
            .await
            .assert_error(400, "invalid_grant");
        assert!(s.reasons(&app).await.contains(&"tokens.bulk_revoked user_disabled".to_owned()));

        let enabled = app.admin(Method::PATCH, &s.path("/users/alice"), Some(json!({"disabled": false}))).await;
        assert_eq!(enabled.body, json!({"username":"alice","disabled":false}));
        assert!(!app.is_active(&s.domain, &s.rs, &alice).await, "enabling revives nothing");
        let (again, _) = app.login(&s.domain, &s.web, "alice", "pw").await;
        assert!(app.is_active(&s.domain, &s.rs, &again).await);
        app.admin(Method::PATCH, &s.path("/users/alice"), Some(json!({"disabled": "yes"}))).await.assert_error(400, "invalid_request");
    }

    async fn a_rotated_secret_locks_the_old_one_out_and_kills_the_clients_tokens(app) {
        let s = scene(&app).await;
        let (web_token, _) = app.login(&s.domain, &s.web, "alice", "pw").await;
        let (mobile_token, _) = app.login(&s.domain, &s.mobile, "alice", "pw").await;
        let answer = app.admin_post(&s.path("/clients/web/secret"), json!({})).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        let secret = answer.body["client_secret"].as_str().unwrap().to_owned();
        assert_ne!(Some(secret.as_str()), s.web.secret.as_deref());
        app.token(&s.domain, &s.web, &[("grant_type", "client_credentials")]).await.assert_error(401, "invalid_client");
        let rotated = TestClient { secret: Some(secret), ..s.web.clone() };
        assert_eq!(app.token(&s.domain, &rotated, &[("grant_type", "client_credentials")]).await.status, 200);
        assert_eq!(s.active(&app, &[&web_token, &mobile_token]).await, [false, true]);
        assert!(s.reasons(&app).await.contains(&"tokens.bulk_revoked client_secret_rotated".to_owned()));

        let kept = app.admin_post(&s.path("/clients/mobile/secret"), json!({"revoke_tokens": false})).await;
        assert_eq!(kept.status, 200, "{}", kept.text);
        assert!(app.is_active(&s.domain, &s.rs, &mobile_token).await);
        let public = app.create_client(&s.domain, json!({"client_id":"spa","client_type":"public"})).await;
        app.admin_post(&s.path(&format!("/clients/{}/secret", public.client_id)), json!({})).await.assert_error(400, "invalid_request");
        app.admin_post(&s.path("/clients/nobody/secret"), json!({})).await.assert_error(404, "not_found");
        // Without a body: the defaults.
        let bare = app.http.post(app.url(&s.path("/clients/mobile/secret"))).bearer_auth(crate::helpers::ADMIN_TOKEN).send().await.unwrap();
        assert_eq!(bare.status(), 200);
        assert!(!app.is_active(&s.domain, &s.rs, &mobile_token).await);
    }

    async fn security_events_never_reach_another_domain(app) {
        let (one, two) = (scene(&app).await, scene(&app).await);
        let (in_two, _) = app.login(&two.domain, &two.web, "alice", "pw").await;
        app.admin(Method::PUT, &one.path("/users/alice/password"), Some(json!({"password":"new"}))).await;
        app.admin(Method::PATCH, &one.path("/users/alice"), Some(json!({"disabled": true}))).await;
        app.admin_post(&one.path("/clients/web/secret"), json!({})).await;
        assert!(app.is_active(&two.domain, &two.rs, &in_two).await);
        assert_eq!(app.token(&two.domain, &two.web, &[("grant_type", "client_credentials")]).await.status, 200);
    }
}
