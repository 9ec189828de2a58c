//! Bulk revocation (SPEC §3.7 `revocations`): a user's, a client's or a user-at-client's
//! tokens, with one watermark row.

use serde_json::json;

use super::{Actor, Admin, AdminError, domain_operation, record};
use crate::clock::{self, UnixMicros};
use crate::domain::revocation::TokenKind;
use crate::domain::{ClientId, DomainName, Username};
use crate::store::tokens::Revocation;
use crate::store::watermarks::{self, BulkFilter, NewWatermark};
use crate::store::{clients, users};

impl Admin {
    /// Revokes every live token of a user, a client, or a user at a client (SPEC §3.7
    /// `revocations`) with one watermark row, whatever the number of tokens; answers
    /// how many live tokens that reached. A dry run counts and changes nothing.
    pub async fn bulk_revoke(&self, domain: &DomainName, spec: BulkSpec, actor: Actor) -> Result<i64, AdminError> {
        if spec.username.is_none() && spec.client_id.is_none() {
            return Err(AdminError::Invalid("name a username, a client_id, or both".into()));
        }
        let now = self.clock.now();
        let dry_run = spec.dry_run;
        let op = domain_operation(move |mut db, domain_id| {
            Box::pin(async move {
                let user_ref = match &spec.username {
                    Some(name) => match users::find(&mut db, domain_id, name.as_str()).await? {
                        Some(user) => Some(user.id),
                        None => return Ok(Bulk::Unknown(format!("no user '{name}' in this identity domain"))),
                    },
                    None => None,
                };
                let client_ref = match &spec.client_id {
                    Some(id) => match clients::find(&mut db, domain_id, id.as_str()).await? {
                        Some(client) => Some(client.id),
                        None => return Ok(Bulk::Unknown(format!("no client '{id}' in this identity domain"))),
                    },
                    None => None,
                };
                let filter = BulkFilter {
                    domain_id,
                    user_ref,
                    client_ref,
                    token_kind: spec.kind.map(TokenKind::as_str),
                    // A future instant would also kill tokens issued later: cap it at now.
                    issued_before: spec.issued_before.map_or(now, |t| t.min(now)),
                    with_consents: spec.revoke_consents,
                };
                let count = watermarks::count_live(&mut db, &filter, now).await?;
                if spec.dry_run {
                    return Ok(Bulk::Counted(count));
                }
                watermarks::insert(
                    &mut db,
                    &NewWatermark {
                        domain_id,
                        user_ref,
                        client_ref,
                        token_kind: filter.token_kind,
                        revoked_before: filter.issued_before,
                        reason: spec.reason.as_deref(),
                        created_at: now,
                    },
                )
                .await?;
                let consents = if spec.revoke_consents {
                    let how = Revocation {
                        at: now,
                        by: actor.name,
                        reason: spec.reason.as_deref().unwrap_or("bulk revocation"),
                    };
                    watermarks::revoke_consents(&mut db, domain_id, user_ref, client_ref, &how).await?
                } else {
                    0
                };
                let details = json!({
                    "username": spec.username,
                    "client_id": spec.client_id,
                    "revoke_type": spec.kind.map_or("TOKENS", |k| match k {
                        TokenKind::Access => "ACCESS_TOKENS",
                        TokenKind::Refresh => "REFRESH_TOKENS",
                    }),
                    "issued_before": clock::rfc3339(filter.issued_before),
                    "revoke_consents": spec.revoke_consents,
                    "revoked_consents": consents,
                    "reason": spec.reason,
                    "count": count,
                });
                record(&mut db, domain_id, now, "tokens.bulk_revoked", &actor, details).await?;
                Ok(Bulk::Counted(count))
            })
        });
        let outcome = if dry_run {
            self.read_in(domain, op).await?
        } else {
            self.write_in(domain, op).await?
        };
        match outcome {
            Bulk::Counted(count) => Ok(count),
            Bulk::Unknown(what) => Err(AdminError::NotFound(what)),
        }
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
    pub reason: Option<String>,
    pub dry_run: bool,
}

enum Bulk {
    Counted(i64),
    Unknown(String),
}
