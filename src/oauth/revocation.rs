//! Revocation (SPEC §3.1, §3.2): authorize from a read, decide with the pure rules of
//! `domain::revocation`, and carry the plan out in one transaction that also writes
//! the audit event (batched with concurrent revocations, `store::revocations`).
//! No-ops (unknown or dead tokens) never reach the writer.

use super::{AuthenticatedClient, OAuthError};
use crate::clock::Clock;
use crate::domain::revocation::{self, RevokeLevel, Revoker, TokenKind, TokenLinks};
use crate::store::Store;
use crate::store::revocations::RevocationWrite;
use crate::store::tokens::Revoked;
use crate::tokens::PlainToken;

/// Which level applies: the one asked for, or RFC 7009's default for the token's kind.
#[derive(Debug, Clone, Copy)]
pub enum LevelChoice {
    Explicit(RevokeLevel),
    Rfc7009Default,
}

/// Revokes `token` for `client`. `Ok` with nothing revoked covers every RFC 7009 §2.2
/// no-op: unknown, malformed, expired, already revoked, another domain's token.
pub async fn revoke(
    store: &Store,
    clock: &Clock,
    client: &AuthenticatedClient,
    token: &PlainToken,
    choice: LevelChoice,
    request_id: Option<String>,
) -> Result<Revoked, OAuthError> {
    let revoker = Revoker {
        client_ref: client.client.id,
        is_public: !client.is_confidential(),
        domain_admin: client.client.domain_admin,
    };
    if !revocation::may_revoke_at_all(revoker, client.domain.public_clients_can_revoke) {
        return Err(OAuthError::UnauthorizedClient(
            "public clients of this identity domain may not revoke tokens".into(),
        ));
    }
    let domain_id = client.domain.id;
    let Some(view) = store.token(domain_id, token.digest()).await? else {
        return Ok(Revoked::default());
    };
    let row = view.token;
    if !revocation::may_revoke(revoker, row.client_ref) {
        return Err(OAuthError::UnauthorizedClient(
            "the token was not issued to this client".into(),
        ));
    }
    let kind =
        TokenKind::parse(&row.kind).ok_or_else(|| OAuthError::Internal(format!("stored token kind {:?}", row.kind)))?;
    let level = match choice {
        LevelChoice::Explicit(level) => level,
        LevelChoice::Rfc7009Default => RevokeLevel::rfc7009_default(kind),
    };
    let plan = revocation::plan(
        level,
        TokenLinks {
            token_id: row.id,
            family: row.family_ref,
            consent: row.consent_ref,
        },
    );
    let now = clock.now();
    let already_dead = row.revoked_at.is_some() || row.expires_at <= now;
    if already_dead && plan.family.is_none() && plan.consent.is_none() {
        return Ok(Revoked::default());
    }
    Ok(store
        .revoke(RevocationWrite {
            domain_id,
            plan,
            actor: client.client.client_id.clone(),
            level,
            token_kind: kind,
            request_id,
            at: now,
        })
        .await?)
}
