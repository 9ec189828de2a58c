//! `POST /oauth2/rest/token/introspect` (SPEC §3.4, RFC 7662).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use utoipa::ToSchema;

use crate::http::error::documented::{ClientAuthFailed, FormBodyRefused, StoreUnavailable};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extractors::{IdentityDomain, OAuthRequest, base_url, issuer};
use crate::http::limits::MAX_TOKEN_BYTES;
use crate::http::state::AppState;
use crate::oauth::OAuthError;
use crate::oauth::introspection::{self, Introspection};
use crate::tokens::PlainToken;

/// The form of an introspection request (`application/x-www-form-urlencoded`). No
/// parameter may repeat or be empty (`400 invalid_request`).
#[derive(ToSchema)]
#[schema(example = json!({"token":"eyJhbGciOiJFUzI1NiIsImtpZCI6Ii4uLiIsInR5cCI6ImF0K2p3dCJ9..."}))]
#[allow(dead_code)]
pub struct IntrospectForm {
    /// The token to look at, at most 8 KiB.
    #[schema(min_length = 1, max_length = 8192)]
    token: String,
    /// RFC 7662 hint; ignored (the token is found by its hash). May be empty: an empty
    /// hint is as if absent.
    #[schema(nullable = false, example = "access_token")]
    token_type_hint: Option<String>,
    /// `client_secret_post` with `client_secret` (instead of HTTP Basic; with Basic it
    /// must equal the Basic user).
    #[schema(nullable = false, pattern = "^[ -~]{1,255}$", example = "api")]
    client_id: Option<String>,
    /// `client_secret_post`; never together with HTTP Basic.
    #[schema(nullable = false, min_length = 1, format = Password)]
    client_secret: Option<String>,
}

/// Tells a resource server whether a token is live, and what it carries (RFC 7662).
///
/// Any confidential client of the domain may ask (a public client is `401`). The answer
/// reads the store on every call, so a revocation is visible here on every instance as
/// soon as the revocation has been answered.
#[utoipa::path(post, path = "/oauth2/rest/token/introspect", tag = "oauth", operation_id = "introspect_token",
    params(IdentityDomain),
    request_body(content = IntrospectForm, content_type = "application/x-www-form-urlencoded",
        description = "The client authenticates with HTTP Basic (`client_secret_basic`) or with `client_id` and \
            `client_secret` in the form (`client_secret_post`); public clients may not introspect."),
    security(("client_secret_basic" = []), ()),
    responses(
        (status = 200, description = "The token's state: every field for a live token, exactly `{\"active\":false}` \
            for a revoked, expired, unknown or other-domain token", body = Introspection,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "invalid_request: missing or malformed domain, a missing, empty, repeated or \
            over-8-KiB parameter, two client authentication methods", body = ErrorBody,
            example = json!({"status":"failure","error":"invalid_request","error_description":"parameter token is required"})),
        ClientAuthFailed,
        FormBodyRefused,
        StoreUnavailable))]
pub async fn introspect(
    req: HttpRequest,
    state: web::Data<AppState>,
    request: OAuthRequest,
) -> Result<HttpResponse, ApiError> {
    let OAuthRequest { domain, form, client } = request;
    let oauth = |e| ApiError::from_oauth(e, &domain);
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
