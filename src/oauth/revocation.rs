//! Revocation by a client (SPEC §3.1, §3.2): authorize from a read, decide with the
//! pure rules of `domain::revocation`, and hand the decision to the revocation pipeline
//! (`store::revocations`), which carries it out durably with its audit event, batched
//! with concurrent revocations. No-ops (unknown or dead tokens) never reach the writer.

use super::{AuthenticatedClient, OAuthError};
use crate::clock::Clock;
use crate::domain::revocation::{self, Reason, RevokeLevel, Revoker, TokenLinks};
use crate::store::Store;
use crate::store::revocations::{Reach, Revocation, Revoked, RevokedBy};
use crate::tokens::PlainToken;

/// Which level applies: the one asked for, or RFC 7009's default for the token's kind.
#[derive(Debug, Clone, Copy)]
pub enum LevelChoice {
    Explicit(RevokeLevel),
    Rfc7009Default,
}

/// What a client asked to revoke.
#[derive(Debug)]
pub struct RevocationRequest {
    pub token: PlainToken,
    pub level: LevelChoice,
    pub reason: Option<Reason>,
    pub request_id: Option<String>,
}

/// Revokes the requested token for `client`. `Ok` with nothing revoked covers every
/// RFC 7009 §2.2 no-op: unknown, malformed, expired, already revoked, another domain's
/// token.
pub async fn revoke(
    store: &Store,
    clock: &Clock,
    client: &AuthenticatedClient,
    request: RevocationRequest,
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
    let Some(view) = store.token(domain_id, request.token.digest()).await? else {
        return Ok(Revoked::default());
    };
    let row = &view.token;
    if !revocation::may_revoke(revoker, row.client_ref) {
        return Err(OAuthError::UnauthorizedClient(
            "the token was not issued to this client".into(),
        ));
    }
    let level = match request.level {
        LevelChoice::Explicit(level) => level,
        LevelChoice::Rfc7009Default => RevokeLevel::rfc7009_default(row.kind),
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
    // A dead token alone has nothing left to end; a level still reaches its live kin.
    if !view.is_live(now) && plan.family.is_none() && plan.consent.is_none() {
        return Ok(Revoked::default());
    }
    Ok(store
        .revoke(Revocation {
            domain_id,
            reach: Reach::Token { plan, kind: row.kind },
            by: RevokedBy::client(&client.client.client_id, client.client.domain_admin),
            level: Some(level),
            reason: request.reason,
            request_id: request.request_id,
            at: now,
        })
        .await?)
}
