//! Global Token Revocation (draft-parecki-oauth-global-token-revocation, SPEC §3.13):
//! an incident tool with a `domain_admin` client's access token (scope
//! `global_token_revocation`) revokes every token of one user of the domain and
//! withdraws their consents, through the revocation pipeline. An unknown user is not
//! an error, so the endpoint cannot be used to probe for users.

use super::OAuthError;
use crate::clock::Clock;
use crate::domain::DomainName;
use crate::domain::revocation::{FixedReason, Reason, TokenKind};
use crate::store::revocations::{Bulk, Reach, Revocation, RevokedBy};
use crate::store::{Store, domains, users};
use crate::tokens::PlainToken;

/// The scope a bearer token needs.
pub const SCOPE: &str = "global_token_revocation";

/// Whom to revoke, as the draft's `sub_id` (RFC 9493 subject identifiers) names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// `iss_sub`: the issuer must be the domain's.
    IssSub { iss: String, sub: String },
    /// `opaque`: the username.
    Opaque { id: String },
}

/// Why a caller may not do it.
#[derive(Debug)]
pub enum Refused {
    /// Missing, unknown, revoked or expired (or the domain is unknown): `401`.
    InvalidToken,
    /// A valid token without the scope, or of a client that is not `domain_admin`: `403`.
    InsufficientScope,
    Failed(OAuthError),
}

impl From<crate::store::StoreError> for Refused {
    fn from(error: crate::store::StoreError) -> Self {
        Self::Failed(error.into())
    }
}

/// Revokes every token of the user `subject` names in `domain` (`issuer` is the
/// domain's), if `bearer` may; `Ok` also when there is no such user.
pub async fn revoke_all(
    store: &Store,
    clock: &Clock,
    domain: &DomainName,
    issuer: &str,
    bearer: &PlainToken,
    subject: Subject,
    request_id: Option<String>,
) -> Result<(), Refused> {
    let name = domain.clone();
    let domain_id = store
        .read(move |mut db| Box::pin(async move { domains::find_by_name(&mut db, name.as_str()).await }))
        .await?
        .map(|row| row.id)
        .ok_or(Refused::InvalidToken)?;
    let now = clock.now();
    let view = store
        .token(domain_id, bearer.digest())
        .await?
        .filter(|v| v.token.kind == TokenKind::Access && v.is_live(now))
        .ok_or(Refused::InvalidToken)?;
    let client = store
        .client_in_domain(domain.as_str(), &view.client_id)
        .await?
        .ok_or(Refused::InvalidToken)?;
    let has_scope = view.token.scopes.split(' ').any(|s| s == SCOPE);
    if !client.1.domain_admin || !has_scope {
        return Err(Refused::InsufficientScope);
    }
    let username = match subject {
        Subject::IssSub { iss, sub } if iss == issuer => sub,
        // Another issuer's subject is no user of this domain.
        Subject::IssSub { .. } => return Ok(()),
        Subject::Opaque { id } => id,
    };
    let user = store
        .read(move |mut db| Box::pin(async move { users::find(&mut db, domain_id, &username).await }))
        .await?;
    let Some(user) = user else { return Ok(()) };
    store
        .revoke(Revocation {
            domain_id,
            reach: Reach::Watermark(Bulk {
                user: Some((user.id, user.username)),
                client: None,
                kind: None,
                issued_before: now,
                with_consents: true,
            }),
            by: RevokedBy::client(&view.client_id, true),
            level: None,
            reason: Some(Reason::fixed(FixedReason::GlobalTokenRevocation)),
            request_id,
            at: now,
            policy: None,
        })
        .await?;
    Ok(())
}
