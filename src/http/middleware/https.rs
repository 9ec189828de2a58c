//! `REVOKD_REQUIRE_HTTPS=true`: refuse requests that did not arrive over HTTPS, so
//! credentials are never accepted in the clear. Behind a TLS-terminating proxy the
//! proxy's `X-Forwarded-Proto: https` counts.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use crate::http::error::ApiError;

pub async fn require_https(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let forwarded_https = req
        .headers()
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    let is_https = req.connection_info().scheme() == "https" || forwarded_https;
    let is_probe = matches!(req.path(), "/healthz" | "/readyz" | "/metrics");
    if !is_https && !is_probe {
        return Err(ApiError::InvalidRequest("this server accepts requests over HTTPS only".into()).into());
    }
    next.call(req).await
}
