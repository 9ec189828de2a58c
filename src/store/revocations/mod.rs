//! The revocation pipeline: every way of revoking (a client at any level, refresh-token
//! reuse, consent withdrawal, bulk revocation) describes itself as one [`Revocation`]
//! and is carried out by [`execute`], inside a transaction, many at a time.
//!
//! `execute` is the only writer of `revoked_at` (tokens, families, consents) and of
//! watermarks, and the one place where the side effects of a revocation are written,
//! in this order: the marks (`marks.rs`, `bulk.rs`), the status-list bits of the access
//! tokens it ended (`store::status_lists`), then the audit event ([`record`]). A new
//! side effect (an outbox row) is one more step at the end of [`execute`], and one more
//! CTE in the PostgreSQL fast path (`fast_path.rs`), which carries out the commonest
//! batch in one statement built from the same pieces.
//!
//! Rows are marked in one order on every path, tokens, then families, then consents,
//! so concurrent revocations and refreshes take their locks in the same order (and a
//! token's liveness is judged before its family or consent is marked).

mod bulk;
mod fast_path;
mod marks;
mod pg_batch;
mod value;

use std::collections::BTreeMap;

use serde_json::json;

pub use bulk::{Bulk, count_live};
pub(super) use pg_batch::run as run_pg_batch;
pub use value::{Reach, Revocation, RevokedBy};

use super::models::NewAuditEvent;
use super::status_lists::{self, DomainSlot};
use super::{Db, StoreError, audit};
use crate::clock::UnixMicros;
use crate::domain::revocation::{Plan, Reason, RevokeLevel, TokenKind};
use marks::{Marking, TokenReach};

/// What one revocation ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Revoked {
    /// Tokens of each kind that were live and are dead now.
    pub access: usize,
    pub refresh: usize,
    /// Consents withdrawn.
    #[serde(skip)]
    pub consents: usize,
}

impl Revoked {
    /// Tokens ended.
    pub fn total(self) -> usize {
        self.access + self.refresh
    }

    /// Whether it ended a token or withdrew a consent.
    pub fn ended_anything(self) -> bool {
        self.total() > 0 || self.consents > 0
    }

    fn add(&mut self, kind: TokenKind) {
        match kind {
            TokenKind::Access => self.access += 1,
            TokenKind::Refresh => self.refresh += 1,
        }
    }
}

/// Carries out `batch` inside the caller's transaction and answers what each member
/// ended, in order. Each token the batch ends is counted once, for the first member
/// that reaches it, as if they had run one after the other. A failure fails the whole
/// batch (the caller rolls it back and may retry the members one by one).
pub async fn execute(db: &mut Db<'_>, batch: &[Revocation]) -> Result<Vec<Revoked>, StoreError> {
    let (revoked, bits) = execute_leaving_bits(db, batch).await?;
    status_lists::set_bits(db, &bits).await?;
    Ok(revoked)
}

