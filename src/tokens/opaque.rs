//! Opaque tokens (refresh tokens) and the digests they are stored as.

use crate::security::{Sha256Digest, random_secret};

/// A token in the clear: lives only between its creation and the response that hands
/// it out, or between a request and its digest. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct PlainToken(String);

impl PlainToken {
    /// 256 random bits, base64url (43 characters).
    pub fn generate() -> Self {
        Self(random_secret())
    }

    pub fn new(presented: String) -> Self {
        Self(presented)
    }

    /// What the store keeps and looks tokens up by.
    pub fn digest(&self) -> Sha256Digest {
        Sha256Digest::of(self.0.as_bytes())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Debug for PlainToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PlainToken(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_distinct_and_hidden() {
        let t = PlainToken::generate();
        assert_ne!(t, PlainToken::generate());
        assert!(!format!("{t:?}").contains(t.expose()));
        assert_eq!(t.digest(), Sha256Digest::of(t.expose().as_bytes()));
    }
}
