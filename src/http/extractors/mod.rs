//! Request extractors: each turns one part of a request into a checked value or a
//! §3 error, so handlers receive only valid input.

mod authenticated;
mod base_url;
mod body;
mod client_auth;
mod identity_domain;
mod oauth_form;
mod operator;
mod user_bearer;

pub use authenticated::{OAuthQueryRequest, OAuthRequest};
pub use base_url::{base_url, issuer};
pub use body::{ValidJson, json_config, path_config, query_config};
// Only through `OAuthRequest`, so no handler authenticates a client its own way.
use client_auth::presented_credentials;
// For the fuzz target only (`fuzz/fuzz_targets/basic_credentials.rs`).
#[doc(hidden)]
pub use client_auth::decode_basic_credentials;
pub use identity_domain::IdentityDomain;
pub use oauth_form::OAuthForm;
pub use operator::Operator;
pub use user_bearer::UserBearer;

/// The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1, the scheme in
/// any case), trimmed; `None` without one. Every bearer-authenticated request reads it here.
pub fn bearer_token(headers: &actix_web::http::header::HeaderMap) -> Option<&str> {
    headers
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
}
