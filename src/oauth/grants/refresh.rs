//! The `refresh_token` grant (RFC 6749 §6) with rotation: each refresh replaces the
//! presented refresh token with a new pair in the same family. A rotated refresh token
//! presented again is reuse (RFC 9700 §4.14.2): its family dies through the revocation
//! pipeline, and the caller gets `invalid_grant`, unless it is the retry of an answer
//! that was lost (the grace window of SPEC §3.3, see [`retry_within_grace`]).

use super::{AccessSubject, IssuedTokens, Lineage, PairTtls, TokenService, mint_access, require_grant};
use crate::clock::{MICROS_PER_SEC, UnixMicros};
use crate::domain::revocation::{RevokeLevel, TokenKind};
use crate::domain::{GrantType, Scopes};
use crate::oauth::{AuthenticatedClient, OAuthError};
use crate::store::liveness::Facts;
use crate::store::models::TokenRow;
use crate::store::revocations::{self, Revocation};
use crate::store::status_lists::{self, DomainSlot};
use crate::store::{Db, StoreError, tokens};
use crate::tokens::PlainToken;

/// How a refresh ended, decided inside its transaction.
enum Refresh {
    Issued {
        jwt: String,
        scopes: Scopes,
    },
    Refused(&'static str),
    /// A rotated refresh token came back; `ended`: its family still had live tokens.
    Reused {
        ended: bool,
    },
    BadScope(String),
}

impl TokenService {
    pub(super) async fn refresh(
        &self,
        client: &AuthenticatedClient,
        issuer: &str,
        presented: PlainToken,
        scope: Option<Scopes>,
        request_id: Option<String>,
    ) -> Result<IssuedTokens, OAuthError> {
        require_grant(client, GrantType::RefreshToken)?;
        let key = self.keys.signing_key(&self.store, client.domain.id).await?;
        let (domain_id, client_ref) = (client.domain.id, client.client.id);
        // Before the write: reserving a range is a write of its own.
        let status = self.status_slot(domain_id, issuer).await?;
        let now = self.clock.now();
        let ttls = PairTtls {
            access: client.domain.access_token_ttl_secs,
            refresh: client.domain.refresh_token_ttl_secs,
        };
        let presented_hash = presented.digest();
        let new_refresh = PlainToken::generate();
        let new_refresh_hash = new_refresh.digest();
        let issuer = issuer.to_owned();
        let client = client.clone();
        // Only a client that proved who it is may retry; a public client's copy could be anyone's.
        let grace = if client.is_confidential() {
            client.domain.refresh_token_grace_secs.max(0) * MICROS_PER_SEC
        } else {
            0
        };

        let outcome = self
            .store
            .write(move |mut db| {
                Box::pin(async move {
                    let Some(view) = tokens::view_by_hash(&mut db, domain_id, presented_hash.as_bytes()).await? else {
                        return Ok(Refresh::Refused("the refresh token is not valid"));
                    };
                    let token = &view.token;
                    // A refresh token is bound to its client (RFC 6749 §6).
                    if token.kind != TokenKind::Refresh || token.client_ref != client_ref {
                        return Ok(Refresh::Refused("the refresh token is not valid"));
                    }
                    // A retry goes on as a refresh of the presented token, rotated already.
                    // A concurrent refresh may have rotated it at a later `now` than this
                    // one's: that is no time ago, not a negative time.
                    let retry = grace > 0
                        && token
                            .rotated_at
                            .is_some_and(|rotated_at| (now - rotated_at).max(0) < grace);
                    if token.rotated_at.is_some() && !retry {
                        return reuse(&mut db, token, now, request_id, Vec::new()).await;
                    }
                    let facts = Facts {
                        rotated_at: None,
                        ..view.facts()
                    };
                    if !facts.is_live(now) {
                        return Ok(Refresh::Refused(why_dead(&facts, now)));
                    }
                    // The bits of a retry's unseen pair, set last (`insert_pair`).
                    let mut pending = Vec::new();
                    if retry {
                        let (is_retry, bits) = retry_within_grace(&mut db, token, now, &request_id).await?;
                        pending = bits;
                        if !is_retry {
                            return reuse(&mut db, token, now, request_id, pending).await;
                        }
                    }
                    let (Some(user_ref), Some(family_ref), Some(consent_ref), Some(username)) = (
                        token.user_ref,
                        token.family_ref,
                        token.consent_ref,
                        view.username.as_deref(),
                    ) else {
                        return Ok(Refresh::Refused("the refresh token is not valid"));
                    };
                    let original = Scopes::parse_space_separated(&token.scopes)
                        .map_err(|e| StoreError::Internal(format!("stored scopes: {e}")))?;
                    let scopes = match Scopes::granted(scope.as_ref(), &original) {
                        Ok(scopes) => scopes,
                        Err(refused) => return Ok(Refresh::BadScope(refused.to_string())),
                    };
                    // The conditional update is what decides a race of two refreshes. The
                    // loser may be this client's own retry, sent while the first was still
                    // being carried out; the grace window tells.
                    if !retry && !tokens::mark_rotated(&mut db, domain_id, token.id, now).await? {
                        let (is_retry, bits) = match grace {
                            0 => (false, Vec::new()),
                            _ => retry_within_grace(&mut db, token, now, &request_id).await?,
                        };
                        pending = bits;
                        if !is_retry {
                            return reuse(&mut db, token, now, request_id, pending).await;
                        }
                    }
                    let to = AccessSubject {
                        issuer: &issuer,
                        subject: username,
                        client: &client,
                        status,
                    };
                    let access = mint_access(&key, to, &scopes, now, ttls.access)
                        .map_err(|e| StoreError::Internal(e.to_string()))?;
                    let lineage = Lineage {
                        domain_id,
                        client_ref,
                        user_ref,
                        consent_ref,
                        family_ref,
                        parent_ref: Some(token.id),
                    };
                    let scope_text = scopes.to_space_separated();
                    lineage
                        .insert_pair(
                            &mut db,
                            (&access.stored(), &new_refresh_hash),
                            &scope_text,
                            now,
                            ttls,
                            pending,
                        )
                        .await?;
                    Ok(Refresh::Issued {
                        jwt: access.jwt,
                        scopes,
                    })
                })
            })
            .await?;
        match outcome {
            Refresh::Issued { jwt, scopes } => Ok(IssuedTokens {
                access_token: jwt,
                expires_in: ttls.access,
                refresh_token: Some(new_refresh),
                scope: scopes,
            }),
            Refresh::Refused(why) => Err(OAuthError::InvalidGrant(why.into())),
            Refresh::Reused { ended } => {
                crate::store::metrics::revocation(Some(RevokeLevel::RelatedTokens), Some(ended));
                Err(OAuthError::InvalidGrant(
                    "the refresh token was already used; every token of its grant is now revoked".into(),
                ))
            }
            Refresh::BadScope(scope) => Err(OAuthError::InvalidScope(format!(
                "scope {scope} was not granted to this refresh token"
            ))),
        }
    }
}

/// Why a refresh token that is not live cannot be used, in the client's words.
fn why_dead(facts: &Facts, now: UnixMicros) -> &'static str {
    if facts.consent_withdrawn {
        "the consent behind this refresh token was withdrawn"
    } else if facts.expires_at <= now {
        "the refresh token has expired"
    } else {
        "the refresh token is revoked"
    }
}

