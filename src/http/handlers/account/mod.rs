//! The end-user account page (SPEC §3.9) under `/account`: sign in with the domain's
//! username and password, see the applications that can reach the account, revoke one
//! (the same call as `DELETE /oauth2/rest/consents/{id}`), sign out everywhere, read
//! the recent revocations, sign out. Pages are server-rendered HTML (`pages.rs`), every
//! form carries a CSRF token, every refusal is a plain page that changed nothing.

mod context;
mod documented;
mod error;
mod pages;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};

use self::context::{AccountRequest, session_cookie, sign_in_cookie};
use self::documented::{FormRefused, PageRefused, SessionForm, SignInForm};
use self::error::PageError;
use crate::account::{self, CSRF_TOKEN_LEN, Session, csrf_matches};
use crate::domain::ConsentPublicId;
use crate::http::error::ApiError;
use crate::http::extractors::{IdentityDomain, OAuthForm};
use crate::http::middleware::RequestId;
use crate::http::sign_in::SignInAttempt;
use crate::security::Password;
use crate::tokens::PlainToken;

/// The page: the sign-in form, or, signed in, the applications, "Sign out everywhere"
/// and the recent activity.
#[utoipa::path(get, path = "/account", tag = "account", operation_id = "account_page",
    params(IdentityDomain),
    responses(
        (status = 200, description = "The sign-in form, or the signed-in user's applications and recent activity",
            content_type = "text/html", body = String),
        PageRefused))]
pub async fn home(request: AccountRequest) -> Result<HttpResponse, PageError> {
    let Some(session) = &request.session else {
        return Ok(sign_in_form(&request, StatusCode::OK, None, None));
    };
    let state = &request.state;
    let applications = account::applications(&state.store, &state.clock, &session.user).await?;
    let activity = account::recent_activity(&state.store, &session.user).await?;
    Ok(pages::respond(
        StatusCode::OK,
        pages::home(&request.domain, session, &applications, &activity),
    ))
}

/// Signs in with the domain's username and password; failures are slowed and counted
/// like the password grant's (SPEC §5).
#[utoipa::path(post, path = "/account/sign-in", tag = "account", operation_id = "account_sign_in",
    params(IdentityDomain),
    request_body(content = SignInForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Signed in: the session cookie is set; on to the account page",
            headers(("Location" = String, description = "The account page"))),
        FormRefused,
        (status = 429, description = "A plain error page: too many failed sign-ins from this address or for this \
            username in the last minute; the password was not checked", content_type = "text/html", body = String,
            headers(("Retry-After" = String, description = "Seconds until an attempt is accepted again"))),
        PageRefused))]
pub async fn sign_in(
    req: HttpRequest,
    request: AccountRequest,
    form: Result<OAuthForm, ApiError>,
) -> Result<HttpResponse, PageError> {
    let form = form.map_err(|e| PageError::from(e).in_domain(&request.domain))?;
    let csrf = csrf_field(&form)?;
    let (username, password) = (required(&form, "username")?, required(&form, "password")?);
    if username.chars().count() > 255 || password.len() > Password::MAX_SIGN_IN_BYTES {
        return Err(PageError::bad_request(
            "The username is over 255 characters or the password over 1024 bytes.",
        ));
    }
    let forged = request
        .sign_in
        .as_ref()
        .is_none_or(|secret| !csrf_matches(secret, csrf));
    if forged {
        return Err(PageError::csrf().in_domain(&request.domain));
    }
    let state = &request.state;
    let attempt = SignInAttempt::new(&req, state, &request.domain, username);
    attempt
        .check(state)
        .map_err(|wait| PageError::too_many_attempts(wait).in_domain(&request.domain))?;
    let user = state
        .tokens
        .verify_user(request.domain_id, username, Password::new(password.to_owned()))
        .await?;
    let Some(user) = user else {
        attempt.failed(state, &request.domain, None);
        return Ok(sign_in_form(
            &request,
            StatusCode::FORBIDDEN,
            Some(username),
            Some("The username or password is not right. Check them and try again."),
        ));
    };
    let (secret, _) = account::start_session(&state.store, &state.clock, request.domain_id, user.id).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, pages::href(&request.domain, "")))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .append_header((header::SET_COOKIE, session_cookie(Some(&secret), request.secure)))
        .append_header((header::SET_COOKIE, sign_in_cookie(None, request.secure)))
        .finish())
}

