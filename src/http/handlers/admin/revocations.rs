//! `POST /admin/v1/domains/{domain}/revocations`: bulk revocation by user, client or
//! both (SPEC §3.7).

use actix_web::web;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::admin::BulkSpec;
use crate::clock::parse_rfc3339;
use crate::domain::revocation::{Reason, TokenKind};
use crate::domain::{ClientId, DomainName, Username};
use crate::http::error::documented::{JsonBodyRefused, OperatorRefused, StoreUnavailable};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extractors::{Operator, ValidJson};
use crate::http::handlers::common::success_literal;
use crate::http::handlers::params::DomainPath;
use crate::http::state::AppState;

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RevokeType {
    AccessTokens,
    RefreshTokens,
    /// Both kinds.
    Tokens,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username":"alice","client_id":"web","revoke_type":"TOKENS","issued_before":"2026-11-24T12:00:00Z","revoke_consents":true,"reason":"compromised laptop","dry_run":false}))]
pub struct BulkRevocation {
    /// Every token of this user (at least one of `username` and `client_id`).
    pub username: Option<String>,
    /// Every token of this client; with `username`, that user's tokens at this client.
    pub client_id: Option<String>,
    /// Default `TOKENS` (both kinds).
    pub revoke_type: Option<RevokeType>,
    /// RFC 3339; only tokens issued before this instant (default and at most: now).
    #[schema(format = DateTime)]
    pub issued_before: Option<String>,
    /// Also withdraw the matching consents (and so every token under them).
    pub revoke_consents: Option<bool>,
    /// Kept with the revocation and in the audit event: 1 to 200 characters, no
    /// control characters.
    #[validate(length(max = 200, message = "at most 200 characters"))]
    #[schema(max_length = 200)]
    pub reason: Option<String>,
    /// Count only; change nothing.
    pub dry_run: Option<bool>,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status":"success","revoked_tokens":1042}))]
pub struct BulkRevoked {
    /// Always `success`.
    #[schema(schema_with = success_literal)]
    pub status: &'static str,
    /// Tokens that were live before the call and are revoked by it (or would be, for a dry run).
    pub revoked_tokens: i64,
}

/// Revokes every live token of a user, a client, or a user at a client, with one write
/// whatever their number.
#[utoipa::path(post, path = "/admin/v1/domains/{domain}/revocations", tag = "operator", operation_id = "bulk_revoke",
    security(("operator_token" = [])),
    params(DomainPath),
    request_body = BulkRevocation,
    responses(
        (status = 200, description = "Revoked (or counted, for a dry run)", body = BulkRevoked),
        (status = 400, description = "Malformed body, neither username nor client_id, bad instant", body = ErrorBody),
        OperatorRefused,
        (status = 404, description = "No such domain, user or client", body = ErrorBody),
        JsonBodyRefused,
        StoreUnavailable))]
pub async fn create(
    state: web::Data<AppState>,
    operator: Operator,
    domain: web::Path<DomainName>,
    body: ValidJson<BulkRevocation>,
) -> Result<web::Json<BulkRevoked>, ApiError> {
    let body = body.0;
    let issued_before = body
        .issued_before
        .as_deref()
        .map(|raw| {
            parse_rfc3339(raw)
                .ok_or_else(|| ApiError::InvalidRequest(format!("issued_before {raw:?} is not an RFC 3339 instant")))
        })
        .transpose()?;
    let spec = BulkSpec {
        username: body.username.as_deref().map(Username::parse).transpose()?,
        client_id: body.client_id.as_deref().map(ClientId::parse).transpose()?,
        kind: match body.revoke_type.unwrap_or(RevokeType::Tokens) {
            RevokeType::AccessTokens => Some(TokenKind::Access),
            RevokeType::RefreshTokens => Some(TokenKind::Refresh),
            RevokeType::Tokens => None,
        },
        issued_before,
        revoke_consents: body.revoke_consents.unwrap_or(false),
        reason: body
            .reason
            .as_deref()
            .map(Reason::parse)
            .transpose()
            .map_err(ApiError::InvalidRequest)?,
        dry_run: body.dry_run.unwrap_or(false),
    };
    let revoked_tokens = state.admin.bulk_revoke(&domain, spec, operator.actor()).await?;
    Ok(web::Json(BulkRevoked {
        status: "success",
        revoked_tokens,
    }))
}