/// [`execute`], but the status-list bits are the caller's to set, with
/// `status_lists::set_bits`, as the last write of its transaction. A transaction that
/// goes on writing after a revocation (a refresh's retry inserts the new pair) does
/// this: a large set of bits is written to the chunks, rows every revocation of the
/// domain may want, and a transaction that holds one while it waits for another row
/// closes a cycle with one that holds that row and waits for the chunk.
pub async fn execute_leaving_bits(
    db: &mut Db<'_>,
    batch: &[Revocation],
) -> Result<(Vec<Revoked>, Vec<DomainSlot>), StoreError> {
    let at = batch_time(batch);
    let mut revoked = vec![Revoked::default(); batch.len()];
    // Whom each member reached, as its audit event names them.
    let mut reached: Vec<Reached> = batch.iter().map(Reached::named_by).collect();
    // The status-list bits of every access token the batch ends.
    let mut bits: Vec<DomainSlot> = Vec::new();

    // Members that mark the same way share statements.
    let mut groups: BTreeMap<(i64, Marking<'_>), Vec<usize>> = BTreeMap::new();
    for (index, member) in batch.iter().enumerate() {
        groups
            .entry((member.domain_id, member.marking()))
            .or_default()
            .push(index);
    }
    for ((domain_id, marking), members) in groups {
        let mut reach = TokenReach::default();
        for &i in &members {
            match &batch[i].reach {
                Reach::Token { plan, .. } => {
                    reach.tokens.push(plan.token);
                    reach.families.extend(plan.family);
                    reach.consents.extend(plan.consent);
                }
                Reach::ReusedFamily(family) => reach.families.push(*family),
                Reach::Consent { consent, user_ref } => {
                    if let Some(client) = marks::active_consent_of(db, domain_id, *consent, *user_ref).await? {
                        reach.consents.push(*consent);
                        reached[i].client = Some(client);
                    }
                }
                Reach::Watermark(bulk) => {
                    let ended = bulk::execute(db, domain_id, bulk, at, &marking).await?;
                    revoked[i] = ended.revoked;
                    bits.extend(ended.slots.into_iter().map(|slot| (domain_id, slot)));
                }
            }
        }
        reach.dedup();
        if reach.is_empty() {
            continue;
        }
        let marked = marks::mark_tokens(db, domain_id, &reach, at, &marking).await?;
        for token in &marked {
            if let Some(&first) = members.iter().find(|&&i| batch[i].reaches(token)) {
                revoked[first].add(token.kind);
                reached[first].add(token);
            }
        }
        let marked_slots = status_lists::slots(marked.iter().map(|t| (t.status_list, t.status_idx)));
        bits.extend(marked_slots.into_iter().map(|slot| (domain_id, slot)));
        marks::mark_families(db, domain_id, &reach.families, &reach.consents, at, &marking).await?;
        let withdrawn = marks::mark_consents(db, domain_id, &reach.consents, at, &marking).await?;
        if let Db::Postgres(_) = db {
            // Tokens a concurrent grant put in these families or under these consents
            // after the marking's snapshot are committed now (its foreign keys held the
            // rows just marked) and dead through them: their bits too.
            let late = status_lists::unmarked_dead_under(db, domain_id, &reach.families, &reach.consents, at).await?;
            bits.extend(late.into_iter().map(|slot| (domain_id, slot)));
        }
        // A withdrawal is counted for the first member that reaches the consent.
        for consent in withdrawn {
            if let Some(&first) = members.iter().find(|&&i| batch[i].reaches_consent(consent)) {
                revoked[first].consents += 1;
            }
        }
    }
    record(db, batch, &revoked, &reached, at).await?;
    Ok((revoked, bits))
}

/// The user and the client a revocation reached, as its audit event names them: what
/// the revocation itself names (a consent's user, a bulk revocation's user and
/// client), else those of the first token it ended.
#[derive(Debug, Clone, Copy, Default)]
struct Reached {
    user: Option<i64>,
    client: Option<i64>,
}

impl Reached {
    fn named_by(revocation: &Revocation) -> Self {
        match &revocation.reach {
            Reach::Consent { user_ref, .. } => Self {
                user: Some(*user_ref),
                client: None,
            },
            Reach::Watermark(bulk) => Self {
                user: bulk.user.as_ref().map(|(id, _)| *id),
                client: bulk.client.as_ref().map(|(id, _)| *id),
            },
            Reach::Token { .. } | Reach::ReusedFamily(_) => Self::default(),
        }
    }

    fn add(&mut self, token: &marks::Marked) {
        if self.user.is_none() {
            self.user = token.user;
        }
        if self.client.is_none() {
            self.client = Some(token.client);
        }
    }
}

/// What revoking `plan` would end now: its live tokens by kind, and its consent if
/// active (a dry run; the revocation itself counts as it marks).
pub async fn count_live_in_plan(
    db: &mut Db<'_>,
    domain_id: i64,
    plan: &Plan,
    now: UnixMicros,
) -> Result<Revoked, StoreError> {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;

    use super::liveness;
    use super::schema::{consents, tokens};

    let family = plan.family.unwrap_or(-1);
    let consent = plan.consent.unwrap_or(-1);
    let kinds: Vec<TokenKind> = crate::on_db!(db, |conn| tokens::table
        .filter(tokens::domain_id.eq(domain_id))
        .filter(
            tokens::id
                .eq(plan.token)
                .or(tokens::family_ref.eq(family).assume_not_null())
                .or(tokens::consent_ref.eq(consent).assume_not_null())
        )
        .filter(liveness::live(now))
        .select(tokens::kind)
        .load(conn)
        .await)?;
    let mut revoked = Revoked::default();
    for kind in kinds {
        revoked.add(kind);
    }
    if plan.consent.is_some() {
        let active: i64 = crate::on_db!(db, |conn| consents::table
            .filter(consents::domain_id.eq(domain_id))
            .filter(consents::id.eq(consent))
            .filter(consents::revoked_at.is_null())
            .count()
            .get_result(conn)
            .await)?;
        revoked.consents = usize::try_from(active).unwrap_or_default();
    }
    Ok(revoked)
}

fn batch_time(batch: &[Revocation]) -> UnixMicros {
    batch.iter().map(|r| r.at).max().unwrap_or_default()
}

/// Whether a revocation changed anything worth an audit event: it ended tokens,
/// withdrew a consent, or (bulk) set a watermark, which it always does.
fn changed(revocation: &Revocation, revoked: Revoked) -> bool {
    revoked.total() > 0 || revoked.consents > 0 || matches!(revocation.reach, Reach::Watermark(_))
}

/// One audit event per revocation that changed something, all in one insert.
async fn record(
    db: &mut Db<'_>,
    batch: &[Revocation],
    revoked: &[Revoked],
    reached: &[Reached],
    at: UnixMicros,
) -> Result<(), StoreError> {
    let events: Vec<NewAuditEvent<'_>> = batch
        .iter()
        .zip(revoked)
        .zip(reached)
        .filter(|((revocation, revoked), _)| changed(revocation, **revoked))
        .map(|((revocation, revoked), reached)| {
            let mut event = audit_event(revocation, *revoked, at);
            event.user_ref = reached.user;
            event.client_ref = reached.client;
            event
        })
        .collect();
    audit::record_many(db, &events).await
}

/// The audit event of a revocation that ended `revoked`.
fn audit_event(revocation: &Revocation, revoked: Revoked, at: UnixMicros) -> NewAuditEvent<'_> {
    NewAuditEvent {
        domain_id: revocation.domain_id,
        occurred_at: at,
        action: revocation.action(),
        actor: &revocation.by.name,
        request_id: revocation.request_id.as_deref(),
        details: details(revocation, revoked),
        user_ref: None,
        client_ref: None,
    }
}

