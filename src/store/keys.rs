//! Signing keys of a domain. The private key is read only to load it into memory.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{NewSigningKey, SigningKeyRow};
use super::schema::signing_keys;
use super::{Db, StoreError};
use crate::on_db;

pub async fn insert(db: &mut Db<'_>, new: &NewSigningKey<'_>) -> Result<(), StoreError> {
    on_db!(db, |conn| diesel::insert_into(signing_keys::table)
        .values(new)
        .execute(conn)
        .await)?;
    Ok(())
}

/// The key new tokens are signed with: the newest one not retired.
pub async fn active(db: &mut Db<'_>, domain_id: i64) -> Result<Option<SigningKeyRow>, StoreError> {
    Ok(on_db!(db, |conn| signing_keys::table
        .filter(signing_keys::domain_id.eq(domain_id))
        .filter(signing_keys::retired_at.is_null())
        .select(SigningKeyRow::as_select())
        .order(signing_keys::id.desc())
        .first(conn)
        .await
        .optional())?)
}

/// Public JWKs of every key of the domain (retired keys still verify older tokens).
pub async fn public_jwks(db: &mut Db<'_>, domain_id: i64) -> Result<Vec<String>, StoreError> {
    Ok(on_db!(db, |conn| signing_keys::table
        .filter(signing_keys::domain_id.eq(domain_id))
        .select(signing_keys::public_jwk)
        .order(signing_keys::id.desc())
        .load(conn)
        .await)?)
}
