//! Tokens, found by the SHA-256 of the presented string within their domain
//! (`UNIQUE (domain_id, token_hash)`), and their families.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{FamilyRow, NewFamily, NewToken, TokenRow};
use super::schema::{token_families, tokens};
use super::{Db, StoreError};
use crate::clock::UnixMicros;
use crate::on_db;

pub const ACCESS: &str = "access";
pub const REFRESH: &str = "refresh";

/// Inserts a token; returns its id.
pub async fn insert(db: &mut Db<'_>, new: &NewToken<'_>) -> Result<i64, StoreError> {
    Ok(on_db!(db, |conn| diesel::insert_into(tokens::table)
        .values(new)
        .returning(tokens::id)
        .get_result(conn)
        .await)?)
}

pub async fn find_by_hash(db: &mut Db<'_>, domain_id: i64, hash: &[u8]) -> Result<Option<TokenRow>, StoreError> {
    Ok(on_db!(db, |conn| tokens::table
        .filter(tokens::domain_id.eq(domain_id))
        .filter(tokens::token_hash.eq(hash))
        .select(TokenRow::as_select())
        .first(conn)
        .await
        .optional())?)
}

/// Marks a refresh token as replaced, if no one else did first. The condition in the
/// `WHERE` decides races between concurrent refreshes: on PostgreSQL the second
/// transaction waits for the first's row lock and then matches nothing; on SQLite
/// writes are serial.
pub async fn mark_rotated(db: &mut Db<'_>, domain_id: i64, id: i64, now: UnixMicros) -> Result<bool, StoreError> {
    let updated = on_db!(db, |conn| diesel::update(
        tokens::table
            .filter(tokens::domain_id.eq(domain_id))
            .filter(tokens::id.eq(id))
            .filter(tokens::rotated_at.is_null())
            .filter(tokens::revoked_at.is_null())
    )
    .set(tokens::rotated_at.eq(now))
    .execute(conn)
    .await)?;
    Ok(updated == 1)
}

pub async fn insert_family(db: &mut Db<'_>, new: &NewFamily) -> Result<i64, StoreError> {
    Ok(on_db!(db, |conn| diesel::insert_into(token_families::table)
        .values(new)
        .returning(token_families::id)
        .get_result(conn)
        .await)?)
}

pub async fn find_family(db: &mut Db<'_>, domain_id: i64, id: i64) -> Result<Option<FamilyRow>, StoreError> {
    Ok(on_db!(db, |conn| token_families::table
        .filter(token_families::domain_id.eq(domain_id))
        .filter(token_families::id.eq(id))
        .select(FamilyRow::as_select())
        .first(conn)
        .await
        .optional())?)
}

/// Who revoked something and why, as kept on the rows.
#[derive(Debug, Clone)]
pub struct Revocation<'a> {
    pub at: UnixMicros,
    pub by: &'a str,
    pub reason: &'a str,
}

/// Revokes a family and every token in it that is not revoked yet; returns how many
/// tokens that was.
pub async fn revoke_family(db: &mut Db<'_>, domain_id: i64, family_id: i64, how: &Revocation<'_>) -> Result<usize, StoreError> {
    on_db!(db, |conn| diesel::update(
        token_families::table
            .filter(token_families::domain_id.eq(domain_id))
            .filter(token_families::id.eq(family_id))
            .filter(token_families::revoked_at.is_null())
    )
    .set((
        token_families::revoked_at.eq(how.at),
        token_families::revoked_reason.eq(how.reason),
    ))
    .execute(conn)
    .await)?;
    Ok(on_db!(db, |conn| diesel::update(
        tokens::table
            .filter(tokens::domain_id.eq(domain_id))
            .filter(tokens::family_ref.eq(family_id))
            .filter(tokens::revoked_at.is_null())
    )
    .set((
        tokens::revoked_at.eq(how.at),
        tokens::revoked_by.eq(how.by),
        tokens::revoked_reason.eq(how.reason),
    ))
    .execute(conn)
    .await)?)
}
