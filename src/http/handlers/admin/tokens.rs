//! `/admin/v1/domains/{domain}/tokens/lookup`: a token's whole state, for operators.

use actix_web::{HttpRequest, web};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use crate::admin::TokenLookup;
use crate::domain::DomainName;
use crate::http::error::documented::{JsonBodyRefused, OperatorRefused, StoreUnavailable};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extractors::{Operator, ValidJson, base_url, issuer};
use crate::http::handlers::params::DomainPath;
use crate::http::limits::MAX_TOKEN_BYTES;
use crate::http::state::AppState;
use crate::tokens::PlainToken;

/// The token to look up. No `Debug`: it holds a token.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token":"eyJhbGciOiJFUzI1NiIsImtpZCI6Ii4uLiJ9..."}))]
pub struct LookupToken {
    #[validate(length(min = 1, max = 8192, message = "must be 1 to 8192 bytes"))]
    #[schema(min_length = 1, max_length = 8192)]
    pub token: String,
}

/// Everything revokd knows of a token, dead or alive: when, by whom and why it was
/// revoked (SPEC §3.13), its family, consent and status-list slot. Reasons are for
/// operators: introspection never shows them.
#[utoipa::path(post, path = "/admin/v1/domains/{domain}/tokens/lookup", tag = "operator",
    operation_id = "lookup_token",
    security(("operator_token" = [])),
    params(DomainPath),
    request_body = LookupToken,
    responses(
        (status = 200, description = "The token's state", body = TokenLookup),
        (status = 400, description = "Malformed body or domain name", body = ErrorBody),
        OperatorRefused,
        (status = 404, description = "No such domain, or no such token in it", body = ErrorBody),
        JsonBodyRefused,
        StoreUnavailable))]
pub async fn lookup(
    req: HttpRequest,
    state: web::Data<AppState>,
    _operator: Operator,
    domain: web::Path<DomainName>,
    body: ValidJson<LookupToken>,
) -> Result<web::Json<TokenLookup>, ApiError> {
    let domain = domain.into_inner();
    if body.0.token.len() > MAX_TOKEN_BYTES {
        return Err(ApiError::InvalidRequest("the token is too long".into()));
    }
    let issuer = issuer(&base_url(&req, &state.settings), &domain);
    Ok(web::Json(
        state
            .admin
            .lookup_token(&domain, PlainToken::new(body.0.token), &issuer)
            .await?,
    ))
}
