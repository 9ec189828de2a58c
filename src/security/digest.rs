//! SHA-256 digests of server-generated secrets and tokens.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The 32 raw bytes of a SHA-256 digest, as stored (never hex text).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sha256Digest(pub [u8; 32]);

impl Sha256Digest {
    pub fn of(data: &[u8]) -> Self {
        Self(Sha256::digest(data).into())
    }

    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Constant-time comparison, so response timing says nothing about how much of a
    /// guess was right.
    pub fn matches(&self, other: &Sha256Digest) -> bool {
        constant_time_eq(&self.0, &other.0)
    }
}

impl std::fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sha256Digest(..)")
    }
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_matches_known_vector() {
        let d = Sha256Digest::of(b"abc");
        assert_eq!(d.0[..4], [0xba, 0x78, 0x16, 0xbf]);
        assert!(d.matches(&Sha256Digest::of(b"abc")));
        assert!(!d.matches(&Sha256Digest::of(b"abd")));
    }
}
