//! The HTTP face of revokd: routes, extractors, handlers, the error type and the
//! middleware around them.

pub mod endpoint;
pub mod error;
pub mod extractors;
pub mod handlers;
pub mod limits;
pub mod metrics;
pub mod middleware;
pub mod origin;
pub mod routes;
pub mod sign_in;
pub mod state;
