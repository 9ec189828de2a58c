//! Tokens, found by the SHA-256 of the presented string within their domain
//! (`UNIQUE (domain_id, token_hash)`), and their families.

use diesel::dsl::exists;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{FamilyRow, NewFamily, NewToken, TokenRow};
use super::schema::{clients, consents, token_families, tokens, users};
use super::{Db, StoreError, watermarks};
use crate::clock::UnixMicros;
use crate::domain::revocation::Plan;
use crate::on_db;

pub const ACCESS: &str = "access";
pub const REFRESH: &str = "refresh";

/// Inserts a token; returns its id.
pub async fn insert(db: &mut Db<'_>, new: &NewToken<'_>) -> Result<i64, StoreError> {
    Ok(on_db!(db, |conn| diesel::insert_into(tokens::table)
        .values(new)
        .returning(tokens::id)
        .get_result(conn)
        .await)?)
}

pub async fn find_by_hash(db: &mut Db<'_>, domain_id: i64, hash: &[u8]) -> Result<Option<TokenRow>, StoreError> {
    Ok(on_db!(db, |conn| tokens::table
        .filter(tokens::domain_id.eq(domain_id))
        .filter(tokens::token_hash.eq(hash))
        .select(TokenRow::as_select())
        .get_result(conn)
        .await
        .optional())?)
}

/// Marks a refresh token as replaced, if no one else did first. The condition in the
/// `WHERE` decides races between concurrent refreshes: on PostgreSQL the second
/// transaction waits for the first's row lock and then matches nothing; on SQLite
/// writes are serial.
pub async fn mark_rotated(db: &mut Db<'_>, domain_id: i64, id: i64, now: UnixMicros) -> Result<bool, StoreError> {
    let updated = on_db!(db, |conn| diesel::update(
        tokens::table
            .filter(tokens::domain_id.eq(domain_id))
            .filter(tokens::id.eq(id))
            .filter(tokens::rotated_at.is_null())
            .filter(tokens::revoked_at.is_null())
    )
    .set(tokens::rotated_at.eq(now))
    .execute(conn)
    .await)?;
    Ok(updated == 1)
}

pub async fn insert_family(db: &mut Db<'_>, new: &NewFamily) -> Result<i64, StoreError> {
    Ok(on_db!(db, |conn| diesel::insert_into(token_families::table)
        .values(new)
        .returning(token_families::id)
        .get_result(conn)
        .await)?)
}

pub async fn find_family(db: &mut Db<'_>, domain_id: i64, id: i64) -> Result<Option<FamilyRow>, StoreError> {
    Ok(on_db!(db, |conn| token_families::table
        .filter(token_families::domain_id.eq(domain_id))
        .filter(token_families::id.eq(id))
        .select(FamilyRow::as_select())
        .get_result(conn)
        .await
        .optional())?)
}

/// Who revoked something and why, as kept on the rows.
#[derive(Debug, Clone)]
pub struct Revocation<'a> {
    pub at: UnixMicros,
    pub by: &'a str,
    pub reason: &'a str,
}

/// How many tokens of each kind a revocation ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Revoked {
    pub access: usize,
    pub refresh: usize,
}

impl Revoked {
    pub fn total(self) -> usize {
        self.access + self.refresh
    }

    fn add(&mut self, kinds: Vec<String>) {
        for kind in kinds {
            if kind == ACCESS {
                self.access += 1;
            } else {
                self.refresh += 1;
            }
        }
    }
}

impl std::ops::AddAssign for Revoked {
    fn add_assign(&mut self, other: Self) {
        self.access += other.access;
        self.refresh += other.refresh;
    }
}

/// Which tokens one revocation statement marks.
#[derive(Debug, Clone, Copy)]
enum Reach {
    Token(i64),
    Family(i64),
    Consent(i64),
}

/// Marks the live tokens of `reach` revoked; returns how many of each kind. Only live
/// tokens are marked, so the counts say what a revocation ended.
async fn mark_revoked(
    db: &mut Db<'_>,
    domain_id: i64,
    reach: Reach,
    how: &Revocation<'_>,
) -> Result<Revoked, StoreError> {
    let kinds: Vec<String> = on_db!(db, |conn| {
        let live = diesel::update(tokens::table)
            .filter(tokens::domain_id.eq(domain_id))
            .filter(tokens::revoked_at.is_null())
            .filter(tokens::rotated_at.is_null())
            .filter(tokens::expires_at.gt(how.at))
            .into_boxed();
        let reached = match reach {
            Reach::Token(id) => live.filter(tokens::id.eq(id)),
            Reach::Family(family) => live.filter(tokens::family_ref.eq(family)),
            Reach::Consent(consent) => live.filter(tokens::consent_ref.eq(consent)),
        };
        reached
            .set((
                tokens::revoked_at.eq(how.at),
                tokens::revoked_by.eq(how.by),
                tokens::revoked_reason.eq(how.reason),
            ))
            .returning(tokens::kind)
            .get_results(conn)
            .await
    })?;
    let mut revoked = Revoked::default();
    revoked.add(kinds);
    Ok(revoked)
}

