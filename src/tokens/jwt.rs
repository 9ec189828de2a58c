//! JWT access tokens (RFC 9068 profile): ES256, `kid` in the header, the claims of
//! SPEC §2.

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
}

pub fn sign(claims: &AccessClaims, key: &SigningKey) -> Result<String, KeyError> {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(key.kid.clone());
    header.typ = Some("at+jwt".into());
    jsonwebtoken::encode(&header, claims, &key.encoding).map_err(|e| KeyError::signing(e.to_string()))
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
