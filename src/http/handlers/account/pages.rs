//! The account page's HTML (maud: checked at compile time, every value escaped). One
//! layout with landmarks (a skip link, `header`, `main`, `footer`), forms whose every
//! field has a label, and no script: everything works with JavaScript off.

use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};
use chrono::DateTime;
use maud::{DOCTYPE, Markup, html};

use super::error::PageError;
use crate::account::{Activity, Application, Session};
use crate::clock::{UnixMicros, rfc3339};
use crate::domain::DomainName;

/// No script, nothing from elsewhere, no framing, forms only to this server.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
    form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A page as an answer: HTML, never cached, never framed.
pub fn respond(status: StatusCode, page: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(page.into_string())
}

/// `/account{path}?identityDomain={domain}` (domain names need no escaping).
pub fn href(domain: &DomainName, path: &str) -> String {
    format!("/account{path}?identityDomain={domain}")
}

fn layout(title: &str, domain: Option<&DomainName>, session: Option<&Session>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) " · Your account" }
                link rel="stylesheet" href="/account/style.css";
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.site {
                    div.bar {
                        p.brand {
                            span.logo aria-hidden="true" { "◆" }
                            " Your account"
                            @if let Some(domain) = domain { span.domain { (domain) } }
                        }
                        @if let (Some(domain), Some(session)) = (domain, session) {
                            form.signout method="post" action=(href(domain, "/sign-out")) {
                                (csrf_field(session))
                                span.who { "Signed in as " strong { (session.user.username) } }
                                button.link type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                main #main tabindex="-1" { (body) }
                footer.site {
                    p { "Served by revokd. This page keeps you signed in with a cookie and runs no scripts." }
                }
            }
        }
    }
}

fn csrf_field(session: &Session) -> Markup {
    html! { input type="hidden" name="csrf_token" value=(session.csrf_token()); }
}

/// The sign-in form; `failed` adds the reason the last attempt was refused.
pub fn sign_in(domain: &DomainName, csrf_token: &str, username: Option<&str>, failed: Option<&str>) -> Markup {
    let body = html! {
        section.card.narrow aria-labelledby="sign-in-title" {
            h1 #sign-in-title { "Sign in" }
            p.lead { "See which applications can reach your account in " strong { (domain) } ", and cut them off." }
            @if let Some(failed) = failed {
                div.alert role="alert" #sign-in-error { p { (failed) } }
            }
            form.stack method="post" action=(href(domain, "/sign-in")) {
                input type="hidden" name="csrf_token" value=(csrf_token);
                div.field {
                    label for="username" { "Username" }
                    input #username type="text" name="username" autocomplete="username" required
                        maxlength="255" value=[username] autocapitalize="none" spellcheck="false"
                        aria-describedby=[failed.map(|_| "sign-in-error")];
                }
                div.field {
                    label for="password" { "Password" }
                    input #password type="password" name="password" autocomplete="current-password" required
                        maxlength="1024";
                }
                button.primary type="submit" { "Sign in" }
            }
        }
    };
    layout("Sign in", Some(domain), None, body)
}

/// The signed-in page: the applications, "Sign out everywhere", recent activity.
pub fn home(domain: &DomainName, session: &Session, applications: &[Application], activity: &[Activity]) -> Markup {
    let body = html! {
        section aria-labelledby="apps-title" {
            h1 #apps-title { "Applications with access to your account" }
            @if applications.is_empty() {
                p.empty { "No application can reach your account right now." }
            } @else {
                p.lead { "These applications can act for you. Revoke access to any you no longer use or trust: "
                    "it is signed out at once." }
                ul.apps role="list" {
                    @for app in applications {
                        li.card.app {
                            h2 { (app.client_id) }
                            dl {
                                div { dt { "Can" } dd { ul.scopes { @for scope in &app.scopes { li { (scope_words(scope)) } } } } }
                                div { dt { "Access granted" } dd { (date(app.granted_at)) } }
                                div { dt { "Active tokens" } dd { (app.live_tokens) } }
                            }
                            a.button.danger href=(href(domain, &format!("/applications/{}/revoke", app.consent_id)))
                                aria-label=(format!("Revoke access for {}", app.client_id)) { "Revoke access" }
                        }
                    }
                }
            }
        }
        section.card aria-labelledby="everywhere-title" {
            h2 #everywhere-title { "Sign out everywhere" }
            p { "Lost a device, or signed in somewhere you should not have? Sign every application and device out "
                "of your account at once, this page included." }
            a.button.secondary href=(href(domain, "/sign-out-everywhere")) { "Sign out everywhere" }
        }
        section aria-labelledby="activity-title" {
            h2 #activity-title { "Recent activity" }
            @if activity.is_empty() {
                p.empty { "Nothing was revoked yet." }
            } @else {
                p.lead { "Your last revocations, newest first." }
                ol.activity role="list" {
                    @for entry in activity {
                        li {
                            p.what {
                                strong { (entry.what) " · " (entry.application.as_deref().unwrap_or("all applications")) }
                                @if entry.tokens > 0 {
                                    span.muted { " (" (entry.tokens) (if entry.tokens == 1 { " token" } else { " tokens" }) ")" }
                                }
                            }
                            p.meta { span.by { (entry.by.words()) } " · " (moment(entry.at)) }
                        }
                    }
                }
            }
        }
    };
    layout("Your applications", Some(domain), Some(session), body)
}

