//! The statements that mark things revoked: tokens, families, consents, in that order.
//! Only [`super::execute`] calls them; only live tokens are marked (`store::liveness`),
//! so what comes back is exactly what the revocation ended.
//!
//! On PostgreSQL the rows are locked in id order first (`ORDER BY id FOR …`: a
//! subquery of the token `UPDATE`, a `SELECT` before the family and consent ones):
//! with the tables in one order and the rows of each in id order, two revocations
//! reaching the same rows wait for each other instead of deadlocking. (SQLite has one
//! writer; nothing to order there.)
//!
//! Tokens are locked `FOR NO KEY UPDATE`, what their `UPDATE` needs: a refresh inserting
//! the children of a token (its foreign key takes a key-share lock on it) never waits
//! for that. Families and consents are locked `FOR UPDATE`, which does wait for a grant
//! inserting tokens under them, so that once they are marked every such token is
//! committed and visible to the status-list step (`status_lists::unmarked_dead_under`).

use diesel::backend::Backend;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{Array, BigInt, Nullable, Text};
use diesel::sqlite::Sqlite;
use diesel_async::RunQueryDsl;

use crate::clock::UnixMicros;
use crate::domain::revocation::TokenKind;
use crate::on_db;
use crate::store::liveness;
use crate::store::schema::{consents, token_families};
use crate::store::{Db, StoreError};

/// What the marked rows keep: who revoked them and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Marking<'a> {
    pub by: &'a str,
    pub reason: Option<&'a str>,
}

impl<'a> Marking<'a> {
    /// The columns a withdrawn consent gets, wherever it is withdrawn from.
    pub fn consent_withdrawn(
        &self,
        at: UnixMicros,
    ) -> (
        diesel::dsl::Eq<consents::revoked_at, UnixMicros>,
        diesel::dsl::Eq<consents::revoked_reason, Option<&'a str>>,
    ) {
        (consents::revoked_at.eq(at), consents::revoked_reason.eq(self.reason))
    }
}

/// The tokens one statement marks: these ids, every token of these families, every
/// token issued under these consents.
#[derive(Debug, Default)]
pub(super) struct TokenReach {
    pub tokens: Vec<i64>,
    pub families: Vec<i64>,
    pub consents: Vec<i64>,
}

impl TokenReach {
    pub fn dedup(&mut self) {
        for ids in [&mut self.tokens, &mut self.families, &mut self.consents] {
            ids.sort_unstable();
            ids.dedup();
        }
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty() && self.families.is_empty() && self.consents.is_empty()
    }
}

/// A token a statement marked, with what tells which revocation reached it.
#[derive(Debug, Queryable)]
pub(super) struct Marked {
    pub id: i64,
    pub family: Option<i64>,
    pub consent: Option<i64>,
    pub kind: TokenKind,
    /// Its status list and index (access tokens), whose bit the revocation sets.
    pub status_list: Option<i64>,
    pub status_idx: Option<i64>,
    /// Whose token it was, for the audit event (a user's "Recent activity").
    pub user: Option<i64>,
    pub client: i64,
}

/// The client of the consent if it is active and the user's: only then may they
/// withdraw it.
pub(super) async fn active_consent_of(
    db: &mut Db<'_>,
    domain_id: i64,
    consent: i64,
    user_ref: i64,
) -> Result<Option<i64>, StoreError> {
    Ok(on_db!(db, |conn| consents::table
        .filter(consents::domain_id.eq(domain_id))
        .filter(consents::id.eq(consent))
        .filter(consents::user_ref.eq(user_ref))
        .filter(consents::revoked_at.is_null())
        .select(consents::client_ref)
        .get_result(conn)
        .await
        .optional())?)
}

/// Withdraws these consents, those still active; which it withdrew.
pub(super) async fn mark_consents(
    db: &mut Db<'_>,
    domain_id: i64,
    ids: &[i64],
    at: UnixMicros,
    marking: &Marking<'_>,
) -> Result<Vec<i64>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let active = consents::table
        .filter(consents::domain_id.eq(domain_id))
        .filter(consents::id.eq_any(ids))
        .filter(consents::revoked_at.is_null());
    if let Db::Postgres(conn) = db {
        let _: Vec<i64> = active
            .clone()
            .select(consents::id)
            .order(consents::id)
            .for_update()
            .load(&mut **conn)
            .await?;
    }
    Ok(on_db!(db, |conn| diesel::update(active)
        .set(marking.consent_withdrawn(at))
        .returning(consents::id)
        .get_results(conn)
        .await)?)
}

