//! The audit trail: one row per change an operator, a client or a user made.
//! Events are written in the same transaction as the change they describe.

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Nullable, Text};
use diesel_async::RunQueryDsl;

use super::models::{AuditEventRow, NewAuditEvent};
use super::schema::audit_events;
use super::{Db, StoreError};
use crate::domain::audit::AuditAction;
use crate::on_db;

pub async fn record(db: &mut Db<'_>, event: &NewAuditEvent<'_>) -> Result<(), StoreError> {
    on_db!(db, |conn| diesel::insert_into(audit_events::table)
        .values(event)
        .execute(conn)
        .await)?;
    Ok(())
}

/// Several events at once: on PostgreSQL one statement whose text does not depend on
/// how many rows it carries (`unnest` of arrays), so it is prepared once; on SQLite
/// row by row, each insert in-process with its statement prepared once.
pub async fn record_many(db: &mut Db<'_>, events: &[NewAuditEvent<'_>]) -> Result<(), StoreError> {
    match db {
        Db::Postgres(conn) => {
            if !events.is_empty() {
                AuditRows::new(events).execute(&mut **conn).await?;
            }
        }
        Db::Sqlite(_) => {
            for event in events {
                record(db, event).await?;
            }
        }
    }
    Ok(())
}

/// `INSERT INTO audit_events … SELECT * FROM unnest(…)`, one array per column.
struct AuditRows<'a> {
    domain_ids: Vec<i64>,
    occurred_at: Vec<i64>,
    actions: Vec<AuditAction>,
    actors: Vec<&'a str>,
    request_ids: Vec<Option<&'a str>>,
    details: Vec<&'a str>,
    user_refs: Vec<Option<i64>>,
    client_refs: Vec<Option<i64>>,
}

impl<'a> AuditRows<'a> {
    fn new(events: &'a [NewAuditEvent<'a>]) -> Self {
        Self {
            domain_ids: events.iter().map(|e| e.domain_id).collect(),
            occurred_at: events.iter().map(|e| e.occurred_at).collect(),
            actions: events.iter().map(|e| e.action).collect(),
            actors: events.iter().map(|e| e.actor).collect(),
            request_ids: events.iter().map(|e| e.request_id).collect(),
            details: events.iter().map(|e| e.details.as_str()).collect(),
            user_refs: events.iter().map(|e| e.user_ref).collect(),
            client_refs: events.iter().map(|e| e.client_ref).collect(),
        }
    }
}

impl QueryFragment<Pg> for AuditRows<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "INSERT INTO audit_events (domain_id, occurred_at, action, actor, request_id, details, user_ref, client_ref) \
             SELECT * FROM unnest(",
        );
        super::push_binds!(
            out,
            Array<BigInt> => &self.domain_ids,
            Array<BigInt> => &self.occurred_at,
            Array<Text> => &self.actions,
            Array<Text> => &self.actors,
            Array<Nullable<Text>> => &self.request_ids,
            Array<Text> => &self.details,
            Array<Nullable<BigInt>> => &self.user_refs,
            Array<Nullable<BigInt>> => &self.client_refs,
        );
        out.push_sql(")");
        Ok(())
    }
}

impl QueryId for AuditRows<'_> {
    type QueryId = ();
    // Cached by its text, which does not depend on the number of rows.
    const HAS_STATIC_QUERY_ID: bool = false;
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

/// The newest `limit` events of revocations that reached the user with this id, newest
/// first (the account page's "Recent activity", SPEC §3.9).
pub async fn newest_revocations_of_user(
    db: &mut Db<'_>,
    domain_id: i64,
    user_ref: i64,
    limit: i64,
) -> Result<Vec<AuditEventRow>, StoreError> {
    let revocations = [
        AuditAction::TokenRevoked,
        AuditAction::RefreshTokenReused,
        AuditAction::ConsentWithdrawn,
        AuditAction::TokensBulkRevoked,
    ];
    Ok(on_db!(db, |conn| audit_events::table
        .filter(audit_events::domain_id.eq(domain_id))
        .filter(audit_events::user_ref.eq(user_ref))
        .filter(audit_events::action.eq_any(revocations))
        .select(AuditEventRow::as_select())
        .order(audit_events::id.desc())
        .limit(limit)
        .load(conn)
        .await)?)
}
