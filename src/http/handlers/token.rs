//! `POST /oauth2/rest/token` (SPEC §3.3, RFC 6749 §4.3, §4.4, §6).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use utoipa::ToSchema;

use crate::domain::Scopes;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extractors::{IdentityDomain, OAuthForm, base_url, issuer, presented_credentials};
use crate::http::middleware::RequestId;
use crate::http::state::AppState;
use crate::oauth::{Grant, OAuthError, TokenResponse, client_auth};
use crate::security::Password;
use crate::tokens::PlainToken;

/// The longest token accepted in a request (SPEC §5).
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// The form of a token request (`application/x-www-form-urlencoded`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TokenForm {
    /// `client_credentials`, `password` or `refresh_token`.
    #[schema(example = "password")]
    grant_type: String,
    /// Space-separated scopes; default: all the client (or the refresh token) may have.
    scope: Option<String>,
    /// `password` grant.
    username: Option<String>,
    /// `password` grant.
    #[schema(format = Password)]
    password: Option<String>,
    /// `refresh_token` grant.
    refresh_token: Option<String>,
    /// `client_secret_post` or a public client (instead of HTTP Basic).
    client_id: Option<String>,
    /// `client_secret_post`.
    client_secret: Option<String>,
}

/// Issues tokens.
#[utoipa::path(post, path = "/oauth2/rest/token", tag = "oauth",
    params(
        ("x-oauth-identity-domain-name" = Option<String>, Header, description = "Identity domain (wins over the query parameter)"),
        ("identityDomain" = Option<String>, Query, description = "Identity domain"),
    ),
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    // Without Basic, the client authenticates in the form (client_secret_post, or a
    // public client's client_id alone).
    security(("client_secret_basic" = []), ()),
    responses(
        (status = 200, description = "Tokens; `Cache-Control: no-store`", body = TokenResponse),
        (status = 400, description = "invalid_request, invalid_grant, unauthorized_client, unsupported_grant_type or invalid_scope", body = ErrorBody),
        (status = 401, description = "invalid_client; `WWW-Authenticate: Basic realm=\"<domain>\"`", body = ErrorBody),
        (status = 413, description = "Body over 16 KiB", body = ErrorBody),
        (status = 415, description = "Body not form-encoded", body = ErrorBody),
        (status = 503, description = "Store unavailable", body = ErrorBody)))]
pub async fn token(
    req: HttpRequest,
    state: web::Data<AppState>,
    domain: IdentityDomain,
    form: OAuthForm,
    request_id: RequestId,
) -> Result<HttpResponse, ApiError> {
    let domain = domain.0;
    let oauth = |e| ApiError::from_oauth(e, &domain);
    let credentials = presented_credentials(&req, &form).map_err(oauth)?;
    let client = client_auth::authenticate(&state.store, &domain, credentials)
        .await
        .map_err(oauth)?;
    let grant = grant_of(&form).map_err(oauth)?;
    let issuer = issuer(&base_url(&req, &state.settings), &domain);
    let issued = state
        .tokens
        .issue(&client, &issuer, grant, Some(request_id.to_string()))
        .await
        .map_err(oauth)?;
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
            if password.len() > 1024 {
                return Err(OAuthError::InvalidRequest("password is over 1024 bytes".into()));
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