/// Revokes these families and every family under these consents, those still open.
pub(super) async fn mark_families(
    db: &mut Db<'_>,
    domain_id: i64,
    ids: &[i64],
    under_consents: &[i64],
    at: UnixMicros,
    marking: &Marking<'_>,
) -> Result<(), StoreError> {
    if ids.is_empty() && under_consents.is_empty() {
        return Ok(());
    }
    let open = token_families::table
        .filter(token_families::domain_id.eq(domain_id))
        .filter(token_families::revoked_at.is_null())
        .filter(
            token_families::id
                .eq_any(ids)
                .or(token_families::consent_ref.eq_any(under_consents).assume_not_null()),
        );
    if let Db::Postgres(conn) = db {
        let _: Vec<i64> = open
            .clone()
            .select(token_families::id)
            .order(token_families::id)
            .for_update()
            .load(&mut **conn)
            .await?;
    }
    on_db!(db, |conn| diesel::update(open)
        .set((
            token_families::revoked_at.eq(at),
            token_families::revoked_reason.eq(marking.reason),
        ))
        .execute(conn)
        .await)?;
    Ok(())
}

/// Marks the live tokens of `reach` revoked, in one statement.
pub(super) async fn mark_tokens(
    db: &mut Db<'_>,
    domain_id: i64,
    reach: &TokenReach,
    at: UnixMicros,
    marking: &Marking<'_>,
) -> Result<Vec<Marked>, StoreError> {
    // Which lists are present picks the statement's text, and with it its type.
    let shape = u8::from(!reach.tokens.is_empty())
        | u8::from(!reach.families.is_empty()) << 1
        | u8::from(!reach.consents.is_empty()) << 2;
    match shape {
        0 => Ok(Vec::new()),
        1 => mark_shaped::<1>(db, domain_id, reach, at, marking).await,
        2 => mark_shaped::<2>(db, domain_id, reach, at, marking).await,
        3 => mark_shaped::<3>(db, domain_id, reach, at, marking).await,
        4 => mark_shaped::<4>(db, domain_id, reach, at, marking).await,
        5 => mark_shaped::<5>(db, domain_id, reach, at, marking).await,
        6 => mark_shaped::<6>(db, domain_id, reach, at, marking).await,
        _ => mark_shaped::<7>(db, domain_id, reach, at, marking).await,
    }
}

async fn mark_shaped<const SHAPE: u8>(
    db: &mut Db<'_>,
    domain_id: i64,
    reach: &TokenReach,
    at: UnixMicros,
    marking: &Marking<'_>,
) -> Result<Vec<Marked>, StoreError> {
    let statement = MarkTokens::<SHAPE>::new(domain_id, reach, at, marking);
    Ok(match db {
        Db::Postgres(conn) => statement.get_results(&mut **conn).await?,
        // Through diesel's synchronous API (on the writer's own thread, as every SQLite
        // query here): it finds the prepared statement by type, where the async wrapper
        // would first write out the whole statement text on every call.
        Db::Sqlite(conn) => {
            conn.spawn_blocking(move |sync| diesel::RunQueryDsl::get_results(statement, sync))
                .await?
        }
    })
}

/// `UPDATE tokens … WHERE <reached> AND <live> RETURNING …`, written by hand so its text
/// depends only on which of the three lists are present (`SHAPE`, one bit each), not on
/// their lengths: each connection prepares each shape once, found by its type, so the
/// text (the liveness fragment's subqueries included) is not written out per call. SQLite reads the ids from JSON arrays
/// (`json_each`), PostgreSQL from array parameters and locks the rows in id order
/// first. (diesel prepares every `IN (…)` list anew, which on the writer's hot path
/// cost more than the update itself.)
/// It owns what it binds, so that SQLite's synchronous API can take it.
struct MarkTokens<const SHAPE: u8> {
    domain_id: i64,
    /// Token ids, family ids, consent ids (PostgreSQL's arrays).
    lists: [Vec<i64>; 3],
    /// The same lists as JSON, for SQLite.
    json: [String; 3],
    at: UnixMicros,
    by: String,
    reason: Option<String>,
    live: liveness::live,
}

