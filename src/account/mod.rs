//! The end-user account page's work (SPEC §3.9), without HTTP: sign-in sessions kept
//! in the store, the applications a user granted access with their live tokens, the
//! user's recent revocations in words, and "sign out everywhere". Withdrawing one
//! application's access is `oauth::consents::withdraw`, the very call of
//! `DELETE /oauth2/rest/consents/{id}`.

mod activity;
mod applications;
mod session;

pub use activity::{Activity, By, recent_activity};
pub use applications::{Application, applications};
pub use session::{
    CSRF_TOKEN_LEN, SESSION_TTL, Session, csrf_matches, csrf_token, end_session, find_session, start_session,
};

use crate::clock::Clock;
use crate::oauth::consents::TokenOwner;
use crate::store::revocations::{self, Revocation};
use crate::store::{Store, StoreError, account_sessions};

/// Every token the user holds in the domain dies (reason `user_signed_out_everywhere`,
/// through the revocation pipeline), and every account-page session of theirs ends,
/// in one transaction. Answers how many tokens it ended.
pub async fn sign_out_everywhere(
    store: &Store,
    clock: &Clock,
    user: &TokenOwner,
    request_id: Option<String>,
) -> Result<usize, StoreError> {
    let revocation =
        Revocation::signed_out_everywhere(user.domain_id, user.user_ref, &user.username, request_id, clock.now());
    let (domain_id, user_ref) = (user.domain_id, user.user_ref);
    let ended = store
        .write(move |mut db| {
            Box::pin(async move {
                let ended = revocations::execute(&mut db, std::slice::from_ref(&revocation)).await?;
                account_sessions::delete_all_of_user(&mut db, domain_id, user_ref).await?;
                Ok(ended.iter().map(|r| r.total()).sum::<usize>())
            })
        })
        .await?;
    crate::store::metrics::revocation(None, Some(ended > 0));
    Ok(ended)
}
