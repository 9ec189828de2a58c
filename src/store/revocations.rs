//! Revocations by clients (SPEC §3.1), carried out many at a time.
//!
//! The writer hands every revocation waiting for it to [`execute`], which marks all
//! their tokens with a few statements per (domain, revoking client) instead of a few
//! per revocation, and writes their audit events with one insert. Each caller still
//! learns exactly what its own revocation ended: every token the batch ends is counted
//! once, for the first revocation of the batch that reached it, as if they had run one
//! after the other in that order.

use std::collections::BTreeMap;

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
    let events: Vec<NewAuditEvent<'_>> = batch
        .iter()
        .zip(revoked)
        .filter(|(_, revoked)| revoked.total() > 0)
        .map(|(write, revoked)| NewAuditEvent {
            domain_id: write.domain_id,
            occurred_at: at,
            action: "token.revoked",
            actor: &write.actor,
            request_id: write.request_id.as_deref(),
            details: json!({
                "level": write.level.as_str(),
                "token_kind": write.token_kind.as_str(),
                "revoked": revoked,
                "count": revoked.total(),
                "family_id": write.plan.family,
                "consent_id": write.plan.consent,
            })
            .to_string(),
        })
        .collect();
    audit::record_many(db, &events).await
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
