//! SPEC §3.6: RFC 8414 metadata and JWKS.

use serde_json::json;

use crate::helpers::{Backend, spawn_app_with, unique};

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
