//! Bulk revocation by watermark (SPEC §3.7): "every token of this user and/or client,
//! of this kind, issued before this instant, is revoked". One row instead of a write
//! per token; `store::liveness` checks it on every read.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::json;

use super::Revoked;
use super::marks::Marking;
use crate::clock::UnixMicros;
use crate::domain::revocation::TokenKind;
use crate::domain::status_list::StatusSlot;
use crate::on_db;
use crate::store::liveness;
use crate::store::schema::{clients, consents, revocation_watermarks, tokens, users};
use crate::store::{Db, StoreError, status_lists};

/// Which tokens a bulk revocation reaches. Users and clients come with their public
/// names, for the audit event.
#[derive(Debug, Clone)]
pub struct Bulk {
    pub user: Option<(i64, String)>,
    pub client: Option<(i64, String)>,
    /// `None`: both kinds.
    pub kind: Option<TokenKind>,
    /// Issued before this instant (at most the revocation's own time).
    pub issued_before: UnixMicros,
    /// Also withdraw the matching consents, and with them every token under them,
    /// whenever it was issued.
    pub with_consents: bool,
}

impl Bulk {
    fn user_ref(&self) -> Option<i64> {
        self.user.as_ref().map(|(id, _)| *id)
    }

    fn client_ref(&self) -> Option<i64> {
        self.client.as_ref().map(|(id, _)| *id)
    }

    fn kinds(&self) -> Vec<TokenKind> {
        match self.kind {
            Some(kind) => vec![kind],
            None => vec![TokenKind::Access, TokenKind::Refresh],
        }
    }

    /// The audit event's part of a bulk revocation.
    pub(super) fn details(&self, revoked: Revoked) -> serde_json::Value {
        json!({
            "username": self.user.as_ref().map(|(_, name)| name),
            "client_id": self.client.as_ref().map(|(_, id)| id),
            "revoke_type": match self.kind {
                None => "TOKENS",
                Some(TokenKind::Access) => "ACCESS_TOKENS",
                Some(TokenKind::Refresh) => "REFRESH_TOKENS",
            },
            "issued_before": crate::clock::rfc3339(self.issued_before),
            "revoke_consents": self.with_consents,
            "revoked_consents": revoked.consents,
        })
    }
}

/// What a bulk revocation ended: the counts, and the slots of the access tokens among
/// them, whose bits it sets.
pub(super) struct Ended {
    pub revoked: Revoked,
    pub slots: Vec<StatusSlot>,
}

/// The live tokens `bulk` reaches, as a filter on `tokens`: of the user and/or client,
/// issued before the watermark, and (with consents) everything under their consents.
macro_rules! reached {
    ($query:expr, $domain_id:expr, $bulk:expr, $now:expr) => {{
        let bulk: &Bulk = $bulk;
        let mut query = $query
            .filter(tokens::domain_id.eq($domain_id))
            .filter(liveness::live($now))
            .into_boxed();
        if let Some(user_ref) = bulk.user_ref() {
            query = query.filter(tokens::user_ref.eq(user_ref));
        }
        if let Some(client_ref) = bulk.client_ref() {
            query = query.filter(tokens::client_ref.eq(client_ref));
        }
        let by_time = tokens::issued_at
            .lt(bulk.issued_before)
            .and(tokens::kind.eq_any(bulk.kinds()));
        if bulk.with_consents {
            query.filter(by_time.or(tokens::consent_ref.is_not_null()))
        } else {
            query.filter(by_time)
        }
    }};
}

