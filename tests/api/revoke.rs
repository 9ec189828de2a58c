//! SPEC §3.1, §3.2: revocation, its levels and who may revoke, checked on the state of
//! every token of a scene afterwards.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::helpers::{Answer, TestApp, TestClient};

const USER_GRANTS: &str = r#"["client_credentials","password","refresh_token"]"#;

/// A domain with several families: alice@web (two families, one rotated), bob@web,
/// alice@spa (two families), and a client_credentials token of web.
struct Scene {
    domain: String,
    web: TestClient,
    other: TestClient,
    admin: TestClient,
    spa: TestClient,
    /// Resource server used to look at every token.
    rs: TestClient,
    tokens: BTreeMap<&'static str, String>,
}

/// (token, family, consent); `R1` was rotated, so it starts inactive.
const MEMBERS: [(&str, Option<&str>, Option<&str>); 13] = [
    ("A1", Some("F1"), Some("alice@web")),
    ("R1", Some("F1"), Some("alice@web")),
    ("A2", Some("F1"), Some("alice@web")),
    ("R2", Some("F1"), Some("alice@web")),
    ("A3", Some("F2"), Some("alice@web")),
    ("R3", Some("F2"), Some("alice@web")),
    ("A4", Some("F3"), Some("bob@web")),
    ("R4", Some("F3"), Some("bob@web")),
    ("A5", Some("F4"), Some("alice@spa")),
    ("R5", Some("F4"), Some("alice@spa")),
    ("A7", Some("F5"), Some("alice@spa")),
    ("R7", Some("F5"), Some("alice@spa")),
    ("A6", None, None),
];

async fn scene(app: &TestApp, public_clients_can_revoke: bool) -> Scene {
    let domain = app
        .create_domain_with(json!({"public_clients_can_revoke": public_clients_can_revoke}))
        .await;
    let grants: Value = serde_json::from_str(USER_GRANTS).unwrap();
    let web = app
        .create_client(
            &domain,
            json!({"client_id":"web","grant_types":grants,"scopes":["openid"]}),
        )
        .await;
    let other = app
        .create_client(&domain, json!({"client_id":"other","grant_types":grants}))
        .await;
    let admin = app
        .create_client(&domain, json!({"client_id":"admin","domain_admin":true}))
        .await;
    let spa = app
        .create_client(&domain, json!({"client_id":"spa","client_type":"public"}))
        .await;
    let rs = app.create_client(&domain, json!({"client_id":"rs"})).await;
    app.create_user(&domain, "alice", "pw-a").await;
    app.create_user(&domain, "bob", "pw-b").await;

    let mut tokens = BTreeMap::new();
    let (a1, r1) = app.login(&domain, &web, "alice", "pw-a").await;
    let refreshed = app
        .token(
            &domain,
            &web,
            &[("grant_type", "refresh_token"), ("refresh_token", &r1)],
        )
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    tokens.insert("A1", a1);
    tokens.insert("R1", r1);
    tokens.insert("A2", refreshed.body["access_token"].as_str().unwrap().to_owned());
    tokens.insert("R2", refreshed.body["refresh_token"].as_str().unwrap().to_owned());
    let (a3, r3) = app.login(&domain, &web, "alice", "pw-a").await;
    tokens.insert("A3", a3);
    tokens.insert("R3", r3);
    let (a4, r4) = app.login(&domain, &web, "bob", "pw-b").await;
    tokens.insert("A4", a4);
    tokens.insert("R4", r4);
    let (a5, r5) = app.login(&domain, &spa, "alice", "pw-a").await;
    tokens.insert("A5", a5);
    tokens.insert("R5", r5);
    let (a7, r7) = app.login(&domain, &spa, "alice", "pw-a").await;
    tokens.insert("A7", a7);
    tokens.insert("R7", r7);
    let cc = app.token(&domain, &web, &[("grant_type", "client_credentials")]).await;
    tokens.insert("A6", cc.body["access_token"].as_str().unwrap().to_owned());
    Scene {
        domain,
        web,
        other,
        admin,
        spa,
        rs,
        tokens,
    }
}

/// `revoked_by` and `revoked_reason` as the token's row keeps them.
async fn stored_revocation(app: &TestApp, token: &str) -> (Option<String>, Option<String>) {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use revokd::store::schema::tokens;
    let hash = revokd::security::Sha256Digest::of(token.as_bytes());
    app.store
        .read(move |mut db| {
            Box::pin(async move {
                Ok(revokd::on_db!(&mut db, |conn| tokens::table
                    .filter(tokens::token_hash.eq(hash.as_bytes().as_slice()))
                    .select((tokens::revoked_by, tokens::revoked_reason))
                    .get_result(conn)
                    .await)?)
            })
        })
        .await
        .expect("token row read")
}

