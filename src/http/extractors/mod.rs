//! Request extractors: each turns one part of a request into a checked value or a
//! §3 error, so handlers receive only valid input.

mod body;
mod identity_domain;
mod operator;

pub use body::{ValidJson, json_config, path_config, query_config};
pub use identity_domain::IdentityDomain;
pub use operator::Operator;
