//! The identity-domain extractor (`IdentityDomain`: the `x-oauth-identity-domain-name`
//! header, else the `identityDomain` query parameter) on arbitrary requests, and the
//! name parsers of `revokd::domain` on the same bytes.
//!
//! Input: one flags byte (bit 0: send the header, bit 1: send it twice, bit 2: send a
//! query string), then the header value up to the first `\n`, then the query string.
//! Checks: never a panic; the answer is the one SPEC §1 gives (the header wins, even a
//! malformed one; a repeated header or query parameter, an empty or malformed value, or
//! neither is refused); each parser accepts exactly its syntax, written out here
//! independently, keeps the string as given, and agrees with its serde form.

#![no_main]

use actix_web::FromRequest;
use actix_web::dev::Payload;
use actix_web::http::Uri;
use actix_web::http::header::HeaderValue;
use actix_web::test::TestRequest;
use libfuzzer_sys::fuzz_target;
use revokd::domain::{ClientId, ConsentPublicId, DomainName, Scope, Username};
use revokd::http::extractors::IdentityDomain;

const HEADER: &str = "x-oauth-identity-domain-name";

/// `^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`
fn is_domain_name(s: &str) -> bool {
    let b = s.as_bytes();
    (1..=64).contains(&b.len())
        && b[0].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-')
}

/// `^[ -~]{1,255}$`
fn is_client_id(s: &str) -> bool {
    (1..=255).contains(&s.len()) && s.bytes().all(|c| (b' '..=b'~').contains(&c))
}

/// 1-255 characters, none of them a control character.
fn is_username(s: &str) -> bool {
    (1..=255).contains(&s.chars().count()) && !s.chars().any(char::is_control)
}

/// `^[0-9a-f]{32}$`
fn is_consent_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

/// RFC 6749 §3.3 scope-token, 1-128 of `%x21 / %x23-5B / %x5D-7E`.
fn is_scope(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.bytes()
            .all(|c| c == 0x21 || (0x23..=0x5b).contains(&c) || (0x5d..=0x7e).contains(&c))
}

macro_rules! check_parser {
    ($type:ty, $syntax:expr, $raw:expr) => {{
        let raw: &str = $raw;
        let parsed = <$type>::parse(raw);
        assert_eq!(parsed.is_ok(), $syntax(raw), "{}::parse({raw:?})", stringify!($type));
        if let Ok(value) = &parsed {
            assert_eq!(value.as_str(), raw);
        }
        let json = serde_json::Value::String(raw.to_owned());
        let via_serde = serde_json::from_value::<$type>(json).ok();
        assert_eq!(via_serde, parsed.ok(), "{} from JSON {raw:?}", stringify!($type));
    }};
}

fn parsers(raw: &str) {
    check_parser!(DomainName, is_domain_name, raw);
    check_parser!(ClientId, is_client_id, raw);
    check_parser!(Username, is_username, raw);
    check_parser!(ConsentPublicId, is_consent_id, raw);
    check_parser!(Scope, is_scope, raw);
}

/// What SPEC §1 says the request names, from what actually arrived.
fn expected(header: &[&HeaderValue], query: &str) -> Option<String> {
    match header {
        [] => {}
        [one] => return one.to_str().ok().filter(|v| is_domain_name(v)).map(str::to_owned),
        _ => return None,
    }
    let mut values = form_urlencoded::parse(query.as_bytes()).filter(|(name, _)| name == "identityDomain");
    let value = values.next()?.1;
    (values.next().is_none() && is_domain_name(&value)).then(|| value.into_owned())
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let (header, query) = match rest.iter().position(|b| *b == b'\n') {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (rest, &[][..]),
    };
    parsers(&String::from_utf8_lossy(header));
    parsers(&String::from_utf8_lossy(query));

    let mut req = TestRequest::default();
    if flags & 4 != 0 {
        // Only what a real request line could carry: anything `Uri` refuses never reaches
        // an extractor.
        let Ok(query) = std::str::from_utf8(query) else {
            return;
        };
        let uri = format!("/oauth2/rest/token/revoke?{query}");
        if uri.parse::<Uri>().is_err() {
            return;
        }
        req = req.uri(&uri);
    }
    if flags & 1 != 0 {
        // Likewise a header value the HTTP layer would have refused.
        let Ok(value) = HeaderValue::from_bytes(header) else {
            return;
        };
        req = req.append_header((HEADER, value.clone()));
        if flags & 2 != 0 {
            req = req.append_header((HEADER, value));
        }
    }
    let req = req.to_http_request();
    let sent: Vec<&HeaderValue> = req.headers().get_all(HEADER).collect();
    let want = expected(&sent, req.query_string());
    let got = <IdentityDomain as FromRequest>::from_request(&req, &mut Payload::None)
        .into_inner()
        .map(|d| d.0.as_str().to_owned());
    match (&got, &want) {
        (Ok(got), Some(want)) => assert_eq!(got, want, "{req:?}"),
        (Err(_), None) => {}
        (Ok(got), None) => panic!("accepted identity domain {got:?} from {req:?}"),
        (Err(e), Some(want)) => panic!("refused {want:?} ({e}) from {req:?}"),
    }
});
