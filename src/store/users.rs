//! Resource owners of a domain. Every query names the domain.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{NewUser, UserRow};
use super::schema::users;
use super::{Db, StoreError};
use crate::clock::UnixMicros;
use crate::on_db;

pub async fn insert(db: &mut Db<'_>, new: &NewUser<'_>) -> Result<UserRow, StoreError> {
    Ok(on_db!(db, |conn| diesel::insert_into(users::table)
        .values(new)
        .returning(UserRow::as_returning())
        .get_result(conn)
        .await)?)
}

pub async fn find(db: &mut Db<'_>, domain_id: i64, username: &str) -> Result<Option<UserRow>, StoreError> {
    Ok(on_db!(db, |conn| users::table
        .filter(users::domain_id.eq(domain_id))
        .filter(users::username.eq(username))
        .select(UserRow::as_select())
        .get_result(conn)
        .await
        .optional())?)
}

pub async fn list(db: &mut Db<'_>, domain_id: i64) -> Result<Vec<UserRow>, StoreError> {
    Ok(on_db!(db, |conn| users::table
        .filter(users::domain_id.eq(domain_id))
        .select(UserRow::as_select())
        .order(users::username.asc())
        .load(conn)
        .await)?)
}

/// Sets a user's password hash.
pub async fn set_password_hash(
    db: &mut Db<'_>,
    domain_id: i64,
    id: i64,
    hash: &str,
    now: UnixMicros,
) -> Result<(), StoreError> {
    on_db!(db, |conn| diesel::update(
        users::table
            .filter(users::domain_id.eq(domain_id))
            .filter(users::id.eq(id))
    )
    .set((users::password_hash.eq(hash), users::updated_at.eq(now)))
    .execute(conn)
    .await)?;
    Ok(())
}

/// Disables (`Some(when)`) or enables (`None`) a user; the row as it is now.
pub async fn set_disabled(
    db: &mut Db<'_>,
    domain_id: i64,
    id: i64,
    disabled_at: Option<UnixMicros>,
    now: UnixMicros,
) -> Result<UserRow, StoreError> {
    Ok(on_db!(db, |conn| diesel::update(
        users::table
            .filter(users::domain_id.eq(domain_id))
            .filter(users::id.eq(id))
    )
    .set((users::disabled_at.eq(disabled_at), users::updated_at.eq(now)))
    .returning(UserRow::as_returning())
    .get_result(conn)
    .await)?)
}

/// Deletes a user and, through the foreign keys, their consents and tokens.
pub async fn delete(db: &mut Db<'_>, domain_id: i64, username: &str) -> Result<bool, StoreError> {
    let deleted = on_db!(db, |conn| diesel::delete(
        users::table
            .filter(users::domain_id.eq(domain_id))
            .filter(users::username.eq(username))
    )
    .execute(conn)
    .await)?;
    Ok(deleted > 0)
}
