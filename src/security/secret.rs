//! Server-generated secrets.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;

use super::Sha256Digest;

/// 256 bits: far beyond guessing, which is why a plain SHA-256 may store them.
const SECRET_BYTES: usize = 32;

/// A random string of 256 bits, base64url without padding (43 characters).
pub fn random_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A client secret in the clear: exists only between generation and the one response
/// that shows it, or between a request and its hash.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(String);

impl ClientSecret {
    pub fn generate() -> Self {
        Self(random_secret())
    }

    pub fn new(presented: String) -> Self {
        Self(presented)
    }

    pub fn digest(&self) -> Sha256Digest {
        Sha256Digest::of(self.0.as_bytes())
    }

    /// The secret itself, for the one response that shows it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Serializing is how the one response that shows a new secret gets it.
impl serde::Serialize for ClientSecret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientSecret(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_256_bits_and_distinct() {
        let a = random_secret();
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
        assert_ne!(a, random_secret());
    }

    #[test]
    fn debug_hides_the_secret() {
        let s = ClientSecret::generate();
        assert!(!format!("{s:?}").contains(s.expose()));
    }
}
