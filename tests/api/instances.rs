//! SPEC §3.4: several instances on one PostgreSQL. A revocation answered by one
//! instance is seen by every other instance's introspection right after the answer.

use serde_json::json;

use crate::helpers::{shared_postgres, spawn_with_settings, test_settings};

const TRIES: usize = 1000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_on_one_instance_is_seen_at_once_by_the_others() {
    let Some(database) = shared_postgres() else { return };
    let a = spawn_with_settings(test_settings(database.clone()), None).await;
    let b = spawn_with_settings(test_settings(database.clone()), None).await;
    let c = spawn_with_settings(test_settings(database), None).await;

    let domain = a.create_domain().await;
    let web = a.create_client(&domain, json!({"client_id":"web"})).await;
    let rs = a.create_client(&domain, json!({"client_id":"rs"})).await;

    for attempt in 0..TRIES {
        // Issued on one instance, seen live on another, revoked on the first.
        let issued = a.token(&domain, &web, &[("grant_type", "client_credentials")]).await;
        let token = issued.body["access_token"].as_str().unwrap().to_owned();
        if attempt % 100 == 0 {
            assert!(b.is_active(&domain, &rs, &token).await);
        }
        let revoked = a.revoke(&domain, &web, &[("token", &token)]).await;
        assert_eq!(revoked.status, 200, "{}", revoked.text);
        let (on_b, on_c) = tokio::join!(b.introspect(&domain, &rs, &token), c.introspect(&domain, &rs, &token));
        assert_eq!(on_b.body, json!({"active": false}), "instance B, try {attempt}");
        assert_eq!(on_c.body, json!({"active": false}), "instance C, try {attempt}");
    }
}
