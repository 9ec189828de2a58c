//! SPEC §3.12 revocation policies: a domain's CEL rule allows, denies, raises the level
//! or gives a reason before a client revocation, each checked by what dies; errors and
//! cost limits fail safe and say so in the audit event; the operator API stores,
//! shows, removes and tries out policies; a change reaches every instance.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Answer, Server, TestClient, eventually, shared_postgres, spawn_with_settings, test_settings};

const DENIED: &str = "denied by the domain's revocation policy";

struct Scene {
    domain: String,
    web: TestClient,
    rs: TestClient,
}

async fn scene(app: &Server) -> Scene {
    let domain = app.create_domain().await;
    let web = app
        .create_client(
            &domain,
            json!({"client_id":"web","grant_types":["password","refresh_token","client_credentials"],"scopes":["openid","profile"]}),
        )
        .await;
    let rs = app.create_client(&domain, json!({"client_id":"rs"})).await;
    app.create_user(&domain, "alice", "pw").await;
    Scene { domain, web, rs }
}

impl Scene {
    fn path(&self, rest: &str) -> String {
        format!("/admin/v1/domains/{}{rest}", self.domain)
    }

    async fn set_policy(&self, app: &Server, body: Value) -> Answer {
        app.admin(Method::PUT, &self.path("/revocation-policy"), Some(body))
            .await
    }

    async fn must_set(&self, app: &Server, expression: &str) {
        let answer = self.set_policy(app, json!({ "expression": expression })).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
    }

    /// The details of the newest `token.revoked` audit event.
    async fn last_revocation(&self, app: &Server) -> Value {
        let audit = app.admin_get(&self.path("/audit?limit=50")).await;
        audit.body["events"]
            .as_array()
            .and_then(|events| events.iter().find(|e| e["action"] == "token.revoked"))
            .map(|e| e["details"].clone())
            .unwrap_or_else(|| panic!("no token.revoked event: {}", audit.text))
    }

    async fn active(&self, app: &Server, tokens: &[&str]) -> Vec<bool> {
        let mut active = Vec::new();
        for token in tokens {
            active.push(app.is_active(&self.domain, &self.rs, token).await);
        }
        active
    }
}

fn evaluate_body(expression: Option<&str>) -> Value {
    let mut body = json!({
        "client": {"client_id":"web","client_type":"confidential","domain_admin":false,"scopes":["openid"]},
        "token": {"kind":"refresh","client_id":"web","username":"alice","scopes":["openid"],
                  "issued_at":"2026-12-07T09:00:00Z","expires_at":"2026-12-21T09:00:00Z","active":true},
        "request": {"revoke_level":"NONE","token_type":"NONE","endpoint":"oam","reason":null},
        "now": "2026-12-07T10:00:00Z",
    });
    if let Some(expression) = expression {
        body["expression"] = json!(expression);
    }
    body
}

