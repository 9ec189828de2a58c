//! What wraps every request.

mod https;
mod observe;
mod request_id;

pub use https::require_https;
pub use observe::observe;
pub use request_id::RequestId;
