//! The client credentials a request presents (RFC 6749 §2.3.1): HTTP Basic with
//! form-urlencoded id and secret, or `client_id` (+ `client_secret`) in the form.
//! Using both at once is refused; checking them is `oauth::client_auth`'s job.

use actix_web::HttpRequest;
use actix_web::http::header;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::percent_decode;

use super::OAuthForm;
use crate::oauth::{Credentials, OAuthError};
use crate::security::ClientSecret;

pub fn presented_credentials(req: &HttpRequest, form: &OAuthForm) -> Result<Credentials, OAuthError> {
    let Some(authorization) = req.headers().get(header::AUTHORIZATION) else {
        return from_form(form);
    };
    let basic = authorization
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, encoded)| encoded.trim())
        .ok_or_else(|| {
            OAuthError::InvalidClient("use HTTP Basic or form parameters to authenticate the client".into())
        })?;
    if form.get("client_secret").is_some() {
        return Err(OAuthError::InvalidRequest(
            "use one client authentication method, not HTTP Basic and client_secret together".into(),
        ));
    }
    let (client_id, secret) = decode_basic(basic)?;
    if form.get("client_id").is_some_and(|id| id != client_id) {
        return Err(OAuthError::InvalidRequest(
            "client_id differs from the HTTP Basic user".into(),
        ));
    }
    Ok(if secret.is_empty() {
        Credentials::Public { client_id }
    } else {
        Credentials::Secret {
            client_id,
            secret: ClientSecret::new(secret),
        }
    })
}

fn from_form(form: &OAuthForm) -> Result<Credentials, OAuthError> {
    let client_id = form
        .get("client_id")
        .ok_or_else(|| OAuthError::InvalidClient("client authentication is required".into()))?
        .to_owned();
    Ok(match form.get("client_secret") {
        Some(secret) => Credentials::Secret {
            client_id,
            secret: ClientSecret::new(secret.to_owned()),
        },
        None => Credentials::Public { client_id },
    })
}

/// `decode_basic` for the `basic_credentials` fuzz target (`fuzz/`), which has only
/// the public API: the credentials of an `Authorization: Basic` header, given what
/// follows the scheme. Not for handlers: they get credentials from `OAuthRequest`.
#[doc(hidden)]
pub fn decode_basic_credentials(encoded: &str) -> Result<(String, String), OAuthError> {
    decode_basic(encoded)
}

/// `base64(urlencode(id) ":" urlencode(secret))`, as RFC 6749 §2.3.1 has it.
fn decode_basic(encoded: &str) -> Result<(String, String), OAuthError> {
    let malformed = || OAuthError::InvalidClient("malformed HTTP Basic credentials".into());
    let decoded = STANDARD.decode(encoded).map_err(|_| malformed())?;
    let text = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = text.split_once(':').ok_or_else(malformed)?;
    let unescape = |raw: &str| -> Result<String, OAuthError> {
        let spaced = raw.replace('+', " ");
        percent_decode(spaced.as_bytes())
            .decode_utf8()
            .map(|s| s.into_owned())
            .map_err(|_| malformed())
    };
    let id = unescape(id)?;
    let secret = unescape(secret)?;
    // No client id or secret holds a NUL, and PostgreSQL could not take one as text.
    if id.is_empty() || id.contains('\0') || secret.contains('\0') {
        return Err(malformed());
    }
    Ok((id, secret))
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn basic(id: &str, secret: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
    }

    #[test]
    fn basic_credentials_are_form_urlencoded() {
        let req = TestRequest::default()
            .insert_header((header::AUTHORIZATION, basic("urn%3Aapp+1", "s%2Bcret")))
            .to_http_request();
        match presented_credentials(&req, &OAuthForm::default()).unwrap() {
            Credentials::Secret { client_id, secret } => {
                assert_eq!(client_id, "urn:app 1");
                assert_eq!(secret.expose(), "s+cret");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn two_methods_at_once_are_refused() {
        let req = TestRequest::default()
            .insert_header((header::AUTHORIZATION, basic("web", "s")))
            .to_http_request();
        let form = OAuthForm::parse(b"client_secret=s").unwrap();
        assert!(matches!(
            presented_credentials(&req, &form),
            Err(OAuthError::InvalidRequest(_))
        ));
    }

    #[test]
    fn form_and_public_forms() {
        let req = TestRequest::default().to_http_request();
        let post = OAuthForm::parse(b"client_id=web&client_secret=s").unwrap();
        assert!(matches!(
            presented_credentials(&req, &post),
            Ok(Credentials::Secret { .. })
        ));
        let public = OAuthForm::parse(b"client_id=spa").unwrap();
        assert!(matches!(
            presented_credentials(&req, &public),
            Ok(Credentials::Public { .. })
        ));
        assert!(matches!(
            presented_credentials(&req, &OAuthForm::default()),
            Err(OAuthError::InvalidClient(_))
        ));
        let bad = TestRequest::default()
            .insert_header((header::AUTHORIZATION, "Basic !!!"))
            .to_http_request();
        assert!(matches!(
            presented_credentials(&bad, &OAuthForm::default()),
            Err(OAuthError::InvalidClient(_))
        ));
    }
}