crate::both_backends! {
    async fn a_policy_allows_some_revocations_and_denies_others(app) {
        let s = scene(&app).await;
        s.must_set(&app, "token.kind == 'access' && request.endpoint == 'oam'").await;
        let (access, refresh) = app.login(&s.domain, &s.web, "alice", "pw").await;

        let denied = app.revoke(&s.domain, &s.web, &[("token", &refresh)]).await;
        denied.assert_error(400, "unauthorized_client");
        assert_eq!(denied.body["error_description"], DENIED);
        let denied = app.oauth_post("/oauth2/revoke", &s.domain, &s.web, &[("token", &access)]).await;
        assert_eq!(denied.body["error_description"], DENIED, "{}", denied.text);
        assert_eq!(s.active(&app, &[&access, &refresh]).await, [true, true], "a denial changes nothing");

        let allowed = app.revoke(&s.domain, &s.web, &[("token", &access)]).await;
        assert_eq!(allowed.status, 200, "{}", allowed.text);
        assert_eq!(s.active(&app, &[&access, &refresh]).await, [false, true]);
        let details = s.last_revocation(&app).await;
        assert_eq!(details["policy"], json!({"allow": true, "revoke_level": null, "reason": null, "error": null}));

        // Unknown tokens never reach the policy: still RFC 7009's success.
        let unknown = app.revoke(&s.domain, &s.web, &[("token", "no-such-token")]).await;
        assert_eq!(unknown.status, 200, "{}", unknown.text);
    }

    async fn a_policy_raises_the_level_to_the_whole_family(app) {
        let s = scene(&app).await;
        s.must_set(&app, "token.kind == 'access' ? {'allow': true, 'revoke_level': 'RELATED_TOKENS'} : true").await;
        let (access, refresh) = app.login(&s.domain, &s.web, "alice", "pw").await;
        let (other_access, other_refresh) = app.login(&s.domain, &s.web, "alice", "pw").await;

        let answer = app.revoke(&s.domain, &s.web, &[("token", &access), ("revoke_level", "NONE")]).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(
            s.active(&app, &[&access, &refresh, &other_access, &other_refresh]).await,
            [false, false, true, true],
            "the family went, the other login's did not"
        );
        let details = s.last_revocation(&app).await;
        assert_eq!(details["level"], "RELATED_TOKENS");
        assert_eq!(details["count"], 2);
        assert_eq!(details["policy"]["revoke_level"], "RELATED_TOKENS");
    }

    async fn a_policy_gives_the_reason_the_request_did_not(app) {
        let s = scene(&app).await;
        s.must_set(&app, "{'allow': true, 'reason': 'policy: ' + client.client_id}").await;
        let (access, refresh) = app.login(&s.domain, &s.web, "alice", "pw").await;

        let answer = app.revoke(&s.domain, &s.web, &[("token", &access)]).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(s.last_revocation(&app).await["reason"], "policy: web");
        let lookup = app.admin_post(&s.path("/tokens/lookup"), json!({"token": access})).await;
        assert_eq!(lookup.body["reason"], "policy: web", "{}", lookup.text);

        // The request's own reason wins.
        let answer = app.revoke(&s.domain, &s.web, &[("token", &refresh), ("reason", "user logged out")]).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        let lookup = app.admin_post(&s.path("/tokens/lookup"), json!({"token": refresh})).await;
        assert_eq!(lookup.body["reason"], "user logged out", "{}", lookup.text);
    }

    async fn a_failing_policy_lets_the_revocation_through_and_says_why(app) {
        let s = scene(&app).await;
        let range = format!("[{}]", (0..100).map(|i| i.to_string()).collect::<Vec<_>>().join(","));
        let too_costly = format!("!{range}.all(a, {range}.all(b, {range}.all(c, c != 1000)))");
        for (expression, error) in [
            ("1 / 0 == 1", "zero"),
            ("token.no_such_field == 'x'", "no_such_field"),
            ("{'allow': 'yes'}", "allow must be a bool"),
            (too_costly.as_str(), "cost limit"),
        ] {
            s.must_set(&app, expression).await;
            let issued = app.token(&s.domain, &s.web, &[("grant_type", "client_credentials")]).await;
            let token = issued.body["access_token"].as_str().unwrap().to_owned();
            let started = Instant::now();
            let answer = app.revoke(&s.domain, &s.web, &[("token", &token)]).await;
            assert_eq!(answer.status, 200, "{expression}: {}", answer.text);
            assert!(started.elapsed() < Duration::from_secs(5), "{expression} took {:?}", started.elapsed());
            assert_eq!(s.active(&app, &[&token]).await, [false], "{expression}");
            let policy = &s.last_revocation(&app).await["policy"];
            assert_eq!(policy["allow"], true, "{expression}: {policy}");
            assert!(policy["error"].as_str().is_some_and(|e| e.contains(error)), "{expression}: {policy}");
        }
    }

    async fn a_disabled_policy_is_kept_but_not_run(app) {
        let s = scene(&app).await;
        let answer = s.set_policy(&app, json!({"expression": "false", "enabled": false})).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(answer.body["enabled"], false);
        let (access, _) = app.login(&s.domain, &s.web, "alice", "pw").await;
        let revoked = app.revoke(&s.domain, &s.web, &[("token", &access)]).await;
        assert_eq!(revoked.status, 200, "{}", revoked.text);
        assert!(s.last_revocation(&app).await.get("policy").is_none());

        // Enabled again, it runs from the next request on.
        s.must_set(&app, "false").await;
        let (access, _) = app.login(&s.domain, &s.web, "alice", "pw").await;
        let denied = app.revoke(&s.domain, &s.web, &[("token", &access)]).await;
        assert_eq!(denied.body["error_description"], DENIED, "{}", denied.text);
    }

    async fn policies_are_stored_shown_and_removed(app) {
        let s = scene(&app).await;
        let path = s.path("/revocation-policy");
        app.admin_get(&path).await.assert_error(404, "not_found");
        app.admin(Method::DELETE, &path, None).await.assert_error(404, "not_found");

        let syntax = s.set_policy(&app, json!({"expression": "token.kind =="})).await;
        syntax.assert_error(400, "invalid_request");
        assert!(syntax.body["error_description"].as_str().unwrap().contains("1:14"), "{}", syntax.text);
        let typo = s.set_policy(&app, json!({"expression": "true &&\n  tokn.active"})).await;
        typo.assert_error(400, "invalid_request");
        assert!(typo.body["error_description"].as_str().unwrap().contains("2:3"), "{}", typo.text);
        for body in [json!({}), json!({"expression": 1}), json!({"expression": "true", "colour": "red"}), json!({"expression": "true", "enabled": "yes"})] {
            s.set_policy(&app, body).await.assert_error(400, "invalid_request");
        }
        app.admin_get(&path).await.assert_error(404, "not_found");

        let stored = s.set_policy(&app, json!({"expression": "true"})).await;
        assert_eq!(stored.status, 200, "{}", stored.text);
        assert_eq!(stored.body["expression"], "true");
        assert_eq!(stored.body["enabled"], true);
        let shown = app.admin_get(&path).await;
        assert_eq!(shown.body, stored.body);
        let replaced = s.set_policy(&app, json!({"expression": "false", "enabled": false})).await;
        assert_eq!(replaced.body["expression"], "false", "{}", replaced.text);
        assert_eq!(replaced.body["created_at"], stored.body["created_at"]);

        let deleted = app.admin(Method::DELETE, &path, None).await;
        assert_eq!(deleted.status, 200, "{}", deleted.text);
        assert_eq!(deleted.body, json!({"status":"success"}));
        app.admin_get(&path).await.assert_error(404, "not_found");

        let audit = app.admin_get(&s.path("/audit")).await;
        let actions: Vec<&str> = audit.body["events"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
        assert!(actions.starts_with(&["revocation_policy.deleted", "revocation_policy.set", "revocation_policy.set"]), "{actions:?}");

        let unknown = "/admin/v1/domains/no-such-domain/revocation-policy";
        app.admin_get(unknown).await.assert_error(404, "not_found");
        app.admin(Method::PUT, unknown, Some(json!({"expression": "true"}))).await.assert_error(404, "not_found");
        app.admin_post(&format!("{unknown}/evaluate"), evaluate_body(Some("true"))).await.assert_error(404, "not_found");
        let unauthenticated = app.http.get(app.url(&path)).send().await.unwrap();
        assert_eq!(unauthenticated.status(), 401);
    }

    async fn the_evaluate_endpoint_decides_without_revoking(app) {
        let s = scene(&app).await;
        let path = s.path("/revocation-policy/evaluate");
        app.admin_post(&path, evaluate_body(None)).await.assert_error(404, "not_found");

        let raise = "token.kind == 'refresh' && now > token.issued_at ? {'allow': true, 'revoke_level': 'RELATED_CONSENT', 'reason': 'refresh'} : false";
        let answer = app.admin_post(&path, evaluate_body(Some(raise))).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(answer.body, json!({"allow": true, "revoke_level": "RELATED_CONSENT", "reason": "refresh", "error": null}));

        let failing = app.admin_post(&path, evaluate_body(Some("1 / 0 == 1"))).await;
        assert_eq!(failing.body["allow"], true, "{}", failing.text);
        assert_eq!(failing.body["revoke_level"], "NONE");
        assert!(failing.body["error"].as_str().is_some_and(|e| e.contains("zero")), "{}", failing.text);

        let syntax = app.admin_post(&path, evaluate_body(Some("("))).await;
        syntax.assert_error(400, "invalid_request");
        assert!(syntax.body["error_description"].as_str().unwrap().contains("1:2"), "{}", syntax.text);
        for (part, field, value) in [("token", "issued_at", json!("yesterday")), ("request", "reason", json!("")), ("client", "client_type", json!("robot"))] {
            let mut malformed = evaluate_body(Some("true"));
            malformed[part][field] = value;
            app.admin_post(&path, malformed).await.assert_error(400, "invalid_request");
        }

        // Without `expression`: the stored policy, even while it is disabled.
        let stored = s.set_policy(&app, json!({"expression": "client.client_id == 'mobile'", "enabled": false})).await;
        assert_eq!(stored.status, 200, "{}", stored.text);
        let answer = app.admin_post(&path, evaluate_body(None)).await;
        assert_eq!(answer.body, json!({"allow": false, "revoke_level": "NONE", "reason": null, "error": null}), "{}", answer.text);
        assert!(app.admin_get(&s.path("/audit")).await.body["events"].as_array().unwrap().iter().all(|e| e["action"] != "token.revoked"));
    }
}

async fn client_token(app: &Server, s: &Scene) -> String {
    let issued = app
        .token(&s.domain, &s.web, &[("grant_type", "client_credentials")])
        .await;
    issued.body["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_change_reaches_the_other_instances() {
    let Some(database) = shared_postgres() else { return };
    let a = spawn_with_settings(test_settings(database.clone()), None).await;
    let b = spawn_with_settings(test_settings(database), None).await;
    let s = scene(&a).await;

    // B caches that the domain has no policy.
    let token = client_token(&b, &s).await;
    assert_eq!(b.revoke(&s.domain, &s.web, &[("token", &token)]).await.status, 200);

    s.must_set(&a, "false").await;
    assert!(
        eventually(Duration::from_secs(5), || async {
            let token = client_token(&b, &s).await;
            b.revoke(&s.domain, &s.web, &[("token", &token)]).await.body["error_description"] == DENIED
        })
        .await
        .is_some(),
        "instance B never ran the new policy"
    );

    let deleted = a.admin(Method::DELETE, &s.path("/revocation-policy"), None).await;
    assert_eq!(deleted.status, 200, "{}", deleted.text);
    assert!(
        eventually(Duration::from_secs(5), || async {
            let token = client_token(&b, &s).await;
            b.revoke(&s.domain, &s.web, &[("token", &token)]).await.status == 200
        })
        .await
        .is_some(),
        "instance B kept running a removed policy"
    );
}
