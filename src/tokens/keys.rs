//! Per-domain ES256 signing keys. A key is generated when its domain is created; the
//! private half (PKCS#8 DER) stays in the store and in this process's memory, and only
//! the public JWK is ever shown (JWKS).

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use crate::security::Sha256Digest;

/// The JOSE algorithm of every revokd signing key.
pub const ALGORITHM: &str = "ES256";

/// A fresh key as it is stored.
pub struct GeneratedKey {
    /// RFC 7638 thumbprint of the public key.
    pub kid: String,
    pub pkcs8: Vec<u8>,
    pub public_jwk: serde_json::Value,
}

impl std::fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("signing key: {0}")]
pub struct KeyError(String);

impl KeyError {
    pub fn signing(cause: String) -> Self {
        Self(cause)
    }
}

/// Generates a P-256 key pair.
pub fn generate() -> Result<GeneratedKey, KeyError> {
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).map_err(|e| KeyError(e.to_string()))?;
    let pkcs8 = pair
        .to_pkcs8v1()
        .map_err(|e| KeyError(e.to_string()))?
        .as_ref()
        .to_vec();
    let (kid, public_jwk) = public_jwk(pair.public_key().as_ref())?;
    Ok(GeneratedKey { kid, pkcs8, public_jwk })
}

/// The public JWK of an uncompressed P-256 point (`0x04 || X || Y`), with its
/// RFC 7638 thumbprint as `kid`.
fn public_jwk(point: &[u8]) -> Result<(String, serde_json::Value), KeyError> {
    if point.len() != 65 || point[0] != 0x04 {
        return Err(KeyError("unexpected public key encoding".into()));
    }
    let x = URL_SAFE_NO_PAD.encode(&point[1..33]);
    let y = URL_SAFE_NO_PAD.encode(&point[33..65]);
    // RFC 7638 §3.2: the required members, lexicographic order, no white space.
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    let kid = URL_SAFE_NO_PAD.encode(Sha256Digest::of(canonical.as_bytes()).as_bytes());
    let jwk = json!({"kty": "EC", "crv": "P-256", "x": x, "y": y, "use": "sig", "alg": ALGORITHM, "kid": kid});
    Ok((kid, jwk))
}

/// A key ready to sign: parsed once, then shared. (jsonwebtoken's `encode` parses its
/// `EncodingKey` again on every call: about 8% of an issuance's CPU went to that.)
#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    pair: std::sync::Arc<EcdsaKeyPair>,
}

impl SigningKey {
    pub fn from_pkcs8(kid: String, pkcs8: &[u8]) -> Result<Self, KeyError> {
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8).map_err(|e| KeyError(e.to_string()))?;
        Ok(Self {
            kid,
            pair: std::sync::Arc::new(pair),
        })
    }

    /// The ES256 signature of `message` as JWS carries it (RFC 7518 §3.4: `R || S`,
    /// 64 bytes).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let signature = self
            .pair
            .sign(&aws_lc_rs::rand::SystemRandom::new(), message)
            .map_err(|e| KeyError(e.to_string()))?;
        Ok(signature.as_ref().to_vec())
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_load_and_have_thumbprint_kids() {
        let key = generate().unwrap();
        assert_eq!(key.public_jwk["kid"], key.kid);
        assert_eq!(key.kid.len(), 43);
        assert!(
            key.public_jwk.get("d").is_none(),
            "the JWK must not hold the private part"
        );
        SigningKey::from_pkcs8(key.kid.clone(), &key.pkcs8).unwrap();
        assert_ne!(generate().unwrap().kid, key.kid);
        assert!(SigningKey::from_pkcs8("x".into(), b"not a key").is_err());
    }

    #[test]
    fn thumbprint_matches_rfc7638_example_shape() {
        // Same point, same kid; the kid depends only on the public key.
        let mut point = vec![0x04];
        point.extend([1u8; 64]);
        let (a, _) = public_jwk(&point).unwrap();
        let (b, _) = public_jwk(&point).unwrap();
        assert_eq!(a, b);
        assert!(public_jwk(&point[1..]).is_err());
    }
}
