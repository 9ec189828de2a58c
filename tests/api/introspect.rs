//! SPEC §3.4: introspection.

use serde_json::json;

use crate::helpers::{Answer, TestApp, TestClient};

async fn scene(app: &TestApp) -> (String, TestClient, TestClient, TestClient) {
    let domain = app.create_domain().await;
    let web = app
        .create_client(&domain, json!({"client_id":"web","grant_types":["client_credentials","password","refresh_token"],"scopes":["openid","email"]}))
        .await;
    let rs = app.create_client(&domain, json!({"client_id":"rs"})).await;
    let spa = app
        .create_client(&domain, json!({"client_id":"spa","client_type":"public"}))
        .await;
    app.create_user(&domain, "alice", "pw").await;
    (domain, web, rs, spa)
}

crate::both_backends! {
    async fn live_tokens_show_their_claims(app) {
        let (domain, web, rs, _) = scene(&app).await;
        let (access, refresh) = app.login(&domain, &web, "alice", "pw").await;
        let answer = app.introspect(&domain, &rs, &access).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(answer.header("cache-control"), Some("no-store"));
        let body = answer.body.as_object().unwrap();
        let mut keys: Vec<&str> = body.keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["active", "client_id", "exp", "iat", "iss", "jti", "scope", "sub", "token_type", "username"]);
        assert_eq!(answer.body["active"], true);
        assert_eq!(answer.body["token_type"], "access_token");
        assert_eq!(answer.body["client_id"], "web");
        assert_eq!(answer.body["username"], "alice");
        assert_eq!(answer.body["sub"], "alice");
        assert_eq!(answer.body["scope"], "openid email");
        assert_eq!(answer.body["iss"], format!("{}/domains/{domain}", app.address));
        assert_eq!(answer.body["exp"].as_i64().unwrap() - answer.body["iat"].as_i64().unwrap(), 3600);
        // The jti is the JWT's.
        let claims: serde_json::Value = {
            use base64::Engine;
            let payload = access.split('.').nth(1).unwrap();
            serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
        };
        assert_eq!(answer.body["jti"], claims["jti"]);

        let refresh_view = app.introspect(&domain, &rs, &refresh).await;
        assert_eq!(refresh_view.body["token_type"], "refresh_token");

        let machine = app.token(&domain, &web, &[("grant_type", "client_credentials")]).await;
        let machine_view = app.introspect(&domain, &rs, machine.body["access_token"].as_str().unwrap()).await;
        assert_eq!(machine_view.body["sub"], "web");
        assert!(machine_view.body.get("username").is_none(), "{}", machine_view.text);
    }

    async fn anything_not_live_is_exactly_active_false(app) {
        let (domain, web, rs, _) = scene(&app).await;
        let (other_domain, other_web, ..) = scene(&app).await;
        let (access, refresh) = app.login(&domain, &web, "alice", "pw").await;
        let (foreign, _) = app.login(&other_domain, &other_web, "alice", "pw").await;
        app.revoke(&domain, &web, &[("token", &access)]).await;
        for token in [access.as_str(), "unknown-token", foreign.as_str()] {
            let answer = app.introspect(&domain, &rs, token).await;
            assert_eq!(answer.status, 200);
            assert_eq!(answer.body, json!({"active": false}), "{token}");
        }
        app.clock.advance(std::time::Duration::from_secs(15 * 24 * 3600));
        assert_eq!(app.introspect(&domain, &rs, &refresh).await.body, json!({"active": false}));
    }

    async fn only_confidential_clients_of_the_domain_may_introspect(app) {
        let (domain, web, rs, spa) = scene(&app).await;
        let (access, _) = app.login(&domain, &web, "alice", "pw").await;
        let public = app.introspect(&domain, &spa, &access).await;
        public.assert_error(401, "invalid_client");
        let wrong = TestClient { client_id: "rs".into(), secret: Some("bad".into()) };
        app.introspect(&domain, &wrong, &access).await.assert_error(401, "invalid_client");
        let missing = Answer::from(
            app.http
                .post(app.url(&format!("/oauth2/rest/token/introspect?identityDomain={domain}")))
                .basic_auth("rs", rs.secret.as_deref())
                .form(&[("token_type_hint", "access_token")])
                .send()
                .await
                .unwrap(),
        )
        .await;
        missing.assert_error(400, "invalid_request");
    }
}
