//! The operator's bearer token (`REVOKD_ADMIN_TOKEN`).

use super::Sha256Digest;

/// Kept only as a digest once configured, so it cannot be printed by accident and is
/// compared in constant time whatever the length of the guess.
#[derive(Clone)]
pub struct AdminToken(Sha256Digest);

impl AdminToken {
    pub fn new(clear: String) -> Self {
        Self(Sha256Digest::of(clear.as_bytes()))
    }

    pub fn matches(&self, presented: &str) -> bool {
        self.0.matches(&Sha256Digest::of(presented.as_bytes()))
    }
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(***)")
    }
}
