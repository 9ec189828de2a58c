//! `/admin/v1/domains` and `/admin/v1/domains/{domain}`.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::admin::Domain;
use crate::domain::{DomainName, DomainSettings, SettingsPatch};
use crate::http::error::documented::{JsonBodyRefused, OperatorRefused, StoreUnavailable};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extractors::{Operator, ValidJson};
use crate::http::handlers::common::{Success, deleted};
use crate::http::handlers::params::DomainPath;
use crate::http::state::AppState;

/// A new identity domain; every setting but the name has a default.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name":"acme","access_token_ttl_secs":3600,"refresh_token_ttl_secs":1209600,"refresh_token_grace_secs":30,"status_list_ttl_secs":60,"revoke_on_password_change":true,"public_clients_can_revoke":true}))]
pub struct CreateDomain {
    #[schema(pattern = "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
    pub name: String,
    /// Default 3600.
    #[validate(range(min = 1, max = 315_360_000, message = "must be from 1 to 315360000 seconds"))]
    #[schema(minimum = 1, maximum = 315_360_000)]
    pub access_token_ttl_secs: Option<i64>,
    /// Default 1209600 (14 days).
    #[validate(range(min = 1, max = 315_360_000, message = "must be from 1 to 315360000 seconds"))]
    #[schema(minimum = 1, maximum = 315_360_000)]
    pub refresh_token_ttl_secs: Option<i64>,
    /// Default 30: seconds in which the same confidential client may present a refresh
    /// token it just rotated again, as the retry of a lost answer; 0 turns it off.
    #[validate(range(min = 0, max = 3600, message = "must be from 0 to 3600 seconds"))]
    #[schema(minimum = 0, maximum = 3600)]
    pub refresh_token_grace_secs: Option<i64>,
    /// Default 60: seconds resource servers may cache the domain's status lists (`ttl`).
    #[validate(range(min = 1, max = 86_400, message = "must be from 1 to 86400 seconds"))]
    #[schema(minimum = 1, maximum = 86_400)]
    pub status_list_ttl_secs: Option<i64>,
    /// Default true: a password change revokes every live token of the user.
    pub revoke_on_password_change: Option<bool>,
    /// Default true.
    pub public_clients_can_revoke: Option<bool>,
}

/// Any subset of a domain's settings; absent fields keep their value.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"access_token_ttl_secs":600}))]
pub struct UpdateDomain {
    #[validate(range(min = 1, max = 315_360_000, message = "must be from 1 to 315360000 seconds"))]
    #[schema(minimum = 1, maximum = 315_360_000)]
    pub access_token_ttl_secs: Option<i64>,
    #[validate(range(min = 1, max = 315_360_000, message = "must be from 1 to 315360000 seconds"))]
    #[schema(minimum = 1, maximum = 315_360_000)]
    pub refresh_token_ttl_secs: Option<i64>,
    #[validate(range(min = 0, max = 3600, message = "must be from 0 to 3600 seconds"))]
    #[schema(minimum = 0, maximum = 3600)]
    pub refresh_token_grace_secs: Option<i64>,
    #[validate(range(min = 1, max = 86_400, message = "must be from 1 to 86400 seconds"))]
    #[schema(minimum = 1, maximum = 86_400)]
    pub status_list_ttl_secs: Option<i64>,
    pub revoke_on_password_change: Option<bool>,
    pub public_clients_can_revoke: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct DomainList {
    pub domains: Vec<Domain>,
}

/// Creates an identity domain.
#[utoipa::path(post, path = "/admin/v1/domains", tag = "operator", operation_id = "create_domain",
    security(("operator_token" = [])),
    request_body = CreateDomain,
    responses(
        (status = 201, description = "Created", body = Domain),
        (status = 400, description = "Malformed body", body = ErrorBody),
        OperatorRefused,
        (status = 409, description = "The domain exists", body = ErrorBody),
        JsonBodyRefused,
        StoreUnavailable))]
