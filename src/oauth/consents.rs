//! End-user consents (SPEC §3.5): a user, proven by a live access token of theirs,
//! lists the applications they granted access and withdraws a grant. Withdrawal goes
//! through the revocation pipeline: the consent, its families and every token under it
//! in one transaction, with its audit event.

use serde::Serialize;
use utoipa::ToSchema;

use super::OAuthError;
use crate::clock::{self, Clock};
use crate::domain::ConsentPublicId;
use crate::domain::revocation::{Reason, TokenKind};
use crate::store::revocations::Revocation;
use crate::store::{Store, consents};
use crate::tokens::PlainToken;

/// The user behind a bearer access token.
#[derive(Debug, Clone)]
pub struct TokenOwner {
    pub domain_id: i64,
    pub user_ref: i64,
    pub username: String,
}

/// The user a bearer token speaks for: a live access token issued to a user.
/// Anything else (unknown, revoked, expired, a refresh token, a client's own token)
/// is `None`.
pub async fn bearer_owner(
    store: &Store,
    clock: &Clock,
    domain_id: i64,
    token: &PlainToken,
) -> Result<Option<TokenOwner>, OAuthError> {
    let view = store.token(domain_id, token.digest()).await?;
    Ok(view
        .filter(|v| v.token.kind == TokenKind::Access && v.is_live(clock.now()))
        .and_then(|v| {
            Some(TokenOwner {
                domain_id,
                user_ref: v.token.user_ref?,
                username: v.username?,
            })
        }))
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"consent_id":"3f9a1c0e5b7d4a2f8e6c1b0d9a7f5e3c","client_id":"web","scopes":["openid","profile"],"granted_at":"2026-11-24T09:30:00Z"}))]
pub struct ConsentView {
    /// Opaque: 32 hex digits, 128 random bits (SPEC §3.5).
    #[schema(pattern = "^[0-9a-f]{32}$")]
    pub consent_id: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    /// RFC 3339, UTC.
    pub granted_at: String,
}

pub async fn list(store: &Store, owner: &TokenOwner) -> Result<Vec<ConsentView>, OAuthError> {
    let (domain_id, user_ref) = (owner.domain_id, owner.user_ref);
    let rows = store
        .read(move |mut db| Box::pin(async move { consents::active_for_user(&mut db, domain_id, user_ref).await }))
        .await?;
    Ok(rows
        .into_iter()
        .map(|(consent, client_id)| ConsentView {
            consent_id: consent.public_id,
            client_id,
            scopes: crate::domain::stored_scope_list(&consent.scopes),
            granted_at: clock::rfc3339(consent.granted_at),
        })
        .collect())
}

/// Withdraws one of the owner's active consents; `false` when there is no such
/// consent of theirs (another user's, another domain's, or already withdrawn).
pub async fn withdraw(
    store: &Store,
    clock: &Clock,
    owner: &TokenOwner,
    consent_id: &ConsentPublicId,
    reason: Option<Reason>,
    request_id: Option<String>,
) -> Result<bool, OAuthError> {
    let (domain_id, user_ref, public_id) = (owner.domain_id, owner.user_ref, consent_id.clone());
    let found = store
        .read(move |mut db| {
            Box::pin(
                async move { consents::active_by_public_id(&mut db, domain_id, user_ref, public_id.as_str()).await },
            )
        })
        .await?;
    let Some(consent_id) = found else {
        return Ok(false);
    };
    let revocation = Revocation::consent_withdrawal(
        owner.domain_id,
        consent_id,
        owner.user_ref,
        &owner.username,
        reason,
        request_id,
        clock.now(),
    );
    Ok(store.revoke(revocation).await?.consents > 0)
}