impl<const SHAPE: u8> MarkTokens<SHAPE> {
    fn new(domain_id: i64, reach: &TokenReach, at: UnixMicros, marking: &Marking<'_>) -> Self {
        let json = |ids: &[i64]| format!("[{}]", ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
        Self {
            domain_id,
            lists: [reach.tokens.clone(), reach.families.clone(), reach.consents.clone()],
            json: [json(&reach.tokens), json(&reach.families), json(&reach.consents)],
            at,
            by: marking.by.to_owned(),
            reason: marking.reason.map(str::to_owned),
            live: liveness::live(at),
        }
    }

    /// Everything but the id lists and the liveness rule, which each backend spells its
    /// own way.
    fn walk_ast_with<'b, DB>(
        &'b self,
        mut out: AstPass<'_, 'b, DB>,
        postgres: bool,
        mut list: impl FnMut(&mut AstPass<'_, 'b, DB>, usize) -> QueryResult<()>,
        live: impl FnOnce(&mut AstPass<'_, 'b, DB>) -> QueryResult<()>,
    ) -> QueryResult<()>
    where
        DB: Backend,
        i64: ToSql<BigInt, DB>,
        str: ToSql<Text, DB>,
    {
        out.push_sql("UPDATE tokens SET revoked_at = ");
        out.push_bind_param::<BigInt, _>(&self.at)?;
        out.push_sql(", revoked_by = ");
        out.push_bind_param::<Text, _>(self.by.as_str())?;
        out.push_sql(", revoked_reason = ");
        out.push_bind_param::<Nullable<Text>, _>(&self.reason)?;
        out.push_sql(" WHERE domain_id = ");
        out.push_bind_param::<BigInt, _>(&self.domain_id)?;
        if postgres {
            // Inside the subquery, `tokens` (and the liveness fragment's references to
            // it) is the subquery's own row.
            out.push_sql(" AND id IN (SELECT id FROM tokens WHERE domain_id = ");
            out.push_bind_param::<BigInt, _>(&self.domain_id)?;
        }
        out.push_sql(" AND (");
        let mut first = true;
        for (index, column) in ["id", "family_ref", "consent_ref"].into_iter().enumerate() {
            if SHAPE & (1 << index) == 0 {
                continue;
            }
            if !first {
                out.push_sql(" OR ");
            }
            first = false;
            out.push_sql(column);
            list(&mut out, index)?;
        }
        if first {
            out.push_sql("FALSE");
        }
        out.push_sql(") AND ");
        live(&mut out)?;
        if postgres {
            out.push_sql(" ORDER BY id FOR NO KEY UPDATE)");
        }
        out.push_sql(" RETURNING id, family_ref, consent_ref, kind, status_list, status_idx, user_ref, client_ref");
        Ok(())
    }
}

impl<const SHAPE: u8> QueryFragment<Sqlite> for MarkTokens<SHAPE> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.walk_ast_with(
            out,
            false,
            |out, index| {
                out.push_sql(" IN (SELECT value FROM json_each(");
                out.push_bind_param::<Text, _>(self.json[index].as_str())?;
                out.push_sql("))");
                Ok(())
            },
            |out| self.live.walk_ast(out.reborrow()),
        )
    }
}

impl<const SHAPE: u8> QueryFragment<Pg> for MarkTokens<SHAPE> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.walk_ast_with(
            out,
            true,
            |out, index| {
                out.push_sql(" = ANY(");
                out.push_bind_param::<Array<BigInt>, _>(&self.lists[index])?;
                out.push_sql(")");
                Ok(())
            },
            // Written out once (diesel-async writes out every statement's text per call).
            |out| liveness::push_live_pg(out, &self.at),
        )
    }
}

/// What a [`MarkTokens`] of one shape is prepared as.
struct MarkTokensStatement<const SHAPE: u8>;

impl<const SHAPE: u8> QueryId for MarkTokens<SHAPE> {
    type QueryId = MarkTokensStatement<SHAPE>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<Conn, const SHAPE: u8> diesel::RunQueryDsl<Conn> for MarkTokens<SHAPE> {}

impl<const SHAPE: u8> Query for MarkTokens<SHAPE> {
    type SqlType = (
        BigInt,
        Nullable<BigInt>,
        Nullable<BigInt>,
        Text,
        Nullable<BigInt>,
        Nullable<BigInt>,
        Nullable<BigInt>,
        BigInt,
    );
}
