//! SPEC §3.7: users.

use reqwest::Method;
use serde_json::json;

use crate::helpers::unique;

crate::both_backends! {
    async fn create_user_answers_exactly_the_user_object(app) {
        let domain = app.create_domain().await;
        let answer = app
            .admin_post(&format!("/admin/v1/domains/{domain}/users"), json!({"username":"alice","password":"correct horse"}))
            .await;
        assert_eq!(answer.status, 201, "{}", answer.text);
        assert_eq!(answer.body, json!({"username":"alice","disabled":false}));
        assert_eq!(app.admin_get(&format!("/admin/v1/domains/{domain}/users/alice")).await.body, json!({"username":"alice","disabled":false}));
        assert_eq!(app.admin_get(&format!("/admin/v1/domains/{domain}/users")).await.body, json!({"users":[{"username":"alice","disabled":false}]}));
    }

    async fn user_errors(app) {
        let domain = app.create_domain().await;
        let path = format!("/admin/v1/domains/{domain}/users");
        app.create_user(&domain, "bob", "pw").await;
        app.admin_post(&path, json!({"username":"bob","password":"other"})).await.assert_error(409, "conflict");
        for body in [
            json!({"username":"carol","password":""}),
            json!({"username":"carol","password":"p".repeat(1025)}),
            json!({"username":"","password":"pw"}),
            json!({"username":"carol"}),
            json!({"username":"carol","password":"pw","admin":true}),
        ] {
            app.admin_post(&path, body).await.assert_error(400, "invalid_request");
        }
        app.admin_post(&format!("/admin/v1/domains/{}/users", unique("nope")), json!({"username":"a","password":"b"}))
            .await
            .assert_error(404, "not_found");
        let deleted = app.admin(Method::DELETE, &format!("{path}/bob"), None).await;
        assert_eq!(deleted.body, json!({"status":"success"}));
        app.admin_get(&format!("{path}/bob")).await.assert_error(404, "not_found");
    }
}
