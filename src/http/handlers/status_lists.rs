//! Token Status Lists (SPEC §3.10): `GET {issuer}/status-lists/{list_id}` and the
//! aggregation `GET {issuer}/status-lists`, public, for resource servers that verify
//! access JWTs offline. Every answer of these paths carries
//! `Access-Control-Allow-Origin: *` (the scope's headers, `routes.rs`).

use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::params::{DomainPath, StatusListPath};
use crate::domain::DomainName;
use crate::domain::status_list::{list_uri, parse_list_id};
use crate::http::error::documented::StoreUnavailable;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extractors::{base_url, issuer};
use crate::http::state::AppState;
use crate::store::status_lists;

/// The media type of a Status List Token.
pub const STATUS_LIST_JWT: &str = "application/statuslist+jwt";

/// The answer of the aggregation endpoint.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status_lists":["http://127.0.0.1:8080/domains/acme/status-lists/1"]}))]
pub struct StatusListAggregation {
    /// Every list URI of the domain, oldest first.
    pub status_lists: Vec<String>,
}

/// One status list of the domain: a signed JWT whose bit `idx` says whether the access
/// token with that index in its `status` claim is revoked (1) or not (0).
///
/// The JWT (`typ: statuslist+jwt`, signed with the domain's key, see the JWKS) has
/// `iss`, `sub` (this URI), `iat`, `exp` (= `iat` + 2 × `ttl`), `ttl` (the domain's
/// `status_list_ttl_secs`) and `status_list: {"bits": 1, "lst": base64url(zlib(bytes))}`,
/// bit `idx` being bit `idx % 8` (least significant first) of byte `idx / 8`. A list
/// fetched after a revocation's `200` shows it, on every instance. The JWT is re-signed
/// only when a bit or `ttl` changed, or when it is older than `ttl`; `ETag` changes
/// exactly then, and `If-None-Match` with it answers `304`. gzip when accepted.
#[utoipa::path(get, path = "/domains/{domain}/status-lists/{list_id}", tag = "status lists",
    operation_id = "get_status_list",
    params(StatusListPath,
        ("Accept" = Option<String>, Header, description = "Must admit `application/statuslist+jwt` (absent, `*/*`, `application/*` or the type itself, q > 0); otherwise `406`"),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` of this list: `304` while it is current"),
        ("Accept-Encoding" = Option<String>, Header, description = "`gzip` gets the body gzip-compressed")),
    responses(
        (status = 200, description = "The Status List Token", body = String, content_type = "application/statuslist+jwt",
            headers(
                ("Cache-Control" = String, description = "`public, max-age=<ttl>`"),
                ("ETag" = String, description = "Changes exactly when the list is re-signed"),
                ("Access-Control-Allow-Origin" = String, description = "`*`")),
            example = json!("eyJhbGciOiJFUzI1NiIsImtpZCI6Ii4uLiIsInR5cCI6InN0YXR1c2xpc3Qrand0In0.eyJpc3MiOiIuLi4ifQ.c2ln")),
        (status = 304, description = "Not modified: the `If-None-Match` tag is current",
            headers(("ETag" = String), ("Cache-Control" = String), ("Access-Control-Allow-Origin" = String, description = "`*`"))),
        (status = 400, description = "invalid_request: malformed domain name", body = ErrorBody),
        (status = 404, description = "not_found: no such domain or list", body = ErrorBody,
            example = json!({"status":"failure","error":"not_found","error_description":"no status list '7' in identity domain 'acme'"})),
        (status = 406, description = "invalid_request: the `Accept` header admits no `application/statuslist+jwt`", body = ErrorBody),
        StoreUnavailable))]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(DomainName, String)>,
) -> Result<HttpResponse, ApiError> {
    let (domain, list_id) = path.into_inner();
    let headers = req.headers();
    let missing = || ApiError::NotFound(format!("no status list '{list_id}' in identity domain '{domain}'"));
    // A malformed list id names no list whatever the client accepts.
    let list = parse_list_id(&list_id).ok_or_else(missing)?;
    if !accepts_status_list_jwt(header_text(headers, &header::ACCEPT)) {
        return Err(ApiError::NotAcceptable(format!(
            "this resource is only available as {STATUS_LIST_JWT}"
        )));
    }
    let name = domain.clone();
    let current = state
        .store
        .read(move |mut db| Box::pin(async move { status_lists::state(&mut db, name.as_str(), list).await }))
        .await?
        .ok_or_else(missing)?;
    let issuer = issuer(&base_url(&req, &state.settings), &domain);
    let published = state
        .status_lists
        .current(current, list, &issuer)
        .await
        .map_err(|e| ApiError::from_oauth(e, &domain))?;

    let not_modified = matches_etag(header_text(headers, &header::IF_NONE_MATCH), &published.etag);
    let mut response = if not_modified {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::CACHE_CONTROL, format!("public, max-age={}", published.ttl_secs)))
        .insert_header((header::ETAG, published.etag.as_str()))
        .insert_header((header::VARY, "Accept, Accept-Encoding"));
    if not_modified {
        return Ok(response.finish());
    }
    response.insert_header((header::CONTENT_TYPE, STATUS_LIST_JWT));
    if accepts_gzip(header_text(headers, &header::ACCEPT_ENCODING)) {
        response.insert_header((header::CONTENT_ENCODING, "gzip"));
        Ok(response.body(published.gzipped.clone()))
    } else {
        Ok(response.body(published.jwt.clone()))
    }
}

/// The domain's status lists (the draft's aggregation).
#[utoipa::path(get, path = "/domains/{domain}/status-lists", tag = "status lists",
    operation_id = "list_status_lists",
    params(DomainPath),
    responses(
        (status = 200, description = "Every list URI of the domain", body = StatusListAggregation,
            headers(("Access-Control-Allow-Origin" = String, description = "`*`"))),
        (status = 400, description = "invalid_request: malformed domain name", body = ErrorBody),
        (status = 404, description = "not_found: no such domain", body = ErrorBody),
        StoreUnavailable))]
pub async fn aggregation(
    req: HttpRequest,
    state: web::Data<AppState>,
    domain: web::Path<DomainName>,
) -> Result<HttpResponse, ApiError> {
    let domain = domain.into_inner();
    let name = domain.clone();
    let found = state
        .store
        .read(move |mut db| {
            Box::pin(async move {
                let Some((domain_id, ttl_secs)) = status_lists::domain_settings(&mut db, name.as_str()).await? else {
                    return Ok(None);
                };
                Ok(Some((status_lists::lists(&mut db, domain_id).await?, ttl_secs)))
            })
        })
        .await?;
    let (lists, ttl_secs) =
        found.ok_or_else(|| ApiError::NotFound(format!("identity domain '{domain}' does not exist")))?;
    let issuer = issuer(&base_url(&req, &state.settings), &domain);
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, format!("public, max-age={ttl_secs}")))
        .json(StatusListAggregation {
            status_lists: lists.into_iter().map(|list| list_uri(&issuer, list)).collect(),
        }))
}

/// A CORS preflight: a browser asks before it sends `If-None-Match`.
pub async fn preflight() -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, "Accept, If-None-Match"))
        .insert_header((header::ACCESS_CONTROL_MAX_AGE, "86400"))
        .finish()
}

/// The headers every answer of these paths carries.
pub fn cors_headers() -> actix_web::middleware::DefaultHeaders {
    actix_web::middleware::DefaultHeaders::new()
        .add((header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*")))
        .add((header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("ETag")))
}

/// A header's value as text; `None` when absent or not visible ASCII, which is then as
/// if absent.
fn header_text<'h>(headers: &'h HeaderMap, name: &header::HeaderName) -> Option<&'h str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// The `q` of each element of a comma-separated header (`Accept`, `Accept-Encoding`),
/// with its value in lower case; `q` is 1 when absent and 0 when malformed.
fn weighted(value: &str) -> impl Iterator<Item = (String, f32)> + '_ {
    value.split(',').filter_map(|element| {
        let mut parts = element.split(';');
        let name = parts.next()?.trim().to_ascii_lowercase();
        if name.is_empty() {
            return None;
        }
        let q = parts
            .filter_map(|p| p.split_once('='))
            .find(|(key, _)| key.trim().eq_ignore_ascii_case("q"))
            .map_or(1.0, |(_, q)| q.trim().parse::<f32>().unwrap_or(0.0));
        Some((name, q))
    })
}

/// Whether `Accept` admits the Status List Token (RFC 9110 §12.5.1): the most specific
/// media range matching `application/statuslist+jwt` decides, by its `q`. No header, or
/// an empty one, accepts anything.
fn accepts_status_list_jwt(accept: Option<&str>) -> bool {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return true;
    };
    weighted(accept)
        .filter_map(|(range, q)| {
            let specificity = match range.as_str() {
                STATUS_LIST_JWT => 3,
                "application/*" => 2,
                "*/*" => 1,
                _ => return None,
            };
            Some((specificity, q))
        })
        .max_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)))
        .is_some_and(|(_, q)| q > 0.0)
}

/// Whether `Accept-Encoding` admits gzip (RFC 9110 §12.5.3), by name or by `*`.
fn accepts_gzip(accept_encoding: Option<&str>) -> bool {
    let Some(value) = accept_encoding else {
        return false;
    };
    weighted(value)
        .filter_map(|(coding, q)| match coding.as_str() {
            "gzip" | "x-gzip" => Some((2, q)),
            "*" => Some((1, q)),
            _ => None,
        })
        .max_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)))
        .is_some_and(|(_, q)| q > 0.0)
}

/// `If-None-Match` against the current tag, by weak comparison (RFC 9110 §13.1.2).
fn matches_etag(if_none_match: Option<&str>, etag: &str) -> bool {
    let Some(value) = if_none_match else {
        return false;
    };
    let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    value.trim() == "*" || value.split(',').any(|tag| opaque(tag) == opaque(etag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_admits_the_type_by_its_most_specific_range() {
        for accepted in [
            None,
            Some(""),
            Some("*/*"),
            Some("application/*"),
            Some("application/statuslist+jwt"),
            Some("text/html, application/statuslist+jwt;q=0.5"),
            Some("application/json, */*;q=0.1"),
            Some("APPLICATION/STATUSLIST+JWT"),
        ] {
            assert!(accepts_status_list_jwt(accepted), "{accepted:?}");
        }
        for refused in [
            "application/json",
            "text/*",
            "application/statuslist+jwt;q=0",
            "*/*, application/statuslist+jwt;q=0",
            "application/*;q=0, */*",
            "application/statuslist+json",
            "application/statuslist+jwt;q=zero",
        ] {
            assert!(!accepts_status_list_jwt(Some(refused)), "{refused}");
        }
    }

    #[test]
    fn gzip_only_when_admitted() {
        assert!(accepts_gzip(Some("gzip, deflate, br")));
        assert!(accepts_gzip(Some("*")));
        assert!(accepts_gzip(Some("br;q=1.0, gzip;q=0.8")));
        assert!(!accepts_gzip(None));
        assert!(!accepts_gzip(Some("identity")));
        assert!(!accepts_gzip(Some("gzip;q=0")));
        assert!(!accepts_gzip(Some("*, gzip;q=0")));
    }

    #[test]
    fn if_none_match_compares_weakly() {
        let etag = "\"abc\"";
        assert!(matches_etag(Some("\"abc\""), etag));
        assert!(matches_etag(Some("W/\"abc\""), etag));
        assert!(matches_etag(Some("\"x\", \"abc\""), etag));
        assert!(matches_etag(Some("*"), etag));
        assert!(!matches_etag(Some("\"abd\""), etag));
        assert!(!matches_etag(None, etag));
    }
}
