//! SPEC §5, the whole surface at once: every parameter of every endpoint gets hostile
//! values (SQL-looking strings, 8 KiB+ values, NUL and control bytes, invalid UTF-8,
//! bad percent-encoding, repeats), every endpoint gets the wrong content type and
//! malformed credentials, and the operator API gets absurd JSON. Each answer is a 4xx
//! in the §3 shape or, where RFC 7009 wants it (an unknown token), a plain success;
//! never a 5xx. Afterwards the canary tokens of this domain and of another are live.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Answer, TestApp, TestClient, basic_escape};

/// Raw `application/x-www-form-urlencoded` values, as they go on the wire.
const HOSTILE_VALUES: [&str; 10] = [
    "'%20OR%201%3D1%20--",
    "%27%3B%20DROP%20TABLE%20tokens%3B%20--",
    "%00",
    "a%00b",
    "%07%1B%5B31m",
    "%FF%FE",
    "%zz",
    "%",
    "%C0%AF",
    "%F0%9F%92%A5",
];

const FORM_PARAMETERS: [&str; 14] = [
    "token",
    "token_type_hint",
    "token_type",
    "revoke_level",
    "reason",
    "client_id",
    "client_secret",
    "grant_type",
    "username",
    "password",
    "refresh_token",
    "scope",
    "identityDomain",
    "unknown_parameter",
];

const FORM_ENDPOINTS: [&str; 4] = [
    "/oauth2/rest/token/revoke",
    "/oauth2/revoke",
    "/oauth2/rest/token",
    "/oauth2/rest/token/introspect",
];

/// The domain under attack with its client, and live tokens of it and of another
/// domain, each with the resource server that can look at it.
struct Canaries {
    domain: String,
    web: TestClient,
    tokens: Vec<(String, TestClient, String)>,
}

async fn canaries(app: &TestApp) -> Canaries {
    let grants = json!(["client_credentials", "password", "refresh_token"]);
    let mut tokens = Vec::new();
    let mut first = None;
    for _ in 0..2 {
        let domain = app.create_domain().await;
        let web = app
            .create_client(&domain, json!({"client_id":"web","grant_types":grants}))
            .await;
        let rs = app.create_client(&domain, json!({"client_id":"rs"})).await;
        app.create_user(&domain, "alice", "pw").await;
        let (access, refresh) = app.login(&domain, &web, "alice", "pw").await;
        tokens.push((domain.clone(), rs.clone(), access));
        tokens.push((domain.clone(), rs, refresh));
        first.get_or_insert(Canaries {
            domain,
            web,
            tokens: Vec::new(),
        });
    }
    let mut scene = first.expect("a domain");
    scene.tokens = tokens;
    scene
}

/// A 5xx is a defect; a 4xx must be the §3 shape; a 2xx is allowed where an unknown
/// token is answered as a success (RFC 7009 §2.2) or as `{"active":false}`.
#[track_caller]
fn assert_refused_or_harmless(answer: &Answer, what: &str) {
    assert!(answer.status < 500, "{what}: {} {}", answer.status, answer.text);
    if answer.status >= 400 {
        assert_eq!(answer.body["status"], "failure", "{what}: {}", answer.text);
        assert!(
            answer.body["error"].is_string() && answer.body["error_description"].is_string(),
            "{what}: {}",
            answer.text
        );
    } else {
        assert!(
            answer.body == json!({"status":"success"}) || answer.body == json!({"active":false}),
            "{what}: {} {}",
            answer.status,
            answer.text
        );
    }
}

async fn post_raw(
    app: &TestApp,
    path: &str,
    domain: &str,
    auth: Option<&str>,
    content_type: &str,
    body: Vec<u8>,
) -> Answer {
    let mut request = app
        .http
        .post(app.url(&format!("{path}?identityDomain={domain}")))
        .header("content-type", content_type)
        .body(body);
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    Answer::from(request.send().await.unwrap()).await
}

fn basic(client: &TestClient) -> String {
    use base64::Engine;
    let pair = format!(
        "{}:{}",
        basic_escape(&client.client_id),
        basic_escape(client.secret.as_deref().unwrap_or(""))
    );
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
}

