//! `POST /oauth2/rest/token` (SPEC §3.3, RFC 6749 §4.3, §4.4, §6).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use utoipa::ToSchema;

use crate::domain::GrantType;
use crate::domain::Scopes;
use crate::http::error::documented::{ClientAuthFailed, FormBodyRefused, StoreUnavailable};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extractors::{IdentityDomain, OAuthForm, OAuthRequest, base_url, issuer};
use crate::http::handlers::common::CLIENT_AUTHENTICATION;
use crate::http::limits::MAX_TOKEN_BYTES;
use crate::http::middleware::RequestId;
use crate::http::sign_in::SignInAttempt;
use crate::http::state::AppState;
use crate::oauth::{Grant, OAuthError, TokenResponse};
use crate::security::Password;
use crate::tokens::PlainToken;

/// The form of a token request (`application/x-www-form-urlencoded`). No parameter may
/// repeat or be empty (`400 invalid_request`).
#[derive(ToSchema)]
#[schema(example = json!({"grant_type":"password","username":"alice","password":"correct horse","scope":"openid profile"}))]
#[allow(dead_code)]
pub struct TokenForm {
    grant_type: GrantType,
    /// Space-separated scope-tokens (RFC 6749 §3.3); default: all the client (or the
    /// refresh token) may have.
    #[schema(nullable = false, pattern = r"^[ !#-\[\]-~]+$", example = "openid profile")]
    scope: Option<String>,
    /// `password` grant: the resource owner.
    #[schema(nullable = false, min_length = 1, max_length = 255, example = "alice")]
    username: Option<String>,
    /// `password` grant: at most 1024 bytes.
    #[schema(nullable = false, format = Password, min_length = 1, max_length = 1024)]
    password: Option<String>,
    /// `refresh_token` grant: the refresh token to rotate, at most 8 KiB.
    #[schema(nullable = false, min_length = 1, max_length = 8192)]
    refresh_token: Option<String>,
    /// `client_secret_post` with `client_secret`, or a public client alone (instead of
    /// HTTP Basic; with Basic it must equal the Basic user).
    #[schema(nullable = false, pattern = "^[ -~]{1,255}$", example = "web")]
    client_id: Option<String>,
    /// `client_secret_post`; never together with HTTP Basic.
    #[schema(nullable = false, min_length = 1, format = Password)]
    client_secret: Option<String>,
}

/// Issues tokens (RFC 6749 §4.3, §4.4, §6).
///
/// `client_credentials`: an access token only. `password`: an access and a refresh
/// token, under the user's consent to the client (created or reused). `refresh_token`:
/// rotation, a new refresh token each time; presenting a rotated refresh token again is
/// reuse, `400 invalid_grant`, and the whole family is revoked (RFC 9700 §4.14).
#[utoipa::path(post, path = "/oauth2/rest/token", tag = "oauth", operation_id = "issue_token",
    params(IdentityDomain),
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded",
        description = CLIENT_AUTHENTICATION),
    security(("client_secret_basic" = []), ()),
    responses(
        (status = 200, description = "Tokens", body = TokenResponse,
            headers(
                ("Cache-Control" = String, description = "`no-store` (RFC 6749 §5.1)"),
                ("Pragma" = String, description = "`no-cache`"))),
        (status = 400, description = "RFC 6749 §5.2: invalid_request (missing or malformed domain or parameter), \
            invalid_grant (wrong password, unknown, expired, revoked or reused refresh token), unauthorized_client \
            (the client may not use this grant), unsupported_grant_type or invalid_scope", body = ErrorBody,
            example = json!({"status":"failure","error":"invalid_grant","error_description":"the refresh token was already used; every token of its grant is now revoked"})),
        ClientAuthFailed,
        FormBodyRefused,
        StoreUnavailable))]
pub async fn token(
    req: HttpRequest,
    state: web::Data<AppState>,
    request: OAuthRequest,
    request_id: RequestId,
) -> Result<HttpResponse, ApiError> {
    let OAuthRequest { domain, form, client } = request;
    let oauth = |e| ApiError::from_oauth(e, &domain);
    let grant = grant_of(&form).map_err(oauth)?;
    let sign_in = match &grant {
        Grant::Password { username, .. } => Some(SignInAttempt::new(&req, &state, &domain, username)),
        _ => None,
    };
    if let Some(attempt) = &sign_in {
        attempt.check(&state).map_err(ApiError::too_many_attempts)?;
    }
    let issuer = issuer(&base_url(&req, &state.settings), &domain);
    let issued = state
        .tokens
        .issue(&client, &issuer, grant, Some(request_id.to_string()))
        .await;
    if let Err(OAuthError::InvalidGrant(_)) = &issued
        && let Some(attempt) = sign_in
    {
        attempt.failed(&state, &domain, Some(&client.client.client_id));
    }
    let issued = issued.map_err(oauth)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(TokenResponse::from(issued)))
}

fn grant_of(form: &OAuthForm) -> Result<Grant, OAuthError> {
    let required = |name: &str| {
        form.get(name)
            .ok_or_else(|| OAuthError::InvalidRequest(format!("parameter {name} is required")))
    };
    let scope = form
        .get("scope")
        .map(Scopes::parse_space_separated)
        .transpose()
        .map_err(|e| OAuthError::InvalidScope(e.to_string()))?;
    match required("grant_type")? {
        "client_credentials" => Ok(Grant::ClientCredentials { scope }),
        "password" => {
            let password = required("password")?;
            if password.len() > Password::MAX_SIGN_IN_BYTES {
                return Err(OAuthError::InvalidRequest(format!(
                    "password is over {} bytes",
                    Password::MAX_SIGN_IN_BYTES
                )));
            }
            Ok(Grant::Password {
                username: required("username")?.to_owned(),
                password: Password::new(password.to_owned()),
                scope,
            })
        }
        "refresh_token" => {
            let token = required("refresh_token")?;
            if token.len() > MAX_TOKEN_BYTES {
                return Err(OAuthError::InvalidRequest(format!(
                    "refresh_token is over {MAX_TOKEN_BYTES} bytes"
                )));
            }
            Ok(Grant::RefreshToken {
                refresh_token: PlainToken::new(token.to_owned()),
                scope,
            })
        }
        other => Err(OAuthError::UnsupportedGrantType(format!(
            "grant_type {other:?} is not supported: use client_credentials, password or refresh_token"
        ))),
    }
}
