//! The outermost middleware: gives each request an id and a log span (method, path
//! without the query string, request id; never a header or body), counts it in the
//! metrics, and turns any error response that is neither JSON nor an account page's HTML
//! (actix's own are plain text) into the §3 error shape.

use std::time::Instant;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, ResponseError, web};
use tracing::Instrument;

use super::request_id::{self, RequestId};
use crate::http::error::ApiError;
use crate::http::state::AppState;

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static, BoxBody>>, actix_web::Error> {
    let started = Instant::now();
    let request_id = RequestId::from_headers(req.headers());
    req.extensions_mut().insert(request_id.clone());
    let span = tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.path(),
        request_id = %request_id,
    );
    let method = req.method().clone();
    let state = req.app_data::<web::Data<AppState>>().cloned();

    let response = next.call(req).instrument(span.clone()).await?;
    let mut response = if needs_json_body(&response) {
        let status = response.status();
        let allow = response.headers().get(header::ALLOW).cloned();
        let (request, _) = response.into_parts();
        let mut replacement = ApiError::from_status(status).error_response();
        *replacement.status_mut() = status;
        if let Some(allow) = allow {
            replacement.headers_mut().insert(header::ALLOW, allow);
        }
        ServiceResponse::new(request, replacement).map_into_right_body()
    } else {
        response.map_into_left_body()
    };

    if let Ok(value) = HeaderValue::from_str(request_id.as_str()) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(request_id::HEADER), value);
    }
    let status = response.status();
    let elapsed = started.elapsed();
    // Every route is named by its pattern (`Endpoint`): a label without an allocation.
    let route = response.request().match_name().unwrap_or("unmatched");
    if let Some(state) = state {
        state.metrics.observe(method.as_str(), route, status.as_u16(), elapsed);
    }
    let _entered = span.enter();
    if status.is_server_error() {
        tracing::warn!(
            status = status.as_u16(),
            elapsed_us = elapsed.as_micros() as u64,
            "request failed"
        );
    } else {
        tracing::info!(
            status = status.as_u16(),
            elapsed_us = elapsed.as_micros() as u64,
            "request answered"
        );
    }
    Ok(response)
}

/// An error answer whose body is neither JSON nor one of the account page's HTML pages
/// came from actix itself.
fn needs_json_body<B>(response: &ServiceResponse<B>) -> bool {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return false;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
    !is_json
}
