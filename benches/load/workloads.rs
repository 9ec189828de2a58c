//! What each measure sends: the ceiling's `GET /hello`, and revokd's revocation,
//! introspection and `client_credentials` requests as a real client sends them (HTTP
//! Basic, the domain header, a form body).

use std::cell::Cell;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::loadgen::Workload;
use crate::seed::{self, TokenSet};

/// The trivial handler of the ceiling server.
pub struct Hello;

pub const HELLO_REQUEST: &[u8] = b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

impl Workload for Hello {
    fn next_request(&self, out: &mut Vec<u8>) -> Option<()> {
        out.extend_from_slice(HELLO_REQUEST);
        Some(())
    }

    fn accept(&self, status: u16, _body: &[u8]) -> bool {
        status == 200
    }
}

/// `Authorization: Basic` for a client, RFC 6749 §2.3.1 (each part form-urlencoded).
pub fn basic(client_id: &str, secret: &str) -> String {
    let escape = |raw: &str| form_urlencoded::byte_serialize(raw.as_bytes()).collect::<String>();
    STANDARD.encode(format!("{}:{}", escape(client_id), escape(secret)))
}

/// A form POST to an OAuth endpoint of the bench domain.
pub fn oauth_post(out: &mut Vec<u8>, path: &str, authorization: &str, body: &str) {
    use std::io::Write;
    // Writing into a Vec cannot fail.
    let _ = write!(
        out,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {authorization}\r\n\
         x-oauth-identity-domain-name: {domain}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {length}\r\n\r\n{body}",
        domain = seed::DOMAIN,
        length = body.len(),
    );
}

/// Revokes one live token per request, each token once: `set[next..end]`.
pub struct Revoke {
    pub authorization: String,
    pub set: TokenSet,
    pub next: Cell<u64>,
    pub end: u64,
}

impl Revoke {
    /// The tokens handed out so far: every one of them must be revoked afterwards.
    pub fn used(&self, start: u64) -> std::ops::Range<u64> {
        start..self.next.get()
    }
}

impl Workload for Revoke {
    fn next_request(&self, out: &mut Vec<u8>) -> Option<()> {
        let index = self.next.get();
        if index >= self.end {
            return None;
        }
        self.next.set(index + 1);
        let body = format!("token={}&token_type_hint=access_token", self.set.text(index));
        oauth_post(out, "/oauth2/rest/token/revoke", &self.authorization, &body);
        Some(())
    }

    fn accept(&self, status: u16, body: &[u8]) -> bool {
        status == 200 && body == br#"{"status":"success"}"#
    }
}

/// Introspects live tokens picked uniformly from `set[0..count]`, so at 10^7 tokens the
/// look-ups spread over the whole index as real traffic would.
pub struct Introspect {
    pub authorization: String,
    pub set: TokenSet,
    pub count: u64,
    pub rng: Cell<u64>,
    /// `true`: every token must be live; `false`: every token must be dead.
    pub expect_active: bool,
}

impl Introspect {
    fn next_index(&self) -> u64 {
        // xorshift64*: cheap, and good enough to spread look-ups.
        let mut x = self.rng.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng.set(x);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d) % self.count
    }
}

impl Workload for Introspect {
    fn next_request(&self, out: &mut Vec<u8>) -> Option<()> {
        let body = format!("token={}", self.set.text(self.next_index()));
        oauth_post(out, "/oauth2/rest/token/introspect", &self.authorization, &body);
        Some(())
    }

    fn accept(&self, status: u16, body: &[u8]) -> bool {
        let active = body.starts_with(br#"{"active":true,"#);
        status == 200 && (active == self.expect_active) && (active || body == br#"{"active":false}"#)
    }
}

/// `grant_type=client_credentials` with HTTP Basic.
pub struct Issue {
    pub authorization: String,
}

impl Workload for Issue {
    fn next_request(&self, out: &mut Vec<u8>) -> Option<()> {
        oauth_post(
            out,
            "/oauth2/rest/token",
            &self.authorization,
            "grant_type=client_credentials",
        );
        Some(())
    }

    fn accept(&self, status: u16, body: &[u8]) -> bool {
        status == 200 && body.starts_with(br#"{"access_token":"ey"#)
    }
}
