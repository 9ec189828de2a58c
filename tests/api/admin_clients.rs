//! SPEC §3.7: clients.

use base64::Engine;
use reqwest::Method;
use serde_json::json;

use crate::helpers::unique;

crate::both_backends! {
    async fn confidential_client_gets_a_256_bit_secret_once(app) {
        let domain = app.create_domain().await;
        let spec = json!({"client_id":"web","client_type":"confidential","grant_types":["password","refresh_token"],"scopes":["openid","profile"],"domain_admin":false});
        let answer = app.admin_post(&format!("/admin/v1/domains/{domain}/clients"), spec.clone()).await;
        assert_eq!(answer.status, 201, "{}", answer.text);
        let secret = answer.body["client_secret"].as_str().unwrap().to_owned();
        let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&secret).unwrap();
        assert_eq!(decoded.len(), 32, "256 bits");
        let mut expected = spec.clone();
        expected["client_secret"] = json!(secret);
        assert_eq!(answer.body, expected);

        let shown = app.admin_get(&format!("/admin/v1/domains/{domain}/clients/web")).await;
        assert_eq!(shown.status, 200);
        assert_eq!(shown.body, spec);
        let listed = app.admin_get(&format!("/admin/v1/domains/{domain}/clients")).await;
        assert_eq!(listed.body, json!({"clients": [spec]}));
        assert!(!listed.text.contains(&secret));
    }

    async fn defaults_and_public_clients(app) {
        let domain = app.create_domain().await;
        let confidential = app.admin_post(&format!("/admin/v1/domains/{domain}/clients"), json!({"client_id":"svc"})).await;
        assert_eq!(confidential.status, 201);
        assert_eq!(confidential.body["client_type"], "confidential");
        assert_eq!(confidential.body["grant_types"], json!(["client_credentials"]));
        assert_eq!(confidential.body["scopes"], json!([]));
        assert_eq!(confidential.body["domain_admin"], false);

        let public = app
            .admin_post(&format!("/admin/v1/domains/{domain}/clients"), json!({"client_id":"spa","client_type":"public"}))
            .await;
        assert_eq!(public.status, 201);
        assert_eq!(
            public.body,
            json!({"client_id":"spa","client_type":"public","grant_types":["password","refresh_token"],"scopes":[],"domain_admin":false})
        );
    }

    async fn invalid_client_specs_are_400(app) {
        let domain = app.create_domain().await;
        let path = format!("/admin/v1/domains/{domain}/clients");
        for body in [
            json!({"client_id":"p","client_type":"public","grant_types":["client_credentials"]}),
            json!({"client_id":"p","client_type":"public","domain_admin":true}),
            json!({"client_id":"p","grant_types":["implicit"]}),
            json!({"client_id":"p","client_type":"other"}),
            json!({"client_id":""}),
            json!({"client_id":"tab\there"}),
            json!({"client_id":"c".repeat(256)}),
            json!({"client_id":"p","scopes":["has space"]}),
            json!({"client_id":"p","secret":"mine"}),
            json!({}),
        ] {
            app.admin_post(&path, body).await.assert_error(400, "invalid_request");
        }
        let listed = app.admin_get(&path).await;
        assert_eq!(listed.body, json!({"clients": []}), "nothing was created");
    }

    async fn duplicate_client_is_409_but_other_domains_may_reuse_the_id(app) {
        let domain = app.create_domain().await;
        let other = app.create_domain().await;
        app.create_client(&domain, json!({"client_id":"urn:acme:web app"})).await;
        app.admin_post(&format!("/admin/v1/domains/{domain}/clients"), json!({"client_id":"urn:acme:web app"}))
            .await
            .assert_error(409, "conflict");
        app.create_client(&other, json!({"client_id":"urn:acme:web app"})).await;
    }

    async fn clients_of_unknown_domains_are_404(app) {
        let missing = unique("missing");
        app.admin_post(&format!("/admin/v1/domains/{missing}/clients"), json!({"client_id":"web"}))
            .await
            .assert_error(404, "not_found");
        app.admin_get(&format!("/admin/v1/domains/{missing}/clients")).await.assert_error(404, "not_found");
        let domain = app.create_domain().await;
        app.admin_get(&format!("/admin/v1/domains/{domain}/clients/nope")).await.assert_error(404, "not_found");
    }

    async fn deleting_a_client(app) {
        let domain = app.create_domain().await;
        app.create_client(&domain, json!({"client_id":"web"})).await;
        let deleted = app.admin(Method::DELETE, &format!("/admin/v1/domains/{domain}/clients/web"), None).await;
        assert_eq!(deleted.status, 200);
        assert_eq!(deleted.body, json!({"status":"success"}));
        app.admin(Method::DELETE, &format!("/admin/v1/domains/{domain}/clients/web"), None)
            .await
            .assert_error(404, "not_found");
    }
}
