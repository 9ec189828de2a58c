//! SPEC §3.3: the token endpoint — every grant, every RFC 6749 §5.2 error, rotation,
//! reuse detection, the concurrent-refresh race, TTLs, and JWTs checked against JWKS.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header, jwk::JwkSet};
use serde_json::{Value, json};

use crate::helpers::{Answer, TestApp, TestClient, basic_escape};

const ALL_GRANTS: &str = r#"["client_credentials","password","refresh_token"]"#;

/// A domain with a confidential client allowed every grant and a user.
async fn scene(app: &TestApp, settings: Value) -> (String, TestClient) {
    let domain = app.create_domain_with(settings).await;
    let grants: Value = serde_json::from_str(ALL_GRANTS).unwrap();
    let client = app
        .create_client(
            &domain,
            json!({"client_id":"web","grant_types":grants,"scopes":["openid","profile","email"]}),
        )
        .await;
    app.create_user(&domain, "alice", "correct horse").await;
    (domain, client)
}

async fn refreshed(app: &TestApp, domain: &str, client: &TestClient, token: &str) -> Answer {
    app.token(
        domain,
        client,
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    )
    .await
}

async fn jwks(app: &TestApp, domain: &str) -> JwkSet {
    let answer = app.get(&format!("/oauth2/rest/jwks?identityDomain={domain}")).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    for key in answer.body["keys"].as_array().unwrap() {
        assert!(key.get("d").is_none(), "JWKS must hold public parts only");
    }
    serde_json::from_value(answer.body).unwrap()
}

