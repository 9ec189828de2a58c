//! Revocations by clients (SPEC §3.1), carried out many at a time.
//!
//! The writer hands every revocation waiting for it to [`execute`], which marks all
//! their tokens with a few statements per (domain, revoking client) instead of a few
//! per revocation, and writes their audit events with one insert. Each caller still
//! learns exactly what its own revocation ended: every token the batch ends is counted
//! once, for the first revocation of the batch that reached it, as if they had run one
//! after the other in that order.

use std::collections::BTreeMap;

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::QueryResult;
use diesel::sql_types::{Array, BigInt, Nullable, Text};
use serde_json::json;

use super::models::NewAuditEvent;
use super::tokens::{self, Families, Marked, Reach, Revocation, Revoked};
use super::{Db, StoreError, audit};
use crate::clock::UnixMicros;
use crate::domain::revocation::{Plan, RevokeLevel, TokenKind};

/// What the revocation rows keep as the reason for a client's revocation.
const REASON: &str = "revoked by client";

/// One revocation a client asked for, decided (its [`Plan`]) and waiting to be written.
#[derive(Debug, Clone)]
pub struct RevocationWrite {
    pub domain_id: i64,
    pub plan: Plan,
    /// The revoking client's `client_id`.
    pub actor: String,
    /// For the audit event: the level asked for and what the presented token was.
    pub level: RevokeLevel,
    pub token_kind: TokenKind,
    pub request_id: Option<String>,
    /// When it was decided; the batch is stamped with the latest of its members.
    pub at: UnixMicros,
}

/// Carries out `batch` inside the caller's transaction; what each member ended, in
/// order. A failure fails the whole batch (the caller rolls it back and may retry the
/// members one by one).
pub async fn execute(db: &mut Db<'_>, batch: &[RevocationWrite]) -> Result<Vec<Revoked>, StoreError> {
    let at = batch.iter().map(|w| w.at).max().unwrap_or_default();
    let mut revoked = vec![Revoked::default(); batch.len()];
    let mut groups: BTreeMap<(i64, &str), Vec<usize>> = BTreeMap::new();
    for (index, write) in batch.iter().enumerate() {
        groups
            .entry((write.domain_id, write.actor.as_str()))
            .or_default()
            .push(index);
    }
    for ((domain_id, actor), members) in groups {
        let how = Revocation {
            at,
            by: actor,
            reason: REASON,
        };
        let plans: Vec<(usize, Plan)> = members.iter().map(|&i| (i, batch[i].plan)).collect();

        let ids = distinct(plans.iter().map(|(_, p)| Some(p.token)));
        let marked = tokens::mark_revoked(db, domain_id, Reach::Tokens(&ids), &how).await?;
        credit(&mut revoked, &plans, marked, |plan, m| plan.token == m.id);

        let families = distinct(plans.iter().map(|(_, p)| p.family));
        if !families.is_empty() {
            tokens::mark_families_revoked(db, domain_id, Families::Ids(&families), &how).await?;
            let marked = tokens::mark_revoked(db, domain_id, Reach::Families(&families), &how).await?;
            credit(&mut revoked, &plans, marked, |plan, m| {
                plan.family.is_some() && plan.family == m.family
            });
        }

        let consents = distinct(plans.iter().map(|(_, p)| p.consent));
        if !consents.is_empty() {
            tokens::mark_consents_revoked(db, domain_id, &consents, &how).await?;
            tokens::mark_families_revoked(db, domain_id, Families::UnderConsents(&consents), &how).await?;
            let marked = tokens::mark_revoked(db, domain_id, Reach::Consents(&consents), &how).await?;
            credit(&mut revoked, &plans, marked, |plan, m| {
                plan.consent.is_some() && plan.consent == m.consent
            });
        }
    }
    record(db, batch, &revoked, at).await?;
    Ok(revoked)
}

