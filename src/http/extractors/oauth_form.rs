//! The `application/x-www-form-urlencoded` body of the OAuth endpoints, read strictly:
//! at most 16 KiB, valid UTF-8 without NUL bytes (no store can hold them as text), and
//! no parameter repeated or empty (RFC 6749 §3.2, SPEC §5; an empty `token_type_hint`
//! is ignored, §3.1). Any of these is a 4xx in the §3 shape, before a handler runs.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use percent_encoding::percent_decode;

use super::body::read_in_time;
use crate::http::error::ApiError;
use crate::http::limits::MAX_BODY_BYTES;

/// Parameters that only help and may be sent empty: RFC 7009 clients that have no hint
/// sometimes send `token_type_hint=` (SPEC §3.1).
const EMPTY_MEANS_ABSENT: [&str; 1] = ["token_type_hint"];

#[derive(Debug, Default)]
pub struct OAuthForm {
    params: Vec<(String, String)>,
}

impl OAuthForm {
    /// Parses a form body. Repeated, empty, non-UTF-8 or NUL-holding parameters are
    /// refused; an empty hint is dropped as if it were absent.
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let mut params: Vec<(String, String)> = Vec::new();
        for pair in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
            let (name, value) = match pair.iter().position(|b| *b == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &[][..]),
            };
            let name = decode(name)?;
            let value = decode(value)?;
            // Before the repeat check, so the hint counts as absent wherever it comes.
            if value.is_empty() && EMPTY_MEANS_ABSENT.contains(&name.as_str()) {
                continue;
            }
            if params.iter().any(|(seen, _)| *seen == name) {
                return Err(ApiError::InvalidRequest(format!("parameter {name} must not repeat")));
            }
            if name.contains('\0') || value.contains('\0') {
                return Err(ApiError::InvalidRequest(format!("parameter {name} holds a NUL byte")));
            }
            if value.is_empty() {
                return Err(ApiError::InvalidRequest(format!("parameter {name} is empty")));
            }
            params.push((name, value));
        }
        Ok(Self { params })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn require(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name)
            .ok_or_else(|| ApiError::InvalidRequest(format!("parameter {name} is required")))
    }
}

/// `+` is a space, then percent-decoding, then strict UTF-8.
fn decode(raw: &[u8]) -> Result<String, ApiError> {
    let spaced: Vec<u8> = raw.iter().map(|b| if *b == b'+' { b' ' } else { *b }).collect();
    let bytes: Vec<u8> = percent_decode(&spaced).collect();
    String::from_utf8(bytes).map_err(|_| ApiError::InvalidRequest("the form body is not valid UTF-8".into()))
}

fn is_form(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
}

impl FromRequest for OAuthForm {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let too_large = || ApiError::PayloadTooLarge(format!("the request body is over {MAX_BODY_BYTES} bytes"));
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
            return Box::pin(async move { Err(too_large()) });
        }
        let has_body = declared.is_some_and(|n| n > 0) || req.headers().contains_key(header::TRANSFER_ENCODING);
        if has_body && !is_form(req) {
            return Box::pin(async {
                Err(ApiError::UnsupportedMediaType(
                    "the request body must be application/x-www-form-urlencoded".into(),
                ))
            });
        }
        let mut payload = payload.take();
        Box::pin(async move {
            let read = async {
                let mut body = Vec::new();
                while let Some(chunk) = payload.next().await {
                    let chunk = chunk.map_err(|e| ApiError::InvalidRequest(format!("unreadable request body: {e}")))?;
                    if body.len() + chunk.len() > MAX_BODY_BYTES {
                        return Err(too_large());
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(body)
            };
            let body = read_in_time(read).await??;
            Self::parse(&body)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_and_percent() {
        let form = OAuthForm::parse(b"token=a+b%2Bc&token_type=ACCESS_TOKEN").unwrap();
        assert_eq!(form.get("token"), Some("a b+c"));
        assert_eq!(form.get("token_type"), Some("ACCESS_TOKEN"));
        assert_eq!(form.get("missing"), None);
        assert!(form.require("missing").is_err());
    }

    #[test]
    fn refuses_repeats_empties_and_bad_utf8() {
        assert!(
            OAuthForm::parse(b"token=a&token=b")
                .unwrap_err()
                .to_string()
                .contains("repeat")
        );
        assert!(OAuthForm::parse(b"token=").unwrap_err().to_string().contains("empty"));
        assert!(OAuthForm::parse(b"token").unwrap_err().to_string().contains("empty"));
        assert!(
            OAuthForm::parse(b"token=%FF%FE")
                .unwrap_err()
                .to_string()
                .contains("UTF-8")
        );
        assert!(OAuthForm::parse(b"").unwrap().get("token").is_none());
        assert!(
            OAuthForm::parse(b"client_id=a%00b")
                .unwrap_err()
                .to_string()
                .contains("NUL")
        );
        assert!(OAuthForm::parse(b"a%00=b").unwrap_err().to_string().contains("NUL"));
    }

    #[test]
    fn an_empty_hint_is_as_if_absent() {
        let form = OAuthForm::parse(b"token=t&token_type_hint=").unwrap();
        assert_eq!(form.get("token"), Some("t"));
        assert_eq!(form.get("token_type_hint"), None);
        assert!(OAuthForm::parse(b"token_type_hint=a&token_type_hint=b").is_err());
    }

    /// Found by the `oauth_form` fuzz target: an empty hint after a non-empty one was
    /// refused as a repeat, while the same two in the other order were accepted.
    #[test]
    fn an_empty_hint_is_absent_in_either_order() {
        for body in [
            &b"token=t&token_type_hint=access_token&token_type_hint="[..],
            b"token=t&token_type_hint=&token_type_hint=access_token",
        ] {
            let form = OAuthForm::parse(body).unwrap();
            assert_eq!(form.get("token_type_hint"), Some("access_token"));
        }
        assert!(OAuthForm::parse(b"token_type_hint=&token_type_hint=").is_ok());
    }
}
