//! The OAuth side of revokd: who a client is, and the tokens it gets.
//! HTTP-free: handlers translate requests into these calls and errors back into §3.

pub mod client_auth;
pub mod consents;
mod error;
pub mod global_revocation;
pub mod grants;
pub mod introspection;
pub mod keyring;
pub mod revocation;

pub use client_auth::{AuthenticatedClient, Credentials};
pub use error::OAuthError;
pub use grants::{Grant, IssuedTokens, TokenResponse, TokenService};
pub use keyring::KeyRing;