/// Whether the rotated `token`, presented again within the grace window by its own
/// confidential client, is the retry of an answer that was lost: the refresh token its
/// rotation minted (or the last retry minted) is live and unused. If so, that unseen
/// pair is revoked through the pipeline, and the caller issues a new one (and sets the
/// status-list bits of what it ended, last). If it was used, revoked, or another
/// request took it meanwhile, it is not a retry: reuse.
async fn retry_within_grace(
    db: &mut Db<'_>,
    token: &TokenRow,
    now: UnixMicros,
    request_id: &Option<String>,
) -> Result<(bool, Vec<DomainSlot>), StoreError> {
    let children = tokens::children_of(db, token.domain_id, token.id).await?;
    let refreshes = || children.iter().filter(|c| c.kind == TokenKind::Refresh);
    let used = refreshes().any(|c| c.rotated_at.is_some());
    let unseen = refreshes().any(|c| c.rotated_at.is_none() && c.revoked_at.is_none() && c.expires_at > now);
    if used || !unseen {
        return Ok((false, Vec::new()));
    }
    let pair: Vec<Revocation> = children
        .iter()
        .filter(|c| c.revoked_at.is_none() && c.expires_at > now)
        .map(|c| Revocation::unseen(token.domain_id, c.id, c.kind, request_id.clone(), now))
        .collect();
    let (ended, bits) = revocations::execute_leaving_bits(db, &pair).await?;
    // Exactly the unseen refresh token ended here; none means another request used it.
    Ok((ended.iter().map(|r| r.refresh).sum::<usize>() == 1, bits))
}

/// A rotated refresh token came back: someone holds a copy. Its whole family dies
/// through the revocation pipeline, in this transaction; the caller gets
/// `invalid_grant`. `pending`: status-list bits this transaction left to set.
async fn reuse(
    db: &mut Db<'_>,
    token: &TokenRow,
    now: UnixMicros,
    request_id: Option<String>,
    mut pending: Vec<DomainSlot>,
) -> Result<Refresh, StoreError> {
    let mut ended = false;
    if let Some(family) = token.family_ref {
        let reuse = Revocation::reuse(token.domain_id, family, request_id, now);
        let (revoked, bits) = revocations::execute_leaving_bits(db, &[reuse]).await?;
        ended = revoked.iter().any(|r| r.ended_anything());
        pending.extend(bits);
    }
    status_lists::set_bits(db, &pending).await?;
    Ok(Refresh::Reused { ended })
}
