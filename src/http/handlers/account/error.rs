//! What the account page answers when it cannot do what was asked: a plain HTML page
//! with the status that says why (never the §3 JSON, which a person cannot read), and
//! nothing changed.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};

use super::pages;
use crate::domain::DomainName;
use crate::http::error::ApiError;
use crate::oauth::OAuthError;
use crate::store::StoreError;

#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub title: &'static str,
    pub message: String,
    /// The domain whose account page to link back to, when there is one.
    pub domain: Option<DomainName>,
    /// `Retry-After` seconds (429, 503).
    pub retry_after: Option<u64>,
}

impl PageError {
    fn new(status: StatusCode, title: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            title,
            message: message.into(),
            domain: None,
            retry_after: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "This request cannot be read", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not found", message)
    }

    pub fn forbidden(title: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, title, message)
    }

    /// A form without this page's CSRF token (or with another's): a forged request.
    pub fn csrf() -> Self {
        Self::forbidden(
            "This form has expired",
            "Nothing was changed. Go back to your account page and try again.",
        )
    }

    /// A form posted without a live session: signed out, or expired.
    pub fn session_ended() -> Self {
        Self::forbidden(
            "You are signed out",
            "Your session has ended, so nothing was changed. Sign in again to continue.",
        )
    }

    pub fn too_many_attempts(wait: std::time::Duration) -> Self {
        let secs = crate::security::retry_after_secs(wait);
        let mut error = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts",
            format!("There were too many failed sign-ins. Wait {secs} seconds, then try again."),
        );
        error.retry_after = Some(secs);
        error
    }

    pub fn in_domain(mut self, domain: &DomainName) -> Self {
        self.domain = Some(domain.clone());
        self
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.title, self.message)
    }
}

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        let status = error.status_code();
        match error {
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                Self::new(status, "Something went wrong", "Nothing was changed. Try again later.")
            }
            ApiError::Unavailable(cause) | ApiError::NotReady(cause) => {
                tracing::warn!(%cause, "store unavailable");
                let mut error = Self::new(
                    status,
                    "Temporarily unavailable",
                    "Nothing was changed. Try again in a moment.",
                );
                error.retry_after = Some(1);
                error
            }
            ApiError::TooManyAttempts { retry_after_secs } => {
                Self::too_many_attempts(std::time::Duration::from_secs(retry_after_secs))
            }
            other => Self::new(status, "This request cannot be read", other.to_string()),
        }
    }
}

impl From<StoreError> for PageError {
    fn from(error: StoreError) -> Self {
        ApiError::from(error).into()
    }
}

impl From<OAuthError> for PageError {
    fn from(error: OAuthError) -> Self {
        match error {
            OAuthError::Store(e) => e.into(),
            other => ApiError::Internal(other.to_string()).into(),
        }
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = pages::respond(self.status, pages::error(self));
        if let Some(secs) = self.retry_after
            && let Ok(value) = header::HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}
