//! `GET /oauth2/rest/consents` and `DELETE /oauth2/rest/consents/{consent_id}`
//! (SPEC §3.5), with the user's bearer access token.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::common::{Success, deleted};
use crate::domain::ConsentPublicId;
use crate::http::error::documented::{StoreUnavailable, UserTokenRefused};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extractors::{IdentityDomain, UserBearer};
use crate::http::middleware::RequestId;
use crate::http::state::AppState;
use crate::oauth::consents::{self, ConsentView};

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"consents":[{"consent_id":"3f9a1c0e5b7d4a2f8e6c1b0d9a7f5e3c","client_id":"web","scopes":["openid","profile"],"granted_at":"2026-11-24T09:30:00Z"}]}))]
pub struct ConsentList {
    /// Active consents only.
    pub consents: Vec<ConsentView>,
}

/// The applications the user has granted access, with what they granted.
#[utoipa::path(get, path = "/oauth2/rest/consents", tag = "consents", operation_id = "list_consents",
    params(IdentityDomain),
    security(("user_token" = [])),
    responses(
        (status = 200, description = "The user's active consents", body = ConsentList),
        (status = 400, description = "invalid_request: missing or malformed identity domain", body = ErrorBody),
        UserTokenRefused,
        StoreUnavailable))]
pub async fn list(state: web::Data<AppState>, user: UserBearer) -> Result<web::Json<ConsentList>, ApiError> {
    let consents = consents::list(&state.store, &user.0).await.map_err(internal)?;
    Ok(web::Json(ConsentList { consents }))
}

/// Withdraws a consent: it and every token issued under it are revoked, in one
/// transaction.
#[utoipa::path(delete, path = "/oauth2/rest/consents/{consent_id}", tag = "consents", operation_id = "withdraw_consent",
    params(
        ("consent_id" = String, Path, description = "A consent of the user, as listed: 32 hex digits",
            pattern = "^[0-9a-f]{32}$", example = "3f9a1c0e5b7d4a2f8e6c1b0d9a7f5e3c"),
        IdentityDomain,
    ),
    security(("user_token" = [])),
    responses(
        (status = 200, description = "Withdrawn", body = Success),
        (status = 400, description = "invalid_request: missing or malformed identity domain", body = ErrorBody),
        UserTokenRefused,
        (status = 404, description = "not_found: no active consent of this user with that id", body = ErrorBody,
            example = json!({"status":"failure","error":"not_found","error_description":"no such consent"})),
        StoreUnavailable))]
pub async fn withdraw(
    state: web::Data<AppState>,
    user: UserBearer,
    path: web::Path<String>,
    request_id: RequestId,
) -> Result<HttpResponse, ApiError> {
    let not_found = || ApiError::NotFound("no such consent".into());
    // A malformed id names no consent, as an unknown one does.
    let consent_id = ConsentPublicId::parse(&path).map_err(|_| not_found())?;
    let withdrawn = consents::withdraw(
        &state.store,
        &state.clock,
        &user.0,
        &consent_id,
        None,
        Some(request_id.to_string()),
    )
    .await
    .map_err(internal)?;
    if withdrawn { Ok(deleted()) } else { Err(not_found()) }
}

/// These calls fail only in the store or by a defect; neither is the user's doing.
fn internal(error: crate::oauth::OAuthError) -> ApiError {
    match error {
        crate::oauth::OAuthError::Store(e) => e.into(),
        other => ApiError::Internal(other.to_string()),
    }
}
