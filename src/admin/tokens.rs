//! One token revoked by the operator (the CLI's `revokd revoke token`), through the
//! revocation pipeline like any other: the same plan of levels as a client's
//! revocation, `revoked_by` the operator, a dry run that counts what it would end.

use serde::Serialize;
use utoipa::ToSchema;

use super::{Actor, Admin, AdminError, in_domain_error};
use crate::clock;
use crate::domain::DomainName;
use crate::domain::revocation::{self, Reason, RevokeLevel, TokenLinks};
use crate::domain::status_list::list_uri;
use crate::store::revocations::{self, Reach, Revocation, Revoked, RevokedBy};
use crate::store::{consents, tokens};
use crate::tokens::PlainToken;

/// Everything the store knows of one token (SPEC §3.13), for operators; introspection
/// keeps answering `{"active":false}` for dead tokens.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"active":false,"kind":"access","client_id":"web","username":"alice","issued_at":"2026-12-04T09:30:00Z","expires_at":"2026-12-04T10:30:00Z","revoked_at":"2026-12-04T09:45:12Z","revoked_by":"web","reason":"user logged out","family":41,"consent_id":"3f9a1c0e5b7d4a2f8e6c1b0d9a7f5e3c","idx":4711,"uri":"http://127.0.0.1:8080/domains/acme/status-lists/1"}))]
pub struct TokenLookup {
    pub active: bool,
    /// `access` or `refresh`.
    pub kind: &'static str,
    pub client_id: String,
    pub username: Option<String>,
    /// RFC 3339, UTC.
    pub issued_at: String,
    pub expires_at: String,
    /// When a revocation reached it (itself, its family, its consent or a bulk
    /// revocation's watermark, whichever was first); `null` if none did.
    pub revoked_at: Option<String>,
    /// As stored on the token: the revoking client's id, `operator`, `cli`,
    /// `user:<username>` or `policy`; `null` when it died through its family, consent
    /// or a watermark (the audit event names who).
    pub revoked_by: Option<String>,
    pub reason: Option<String>,
    /// Its family (password and refresh grants).
    pub family: Option<i64>,
    /// The consent it was issued under, as its user sees it.
    pub consent_id: Option<String>,
    /// Its status-list index and list URI (access tokens).
    pub idx: Option<i64>,
    pub uri: Option<String>,
}

impl Admin {
    /// Everything known of `token` in `domain`, its status-list URI under `issuer`;
    /// `NotFound` for a token the domain does not have.
    pub async fn lookup_token(
        &self,
        domain: &DomainName,
        token: PlainToken,
        issuer: &str,
    ) -> Result<TokenLookup, AdminError> {
        let now = self.clock.now();
        let hash = token.digest();
        let found = self
            .read_in(domain, move |mut db, domain_id| {
                Box::pin(async move {
                    let Some(view) = tokens::view_by_hash(&mut db, domain_id, hash.as_bytes()).await? else {
                        return Ok(None);
                    };
                    let death = tokens::death_of(&mut db, &view.token).await?;
                    let consent = match view.token.consent_ref {
                        Some(id) => consents::public_id_of(&mut db, domain_id, id).await?,
                        None => None,
                    };
                    Ok(Some((view, death, consent)))
                })
            })
            .await?;
        let (view, death, consent_id) =
            found.ok_or_else(|| AdminError::NotFound(format!("no such token in identity domain '{domain}'")))?;
        let row = &view.token;
        Ok(TokenLookup {
            active: view.is_live(now),
            kind: row.kind.as_str(),
            client_id: view.client_id.clone(),
            username: view.username.clone(),
            issued_at: clock::rfc3339(row.issued_at),
            expires_at: clock::rfc3339(row.expires_at),
            revoked_at: death.as_ref().map(|d| clock::rfc3339(d.at)),
            revoked_by: death.as_ref().and_then(|d| d.by.clone()),
            reason: death.and_then(|d| d.reason),
            family: row.family_ref,
            consent_id,
            idx: row.status_idx,
            uri: row.status_list.map(|list| list_uri(issuer, list)),
        })
    }

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
                policy: None,
            })
            .await
            .map_err(|e| in_domain_error(e, domain))
    }
}
