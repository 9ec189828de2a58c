//! The identity domain of an `/oauth2/rest/...` request (SPEC §1): the
//! `x-oauth-identity-domain-name` header, else the `identityDomain` query parameter.
//! The header wins when both are present. Missing, empty, repeated or malformed → 400.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use utoipa::openapi::Required;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};

use crate::domain::DomainName;
use crate::http::error::ApiError;

pub const HEADER: &str = "x-oauth-identity-domain-name";
pub const QUERY_PARAMETER: &str = "identityDomain";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityDomain(pub DomainName);

impl IdentityDomain {
    fn extract(req: &HttpRequest) -> Result<Self, ApiError> {
        let raw = match from_header(req)? {
            Some(raw) => raw,
            None => from_query(req.query_string())?.ok_or_else(|| {
                ApiError::InvalidRequest(format!(
                    "the identity domain is missing: send the {HEADER} header or the {QUERY_PARAMETER} query parameter"
                ))
            })?,
        };
        DomainName::parse(&raw)
            .map(Self)
            .map_err(|e| ApiError::InvalidRequest(e.to_string()))
    }
}

fn from_header(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let mut values = req.headers().get_all(HEADER);
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(ApiError::InvalidRequest(format!("the {HEADER} header must not repeat")));
    }
    let value = value
        .to_str()
        .map_err(|_| ApiError::InvalidRequest(format!("the {HEADER} header must be ASCII")))?;
    if value.is_empty() {
        return Err(ApiError::InvalidRequest(format!("the {HEADER} header is empty")));
    }
    Ok(Some(value.to_owned()))
}

fn from_query(query: &str) -> Result<Option<String>, ApiError> {
    let mut found = None;
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if name != QUERY_PARAMETER {
            continue;
        }
        if found.is_some() {
            return Err(ApiError::InvalidRequest(format!(
                "the {QUERY_PARAMETER} parameter must not repeat"
            )));
        }
        if value.is_empty() {
            return Err(ApiError::InvalidRequest(format!(
                "the {QUERY_PARAMETER} parameter is empty"
            )));
        }
        found = Some(value.into_owned());
    }
    Ok(found)
}

/// The document's description of the two ways to name the domain, so every operation
/// that takes this extractor lists both (`params(IdentityDomain)`).
impl utoipa::IntoParams for IdentityDomain {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let parameter = |name: &str, place: ParameterIn, description: &str| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(place)
                .required(Required::False)
                .description(Some(description))
                .schema(Some(DomainName::schema()))
                .example(Some(serde_json::json!("acme")))
                .build()
        };
        vec![
            parameter(
                HEADER,
                ParameterIn::Header,
                "The identity domain. Wins over `identityDomain` when both are sent; one of the two is required \
                 (`400 invalid_request` without).",
            ),
            parameter(
                QUERY_PARAMETER,
                ParameterIn::Query,
                "The identity domain, when the `x-oauth-identity-domain-name` header is not sent.",
            ),
        ]
    }
}

impl FromRequest for IdentityDomain {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Self::extract(req))
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn domain_of(req: TestRequest) -> Result<String, String> {
        IdentityDomain::extract(&req.to_http_request())
            .map(|d| d.0.to_string())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn header_wins_over_query() {
        let req = TestRequest::default()
            .uri("/oauth2/rest/token/revoke?identityDomain=fromquery")
            .insert_header((HEADER, "fromheader"));
        assert_eq!(domain_of(req).unwrap(), "fromheader");
    }

    #[test]
    fn query_is_used_without_header() {
        let req = TestRequest::default().uri("/x?a=1&identityDomain=acme%2D1");
        assert_eq!(domain_of(req).unwrap(), "acme-1");
    }

    #[test]
    fn missing_empty_repeated_or_malformed_is_refused() {
        assert!(
            domain_of(TestRequest::default().uri("/x"))
                .unwrap_err()
                .contains("missing")
        );
        assert!(
            domain_of(TestRequest::default().uri("/x?identityDomain="))
                .unwrap_err()
                .contains("empty")
        );
        assert!(
            domain_of(TestRequest::default().uri("/x?identityDomain=a&identityDomain=b"))
                .unwrap_err()
                .contains("repeat")
        );
        assert!(domain_of(TestRequest::default().uri("/x?identityDomain=ac%20me")).is_err());
        assert!(domain_of(TestRequest::default().insert_header((HEADER, "a'; DROP TABLE x;--"))).is_err());
        // A malformed header is refused even when the query would have been fine.
        let req = TestRequest::default()
            .uri("/x?identityDomain=acme")
            .insert_header((HEADER, "-bad"));
        assert!(domain_of(req).is_err());
    }
}
