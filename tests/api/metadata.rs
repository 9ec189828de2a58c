//! SPEC §3.6: RFC 8414 metadata and JWKS.

use base64::Engine;
use revokd::http::origin::TrustedProxies;
use serde_json::json;

use crate::helpers::{Answer, Backend, TestApp, TestClient, spawn_app_with, unique};

crate::both_backends! {
    async fn metadata_points_at_this_server_with_the_domain(app) {
        let domain = app.create_domain().await;
        let answer = app.get(&format!("/.well-known/oauth-authorization-server/domains/{domain}")).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        let base = &app.address;
        let q = format!("?identityDomain={domain}");
        assert_eq!(
            answer.body,
            json!({
                "issuer": format!("{base}/domains/{domain}"),
                "token_endpoint": format!("{base}/oauth2/rest/token{q}"),
                "revocation_endpoint": format!("{base}/oauth2/revoke{q}"),
                "introspection_endpoint": format!("{base}/oauth2/rest/token/introspect{q}"),
                "jwks_uri": format!("{base}/oauth2/rest/jwks{q}"),
                "status_list_aggregation_endpoint": format!("{base}/domains/{domain}/status-lists"),
                "global_token_revocation_endpoint": format!("{base}/domains/{domain}/global-token-revocation"),
                "grant_types_supported": ["client_credentials", "password", "refresh_token"],
                "response_types_supported": [],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
                "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
                "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            })
        );
    }

    async fn unknown_domains_have_no_metadata_or_keys(app) {
        let missing = unique("missing");
        app.get(&format!("/.well-known/oauth-authorization-server/domains/{missing}")).await.assert_error(404, "not_found");
        app.get(&format!("/oauth2/rest/jwks?identityDomain={missing}")).await.assert_error(404, "not_found");
        app.get("/.well-known/oauth-authorization-server/domains/-bad").await.assert_error(400, "invalid_request");
        app.get("/oauth2/rest/jwks").await.assert_error(400, "invalid_request");
    }
}

#[tokio::test]
async fn public_url_overrides_the_request_address() {
    let Some(app) = spawn_app_with(Backend::Sqlite, |s| {
        s.public_url = Some("https://auth.example.com/base/".parse().unwrap());
    })
    .await
    else {
        return;
    };
    let domain = app.create_domain().await;
    let answer = app
        .get(&format!("/.well-known/oauth-authorization-server/domains/{domain}"))
        .await;
    assert_eq!(
        answer.body["issuer"],
        format!("https://auth.example.com/base/domains/{domain}")
    );
    assert_eq!(
        answer.body["token_endpoint"],
        format!("https://auth.example.com/base/oauth2/rest/token?identityDomain={domain}")
    );
}

/// The metadata's issuer and the `iss` of a token minted with the same headers.
async fn issuers_seen_with(
    app: &TestApp,
    domain: &str,
    client: &TestClient,
    headers: &[(&str, &str)],
) -> (String, String) {
    let mut metadata = app
        .http
        .get(app.url(&format!("/.well-known/oauth-authorization-server/domains/{domain}")));
    let mut token = app
        .http
        .post(app.url(&format!("/oauth2/rest/token?identityDomain={domain}")))
        .basic_auth(&client.client_id, client.secret.as_deref())
        .form(&[("grant_type", "client_credentials")]);
    for (name, value) in headers {
        metadata = metadata.header(*name, *value);
        token = token.header(*name, *value);
    }
    let metadata = Answer::from(metadata.send().await.unwrap()).await;
    let token = Answer::from(token.send().await.unwrap()).await;
    assert_eq!(token.status, 200, "{}", token.text);
    let jwt = token.body["access_token"].as_str().unwrap();
    let payload = jwt.split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    (
        metadata.body["issuer"].as_str().unwrap().to_owned(),
        claims["iss"].as_str().unwrap().to_owned(),
    )
}

const SPOOFED: [(&str, &str); 3] = [
    ("x-forwarded-host", "evil.example"),
    ("x-forwarded-proto", "https"),
    ("forwarded", "host=evil.example;proto=https"),
];

#[tokio::test]
async fn forwarded_headers_from_an_untrusted_peer_change_nothing() {
    let Some(app) = spawn_app_with(Backend::Sqlite, |_| {}).await else {
        return;
    };
    let domain = app.create_domain().await;
    let client = app
        .create_client(&domain, json!({"client_id":"svc","grant_types":["client_credentials"]}))
        .await;
    let real = format!("{}/domains/{domain}", app.address);
    for header in SPOOFED {
        assert_eq!(
            issuers_seen_with(&app, &domain, &client, &[header]).await,
            (real.clone(), real.clone()),
            "{header:?}"
        );
    }
    assert_eq!(
        issuers_seen_with(&app, &domain, &client, &SPOOFED).await,
        (real.clone(), real)
    );
}

#[tokio::test]
async fn a_trusted_proxy_names_the_public_host_and_scheme() {
    let Some(app) = spawn_app_with(Backend::Sqlite, |s| {
        s.trusted_proxies = TrustedProxies::parse("127.0.0.0/8, ::1").unwrap();
    })
    .await
    else {
        return;
    };
    let domain = app.create_domain().await;
    let client = app
        .create_client(&domain, json!({"client_id":"svc","grant_types":["client_credentials"]}))
        .await;
    let public = format!("https://auth.example/domains/{domain}");
    let headers = [("x-forwarded-host", "auth.example"), ("x-forwarded-proto", "https")];
    assert_eq!(
        issuers_seen_with(&app, &domain, &client, &headers).await,
        (public.clone(), public)
    );
}

#[tokio::test]
async fn the_https_rule_believes_x_forwarded_proto_only_from_a_trusted_proxy() {
    for (trusted, expected) in [("", 400), ("127.0.0.1", 200)] {
        let Some(app) = spawn_app_with(Backend::Sqlite, |s| {
            s.require_https = true;
            s.trusted_proxies = TrustedProxies::parse(trusted).unwrap();
        })
        .await
        else {
            return;
        };
        let answer = Answer::from(
            app.http
                .get(app.url("/.well-known/oauth-authorization-server/domains/any"))
                .header("x-forwarded-proto", "https")
                .send()
                .await
                .unwrap(),
        )
        .await;
        if expected == 400 {
            answer.assert_error(400, "invalid_request");
        } else {
            // Past the HTTPS rule: the domain simply does not exist.
            answer.assert_error(404, "not_found");
        }
    }
}
