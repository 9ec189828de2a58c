//! Token Status Lists (SPEC §3.10): the slots issuance hands out ([`Allocator`]) and
//! the signed lists resource servers fetch ([`Publisher`]). The bits themselves are
//! set by the revocation pipeline, in the store (`store::status_lists`).

mod allocator;
mod publisher;

pub use allocator::Allocator;
pub use publisher::{Published, Publisher};