/// Verifies `jwt` with a stock JOSE library against the domain's JWKS; its claims.
async fn verified_claims(app: &TestApp, domain: &str, jwt: &str) -> Value {
    let header = decode_header(jwt).unwrap();
    assert_eq!(header.alg, Algorithm::ES256);
    let keys = jwks(app, domain).await;
    let jwk = keys.find(header.kid.as_deref().expect("kid")).expect("kid in JWKS");
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_issuer(&[format!("{}/domains/{domain}", app.address)]);
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    decode::<Value>(jwt, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
        .unwrap()
        .claims
}

fn assert_token_response(answer: &Answer, with_refresh: bool) {
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    assert_eq!(answer.body["token_type"], "Bearer");
    assert!(
        answer.body["access_token"]
            .as_str()
            .is_some_and(|t| t.split('.').count() == 3)
    );
    assert_eq!(
        answer.body.get("refresh_token").is_some(),
        with_refresh,
        "{}",
        answer.text
    );
    let expected_fields = if with_refresh { 5 } else { 4 };
    assert_eq!(
        answer.body.as_object().unwrap().len(),
        expected_fields,
        "{}",
        answer.text
    );
}

crate::both_backends! {
    async fn client_credentials_issue_a_jwt_verifiable_with_the_jwks(app) {
        let (domain, client) = scene(&app, json!({})).await;
        let answer = app.token(&domain, &client, &[("grant_type", "client_credentials"), ("scope", "openid")]).await;
        assert_token_response(&answer, false);
        assert_eq!(answer.body["expires_in"], 3600);
        assert_eq!(answer.body["scope"], "openid");
        let claims = verified_claims(&app, &domain, answer.body["access_token"].as_str().unwrap()).await;
        assert_eq!(claims["sub"], "web");
        assert_eq!(claims["client_id"], "web");
        assert_eq!(claims["scope"], "openid");
        assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 3600);
        assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
        // The issuer is the metadata's.
        let metadata = app.get(&format!("/.well-known/oauth-authorization-server/domains/{domain}")).await;
        assert_eq!(claims["iss"], metadata.body["issuer"]);
        // Without scope: everything the client may have.
        let all = app.token(&domain, &client, &[("grant_type", "client_credentials")]).await;
        assert_eq!(all.body["scope"], "openid profile email");
    }

    async fn each_domain_signs_with_its_own_key(app) {
        let (one, c1) = scene(&app, json!({})).await;
        let (two, c2) = scene(&app, json!({})).await;
        let t1 = app.token(&one, &c1, &[("grant_type", "client_credentials")]).await.body["access_token"].as_str().unwrap().to_owned();
        let t2 = app.token(&two, &c2, &[("grant_type", "client_credentials")]).await.body["access_token"].as_str().unwrap().to_owned();
        assert_ne!(decode_header(&t1).unwrap().kid, decode_header(&t2).unwrap().kid);
        let other_keys = jwks(&app, &two).await;
        assert!(other_keys.find(decode_header(&t1).unwrap().kid.as_deref().unwrap()).is_none());
    }

    async fn password_grant_issues_a_pair_and_one_consent(app) {
        let (domain, client) = scene(&app, json!({})).await;
        let answer = app
            .token(&domain, &client, &[("grant_type", "password"), ("username", "alice"), ("password", "correct horse"), ("scope", "openid profile")])
            .await;
        assert_token_response(&answer, true);
        assert_eq!(answer.body["scope"], "openid profile");
        let access = answer.body["access_token"].as_str().unwrap();
        let claims = verified_claims(&app, &domain, access).await;
        assert_eq!(claims["sub"], "alice");
        assert_eq!(claims["client_id"], "web");
        let refresh = answer.body["refresh_token"].as_str().unwrap();
        assert!(refresh.len() >= 43, "at least 256 bits");

        // A second login reuses the consent, widening it to the new scope.
        app.token(&domain, &client, &[("grant_type", "password"), ("username", "alice"), ("password", "correct horse"), ("scope", "email")]).await;
        let consents = crate::helpers::Answer::from(
            app.http
                .get(app.url(&format!("/oauth2/rest/consents?identityDomain={domain}")))
                .bearer_auth(access)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(consents.status, 200, "{}", consents.text);
        let list = consents.body["consents"].as_array().unwrap();
        assert_eq!(list.len(), 1, "{}", consents.text);
        assert_eq!(list[0]["client_id"], "web");
        assert_eq!(list[0]["scopes"], json!(["openid", "profile", "email"]));
    }

    async fn public_clients_authenticate_by_client_id(app) {
        let domain = app.create_domain().await;
        let spa = app.create_client(&domain, json!({"client_id":"spa","client_type":"public","scopes":["openid"]})).await;
        assert!(spa.secret.is_none());
        app.create_user(&domain, "bob", "pw").await;
        let (_, refresh) = app.login(&domain, &spa, "bob", "pw").await;
        let refreshed = app.token(&domain, &spa, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
        assert_token_response(&refreshed, true);
        // A public client that sends a secret is refused: it has none.
        let with_secret = TestClient { client_id: "spa".into(), secret: Some("guess".into()) };
        app.token(&domain, &with_secret, &[("grant_type", "password"), ("username", "bob"), ("password", "pw")])
            .await
            .assert_error(401, "invalid_client");
    }

    async fn client_secret_post_and_encoded_basic_credentials(app) {
        let domain = app.create_domain().await;
        let odd = app.create_client(&domain, json!({"client_id":"urn:acme:svc 1"})).await;
        let secret = odd.secret.clone().unwrap();
        let basic = app.token(&domain, &odd, &[("grant_type", "client_credentials")]).await;
        assert_eq!(basic.status, 200, "form-urlencoded Basic credentials: {}", basic.text);
        let post = Answer::from(
            app.http
                .post(app.url(&format!("/oauth2/rest/token?identityDomain={domain}")))
                .form(&[("grant_type", "client_credentials"), ("client_id", "urn:acme:svc 1"), ("client_secret", &secret)])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(post.status, 200, "{}", post.text);
        // Both methods at once.
        let both = Answer::from(
            app.http
                .post(app.url(&format!("/oauth2/rest/token?identityDomain={domain}")))
                .basic_auth(basic_escape("urn:acme:svc 1"), Some(basic_escape(&secret)))
                .form(&[("grant_type", "client_credentials"), ("client_secret", &secret)])
                .send()
                .await
                .unwrap(),
        )
        .await;
        both.assert_error(400, "invalid_request");
        // The domain header wins over the query parameter.
        let header_wins = Answer::from(
            app.http
                .post(app.url("/oauth2/rest/token?identityDomain=someotherdomain"))
                .header("x-oauth-identity-domain-name", &domain)
                .basic_auth(basic_escape("urn:acme:svc 1"), Some(basic_escape(&secret)))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(header_wins.status, 200, "{}", header_wins.text);
    }

    async fn every_rfc6749_error(app) {
        let (domain, client) = scene(&app, json!({})).await;
        let narrow = app.create_client(&domain, json!({"client_id":"narrow","grant_types":["client_credentials"],"scopes":["openid"]})).await;
        let other_domain = app.create_domain().await;

        // invalid_request
        app.token(&domain, &client, &[]).await.assert_error(400, "invalid_request");
        app.token(&domain, &client, &[("grant_type", "password"), ("username", "alice")]).await.assert_error(400, "invalid_request");
        app.token(&domain, &client, &[("grant_type", "refresh_token")]).await.assert_error(400, "invalid_request");
        app.token(&domain, &client, &[("grant_type", "client_credentials"), ("grant_type", "client_credentials")]).await.assert_error(400, "invalid_request");
        app.token(&domain, &client, &[("grant_type", "client_credentials"), ("scope", "")]).await.assert_error(400, "invalid_request");
        let long = "r".repeat(9 * 1024);
        app.token(&domain, &client, &[("grant_type", "refresh_token"), ("refresh_token", &long)]).await.assert_error(400, "invalid_request");

        // invalid_client, with the Basic challenge naming the domain
        let wrong = TestClient { client_id: "web".into(), secret: Some("wrong".into()) };
        let answer = app.token(&domain, &wrong, &[("grant_type", "client_credentials")]).await;
        answer.assert_error(401, "invalid_client");
        assert_eq!(answer.header("www-authenticate"), Some(format!("Basic realm=\"{domain}\"").as_str()));
        let unknown = TestClient { client_id: "ghost".into(), secret: Some("x".into()) };
        app.token(&domain, &unknown, &[("grant_type", "client_credentials")]).await.assert_error(401, "invalid_client");
        let no_secret = TestClient { client_id: "web".into(), secret: None };
        app.token(&domain, &no_secret, &[("grant_type", "client_credentials")]).await.assert_error(401, "invalid_client");
        // A client of one domain cannot authenticate in another.
        app.token(&other_domain, &client, &[("grant_type", "client_credentials")]).await.assert_error(401, "invalid_client");

        // invalid_grant
        app.token(&domain, &client, &[("grant_type", "password"), ("username", "alice"), ("password", "nope")]).await.assert_error(400, "invalid_grant");
        app.token(&domain, &client, &[("grant_type", "password"), ("username", "nobody"), ("password", "nope")]).await.assert_error(400, "invalid_grant");
        app.token(&domain, &client, &[("grant_type", "refresh_token"), ("refresh_token", "not-a-token")]).await.assert_error(400, "invalid_grant");
        let access = app.login(&domain, &client, "alice", "correct horse").await.0;
        app.token(&domain, &client, &[("grant_type", "refresh_token"), ("refresh_token", &access)]).await.assert_error(400, "invalid_grant");

        // unauthorized_client
        app.token(&domain, &narrow, &[("grant_type", "password"), ("username", "alice"), ("password", "correct horse")])
            .await
            .assert_error(400, "unauthorized_client");

        // unsupported_grant_type
        app.token(&domain, &client, &[("grant_type", "authorization_code"), ("code", "x")]).await.assert_error(400, "unsupported_grant_type");

        // invalid_scope
        app.token(&domain, &narrow, &[("grant_type", "client_credentials"), ("scope", "openid admin")]).await.assert_error(400, "invalid_scope");
        app.token(&domain, &narrow, &[("grant_type", "client_credentials"), ("scope", "bad\"scope")]).await.assert_error(400, "invalid_scope");
    }

    async fn refresh_rotates_and_reuse_revokes_the_family(app) {
        let (domain, client) = scene(&app, json!({})).await;
        let (access1, refresh1) = app.login(&domain, &client, "alice", "correct horse").await;
        let rotated = app.token(&domain, &client, &[("grant_type", "refresh_token"), ("refresh_token", &refresh1)]).await;
        assert_token_response(&rotated, true);
        let access2 = rotated.body["access_token"].as_str().unwrap().to_owned();
        let refresh2 = rotated.body["refresh_token"].as_str().unwrap().to_owned();
        assert_ne!(refresh1, refresh2);
        // After a refresh the presented refresh token is inactive; earlier access tokens live on.
        assert!(!app.is_active(&domain, &client, &refresh1).await);
        assert!(app.is_active(&domain, &client, &access1).await);
        assert!(app.is_active(&domain, &client, &access2).await);
        // A narrower scope on refresh is allowed, a wider one is not.
        let narrowed = app.token(&domain, &client, &[("grant_type", "refresh_token"), ("refresh_token", &refresh2), ("scope", "openid")]).await;
        assert_eq!(narrowed.body["scope"], "openid", "{}", narrowed.text);
        let refresh3 = narrowed.body["refresh_token"].as_str().unwrap().to_owned();
        app.token(&domain, &client, &[("grant_type", "refresh_token"), ("refresh_token", &refresh3), ("scope", "openid profile")])
            .await
            .assert_error(400, "invalid_scope");

        // Reuse of the first refresh token: invalid_grant and the whole family dies.
        let reuse = app.token(&domain, &client, &[("grant_type", "refresh_token"), ("refresh_token", &refresh1)]).await;
        reuse.assert_error(400, "invalid_grant");
        for token in [&access1, &access2, &refresh2, &refresh3] {
            assert!(!app.is_active(&domain, &client, token).await, "family member still active");
        }
        app.token(&domain, &client, &[("grant_type", "refresh_token"), ("refresh_token", &refresh3)])
            .await
            .assert_error(400, "invalid_grant");
        let audit = app.admin_get(&format!("/admin/v1/domains/{domain}/audit?limit=1")).await;
        assert_eq!(audit.body["events"][0]["action"], "refresh_token.reused");
        assert!(!audit.text.contains(&refresh1));
    }

    async fn refresh_tokens_are_bound_to_their_client(app) {
        let (domain, client) = scene(&app, json!({})).await;
        let grants: Value = serde_json::from_str(ALL_GRANTS).unwrap();
        let other = app.create_client(&domain, json!({"client_id":"other","grant_types":grants,"scopes":["openid"]})).await;
        let (_, refresh) = app.login(&domain, &client, "alice", "correct horse").await;
        app.token(&domain, &other, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
            .await
            .assert_error(400, "invalid_grant");
        // Still usable by its own client: the failed attempt changed nothing.
        let ok = app.token(&domain, &client, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
        assert_eq!(ok.status, 200, "{}", ok.text);
    }

    async fn without_a_grace_window_concurrent_refreshes_of_one_token_let_exactly_one_through(app) {
        let (domain, client) = scene(&app, json!({"refresh_token_grace_secs": 0})).await;
        for _ in 0..8 {
            let (_, refresh) = app.login(&domain, &client, "alice", "correct horse").await;
            let form = [("grant_type", "refresh_token"), ("refresh_token", refresh.as_str())];
            let (a, b) = tokio::join!(app.token(&domain, &client, &form), app.token(&domain, &client, &form));
            let mut statuses = [a.status, b.status];
            statuses.sort();
            assert_eq!(statuses, [200, 400], "{} / {}", a.text, b.text);
            let loser = if a.status == 400 { &a } else { &b };
            loser.assert_error(400, "invalid_grant");
            // The loser was a reuse, so the winner's new tokens died with the family.
            let winner = if a.status == 200 { &a } else { &b };
            assert!(!app.is_active(&domain, &client, winner.body["refresh_token"].as_str().unwrap()).await);
        }
    }

    async fn a_retry_within_the_grace_window_gets_a_fresh_pair_and_the_unseen_one_dies(app) {
        let (domain, client) = scene(&app, json!({})).await;
        let (access1, refresh1) = app.login(&domain, &client, "alice", "correct horse").await;
        let pair = |answer: &Answer| {
            assert_eq!(answer.status, 200, "{}", answer.text);
            (answer.body["access_token"].as_str().unwrap().to_owned(), answer.body["refresh_token"].as_str().unwrap().to_owned())
        };
        // The answer to this refresh is "lost": the client sends refresh1 again.
        let (lost_access, lost_refresh) = pair(&refreshed(&app, &domain, &client, &refresh1).await);
        let (access2, refresh2) = pair(&refreshed(&app, &domain, &client, &refresh1).await);
        for token in [&lost_access, &lost_refresh] {
            assert!(!app.is_active(&domain, &client, token).await, "the unseen pair is revoked");
        }
        for token in [&access1, &access2, &refresh2] {
            assert!(app.is_active(&domain, &client, token).await, "nothing else is");
        }
        // The retried pair rotates as any other; once its refresh token was used,
        // refresh1 is plain reuse again and the family dies.
        let (access3, refresh3) = pair(&refreshed(&app, &domain, &client, &refresh2).await);
        refreshed(&app, &domain, &client, &refresh1).await.assert_error(400, "invalid_grant");
        for token in [&access1, &access2, &access3, &refresh3] {
            assert!(!app.is_active(&domain, &client, token).await, "the family died");
        }
        let audit = app.admin_get(&format!("/admin/v1/domains/{domain}/audit?limit=50")).await;
        let retried: Vec<&Value> = audit.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["details"]["reason"] == "refresh_retried")
            .collect();
        assert_eq!(retried.len(), 2, "one event per token of the unseen pair: {}", audit.text);
    }

    async fn no_grace_after_the_window_when_off_or_for_a_public_client(app) {
        let windowed = scene(&app, json!({"refresh_token_grace_secs": 5})).await;
        let off = scene(&app, json!({"refresh_token_grace_secs": 0})).await;
        let (domain, _) = &windowed;
        let public = app
            .create_client(domain, json!({"client_id":"spa","client_type":"public","grant_types":["password","refresh_token"]}))
            .await;
        // (domain, client refreshing, confidential client looking, time before the retry)
        let cases: [(&str, &TestClient, &TestClient, Duration); 3] = [
            (&windowed.0, &windowed.1, &windowed.1, Duration::from_secs(6)),
            (&off.0, &off.1, &off.1, Duration::ZERO),
            (&windowed.0, &public, &windowed.1, Duration::ZERO),
        ];
        for (domain, client, looker, wait) in cases {
            let (access1, refresh1) = app.login(domain, client, "alice", "correct horse").await;
            let form = [("grant_type", "refresh_token"), ("refresh_token", refresh1.as_str())];
            let rotated = app.token(domain, client, &form).await;
            assert_eq!(rotated.status, 200, "{}", rotated.text);
            app.clock.advance(wait);
            app.token(domain, client, &form).await.assert_error(400, "invalid_grant");
            let refresh2 = rotated.body["refresh_token"].as_str().unwrap();
            assert!(!app.is_active(domain, looker, refresh2).await, "{}: reuse revoked the family", client.client_id);
            assert!(!app.is_active(domain, looker, &access1).await);
        }
    }

    async fn domain_ttls_are_honoured_down_to_one_second(app) {
        let (domain, client) = scene(&app, json!({"access_token_ttl_secs": 1, "refresh_token_ttl_secs": 2})).await;
        let login = app.token(&domain, &client, &[("grant_type", "password"), ("username", "alice"), ("password", "correct horse")]).await;
        assert_eq!(login.body["expires_in"], 1);
        let access = login.body["access_token"].as_str().unwrap().to_owned();
        let refresh = login.body["refresh_token"].as_str().unwrap().to_owned();
        assert!(app.is_active(&domain, &client, &access).await);
        app.clock.advance(Duration::from_millis(1500));
        assert!(!app.is_active(&domain, &client, &access).await, "access token expired after 1 s");
        assert!(app.is_active(&domain, &client, &refresh).await);
        app.clock.advance(Duration::from_secs(1));
        assert!(!app.is_active(&domain, &client, &refresh).await);
        app.token(&domain, &client, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
            .await
            .assert_error(400, "invalid_grant");
        // A PATCH applies from the next request.
        app.admin(reqwest::Method::PATCH, &format!("/admin/v1/domains/{domain}"), Some(json!({"access_token_ttl_secs": 42}))).await;
        let after = app.token(&domain, &client, &[("grant_type", "client_credentials")]).await;
        assert_eq!(after.body["expires_in"], 42);
    }
}
