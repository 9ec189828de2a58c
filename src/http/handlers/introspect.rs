//! `POST /oauth2/rest/token/introspect` (SPEC §3.4, RFC 7662).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use utoipa::ToSchema;

use super::token::MAX_TOKEN_BYTES;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extractors::{IdentityDomain, OAuthForm, base_url, issuer, presented_credentials};
use crate::http::state::AppState;
use crate::oauth::introspection::{self, Introspection};
use crate::oauth::{OAuthError, client_auth};
use crate::tokens::PlainToken;

/// The form of an introspection request (`application/x-www-form-urlencoded`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct IntrospectForm {
    /// The token to look at (at most 8 KiB).
    token: String,
    /// RFC 7662 hint; ignored (the token is found by its hash).
    token_type_hint: Option<String>,
    /// `client_secret_post` (instead of HTTP Basic).
    client_id: Option<String>,
    /// `client_secret_post`.
    client_secret: Option<String>,
}

/// Tells a resource server whether a token is live, and what it carries.
#[utoipa::path(post, path = "/oauth2/rest/token/introspect", tag = "oauth",
    params(
        ("x-oauth-identity-domain-name" = Option<String>, Header, description = "Identity domain (wins over the query parameter)"),
        ("identityDomain" = Option<String>, Query, description = "Identity domain"),
    ),
    request_body(content = IntrospectForm, content_type = "application/x-www-form-urlencoded"),
    security(("client_secret_basic" = []), ()),
    responses(
        (status = 200, description = "The token's state; exactly `{\"active\":false}` unless it is live", body = Introspection),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 401, description = "invalid_client (also for public clients); `WWW-Authenticate: Basic realm=\"<domain>\"`", body = ErrorBody),
        (status = 413, description = "Body over 16 KiB", body = ErrorBody),
        (status = 415, description = "Body not form-encoded", body = ErrorBody),
        (status = 503, description = "Store unavailable", body = ErrorBody)))]
pub async fn introspect(
    req: HttpRequest,
    state: web::Data<AppState>,
    domain: IdentityDomain,
    form: OAuthForm,
) -> Result<HttpResponse, ApiError> {
    let domain = domain.0;
    let oauth = |e| ApiError::from_oauth(e, &domain);
    let credentials = presented_credentials(&req, &form).map_err(oauth)?;
    let client = client_auth::authenticate(&state.store, &domain, credentials)
        .await
        .map_err(oauth)?;
    let token = form
        .get("token")
        .ok_or_else(|| OAuthError::InvalidRequest("parameter token is required".into()))
        .map_err(oauth)?;
    if token.len() > MAX_TOKEN_BYTES {
        return Err(ApiError::InvalidRequest(format!(
            "token is over {MAX_TOKEN_BYTES} bytes"
        )));
    }
    let issuer = issuer(&base_url(&req, &state.settings), &domain);
    let answer = introspection::introspect(
        &state.store,
        &state.clock,
        &client,
        &PlainToken::new(token.to_owned()),
        issuer,
    )
    .await
    .map_err(oauth)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(answer))
}
