//! Secrets and how they are kept: generation, SHA-256 digests compared in constant
//! time, Argon2id for user passwords, and newtypes whose `Debug` never shows a secret.

mod admin_token;
mod digest;
mod failure_limit;
mod password;
mod secret;

pub use admin_token::AdminToken;
pub use digest::{Sha256Digest, constant_time_eq};
pub use failure_limit::{FailureKey, FailureLimit, retry_after_secs};
pub use password::{Password, PasswordHash, hash_password, verify_password};
pub use secret::{ClientSecret, random_secret};
