//! `GET /admin/v1/domains/{domain}/audit`.

use actix_web::web;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::admin::AuditEvent;
use crate::domain::DomainName;
use crate::http::error::documented::{OperatorRefused, StoreUnavailable};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extractors::Operator;
use crate::http::handlers::params::DomainPath;
use crate::http::state::AppState;

const DEFAULT_LIMIT: i64 = 50;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// How many events, 1-1000 (default 50; see `admin::MAX_AUDIT_LIMIT`).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditLog {
    /// Newest first.
    pub events: Vec<AuditEvent>,
}

/// The domain's audit trail, newest first.
#[utoipa::path(get, path = "/admin/v1/domains/{domain}/audit", tag = "operator", operation_id = "list_audit_events",
    security(("operator_token" = [])),
    params(DomainPath, AuditQuery),
    responses(
        (status = 200, description = "Events, newest first", body = AuditLog),
        (status = 400, description = "Malformed name or limit", body = ErrorBody),
        OperatorRefused,
        (status = 404, description = "No such domain", body = ErrorBody),
        StoreUnavailable))]
pub async fn list(
    state: web::Data<AppState>,
    _operator: Operator,
    domain: web::Path<DomainName>,
    query: web::Query<AuditQuery>,
) -> Result<web::Json<AuditLog>, ApiError> {
    Ok(web::Json(AuditLog {
        events: state.admin.audit(&domain, query.limit.unwrap_or(DEFAULT_LIMIT)).await?,
    }))
}
