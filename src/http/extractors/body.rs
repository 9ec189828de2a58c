//! Request bodies and URL parts: size limit, content type, syntax and `validator`
//! rules, every failure answered in the §3 shape (actix would answer plain text).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, PathError, PayloadError, QueryPayloadError};
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;
use validator::{Validate, ValidationErrors};

use crate::http::error::ApiError;
use crate::http::limits::{MAX_BODY_BYTES, REQUEST_READ_TIMEOUT};

pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(MAX_BODY_BYTES)
        .content_type_required(true)
        .error_handler(|error, _| json_error(error).into())
}

/// Typed path segments (`web::Path<DomainName>`, `web::Path<(DomainName, ClientId)>`)
/// are parsed by the newtypes' own `Deserialize`; a refusal answers with the parse
/// error's message as it stands, the same text as `DomainName::parse` gives.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|error, _| {
        let PathError::Deserialize(e) = error else {
            return ApiError::InvalidRequest("malformed path".into()).into();
        };
        ApiError::InvalidRequest(e.to_string()).into()
    })
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error, _| {
        let QueryPayloadError::Deserialize(e) = error else {
            return ApiError::InvalidRequest("malformed query string".into()).into();
        };
        ApiError::InvalidRequest(format!("malformed query string: {e}")).into()
    })
}

/// Reads a request body within [`REQUEST_READ_TIMEOUT`], else `408`. Most bodies have
/// arrived with their headers; those are read without arming a timer, which would
/// cost more than the whole form parse.
pub(super) async fn read_in_time<F: Future>(read: F) -> Result<F::Output, ApiError> {
    let mut read = std::pin::pin!(read);
    let first = std::future::poll_fn(|cx| std::task::Poll::Ready(read.as_mut().poll(cx))).await;
    match first {
        std::task::Poll::Ready(body) => Ok(body),
        std::task::Poll::Pending => tokio::time::timeout(REQUEST_READ_TIMEOUT, read)
            .await
            .map_err(|_| ApiError::body_too_slow()),
    }
}

fn json_error(error: JsonPayloadError) -> ApiError {
    let too_large = || ApiError::PayloadTooLarge(format!("the request body is over {MAX_BODY_BYTES} bytes"));
    match error {
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => too_large(),
        JsonPayloadError::Payload(PayloadError::Overflow) => too_large(),
        JsonPayloadError::ContentType => {
            ApiError::UnsupportedMediaType("the request body must be JSON (Content-Type: application/json)".into())
        }
        JsonPayloadError::Deserialize(e) => ApiError::InvalidRequest(format!("malformed JSON body: {e}")),
        other => ApiError::InvalidRequest(format!("unreadable request body: {other}")),
    }
}

/// A JSON body that parsed and passed its `validator` rules.
pub struct ValidJson<T>(pub T);

impl<T> FromRequest for ValidJson<T>
where
    T: DeserializeOwned + Validate + 'static,
{
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Json::<T>::from_request(req, payload);
        Box::pin(async move {
            let body = read_in_time(body).await?.map_err(|e| match e.as_error::<ApiError>() {
                Some(api) => clone_api_error(api),
                None => ApiError::InvalidRequest(format!("unreadable request body: {e}")),
            })?;
            let body = body.into_inner();
            body.validate().map_err(|e| ApiError::InvalidRequest(describe(&e)))?;
            Ok(Self(body))
        })
    }
}

/// The error handler above already built the right `ApiError`; `actix_web::Error`
/// only lends it out, so rebuild it.
fn clone_api_error(error: &ApiError) -> ApiError {
    match error {
        ApiError::PayloadTooLarge(d) => ApiError::PayloadTooLarge(d.clone()),
        ApiError::UnsupportedMediaType(d) => ApiError::UnsupportedMediaType(d.clone()),
        other => ApiError::InvalidRequest(other.to_string()),
    }
}

/// `field: message; field: message`, in field order.
fn describe(errors: &ValidationErrors) -> String {
    let mut parts: Vec<String> = errors
        .field_errors()
        .iter()
        .map(|(field, errs)| {
            let messages: Vec<String> = errs
                .iter()
                .map(|e| {
                    e.message
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_else(|| e.code.to_string())
                })
                .collect();
            format!("{field}: {}", messages.join(", "))
        })
        .collect();
    parts.sort();
    parts.join("; ")
}
