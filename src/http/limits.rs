//! The sizes revokd accepts in a request (SPEC §5), one home for the extractors and the
//! handlers that enforce them.

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// The longest token accepted in a request (a form parameter or a bearer token).
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Longest wait for a request's headers or for the rest of its body: a request that has
/// not arrived by then is answered `408` and its connection closed, so slow clients
/// cannot hold connections open.
pub const REQUEST_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// How long an idle keep-alive connection stays open.
pub const KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(5);