/// Marks families revoked: one, or every family under a consent.
async fn mark_families_revoked(
    db: &mut Db<'_>,
    domain_id: i64,
    reach: Reach,
    how: &Revocation<'_>,
) -> Result<(), StoreError> {
    on_db!(db, |conn| {
        let open = diesel::update(token_families::table)
            .filter(token_families::domain_id.eq(domain_id))
            .filter(token_families::revoked_at.is_null())
            .into_boxed();
        let reached = match reach {
            Reach::Consent(consent) => open.filter(token_families::consent_ref.eq(consent)),
            Reach::Family(id) | Reach::Token(id) => open.filter(token_families::id.eq(id)),
        };
        reached
            .set((
                token_families::revoked_at.eq(how.at),
                token_families::revoked_reason.eq(how.reason),
            ))
            .execute(conn)
            .await
    })?;
    Ok(())
}

/// Revokes one token unless it already is.
pub async fn revoke_token(
    db: &mut Db<'_>,
    domain_id: i64,
    id: i64,
    how: &Revocation<'_>,
) -> Result<Revoked, StoreError> {
    mark_revoked(db, domain_id, Reach::Token(id), how).await
}

/// Revokes a family and every live token in it.
pub async fn revoke_family(
    db: &mut Db<'_>,
    domain_id: i64,
    family_id: i64,
    how: &Revocation<'_>,
) -> Result<Revoked, StoreError> {
    mark_families_revoked(db, domain_id, Reach::Family(family_id), how).await?;
    mark_revoked(db, domain_id, Reach::Family(family_id), how).await
}

/// Withdraws a consent: the consent, every family under it and every live token
/// issued under it.
pub async fn revoke_consent(
    db: &mut Db<'_>,
    domain_id: i64,
    consent_id: i64,
    how: &Revocation<'_>,
) -> Result<Revoked, StoreError> {
    on_db!(db, |conn| diesel::update(
        consents::table
            .filter(consents::domain_id.eq(domain_id))
            .filter(consents::id.eq(consent_id))
            .filter(consents::revoked_at.is_null())
    )
    .set((consents::revoked_at.eq(how.at), consents::revoked_reason.eq(how.reason)))
    .execute(conn)
    .await)?;
    mark_families_revoked(db, domain_id, Reach::Consent(consent_id), how).await?;
    mark_revoked(db, domain_id, Reach::Consent(consent_id), how).await
}

/// Carries out a revocation plan; the caller's transaction makes it all or nothing.
pub async fn execute(
    db: &mut Db<'_>,
    domain_id: i64,
    plan: &Plan,
    how: &Revocation<'_>,
) -> Result<Revoked, StoreError> {
    let mut revoked = revoke_token(db, domain_id, plan.token, how).await?;
    if let Some(family) = plan.family {
        revoked += revoke_family(db, domain_id, family, how).await?;
    }
    if let Some(consent) = plan.consent {
        revoked += revoke_consent(db, domain_id, consent, how).await?;
    }
    Ok(revoked)
}

/// A token with what decides whether it is live and what introspection shows.
#[derive(Debug, Clone)]
pub struct TokenView {
    pub token: TokenRow,
    pub client_id: String,
    pub username: Option<String>,
    pub family_revoked_at: Option<UnixMicros>,
    pub consent_revoked_at: Option<UnixMicros>,
    /// A bulk revocation's watermark covers it.
    pub watermarked: bool,
}

/// A token row with its client's id, user's name, family and consent revocation times,
/// and whether a watermark covers it.
type ViewRow = (
    TokenRow,
    String,
    Option<String>,
    Option<UnixMicros>,
    Option<UnixMicros>,
    bool,
);

/// One indexed look-up by `(domain_id, token_hash)` with the token's client, user,
/// family, consent and covering watermarks joined in: one statement for everything
/// that decides whether the token is live.
pub async fn view_by_hash(db: &mut Db<'_>, domain_id: i64, hash: &[u8]) -> Result<Option<TokenView>, StoreError> {
    let found: Option<ViewRow> = on_db!(db, |conn| {
        tokens::table
            .inner_join(
                clients::table.on(clients::domain_id
                    .eq(tokens::domain_id)
                    .and(clients::id.eq(tokens::client_ref))),
            )
            .left_join(
                users::table.on(users::domain_id
                    .eq(tokens::domain_id)
                    .and(users::id.nullable().eq(tokens::user_ref))),
            )
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
            .filter(tokens::domain_id.eq(domain_id))
            .filter(tokens::token_hash.eq(hash))
            .select((
                TokenRow::as_select(),
                clients::client_id,
                users::username.nullable(),
                token_families::revoked_at.nullable(),
                consents::revoked_at.nullable(),
                exists(watermarks::covering_current_token()),
            ))
            .get_result(conn)
            .await
            .optional()
    })?;
    let Some((token, client_id, username, family_revoked_at, consent_revoked_at, watermarked)) = found else {
        return Ok(None);
    };
    Ok(Some(TokenView {
        token,
        client_id,
        username,
        family_revoked_at,
        consent_revoked_at,
        watermarked,
    }))
}

impl TokenView {
    /// Live: not revoked (itself, its family, its consent or a bulk watermark), not
    /// expired, and for a refresh token not yet replaced by rotation.
    pub fn is_live(&self, now: UnixMicros) -> bool {
        let t = &self.token;
        t.revoked_at.is_none()
            && t.expires_at > now
            && !(t.kind == REFRESH && t.rotated_at.is_some())
            && self.family_revoked_at.is_none()
            && self.consent_revoked_at.is_none()
            && !self.watermarked
    }
}
