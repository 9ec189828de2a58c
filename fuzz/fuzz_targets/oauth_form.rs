//! The form parser of every OAuth endpoint, `OAuthForm::parse`, on arbitrary bodies.
//!
//! Checks, besides "never panics": the answer agrees with a model of the rules written
//! here independently (split on `&`, then the first `=`, `+` is a space, `%XX` is a
//! byte and any other `%` stays, strict UTF-8; no NUL, no repeat, no empty value but an
//! empty `token_type_hint`, which is dropped), and what it accepts survives being
//! form-encoded again and re-parsed.

#![no_main]

use libfuzzer_sys::fuzz_target;
use revokd::http::extractors::OAuthForm;

/// Parameters the service reads, so `get` is also asked about names the body lacks.
const KNOWN: [&str; 8] = [
    "token",
    "token_type",
    "token_type_hint",
    "revoke_level",
    "reason",
    "client_id",
    "client_secret",
    "grant_type",
];

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `+` → space, then `%XX` → byte (a `%` not followed by two hex digits is kept).
fn model_decode(raw: &[u8]) -> Option<String> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = if raw[i] == b'+' { b' ' } else { raw[i] };
        if b == b'%'
            && let (Some(hi), Some(lo)) = (
                raw.get(i + 1).copied().and_then(hex),
                raw.get(i + 2).copied().and_then(hex),
            )
        {
            out.push(hi << 4 | lo);
            i += 3;
            continue;
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The parameters the rules accept, in order, or `None` where the body is refused.
fn model(body: &[u8]) -> Option<Vec<(String, String)>> {
    let mut params: Vec<(String, String)> = Vec::new();
    for pair in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let (name, value) = match pair.iter().position(|b| *b == b'=') {
            Some(at) => (&pair[..at], &pair[at + 1..]),
            None => (pair, &[][..]),
        };
        let (name, value) = (model_decode(name)?, model_decode(value)?);
        if name.contains('\0') || value.contains('\0') {
            return None;
        }
        if value.is_empty() && name == "token_type_hint" {
            continue;
        }
        if value.is_empty() || params.iter().any(|(seen, _)| *seen == name) {
            return None;
        }
        params.push((name, value));
    }
    Some(params)
}

fn check(form: &OAuthForm, expected: &[(String, String)], body: &[u8]) {
    for (name, value) in expected {
        assert_eq!(form.get(name), Some(value.as_str()), "parameter {name:?} of {body:?}");
        assert!(form.require(name).is_ok());
    }
    for name in KNOWN {
        if !expected.iter().any(|(n, _)| n == name) {
            assert_eq!(form.get(name), None, "{name} is not in {body:?}");
            assert!(form.require(name).is_err());
        }
    }
}

fuzz_target!(|body: &[u8]| {
    let parsed = OAuthForm::parse(body);
    let expected = model(body);
    match (&parsed, &expected) {
        (Ok(form), Some(params)) => check(form, params, body),
        (Err(_), None) => return,
        (Ok(_), None) => panic!("accepted a body the rules refuse: {body:?}"),
        (Err(e), Some(_)) => panic!("refused a body the rules accept ({e}): {body:?}"),
    }
    let Some(params) = expected else { return };
    // What was accepted, encoded the way clients do, parses back to the same thing.
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&params)
        .finish();
    match OAuthForm::parse(encoded.as_bytes()) {
        Ok(again) => check(&again, &params, encoded.as_bytes()),
        Err(e) => panic!("re-encoded form {encoded:?} refused: {e}"),
    }
});
