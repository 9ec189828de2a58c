//! SPEC §3.13 Global Token Revocation (draft-parecki-oauth-global-token-revocation):
//! an incident tool revokes everything of one user with one standard call.

use serde_json::{Value, json};

use crate::helpers::{Answer, TestApp, TestClient};

async fn post(app: &TestApp, domain: &str, bearer: Option<&str>, body: Value) -> Answer {
    let mut request = app
        .http
        .post(app.url(&format!("/domains/{domain}/global-token-revocation")))
        .json(&body);
    if let Some(bearer) = bearer {
        request = request.bearer_auth(bearer);
    }
    Answer::from(request.send().await.unwrap()).await
}

async fn client_token(app: &TestApp, domain: &str, client: &TestClient, scope: &str) -> String {
    let answer = app
        .token(
            domain,
            client,
            &[("grant_type", "client_credentials"), ("scope", scope)],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.body["access_token"].as_str().unwrap().to_owned()
}

crate::both_backends! {
    async fn an_incident_tool_revokes_every_token_of_one_user(app) {
        let domain = app.create_domain().await;
        let tool = app.create_client(&domain, json!({"client_id":"soc","domain_admin":true,"scopes":["global_token_revocation","read"]})).await;
        let plain = app.create_client(&domain, json!({"client_id":"svc","scopes":["global_token_revocation"]})).await;
        let web = app.create_client(&domain, json!({"client_id":"web","grant_types":["password","refresh_token"]})).await;
        let rs = app.create_client(&domain, json!({"client_id":"rs"})).await;
        app.create_user(&domain, "alice", "pw").await;
        app.create_user(&domain, "bob", "pw").await;
        let (alice, alice_refresh) = app.login(&domain, &web, "alice", "pw").await;
        let (bob, _) = app.login(&domain, &web, "bob", "pw").await;
        let bearer = client_token(&app, &domain, &tool, "global_token_revocation").await;
        let issuer = app.get(&format!("/.well-known/oauth-authorization-server/domains/{domain}")).await.body["issuer"].as_str().unwrap().to_owned();
        let metadata = app.get(&format!("/.well-known/oauth-authorization-server/domains/{domain}")).await;
        assert_eq!(metadata.body["global_token_revocation_endpoint"], format!("{issuer}/global-token-revocation"));

        let done = post(&app, &domain, Some(&bearer), json!({"sub_id":{"format":"iss_sub","iss":issuer,"sub":"alice"}})).await;
        assert_eq!(done.status, 204, "{}", done.text);
        assert!(!app.is_active(&domain, &rs, &alice).await && !app.is_active(&domain, &rs, &alice_refresh).await);
        assert!(app.is_active(&domain, &rs, &bob).await, "only alice");
        let audit = app.admin_get(&format!("/admin/v1/domains/{domain}/audit")).await;
        assert_eq!(audit.body["events"][0]["details"]["reason"], "global_token_revocation", "{}", audit.text);
        assert_eq!(audit.body["events"][0]["details"]["revoke_consents"], true);

        // The opaque format; an unknown user is 204 too.
        assert_eq!(post(&app, &domain, Some(&bearer), json!({"sub_id":{"format":"opaque","id":"bob"}})).await.status, 204);
        assert!(!app.is_active(&domain, &rs, &bob).await);
        assert_eq!(post(&app, &domain, Some(&bearer), json!({"sub_id":{"format":"opaque","id":"nobody"}})).await.status, 204);

        post(&app, &domain, Some(&bearer), json!({"sub_id":{"format":"email","email":"a@b.c"}})).await.assert_error(400, "invalid_request");
        post(&app, &domain, Some(&bearer), json!({"sub":"alice"})).await.assert_error(400, "invalid_request");
        let unscoped = client_token(&app, &domain, &tool, "read").await;
        let refused = post(&app, &domain, Some(&unscoped), json!({"sub_id":{"format":"opaque","id":"alice"}})).await;
        refused.assert_error(403, "insufficient_scope");
        assert!(refused.header("www-authenticate").is_some_and(|h| h.contains("insufficient_scope")));
        let not_admin = client_token(&app, &domain, &plain, "global_token_revocation").await;
        post(&app, &domain, Some(&not_admin), json!({"sub_id":{"format":"opaque","id":"alice"}})).await.assert_error(403, "insufficient_scope");
        let missing = post(&app, &domain, None, json!({"sub_id":{"format":"opaque","id":"alice"}})).await;
        missing.assert_error(401, "invalid_token");
        assert!(missing.header("www-authenticate").is_some_and(|h| h.starts_with("Bearer")));
        post(&app, &domain, Some("not-a-token"), json!({"sub_id":{"format":"opaque","id":"alice"}})).await.assert_error(401, "invalid_token");
        // A revoked bearer token, and another domain's: 401.
        app.revoke(&domain, &tool, &[("token", &unscoped)]).await;
        post(&app, &domain, Some(&unscoped), json!({"sub_id":{"format":"opaque","id":"alice"}})).await.assert_error(401, "invalid_token");
        let other = app.create_domain().await;
        post(&app, &other, Some(&bearer), json!({"sub_id":{"format":"opaque","id":"alice"}})).await.assert_error(401, "invalid_token");
        post(&app, "nosuchdomain", Some(&bearer), json!({"sub_id":{"format":"opaque","id":"alice"}})).await.assert_error(401, "invalid_token");
    }
}
