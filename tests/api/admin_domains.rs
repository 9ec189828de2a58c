//! SPEC §3.7: domains.

use reqwest::Method;
use serde_json::json;

use revokd::domain::{ClientId, DomainName, Username};

use crate::helpers::unique;

crate::both_backends! {
    async fn create_domain_answers_201_with_the_domain_object(app) {
        let name = unique("acme");
        let answer = app.admin_post("/admin/v1/domains", json!({"name": name})).await;
        assert_eq!(answer.status, 201, "{}", answer.text);
        assert_eq!(
            answer.body,
            json!({"name": name, "access_token_ttl_secs": 3600, "refresh_token_ttl_secs": 1209600, "refresh_token_grace_secs": 30, "status_list_ttl_secs": 60, "revoke_on_password_change": true, "public_clients_can_revoke": true})
        );
        let custom = json!({"name": unique("x"), "access_token_ttl_secs": 1, "refresh_token_ttl_secs": 60, "refresh_token_grace_secs": 0, "status_list_ttl_secs": 3600, "revoke_on_password_change": false, "public_clients_can_revoke": false});
        let answer = app.admin_post("/admin/v1/domains", custom.clone()).await;
        assert_eq!(answer.status, 201);
        assert_eq!(answer.body, custom);
        assert_eq!(app.admin_get(&format!("/admin/v1/domains/{}", custom["name"].as_str().unwrap())).await.body, custom);
    }

    async fn duplicate_domain_is_409_conflict(app) {
        let name = app.create_domain().await;
        app.admin_post("/admin/v1/domains", json!({"name": name})).await.assert_error(409, "conflict");
    }

    async fn malformed_domain_bodies_are_400(app) {
        for body in [
            json!({"name": "-bad"}),
            json!({"name": "has space"}),
            json!({"name": "a".repeat(65)}),
            json!({"name": "x'; DROP TABLE domains;--"}),
            json!({"name": unique("t"), "access_token_ttl_secs": 0}),
            json!({"name": unique("t"), "refresh_token_ttl_secs": -5}),
            json!({"name": unique("t"), "refresh_token_grace_secs": -1}),
            json!({"name": unique("t"), "refresh_token_grace_secs": 3601}),
            json!({"name": unique("t"), "status_list_ttl_secs": 0}),
            json!({"name": unique("t"), "status_list_ttl_secs": 86_401}),
            json!({"name": unique("t"), "access_token_ttl_secs": "3600"}),
            json!({"name": unique("t"), "unknown_setting": true}),
            json!({"access_token_ttl_secs": 60}),
            json!([1, 2]),
        ] {
            app.admin_post("/admin/v1/domains", body).await.assert_error(400, "invalid_request");
        }
        let raw = app
            .http
            .post(app.url("/admin/v1/domains"))
            .bearer_auth(crate::helpers::ADMIN_TOKEN)
            .header("content-type", "application/json")
            .body("{\"name\": ")
            .send()
            .await
            .unwrap();
        crate::helpers::Answer::from(raw).await.assert_error(400, "invalid_request");
        let listed = app.admin_get("/admin/v1/domains").await;
        assert!(!listed.text.contains("DROP TABLE"));
    }

    async fn list_get_patch_delete_domains(app) {
        let name = app.create_domain().await;
        let listed = app.admin_get("/admin/v1/domains").await;
        assert_eq!(listed.status, 200);
        assert!(listed.body["domains"].as_array().unwrap().iter().any(|d| d["name"] == name.as_str()));

        let patched = app
            .admin(Method::PATCH, &format!("/admin/v1/domains/{name}"), Some(json!({"access_token_ttl_secs": 5})))
            .await;
        assert_eq!(patched.status, 200, "{}", patched.text);
        assert_eq!(
            patched.body,
            json!({"name": name, "access_token_ttl_secs": 5, "refresh_token_ttl_secs": 1209600, "refresh_token_grace_secs": 30, "status_list_ttl_secs": 60, "revoke_on_password_change": true, "public_clients_can_revoke": true})
        );
        let unchanged = app.admin(Method::PATCH, &format!("/admin/v1/domains/{name}"), Some(json!({}))).await;
        assert_eq!(unchanged.body, patched.body);
        app.admin(Method::PATCH, &format!("/admin/v1/domains/{name}"), Some(json!({"refresh_token_ttl_secs": 0})))
            .await
            .assert_error(400, "invalid_request");

        let deleted = app.admin(Method::DELETE, &format!("/admin/v1/domains/{name}"), None).await;
        assert_eq!(deleted.status, 200);
        assert_eq!(deleted.body, json!({"status": "success"}));
        app.admin_get(&format!("/admin/v1/domains/{name}")).await.assert_error(404, "not_found");
        app.admin(Method::DELETE, &format!("/admin/v1/domains/{name}"), None).await.assert_error(404, "not_found");
        app.admin(Method::PATCH, &format!("/admin/v1/domains/{name}"), Some(json!({}))).await.assert_error(404, "not_found");
    }

    async fn unknown_domain_is_404_and_malformed_name_400(app) {
        app.admin_get(&format!("/admin/v1/domains/{}", unique("nope"))).await.assert_error(404, "not_found");
        app.admin_get("/admin/v1/domains/-bad").await.assert_error(400, "invalid_request");
        app.admin_get("/admin/v1/domains/a%20b/clients").await.assert_error(400, "invalid_request");
    }

    async fn malformed_path_segments_are_400_with_the_parse_message(app) {
        let domain = app.create_domain().await;
        let described = |answer: crate::helpers::Answer| {
            answer.assert_error(400, "invalid_request");
            answer.body["error_description"].as_str().unwrap().to_owned()
        };
        let bad_domain = DomainName::parse("-bad").unwrap_err().to_string();
        assert_eq!(described(app.admin_get("/admin/v1/domains/-bad").await), bad_domain);
        assert_eq!(described(app.admin_get("/admin/v1/domains/-bad/users/alice").await), bad_domain);
        assert_eq!(
            described(app.admin(Method::DELETE, "/admin/v1/domains/-bad/clients/web", None).await),
            bad_domain
        );
        assert_eq!(
            described(app.admin_get(&format!("/admin/v1/domains/{domain}/clients/a%07b")).await),
            ClientId::parse("a\u{7}b").unwrap_err().to_string()
        );
        assert_eq!(
            described(app.admin_get(&format!("/admin/v1/domains/{domain}/users/a%07b")).await),
            Username::parse("a\u{7}b").unwrap_err().to_string()
        );
    }

    async fn operator_token_is_required(app) {
        let none = crate::helpers::Answer::from(app.http.get(app.url("/admin/v1/domains")).send().await.unwrap()).await;
        none.assert_error(401, "invalid_token");
        assert!(none.header("www-authenticate").is_some_and(|v| v.starts_with("Bearer")));
        let wrong = crate::helpers::Answer::from(
            app.http.get(app.url("/admin/v1/domains")).bearer_auth("not-the-token").send().await.unwrap(),
        )
        .await;
        wrong.assert_error(401, "invalid_token");
        let basic = crate::helpers::Answer::from(
            app.http
                .post(app.url("/admin/v1/domains"))
                .basic_auth("operator", Some(crate::helpers::ADMIN_TOKEN))
                .json(&json!({"name": unique("x")}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        basic.assert_error(401, "invalid_token");
    }
}

mod without_admin_token {
    use crate::helpers::{Answer, Backend, spawn_app_with};

    #[tokio::test]
    async fn operator_api_answers_401_when_no_token_is_configured() {
        let Some(app) = spawn_app_with(Backend::Sqlite, |s| s.admin_token = None).await else {
            return;
        };
        let answer = Answer::from(
            app.http
                .get(app.url("/admin/v1/domains"))
                .bearer_auth(crate::helpers::ADMIN_TOKEN)
                .send()
                .await
                .unwrap(),
        )
        .await;
        answer.assert_error(401, "invalid_token");
        assert!(
            answer.body["error_description"]
                .as_str()
                .unwrap()
                .contains("REVOKD_ADMIN_TOKEN")
        );
    }
}
