//! What every account-page request starts from: its domain (from `identityDomain`, as
//! every domain-scoped request), the live session its cookie names if any, the sign-in
//! form's own cookie, and whether cookies get `Secure`. Also how those cookies are
//! written: `HttpOnly`, `SameSite=Strict`, `Path=/account`, `Max-Age` as long as the
//! server keeps them, `Secure` under TLS or an `https` public URL.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};

use super::error::PageError;
use crate::account::{self, SESSION_TTL, Session};
use crate::domain::DomainName;
use crate::http::extractors::{IdentityDomain, base_url};
use crate::http::state::AppState;
use crate::store::domains;
use crate::tokens::PlainToken;

/// The session cookie.
pub const SESSION_COOKIE: &str = "revokd_account";
/// The sign-in form's cookie: its CSRF token is derived from it.
pub const SIGN_IN_COOKIE: &str = "revokd_account_sign_in";
/// How long a sign-in form stays usable.
const SIGN_IN_TTL_SECS: u64 = 30 * 60;
/// Cookie values revokd writes are 43 characters; anything much longer is no value of
/// ours and is not hashed.
const MAX_COOKIE_VALUE: usize = 64;

pub struct AccountRequest {
    pub domain: DomainName,
    pub domain_id: i64,
    /// The live session the session cookie names.
    pub session: Option<Session>,
    /// The sign-in form's cookie value, when the browser sent one.
    pub sign_in: Option<PlainToken>,
    /// Whether cookies get `Secure`.
    pub secure: bool,
    pub state: web::Data<AppState>,
}

impl FromRequest for AccountRequest {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let domain = IdentityDomain::from_request(req, payload).into_inner();
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let session = cookie(req, SESSION_COOKIE);
        let sign_in = cookie(req, SIGN_IN_COOKIE);
        let secure = state
            .as_ref()
            .is_some_and(|state| base_url(req, &state.settings).starts_with("https://"));
        Box::pin(async move {
            let domain = domain?.0;
            let state = state.ok_or_else(|| PageError::from(crate::http::error::ApiError::Internal("state".into())))?;
            let name = domain.clone();
            let domain_id = state
                .store
                .read(move |mut db| Box::pin(async move { domains::find_by_name(&mut db, name.as_str()).await }))
                .await?
                .map(|row| row.id)
                .ok_or_else(|| PageError::not_found(format!("There is no account page for “{domain}”.")))?;
            let session = match session {
                Some(secret) => account::find_session(&state.store, &state.clock, domain_id, secret).await?,
                None => None,
            };
            Ok(Self {
                domain,
                domain_id,
                session,
                sign_in,
                secure,
                state,
            })
        })
    }
}

/// A cookie's value, if the request carries exactly one of that name with a value
/// that can be ours.
fn cookie(req: &HttpRequest, name: &str) -> Option<PlainToken> {
    let mut found = req
        .headers()
        .get_all(header::COOKIE)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(key, _)| *key == name)
        .map(|(_, value)| value);
    let value = found.next()?;
    let ours = !value.is_empty()
        && value.len() <= MAX_COOKIE_VALUE
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    (ours && found.next().is_none()).then(|| PlainToken::new(value.to_owned()))
}

/// `Set-Cookie` for a session (or, with `None`, its removal).
pub fn session_cookie(value: Option<&PlainToken>, secure: bool) -> String {
    set_cookie(SESSION_COOKIE, value, SESSION_TTL.as_secs(), secure)
}

/// `Set-Cookie` for the sign-in form (or, with `None`, its removal).
pub fn sign_in_cookie(value: Option<&PlainToken>, secure: bool) -> String {
    set_cookie(SIGN_IN_COOKIE, value, SIGN_IN_TTL_SECS, secure)
}

fn set_cookie(name: &str, value: Option<&PlainToken>, max_age: u64, secure: bool) -> String {
    let (value, max_age) = match value {
        Some(value) => (value.expose(), max_age),
        None => ("", 0),
    };
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/account; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_http_only_strict_and_expiring() {
        let value = PlainToken::new("abc".into());
        assert_eq!(
            session_cookie(Some(&value), true),
            "revokd_account=abc; Path=/account; Max-Age=1800; HttpOnly; SameSite=Strict; Secure"
        );
        assert_eq!(
            session_cookie(None, false),
            "revokd_account=; Path=/account; Max-Age=0; HttpOnly; SameSite=Strict"
        );
    }

    #[test]
    fn only_one_well_formed_value_counts() {
        let request = |cookie: &str| {
            actix_web::test::TestRequest::default()
                .insert_header((header::COOKIE, cookie.to_owned()))
                .to_http_request()
        };
        let value = |cookie: &str| super::cookie(&request(cookie), SESSION_COOKIE).map(|t| t.expose().to_owned());
        assert_eq!(value("a=1; revokd_account=xyz_-9"), Some("xyz_-9".into()));
        assert_eq!(value("revokd_account=x; revokd_account=y"), None);
        assert_eq!(value("revokd_account=a%20b"), None);
        assert_eq!(value("revokd_account_sign_in=abc"), None);
    }
}
