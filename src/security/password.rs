//! User passwords: Argon2id with the crate's defaults (OWASP's m=19 MiB, t=2, p=1).
//! Hashing costs tens of milliseconds of CPU, so callers run it off the async threads.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// A password in the clear, from a request body or the CLI.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// The longest password a sign-in presents (the `password` grant, the account page).
    pub const MAX_SIGN_IN_BYTES: usize = 1024;

    pub fn new(clear: String) -> Self {
        Self(clear)
    }

    pub fn len(&self) -> usize {
        self.0.chars().count()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// An Argon2id hash in PHC string format (`$argon2id$v=19$...`).
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(pub String);

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(..)")
    }
}

pub fn hash_password(password: &Password) -> Result<PasswordHash, String> {
    Argon2::default()
        .hash_password(password.0.as_bytes())
        .map(|hash| PasswordHash(hash.to_string()))
        .map_err(|e| format!("argon2: {e}"))
}

/// True when `password` matches; a malformed stored hash counts as no match.
pub fn verify_password(password: &Password, hash: &PasswordHash) -> bool {
    PasswordVerifier::<str>::verify_password(&Argon2::default(), password.0.as_bytes(), hash.0.as_str()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_argon2id_and_verifies() {
        let pw = Password::new("correct horse".into());
        let hash = hash_password(&pw).unwrap();
        assert!(hash.0.starts_with("$argon2id$"));
        assert!(!hash.0.contains("correct horse"));
        assert!(verify_password(&pw, &hash));
        assert!(!verify_password(&Password::new("wrong".into()), &hash));
        assert!(!verify_password(&pw, &PasswordHash("garbage".into())));
    }
}
