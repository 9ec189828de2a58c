//! `POST /oauth2/rest/token/revoke` (SPEC §3.1) and its RFC 7009 alias
//! `POST /oauth2/revoke` (SPEC §3.2). With `REVOKD_REQUIRE_POST=false` both also
//! answer `GET` with the parameters in the query string.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use utoipa::ToSchema;

use super::token::MAX_TOKEN_BYTES;
use crate::domain::revocation::{REVOKE_LEVELS, RevokeLevel, TOKEN_TYPES, TokenTypeParam, parse_closed};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extractors::{IdentityDomain, OAuthForm, presented_credentials};
use crate::http::handlers::admin::Success;
use crate::http::middleware::RequestId;
use crate::http::state::AppState;
use crate::oauth::revocation::{self, LevelChoice};
use crate::oauth::{OAuthError, client_auth};
use crate::tokens::PlainToken;

/// The form of a revocation request (`application/x-www-form-urlencoded`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct RevokeForm {
    /// The token to revoke (at most 8 KiB).
    token: String,
    /// Only speeds up the look-up; default `NONE`.
    token_type: Option<TokenTypeParam>,
    /// Default `NONE` (on `/oauth2/revoke`: `RELATED_TOKENS` for a refresh token).
    revoke_level: Option<RevokeLevel>,
    /// RFC 7009 `access_token` / `refresh_token`; other values are ignored.
    token_type_hint: Option<String>,
    /// `client_secret_post` or a public client (instead of HTTP Basic).
    client_id: Option<String>,
    /// `client_secret_post`.
    client_secret: Option<String>,
}

/// Revokes a token, and with `revoke_level` its family or consent.
#[utoipa::path(post, path = "/oauth2/rest/token/revoke", tag = "oauth",
    params(
        ("x-oauth-identity-domain-name" = Option<String>, Header, description = "Identity domain (wins over the query parameter)"),
        ("identityDomain" = Option<String>, Query, description = "Identity domain"),
    ),
    request_body(content = RevokeForm, content_type = "application/x-www-form-urlencoded"),
    security(("client_secret_basic" = []), ()),
    responses(
        (status = 200, description = "Revoked, or nothing to revoke (unknown, expired, already revoked or another domain's token)", body = Success),
        (status = 400, description = "invalid_request (bad or repeated parameter, token over 8 KiB) or unauthorized_client", body = ErrorBody),
        (status = 401, description = "invalid_client; `WWW-Authenticate: Basic realm=\"<domain>\"`", body = ErrorBody),
        (status = 405, description = "GET while REVOKD_REQUIRE_POST is true", body = ErrorBody),
        (status = 413, description = "Body over 16 KiB", body = ErrorBody),
        (status = 415, description = "Body not form-encoded", body = ErrorBody),
        (status = 503, description = "Store unavailable; `Retry-After`; nothing was revoked", body = ErrorBody)))]
pub async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    domain: IdentityDomain,
    form: OAuthForm,
    request_id: RequestId,
) -> Result<HttpResponse, ApiError> {
    run(&req, &state, domain, &form, request_id, Endpoint::Rest).await
}

/// RFC 7009 revocation: the `revocation_endpoint` of the metadata.
#[utoipa::path(post, path = "/oauth2/revoke", tag = "oauth",
    params(
        ("x-oauth-identity-domain-name" = Option<String>, Header, description = "Identity domain (wins over the query parameter)"),
        ("identityDomain" = Option<String>, Query, description = "Identity domain"),
    ),
    request_body(content = RevokeForm, content_type = "application/x-www-form-urlencoded"),
    security(("client_secret_basic" = []), ()),
    responses(
        (status = 200, description = "Revoked, or nothing to revoke", body = Success),
        (status = 400, description = "invalid_request or unauthorized_client", body = ErrorBody),
        (status = 401, description = "invalid_client; `WWW-Authenticate: Basic realm=\"<domain>\"`", body = ErrorBody),
        (status = 405, description = "GET while REVOKD_REQUIRE_POST is true", body = ErrorBody),
        (status = 413, description = "Body over 16 KiB", body = ErrorBody),
        (status = 415, description = "Body not form-encoded", body = ErrorBody),
        (status = 503, description = "Store unavailable; `Retry-After`; nothing was revoked", body = ErrorBody)))]
