//! `POST {issuer}/global-token-revocation` (SPEC §3.13,
//! draft-parecki-oauth-global-token-revocation): revoke everything of one user.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use super::params::DomainPath;
use crate::domain::DomainName;
use crate::http::error::documented::{JsonBodyRefused, StoreUnavailable, UserTokenRefused};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extractors::{ValidJson, base_url, bearer_token, issuer};
use crate::http::limits::MAX_TOKEN_BYTES;
use crate::http::middleware::RequestId;
use crate::http::state::AppState;
use crate::oauth::global_revocation::{self, Refused, Subject};
use crate::tokens::PlainToken;

/// Whom to revoke.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"sub_id":{"format":"iss_sub","iss":"https://id.example/domains/acme","sub":"alice"}}))]
pub struct GlobalRevocationRequest {
    pub sub_id: SubjectIdentifier,
}

/// An RFC 9493 subject identifier: `iss_sub` (the issuer must be the domain's) or
/// `opaque` (the username); any other format is `400 invalid_request`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "format", rename_all = "snake_case", deny_unknown_fields)]
pub enum SubjectIdentifier {
    IssSub { iss: String, sub: String },
    Opaque { id: String },
}

/// Revokes every token of one user of the domain and withdraws their consents.
///
/// `Authorization: Bearer <access token>` of a `domain_admin` client whose token has the
/// scope `global_token_revocation`. An unknown user also answers `204`, so users cannot
/// be enumerated.
#[utoipa::path(post, path = "/domains/{domain}/global-token-revocation", tag = "oauth",
    operation_id = "global_token_revocation",
    security(("admin_client_token" = [])),
    params(DomainPath),
    request_body = GlobalRevocationRequest,
    responses(
        (status = 204, description = "Done (or no such user)"),
        (status = 400, description = "invalid_request: malformed body, unsupported subject format or malformed domain name", body = ErrorBody),
        UserTokenRefused,
        (status = 403, description = "insufficient_scope: the token lacks the scope global_token_revocation, or its client is not domain_admin", body = ErrorBody),
        JsonBodyRefused,
        StoreUnavailable))]
pub async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    domain: web::Path<DomainName>,
    request_id: RequestId,
    body: ValidJson<GlobalRevocationRequest>,
) -> Result<HttpResponse, ApiError> {
    let domain = domain.into_inner();
    let realm = domain.to_string();
    let refuse = || ApiError::InvalidToken {
        realm: realm.clone(),
        description: "the access token is not valid".into(),
    };
    let bearer = bearer_token(req.headers())
        .filter(|t| !t.is_empty() && t.len() <= MAX_TOKEN_BYTES)
        .map(|t| PlainToken::new(t.to_owned()))
        .ok_or_else(refuse)?;
    let subject = match body.0.sub_id {
        SubjectIdentifier::IssSub { iss, sub } => Subject::IssSub { iss, sub },
        SubjectIdentifier::Opaque { id } => Subject::Opaque { id },
    };
    let issuer = issuer(&base_url(&req, &state.settings), &domain);
    let request_id = Some(request_id.to_string());
    match global_revocation::revoke_all(
        &state.store,
        &state.clock,
        &domain,
        &issuer,
        &bearer,
        subject,
        request_id,
    )
    .await
    {
        Ok(()) => Ok(HttpResponse::NoContent().finish()),
        Err(Refused::InvalidToken) => Err(refuse()),
        Err(Refused::InsufficientScope) => Err(ApiError::InsufficientScope {
            realm,
            scope: global_revocation::SCOPE,
            description: "this token may not revoke a user's tokens: it needs the scope \
                          global_token_revocation and a domain_admin client"
                .into(),
        }),
        Err(Refused::Failed(error)) => Err(ApiError::from_oauth(error, &domain)),
    }
}
