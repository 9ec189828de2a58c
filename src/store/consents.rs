//! Consents: one active grant per (domain, user, client).

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{ConsentRow, NewConsent};
use super::schema::{clients, consents};
use super::{Db, StoreError};
use crate::on_db;

pub async fn find_active(
    db: &mut Db<'_>,
    domain_id: i64,
    user_ref: i64,
    client_ref: i64,
) -> Result<Option<ConsentRow>, StoreError> {
    Ok(on_db!(db, |conn| consents::table
        .filter(consents::domain_id.eq(domain_id))
        .filter(consents::user_ref.eq(user_ref))
        .filter(consents::client_ref.eq(client_ref))
        .filter(consents::revoked_at.is_null())
        .select(ConsentRow::as_select())
        .get_result(conn)
        .await
        .optional())?)
}

/// The id of the user's active consent that they know as `public_id`.
pub async fn active_by_public_id(
    db: &mut Db<'_>,
    domain_id: i64,
    user_ref: i64,
    public_id: &str,
) -> Result<Option<i64>, StoreError> {
    Ok(on_db!(db, |conn| consents::table
        .filter(consents::domain_id.eq(domain_id))
        .filter(consents::public_id.eq(public_id))
        .filter(consents::user_ref.eq(user_ref))
        .filter(consents::revoked_at.is_null())
        .select(consents::id)
        .get_result(conn)
        .await
        .optional())?)
}

pub async fn insert(db: &mut Db<'_>, new: &NewConsent<'_>) -> Result<ConsentRow, StoreError> {
    Ok(on_db!(db, |conn| diesel::insert_into(consents::table)
        .values(new)
        .returning(ConsentRow::as_returning())
        .get_result(conn)
        .await)?)
}

pub async fn set_scopes(db: &mut Db<'_>, domain_id: i64, id: i64, scopes: &str) -> Result<(), StoreError> {
    on_db!(db, |conn| diesel::update(
        consents::table
            .filter(consents::domain_id.eq(domain_id))
            .filter(consents::id.eq(id))
    )
    .set(consents::scopes.eq(scopes))
    .execute(conn)
    .await)?;
    Ok(())
}

/// A user's active consents with their clients' ids, oldest first.
pub async fn active_for_user(
    db: &mut Db<'_>,
    domain_id: i64,
    user_ref: i64,
) -> Result<Vec<(ConsentRow, String)>, StoreError> {
    Ok(on_db!(db, |conn| consents::table
        .inner_join(
            clients::table.on(clients::domain_id
                .eq(consents::domain_id)
                .and(clients::id.eq(consents::client_ref))),
        )
        .filter(consents::domain_id.eq(domain_id))
        .filter(consents::user_ref.eq(user_ref))
        .filter(consents::revoked_at.is_null())
        .select((ConsentRow::as_select(), clients::client_id))
        .order(consents::id.asc())
        .load(conn)
        .await)?)
}

/// The opaque id the consent's user knows it by.
pub async fn public_id_of(db: &mut Db<'_>, domain_id: i64, id: i64) -> Result<Option<String>, StoreError> {
    Ok(on_db!(db, |conn| consents::table
        .filter(consents::domain_id.eq(domain_id))
        .filter(consents::id.eq(id))
        .select(consents::public_id)
        .get_result(conn)
        .await
        .optional())?)
}

/// How many live tokens each of the user's consents holds, by consent id (consents
/// without live tokens are absent).
pub async fn live_tokens_by_consent(
    db: &mut Db<'_>,
    domain_id: i64,
    user_ref: i64,
    now: crate::clock::UnixMicros,
) -> Result<Vec<(Option<i64>, i64)>, StoreError> {
    use super::liveness;
    use super::schema::tokens;
    Ok(on_db!(db, |conn| tokens::table
        .filter(tokens::domain_id.eq(domain_id))
        .filter(tokens::user_ref.eq(user_ref))
        .filter(tokens::consent_ref.is_not_null())
        .filter(liveness::live(now))
        .group_by(tokens::consent_ref)
        .select((tokens::consent_ref, diesel::dsl::count_star()))
        .load(conn)
        .await)?)
}