/// Asks before revoking an application's access.
#[utoipa::path(get, path = "/account/applications/{consent_id}/revoke", tag = "account",
    operation_id = "account_confirm_revoke",
    params(
        ("consent_id" = String, Path, description = "One of the signed-in user's consents, as the page links it",
            pattern = "^[0-9a-f]{32}$"),
        IdentityDomain),
    responses(
        (status = 200, description = "The confirmation form", content_type = "text/html", body = String),
        (status = 303, description = "Not signed in: on to the sign-in form",
            headers(("Location" = String, description = "The account page"))),
        PageRefused))]
pub async fn confirm_revoke(
    request: AccountRequest,
    path: actix_web::web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let consent_id = consent_id(&request, &path)?;
    let Some(session) = &request.session else {
        return Ok(to_account_page(&request));
    };
    let application = own_application(&request, session, &consent_id).await?;
    Ok(pages::respond(
        StatusCode::OK,
        pages::confirm_revoke(&request.domain, session, &application),
    ))
}

/// Revokes an application's access: the consent and every token under it, exactly as
/// `DELETE /oauth2/rest/consents/{consent_id}` does (same call, same audit event).
#[utoipa::path(post, path = "/account/applications/{consent_id}/revoke", tag = "account",
    operation_id = "account_revoke",
    params(
        ("consent_id" = String, Path, description = "One of the signed-in user's consents, as the page links it",
            pattern = "^[0-9a-f]{32}$"),
        IdentityDomain),
    request_body(content = SessionForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Revoked: the result page", content_type = "text/html", body = String),
        FormRefused,
        PageRefused))]
pub async fn revoke(
    request: AccountRequest,
    path: actix_web::web::Path<String>,
    form: Result<OAuthForm, ApiError>,
    request_id: RequestId,
) -> Result<HttpResponse, PageError> {
    let consent_id = consent_id(&request, &path)?;
    let session = signed_in_form(&request, form)?;
    let application = own_application(&request, session, &consent_id).await?;
    let state = &request.state;
    let withdrawn = crate::oauth::consents::withdraw(
        &state.store,
        &state.clock,
        &session.user,
        &consent_id,
        None,
        Some(request_id.to_string()),
    )
    .await?;
    if !withdrawn {
        return Err(no_such_application(&request));
    }
    Ok(pages::respond(
        StatusCode::OK,
        pages::revoked(&request.domain, session, &application.client_id),
    ))
}

/// Asks before signing out everywhere.
#[utoipa::path(get, path = "/account/sign-out-everywhere", tag = "account",
    operation_id = "account_confirm_sign_out_everywhere",
    params(IdentityDomain),
    responses(
        (status = 200, description = "The confirmation form", content_type = "text/html", body = String),
        (status = 303, description = "Not signed in: on to the sign-in form",
            headers(("Location" = String, description = "The account page"))),
        PageRefused))]
pub async fn confirm_sign_out_everywhere(request: AccountRequest) -> Result<HttpResponse, PageError> {
    let Some(session) = &request.session else {
        return Ok(to_account_page(&request));
    };
    Ok(pages::respond(
        StatusCode::OK,
        pages::confirm_sign_out_everywhere(&request.domain, session),
    ))
}

/// Revokes every token the user holds in the domain (reason
/// `user_signed_out_everywhere`) and ends every session of theirs on this page.
#[utoipa::path(post, path = "/account/sign-out-everywhere", tag = "account",
    operation_id = "account_sign_out_everywhere",
    params(IdentityDomain),
    request_body(content = SessionForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Signed out everywhere: the result page; the session cookie is removed",
            content_type = "text/html", body = String),
        FormRefused,
        PageRefused))]
pub async fn sign_out_everywhere(
    request: AccountRequest,
    form: Result<OAuthForm, ApiError>,
    request_id: RequestId,
) -> Result<HttpResponse, PageError> {
    let session = signed_in_form(&request, form)?;
    let state = &request.state;
    let ended =
        account::sign_out_everywhere(&state.store, &state.clock, &session.user, Some(request_id.to_string())).await?;
    let mut response = pages::respond(StatusCode::OK, pages::signed_out_everywhere(&request.domain, ended));
    set_cookie(&mut response, &session_cookie(None, request.secure));
    Ok(response)
}

