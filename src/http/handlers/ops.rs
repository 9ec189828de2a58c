//! Operations endpoints (SPEC §3.8): liveness, readiness, metrics, the API document.

use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::error::documented::NotReady;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::state::AppState;
use crate::store::StoreError;

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status":"ok"}))]
pub struct Health {
    /// Always `ok`.
    #[schema(schema_with = ok_literal)]
    pub status: &'static str,
}

fn ok_literal() -> utoipa::openapi::Object {
    crate::api_schema::constant(utoipa::openapi::Type::String, "ok".into())
}

/// The process is up and serving HTTP.
#[utoipa::path(get, path = "/healthz", tag = "operations", operation_id = "healthz",
    responses((status = 200, description = "The process is up", body = Health)))]
pub async fn healthz() -> web::Json<Health> {
    web::Json(Health { status: "ok" })
}

/// The store answers a round trip and takes writes: on SQLite, the writer's last
/// commit succeeded (a full disk makes this `503` until a write commits again).
#[utoipa::path(get, path = "/readyz", tag = "operations", operation_id = "readyz",
    responses(
        (status = 200, description = "The store is reachable", body = Health),
        NotReady))]
pub async fn readyz(state: web::Data<AppState>) -> Result<web::Json<Health>, ApiError> {
    state.store.ping().await.map_err(|e| match e {
        StoreError::Unavailable(cause) | StoreError::Contention(cause) => ApiError::NotReady(cause),
        other => other.into(),
    })?;
    Ok(web::Json(Health { status: "ok" }))
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "operations", operation_id = "metrics",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain; version=0.0.4", body = String)))]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let ready = state.store.ping().await.is_ok();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(ready, state.store.pool_usage()))
}

/// This API's OpenAPI document (the same as `openapi/openapi.json`).
#[utoipa::path(get, path = "/openapi.json", tag = "operations", operation_id = "get_openapi_document",
    responses(
        (status = 200, description = "OpenAPI 3.1 document", content_type = "application/json", body = Object),
        (status = 400, description = "invalid_request: REVOKD_REQUIRE_HTTPS=true and the request came over plain HTTP", body = ErrorBody)))]
pub async fn openapi_json(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(ContentType::json())
        .body(state.openapi_json.clone())
}

/// Any path no route matches.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("no such resource".into()))
}