pub async fn create(
    state: web::Data<AppState>,
    operator: Operator,
    body: ValidJson<CreateDomain>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let name = DomainName::parse(&body.name)?;
    let defaults = DomainSettings::default();
    let settings = DomainSettings {
        access_token_ttl_secs: body.access_token_ttl_secs.unwrap_or(defaults.access_token_ttl_secs),
        refresh_token_ttl_secs: body.refresh_token_ttl_secs.unwrap_or(defaults.refresh_token_ttl_secs),
        refresh_token_grace_secs: body
            .refresh_token_grace_secs
            .unwrap_or(defaults.refresh_token_grace_secs),
        status_list_ttl_secs: body.status_list_ttl_secs.unwrap_or(defaults.status_list_ttl_secs),
        revoke_on_password_change: body
            .revoke_on_password_change
            .unwrap_or(defaults.revoke_on_password_change),
        public_clients_can_revoke: body
            .public_clients_can_revoke
            .unwrap_or(defaults.public_clients_can_revoke),
    };
    let domain = state.admin.create_domain(name, settings, operator.actor()).await?;
    Ok(HttpResponse::Created().json(domain))
}

/// Lists every identity domain, by name.
#[utoipa::path(get, path = "/admin/v1/domains", tag = "operator", operation_id = "list_domains",
    security(("operator_token" = [])),
    responses(
        (status = 200, description = "All domains", body = DomainList),
        (status = 400, description = "invalid_request: REVOKD_REQUIRE_HTTPS=true and the request came over plain HTTP", body = ErrorBody),
        OperatorRefused,
        StoreUnavailable))]
pub async fn list(state: web::Data<AppState>, _operator: Operator) -> Result<web::Json<DomainList>, ApiError> {
    let domains = state.admin.list_domains().await?;
    Ok(web::Json(DomainList { domains }))
}

/// One identity domain.
#[utoipa::path(get, path = "/admin/v1/domains/{domain}", tag = "operator", operation_id = "get_domain",
    security(("operator_token" = [])),
    params(DomainPath),
    responses(
        (status = 200, description = "The domain", body = Domain),
        (status = 400, description = "Malformed domain name", body = ErrorBody),
        OperatorRefused,
        (status = 404, description = "No such domain", body = ErrorBody),
        StoreUnavailable))]
pub async fn get(
    state: web::Data<AppState>,
    _operator: Operator,
    name: web::Path<DomainName>,
) -> Result<web::Json<Domain>, ApiError> {
    Ok(web::Json(state.admin.get_domain(&name).await?))
}

/// Changes some settings; they apply from the next request on.
#[utoipa::path(patch, path = "/admin/v1/domains/{domain}", tag = "operator", operation_id = "update_domain",
    security(("operator_token" = [])),
    params(DomainPath),
    request_body = UpdateDomain,
    responses(
        (status = 200, description = "The updated domain", body = Domain),
        (status = 400, description = "Malformed body or name", body = ErrorBody),
        OperatorRefused,
        (status = 404, description = "No such domain", body = ErrorBody),
        JsonBodyRefused,
        StoreUnavailable))]
pub async fn update(
    state: web::Data<AppState>,
    operator: Operator,
    name: web::Path<DomainName>,
    body: ValidJson<UpdateDomain>,
) -> Result<web::Json<Domain>, ApiError> {
    let patch = SettingsPatch {
        access_token_ttl_secs: body.0.access_token_ttl_secs,
        refresh_token_ttl_secs: body.0.refresh_token_ttl_secs,
        refresh_token_grace_secs: body.0.refresh_token_grace_secs,
        status_list_ttl_secs: body.0.status_list_ttl_secs,
        revoke_on_password_change: body.0.revoke_on_password_change,
        public_clients_can_revoke: body.0.public_clients_can_revoke,
    };
    Ok(web::Json(
        state.admin.update_domain(&name, patch, operator.actor()).await?,
    ))
}

/// Deletes the domain and everything in it: clients, users, consents, keys, tokens.
#[utoipa::path(delete, path = "/admin/v1/domains/{domain}", tag = "operator", operation_id = "delete_domain",
    security(("operator_token" = [])),
    params(DomainPath),
    responses(
        (status = 200, description = "Deleted", body = Success),
        (status = 400, description = "Malformed domain name", body = ErrorBody),
        OperatorRefused,
        (status = 404, description = "No such domain", body = ErrorBody),
        StoreUnavailable))]
pub async fn delete(
    state: web::Data<AppState>,
    operator: Operator,
    name: web::Path<DomainName>,
) -> Result<HttpResponse, ApiError> {
    state.admin.delete_domain(&name, operator.actor()).await?;
    Ok(deleted())
}
