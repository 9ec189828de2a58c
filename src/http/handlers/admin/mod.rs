//! The operator API (SPEC §3.7), under `/admin/v1`, behind the operator token.

pub mod audit;
pub mod clients;
pub mod domains;
pub mod revocations;
pub mod users;

use actix_web::HttpResponse;
use serde::Serialize;
use utoipa::ToSchema;

/// The answer to a successful DELETE, revocation or consent withdrawal.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status":"success"}))]
pub struct Success {
    /// Always `success`.
    #[schema(schema_with = success_literal)]
    pub status: &'static str,
}

/// `"success"`, the `status` of every successful answer that has one.
pub fn success_literal() -> utoipa::openapi::Object {
    crate::openapi::constant(utoipa::openapi::Type::String, "success".into())
}

pub fn deleted() -> HttpResponse {
    HttpResponse::Ok().json(Success { status: "success" })
}
