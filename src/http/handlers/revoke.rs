//! `POST /oauth2/rest/token/revoke` (SPEC §3.1) and its RFC 7009 alias
//! `POST /oauth2/revoke` (SPEC §3.2). With `REVOKD_REQUIRE_POST=false` both also
//! answer `GET` with the parameters in the query string.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use utoipa::ToSchema;

use crate::domain::revocation::{
    REVOKE_LEVELS, Reason, RevocationEndpoint as Endpoint, RevokeLevel, TOKEN_TYPES, TokenTypeParam, parse_closed,
};
use crate::http::error::documented::{ClientAuthFailed, FormBodyRefused, StoreUnavailable};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extractors::{IdentityDomain, OAuthForm, OAuthQueryRequest, OAuthRequest};
use crate::http::handlers::common::{CLIENT_AUTHENTICATION, Success};
use crate::http::limits::MAX_TOKEN_BYTES;
use crate::http::middleware::RequestId;
use crate::http::state::AppState;
use crate::oauth::OAuthError;
use crate::oauth::revocation::{self, LevelChoice, RevocationRequest};
use crate::tokens::PlainToken;

/// The form of a revocation request (`application/x-www-form-urlencoded`). No
/// parameter may repeat or be empty (`400 invalid_request`).
#[derive(ToSchema)]
#[schema(example = json!({"token":"Zx1x3mBq9Qh0g3oZkq4F2d6jWc8rT5yNn7uL0aEpVsI","token_type":"REFRESH_TOKEN","revoke_level":"RELATED_TOKENS"}))]
#[allow(dead_code)]
pub struct RevokeForm {
    /// The token to revoke: an access token (JWT) or a refresh token, at most 8 KiB.
    #[schema(min_length = 1, max_length = 8192)]
    token: String,
    /// Only speeds up the look-up: a wrong type still finds the token. Default `NONE`.
    #[schema(nullable = false)]
    token_type: Option<TokenTypeParam>,
    /// What else goes with the token. Default `NONE` on `/oauth2/rest/token/revoke`; on
    /// `/oauth2/revoke` `RELATED_TOKENS` for a refresh token and `NONE` for an access
    /// token (RFC 7009 §2.1), whatever `token_type_hint` says.
    #[schema(nullable = false)]
    revoke_level: Option<RevokeLevel>,
    /// RFC 7009 `access_token` or `refresh_token`; other values are ignored, and an
    /// empty one is as if absent.
    #[schema(nullable = false, example = "refresh_token")]
    token_type_hint: Option<String>,
    /// Why: kept with the revocation and in its audit event (never shown by
    /// introspection). 1 to 200 characters, no control characters.
    #[schema(nullable = false, min_length = 1, max_length = 200, example = "user logged out")]
    reason: Option<String>,
    /// `client_secret_post` with `client_secret`, or a public client alone (instead of
    /// HTTP Basic; with Basic it must equal the Basic user).
    #[schema(nullable = false, pattern = "^[ -~]{1,255}$", example = "web")]
    client_id: Option<String>,
    /// `client_secret_post`; never together with HTTP Basic (`400 invalid_request`).
    #[schema(nullable = false, min_length = 1, format = Password)]
    client_secret: Option<String>,
}

/// Revokes a token, and with `revoke_level` its family or its consent.
///
/// Answers `200 {"status":"success"}` when the token is revoked and also when there was
/// nothing to do (unknown, malformed, expired, already revoked, or another domain's
/// token: RFC 7009 §2.2). A client may revoke the tokens issued to it; a `domain_admin`
/// client any token of its domain; a public client only while its domain allows it.
/// The revocation is durable before the answer.
///
/// Only `POST` is served by default; with `REVOKD_REQUIRE_POST=false` the server also
/// answers `GET` with these parameters in the query string, exactly as `POST`. The
/// document describes the default, where `GET` is `405` with `Allow: POST`.
#[utoipa::path(post, path = "/oauth2/rest/token/revoke", tag = "oauth", operation_id = "revoke_token",
    params(IdentityDomain),
    request_body(content = RevokeForm, content_type = "application/x-www-form-urlencoded",
        description = CLIENT_AUTHENTICATION),
    security(("client_secret_basic" = []), ()),
    responses(
        (status = 200, description = "Revoked, or nothing to revoke", body = Success,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "invalid_request: missing or malformed identity domain, a missing, empty, \
            repeated or over-8-KiB parameter, an invalid `token_type` or `revoke_level` (the description names the \
            allowed values), a `reason` over 200 characters or with control characters, two client authentication methods; or unauthorized_client: this client may not revoke \
            this token (nothing changed)", body = ErrorBody,
            example = json!({"status":"failure","error":"invalid_request","error_description":"revoke_level must be one of NONE, RELATED_TOKENS, RELATED_CONSENT, not \"ALL\""})),
        ClientAuthFailed,
        FormBodyRefused,
        StoreUnavailable))]
