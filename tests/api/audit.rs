//! SPEC §3.7: the audit trail of operator changes.

use reqwest::Method;
use serde_json::json;

crate::both_backends! {
    async fn audit_lists_operator_changes_newest_first(app) {
        let domain = app.create_domain().await;
        app.create_client(&domain, json!({"client_id":"web"})).await;
        app.create_user(&domain, "alice", "pw").await;
        app.admin(Method::PATCH, &format!("/admin/v1/domains/{domain}"), Some(json!({"public_clients_can_revoke": false}))).await;
        app.admin(Method::DELETE, &format!("/admin/v1/domains/{domain}/clients/web"), None).await;

        let answer = app.admin_get(&format!("/admin/v1/domains/{domain}/audit")).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        let events = answer.body["events"].as_array().unwrap();
        let actions: Vec<&str> = events.iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["client.deleted", "domain.updated", "user.created", "client.created", "domain.created"]);
        for event in events {
            assert_eq!(event["actor"], "operator");
            assert!(event["request_id"].as_str().is_some_and(|id| !id.is_empty()));
            assert!(event["occurred_at"].as_str().unwrap().ends_with('Z'));
            assert!(event["id"].is_i64());
        }
        assert_eq!(events[1]["details"], json!({"changes": {"public_clients_can_revoke": false}}));

        let limited = app.admin_get(&format!("/admin/v1/domains/{domain}/audit?limit=2")).await;
        assert_eq!(limited.body["events"].as_array().unwrap().len(), 2);
        assert_eq!(limited.body["events"][0]["action"], "client.deleted");
        for bad in ["0", "1001", "-1", "abc"] {
            app.admin_get(&format!("/admin/v1/domains/{domain}/audit?limit={bad}")).await.assert_error(400, "invalid_request");
        }
    }

    async fn audit_request_ids_match_the_response_header(app) {
        let domain = app.create_domain().await;
        let created = app
            .http
            .post(app.url(&format!("/admin/v1/domains/{domain}/users")))
            .bearer_auth(crate::helpers::ADMIN_TOKEN)
            .header("x-request-id", "trace-me-123")
            .json(&json!({"username":"zoe","password":"pw"}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.headers()["x-request-id"], "trace-me-123");
        let events = app.admin_get(&format!("/admin/v1/domains/{domain}/audit?limit=1")).await;
        assert_eq!(events.body["events"][0]["request_id"], "trace-me-123");
    }
}