/// Ends this session.
#[utoipa::path(post, path = "/account/sign-out", tag = "account", operation_id = "account_sign_out",
    params(IdentityDomain),
    request_body(content = SessionForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Signed out (or already): the session cookie is removed; on to the sign-in form",
            headers(("Location" = String, description = "The account page"))),
        FormRefused,
        PageRefused))]
pub async fn sign_out(request: AccountRequest, form: Result<OAuthForm, ApiError>) -> Result<HttpResponse, PageError> {
    // Signed out already is fine; a form that is not one is not.
    let csrf = form_csrf(&request, form)?;
    if request.session.is_some() {
        let session = session_of(&request, &csrf)?;
        account::end_session(&request.state.store, request.domain_id, &session.secret).await?;
    }
    let mut response = to_account_page(&request);
    set_cookie(&mut response, &session_cookie(None, request.secure));
    Ok(response)
}

/// The page's one stylesheet.
#[utoipa::path(get, path = "/account/style.css", tag = "account", operation_id = "account_stylesheet",
    responses((status = 200, description = "The account page's stylesheet", content_type = "text/css", body = String)))]
pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("style.css"))
}

/// The sign-in form, with the cookie its CSRF token is derived from (the browser's own
/// when it sent one, so two tabs share it).
fn sign_in_form(
    request: &AccountRequest,
    status: StatusCode,
    username: Option<&str>,
    failed: Option<&str>,
) -> HttpResponse {
    let secret = request.sign_in.clone().unwrap_or_else(PlainToken::generate);
    let page = pages::sign_in(&request.domain, &account::csrf_token(&secret), username, failed);
    let mut response = pages::respond(status, page);
    set_cookie(&mut response, &sign_in_cookie(Some(&secret), request.secure));
    response
}

/// The live session behind a signed-in form whose CSRF token is that session's.
fn signed_in_form(request: &AccountRequest, form: Result<OAuthForm, ApiError>) -> Result<&Session, PageError> {
    let csrf = form_csrf(request, form)?;
    session_of(request, &csrf)
}

/// A signed-in form's CSRF token, well-formed, or `400`.
fn form_csrf(request: &AccountRequest, form: Result<OAuthForm, ApiError>) -> Result<String, PageError> {
    let form = form.map_err(|e| PageError::from(e).in_domain(&request.domain))?;
    Ok(csrf_field(&form)?.to_owned())
}

/// The live session whose CSRF token `csrf` is: `403` when there is no session (signed
/// out, expired) or the token is another's.
fn session_of<'r>(request: &'r AccountRequest, csrf: &str) -> Result<&'r Session, PageError> {
    let session = request
        .session
        .as_ref()
        .ok_or_else(|| PageError::session_ended().in_domain(&request.domain))?;
    if !csrf_matches(&session.secret, csrf) {
        return Err(PageError::csrf().in_domain(&request.domain));
    }
    Ok(session)
}

/// The form's `csrf_token`, well-formed (64 hex digits) or `400`.
fn csrf_field(form: &OAuthForm) -> Result<&str, PageError> {
    let csrf = required(form, "csrf_token")?;
    if csrf.len() != CSRF_TOKEN_LEN || !csrf.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(PageError::bad_request("The form's csrf_token is malformed."));
    }
    Ok(csrf)
}

fn required<'f>(form: &'f OAuthForm, name: &str) -> Result<&'f str, PageError> {
    form.get(name)
        .ok_or_else(|| PageError::bad_request(format!("The form has no {name}.")))
}

/// The signed-in user's application with this consent id, or a plain `404`.
async fn own_application(
    request: &AccountRequest,
    session: &Session,
    consent_id: &ConsentPublicId,
) -> Result<account::Application, PageError> {
    let state = &request.state;
    account::applications(&state.store, &state.clock, &session.user)
        .await?
        .into_iter()
        .find(|app| app.consent_id == consent_id.as_str())
        .ok_or_else(|| no_such_application(request))
}

/// A consent id as the page links it; a malformed one names no application (`404`).
fn consent_id(request: &AccountRequest, raw: &str) -> Result<ConsentPublicId, PageError> {
    ConsentPublicId::parse(raw).map_err(|_| no_such_application(request))
}

fn no_such_application(request: &AccountRequest) -> PageError {
    PageError::not_found("None of your applications has this id, so nothing was changed.").in_domain(&request.domain)
}

fn to_account_page(request: &AccountRequest) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, pages::href(&request.domain, "")))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

fn set_cookie(response: &mut HttpResponse, cookie: &str) {
    if let Ok(value) = header::HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}