/// What the audit event says beyond who and when: never a token or a secret.
fn details(revocation: &Revocation, revoked: Revoked) -> String {
    let mut details = json!({
        "level": revocation.level.map(RevokeLevel::as_str),
        "initiating_entity": revocation.by.entity.as_str(),
        "reason": revocation.reason.as_ref().map(Reason::as_str),
        "revoked": revoked,
        "count": revoked.total(),
    });
    let extra = match &revocation.reach {
        Reach::Token { plan, kind } => json!({
            "token_kind": kind.as_str(),
            "family_id": plan.family,
            "consent_id": plan.consent,
        }),
        Reach::ReusedFamily(family) => json!({ "family_id": family }),
        Reach::Consent { consent, .. } => json!({ "consent_id": consent }),
        Reach::Watermark(bulk) => bulk.details(revoked),
    };
    if let (Some(details), serde_json::Value::Object(extra)) = (details.as_object_mut(), extra) {
        details.extend(extra);
        if let Some(decision) = &revocation.policy {
            details.insert("policy".into(), json!(decision));
        }
    }
    details.to_string()
}

#[cfg(test)]
mod tests {
    use super::marks::Marked;
    use super::*;

    fn by_client(token: i64, family: Option<i64>) -> Revocation {
        Revocation {
            domain_id: 1,
            reach: Reach::Token {
                plan: Plan {
                    token,
                    family,
                    consent: None,
                },
                kind: TokenKind::Refresh,
            },
            by: RevokedBy::client("web", false),
            level: Some(RevokeLevel::RelatedTokens),
            reason: None,
            request_id: None,
            at: 10,
            policy: None,
        }
    }

    fn marked(id: i64, family: Option<i64>) -> Marked {
        Marked {
            id,
            family,
            consent: None,
            kind: TokenKind::Access,
            status_list: None,
            status_idx: None,
            user: Some(7),
            client: 2,
        }
    }

    #[test]
    fn a_member_reaches_its_token_and_its_family() {
        let revocation = by_client(1, Some(9));
        assert!(revocation.reaches(&marked(1, None)));
        assert!(revocation.reaches(&marked(3, Some(9))));
        assert!(!revocation.reaches(&marked(4, Some(8))));
        assert!(!by_client(2, None).reaches(&marked(3, None)));
    }

    #[test]
    fn a_withdrawal_reaches_its_consent_and_its_tokens() {
        let revocation = Revocation::consent_withdrawal(1, 5, 7, "alice", None, None, 10);
        let under = Marked {
            consent: Some(5),
            ..marked(3, None)
        };
        assert!(revocation.reaches(&under));
        assert!(revocation.reaches_consent(5));
        assert!(!revocation.reaches_consent(6));
        assert_eq!(
            revocation.reason.as_ref().map(Reason::as_str),
            Some("consent_withdrawn")
        );
        assert_eq!(revocation.by.name, "user:alice");
    }

    #[test]
    fn details_name_the_level_the_reason_and_the_counts() {
        let mut revocation = by_client(1, Some(9));
        revocation.reason = Reason::parse("lost phone").ok();
        let revoked = Revoked {
            access: 2,
            refresh: 1,
            consents: 0,
        };
        let details: serde_json::Value = serde_json::from_str(&details(&revocation, revoked)).unwrap();
        assert_eq!(details["level"], "RELATED_TOKENS");
        assert_eq!(details["reason"], "lost phone");
        assert_eq!(details["initiating_entity"], "system");
        assert_eq!(details["revoked"], json!({"access": 2, "refresh": 1}));
        assert_eq!(details["count"], 3);
        assert_eq!(details["family_id"], 9);
        assert_eq!(details["token_kind"], "refresh");
    }

    #[test]
    fn details_keep_the_policy_decision_when_one_ran() {
        let mut revocation = by_client(1, None);
        let plain: serde_json::Value = serde_json::from_str(&details(&revocation, Revoked::default())).unwrap();
        assert!(plain.get("policy").is_none());
        revocation.policy = Some(Box::new(crate::domain::policy::Decision::failed("division by zero")));
        let details: serde_json::Value = serde_json::from_str(&details(&revocation, Revoked::default())).unwrap();
        assert_eq!(
            details["policy"],
            json!({"allow": true, "revoke_level": null, "reason": null, "error": "division by zero"})
        );
    }

    #[test]
    fn only_single_token_reaches_take_the_fast_path() {
        assert_eq!(by_client(1, None).single_token(), Some(1));
        assert_eq!(by_client(1, Some(9)).single_token(), None);
        assert_eq!(Revocation::reuse(1, 9, None, 10).single_token(), None);
    }
}