/// "Revoke access" asks first.
pub fn confirm_revoke(domain: &DomainName, session: &Session, app: &Application) -> Markup {
    let body = html! {
        section.card.narrow aria-labelledby="confirm-title" {
            h1 #confirm-title { "Revoke access for " (app.client_id) "?" }
            p { strong { (app.client_id) } " is signed out at once and can no longer reach your account. "
                @if app.live_tokens > 0 {
                    "Its " (app.live_tokens) (if app.live_tokens == 1 { " active token stops" } else { " active tokens stop" })
                    " working now. "
                }
                "To use it again, you sign in to it again and grant access anew." }
            form.actions method="post" action=(href(domain, &format!("/applications/{}/revoke", app.consent_id))) {
                (csrf_field(session))
                button.danger type="submit" { "Revoke access" }
                a.button.secondary href=(href(domain, "")) { "Cancel" }
            }
        }
    };
    layout("Revoke access", Some(domain), Some(session), body)
}

/// After a withdrawal.
pub fn revoked(domain: &DomainName, session: &Session, client_id: &str) -> Markup {
    let body = html! {
        section.card.narrow aria-labelledby="done-title" {
            h1 #done-title { "Access revoked" }
            p role="status" { strong { (client_id) } " can no longer reach your account. Its tokens stopped working." }
            a.button.primary href=(href(domain, "")) { "Back to your applications" }
        }
    };
    layout("Access revoked", Some(domain), Some(session), body)
}

/// "Sign out everywhere" asks first.
pub fn confirm_sign_out_everywhere(domain: &DomainName, session: &Session) -> Markup {
    let body = html! {
        section.card.narrow aria-labelledby="confirm-title" {
            h1 #confirm-title { "Sign out everywhere?" }
            p { "Every application and device signed in as " strong { (session.user.username) } " is signed out at "
                "once, this page included. The applications keep the access you granted: you sign in to them again." }
            form.actions method="post" action=(href(domain, "/sign-out-everywhere")) {
                (csrf_field(session))
                button.danger type="submit" { "Sign out everywhere" }
                a.button.secondary href=(href(domain, "")) { "Cancel" }
            }
        }
    };
    layout("Sign out everywhere", Some(domain), Some(session), body)
}

/// After "sign out everywhere": no session any more.
pub fn signed_out_everywhere(domain: &DomainName, tokens: usize) -> Markup {
    let body = html! {
        section.card.narrow aria-labelledby="done-title" {
            h1 #done-title { "You are signed out everywhere" }
            p role="status" {
                @if tokens == 0 { "No application was signed in." }
                @else if tokens == 1 { "1 token stopped working." }
                @else { (tokens) " tokens stopped working." }
                " Sign in again wherever you need to."
            }
            a.button.primary href=(href(domain, "")) { "Sign in again" }
        }
    };
    layout("Signed out everywhere", Some(domain), None, body)
}

/// A plain error page: what happened, that nothing changed, and the way back.
pub fn error(error: &PageError) -> Markup {
    let body = html! {
        section.card.narrow aria-labelledby="error-title" {
            h1 #error-title { (error.title) }
            p { (error.message) }
            @if let Some(domain) = &error.domain {
                a.button.primary href=(href(domain, "")) { "Back to your account" }
            }
        }
    };
    layout(error.title, error.domain.as_ref(), None, body)
}

/// A scope in words, for the well-known ones; others are named as they are.
pub fn scope_words(scope: &str) -> String {
    match scope {
        "openid" => "Know who you are".into(),
        "profile" => "See your name and profile".into(),
        "email" => "See your email address".into(),
        "phone" => "See your phone number".into(),
        "address" => "See your postal address".into(),
        "offline_access" => "Stay signed in while you are away".into(),
        other => format!("Use “{other}”"),
    }
}

/// `7 December 2026`, in a `time` element.
fn date(at: UnixMicros) -> Markup {
    let text = DateTime::from_timestamp_micros(at)
        .map(|t| t.format("%-d %B %Y").to_string())
        .unwrap_or_default();
    html! { time datetime=(rfc3339(at)) { (text) } }
}

/// `7 Dec 2026, 23:40 UTC`, in a `time` element.
fn moment(at: UnixMicros) -> Markup {
    let text = DateTime::from_timestamp_micros(at)
        .map(|t| t.format("%-d %b %Y, %H:%M UTC").to_string())
        .unwrap_or_default();
    html! { time datetime=(rfc3339(at)) { (text) } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_and_scopes_told_in_words() {
        let domain = DomainName::parse("acme").unwrap();
        let page = sign_in(&domain, "00", Some("<script>"), Some("wrong")).into_string();
        assert!(page.contains("&lt;script&gt;"));
        assert!(!page.contains("<script>"));
        assert_eq!(scope_words("email"), "See your email address");
        assert_eq!(scope_words("orders:read"), "Use “orders:read”");
    }
}
