//! Bulk revocation by watermark: "every token of this user and/or client, of this
//! kind, issued before this instant, is revoked". One row instead of a write per token;
//! every liveness check consults it.

use diesel::dsl::{exists, not};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::TokenRow;
use super::schema::{consents, revocation_watermarks, token_families, tokens};
use super::tokens::{ACCESS, REFRESH, Revocation};
use super::{Db, StoreError};
use crate::clock::UnixMicros;
use crate::on_db;

#[derive(Debug, Insertable)]
#[diesel(table_name = revocation_watermarks)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewWatermark<'a> {
    pub domain_id: i64,
    pub user_ref: Option<i64>,
    pub client_ref: Option<i64>,
    pub token_kind: Option<&'a str>,
    pub revoked_before: UnixMicros,
    pub reason: Option<&'a str>,
    pub created_at: UnixMicros,
}

/// Which tokens a bulk revocation reaches.
#[derive(Debug, Clone)]
pub struct BulkFilter {
    pub domain_id: i64,
    pub user_ref: Option<i64>,
    pub client_ref: Option<i64>,
    /// `None`: both kinds.
    pub token_kind: Option<&'static str>,
    pub issued_before: UnixMicros,
    /// Also every token under a matching consent, whenever it was issued.
    pub with_consents: bool,
}

impl BulkFilter {
    fn kinds(&self) -> Vec<&'static str> {
        match self.token_kind {
            Some(kind) => vec![kind],
            None => vec![ACCESS, REFRESH],
        }
    }
}

pub async fn insert(db: &mut Db<'_>, new: &NewWatermark<'_>) -> Result<(), StoreError> {
    on_db!(db, |conn| diesel::insert_into(revocation_watermarks::table)
        .values(new)
        .execute(conn)
        .await)?;
    Ok(())
}

/// The watermarks that revoke the row of `tokens` the enclosing query is on: for
/// `exists(..)` in a look-up or a count, so no token needs a second query.
#[diesel::dsl::auto_type(no_type_alias)]
pub fn covering_current_token() -> _ {
    revocation_watermarks::table
        .filter(revocation_watermarks::domain_id.eq(tokens::domain_id))
        .filter(
            revocation_watermarks::user_ref
                .is_null()
                .or(revocation_watermarks::user_ref.eq(tokens::user_ref)),
        )
        .filter(
            revocation_watermarks::client_ref
                .is_null()
                .or(revocation_watermarks::client_ref.eq(tokens::client_ref.nullable())),
        )
        .filter(
            revocation_watermarks::token_kind
                .is_null()
                .or(revocation_watermarks::token_kind.eq(tokens::kind.nullable())),
        )
        .filter(revocation_watermarks::revoked_before.gt(tokens::issued_at))
        .select(revocation_watermarks::id)
}

/// Whether a watermark revokes the token with this id.
pub async fn covers(db: &mut Db<'_>, token: &TokenRow) -> Result<bool, StoreError> {
    Ok(on_db!(db, |conn| diesel::select(exists(
        tokens::table
            .filter(tokens::domain_id.eq(token.domain_id))
            .filter(tokens::id.eq(token.id))
            .filter(exists(covering_current_token()))
    ))
    .get_result(conn)
    .await)?)
}

/// How many tokens `filter` reaches that are live now: one indexed count, exact by
/// the same rules as a look-up (revoked, rotated, expired, family, consent, and the
/// watermarks already there).
pub async fn count_live(db: &mut Db<'_>, filter: &BulkFilter, now: UnixMicros) -> Result<i64, StoreError> {
    let kinds = filter.kinds();
    Ok(on_db!(db, |conn| {
        let mut query = tokens::table
            .left_join(
                token_families::table.on(token_families::domain_id
                    .eq(tokens::domain_id)
                    .and(token_families::id.nullable().eq(tokens::family_ref))),
            )
            .left_join(
                consents::table.on(consents::domain_id
                    .eq(tokens::domain_id)
                    .and(consents::id.nullable().eq(tokens::consent_ref))),
            )
            .filter(tokens::domain_id.eq(filter.domain_id))
            .filter(tokens::revoked_at.is_null())
            .filter(tokens::rotated_at.is_null())
            .filter(tokens::expires_at.gt(now))
            .filter(token_families::revoked_at.is_null())
            .filter(consents::revoked_at.is_null())
            .filter(not(exists(covering_current_token())))
            .into_boxed();
        if let Some(user_ref) = filter.user_ref {
            query = query.filter(tokens::user_ref.eq(user_ref));
        }
        if let Some(client_ref) = filter.client_ref {
            query = query.filter(tokens::client_ref.eq(client_ref));
        }
        let by_time = tokens::issued_at
            .lt(filter.issued_before)
            .and(tokens::kind.eq_any(kinds));
        query = if filter.with_consents {
            query.filter(by_time.or(tokens::consent_ref.is_not_null()))
        } else {
            query.filter(by_time)
        };
        query.count().get_result(conn).await
    })?)
}

/// Withdraws the active consents of the user and/or client. Their tokens die through
/// the consent, without a write each.
pub async fn revoke_consents(
    db: &mut Db<'_>,
    domain_id: i64,
    user_ref: Option<i64>,
    client_ref: Option<i64>,
    how: &Revocation<'_>,
) -> Result<usize, StoreError> {
    Ok(on_db!(db, |conn| {
        let mut update = diesel::update(consents::table)
            .filter(consents::domain_id.eq(domain_id))
            .filter(consents::revoked_at.is_null())
            .into_boxed();
        if let Some(user_ref) = user_ref {
            update = update.filter(consents::user_ref.eq(user_ref));
        }
        if let Some(client_ref) = client_ref {
            update = update.filter(consents::client_ref.eq(client_ref));
        }
        update
            .set((consents::revoked_at.eq(how.at), consents::revoked_reason.eq(how.reason)))
            .execute(conn)
            .await
    })?)
}
