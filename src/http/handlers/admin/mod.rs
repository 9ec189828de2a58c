//! The operator API (SPEC §3.7), under `/admin/v1`, behind the operator token.

pub mod audit;
pub mod clients;
pub mod domains;
pub mod revocations;
pub mod users;

use actix_web::HttpResponse;
use serde::Serialize;
use utoipa::ToSchema;

/// The answer to a successful DELETE.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status":"success"}))]
pub struct Success {
    /// Always `success`.
    pub status: &'static str,
}

pub fn deleted() -> HttpResponse {
    HttpResponse::Ok().json(Success { status: "success" })
}
