//! SPEC §5: every error answers the §3 shape, also those actix produces itself.

use serde_json::json;

use crate::helpers::{ADMIN_TOKEN, Answer};

crate::both_backends! {
    async fn unknown_path_is_404_json(app) {
        for path in ["/nope", "/admin/v1", "/admin/v1/domains/a/b/c/d", "/oauth2/rest/unknown"] {
            let answer = app.get(path).await;
            answer.assert_error(404, "not_found");
            assert!(answer.header("content-type").unwrap().starts_with("application/json"));
        }
    }

    async fn wrong_method_is_405_with_allow(app) {
        let answer = Answer::from(app.http.put(app.url("/admin/v1/domains")).bearer_auth(ADMIN_TOKEN).send().await.unwrap()).await;
        answer.assert_error(405, "invalid_request");
        assert_eq!(answer.header("allow"), Some("POST, GET"));
        let answer = Answer::from(app.http.post(app.url("/healthz")).send().await.unwrap()).await;
        answer.assert_error(405, "invalid_request");
        assert_eq!(answer.header("allow"), Some("GET"));
        let answer = Answer::from(app.http.get(app.url("/oauth2/rest/token/revoke?identityDomain=x&token=y")).send().await.unwrap()).await;
        answer.assert_error(405, "invalid_request");
        assert_eq!(answer.header("allow"), Some("POST"));
    }

    async fn body_over_16_kib_is_413(app) {
        let big = json!({"name": "x".repeat(17 * 1024)});
        let answer = app.admin_post("/admin/v1/domains", big).await;
        answer.assert_error(413, "invalid_request");
        let answer = Answer::from(
            app.http
                .post(app.url("/oauth2/rest/token?identityDomain=acme"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("grant_type=client_credentials&pad={}", "a".repeat(17 * 1024)))
                .send()
                .await
                .unwrap(),
        )
        .await;
        answer.assert_error(413, "invalid_request");
    }

    async fn wrong_content_type_is_415(app) {
        let answer = Answer::from(
            app.http
                .post(app.url("/admin/v1/domains"))
                .bearer_auth(ADMIN_TOKEN)
                .header("content-type", "text/plain")
                .body("{\"name\":\"x\"}")
                .send()
                .await
                .unwrap(),
        )
        .await;
        answer.assert_error(415, "invalid_request");
        let answer = Answer::from(
            app.http
                .post(app.url("/oauth2/rest/token?identityDomain=acme"))
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap(),
        )
        .await;
        answer.assert_error(415, "invalid_request");
    }

    async fn oauth_endpoints_need_a_valid_identity_domain(app) {
        let client = crate::helpers::TestClient { client_id: "x".into(), secret: Some("y".into()) };
        let missing = Answer::from(
            app.http.post(app.url("/oauth2/rest/token")).basic_auth("x", Some("y")).form(&[("grant_type", "client_credentials")]).send().await.unwrap(),
        )
        .await;
        missing.assert_error(400, "invalid_request");
        app.token("-bad", &client, &[("grant_type", "client_credentials")]).await.assert_error(400, "invalid_request");
        // An unknown domain looks like bad credentials.
        let unknown = app.token("nosuchdomain", &client, &[("grant_type", "client_credentials")]).await;
        unknown.assert_error(401, "invalid_client");
    }
}
