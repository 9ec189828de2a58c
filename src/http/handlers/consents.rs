//! `GET /oauth2/rest/consents` and `DELETE /oauth2/rest/consents/{consent_id}`
//! (SPEC §3.5), with the user's bearer access token.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::admin::Success;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extractors::UserBearer;
use crate::http::middleware::RequestId;
use crate::http::state::AppState;
use crate::oauth::consents::{self, ConsentView};

#[derive(Serialize, ToSchema)]
pub struct ConsentList {
    /// Active consents only.
    pub consents: Vec<ConsentView>,
}

/// The applications the user has granted access, with what they granted.
#[utoipa::path(get, path = "/oauth2/rest/consents", tag = "consents",
    params(
        ("x-oauth-identity-domain-name" = Option<String>, Header, description = "Identity domain (wins over the query parameter)"),
        ("identityDomain" = Option<String>, Query, description = "Identity domain"),
    ),
    security(("user_token" = [])),
    responses(
        (status = 200, description = "The user's active consents", body = ConsentList),
        (status = 400, description = "Missing or malformed domain", body = ErrorBody),
        (status = 401, description = "invalid_token: missing, revoked or expired bearer token; `WWW-Authenticate: Bearer`", body = ErrorBody),
        (status = 503, description = "Store unavailable", body = ErrorBody)))]
pub async fn list(state: web::Data<AppState>, user: UserBearer) -> Result<web::Json<ConsentList>, ApiError> {
    let consents = consents::list(&state.store, &user.0).await.map_err(internal)?;
    Ok(web::Json(ConsentList { consents }))
}

/// Withdraws a consent: it and every token issued under it are revoked.
#[utoipa::path(delete, path = "/oauth2/rest/consents/{consent_id}", tag = "consents",
    params(
        ("consent_id" = i64, Path, description = "A consent of the user"),
        ("x-oauth-identity-domain-name" = Option<String>, Header, description = "Identity domain (wins over the query parameter)"),
        ("identityDomain" = Option<String>, Query, description = "Identity domain"),
    ),
    security(("user_token" = [])),
    responses(
        (status = 200, description = "Withdrawn", body = Success),
        (status = 400, description = "Missing or malformed domain", body = ErrorBody),
        (status = 401, description = "invalid_token: missing, revoked or expired bearer token; `WWW-Authenticate: Bearer`", body = ErrorBody),
        (status = 404, description = "No active consent of this user with that id", body = ErrorBody),
        (status = 503, description = "Store unavailable; nothing was withdrawn", body = ErrorBody)))]
pub async fn withdraw(
    state: web::Data<AppState>,
    user: UserBearer,
    path: web::Path<String>,
    request_id: RequestId,
) -> Result<HttpResponse, ApiError> {
    let not_found = || ApiError::NotFound("no such consent".into());
    let consent_id: i64 = path.parse().map_err(|_| not_found())?;
    let withdrawn = consents::withdraw(
        &state.store,
        &state.clock,
        &user.0,
        consent_id,
        Some(request_id.to_string()),
    )
    .await
    .map_err(internal)?;
    if withdrawn {
        Ok(super::admin::deleted())
    } else {
        Err(not_found())
    }
}

/// These calls fail only in the store or by a defect; neither is the user's doing.
fn internal(error: crate::oauth::OAuthError) -> ApiError {
    match error {
        crate::oauth::OAuthError::Store(e) => e.into(),
        other => ApiError::Internal(other.to_string()),
    }
}
