//! The base URL clients reached this server on: `REVOKD_PUBLIC_URL` when set, else the
//! scheme and host of the request (honouring `Forwarded` / `X-Forwarded-*` from a
//! proxy). Metadata URLs and the issuer are built on it.

use actix_web::HttpRequest;

use crate::config::Settings;
use crate::domain::DomainName;

pub fn base_url(req: &HttpRequest, settings: &Settings) -> String {
    if let Some(public) = &settings.public_url {
        return public.as_str().trim_end_matches('/').to_owned();
    }
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

/// The issuer of a domain's tokens (RFC 8414 §2: no query, no fragment).
pub fn issuer(base: &str, domain: &DomainName) -> String {
    format!("{base}/domains/{domain}")
}
