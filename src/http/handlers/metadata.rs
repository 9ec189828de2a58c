//! Discovery (SPEC §3.6): RFC 8414 metadata per domain and the domain's JWKS.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::params::DomainPath;
use crate::domain::DomainName;
use crate::http::error::documented::StoreUnavailable;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extractors::{IdentityDomain, base_url, issuer};
use crate::http::state::AppState;
use crate::store::{domains, keys};

const GRANT_TYPES: [&str; 3] = ["client_credentials", "password", "refresh_token"];
const CLIENT_AUTH_METHODS: [&str; 3] = ["client_secret_basic", "client_secret_post", "none"];
const CONFIDENTIAL_AUTH_METHODS: [&str; 2] = ["client_secret_basic", "client_secret_post"];

/// RFC 8414 authorization server metadata.
#[derive(Serialize, ToSchema)]
pub struct Metadata {
    #[schema(format = "uri")]
    pub issuer: String,
    #[schema(format = "uri")]
    pub token_endpoint: String,
    #[schema(format = "uri")]
    pub revocation_endpoint: String,
    #[schema(format = "uri")]
    pub introspection_endpoint: String,
    #[schema(format = "uri")]
    pub jwks_uri: String,
    /// The domain's status lists (SPEC §3.10): `{issuer}/status-lists`, no query.
    #[schema(format = "uri")]
    pub status_list_aggregation_endpoint: String,
    /// draft-parecki-oauth-global-token-revocation (SPEC §3.13), no query.
    #[schema(format = "uri")]
    pub global_token_revocation_endpoint: String,
    pub grant_types_supported: Vec<&'static str>,
    pub response_types_supported: Vec<&'static str>,
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    pub introspection_endpoint_auth_methods_supported: Vec<&'static str>,
}

#[derive(Serialize, ToSchema)]
pub struct Jwks {
    /// Public JWKs (EC P-256, ES256); never a private part.
    #[schema(value_type = Vec<Object>)]
    pub keys: Vec<serde_json::Value>,
}

/// The domain's authorization server metadata (RFC 8414).
///
/// URLs are absolute, on the address the request reached (or `REVOKD_PUBLIC_URL`); the
/// endpoints carry `?identityDomain={domain}`, so a stock OAuth client works unchanged.
#[utoipa::path(get, path = "/.well-known/oauth-authorization-server/domains/{domain}", tag = "discovery",
    operation_id = "get_authorization_server_metadata",
    params(DomainPath),
    responses(
        (status = 200, description = "Metadata", body = Metadata,
            example = json!({"issuer":"http://127.0.0.1:8080/domains/acme","token_endpoint":"http://127.0.0.1:8080/oauth2/rest/token?identityDomain=acme","revocation_endpoint":"http://127.0.0.1:8080/oauth2/revoke?identityDomain=acme","introspection_endpoint":"http://127.0.0.1:8080/oauth2/rest/token/introspect?identityDomain=acme","jwks_uri":"http://127.0.0.1:8080/oauth2/rest/jwks?identityDomain=acme","status_list_aggregation_endpoint":"http://127.0.0.1:8080/domains/acme/status-lists","global_token_revocation_endpoint":"http://127.0.0.1:8080/domains/acme/global-token-revocation","grant_types_supported":["client_credentials","password","refresh_token"],"response_types_supported":[],"token_endpoint_auth_methods_supported":["client_secret_basic","client_secret_post","none"],"revocation_endpoint_auth_methods_supported":["client_secret_basic","client_secret_post","none"],"introspection_endpoint_auth_methods_supported":["client_secret_basic","client_secret_post"]})),
        (status = 400, description = "invalid_request: malformed domain name", body = ErrorBody),
        (status = 404, description = "not_found: no such domain", body = ErrorBody,
            example = json!({"status":"failure","error":"not_found","error_description":"identity domain 'acme' does not exist"})),
        StoreUnavailable))]
pub async fn metadata(
    req: HttpRequest,
    state: web::Data<AppState>,
    domain: web::Path<DomainName>,
) -> Result<HttpResponse, ApiError> {
    let domain = domain.into_inner();
    domain_id(&state, &domain).await?;
    let base = base_url(&req, &state.settings);
    let endpoint = |path: &str| format!("{base}{path}?identityDomain={domain}");
    let issuer = issuer(&base, &domain);
    Ok(HttpResponse::Ok().json(Metadata {
        status_list_aggregation_endpoint: format!("{issuer}/status-lists"),
        global_token_revocation_endpoint: format!("{issuer}/global-token-revocation"),
        issuer,
        token_endpoint: endpoint("/oauth2/rest/token"),
        revocation_endpoint: endpoint("/oauth2/revoke"),
        introspection_endpoint: endpoint("/oauth2/rest/token/introspect"),
        jwks_uri: endpoint("/oauth2/rest/jwks"),
        grant_types_supported: GRANT_TYPES.to_vec(),
        response_types_supported: Vec::new(),
        token_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS.to_vec(),
        revocation_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS.to_vec(),
        introspection_endpoint_auth_methods_supported: CONFIDENTIAL_AUTH_METHODS.to_vec(),
    }))
}

/// The domain's public signing keys (RFC 7517), to verify access tokens offline (which
/// cannot see revocations: introspect for that).
#[utoipa::path(get, path = "/oauth2/rest/jwks", tag = "discovery", operation_id = "get_jwks",
    params(IdentityDomain),
    responses(
        (status = 200, description = "JWK set", body = Jwks,
            headers(("Cache-Control" = String, description = "`public, max-age=300`"))),
        (status = 400, description = "invalid_request: missing or malformed identity domain", body = ErrorBody),
        (status = 404, description = "not_found: no such domain", body = ErrorBody),
        StoreUnavailable))]
pub async fn jwks(state: web::Data<AppState>, domain: IdentityDomain) -> Result<HttpResponse, ApiError> {
    let id = domain_id(&state, &domain.0).await?;
    let jwks = state
        .store
        .read(move |mut db| Box::pin(async move { keys::public_jwks(&mut db, id).await }))
        .await?;
    let keys = jwks
        .iter()
        .map(|jwk| serde_json::from_str(jwk).map_err(|e| ApiError::Internal(format!("stored JWK: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(Jwks { keys }))
}

async fn domain_id(state: &AppState, domain: &DomainName) -> Result<i64, ApiError> {
    let name = domain.clone();
    state
        .store
        .read(move |mut db| Box::pin(async move { domains::find_by_name(&mut db, name.as_str()).await }))
        .await?
        .map(|row| row.id)
        .ok_or_else(|| ApiError::NotFound(format!("identity domain '{domain}' does not exist")))
}
