//! Request ids: taken from a caller's `x-request-id` when it is a sane token, made up
//! otherwise; sent back on the response, carried by the request's log span and kept
//! in audit events.

use std::convert::Infallible;
use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header::HeaderMap;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use rand::RngCore;

pub const HEADER: &str = "x-request-id";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        headers
            .get(HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|v| is_sane(v))
            .map(|v| Self(v.to_owned()))
            .unwrap_or_else(Self::generate)
    }

    fn generate() -> Self {
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Short and plain, so a caller cannot inject log lines or oversized labels.
fn is_sane(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

impl FromRequest for RequestId {
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let id = req
            .extensions()
            .get::<RequestId>()
            .cloned()
            .unwrap_or_else(|| Self::from_headers(req.headers()));
        ready(Ok(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    #[test]
    fn keeps_sane_ids_and_replaces_others() {
        let mut headers = HeaderMap::new();
        headers.insert(HeaderName::from_static(HEADER), HeaderValue::from_static("abc-123"));
        assert_eq!(RequestId::from_headers(&headers).as_str(), "abc-123");
        headers.insert(
            HeaderName::from_static(HEADER),
            HeaderValue::from_static("bad id\"with quotes"),
        );
        let replaced = RequestId::from_headers(&headers);
        assert_eq!(replaced.as_str().len(), 32);
        assert_ne!(RequestId::generate(), RequestId::generate());
    }
}