impl Scene {
    async fn active(&self, app: &TestApp) -> BTreeSet<&'static str> {
        let mut active = BTreeSet::new();
        for (name, token) in &self.tokens {
            if app.is_active(&self.domain, &self.rs, token).await {
                active.insert(*name);
            }
        }
        active
    }
}

/// What a level reaches from `presented`, by the scene's membership table.
fn reached(level: &str, presented: &str) -> BTreeSet<&'static str> {
    let (_, family, consent) = MEMBERS.iter().find(|(name, ..)| *name == presented).copied().unwrap();
    MEMBERS
        .iter()
        .filter(|(name, f, c)| {
            *name == presented
                || (level != "NONE" && family.is_some() && *f == family)
                || (level == "RELATED_CONSENT" && consent.is_some() && *c == consent)
        })
        .map(|(name, ..)| *name)
        .collect()
}

#[derive(Debug, Clone, Copy)]
enum Actor {
    Owner,
    OtherClient,
    DomainAdmin,
    PublicAllowed,
    PublicForbidden,
}

async fn run_table(app: &TestApp) {
    let actors = [
        Actor::Owner,
        Actor::OtherClient,
        Actor::DomainAdmin,
        Actor::PublicAllowed,
        Actor::PublicForbidden,
    ];
    for actor in actors {
        for level in ["NONE", "RELATED_TOKENS", "RELATED_CONSENT"] {
            let presented_tokens: &[&str] = match actor {
                Actor::PublicAllowed | Actor::PublicForbidden => &["A5", "R5"],
                _ => &["A2", "R2", "A6"],
            };
            for presented in presented_tokens {
                let scene = scene(app, !matches!(actor, Actor::PublicForbidden)).await;
                let before = scene.active(app).await;
                assert!(!before.contains("R1") && before.len() == 12, "{before:?}");
                let client = match actor {
                    Actor::Owner => &scene.web,
                    Actor::OtherClient => &scene.other,
                    Actor::DomainAdmin => &scene.admin,
                    Actor::PublicAllowed | Actor::PublicForbidden => &scene.spa,
                };
                let answer = app
                    .revoke(
                        &scene.domain,
                        client,
                        &[("token", &scene.tokens[presented]), ("revoke_level", level)],
                    )
                    .await;
                let after = scene.active(app).await;
                let case = format!("{actor:?} {level} {presented}");
                match actor {
                    Actor::OtherClient | Actor::PublicForbidden => {
                        answer.assert_error(400, "unauthorized_client");
                        assert_eq!(after, before, "{case}: nothing may change");
                    }
                    _ => {
                        assert_eq!(answer.status, 200, "{case}: {}", answer.text);
                        assert_eq!(answer.body, json!({"status":"success"}));
                        let expected: BTreeSet<_> = before.difference(&reached(level, presented)).copied().collect();
                        assert_eq!(after, expected, "{case}");
                    }
                }
            }
        }
    }
}

