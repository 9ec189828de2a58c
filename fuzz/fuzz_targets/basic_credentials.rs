//! The HTTP Basic decoder of client authentication (RFC 6749 §2.3.1:
//! `base64(urlencode(id) ":" urlencode(secret))`) on arbitrary input, two ways:
//!
//! - the input as what follows `Basic ` in the header: never a panic, and an answer
//!   that agrees with a model of the rule written here (and never an empty id or a NUL);
//! - the input as an id and a secret (split at the first `0xFF` byte), encoded the way
//!   a client does it: decoding gives exactly them back, unless the id is empty or one
//!   of them holds a NUL, which is refused.

#![no_main]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use libfuzzer_sys::fuzz_target;
use revokd::http::extractors::decode_basic_credentials;

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// `+` → space, `%XX` → byte, any other `%` kept; strict UTF-8.
fn unescape(raw: &str) -> Option<String> {
    let raw = raw.as_bytes();
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match (
            raw[i],
            raw.get(i + 1).copied().and_then(hex),
            raw.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(hi << 4 | lo);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn model(encoded: &str) -> Option<(String, String)> {
    let text = String::from_utf8(STANDARD.decode(encoded).ok()?).ok()?;
    let (id, secret) = text.split_once(':')?;
    let (id, secret) = (unescape(id)?, unescape(secret)?);
    (!id.is_empty() && !id.contains('\0') && !secret.contains('\0')).then_some((id, secret))
}

fn as_header(data: &[u8]) {
    let Ok(encoded) = std::str::from_utf8(data) else {
        return;
    };
    let decoded = decode_basic_credentials(encoded).ok();
    if let Some((id, secret)) = &decoded {
        assert!(!id.is_empty() && !id.contains('\0') && !secret.contains('\0'));
    }
    assert_eq!(decoded, model(encoded), "Basic {encoded:?}");
}

fn round_trip(data: &[u8]) {
    let (id, secret) = match data.iter().position(|b| *b == 0xFF) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let (Ok(id), Ok(secret)) = (std::str::from_utf8(id), std::str::from_utf8(secret)) else {
        return;
    };
    let escape = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let encoded = STANDARD.encode(format!("{}:{}", escape(id), escape(secret)));
    let decoded = decode_basic_credentials(&encoded);
    if id.is_empty() || id.contains('\0') || secret.contains('\0') {
        assert!(decoded.is_err(), "accepted {id:?}:{secret:?}");
    } else {
        match decoded {
            Ok((got_id, got_secret)) => assert_eq!((got_id.as_str(), got_secret.as_str()), (id, secret)),
            Err(e) => panic!("refused {id:?}:{secret:?} ({encoded}): {e}"),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    as_header(data);
    round_trip(data);
});
