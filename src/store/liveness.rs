//! When a token is live: the one rule (DESIGN.md, "Revocation state"), written once as
//! SQL and once in Rust over the same facts.
//!
//! A token is live when its row is not revoked, not rotated (only refresh tokens
//! rotate), not expired, its family is not revoked, its consent not withdrawn, and no
//! bulk-revocation watermark covers it. Every read that asks goes through here: the
//! look-up behind revocation, introspection and bearer tokens reads `tokens` joined
//! with [`with_family_and_consent`], selects the [`Facts`] with [`facts`] and asks
//! [`Facts::is_live`]; the refresh grant does the same inside its transaction;
//! revocations mark and bulk revocations count with [`live`].
//!
//! The look-up joins the family and the consent rather than asking `EXISTS` about
//! them as [`live`] must (an `UPDATE` cannot join): on SQLite each correlated
//! subquery is a subprogram with cursors of its own, run per row, and the hottest read
//! of all paid ~10% more CPU for them (BENCHMARKS.md, issue 12).

use diesel::dsl::{exists, not};
use diesel::prelude::*;

use super::schema::{consents, revocation_watermarks, token_families, tokens};
use crate::clock::UnixMicros;

/// What decides whether one token is live, as read with its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub revoked_at: Option<UnixMicros>,
    pub rotated_at: Option<UnixMicros>,
    pub expires_at: UnixMicros,
    pub family_revoked: bool,
    pub consent_withdrawn: bool,
    /// A bulk revocation's watermark covers it.
    pub watermarked: bool,
}

impl Facts {
    /// The rule, in Rust; [`live`] is the same rule in SQL.
    pub fn is_live(&self, now: UnixMicros) -> bool {
        self.revoked_at.is_none()
            && self.rotated_at.is_none()
            && self.expires_at > now
            && !self.family_revoked
            && !self.consent_withdrawn
            && !self.watermarked
    }
}

/// The rule, in SQL, for the row of `tokens` the enclosing statement is on: usable in
/// the `WHERE` of a `SELECT`, a `COUNT` or an `UPDATE tokens`.
#[diesel::dsl::auto_type]
pub fn live(now: UnixMicros) -> _ {
    tokens::expires_at.gt(now).and(not_ended())
}

/// All of [`live`] but the expiry: the part that depends on no value, so that its text
/// can be written out once ([`not_ended_pg_text`]).
#[diesel::dsl::auto_type]
pub fn not_ended() -> _ {
    tokens::revoked_at
        .is_null()
        .and(tokens::rotated_at.is_null())
        .and(not(family_revoked()))
        .and(not(consent_withdrawn()))
        .and(not(watermarked()))
}

/// [`not_ended`] as PostgreSQL text, written out once per process: diesel-async writes
/// out every statement's text on every call, and this fragment's three subqueries were
/// most of what the fast path of a revocation cost (BENCHMARKS.md). It has no bind
/// parameters, so the text stands alone.
pub fn not_ended_pg_text() -> &'static str {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEXT.get_or_init(|| {
        use diesel::query_builder::{QueryBuilder, QueryFragment};
        let mut builder = diesel::pg::PgQueryBuilder::default();
        match not_ended().to_sql(&mut builder, &diesel::pg::Pg) {
            Ok(()) => builder.finish(),
            // Only a defect in the fragment could fail here; this SQL then fails the
            // statement (a 503), never a revocation that looks done.
            Err(_) => "FALSE".to_owned(),
        }
    })
}

/// [`live`] for a hand-written PostgreSQL statement on `tokens` (unqualified or the
/// table's own name): the expiry bound to `at`, the rest as the text written out once.
pub fn push_live_pg<'b>(
    out: &mut diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    at: &'b UnixMicros,
) -> QueryResult<()> {
    out.push_sql("tokens.expires_at > ");
    out.push_bind_param::<diesel::sql_types::BigInt, _>(at)?;
    out.push_sql(" AND ");
    out.push_sql(not_ended_pg_text());
    Ok(())
}

/// `tokens` with its family and consent (if any) joined in, for [`facts`].
#[diesel::dsl::auto_type]
pub fn with_family_and_consent() -> _ {
    tokens::table
        .left_join(
            token_families::table.on(token_families::domain_id
                .eq(tokens::domain_id)
                .and(token_families::id.nullable().eq(tokens::family_ref))),
        )
        .left_join(
            consents::table.on(consents::domain_id
                .eq(tokens::domain_id)
                .and(consents::id.nullable().eq(tokens::consent_ref))),
        )
}

/// [`watermarked`] for PostgreSQL's look-ups: the same subquery, its text written out
/// once per process (diesel-async writes out every statement per call, and this is the
/// biggest part of the look-up). It binds nothing, and it is found in the statement
/// cache by type like the rest of the look-up.
#[derive(Debug, Clone, Copy, diesel::query_builder::QueryId, diesel::expression::ValidGrouping)]
pub struct WatermarkedPg;