pub async fn revoke_rfc7009(
    req: HttpRequest,
    state: web::Data<AppState>,
    domain: IdentityDomain,
    form: OAuthForm,
    request_id: RequestId,
) -> Result<HttpResponse, ApiError> {
    run(&req, &state, domain, &form, request_id, Endpoint::Rfc7009).await
}

/// `GET /oauth2/rest/token/revoke` when `REVOKD_REQUIRE_POST=false`.
pub async fn revoke_by_get(
    req: HttpRequest,
    state: web::Data<AppState>,
    domain: IdentityDomain,
    request_id: RequestId,
) -> Result<HttpResponse, ApiError> {
    let form = OAuthForm::parse(req.query_string().as_bytes())?;
    run(&req, &state, domain, &form, request_id, Endpoint::Rest).await
}

/// `GET /oauth2/revoke` when `REVOKD_REQUIRE_POST=false`.
pub async fn revoke_rfc7009_by_get(
    req: HttpRequest,
    state: web::Data<AppState>,
    domain: IdentityDomain,
    request_id: RequestId,
) -> Result<HttpResponse, ApiError> {
    let form = OAuthForm::parse(req.query_string().as_bytes())?;
    run(&req, &state, domain, &form, request_id, Endpoint::Rfc7009).await
}

#[derive(Clone, Copy)]
enum Endpoint {
    Rest,
    Rfc7009,
}

async fn run(
    req: &HttpRequest,
    state: &AppState,
    domain: IdentityDomain,
    form: &OAuthForm,
    request_id: RequestId,
    endpoint: Endpoint,
) -> Result<HttpResponse, ApiError> {
    let domain = domain.0;
    let oauth = |e| ApiError::from_oauth(e, &domain);
    let credentials = presented_credentials(req, form).map_err(oauth)?;
    let client = client_auth::authenticate(&state.store, &domain, credentials)
        .await
        .map_err(oauth)?;
    let (token, choice) = parameters(form, endpoint).map_err(oauth)?;
    let revoked = revocation::revoke(
        &state.store,
        &state.clock,
        &client,
        &token,
        choice,
        Some(request_id.to_string()),
    )
    .await
    .map_err(oauth)?;
    tracing::info!(
        domain = %domain,
        client_id = %client.client.client_id,
        revoked_access = revoked.access,
        revoked_refresh = revoked.refresh,
        "revocation"
    );
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(Success { status: "success" }))
}

fn parameters(form: &OAuthForm, endpoint: Endpoint) -> Result<(PlainToken, LevelChoice), OAuthError> {
    let token = form
        .get("token")
        .ok_or_else(|| OAuthError::InvalidRequest("parameter token is required".into()))?;
    if token.len() > MAX_TOKEN_BYTES {
        return Err(OAuthError::InvalidRequest(format!(
            "token is over {MAX_TOKEN_BYTES} bytes"
        )));
    }
    if let Some(raw) = form.get("token_type") {
        // Validated, then ignored: the token is found by its hash whatever its type.
        parse_closed::<TokenTypeParam>("token_type", raw, &TOKEN_TYPES).map_err(OAuthError::InvalidRequest)?;
    }
    let choice = match form.get("revoke_level") {
        Some(raw) => LevelChoice::Explicit(
            parse_closed::<RevokeLevel>("revoke_level", raw, &REVOKE_LEVELS).map_err(OAuthError::InvalidRequest)?,
        ),
        None => match endpoint {
            Endpoint::Rest => LevelChoice::Explicit(RevokeLevel::None),
            Endpoint::Rfc7009 => LevelChoice::Rfc7009Default,
        },
    };
    Ok((PlainToken::new(token.to_owned()), choice))
}
