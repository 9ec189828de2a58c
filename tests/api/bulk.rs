//! SPEC §3.7 `revocations`: bulk revocation by user, client or both, with exact counts,
//! dry runs that change nothing, consents, and the audit trail.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestClient};

struct Scene {
    domain: String,
    web: TestClient,
    rs: TestClient,
    tokens: BTreeMap<&'static str, String>,
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
    let mut tokens = BTreeMap::new();
    for (prefix, user, client) in [
        ("aw1", "alice", &web),
        ("aw2", "alice", &web),
        ("am", "alice", &mobile),
        ("bw", "bob", &web),
    ] {
        let (access, refresh) = app.login(&domain, client, user, "pw").await;
        tokens.insert(leak(format!("{prefix}.A")), access);
        tokens.insert(leak(format!("{prefix}.R")), refresh);
    }
    for (name, client) in [("wcc", &web), ("mcc", &mobile)] {
        let answer = app
            .token(&domain, client, &[("grant_type", "client_credentials")])
            .await;
        tokens.insert(name, answer.body["access_token"].as_str().unwrap().to_owned());
    }
    Scene {
        domain,
        web,
        rs,
        tokens,
    }
}

fn leak(name: String) -> &'static str {
    Box::leak(name.into_boxed_str())
}

impl Scene {
    async fn active(&self, app: &TestApp) -> Vec<&'static str> {
        let mut active = Vec::new();
        for (name, token) in &self.tokens {
            if app.is_active(&self.domain, &self.rs, token).await {
                active.push(*name);
            }
        }
        active
    }

    async fn bulk(&self, app: &TestApp, body: Value) -> crate::helpers::Answer {
        app.admin_post(&format!("/admin/v1/domains/{}/revocations", self.domain), body)
            .await
    }

    async fn revoked(&self, app: &TestApp, body: Value) -> i64 {
        let answer = self.bulk(app, body).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(answer.body["status"], "success");
        assert_eq!(answer.body.as_object().unwrap().len(), 2);
        answer.body["revoked_tokens"].as_i64().unwrap()
    }
}

