//! Bulk revocation (SPEC §3.7 `revocations`): a user's, a client's or a user-at-client's
//! tokens, with one watermark row, through the revocation pipeline.

use super::{Actor, Admin, AdminError, in_domain_error};
use crate::clock::UnixMicros;
use crate::domain::revocation::{Reason, TokenKind};
use crate::domain::{ClientId, DomainName, Username};
use crate::store::revocations::{self, Bulk, Reach, Revocation, RevokedBy};
use crate::store::{clients, users};

impl Admin {
    /// Revokes every live token of a user, a client, or a user at a client (SPEC §3.7
    /// `revocations`) with one watermark row, whatever the number of tokens, through
    /// the revocation pipeline; answers how many live tokens that reached. A dry run
    /// counts and changes nothing.
    pub async fn bulk_revoke(&self, domain: &DomainName, spec: BulkSpec, actor: Actor) -> Result<i64, AdminError> {
        if spec.username.is_none() && spec.client_id.is_none() {
            return Err(AdminError::Invalid("name a username, a client_id, or both".into()));
        }
        let now = self.clock.now();
        let wanted = spec.clone();
        let resolved = self
            .read_in(domain, move |mut db, domain_id| {
                Box::pin(async move {
                    let user = match &wanted.username {
                        Some(name) => match users::find(&mut db, domain_id, name.as_str()).await? {
                            Some(user) => Some((user.id, user.username)),
                            None => return Ok(Err(format!("no user '{name}' in this identity domain"))),
                        },
                        None => None,
                    };
                    let client = match &wanted.client_id {
                        Some(id) => match clients::find(&mut db, domain_id, id.as_str()).await? {
                            Some(client) => Some((client.id, client.client_id)),
                            None => return Ok(Err(format!("no client '{id}' in this identity domain"))),
                        },
                        None => None,
                    };
                    let bulk = Bulk {
                        user,
                        client,
                        kind: wanted.kind,
                        // A future instant would also kill tokens issued later: cap it at now.
                        issued_before: wanted.issued_before.map_or(now, |t| t.min(now)),
                        with_consents: wanted.revoke_consents,
                    };
                    let counted = if wanted.dry_run {
                        Some(revocations::count_live(&mut db, domain_id, &bulk, now).await?)
                    } else {
                        None
                    };
                    Ok(Ok((domain_id, bulk, counted)))
                })
            })
            .await?;
        let (domain_id, bulk, counted) = resolved.map_err(AdminError::NotFound)?;
        if let Some(counted) = counted {
            return Ok(counted.total() as i64);
        }
        let revoked = self
            .store
            .revoke(Revocation {
                domain_id,
                reach: Reach::Watermark(bulk),
                by: RevokedBy::operator(actor.name),
                level: None,
                reason: spec.reason,
                request_id: actor.request_id,
                at: now,
                policy: None,
            })
            .await
            .map_err(|e| in_domain_error(e, domain))?;
        Ok(revoked.total() as i64)
    }
}

/// What a bulk revocation asks for.
#[derive(Debug, Clone)]
pub struct BulkSpec {
    pub username: Option<Username>,
    pub client_id: Option<ClientId>,
    /// `None`: both kinds.
    pub kind: Option<TokenKind>,
    pub issued_before: Option<UnixMicros>,
    pub revoke_consents: bool,
    pub reason: Option<Reason>,
    pub dry_run: bool,
}
