//! Token material: per-domain signing keys, JWT access tokens, opaque refresh tokens.
//! Nothing here touches the store or HTTP.

pub mod jwt;
pub mod keys;
pub mod opaque;

pub use jwt::{AccessClaims, StatusClaim, StatusListReference};
pub use keys::{GeneratedKey, SigningKey};
pub use opaque::PlainToken;
