//! Revocation policies (SPEC §3.12): one row per domain, the expression as written.
//! Compiled copies are cached by the directory (`directory.rs`), which every change
//! here must announce.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::schema::revocation_policies;
use super::{Db, StoreError};
use crate::clock::UnixMicros;
use crate::on_db;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = revocation_policies)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct PolicyRow {
    pub domain_id: i64,
    pub expression: String,
    pub enabled: bool,
    pub created_at: UnixMicros,
    pub updated_at: UnixMicros,
}

pub async fn find(db: &mut Db<'_>, domain_id: i64) -> Result<Option<PolicyRow>, StoreError> {
    Ok(on_db!(db, |conn| revocation_policies::table
        .filter(revocation_policies::domain_id.eq(domain_id))
        .select(PolicyRow::as_select())
        .get_result(conn)
        .await
        .optional())?)
}

/// Stores `row` as its domain's policy, replacing any (whose `created_at` stays).
pub async fn put(db: &mut Db<'_>, row: &PolicyRow) -> Result<PolicyRow, StoreError> {
    Ok(on_db!(db, |conn| diesel::insert_into(revocation_policies::table)
        .values(row)
        .on_conflict(revocation_policies::domain_id)
        .do_update()
        .set((
            revocation_policies::expression.eq(&row.expression),
            revocation_policies::enabled.eq(row.enabled),
            revocation_policies::updated_at.eq(row.updated_at),
        ))
        .returning(PolicyRow::as_returning())
        .get_result(conn)
        .await)?)
}

/// Removes the domain's policy; whether there was one.
pub async fn delete(db: &mut Db<'_>, domain_id: i64) -> Result<bool, StoreError> {
    let deleted = on_db!(db, |conn| diesel::delete(
        revocation_policies::table.filter(revocation_policies::domain_id.eq(domain_id))
    )
    .execute(conn)
    .await)?;
    Ok(deleted > 0)
}
