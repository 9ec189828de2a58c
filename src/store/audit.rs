//! The audit trail: one row per change an operator, a client or a user made.
//! Events are written in the same transaction as the change they describe.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{AuditEventRow, NewAuditEvent};
use super::schema::audit_events;
use super::{Db, StoreError};
use crate::on_db;

pub async fn record(db: &mut Db<'_>, event: &NewAuditEvent<'_>) -> Result<(), StoreError> {
    on_db!(db, |conn| diesel::insert_into(audit_events::table)
        .values(event)
        .execute(conn)
        .await)?;
    Ok(())
}

/// The newest `limit` events of a domain, newest first. Ids only grow, so they order
/// events that share a timestamp.
pub async fn newest(db: &mut Db<'_>, domain_id: i64, limit: i64) -> Result<Vec<AuditEventRow>, StoreError> {
    Ok(on_db!(db, |conn| audit_events::table
        .filter(audit_events::domain_id.eq(domain_id))
        .select(AuditEventRow::as_select())
        .order((audit_events::occurred_at.desc(), audit_events::id.desc()))
        .limit(limit)
        .load(conn)
        .await)?)
}
