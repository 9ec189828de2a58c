//! The sizes revokd accepts in a request (SPEC §5), one home for the extractors and the
//! handlers that enforce them.

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// The longest token accepted in a request (a form parameter or a bearer token).
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
