//! One small module per family of endpoints. Handlers extract, call one service
//! function and map its answer; the rules live in `domain/`, `admin/` and `store/`.

pub mod account;
pub mod admin;
pub mod common;
pub mod consents;
pub mod global_revocation;
pub mod introspect;
pub mod metadata;
pub mod ops;
pub mod params;
pub mod revoke;
pub mod status_lists;
pub mod token;
