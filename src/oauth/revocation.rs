//! Revocation by a client (SPEC §3.1, §3.2): authorize from a read, let the domain's
//! revocation policy have its say (SPEC §3.12), decide with the pure rules of
//! `domain::revocation`, and hand the decision to the revocation pipeline
//! (`store::revocations`), which carries it out durably with its audit event, batched
//! with concurrent revocations. No-ops (unknown or dead tokens) never reach the writer.

use chrono::{DateTime, Utc};

use super::{AuthenticatedClient, OAuthError};
use crate::clock::{Clock, UnixMicros};
use crate::domain::ClientType;
use crate::domain::policy::{Activation, ClientFacts, Limits, RequestFacts, TokenFacts};
use crate::domain::revocation::{self, Reason, RevocationEndpoint, RevokeLevel, Revoker, TokenLinks, TokenTypeParam};
use crate::store::Store;
use crate::store::revocations::{Reach, Revocation, Revoked, RevokedBy};
use crate::store::tokens::TokenView;
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
    /// Only a hint for the look-up; the policy sees it.
    pub token_type: TokenTypeParam,
    pub level: LevelChoice,
    pub reason: Option<Reason>,
    pub endpoint: RevocationEndpoint,
    pub request_id: Option<String>,
}

/// What a policy's denial answers (SPEC §3.12).
pub const DENIED_BY_POLICY: &str = "denied by the domain's revocation policy";

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
    let asked = match request.level {
        LevelChoice::Explicit(level) => level,
        LevelChoice::Rfc7009Default => RevokeLevel::rfc7009_default(row.kind),
    };
    let now = clock.now();
    let decision = store
        .revocation_policy(domain_id)
        .await?
        .map(|policy| policy.evaluate(&activation(client, &view, &request, asked, now), Limits::default()));
    if decision.as_ref().is_some_and(|d| !d.allow) {
        return Err(OAuthError::UnauthorizedClient(DENIED_BY_POLICY.into()));
    }
    let level = decision.as_ref().map_or(asked, |d| d.level(asked));
    let reason = match &decision {
        Some(decision) => decision.reason(request.reason),
        None => request.reason,
    };
    let plan = revocation::plan(
        level,
        TokenLinks {
            token_id: row.id,
            family: row.family_ref,
            consent: row.consent_ref,
        },
    );
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
            reason,
            request_id: request.request_id,
            at: now,
            policy: decision.map(Box::new),
        })
        .await?)
}

/// The policy's variables for this request: the client, the token as stored, what
/// was asked (at the level that applies before the policy), and now.
fn activation(
    client: &AuthenticatedClient,
    view: &TokenView,
    request: &RevocationRequest,
    level: RevokeLevel,
    now: UnixMicros,
) -> Activation {
    let row = &view.token;
    let scopes = crate::domain::stored_scope_list;
    Activation {
        client: ClientFacts {
            client_id: client.client.client_id.clone(),
            client_type: if client.is_confidential() {
                ClientType::Confidential
            } else {
                ClientType::Public
            },
            domain_admin: client.client.domain_admin,
            scopes: scopes(&client.client.scopes),
        },
        token: TokenFacts {
            kind: row.kind,
            client_id: view.client_id.clone(),
            username: view.username.clone(),
            scopes: scopes(&row.scopes),
            issued_at: instant(row.issued_at),
            expires_at: instant(row.expires_at),
            active: view.is_live(now),
        },
        request: RequestFacts {
            revoke_level: level,
            token_type: request.token_type,
            endpoint: request.endpoint,
            reason: request.reason.clone(),
        },
        now: instant(now),
    }
}

fn instant(at: UnixMicros) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at).unwrap_or_default()
}
