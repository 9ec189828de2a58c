//! The one error type of the HTTP boundary. Every failure, ours or actix's, leaves as
//! `{"status":"failure","error":"<RFC 6749 style code>","error_description":"<text>"}`
//! with exactly one status per variant. Internal causes are logged, never returned.
//! The OpenAPI face of these same answers is `documented.rs`, beside it.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::admin::AdminError;
use crate::store::StoreError;

/// Seconds a client should wait before retrying after a 503.
const RETRY_AFTER_SECS: &str = "1";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed (RFC 6749 `invalid_request`).
    #[error("{0}")]
    InvalidRequest(String),
    /// 401: the bearer token is missing or wrong (RFC 6750 `invalid_token`).
    #[error("{description}")]
    InvalidToken { realm: String, description: String },
    /// 403: the bearer token is valid but may not do this (RFC 6750 §3.1
    /// `insufficient_scope`); `scope` names what it lacks.
    #[error("{description}")]
    InsufficientScope {
        realm: String,
        scope: &'static str,
        description: String,
    },
    /// 401: client authentication failed (RFC 6749 §5.2); `realm` is the domain.
    #[error("{description}")]
    InvalidClient { realm: String, description: String },
    /// 400: the grant (password, refresh token) is invalid, expired, revoked or reused.
    #[error("{0}")]
    InvalidGrant(String),
    /// 400: this client may not do this.
    #[error("{0}")]
    UnauthorizedClient(String),
    /// 400: revokd does not know this grant type.
    #[error("{0}")]
    UnsupportedGrantType(String),
    /// 400: a requested scope is not allowed.
    #[error("{0}")]
    InvalidScope(String),
    /// 404: no such resource.
    #[error("{0}")]
    NotFound(String),
    /// 406: the client accepts no representation this endpoint has (RFC 9110 §12.5.1).
    #[error("{0}")]
    NotAcceptable(String),
    /// 405: the path exists, the method does not; `allow` lists the ones that do.
    #[error("method not allowed")]
    MethodNotAllowed { allow: String },
    /// 409: a unique name is taken.
    #[error("{0}")]
    Conflict(String),
    /// 408: the body did not arrive in time; the connection is closed.
    #[error("{0}")]
    RequestTimeout(String),
    /// 413: the body is over the limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 415: the body is not in a format this endpoint reads.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 429: too many failed authentications from this address or for this user name
    /// (SPEC §5); nothing was checked.
    #[error("too many failed authentication attempts; retry in {retry_after_secs} s")]
    TooManyAttempts { retry_after_secs: u64 },
    /// 503: the store cannot answer now; retry.
    #[error("{0}")]
    Unavailable(String),
    /// 503 from `/readyz`: why this instance should get no traffic, said to the
    /// operator's probe (a store cause such as "database or disk is full").
    #[error("not ready: {0}")]
    NotReady(String),
    /// 500: a defect. The cause is logged, the client sees a generic text.
    #[error("{0}")]
    Internal(String),
}

/// The error object of every failed request.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status":"failure","error":"invalid_request","error_description":"the identity domain is missing: send the x-oauth-identity-domain-name header or the identityDomain query parameter"}))]
pub struct ErrorBody {
    /// Always `failure`.
    #[schema(schema_with = failure_literal)]
    pub status: &'static str,
    pub error: ErrorCode,
    /// What went wrong, for a human; never an internal cause.
    #[schema(min_length = 1)]
    pub error_description: String,
}

fn failure_literal() -> utoipa::openapi::Object {
    crate::api_schema::constant(utoipa::openapi::Type::String, "failure".into())
}

/// The `error` of an error body: RFC 6749 §5.2 and RFC 6750 §3.1 codes, and revokd's
/// `not_found`, `conflict`, `temporarily_unavailable` and `server_error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidRequest,
    InvalidToken,
    InsufficientScope,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    NotFound,
    Conflict,
    TemporarilyUnavailable,
    ServerError,
}

