//! The JWTs revokd signs, ES256 with `kid` in the header: access tokens (RFC 9068
//! profile, the claims of SPEC §2 and the `status` claim of §3.10) and status lists
//! (`statuslist+jwt`, draft-ietf-oauth-status-list).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Header};
use serde::{Deserialize, Serialize};

use super::keys::{KeyError, SigningKey};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    /// The username for user tokens, the client_id for client_credentials tokens.
    pub sub: String,
    pub client_id: String,
    /// Space-separated.
    pub scope: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    /// Where a resource server reads whether the token was revoked (SPEC §3.10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusClaim>,
}

/// `"status": {"status_list": {"idx": …, "uri": …}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusClaim {
    pub status_list: StatusListReference,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusListReference {
    pub idx: i64,
    pub uri: String,
}

/// The claims of a Status List Token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusListClaims {
    pub iss: String,
    /// The list's URI, exactly as access tokens name it.
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    pub ttl: i64,
    pub status_list: EncodedStatusList,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncodedStatusList {
    pub bits: u8,
    /// base64url(zlib(bytes)).
    pub lst: String,
}

pub fn sign(claims: &AccessClaims, key: &SigningKey) -> Result<String, KeyError> {
    sign_typed(claims, key, "at+jwt")
}

pub fn sign_status_list(claims: &StatusListClaims, key: &SigningKey) -> Result<String, KeyError> {
    sign_typed(claims, key, "statuslist+jwt")
}

/// A compact JWS (RFC 7515 §7.1): the header and the claims as base64url JSON, and
/// their ES256 signature by the key parsed once (`SigningKey`).
fn sign_typed(claims: &impl Serialize, key: &SigningKey, typ: &str) -> Result<String, KeyError> {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(key.kid.clone());
    header.typ = Some(typ.into());
    let header = serde_json::to_vec(&header).map_err(|e| KeyError::signing(e.to_string()))?;
    let claims = serde_json::to_vec(claims).map_err(|e| KeyError::signing(e.to_string()))?;
    let mut jws = URL_SAFE_NO_PAD.encode(header);
    jws.push('.');
    URL_SAFE_NO_PAD.encode_string(claims, &mut jws);
    let signature = key.sign(jws.as_bytes())?;
    jws.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut jws);
    Ok(jws)
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{DecodingKey, Validation, decode, decode_header};

    use super::*;
    use crate::tokens::keys::generate;

    #[test]
    fn signed_tokens_verify_against_the_public_jwk() {
        let generated = generate().unwrap();
        let key = SigningKey::from_pkcs8(generated.kid.clone(), &generated.pkcs8).unwrap();
        let claims = AccessClaims {
            iss: "http://127.0.0.1:8080/domains/acme".into(),
            sub: "alice".into(),
            client_id: "web".into(),
            scope: "openid profile".into(),
            iat: 1_900_000_000,
            exp: 4_000_000_000,
            jti: "j1".into(),
            status: Some(StatusClaim {
                status_list: StatusListReference {
                    idx: 7,
                    uri: "http://127.0.0.1:8080/domains/acme/status-lists/1".into(),
                },
            }),
        };
        let jwt = sign(&claims, &key).unwrap();
        let header = decode_header(&jwt).unwrap();
        assert_eq!(header.kid.as_deref(), Some(generated.kid.as_str()));
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(generated.public_jwk).unwrap();
        let decoding = DecodingKey::from_jwk(&jwk).unwrap();
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_issuer(&["http://127.0.0.1:8080/domains/acme"]);
        let decoded = decode::<AccessClaims>(&jwt, &decoding, &validation).unwrap();
        assert_eq!(decoded.claims, claims);
    }
}