fn distinct(ids: impl Iterator<Item = Option<i64>>) -> Vec<i64> {
    let mut ids: Vec<i64> = ids.flatten().collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Counts each marked token for the first plan (in batch order) that reaches it.
fn credit(
    revoked: &mut [Revoked],
    plans: &[(usize, Plan)],
    marked: Vec<Marked>,
    reaches: impl Fn(&Plan, &Marked) -> bool,
) {
    for token in marked {
        if let Some((index, _)) = plans.iter().find(|(_, plan)| reaches(plan, &token)) {
            revoked[*index].add([token.kind.as_str()]);
        }
    }
}

/// One audit event per revocation that ended something, all in one insert.
async fn record(
    db: &mut Db<'_>,
    batch: &[RevocationWrite],
    revoked: &[Revoked],
    at: UnixMicros,
) -> Result<(), StoreError> {
    let details: Vec<String> = batch.iter().zip(revoked).map(|(w, r)| details(w, *r)).collect();
    let events: Vec<NewAuditEvent<'_>> = batch
        .iter()
        .zip(revoked)
        .zip(&details)
        .filter(|((_, revoked), _)| revoked.total() > 0)
        .map(|((write, _), details)| NewAuditEvent {
            domain_id: write.domain_id,
            occurred_at: at,
            action: ACTION,
            actor: &write.actor,
            request_id: write.request_id.as_deref(),
            details: details.clone(),
        })
        .collect();
    audit::record_many(db, &events).await
}

const ACTION: &str = "token.revoked";

/// The audit event's details of a revocation that ended `revoked`.
fn details(write: &RevocationWrite, revoked: Revoked) -> String {
    json!({
        "level": write.level.as_str(),
        "token_kind": write.token_kind.as_str(),
        "revoked": revoked,
        "count": revoked.total(),
        "family_id": write.plan.family,
        "consent_id": write.plan.consent,
    })
    .to_string()
}

/// PostgreSQL's shortcut for the commonest batch: revocations that reach only the
/// presented token (level `NONE`, or a token without family and consent), all carried
/// out by ONE statement that marks the tokens and writes the audit events of those it
/// ended (a data-modifying `WITH`, atomic by itself, no `BEGIN`/`COMMIT` round trips).
/// What each ended is exactly what [`execute`] would count: its token, if still live
/// and not already claimed by an earlier member of the batch.
pub async fn execute_single_tokens_pg(
    conn: &mut diesel_async::AsyncPgConnection,
    batch: &[RevocationWrite],
) -> Result<Vec<Revoked>, StoreError> {
    use diesel_async::RunQueryDsl;

    let at = batch.iter().map(|w| w.at).max().unwrap_or_default();
    let mut first_claim = std::collections::HashSet::new();
    let claimed: Vec<bool> = batch
        .iter()
        .map(|w| first_claim.insert((w.domain_id, w.plan.token)))
        .collect();
    let members: Vec<&RevocationWrite> = batch
        .iter()
        .zip(&claimed)
        .filter(|(_, c)| **c)
        .map(|(w, _)| w)
        .collect();
    let ended = |write: &RevocationWrite| {
        let mut revoked = Revoked::default();
        revoked.add([write.token_kind.as_str()]);
        revoked
    };
    let statement = RevokeSingleTokens {
        at,
        domain_ids: members.iter().map(|w| w.domain_id).collect(),
        ids: members.iter().map(|w| w.plan.token).collect(),
        actors: members.iter().map(|w| w.actor.as_str()).collect(),
        request_ids: members.iter().map(|w| w.request_id.as_deref()).collect(),
        details: members.iter().map(|w| details(w, ended(w))).collect(),
    };
    let marked: Vec<(i64, i64)> = statement.get_results(conn).await?;
    let marked: std::collections::HashSet<(i64, i64)> = marked.into_iter().collect();
    Ok(batch
        .iter()
        .zip(claimed)
        .map(|(write, claimed)| {
            if claimed && marked.contains(&(write.domain_id, write.plan.token)) {
                ended(write)
            } else {
                Revoked::default()
            }
        })
        .collect())
}

/// See [`execute_single_tokens_pg`]: one array per column of the members.
struct RevokeSingleTokens<'a> {
    at: UnixMicros,
    domain_ids: Vec<i64>,
    ids: Vec<i64>,
    actors: Vec<&'a str>,
    request_ids: Vec<Option<&'a str>>,
    details: Vec<String>,
}

impl QueryFragment<Pg> for RevokeSingleTokens<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("WITH wanted (domain_id, id, actor, request_id, details) AS (SELECT * FROM unnest(");
        super::push_binds!(
            out,
            Array<BigInt> => &self.domain_ids,
            Array<BigInt> => &self.ids,
            Array<Text> => &self.actors,
            Array<Nullable<Text>> => &self.request_ids,
            Array<Text> => &self.details,
        );
        out.push_sql(
            ")), marked AS (UPDATE tokens t SET revoked_at = w_at.at, revoked_by = w.actor, revoked_reason = ",
        );
        out.push_bind_param::<Text, _>(REASON)?;
        out.push_sql(" FROM wanted w, (SELECT ");
        out.push_bind_param::<BigInt, _>(&self.at)?;
        out.push_sql(
            "::bigint AS at) w_at \
             WHERE t.domain_id = w.domain_id AND t.id = w.id AND t.revoked_at IS NULL \
             AND t.rotated_at IS NULL AND t.expires_at > w_at.at \
             RETURNING t.domain_id, t.id, w_at.at), \
             logged AS (INSERT INTO audit_events (domain_id, occurred_at, action, actor, request_id, details) \
             SELECT w.domain_id, m.at, ",
        );
        out.push_bind_param::<Text, _>(ACTION)?;
        out.push_sql(
            ", w.actor, w.request_id, w.details FROM wanted w \
             JOIN marked m ON m.domain_id = w.domain_id AND m.id = w.id) \
             SELECT domain_id, id FROM marked",
        );
        Ok(())
    }
}

impl QueryId for RevokeSingleTokens<'_> {
    type QueryId = ();
    // Cached by its text, which does not depend on the number of rows.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for RevokeSingleTokens<'_> {
    type SqlType = (BigInt, BigInt);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(token: i64, family: Option<i64>, consent: Option<i64>) -> Plan {
        Plan { token, family, consent }
    }

    fn marked(id: i64, family: Option<i64>, kind: &str) -> Marked {
        Marked {
            id,
            family,
            consent: None,
            kind: kind.into(),
        }
    }

    #[test]
    fn each_token_counts_once_for_the_first_plan_that_reaches_it() {
        let plans = [(0, plan(1, Some(9), None)), (1, plan(2, Some(9), None))];
        let mut revoked = vec![Revoked::default(); 2];
        credit(
            &mut revoked,
            &plans,
            vec![marked(3, Some(9), "access"), marked(4, Some(9), "refresh")],
            |plan, m| plan.family == m.family,
        );
        assert_eq!(revoked[0], Revoked { access: 1, refresh: 1 });
        assert_eq!(revoked[1], Revoked::default());
    }

    #[test]
    fn distinct_ids_skip_absent_links() {
        assert_eq!(distinct([Some(3), None, Some(1), Some(3)].into_iter()), vec![1, 3]);
    }
}
