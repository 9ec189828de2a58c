//! Clients and domains are cached in memory for client authentication; a change to
//! them takes effect for the next request (SPEC §3.7), on this instance at once and,
//! on PostgreSQL, on every other instance as soon as its notification arrives.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, TestClient, eventually, shared_postgres, spawn_with_settings, test_settings};

async fn client_credentials(app: &TestApp, domain: &str, client: &TestClient) -> crate::helpers::Answer {
    app.token(domain, client, &[("grant_type", "client_credentials")]).await
}

crate::both_backends! {
    async fn a_deleted_client_stops_authenticating_at_once(app) {
        let domain = app.create_domain().await;
        let svc = app.create_client(&domain, json!({"client_id":"svc"})).await;
        assert_eq!(client_credentials(&app, &domain, &svc).await.status, 200);
        let deleted = app.admin(Method::DELETE, &format!("/admin/v1/domains/{domain}/clients/svc"), None).await;
        assert_eq!(deleted.status, 200, "{}", deleted.text);
        client_credentials(&app, &domain, &svc).await.assert_error(401, "invalid_client");

        // The same client_id again is a new client with a new secret.
        let again = app.create_client(&domain, json!({"client_id":"svc"})).await;
        client_credentials(&app, &domain, &svc).await.assert_error(401, "invalid_client");
        assert_eq!(client_credentials(&app, &domain, &again).await.status, 200);
    }

    async fn domain_settings_apply_to_the_next_request(app) {
        let domain = app.create_domain().await;
        let svc = app.create_client(&domain, json!({"client_id":"svc"})).await;
        assert_eq!(client_credentials(&app, &domain, &svc).await.body["expires_in"], 3600);
        let patched = app
            .admin(Method::PATCH, &format!("/admin/v1/domains/{domain}"), Some(json!({"access_token_ttl_secs": 42})))
            .await;
        assert_eq!(patched.status, 200, "{}", patched.text);
        assert_eq!(client_credentials(&app, &domain, &svc).await.body["expires_in"], 42);
    }

    async fn a_recreated_domain_does_not_inherit_its_predecessors_clients(app) {
        let domain = app.create_domain().await;
        let old = app.create_client(&domain, json!({"client_id":"svc"})).await;
        assert_eq!(client_credentials(&app, &domain, &old).await.status, 200);
        let deleted = app.admin(Method::DELETE, &format!("/admin/v1/domains/{domain}"), None).await;
        assert_eq!(deleted.status, 200, "{}", deleted.text);
        client_credentials(&app, &domain, &old).await.assert_error(401, "invalid_client");

        let created = app.admin_post("/admin/v1/domains", json!({"name": domain})).await;
        assert_eq!(created.status, 201, "{}", created.text);
        let new = app.create_client(&domain, json!({"client_id":"svc"})).await;
        client_credentials(&app, &domain, &old).await.assert_error(401, "invalid_client");
        assert_eq!(client_credentials(&app, &domain, &new).await.status, 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_instances_drop_their_copy_when_a_client_or_domain_changes() {
    let Some(database) = shared_postgres() else { return };
    let a = spawn_with_settings(test_settings(database.clone()), None).await;
    let b = spawn_with_settings(test_settings(database), None).await;
    let domain = a.create_domain().await;
    let svc = a.create_client(&domain, json!({"client_id":"svc"})).await;

    // B's listener is up once B caches at all; until then every request reads the store.
    assert_eq!(client_credentials(&b, &domain, &svc).await.body["expires_in"], 3600);
    let patched = a
        .admin(
            Method::PATCH,
            &format!("/admin/v1/domains/{domain}"),
            Some(json!({"access_token_ttl_secs": 7})),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    let took = eventually(Duration::from_secs(5), || async {
        client_credentials(&b, &domain, &svc).await.body["expires_in"] == 7
    })
    .await;
    assert!(took.is_some(), "instance B kept the old TTL");
    eprintln!("instance B saw the new TTL after {took:?}");

    let deleted = a
        .admin(Method::DELETE, &format!("/admin/v1/domains/{domain}/clients/svc"), None)
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.text);
    let took = eventually(Duration::from_secs(5), || async {
        client_credentials(&b, &domain, &svc).await.status == 401
    })
    .await;
    assert!(took.is_some(), "instance B still authenticates a deleted client");
    eprintln!("instance B refused the deleted client after {took:?}");
}