/// Writes the watermark (and withdraws the consents); what it reached, counted first,
/// with the status-list slots of the access tokens among them.
pub(super) async fn execute(
    db: &mut Db<'_>,
    domain_id: i64,
    bulk: &Bulk,
    at: UnixMicros,
    marking: &Marking<'_>,
) -> Result<Ended, StoreError> {
    if let Db::Postgres(conn) = db {
        // A grant inserting a token of this user or client holds a key-share lock on
        // their rows (its foreign keys) until it commits: waiting for it here puts its
        // token in the scan below; one that comes after waits for this commit and
        // finds the watermark (`tokens::born_dead`).
        if let Some(client_ref) = bulk.client_ref() {
            let _: Vec<i64> = clients::table
                .filter(clients::domain_id.eq(domain_id))
                .filter(clients::id.eq(client_ref))
                .select(clients::id)
                .for_update()
                .load(&mut **conn)
                .await?;
        }
        if let Some(user_ref) = bulk.user_ref() {
            let _: Vec<i64> = users::table
                .filter(users::domain_id.eq(domain_id))
                .filter(users::id.eq(user_ref))
                .select(users::id)
                .for_update()
                .load(&mut **conn)
                .await?;
        }
    }
    let mut revoked = count_live(db, domain_id, bulk, at).await?;
    // The same reach again, for the access tokens in a list: an index-only count stays
    // cheap for the tokens issued before status lists and for refresh tokens.
    let found: Vec<(Option<i64>, Option<i64>)> = on_db!(db, |conn| reached!(
        tokens::table.select((tokens::status_list, tokens::status_idx)),
        domain_id,
        bulk,
        at
    )
    .filter(tokens::status_list.is_not_null())
    .load(conn)
    .await)?;
    let slots = status_lists::slots(found);
    on_db!(db, |conn| diesel::insert_into(revocation_watermarks::table)
        .values((
            revocation_watermarks::domain_id.eq(domain_id),
            revocation_watermarks::user_ref.eq(bulk.user_ref()),
            revocation_watermarks::client_ref.eq(bulk.client_ref()),
            revocation_watermarks::token_kind.eq(bulk.kind),
            revocation_watermarks::revoked_before.eq(bulk.issued_before),
            revocation_watermarks::reason.eq(marking.reason),
            revocation_watermarks::created_at.eq(at),
        ))
        .execute(conn)
        .await)?;
    if bulk.with_consents {
        revoked.consents = withdraw_consents(db, domain_id, bulk, at, marking).await?;
    }
    Ok(Ended { revoked, slots })
}

/// How many tokens of each kind `bulk` reaches that are live at `now`: one indexed
/// count, by the one liveness rule.
pub async fn count_live(db: &mut Db<'_>, domain_id: i64, bulk: &Bulk, now: UnixMicros) -> Result<Revoked, StoreError> {
    let counts: Vec<(TokenKind, i64)> = on_db!(db, |conn| reached!(
        tokens::table
            .group_by(tokens::kind)
            .select((tokens::kind, diesel::dsl::count_star())),
        domain_id,
        bulk,
        now
    )
    .load(conn)
    .await)?;
    let mut revoked = Revoked::default();
    for (kind, count) in counts {
        let count = usize::try_from(count).unwrap_or_default();
        match kind {
            TokenKind::Access => revoked.access = count,
            TokenKind::Refresh => revoked.refresh = count,
        }
    }
    Ok(revoked)
}

/// Withdraws the active consents of the user and/or client. Their tokens die through
/// the consent (`liveness::consent_withdrawn`), without a write each.
async fn withdraw_consents(
    db: &mut Db<'_>,
    domain_id: i64,
    bulk: &Bulk,
    at: UnixMicros,
    marking: &Marking<'_>,
) -> Result<usize, StoreError> {
    Ok(on_db!(db, |conn| {
        let mut update = diesel::update(consents::table)
            .filter(consents::domain_id.eq(domain_id))
            .filter(consents::revoked_at.is_null())
            .into_boxed();
        if let Some(user_ref) = bulk.user_ref() {
            update = update.filter(consents::user_ref.eq(user_ref));
        }
        if let Some(client_ref) = bulk.client_ref() {
            update = update.filter(consents::client_ref.eq(client_ref));
        }
        update.set(marking.consent_withdrawn(at)).execute(conn).await
    })?)
}
