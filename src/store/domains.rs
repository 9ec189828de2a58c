//! Identity domains: the tenants every other row belongs to.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{DomainChanges, DomainRow, NewDomain};
use super::schema::domains;
use super::{Db, StoreError};
use crate::on_db;

pub async fn insert(db: &mut Db<'_>, new: &NewDomain<'_>) -> Result<DomainRow, StoreError> {
    Ok(on_db!(db, |conn| diesel::insert_into(domains::table)
        .values(new)
        .returning(DomainRow::as_returning())
        .get_result(conn)
        .await)?)
}

pub async fn find_by_name(db: &mut Db<'_>, name: &str) -> Result<Option<DomainRow>, StoreError> {
    Ok(on_db!(db, |conn| domains::table
        .filter(domains::name.eq(name))
        .select(DomainRow::as_select())
        .get_result(conn)
        .await
        .optional())?)
}

/// Every domain, by name.
pub async fn list(db: &mut Db<'_>) -> Result<Vec<DomainRow>, StoreError> {
    Ok(on_db!(db, |conn| domains::table
        .select(DomainRow::as_select())
        .order(domains::name.asc())
        .load(conn)
        .await)?)
}

pub async fn update(db: &mut Db<'_>, id: i64, changes: &DomainChanges) -> Result<DomainRow, StoreError> {
    Ok(on_db!(db, |conn| diesel::update(
        domains::table.filter(domains::id.eq(id))
    )
    .set(changes)
    .returning(DomainRow::as_returning())
    .get_result(conn)
    .await)?)
}

/// Deletes a domain and, through the foreign keys, everything it owns.
pub async fn delete(db: &mut Db<'_>, id: i64) -> Result<bool, StoreError> {
    let deleted = on_db!(db, |conn| diesel::delete(domains::table.filter(domains::id.eq(id)))
        .execute(conn)
        .await)?;
    Ok(deleted > 0)
}