impl Expression for WatermarkedPg {
    type SqlType = diesel::sql_types::Bool;
}

impl<QS> AppearsOnTable<QS> for WatermarkedPg {}

impl<QS> SelectableExpression<QS> for WatermarkedPg {}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for WatermarkedPg {
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let text = TEXT.get_or_init(|| {
            use diesel::query_builder::{QueryBuilder, QueryFragment};
            let mut builder = diesel::pg::PgQueryBuilder::default();
            match QueryFragment::<diesel::pg::Pg>::to_sql(&watermarked(), &mut builder, &diesel::pg::Pg) {
                Ok(()) => builder.finish(),
                // Only a defect could fail here; the statement then fails (a 503).
                Err(_) => "(".to_owned(),
            }
        });
        out.push_sql(text);
        Ok(())
    }
}

/// [`facts`] for PostgreSQL, with [`WatermarkedPg`].
#[diesel::dsl::auto_type]
pub fn facts_pg() -> _ {
    (
        token_families::revoked_at.nullable().is_not_null(),
        consents::revoked_at.nullable().is_not_null(),
        WatermarkedPg,
    )
}

/// The three facts that live outside the token's row, for the `SELECT` of a look-up
/// over [`with_family_and_consent`] (the row itself brings the others): the same
/// rule as [`family_revoked`], [`consent_withdrawn`] and [`watermarked`].
#[diesel::dsl::auto_type]
pub fn facts() -> _ {
    (
        token_families::revoked_at.nullable().is_not_null(),
        consents::revoked_at.nullable().is_not_null(),
        watermarked(),
    )
}

/// The token's family (if it has one) is revoked.
#[diesel::dsl::auto_type]
pub fn family_revoked() -> _ {
    exists(
        token_families::table
            .filter(token_families::domain_id.eq(tokens::domain_id))
            .filter(token_families::id.nullable().eq(tokens::family_ref))
            .filter(token_families::revoked_at.is_not_null())
            .select(token_families::id),
    )
}

/// The consent the token was issued under (if any) is withdrawn.
#[diesel::dsl::auto_type]
pub fn consent_withdrawn() -> _ {
    exists(
        consents::table
            .filter(consents::domain_id.eq(tokens::domain_id))
            .filter(consents::id.nullable().eq(tokens::consent_ref))
            .filter(consents::revoked_at.is_not_null())
            .select(consents::id),
    )
}

/// A watermark revokes the token: one of its user and/or client, of its kind (or
/// both kinds), set after the token was issued.
#[diesel::dsl::auto_type]
pub fn watermarked() -> _ {
    exists(
        revocation_watermarks::table
            .filter(revocation_watermarks::domain_id.eq(tokens::domain_id))
            .filter(
                revocation_watermarks::user_ref
                    .is_null()
                    .or(revocation_watermarks::user_ref.eq(tokens::user_ref)),
            )
            .filter(
                revocation_watermarks::client_ref
                    .is_null()
                    .or(revocation_watermarks::client_ref.eq(tokens::client_ref.nullable())),
            )
            .filter(
                revocation_watermarks::token_kind
                    .is_null()
                    .or(revocation_watermarks::token_kind.eq(tokens::kind.nullable())),
            )
            .filter(revocation_watermarks::revoked_before.gt(tokens::issued_at))
            .select(revocation_watermarks::id),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_written_out_fragment_has_no_parameters() {
        let text = not_ended_pg_text();
        assert!(
            text.contains("\"revoked_at\" IS NULL") && text.contains("EXISTS"),
            "{text}"
        );
        assert!(!text.contains('$'), "{text}");
    }

    const NOW: UnixMicros = 1_000;

    fn live_facts() -> Facts {
        Facts {
            revoked_at: None,
            rotated_at: None,
            expires_at: NOW + 1,
            family_revoked: false,
            consent_withdrawn: false,
            watermarked: false,
        }
    }

    #[test]
    fn any_one_fact_kills() {
        assert!(live_facts().is_live(NOW));
        let dead = [
            Facts {
                revoked_at: Some(1),
                ..live_facts()
            },
            Facts {
                rotated_at: Some(1),
                ..live_facts()
            },
            Facts {
                expires_at: NOW,
                ..live_facts()
            },
            Facts {
                family_revoked: true,
                ..live_facts()
            },
            Facts {
                consent_withdrawn: true,
                ..live_facts()
            },
            Facts {
                watermarked: true,
                ..live_facts()
            },
        ];
        for facts in dead {
            assert!(!facts.is_live(NOW), "{facts:?}");
        }
    }
}