fn without(all: &[&'static str], gone: &[&str]) -> Vec<&'static str> {
    all.iter().copied().filter(|n| !gone.contains(n)).collect()
}

crate::both_backends! {
    async fn every_filter_counts_exactly_and_dry_runs_change_nothing(app) {
        let s = scene(&app).await;
        let all = s.active(&app).await;
        assert_eq!(all.len(), 10);

        // Dry runs: exact counts, nothing changes, nothing audited.
        assert_eq!(s.revoked(&app, json!({"username":"alice","dry_run":true})).await, 6);
        assert_eq!(s.revoked(&app, json!({"client_id":"web","revoke_type":"ACCESS_TOKENS","dry_run":true})).await, 4);
        assert_eq!(s.revoked(&app, json!({"client_id":"web","revoke_type":"REFRESH_TOKENS","dry_run":true})).await, 3);
        assert_eq!(s.revoked(&app, json!({"username":"alice","client_id":"mobile","dry_run":true})).await, 2);
        assert_eq!(s.revoked(&app, json!({"client_id":"web","issued_before":"2001-01-01T00:00:00Z","dry_run":true})).await, 0);
        assert_eq!(s.active(&app).await, all);

        // The intersection: alice at web.
        assert_eq!(s.revoked(&app, json!({"username":"alice","client_id":"web","reason":"lost phone"})).await, 4);
        let now = s.active(&app).await;
        assert_eq!(now, without(&all, &["aw1.A", "aw1.R", "aw2.A", "aw2.R"]));
        // Already dead tokens are not counted again.
        assert_eq!(s.revoked(&app, json!({"username":"alice","client_id":"web"})).await, 0);
        // Only refresh tokens of mobile: alice's mobile refresh token (client_credentials have none).
        assert_eq!(s.revoked(&app, json!({"client_id":"mobile","revoke_type":"REFRESH_TOKENS"})).await, 1);
        assert_eq!(s.active(&app).await, without(&now, &["am.R"]));
        // Everything of alice left: her mobile access token.
        assert_eq!(s.revoked(&app, json!({"username":"alice"})).await, 1);
        assert_eq!(s.active(&app).await, vec!["bw.A", "bw.R", "mcc", "wcc"]);

        // Tokens issued after a bulk revocation live.
        let (fresh, fresh_refresh) = app.login(&s.domain, &s.web, "alice", "pw").await;
        assert!(app.is_active(&s.domain, &s.rs, &fresh).await);
        // A bulk-revoked refresh token cannot be refreshed.
        app.token(&s.domain, &s.web, &[("grant_type", "refresh_token"), ("refresh_token", &s.tokens["aw2.R"])])
            .await
            .assert_error(400, "invalid_grant");
        app.token(&s.domain, &s.web, &[("grant_type", "refresh_token"), ("refresh_token", &fresh_refresh)]).await;

        let audit = app.admin_get(&format!("/admin/v1/domains/{}/audit?limit=10", s.domain)).await;
        let bulk: Vec<&Value> = audit.body["events"].as_array().unwrap().iter().filter(|e| e["action"] == "tokens.bulk_revoked").collect();
        assert_eq!(bulk.len(), 4, "dry runs are not audited");
        let first = bulk.last().unwrap();
        assert_eq!(first["details"]["reason"], "lost phone");
        assert_eq!(first["details"]["count"], 4);
        assert_eq!(first["details"]["username"], "alice");
        assert_eq!(first["details"]["client_id"], "web");
        assert_eq!(first["actor"], "operator");
    }

    async fn revoke_consents_withdraws_them_too(app) {
        let s = scene(&app).await;
        assert_eq!(s.revoked(&app, json!({"username":"bob","revoke_consents":true,"dry_run":true})).await, 2);
        assert_eq!(s.revoked(&app, json!({"username":"bob","revoke_consents":true})).await, 2);
        let (bob_new, _) = app.login(&s.domain, &s.web, "bob", "pw").await;
        let consents = crate::helpers::Answer::from(
            app.http
                .get(app.url(&format!("/oauth2/rest/consents?identityDomain={}", s.domain)))
                .bearer_auth(&bob_new)
                .send()
                .await
                .unwrap(),
        )
        .await;
        // The old consent is gone; the new login made a new one.
        assert_eq!(consents.body["consents"].as_array().unwrap().len(), 1);
        // With consents, tokens under them go whenever issued: issued_before in the past
        // still reaches alice's web tokens through the consent.
        assert_eq!(
            s.revoked(&app, json!({"username":"alice","client_id":"web","issued_before":"2001-01-01T00:00:00Z","revoke_consents":true})).await,
            4
        );
        assert!(!app.is_active(&s.domain, &s.rs, &s.tokens["aw1.R"]).await);
        assert!(app.is_active(&s.domain, &s.rs, &s.tokens["am.A"]).await);
        assert!(app.is_active(&s.domain, &s.rs, &s.tokens["am.R"]).await);
    }

    async fn bulk_errors(app) {
        let s = scene(&app).await;
        for body in [
            json!({}),
            json!({"revoke_type":"TOKENS"}),
            json!({"username":"alice","revoke_type":"ALL"}),
            json!({"username":"alice","issued_before":"yesterday"}),
            json!({"username":"alice","reason":"r".repeat(201)}),
            json!({"username":"alice","reason":"nul\u{0}byte"}),
            json!({"username":"alice","reason":"line\nbreak"}),
            json!({"username":"alice","reason":""}),
            json!({"username":"alice","force":true}),
        ] {
            s.bulk(&app, body).await.assert_error(400, "invalid_request");
        }
        s.bulk(&app, json!({"username":"nobody"})).await.assert_error(404, "not_found");
        s.bulk(&app, json!({"client_id":"ghost"})).await.assert_error(404, "not_found");
        app.admin_post(&format!("/admin/v1/domains/{}/revocations", crate::helpers::unique("no")), json!({"username":"alice"}))
            .await
            .assert_error(404, "not_found");
        assert_eq!(s.active(&app).await.len(), 10, "nothing changed");
    }

    async fn audit_covers_single_consent_and_bulk_revocations_newest_first(app) {
        let s = scene(&app).await;
        app.revoke(&s.domain, &s.web, &[("token", &s.tokens["aw1.A"])]).await;
        let listed = crate::helpers::Answer::from(
            app.http
                .get(app.url(&format!("/oauth2/rest/consents?identityDomain={}", s.domain)))
                .bearer_auth(&s.tokens["am.A"])
                .send()
                .await
                .unwrap(),
        )
        .await;
        let mobile_consent = listed.body["consents"].as_array().unwrap().iter().find(|c| c["client_id"] == "mobile").unwrap()["consent_id"].as_str().unwrap().to_owned();
        app.http
            .delete(app.url(&format!("/oauth2/rest/consents/{mobile_consent}?identityDomain={}", s.domain)))
            .bearer_auth(&s.tokens["am.A"])
            .send()
            .await
            .unwrap();
        s.revoked(&app, json!({"client_id":"web"})).await;
        let audit = app.admin_get(&format!("/admin/v1/domains/{}/audit?limit=3", s.domain)).await;
        let actions: Vec<&str> = audit.body["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["tokens.bulk_revoked", "consent.withdrawn", "token.revoked"]);
        for token in s.tokens.values() {
            assert!(!audit.text.contains(token.as_str()));
        }
    }
}
