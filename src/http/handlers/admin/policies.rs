//! `/admin/v1/domains/{domain}/revocation-policy` and `…/evaluate` (SPEC §3.12).

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use crate::admin::{Evaluation, RevocationPolicy};
use crate::domain::DomainName;
use crate::domain::policy::{Activation, ClientFacts, RequestFacts, TokenFacts};
use crate::http::error::documented::{JsonBodyRefused, OperatorRefused, StoreUnavailable};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extractors::{Operator, ValidJson};
use crate::http::handlers::common::{Success, deleted};
use crate::http::handlers::params::DomainPath;
use crate::http::state::AppState;

/// A domain's revocation policy: a CEL expression over `client`, `token`, `request` and
/// `now` whose result is `true`, `false` or `{"allow", "revoke_level"?, "reason"?}`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"expression":"client.domain_admin || token.client_id == client.client_id ? (token.kind == 'refresh' ? {'allow': true, 'revoke_level': 'RELATED_TOKENS'} : true) : false","enabled":true}))]
pub struct PutPolicy {
    #[schema(min_length = 1, max_length = 4096)]
    pub expression: String,
    /// Default true; a disabled policy is kept but not run.
    pub enabled: Option<bool>,
}

/// The variables to try a policy on, as JSON (times RFC 3339), and optionally the
/// expression to try instead of the stored policy.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluatePolicy {
    #[schema(min_length = 1, max_length = 4096)]
    pub expression: Option<String>,
    pub client: ClientFacts,
    pub token: TokenFacts,
    pub request: RequestFacts,
    /// Default: the server's clock.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub now: Option<DateTime<Utc>>,
}

/// Sets the domain's revocation policy, replacing any. It runs before every client
/// revocation of the domain (`/oauth2/rest/token/revoke`, `/oauth2/revoke`), on every
/// instance from its next request on.
#[utoipa::path(put, path = "/admin/v1/domains/{domain}/revocation-policy", tag = "operator",
    operation_id = "put_revocation_policy",
    security(("operator_token" = [])),
    params(DomainPath),
    request_body = PutPolicy,
    responses(
        (status = 200, description = "The stored policy", body = RevocationPolicy),
        (status = 400, description = "Malformed body, or an expression that does not compile (the description \
            gives the position as line:column)", body = ErrorBody,
            example = json!({"status":"failure","error":"invalid_request","error_description":"expression: the expression is invalid at 1:14: mismatched input '<EOF>'"})),
        OperatorRefused,
        (status = 404, description = "No such domain", body = ErrorBody),
        JsonBodyRefused,
        StoreUnavailable))]
pub async fn put(
    state: web::Data<AppState>,
    operator: Operator,
    domain: web::Path<DomainName>,
    body: ValidJson<PutPolicy>,
) -> Result<web::Json<RevocationPolicy>, ApiError> {
    let PutPolicy { expression, enabled } = body.0;
    Ok(web::Json(
        state
            .admin
            .set_policy(&domain, expression, enabled.unwrap_or(true), operator.actor())
            .await?,
    ))
}

/// The domain's revocation policy.
#[utoipa::path(get, path = "/admin/v1/domains/{domain}/revocation-policy", tag = "operator",
    operation_id = "get_revocation_policy",
    security(("operator_token" = [])),
    params(DomainPath),
    responses(
        (status = 200, description = "The stored policy", body = RevocationPolicy),
        (status = 400, description = "Malformed domain name", body = ErrorBody),
        OperatorRefused,
        (status = 404, description = "No such domain, or it has no policy", body = ErrorBody),
        StoreUnavailable))]
pub async fn get(
    state: web::Data<AppState>,
    _operator: Operator,
    domain: web::Path<DomainName>,
) -> Result<web::Json<RevocationPolicy>, ApiError> {
    Ok(web::Json(state.admin.get_policy(&domain).await?))
}

/// Removes the domain's revocation policy.
#[utoipa::path(delete, path = "/admin/v1/domains/{domain}/revocation-policy", tag = "operator",
    operation_id = "delete_revocation_policy",
    security(("operator_token" = [])),
    params(DomainPath),
    responses(
        (status = 200, description = "Removed", body = Success),
        (status = 400, description = "Malformed domain name", body = ErrorBody),
        OperatorRefused,
        (status = 404, description = "No such domain, or it has no policy", body = ErrorBody),
        StoreUnavailable))]
pub async fn delete(
    state: web::Data<AppState>,
    operator: Operator,
    domain: web::Path<DomainName>,
) -> Result<HttpResponse, ApiError> {
    state.admin.delete_policy(&domain, operator.actor()).await?;
    Ok(deleted())
}

/// What a policy decides for the given variables, without revoking anything: the
/// `expression` given, or the domain's stored policy (even disabled). On an evaluation
/// error `allow` is true (fail safe) and `error` says what went wrong.
#[utoipa::path(post, path = "/admin/v1/domains/{domain}/revocation-policy/evaluate", tag = "operator",
    operation_id = "evaluate_revocation_policy",
    security(("operator_token" = [])),
    params(DomainPath),
    request_body = EvaluatePolicy,
    responses(
        (status = 200, description = "The decision", body = Evaluation),
        (status = 400, description = "Malformed body, or an expression that does not compile (line:column)",
            body = ErrorBody),
        OperatorRefused,
        (status = 404, description = "No such domain, or no `expression` and no stored policy", body = ErrorBody),
        JsonBodyRefused,
        StoreUnavailable))]
pub async fn evaluate(
    state: web::Data<AppState>,
    _operator: Operator,
    domain: web::Path<DomainName>,
    body: ValidJson<EvaluatePolicy>,
) -> Result<web::Json<Evaluation>, ApiError> {
    let EvaluatePolicy {
        expression,
        client,
        token,
        request,
        now,
    } = body.0;
    let activation = move |clock_now| Activation {
        client,
        token,
        request,
        now: now.unwrap_or_else(|| DateTime::from_timestamp_micros(clock_now).unwrap_or_default()),
    };
    Ok(web::Json(
        state.admin.evaluate_policy(&domain, expression, activation).await?,
    ))
}