crate::both_backends! {
    async fn hostile_input_anywhere_is_refused_and_changes_nothing(app) {
        let s = canaries(&app).await;
        let auth = basic(&s.web);
        let long = "x".repeat(9 * 1024);
        let form = "application/x-www-form-urlencoded";
        for path in FORM_ENDPOINTS {
            for name in FORM_PARAMETERS {
                for value in HOSTILE_VALUES.iter().copied().chain([long.as_str()]) {
                    let body = format!("{name}={value}&grant_type=refresh_token&token=x&refresh_token=x");
                    let answer = post_raw(&app, path, &s.domain, Some(&auth), form, body.into_bytes()).await;
                    assert_refused_or_harmless(&answer, &format!("{path} {name}={}", &value[..value.len().min(40)]));
                }
                // The parameter twice.
                let body = format!("{name}=a&{name}=b&token=x");
                let answer = post_raw(&app, path, &s.domain, Some(&auth), form, body.into_bytes()).await;
                assert_eq!(answer.status / 100, 4, "{path} {name} twice: {}", answer.text);
            }
            for content_type in ["application/json", "text/plain", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded; charset=latin1"] {
                let answer = post_raw(&app, path, &s.domain, Some(&auth), content_type, b"token=x".to_vec()).await;
                assert_refused_or_harmless(&answer, &format!("{path} as {content_type:?}"));
            }
            for credentials in ["Basic", "Basic !!!", "Basic bm9jb2xvbg==", "Basic Og==", "Bearer", "Bearer a b", "Digest x", "Basic d2ViOg==Og=="] {
                let answer = post_raw(&app, path, &s.domain, Some(credentials), form, b"token=x&grant_type=client_credentials".to_vec()).await;
                assert_eq!(answer.status / 100, 4, "{path} with {credentials:?}: {}", answer.text);
                assert_refused_or_harmless(&answer, credentials);
            }
            for domain in ["%00", "a'--", "%FF", &"d".repeat(300), "..%2F..%2Fetc"] {
                let answer = post_raw(&app, path, domain, Some(&auth), form, b"token=x".to_vec()).await;
                assert_eq!(answer.status / 100, 4, "{path} in domain {domain:?}: {}", answer.text);
            }
        }
        // The user's endpoints with malformed bearer tokens and consent ids.
        for bearer in ["", "x", "' OR 1=1 --", &long] {
            for (method, path) in [(Method::GET, "/oauth2/rest/consents".to_owned()), (Method::DELETE, "/oauth2/rest/consents/%00".to_owned())] {
                let answer = Answer::from(
                    app.http
                        .request(method.clone(), app.url(&format!("{path}?identityDomain={}", s.domain)))
                        .header("authorization", format!("Bearer {bearer}"))
                        .send()
                        .await
                        .unwrap(),
                )
                .await;
                assert_eq!(answer.status / 100, 4, "{method} {path}: {}", answer.text);
            }
        }
        // Absurd JSON to the operator API.
        let absurd: Vec<Value> = vec![
            json!(null),
            json!([]),
            json!("name"),
            json!({"name": "\u{0}"}),
            json!({"name": "a", "access_token_ttl_secs": -1}),
            json!({"name": "a", "access_token_ttl_secs": 1e300}),
            json!({"name": "a", "access_token_ttl_secs": i64::MAX}),
            json!({"name": "a", "unknown": true}),
            json!({"client_id": "\u{7}", "grant_types": ["password"]}),
            json!({"client_id": "x", "grant_types": ["implicit"]}),
            json!({"client_id": "x", "scopes": ["a b"]}),
            json!({"username": "", "password": "x"}),
            json!({"username": "a\u{0}", "password": "x"}),
            json!({"username": "alice", "reason": "\u{0}"}),
            json!({"username": "alice", "issued_before": "yesterday"}),
            json!({"username": "alice", "revoke_type": "EVERYTHING"}),
        ];
        let mut absurd = absurd;
        // Nested past any sane depth (serde_json stops at 128).
        absurd.push(serde_json::from_str(&format!("{}{}", "[".repeat(100), "]".repeat(100))).unwrap());
        for path in [
            "/admin/v1/domains".to_owned(),
            format!("/admin/v1/domains/{}/clients", s.domain),
            format!("/admin/v1/domains/{}/users", s.domain),
            format!("/admin/v1/domains/{}/revocations", s.domain),
        ] {
            for body in &absurd {
                let answer = app.admin(Method::POST, &path, Some(body.clone())).await;
                assert!(matches!(answer.status, 400 | 404 | 409 | 413 | 415), "POST {path} {body}: {} {}", answer.status, answer.text);
                assert_refused_or_harmless(&answer, &path);
            }
            let raw = Answer::from(
                app.http
                    .post(app.url(&path))
                    .bearer_auth(crate::helpers::ADMIN_TOKEN)
                    .header("content-type", "application/json")
                    .body(b"{\"name\": \"\xFF\"".to_vec())
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            raw.assert_error(400, "invalid_request");
        }
        for path in ["/admin/v1/domains/%00", "/admin/v1/domains/a'--/clients/x", "/admin/v1/domains/x/audit?limit=-1", "/admin/v1/domains/x/audit?limit=99999999999999999999"] {
            let answer = app.admin_get(path).await;
            assert_eq!(answer.status / 100, 4, "GET {path}: {}", answer.text);
        }
        for (domain, rs, token) in &s.tokens {
            assert!(app.is_active(domain, rs, token).await, "a canary of {domain} died");
        }
    }
}
