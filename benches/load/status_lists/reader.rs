//! What the benchmark reads of a list, as a resource server would: fetched, verified
//! against the domain's JWKS, its bits decompressed and checked.

use std::io::Read;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::loadgen;
use crate::seed;
use crate::servers::Server;

pub(super) async fn timed_get(server: &Server, request: &[u8]) -> anyhow::Result<(Duration, u16, Vec<u8>)> {
    let started = Instant::now();
    let (status, body) = loadgen::once(server.address, request).await?;
    Ok((started.elapsed(), status, body))
}

pub(super) async fn get_jwks(server: &Server) -> anyhow::Result<Value> {
    let request = format!(
        "GET /oauth2/rest/jwks?identityDomain={} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        seed::DOMAIN
    );
    let (status, body) = loadgen::once(server.address, request.as_bytes()).await?;
    if status != 200 {
        bail!("JWKS: {status}");
    }
    Ok(serde_json::from_slice(&body)?)
}

/// A Status List Token verified against the JWKS, as a resource server reads it: its
/// claims and its decompressed bits.
pub(super) struct VerifiedList {
    pub(super) bytes: Vec<u8>,
}

pub(super) fn verify(jwt: &str, jwks: &Value, path: &str) -> anyhow::Result<VerifiedList> {
    let header = jsonwebtoken::decode_header(jwt)?;
    if header.typ.as_deref() != Some("statuslist+jwt") {
        bail!("typ {:?}", header.typ);
    }
    let kid = header.kid.context("no kid")?;
    let jwk = jwks["keys"]
        .as_array()
        .and_then(|keys| keys.iter().find(|k| k["kid"] == kid.as_str()))
        .context("the kid is not in the JWKS")?;
    let key = DecodingKey::from_jwk(&serde_json::from_value(jwk.clone())?)?;
    let mut validation = Validation::new(Algorithm::ES256);
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp", "iat", "iss", "sub"]);
    let claims = jsonwebtoken::decode::<Value>(jwt, &key, &validation)?.claims;
    if !claims["sub"].as_str().is_some_and(|sub| sub.ends_with(path)) || claims["status_list"]["bits"] != 1 {
        bail!("unexpected claims {}", claims);
    }
    let compressed = URL_SAFE_NO_PAD.decode(claims["status_list"]["lst"].as_str().context("no lst")?)?;
    let mut bytes = Vec::new();
    flate2::read::ZlibDecoder::new(compressed.as_slice()).read_to_end(&mut bytes)?;
    Ok(VerifiedList { bytes })
}

/// The list's bits `0..count` are exactly `invalid`, and none past them is set.
pub(super) fn check_bits(list: &VerifiedList, count: u64, invalid: impl Fn(u64) -> bool) -> anyhow::Result<()> {
    if (list.bytes.len() as u64) * 8 < count {
        bail!("lst covers {} indices, not {count}", list.bytes.len() * 8);
    }
    let bit = |i: u64| list.bytes[(i / 8) as usize] & (1 << (i % 8)) != 0;
    for i in 0..count {
        if bit(i) != invalid(i) {
            bail!("bit {i} is {}", u8::from(bit(i)));
        }
    }
    if let Some(i) = (count..list.bytes.len() as u64 * 8).find(|i| bit(*i)) {
        bail!("bit {i}, past every seeded token, is set");
    }
    Ok(())
}
