//! PostgreSQL's shortcut for the commonest batch: revocations that reach only their
//! own token (level `NONE`, or a token without family and consent), all carried out by
//! ONE statement (a data-modifying `WITH`, atomic by itself, no `BEGIN`/`COMMIT` round
//! trips). It is [`super::execute`] for such a batch, built from the same pieces: the
//! marks with [`liveness::live`], the status-list bits queued as
//! `status_lists::set_bits` queues them, the audit rows with [`super::audit_event`]. A new side
//! effect of the pipeline is one more CTE here.

use std::collections::HashSet;

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::QueryResult;
use diesel::sql_types::{Array, BigInt, Nullable, Text};
use diesel_async::RunQueryDsl;

use super::{Reach, Revocation, Revoked, audit_event, batch_time};
use crate::clock::UnixMicros;
use crate::domain::audit::AuditAction;
use crate::store::{StoreError, liveness, status_lists};

/// Carries out `batch`, whose members all reach only their own token. What each ended
/// is exactly what [`super::execute`] would count: its token, if live and not already
/// claimed by an earlier member of the batch.
pub(super) async fn execute(
    conn: &mut diesel_async::AsyncPgConnection,
    batch: &[Revocation],
) -> Result<Vec<Revoked>, StoreError> {
    let at = batch_time(batch);
    let mut first_claim = HashSet::new();
    let claimed: Vec<Option<i64>> = batch
        .iter()
        .map(|r| {
            r.single_token()
                .filter(|token| first_claim.insert((r.domain_id, *token)))
        })
        .collect();
    let mut members: Vec<(&Revocation, i64)> = batch
        .iter()
        .zip(&claimed)
        .filter_map(|(r, token)| token.map(|t| (r, t)))
        .collect();
    // In the order of `marks.rs`, (domain, id): the nested loop over `unnest` then locks
    // the rows in that order, as every other revocation does (a rare conflict that
    // remains is run again by `pg_batch`).
    members.sort_by_key(|(r, token)| (r.domain_id, *token));
    let statement = RevokeSingleTokens::new(&members, at);
    let marked: HashSet<(i64, i64)> = statement.get_results(conn).await?.into_iter().collect();
    Ok(batch
        .iter()
        .zip(claimed)
        .map(|(revocation, token)| match token {
            Some(token) if marked.contains(&(revocation.domain_id, token)) => ended(revocation),
            _ => Revoked::default(),
        })
        .collect())
}

/// What a member ends when its token is marked: that one token.
fn ended(revocation: &Revocation) -> Revoked {
    let mut revoked = Revoked::default();
    if let Reach::Token { kind, .. } = revocation.reach {
        revoked.add(kind);
    }
    revoked
}

/// One array per column of the members, and the audit event each writes if its token
/// is marked.
struct RevokeSingleTokens<'a> {
    at: UnixMicros,
    domain_ids: Vec<i64>,
    ids: Vec<i64>,
    revoked_by: Vec<&'a str>,
    reasons: Vec<Option<&'a str>>,
    actions: Vec<AuditAction>,
    request_ids: Vec<Option<&'a str>>,
    details: Vec<String>,
}

impl<'a> RevokeSingleTokens<'a> {
    fn new(members: &[(&'a Revocation, i64)], at: UnixMicros) -> Self {
        let events: Vec<_> = members.iter().map(|(r, _)| audit_event(r, ended(r), at)).collect();
        Self {
            at,
            domain_ids: members.iter().map(|(r, _)| r.domain_id).collect(),
            ids: members.iter().map(|(_, token)| *token).collect(),
            revoked_by: members.iter().map(|(r, _)| r.marking().by).collect(),
            reasons: members.iter().map(|(r, _)| r.marking().reason).collect(),
            actions: events.iter().map(|e| e.action).collect(),
            request_ids: events.iter().map(|e| e.request_id).collect(),
            details: events.into_iter().map(|e| e.details).collect(),
        }
    }
}

impl QueryFragment<Pg> for RevokeSingleTokens<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "WITH wanted (domain_id, id, revoked_by, reason, action, request_id, details) \
             AS (SELECT * FROM unnest(",
        );
        crate::store::push_binds!(
            out,
            Array<BigInt> => &self.domain_ids,
            Array<BigInt> => &self.ids,
            Array<Text> => &self.revoked_by,
            Array<Nullable<Text>> => &self.reasons,
            Array<Text> => &self.actions,
            Array<Nullable<Text>> => &self.request_ids,
            Array<Text> => &self.details,
        );
        out.push_sql(")), marked AS (UPDATE tokens SET revoked_at = ");
        out.push_bind_param::<BigInt, _>(&self.at)?;
        out.push_sql(
            ", revoked_by = wanted.revoked_by, revoked_reason = wanted.reason FROM wanted \
             WHERE tokens.domain_id = wanted.domain_id AND tokens.id = wanted.id AND ",
        );
        liveness::push_live_pg(&mut out, &self.at)?;
        out.push_sql(
            " RETURNING tokens.domain_id, tokens.id, tokens.status_list, tokens.status_idx, \
             tokens.user_ref, tokens.client_ref), \
             bits AS (",
        );
        // `status_lists::set_bits`, over the tokens just marked: queued, so that
        // concurrent batches do not wait for each other on the chunk their tokens share.
        out.push_sql(status_lists::QUEUE_BITS_HEAD);
        out.push_sql(
            "(SELECT domain_id AS d, status_list AS l, status_idx AS i FROM marked \
             WHERE status_list IS NOT NULL) AS m",
        );
        out.push_sql(status_lists::QUEUE_BITS_TAIL);
        out.push_sql(
            " RETURNING 1), \
             logged AS (INSERT INTO audit_events \
             (domain_id, occurred_at, action, actor, request_id, details, user_ref, client_ref) \
             SELECT w.domain_id, ",
        );
        out.push_bind_param::<BigInt, _>(&self.at)?;
        out.push_sql(
            ", w.action, w.revoked_by, w.request_id, w.details, m.user_ref, m.client_ref FROM wanted w \
             JOIN marked m ON m.domain_id = w.domain_id AND m.id = w.id) \
             SELECT domain_id, id FROM marked",
        );
        Ok(())
    }
}

/// What [`RevokeSingleTokens`] is prepared as: its text does not depend on the rows.
struct RevokeSingleTokensStatement;

impl QueryId for RevokeSingleTokens<'_> {
    type QueryId = RevokeSingleTokensStatement;
    // Found in the statement cache by this type, so its text (the liveness fragment's
    // three subqueries included) is written out once per connection, not per batch.
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for RevokeSingleTokens<'_> {
    type SqlType = (BigInt, BigInt);
}