crate::both_backends! {
    async fn every_level_kind_and_actor_leaves_exactly_the_right_tokens_alive(app) {
        run_table(&app).await;
    }

    async fn levels_apply_to_rotated_and_revoked_tokens_too(app) {
        let s = scene(&app, true).await;
        // R1 was rotated: RELATED_TOKENS on it still kills the live rest of F1.
        let answer = app.revoke(&s.domain, &s.web, &[("token", &s.tokens["R1"]), ("revoke_level", "RELATED_TOKENS")]).await;
        assert_eq!(answer.status, 200);
        let after = s.active(&app).await;
        for name in ["A1", "A2", "R2"] {
            assert!(!after.contains(name), "{name}");
        }
        assert!(after.contains("A3"));
        // A3 revoked alone, then RELATED_CONSENT on it: the rest of alice@web goes.
        app.revoke(&s.domain, &s.web, &[("token", &s.tokens["A3"])]).await;
        app.revoke(&s.domain, &s.web, &[("token", &s.tokens["A3"]), ("revoke_level", "RELATED_CONSENT")]).await;
        let after = s.active(&app).await;
        assert!(!after.contains("R3"));
        assert!(after.contains("A4") && after.contains("A5"), "other consents untouched");
    }

    async fn nothing_to_revoke_is_still_success_and_changes_nothing(app) {
        let s = scene(&app, true).await;
        let elsewhere = scene(&app, true).await;
        let before = s.active(&app).await;
        for token in ["unknown", "eyJhbGciOiJub25lIn0.e30.", "' OR 1=1 --", elsewhere.tokens["A2"].as_str()] {
            let answer = app.revoke(&s.domain, &s.admin, &[("token", token), ("revoke_level", "RELATED_CONSENT")]).await;
            assert_eq!(answer.status, 200, "{}", answer.text);
            assert_eq!(answer.body, json!({"status":"success"}));
        }
        assert_eq!(s.active(&app).await, before);
        assert_eq!(elsewhere.active(&app).await.len(), 12, "the other domain's tokens are untouched");
        // Already revoked: success again.
        app.revoke(&s.domain, &s.web, &[("token", &s.tokens["A2"])]).await;
        let again = app.revoke(&s.domain, &s.web, &[("token", &s.tokens["A2"])]).await;
        assert_eq!(again.status, 200);
    }

    async fn token_type_is_only_a_hint(app) {
        let s = scene(&app, true).await;
        let answer = app.revoke(&s.domain, &s.web, &[("token", &s.tokens["R2"]), ("token_type", "ACCESS_TOKEN")]).await;
        assert_eq!(answer.status, 200);
        assert!(!app.is_active(&s.domain, &s.rs, &s.tokens["R2"]).await);
        let hinted = app.revoke(&s.domain, &s.web, &[("token", &s.tokens["A3"]), ("token_type_hint", "something_else")]).await;
        assert_eq!(hinted.status, 200);
        assert!(!app.is_active(&s.domain, &s.rs, &s.tokens["A3"]).await);
    }

    async fn bad_parameters_are_400_and_change_nothing(app) {
        let s = scene(&app, true).await;
        let before = s.active(&app).await;
        let a2 = s.tokens["A2"].as_str();
        let long = "t".repeat(8 * 1024 + 1);
        let long_reason = "é".repeat(201);
        let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
            (vec![("token", a2), ("reason", long_reason.as_str())], "200 characters"),
            (vec![("token", a2), ("reason", "bad\u{7}bell")], "control"),
            (vec![("token", a2), ("reason", "nul\u{0}byte")], "NUL"),
            (vec![("token", a2), ("client_id", "we\u{0}b")], "NUL"),
            (vec![("token", a2), ("reason", "")], "empty"),
            (vec![("token", a2), ("revoke_level", "ALL")], "NONE, RELATED_TOKENS, RELATED_CONSENT"),
            (vec![("token", a2), ("token_type", "ID_TOKEN")], "ACCESS_TOKEN, REFRESH_TOKEN, NONE"),
            (vec![("token", a2), ("token", a2)], "repeat"),
            (vec![("token", a2), ("revoke_level", "")], "empty"),
            (vec![("token", "")], "empty"),
            (vec![("revoke_level", "NONE")], "token"),
            (vec![("token", long.as_str())], "8192"),
        ];
        for (form, mentions) in cases {
            let answer = app.revoke(&s.domain, &s.web, &form).await;
            answer.assert_error(400, "invalid_request");
            assert!(answer.body["error_description"].as_str().unwrap().contains(mentions), "{}", answer.text);
        }
        let non_utf8 = Answer::from(
            app.http
                .post(app.url(&format!("/oauth2/rest/token/revoke?identityDomain={}", s.domain)))
                .basic_auth("web", s.web.secret.as_deref())
                .header("content-type", "application/x-www-form-urlencoded")
                .body(b"token=%FF%FE".to_vec())
                .send()
                .await
                .unwrap(),
        )
        .await;
        non_utf8.assert_error(400, "invalid_request");
        let nul_user = TestClient { client_id: "we\u{0}b".into(), secret: s.web.secret.clone() };
        app.revoke(&s.domain, &nul_user, &[("token", a2)]).await.assert_error(401, "invalid_client");
        let nul_username = app
            .token(&s.domain, &s.web, &[("grant_type", "password"), ("username", "ali\u{0}ce"), ("password", "pw-a")])
            .await;
        nul_username.assert_error(400, "invalid_request");
        assert_eq!(s.active(&app).await, before);
    }

    async fn an_empty_hint_is_as_if_absent(app) {
        let s = scene(&app, true).await;
        let answer = app.revoke(&s.domain, &s.web, &[("token", &s.tokens["A2"]), ("token_type_hint", "")]).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert!(!app.is_active(&s.domain, &s.rs, &s.tokens["A2"]).await);
    }

    async fn bad_credentials_are_401_with_a_basic_challenge(app) {
        let s = scene(&app, true).await;
        let wrong = TestClient { client_id: "web".into(), secret: Some("nope".into()) };
        let answer = app.revoke(&s.domain, &wrong, &[("token", &s.tokens["A2"])]).await;
        answer.assert_error(401, "invalid_client");
        assert_eq!(answer.header("www-authenticate"), Some(format!("Basic realm=\"{}\"", s.domain).as_str()));
        let missing = Answer::from(
            app.http
                .post(app.url(&format!("/oauth2/rest/token/revoke?identityDomain={}", s.domain)))
                .form(&[("token", s.tokens["A2"].as_str())])
                .send()
                .await
                .unwrap(),
        )
        .await;
        missing.assert_error(401, "invalid_client");
        assert!(app.is_active(&s.domain, &s.rs, &s.tokens["A2"]).await);
    }

    async fn rfc7009_alias_defaults_follow_the_real_token_kind(app) {
        let s = scene(&app, true).await;
        let alias = |form: Vec<(&'static str, String)>| {
            let client = s.web.clone();
            let domain = s.domain.clone();
            let app = &app;
            async move {
                let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
                app.oauth_post("/oauth2/revoke", &domain, &client, &form).await
            }
        };
        // A refresh token (hinted as an access token) takes its family.
        let answer = alias(vec![("token", s.tokens["R2"].clone()), ("token_type_hint", "access_token".into())]).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(answer.body, json!({"status":"success"}));
        let after = s.active(&app).await;
        assert!(!after.contains("A2") && !after.contains("A1"));
        // An access token goes alone.
        alias(vec![("token", s.tokens["A3"].clone())]).await;
        let after = s.active(&app).await;
        assert!(!after.contains("A3") && after.contains("R3"));
        // An explicit level wins.
        alias(vec![("token", s.tokens["A4"].clone()), ("revoke_level", "RELATED_TOKENS".into())]).await;
        assert!(!s.active(&app).await.contains("R4"));
    }

    async fn each_revocation_is_audited_without_the_token(app) {
        let s = scene(&app, true).await;
        let answer = app
            .http
            .post(app.url(&format!("/oauth2/rest/token/revoke?identityDomain={}", s.domain)))
            .basic_auth("admin", s.admin.secret.as_deref())
            .header("x-request-id", "revoke-req-1")
            .form(&[("token", s.tokens["R2"].as_str()), ("revoke_level", "RELATED_CONSENT")])
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        let audit = app.admin_get(&format!("/admin/v1/domains/{}/audit?limit=1", s.domain)).await;
        let event = &audit.body["events"][0];
        assert_eq!(event["action"], "token.revoked");
        assert_eq!(event["actor"], "admin");
        assert_eq!(event["request_id"], "revoke-req-1");
        assert_eq!(event["details"]["level"], "RELATED_CONSENT");
        assert_eq!(event["details"]["token_kind"], "refresh");
        // F1 live: A1, A2, R2; F2: A3, R3.
        assert_eq!(event["details"]["revoked"], json!({"access": 3, "refresh": 2}));
        assert_eq!(event["details"]["count"], 5);
        for token in s.tokens.values() {
            assert!(!audit.text.contains(token.as_str()));
        }
    }

    async fn a_reason_is_kept_with_the_revocation_and_never_shown_by_introspection(app) {
        let s = scene(&app, true).await;
        // 200 characters, not bytes: the limit counts characters.
        let reason = format!("laptop stolen {}", "é".repeat(186));
        assert_eq!(reason.chars().count(), 200);
        for (path, token) in [("/oauth2/rest/token/revoke", "A3"), ("/oauth2/revoke", "R3")] {
            let answer = app
                .oauth_post(path, &s.domain, &s.web, &[("token", s.tokens[token].as_str()), ("reason", reason.as_str())])
                .await;
            assert_eq!(answer.status, 200, "{}", answer.text);
            let audit = app.admin_get(&format!("/admin/v1/domains/{}/audit?limit=1", s.domain)).await;
            let event = &audit.body["events"][0];
            assert_eq!(event["action"], "token.revoked");
            assert_eq!(event["details"]["reason"], reason.as_str(), "{path}");
            let introspected = app.introspect(&s.domain, &s.rs, &s.tokens[token]).await;
            assert_eq!(introspected.body, json!({"active": false}));
            assert!(!introspected.text.contains("laptop"));
        }
        // And on the token's own row, beside who revoked it.
        let stored = stored_revocation(&app, &s.tokens["A3"]).await;
        assert_eq!(stored, (Some("web".to_owned()), Some(reason.clone())));
        // Without a reason, none is stored (the audit event says null).
        app.revoke(&s.domain, &s.web, &[("token", s.tokens["A1"].as_str())]).await;
        assert_eq!(stored_revocation(&app, &s.tokens["A1"]).await, (Some("web".to_owned()), None));
    }

    async fn revocations_racing_refreshes_leave_no_live_family_member(app) {
        let s = scene(&app, true).await;
        let (access, refresh) = app.login(&s.domain, &s.web, "bob", "pw-b").await;
        let refresh_form = [("grant_type", "refresh_token"), ("refresh_token", refresh.as_str())];
        let revoke_form = [("token", access.as_str()), ("revoke_level", "RELATED_TOKENS")];
        let mut refreshes = Vec::new();
        let mut revocations = Vec::new();
        for _ in 0..6 {
            refreshes.push(app.token(&s.domain, &s.web, &refresh_form));
            revocations.push(app.revoke(&s.domain, &s.web, &revoke_form));
        }
        let (refreshed, revoked) = tokio::join!(futures_util::future::join_all(refreshes), futures_util::future::join_all(revocations));
        for answer in &revoked {
            assert_eq!(answer.status, 200, "{}", answer.text);
        }
        for answer in refreshed.iter().filter(|a| a.status == 200) {
            for token in [&answer.body["access_token"], &answer.body["refresh_token"]] {
                assert!(!app.is_active(&s.domain, &s.rs, token.as_str().unwrap()).await, "a family member survived");
            }
        }
        for answer in refreshed.iter().filter(|a| a.status != 200) {
            answer.assert_error(400, "invalid_grant");
        }
        assert!(!app.is_active(&s.domain, &s.rs, &access).await);
        assert!(!app.is_active(&s.domain, &s.rs, &refresh).await);
    }

    async fn two_domains_revoking_at_once_never_interfere(app) {
        let one = scene(&app, true).await;
        let two = scene(&app, true).await;
        let form_one = [("token", one.tokens["A2"].as_str()), ("revoke_level", "RELATED_CONSENT")];
        let form_two = [("token", two.tokens["A4"].as_str()), ("revoke_level", "RELATED_TOKENS")];
        let (a, b) = tokio::join!(
            app.revoke(&one.domain, &one.web, &form_one),
            app.revoke(&two.domain, &two.web, &form_two),
        );
        assert_eq!((a.status, b.status), (200, 200));
        let expected_one: BTreeSet<_> = MEMBERS.iter().map(|m| m.0).filter(|n| *n != "R1").collect::<BTreeSet<_>>()
            .difference(&reached("RELATED_CONSENT", "A2")).copied().collect();
        let expected_two: BTreeSet<_> = MEMBERS.iter().map(|m| m.0).filter(|n| *n != "R1").collect::<BTreeSet<_>>()
            .difference(&reached("RELATED_TOKENS", "A4")).copied().collect();
        assert_eq!(one.active(&app).await, expected_one);
        assert_eq!(two.active(&app).await, expected_two);
    }
}

mod get_requests {
    use super::*;
    use crate::helpers::{Backend, spawn_app_with};

    #[tokio::test]
    async fn get_is_allowed_only_when_configured() {
        let Some(app) = spawn_app_with(Backend::Sqlite, |s| s.require_post = false).await else {
            return;
        };
        let s = scene(&app, true).await;
        let answer = Answer::from(
            app.http
                .get(app.url(&format!(
                    "/oauth2/rest/token/revoke?identityDomain={}&token={}",
                    s.domain,
                    crate::helpers::basic_escape(&s.tokens["A2"])
                )))
                .basic_auth("web", s.web.secret.as_deref())
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert!(!app.is_active(&s.domain, &s.rs, &s.tokens["A2"]).await);
        let alias = Answer::from(
            app.http
                .get(app.url(&format!(
                    "/oauth2/revoke?identityDomain={}&token={}",
                    s.domain,
                    crate::helpers::basic_escape(&s.tokens["R3"])
                )))
                .basic_auth("web", s.web.secret.as_deref())
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(alias.status, 200, "{}", alias.text);
        assert!(
            !app.is_active(&s.domain, &s.rs, &s.tokens["A3"]).await,
            "RFC 7009 default took the family"
        );
    }
}
