//! SPEC §3.9: the end-user account page, driven as a browser would (forms, cookies,
//! redirects) with reqwest: sign-in, cookie flags, CSRF, other users' and domains'
//! consent ids, sign-out, expiry, revoking and signing out everywhere through the
//! revocation pipeline. `account_browser.rs` drives a real Chromium through it.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::json;

use crate::helpers::{Answer, Backend, Server, TestClient, spawn_app_with};

pub const PASSWORD: &str = "correct horse battery";

/// A browser's view of one domain's account page: its cookie jar and the last page.
pub struct Visitor<'a> {
    pub server: &'a Server,
    pub domain: String,
    pub cookies: BTreeMap<String, String>,
}

impl<'a> Visitor<'a> {
    pub fn new(server: &'a Server, domain: &str) -> Self {
        Self {
            server,
            domain: domain.to_owned(),
            cookies: BTreeMap::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        self.server
            .url(&format!("/account{path}?identityDomain={}", self.domain))
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Answer {
        let request = if self.cookies.is_empty() {
            request
        } else {
            request.header(COOKIE, self.cookie_header())
        };
        let answer = Answer::from(request.send().await.expect("request")).await;
        for cookie in answer.headers.get_all(SET_COOKIE) {
            let cookie = cookie.to_str().unwrap();
            let (pair, _) = cookie.split_once(';').unwrap_or((cookie, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || cookie.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        answer
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let request = self.server.http.get(self.url(path));
        self.send(request).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let request = self.server.http.post(self.url(path)).form(form);
        self.send(request).await
    }

    /// Opens the sign-in form and posts it: the answer to the post.
    pub async fn sign_in(&mut self, username: &str, password: &str) -> Answer {
        let page = self.get("").await;
        assert_eq!(page.status, 200, "{}", page.text);
        let csrf = csrf_token(&page.text);
        self.post(
            "/sign-in",
            &[("username", username), ("password", password), ("csrf_token", &csrf)],
        )
        .await
    }

    /// Signs in and follows the redirect: the account page.
    pub async fn signed_in(&mut self, username: &str, password: &str) -> Answer {
        let answer = self.sign_in(username, password).await;
        assert_eq!(answer.status, 303, "{}", answer.text);
        let home = self.get("").await;
        assert_eq!(home.status, 200, "{}", home.text);
        assert!(home.text.contains("Applications with access"), "{}", home.text);
        home
    }
}

/// The CSRF token of the first form of a page.
pub fn csrf_token(page: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = page.find(marker).unwrap_or_else(|| panic!("no csrf_token in {page}")) + marker.len();
    page[start..start + 64].to_owned()
}

/// The consent ids the page links to "Revoke access" for, in order.
pub fn consent_ids(page: &str) -> Vec<String> {
    page.split("/account/applications/")
        .skip(1)
        .map(|rest| rest[..32].to_owned())
        .collect()
}

/// A domain with two applications (`mail`, `photos`) that alice signed in to with the
/// password grant, and a user bob: the domain and alice's tokens at each.
pub struct Scene {
    pub domain: String,
    pub mail: TestClient,
    pub photos: TestClient,
    /// Access and refresh tokens: alice at mail, alice at photos.
    pub at_mail: (String, String),
    pub at_photos: (String, String),
}

pub async fn scene(server: &Server) -> Scene {
    let domain = server.create_domain().await;
    let client = |id: &str, scopes: serde_json::Value| json!({"client_id": id, "grant_types": ["password", "refresh_token"], "scopes": scopes});
    let mail = server
        .create_client(&domain, client("mail", json!(["openid", "email"])))
        .await;
    let photos = server
        .create_client(&domain, client("photos", json!(["openid", "profile", "photos:read"])))
        .await;
    server.create_user(&domain, "alice", PASSWORD).await;
    server.create_user(&domain, "bob", PASSWORD).await;
    let at_mail = server.login(&domain, &mail, "alice", PASSWORD).await;
    let at_photos = server.login(&domain, &photos, "alice", PASSWORD).await;
    Scene {
        domain,
        mail,
        photos,
        at_mail,
        at_photos,
    }
}

impl Scene {
    /// Whether each of alice's four tokens is live, asked by introspection.
    pub async fn alive(&self, server: &Server) -> [bool; 4] {
        let domain = &self.domain;
        [
            server.is_active(domain, &self.mail, &self.at_mail.0).await,
            server.is_active(domain, &self.mail, &self.at_mail.1).await,
            server.is_active(domain, &self.photos, &self.at_photos.0).await,
            server.is_active(domain, &self.photos, &self.at_photos.1).await,
        ]
    }
}

fn set_cookies(answer: &Answer) -> Vec<String> {
    answer
        .headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

fn assert_page(answer: &Answer, status: u16, says: &str) {
    assert_eq!(answer.status, status, "{}", answer.text);
    assert!(
        answer
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/html")),
        "{:?}",
        answer.headers
    );
    assert!(answer.text.contains(says), "expected {says:?} in {}", answer.text);
}

crate::both_backends! {
    async fn signing_in_sets_a_strict_http_only_expiring_session_cookie(app) {
        let scene = scene(&app).await;
        let mut alice = Visitor::new(&app, &scene.domain);
        let form = alice.get("").await;
        assert_page(&form, 200, "Sign in");
        assert!(form.text.contains("<label for=\"username\">"), "{}", form.text);
        let answer = alice.sign_in("alice", PASSWORD).await;
        assert_eq!(answer.status, 303, "{}", answer.text);
        assert_eq!(answer.header("location"), Some(format!("/account?identityDomain={}", scene.domain).as_str()));
        let session = set_cookies(&answer)
            .into_iter()
            .find(|c| c.starts_with("revokd_account="))
            .expect("a session cookie");
        for flag in ["HttpOnly", "SameSite=Strict", "Path=/account", "Max-Age=1800"] {
            assert!(session.contains(flag), "{session}");
        }
        // Plain HTTP on loopback: no `Secure`.
        assert!(!session.contains("Secure"), "{session}");
        let home = alice.get("").await;
        assert_page(&home, 200, "Signed in as");
        assert!(home.text.contains("mail") && home.text.contains("photos"), "{}", home.text);
        assert!(home.text.contains("See your email address"), "{}", home.text);
        assert_eq!(consent_ids(&home.text).len(), 2);
    }

    async fn a_wrong_password_is_refused_and_sets_no_session(app) {
        let scene = scene(&app).await;
        let mut visitor = Visitor::new(&app, &scene.domain);
        for (username, password) in [("alice", "wrong"), ("nobody", PASSWORD)] {
            let answer = visitor.sign_in(username, password).await;
            assert_page(&answer, 403, "The username or password is not right");
            assert!(set_cookies(&answer).iter().all(|c| !c.starts_with("revokd_account=")));
        }
        assert!(!visitor.cookies.contains_key("revokd_account"));
        assert_page(&visitor.get("").await, 200, "Sign in");
    }

    async fn a_forged_post_is_refused_and_changes_nothing(app) {
        let scene = scene(&app).await;
        let mut alice = Visitor::new(&app, &scene.domain);
        let home = alice.signed_in("alice", PASSWORD).await;
        let consent = &consent_ids(&home.text)[0];
        let revoke = format!("/applications/{consent}/revoke");
        // Another session's token, none, a malformed one.
        let mut bob = Visitor::new(&app, &scene.domain);
        let bobs = csrf_token(&bob.signed_in("bob", PASSWORD).await.text);
        assert_page(&alice.post(&revoke, &[("csrf_token", &bobs)]).await, 403, "Nothing was changed");
        assert_page(&alice.post(&revoke, &[]).await, 400, "csrf_token");
        assert_page(&alice.post(&revoke, &[("csrf_token", "x")]).await, 400, "csrf_token");
        assert_page(&alice.post("/sign-out-everywhere", &[("csrf_token", &bobs)]).await, 403, "Nothing was changed");
        // A cross-site post has no SameSite=Strict cookies: no session, nothing done.
        let mut stranger = Visitor::new(&app, &scene.domain);
        let csrf = csrf_token(&home.text);
        assert_page(&stranger.post(&revoke, &[("csrf_token", &csrf)]).await, 403, "signed out");
        // Sign-in without the form's cookie (login CSRF).
        let answer = stranger
            .post("/sign-in", &[("username", "alice"), ("password", PASSWORD), ("csrf_token", &csrf)])
            .await;
        assert_page(&answer, 403, "expired");
        assert_eq!(scene.alive(&app).await, [true; 4]);
        assert_eq!(consent_ids(&alice.get("").await.text).len(), 2);
    }

    async fn another_users_or_domains_consent_id_is_not_found(app) {
        let scene = scene(&app).await;
        let mut alice = Visitor::new(&app, &scene.domain);
        let alices = consent_ids(&alice.signed_in("alice", PASSWORD).await.text);
        let mut bob = Visitor::new(&app, &scene.domain);
        let home = bob.signed_in("bob", PASSWORD).await;
        assert!(home.text.contains("No application can reach your account"), "{}", home.text);
        assert!(!home.text.contains("photos"), "{}", home.text);
        let csrf = csrf_token(&home.text);
        let revoke = format!("/applications/{}/revoke", alices[0]);
        assert_page(&bob.get(&revoke).await, 404, "nothing was changed");
        assert_page(&bob.post(&revoke, &[("csrf_token", &csrf)]).await, 404, "nothing was changed");
        assert_page(&bob.get("/applications/not-an-id/revoke").await, 404, "nothing was changed");
        // alice of another domain, signed in there, names this domain's consent.
        let other = super::scene(&app).await;
        let mut elsewhere = Visitor::new(&app, &other.domain);
        let csrf = csrf_token(&elsewhere.signed_in("alice", PASSWORD).await.text);
        assert_page(&elsewhere.post(&revoke, &[("csrf_token", &csrf)]).await, 404, "nothing was changed");
        // A session is good in its own domain only.
        elsewhere.domain = scene.domain.clone();
        assert_page(&elsewhere.get("").await, 200, "Sign in");
        assert_eq!(scene.alive(&app).await, [true; 4]);
        assert_eq!(consent_ids(&alice.get("").await.text), alices);
    }

    async fn unknown_or_missing_domains_are_plain_error_pages(app) {
        let mut visitor = Visitor::new(&app, "no-such-domain");
        assert_page(&visitor.get("").await, 404, "no account page");
        let missing = Answer::from(app.http.get(app.url("/account")).send().await.unwrap()).await;
        assert_page(&missing, 400, "identity domain");
        visitor.domain = "bad%20name".into();
        assert_page(&visitor.get("").await, 400, "This request cannot be read");
        let css = app.get("/account/style.css").await;
        assert_eq!(css.status, 200);
        assert!(css.header("content-type").unwrap().starts_with("text/css"));
    }

    async fn signing_out_ends_the_session_everywhere_it_was_copied(app) {
        let scene = scene(&app).await;
        let mut alice = Visitor::new(&app, &scene.domain);
        let home = alice.signed_in("alice", PASSWORD).await;
        let stolen = alice.cookies.clone();
        let answer = alice.post("/sign-out", &[("csrf_token", &csrf_token(&home.text))]).await;
        assert_eq!(answer.status, 303, "{}", answer.text);
        assert!(set_cookies(&answer).iter().any(|c| c.starts_with("revokd_account=;") && c.contains("Max-Age=0")));
        assert_page(&alice.get("").await, 200, "Sign in");
        // The same cookie, replayed, is no session any more.
        let mut thief = Visitor::new(&app, &scene.domain);
        thief.cookies = stolen;
        assert_page(&thief.get("").await, 200, "Sign in");
        let consent = &consent_ids(&home.text)[0];
        let answer = thief.post(&format!("/applications/{consent}/revoke"), &[("csrf_token", &csrf_token(&home.text))]).await;
        assert_page(&answer, 403, "signed out");
        // Signing out only ends the page's session: the applications stay signed in.
        assert_eq!(scene.alive(&app).await, [true; 4]);
    }

    async fn an_expired_session_is_signed_out_and_changes_nothing(app) {
        let scene = scene(&app).await;
        let mut alice = Visitor::new(&app, &scene.domain);
        let home = alice.signed_in("alice", PASSWORD).await;
        app.clock.advance(Duration::from_secs(29 * 60));
        assert_page(&alice.get("").await, 200, "Signed in as");
        app.clock.advance(Duration::from_secs(2 * 60));
        assert_page(&alice.get("").await, 200, "Sign in");
        let consent = &consent_ids(&home.text)[0];
        let answer = alice.post(&format!("/applications/{consent}/revoke"), &[("csrf_token", &csrf_token(&home.text))]).await;
        assert_page(&answer, 403, "signed out");
        let confirm = alice.get(&format!("/applications/{consent}/revoke")).await;
        assert_eq!(confirm.status, 303);
        // The tokens' own lifetimes (an hour) are not over: they are alive.
        assert_eq!(scene.alive(&app).await, [true; 4]);
    }

    async fn revoking_on_the_page_withdraws_the_consent_as_the_api_does(app) {
        let scene = scene(&app).await;
        let mut alice = Visitor::new(&app, &scene.domain);
        let home = alice.signed_in("alice", PASSWORD).await;
        let photos = consent_ids(&home.text)[1].clone();
        let confirm = alice.get(&format!("/applications/{photos}/revoke")).await;
        assert_page(&confirm, 200, "Revoke access for photos?");
        let answer = alice.post(&format!("/applications/{photos}/revoke"), &[("csrf_token", &csrf_token(&confirm.text))]).await;
        assert_page(&answer, 200, "Access revoked");
        assert_eq!(scene.alive(&app).await, [true, true, false, false]);
        let home = alice.get("").await;
        assert_eq!(consent_ids(&home.text).len(), 1);
        assert!(home.text.contains("Access withdrawn · photos"), "{}", home.text);
        // The same audit event as DELETE /oauth2/rest/consents/{id}.
        let audit = app.admin_get(&format!("/admin/v1/domains/{}/audit?limit=1", scene.domain)).await;
        let event = &audit.body["events"][0];
        assert_eq!(event["action"], "consent.withdrawn", "{}", audit.text);
        assert_eq!(event["actor"], "user:alice");
        assert_eq!(event["details"]["initiating_entity"], "user");
        assert_eq!(event["details"]["level"], "RELATED_CONSENT");
        assert_eq!(event["details"]["reason"], "consent_withdrawn");
        // Twice is nothing to do.
        let again = alice.post(&format!("/applications/{photos}/revoke"), &[("csrf_token", &csrf_token(&home.text))]).await;
        assert_page(&again, 404, "nothing was changed");
    }

    async fn signing_out_everywhere_kills_every_token_and_session(app) {
        let scene = scene(&app).await;
        let mut alice = Visitor::new(&app, &scene.domain);
        let mut other_tab = Visitor::new(&app, &scene.domain);
        other_tab.signed_in("alice", PASSWORD).await;
        alice.signed_in("alice", PASSWORD).await;
        let confirm = alice.get("/sign-out-everywhere").await;
        assert_page(&confirm, 200, "Sign out everywhere?");
        let answer = alice.post("/sign-out-everywhere", &[("csrf_token", &csrf_token(&confirm.text))]).await;
        assert_page(&answer, 200, "4 tokens stopped working");
        assert!(set_cookies(&answer).iter().any(|c| c.starts_with("revokd_account=;")));
        assert_eq!(scene.alive(&app).await, [false; 4]);
        assert_page(&other_tab.get("").await, 200, "Sign in");
        // The applications keep their access; the activity says who did what.
        let home = alice.signed_in("alice", PASSWORD).await;
        assert_eq!(consent_ids(&home.text).len(), 2);
        assert!(home.text.contains("Signed out everywhere · all applications"), "{}", home.text);
        assert!(home.text.contains("<span class=\"by\">By you</span>"), "{}", home.text);
        let audit = app.admin_get(&format!("/admin/v1/domains/{}/audit?limit=1", scene.domain)).await;
        assert_eq!(audit.body["events"][0]["details"]["reason"], "user_signed_out_everywhere", "{}", audit.text);
    }

    async fn a_new_password_ends_the_sessions_and_says_why(app) {
        let scene = scene(&app).await;
        let mut alice = Visitor::new(&app, &scene.domain);
        alice.signed_in("alice", PASSWORD).await;
        let answer = app
            .admin(
                reqwest::Method::PUT,
                &format!("/admin/v1/domains/{}/users/alice/password", scene.domain),
                Some(json!({"password": "a new one"})),
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_page(&alice.get("").await, 200, "Sign in");
        assert_eq!(scene.alive(&app).await, [false; 4]);
        let home = alice.signed_in("alice", "a new one").await;
        assert!(home.text.contains("Automatically: password change"), "{}", home.text);
    }

    async fn recent_activity_tells_who_revoked_what(app) {
        let scene = scene(&app).await;
        // The application revokes its own refresh token; the operator revokes the rest.
        let answer = app
            .revoke(&scene.domain, &scene.mail, &[("token", &scene.at_mail.1), ("revoke_level", "RELATED_TOKENS")])
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        let answer = app
            .admin_post(&format!("/admin/v1/domains/{}/revocations", scene.domain), json!({"username": "alice"}))
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        let mut alice = Visitor::new(&app, &scene.domain);
        let home = alice.signed_in("alice", PASSWORD).await;
        assert!(home.text.contains("A sign-in and its tokens · mail"), "{}", home.text);
        assert!(home.text.contains("<span class=\"by\">By the application</span>"), "{}", home.text);
        assert!(home.text.contains("Every token · all applications"), "{}", home.text);
        assert!(home.text.contains("<span class=\"by\">By an administrator</span>"), "{}", home.text);
        // Bob sees none of it.
        let mut bob = Visitor::new(&app, &scene.domain);
        assert!(bob.signed_in("bob", PASSWORD).await.text.contains("Nothing was revoked yet"));
    }
}

mod limits {
    use super::*;

    /// Password sign-ins on the page are counted as the password grant's are (SPEC §5).
    async fn too_many_failed_sign_ins_are_refused_with_429(backend: Backend) {
        let Some(app) = spawn_app_with(backend, |s| s.auth_failures_per_minute = 2).await else {
            return;
        };
        let scene = scene(&app).await;
        let mut visitor = Visitor::new(&app, &scene.domain);
        for _ in 0..2 {
            assert_eq!(visitor.sign_in("alice", "wrong").await.status, 403);
        }
        let refused = visitor.sign_in("alice", PASSWORD).await;
        assert_page(&refused, 429, "Too many attempts");
        assert!(
            refused
                .header("retry-after")
                .is_some_and(|s| s.parse::<u64>().unwrap() > 0)
        );
        // The password grant counts the same failures.
        let grant = app
            .token(
                &scene.domain,
                &scene.mail,
                &[
                    ("grant_type", "password"),
                    ("username", "alice"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        grant.assert_error(429, "temporarily_unavailable");
    }

    /// Under an `https` public URL the session cookie is `Secure`.
    async fn the_cookie_is_secure_behind_https(backend: Backend) {
        let Some(app) = spawn_app_with(backend, |s| {
            s.public_url = Some("https://accounts.example".parse().unwrap());
        })
        .await
        else {
            return;
        };
        let scene = scene(&app).await;
        let mut alice = Visitor::new(&app, &scene.domain);
        let answer = alice.sign_in("alice", PASSWORD).await;
        assert_eq!(answer.status, 303, "{}", answer.text);
        assert!(
            set_cookies(&answer).iter().all(|c| c.ends_with("; Secure")),
            "{:?}",
            set_cookies(&answer)
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_too_many_failed_sign_ins() {
        too_many_failed_sign_ins_are_refused_with_429(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_too_many_failed_sign_ins() {
        too_many_failed_sign_ins_are_refused_with_429(Backend::Postgres).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_secure_cookie() {
        the_cookie_is_secure_behind_https(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_secure_cookie() {
        the_cookie_is_secure_behind_https(Backend::Postgres).await;
    }
}
