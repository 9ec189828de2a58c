//! `REVOKD_REQUIRE_HTTPS=true`: refuse requests that did not arrive over HTTPS, so
//! credentials are never accepted in the clear. Behind a TLS-terminating proxy listed in
//! `REVOKD_TRUSTED_PROXIES`, its `X-Forwarded-Proto: https` counts; from anyone else it
//! does not.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

use crate::http::error::ApiError;
use crate::http::origin::Origin;
use crate::http::state::AppState;

pub async fn require_https(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let is_https = match req.app_data::<web::Data<AppState>>() {
        Some(state) => Origin::of(req.request(), &state.settings.trusted_proxies).scheme == "https",
        None => req.request().app_config().secure(),
    };
    let is_probe = matches!(req.path(), "/healthz" | "/readyz" | "/metrics");
    if !is_https && !is_probe {
        return Err(ApiError::InvalidRequest("this server accepts requests over HTTPS only".into()).into());
    }
    next.call(req).await
}
