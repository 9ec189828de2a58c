//! The base URL clients reached this server on: `REVOKD_PUBLIC_URL` when set, else the
//! scheme and host of the request as `http::origin` believes them (forwarded headers
//! only from trusted proxies). Metadata URLs and the issuer are built on it.

use actix_web::HttpRequest;

use crate::config::Settings;
use crate::domain::DomainName;
use crate::http::origin::Origin;

pub fn base_url(req: &HttpRequest, settings: &Settings) -> String {
    if let Some(public) = &settings.public_url {
        return public.as_str().trim_end_matches('/').to_owned();
    }
    Origin::of(req, &settings.trusted_proxies).base_url()
}

/// The issuer of a domain's tokens (RFC 8414 §2: no query, no fragment).
pub fn issuer(base: &str, domain: &DomainName) -> String {
    format!("{base}/domains/{domain}")
}
