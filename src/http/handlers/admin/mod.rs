//! The operator API (SPEC §3.7), under `/admin/v1`, behind the operator token.

pub mod audit;
pub mod clients;
pub mod domains;
pub mod policies;
pub mod revocations;
pub mod tokens;
pub mod users;
