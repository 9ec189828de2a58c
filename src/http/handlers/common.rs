//! What several handlers answer or document alike: the `{"status":"success"}` body and
//! the description of OAuth client authentication.

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
    crate::api_schema::constant(utoipa::openapi::Type::String, "success".into())
}

/// `200 {"status":"success"}`.
pub fn deleted() -> HttpResponse {
    HttpResponse::Ok().json(Success { status: "success" })
}

/// Where the OAuth endpoints say how the client authenticates (OpenAPI has no security
/// scheme for credentials in a form body, so `client_secret_post` and public clients
/// are the empty alternative of `security`, spelled out here).
pub const CLIENT_AUTHENTICATION: &str = "The client authenticates with HTTP Basic (`client_secret_basic`, \
id and secret form-urlencoded first, RFC 6749 §2.3.1), or with `client_id` and `client_secret` in the form \
(`client_secret_post`), or, for a public client, with `client_id` in the form alone; never two methods at once.";
