//! One token revoked by the operator (the CLI's `revokd revoke token`), through the
//! revocation pipeline like any other: the same plan of levels as a client's
//! revocation, `revoked_by` the operator, a dry run that counts what it would end.

use super::{Actor, Admin, AdminError, in_domain_error};
use crate::domain::DomainName;
use crate::domain::revocation::{self, Reason, RevokeLevel, TokenLinks};
use crate::store::revocations::{self, Reach, Revocation, Revoked, RevokedBy};
use crate::store::tokens;
use crate::tokens::PlainToken;

impl Admin {
    /// Revokes `token` of `domain` at `level` (`None`: RFC 7009's default for its kind);
    /// answers what it ended, or with `dry_run` what it would end. An unknown token (or
    /// another domain's) ends nothing.
    pub async fn revoke_token(
        &self,
        domain: &DomainName,
        token: PlainToken,
        level: Option<RevokeLevel>,
        reason: Option<Reason>,
        dry_run: bool,
        actor: Actor,
    ) -> Result<Revoked, AdminError> {
        let now = self.clock.now();
        let hash = token.digest();
        let planned = self
            .read_in(domain, move |mut db, domain_id| {
                Box::pin(async move {
                    let Some(view) = tokens::view_by_hash(&mut db, domain_id, hash.as_bytes()).await? else {
                        return Ok(None);
                    };
                    let row = &view.token;
                    let level = level.unwrap_or_else(|| RevokeLevel::rfc7009_default(row.kind));
                    let links = TokenLinks {
                        token_id: row.id,
                        family: row.family_ref,
                        consent: row.consent_ref,
                    };
                    let plan = revocation::plan(level, links);
                    let would_end = revocations::count_live_in_plan(&mut db, domain_id, &plan, now).await?;
                    Ok(Some((domain_id, plan, row.kind, level, would_end)))
                })
            })
            .await?;
        let Some((domain_id, plan, kind, level, would_end)) = planned else {
            return Ok(Revoked::default());
        };
        if dry_run || !would_end.ended_anything() {
            return Ok(would_end);
        }
        self.store
            .revoke(Revocation {
                domain_id,
                reach: Reach::Token { plan, kind },
                by: RevokedBy::operator(actor.name),
                level: Some(level),
                reason,
                request_id: actor.request_id,
                at: now,
            })
            .await
            .map_err(|e| in_domain_error(e, domain))
    }
}
