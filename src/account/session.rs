//! Account-page sessions: a random 256-bit value in an `HttpOnly` cookie, stored only
//! as its SHA-256, expiring after [`SESSION_TTL`] on the server as in the browser. The
//! CSRF token of a session's forms is derived from the session's value, so it needs no
//! storage and no other session's token matches.

use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::clock::{Clock, UnixMicros};
use crate::oauth::consents::TokenOwner;
use crate::security::constant_time_eq;
use crate::store::{Store, StoreError, account_sessions};
use crate::tokens::PlainToken;

/// How long a sign-in lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(30 * 60);

/// A CSRF token: 64 hex digits.
pub const CSRF_TOKEN_LEN: usize = 64;

/// A live session: its user and the cookie's value.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: TokenOwner,
    pub secret: PlainToken,
}

impl Session {
    /// The CSRF token every form of this session carries.
    pub fn csrf_token(&self) -> String {
        csrf_token(&self.secret)
    }
}

/// The CSRF token that goes with a cookie's value (a session's, or the sign-in
/// form's own): SHA-256 of a fixed label and the value, in hex.
pub fn csrf_token(secret: &PlainToken) -> String {
    let digest = Sha256::new()
        .chain_update(b"revokd account page csrf\0")
        .chain_update(secret.expose().as_bytes())
        .finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `presented` is the CSRF token of `secret`, compared in constant time.
pub fn csrf_matches(secret: &PlainToken, presented: &str) -> bool {
    constant_time_eq(csrf_token(secret).as_bytes(), presented.as_bytes())
}

/// Starts a session for the user: the cookie's value and when it expires.
pub async fn start_session(
    store: &Store,
    clock: &Clock,
    domain_id: i64,
    user_ref: i64,
) -> Result<(PlainToken, UnixMicros), StoreError> {
    let secret = PlainToken::generate();
    let hash = secret.digest();
    let now = clock.now();
    let expires_at = now + i64::try_from(SESSION_TTL.as_micros()).unwrap_or(i64::MAX);
    store
        .write(move |mut db| {
            Box::pin(
                async move { account_sessions::insert(&mut db, domain_id, user_ref, &hash, now, expires_at).await },
            )
        })
        .await?;
    Ok((secret, expires_at))
}

/// The live session with this cookie value in the domain, if any.
pub async fn find_session(
    store: &Store,
    clock: &Clock,
    domain_id: i64,
    secret: PlainToken,
) -> Result<Option<Session>, StoreError> {
    let (hash, now) = (secret.digest(), clock.now());
    let found = store
        .read(move |mut db| Box::pin(async move { account_sessions::find_live(&mut db, domain_id, &hash, now).await }))
        .await?;
    Ok(found.map(|user| Session {
        user: TokenOwner {
            domain_id,
            user_ref: user.user_ref,
            username: user.username,
        },
        secret,
    }))
}

/// Ends the session with this cookie value (signing out).
pub async fn end_session(store: &Store, domain_id: i64, secret: &PlainToken) -> Result<(), StoreError> {
    let hash = secret.digest();
    store
        .write(move |mut db| Box::pin(async move { account_sessions::delete(&mut db, domain_id, &hash).await }))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_belong_to_their_session() {
        let (one, other) = (PlainToken::generate(), PlainToken::generate());
        let token = csrf_token(&one);
        assert_eq!(token.len(), CSRF_TOKEN_LEN);
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(csrf_matches(&one, &token));
        assert!(!csrf_matches(&other, &token));
        assert!(!csrf_matches(&one, ""));
        assert!(!csrf_matches(&one, &token[..63]));
    }
}