pub async fn revoke(
    state: web::Data<AppState>,
    request: OAuthRequest,
    request_id: RequestId,
) -> Result<HttpResponse, ApiError> {
    run(&state, request, request_id, Endpoint::Oam).await
}

/// RFC 7009 revocation: the `revocation_endpoint` of the metadata.
///
/// As `/oauth2/rest/token/revoke`, with RFC 7009's default level: a refresh token is
/// revoked with `RELATED_TOKENS`, an access token alone; an explicit `revoke_level`
/// wins. `GET` as there: only with `REVOKD_REQUIRE_POST=false`.
#[utoipa::path(post, path = "/oauth2/revoke", tag = "oauth", operation_id = "revoke_token_rfc7009",
    params(IdentityDomain),
    request_body(content = RevokeForm, content_type = "application/x-www-form-urlencoded",
        description = CLIENT_AUTHENTICATION),
    security(("client_secret_basic" = []), ()),
    responses(
        (status = 200, description = "Revoked, or nothing to revoke", body = Success,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "invalid_request (as on `/oauth2/rest/token/revoke`) or unauthorized_client", body = ErrorBody,
            example = json!({"status":"failure","error":"unauthorized_client","error_description":"the token was not issued to this client"})),
        ClientAuthFailed,
        FormBodyRefused,
        StoreUnavailable))]
pub async fn revoke_rfc7009(
    state: web::Data<AppState>,
    request: OAuthRequest,
    request_id: RequestId,
) -> Result<HttpResponse, ApiError> {
    run(&state, request, request_id, Endpoint::Rfc7009).await
}

/// `GET /oauth2/rest/token/revoke` when `REVOKD_REQUIRE_POST=false`.
pub async fn revoke_by_get(
    state: web::Data<AppState>,
    OAuthQueryRequest(request): OAuthQueryRequest,
    request_id: RequestId,
) -> Result<HttpResponse, ApiError> {
    run(&state, request, request_id, Endpoint::Oam).await
}

/// `GET /oauth2/revoke` when `REVOKD_REQUIRE_POST=false`.
pub async fn revoke_rfc7009_by_get(
    state: web::Data<AppState>,
    OAuthQueryRequest(request): OAuthQueryRequest,
    request_id: RequestId,
) -> Result<HttpResponse, ApiError> {
    run(&state, request, request_id, Endpoint::Rfc7009).await
}

async fn run(
    state: &AppState,
    request: OAuthRequest,
    request_id: RequestId,
    endpoint: Endpoint,
) -> Result<HttpResponse, ApiError> {
    let OAuthRequest { domain, form, client } = request;
    let oauth = |e| ApiError::from_oauth(e, &domain);
    let request = parameters(&form, endpoint, request_id.to_string()).map_err(oauth)?;
    let revoked = revocation::revoke(&state.store, &state.clock, &client, request)
        .await
        .map_err(oauth)?;
    // The audit trail keeps every revocation that ended something, durably; the request
    // log line says it was answered. This is for debugging.
    tracing::debug!(
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

fn parameters(form: &OAuthForm, endpoint: Endpoint, request_id: String) -> Result<RevocationRequest, OAuthError> {
    let token = form
        .get("token")
        .ok_or_else(|| OAuthError::InvalidRequest("parameter token is required".into()))?;
    if token.len() > MAX_TOKEN_BYTES {
        return Err(OAuthError::InvalidRequest(format!(
            "token is over {MAX_TOKEN_BYTES} bytes"
        )));
    }
    // Validated, then only shown to the policy: the token is found by its hash
    // whatever its type.
    let token_type = form
        .get("token_type")
        .map(|raw| parse_closed::<TokenTypeParam>("token_type", raw, &TOKEN_TYPES))
        .transpose()
        .map_err(OAuthError::InvalidRequest)?
        .unwrap_or(TokenTypeParam::None);
    let choice = match form.get("revoke_level") {
        Some(raw) => LevelChoice::Explicit(
            parse_closed::<RevokeLevel>("revoke_level", raw, &REVOKE_LEVELS).map_err(OAuthError::InvalidRequest)?,
        ),
        None => match endpoint {
            Endpoint::Oam => LevelChoice::Explicit(RevokeLevel::None),
            Endpoint::Rfc7009 => LevelChoice::Rfc7009Default,
        },
    };
    let reason = form
        .get("reason")
        .map(Reason::parse)
        .transpose()
        .map_err(OAuthError::InvalidRequest)?;
    Ok(RevocationRequest {
        token: PlainToken::new(token.to_owned()),
        token_type,
        level: choice,
        reason,
        endpoint,
        request_id: Some(request_id),
    })
}
