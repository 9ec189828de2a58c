//! Where a request came from and which URL it reached, as far as it can be believed.
//!
//! `Forwarded` and `X-Forwarded-*` headers are claims: any client can send them. They
//! count only when the peer that sent them is one of `REVOKD_TRUSTED_PROXIES` (SPEC §5);
//! otherwise the scheme is the connection's own, the host is the `Host` the request
//! names and the client is the peer. The issuer, every advertised URL, the HTTPS rule
//! and the per-address failure count all start here.

use std::net::IpAddr;

use actix_web::HttpRequest;
use actix_web::http::header;
use ipnet::IpNet;

/// The proxies whose forwarded headers are believed: IPs or CIDRs, none by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses a comma-separated list such as `10.0.0.0/8, 192.0.2.7, ::1`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let nets = raw
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                item.parse::<IpNet>()
                    .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{item:?} is neither an IP address nor a CIDR block"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self(nets))
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }
}

/// A request's scheme, host and client address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub scheme: String,
    /// `host[:port]` as the client (or a trusted proxy for it) named it.
    pub host: String,
    /// The client's address: the peer, or the nearest untrusted address a trusted
    /// proxy reports.
    pub client: Option<IpAddr>,
}

/// The client's address alone, as [`Origin::of`] finds it (without the host and
/// scheme, which cost more and which the failure count does not need).
pub fn client_address(req: &HttpRequest, trusted: &TrustedProxies) -> Option<IpAddr> {
    let peer = req.peer_addr().map(|addr| addr.ip().to_canonical());
    match peer {
        Some(ip) if trusted.trusts(ip) => forwarded_client(req, trusted).or(peer),
        _ => peer,
    }
}

impl Origin {
    pub fn of(req: &HttpRequest, trusted: &TrustedProxies) -> Self {
        let peer = req.peer_addr().map(|addr| addr.ip().to_canonical());
        if peer.is_some_and(|ip| trusted.trusts(ip)) {
            let info = req.connection_info();
            return Self {
                scheme: info.scheme().to_owned(),
                host: valid_host(info.host()).unwrap_or_else(|| own_host(req)),
                client: forwarded_client(req, trusted).or(peer),
            };
        }
        let secure = req.uri().scheme_str() == Some("https") || req.app_config().secure();
        Self {
            scheme: if secure { "https" } else { "http" }.to_owned(),
            host: own_host(req),
            client: peer,
        }
    }

    /// `scheme://host`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.scheme, self.host)
    }
}

/// The host the request itself names: `Host` (HTTP/1.1), the URI's authority (HTTP/2),
/// else the server's configured name.
fn own_host(req: &HttpRequest) -> String {
    req.headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .or_else(|| req.uri().authority().map(|authority| authority.as_str()))
        .and_then(valid_host)
        .unwrap_or_else(|| req.app_config().host().to_owned())
}

/// A host that can stand in a URL: a name or IP literal with an optional port, nothing
/// that could add a path, a user or a second URL.
fn valid_host(raw: &str) -> Option<String> {
    let ok = !raw.is_empty()
        && raw.len() <= 255
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']' | b'_'));
    ok.then(|| raw.to_ascii_lowercase())
}

/// The client a chain of trusted proxies reports: walking `X-Forwarded-For` from the
/// right (the entry our own peer added), the first address that is not a trusted proxy.
/// Entries further left were written by whoever sent them and are not believed.
fn forwarded_client(req: &HttpRequest, trusted: &TrustedProxies) -> Option<IpAddr> {
    let chain: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    let mut nearest = None;
    for entry in chain.iter().rev() {
        let ip = entry.parse::<IpAddr>().ok()?.to_canonical();
        nearest = Some(ip);
        if !trusted.trusts(ip) {
            break;
        }
    }
    nearest
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn proxies(raw: &str) -> TrustedProxies {
        TrustedProxies::parse(raw).unwrap()
    }

    fn from(peer: &str) -> TestRequest {
        TestRequest::default()
            .peer_addr(format!("{peer}:40000").parse().unwrap())
            .insert_header(("host", "revokd.example:8080"))
            .insert_header(("x-forwarded-host", "evil.example"))
            .insert_header(("x-forwarded-proto", "https"))
            .insert_header(("x-forwarded-for", "203.0.113.9, 198.51.100.1"))
    }

    #[test]
    fn lists_parse_and_bad_entries_are_named() {
        let list = proxies(" 10.0.0.0/8, 192.0.2.7 ,::1");
        assert!(list.trusts("10.1.2.3".parse().unwrap()));
        assert!(list.trusts("192.0.2.7".parse().unwrap()));
        assert!(list.trusts("::1".parse().unwrap()));
        assert!(list.trusts("::ffff:10.0.0.1".parse().unwrap()));
        assert!(!list.trusts("192.0.2.8".parse().unwrap()));
        assert!(!TrustedProxies::default().trusts("127.0.0.1".parse().unwrap()));
        assert!(
            TrustedProxies::parse("10.0.0.0/33")
                .unwrap_err()
                .contains("10.0.0.0/33")
        );
        assert!(TrustedProxies::parse("proxy.example").is_err());
    }

    #[test]
    fn forwarded_headers_from_anyone_else_change_nothing() {
        let req = from("192.0.2.50").to_http_request();
        let origin = Origin::of(&req, &proxies("10.0.0.0/8"));
        assert_eq!(origin.base_url(), "http://revokd.example:8080");
        assert_eq!(origin.client, Some("192.0.2.50".parse().unwrap()));
    }

    #[test]
    fn a_trusted_proxy_speaks_for_the_client() {
        let req = from("10.0.0.2").to_http_request();
        let origin = Origin::of(&req, &proxies("10.0.0.0/8"));
        assert_eq!(origin.base_url(), "https://evil.example");
        // The proxy appended 198.51.100.1; what stands left of it is the client's claim.
        assert_eq!(origin.client, Some("198.51.100.1".parse().unwrap()));
        assert_eq!(client_address(&req, &proxies("10.0.0.0/8")), origin.client);
        let chained = Origin::of(&req, &proxies("10.0.0.0/8, 198.51.100.1"));
        assert_eq!(chained.client, Some("203.0.113.9".parse().unwrap()));
    }

    #[test]
    fn a_host_that_is_not_a_host_is_not_used() {
        let req = TestRequest::default()
            .peer_addr("192.0.2.50:1".parse().unwrap())
            .insert_header(("host", "a.example/evil?x="))
            .to_http_request();
        assert_eq!(Origin::of(&req, &TrustedProxies::default()).host, "localhost:8080");
    }
}
