//! SPEC §3.13 the operator's token look-up: a token's whole state, with the reason it
//! died by whatever path; introspection keeps saying only `{"active":false}`.

use reqwest::Method;
use serde_json::json;

crate::both_backends! {
    async fn the_lookup_tells_how_a_token_died_and_introspection_does_not(app) {
        let domain = app.create_domain().await;
        let web = app.create_client(&domain, json!({"client_id":"web","grant_types":["password","refresh_token"]})).await;
        let rs = app.create_client(&domain, json!({"client_id":"rs"})).await;
        app.create_user(&domain, "alice", "pw").await;
        let (first, _) = app.login(&domain, &web, "alice", "pw").await;
        let (second, refresh) = app.login(&domain, &web, "alice", "pw").await;
        let lookup = |token: String| {
            let app = &app;
            let domain = domain.clone();
            async move { app.admin_post(&format!("/admin/v1/domains/{domain}/tokens/lookup"), json!({"token": token})).await }
        };

        let live = lookup(first.clone()).await;
        assert_eq!(live.status, 200, "{}", live.text);
        assert_eq!(live.body["active"], true);
        assert_eq!(live.body["kind"], "access");
        assert_eq!(live.body["client_id"], "web");
        assert_eq!(live.body["username"], "alice");
        assert_eq!(live.body["revoked_at"], serde_json::Value::Null);
        assert!(live.body["family"].is_i64() && live.body["idx"].is_i64());
        assert_eq!(live.body["uri"], crate::status_list_reader::slot(&first).uri.as_str());
        assert_eq!(live.body["consent_id"].as_str().map(str::len), Some(32));
        let refresh_state = lookup(refresh.clone()).await;
        assert_eq!(refresh_state.body["kind"], "refresh");
        assert_eq!(refresh_state.body["uri"], serde_json::Value::Null, "refresh tokens are in no list");

        app.revoke(&domain, &web, &[("token", &first), ("reason", "lost phone")]).await;
        let revoked = lookup(first.clone()).await;
        assert_eq!(revoked.body["active"], false);
        assert_eq!(revoked.body["revoked_by"], "web");
        assert_eq!(revoked.body["reason"], "lost phone");
        assert!(revoked.body["revoked_at"].as_str().is_some_and(|t| t.ends_with('Z')));
        assert_eq!(app.introspect(&domain, &rs, &first).await.body, json!({"active": false}));

        // Dead through a watermark: the reason is the security event's.
        app.admin(Method::PUT, &format!("/admin/v1/domains/{domain}/users/alice/password"), Some(json!({"password":"new"}))).await;
        let watermarked = lookup(second.clone()).await;
        assert_eq!(watermarked.body["active"], false);
        assert_eq!(watermarked.body["reason"], "password_changed");
        assert_eq!(watermarked.body["revoked_by"], serde_json::Value::Null);
        assert_eq!(app.introspect(&domain, &rs, &second).await.body, json!({"active": false}));

        lookup("no-such-token".into()).await.assert_error(404, "not_found");
        let other = app.create_domain().await;
        app.admin_post(&format!("/admin/v1/domains/{other}/tokens/lookup"), json!({"token": second})).await.assert_error(404, "not_found");
        app.admin_post(&format!("/admin/v1/domains/{domain}/tokens/lookup"), json!({"token": ""})).await.assert_error(400, "invalid_request");
    }
}