impl ApiError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidRequest(_)
            | Self::MethodNotAllowed { .. }
            | Self::NotAcceptable(_)
            | Self::RequestTimeout(_)
            | Self::PayloadTooLarge(_)
            | Self::UnsupportedMediaType(_) => ErrorCode::InvalidRequest,
            Self::InvalidToken { .. } => ErrorCode::InvalidToken,
            Self::InsufficientScope { .. } => ErrorCode::InsufficientScope,
            Self::InvalidClient { .. } => ErrorCode::InvalidClient,
            Self::InvalidGrant(_) => ErrorCode::InvalidGrant,
            Self::UnauthorizedClient(_) => ErrorCode::UnauthorizedClient,
            Self::UnsupportedGrantType(_) => ErrorCode::UnsupportedGrantType,
            Self::InvalidScope(_) => ErrorCode::InvalidScope,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::Unavailable(_) | Self::NotReady(_) | Self::TooManyAttempts { .. } => {
                ErrorCode::TemporarilyUnavailable
            }
            Self::Internal(_) => ErrorCode::ServerError,
        }
    }

    /// The error for a bare status actix produced by itself (the JSON safety net).
    pub fn from_status(status: StatusCode) -> Self {
        let reason = status.canonical_reason().unwrap_or("error").to_ascii_lowercase();
        match status {
            StatusCode::NOT_FOUND => Self::NotFound("no such resource".into()),
            StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge("the request body is too large".into()),
            StatusCode::REQUEST_TIMEOUT => Self::RequestTimeout("the request did not arrive in time".into()),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::UnsupportedMediaType("unsupported content type".into()),
            StatusCode::SERVICE_UNAVAILABLE => Self::Unavailable("the service is unavailable, retry later".into()),
            s if s.is_server_error() => Self::Internal(reason),
            _ => Self::InvalidRequest(reason),
        }
    }

    fn description(&self) -> String {
        match self {
            // Never show a client what went wrong inside.
            Self::Internal(_) => "internal error".into(),
            Self::Unavailable(_) => "the store is unavailable, retry later".into(),
            Self::MethodNotAllowed { allow } => format!("method not allowed; allowed: {allow}"),
            other => other.to_string(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::InvalidRequest(_)
            | Self::InvalidGrant(_)
            | Self::UnauthorizedClient(_)
            | Self::UnsupportedGrantType(_)
            | Self::InvalidScope(_) => StatusCode::BAD_REQUEST,
            Self::InvalidToken { .. } | Self::InvalidClient { .. } => StatusCode::UNAUTHORIZED,
            Self::InsufficientScope { .. } => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) | Self::NotReady(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Internal(cause) => tracing::error!(%cause, "internal error"),
            Self::Unavailable(cause) | Self::NotReady(cause) => tracing::warn!(%cause, "store unavailable"),
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        match self {
            Self::InvalidToken { realm, .. } => {
                let challenge = format!("Bearer realm=\"{realm}\", error=\"invalid_token\"");
                if let Ok(value) = HeaderValue::from_str(&challenge) {
                    response.insert_header((header::WWW_AUTHENTICATE, value));
                }
            }
            Self::InsufficientScope { realm, scope, .. } => {
                let challenge = format!("Bearer realm=\"{realm}\", error=\"insufficient_scope\", scope=\"{scope}\"");
                if let Ok(value) = HeaderValue::from_str(&challenge) {
                    response.insert_header((header::WWW_AUTHENTICATE, value));
                }
            }
            Self::InvalidClient { realm, .. } => {
                if let Ok(value) = HeaderValue::from_str(&format!("Basic realm=\"{realm}\"")) {
                    response.insert_header((header::WWW_AUTHENTICATE, value));
                }
            }
            Self::MethodNotAllowed { allow } => {
                if let Ok(value) = HeaderValue::from_str(allow) {
                    response.insert_header((header::ALLOW, value));
                }
            }
            Self::Unavailable(_) | Self::NotReady(_) => {
                response.insert_header((header::RETRY_AFTER, RETRY_AFTER_SECS));
            }
            Self::RequestTimeout(_) => {
                response.force_close();
            }
            Self::TooManyAttempts { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            _ => {}
        }
        response.json(ErrorBody {
            status: "failure",
            error: self.code(),
            error_description: self.description(),
        })
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        // What reaches a client is what operators alert on (`revokd_store_errors_total`).
        crate::store::metrics::error(match &error {
            StoreError::Unavailable(_) => 0,
            StoreError::Contention(_) => 1,
            StoreError::Internal(_) => 2,
            StoreError::Conflict | StoreError::NotFound => usize::MAX,
        });
        match error {
            StoreError::Unavailable(cause) | StoreError::Contention(cause) => Self::Unavailable(cause),
            StoreError::Conflict => Self::Conflict("already exists".into()),
            StoreError::NotFound => Self::NotFound("not found".into()),
            StoreError::Internal(cause) => Self::Internal(cause),
        }
    }
}

impl From<AdminError> for ApiError {
    fn from(error: AdminError) -> Self {
        match error {
            AdminError::NotFound(what) => Self::NotFound(what),
            AdminError::Conflict(what) => Self::Conflict(what),
            AdminError::Invalid(why) => Self::InvalidRequest(why),
            AdminError::Store(e) => e.into(),
        }
    }
}

impl From<crate::domain::NameError> for ApiError {
    fn from(error: crate::domain::NameError) -> Self {
        Self::InvalidRequest(error.0)
    }
}

impl ApiError {
    /// The `408` for a body still incomplete after [`REQUEST_READ_TIMEOUT`].
    ///
    /// [`REQUEST_READ_TIMEOUT`]: crate::http::limits::REQUEST_READ_TIMEOUT
    pub fn body_too_slow() -> Self {
        Self::RequestTimeout(format!(
            "the request body did not arrive within {} s",
            crate::http::limits::REQUEST_READ_TIMEOUT.as_secs()
        ))
    }

    /// The `429` for a key over the failure limit, `wait` being what it must wait.
    pub fn too_many_attempts(wait: std::time::Duration) -> Self {
        Self::TooManyAttempts {
            retry_after_secs: crate::security::retry_after_secs(wait),
        }
    }

    /// An OAuth error of a request to `domain` (the realm of a 401).
    pub fn from_oauth(error: crate::oauth::OAuthError, domain: &crate::domain::DomainName) -> Self {
        use crate::oauth::OAuthError as E;
        match error {
            E::InvalidRequest(d) => Self::InvalidRequest(d),
            E::InvalidClient(description) => Self::InvalidClient {
                realm: domain.to_string(),
                description,
            },
            E::InvalidGrant(d) => Self::InvalidGrant(d),
            E::UnauthorizedClient(d) => Self::UnauthorizedClient(d),
            E::UnsupportedGrantType(d) => Self::UnsupportedGrantType(d),
            E::InvalidScope(d) => Self::InvalidScope(d),
            E::Store(e) => e.into(),
            E::Internal(d) => Self::Internal(d),
        }
    }
}

pub mod documented;
