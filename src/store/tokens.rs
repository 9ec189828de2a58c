//! Tokens, found by the SHA-256 of the presented string within their domain
//! (`UNIQUE (domain_id, token_hash)`), and their families.

use diesel::backend::Backend;
use diesel::dsl::exists;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{Array, BigInt, Binary, Nullable, Text};
use diesel::sqlite::Sqlite;
use diesel_async::RunQueryDsl;

use super::models::{FamilyRow, NewFamily, NewToken, TokenRow};
use super::schema::{clients, consents, token_families, tokens, users};
use super::{Db, StoreError, watermarks};
use crate::clock::UnixMicros;
use crate::on_db;
use crate::security::Sha256Digest;

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

/// An access token of a `client_credentials` grant, ready to store: it belongs to no
/// family, user or consent.
#[derive(Debug, Clone)]
pub struct ClientToken {
    pub domain_id: i64,
    pub client_ref: i64,
    pub token_hash: Sha256Digest,
    pub jti: String,
    pub scopes: String,
    pub issued_at: UnixMicros,
    pub expires_at: UnixMicros,
}

/// Stores client tokens: on PostgreSQL in one statement whose text does not depend on
/// their number (`unnest` of arrays, prepared once), on SQLite one cached insert each.
pub async fn insert_client_tokens(db: &mut Db<'_>, issued: &[ClientToken]) -> Result<(), StoreError> {
    match db {
        Db::Postgres(conn) => {
            if !issued.is_empty() {
                ClientTokenRows::new(issued).execute(&mut **conn).await?;
            }
        }
        Db::Sqlite(_) => {
            for token in issued {
                insert(
                    db,
                    &NewToken {
                        domain_id: token.domain_id,
                        kind: ACCESS,
                        token_hash: token.token_hash.as_bytes(),
                        jti: &token.jti,
                        family_ref: None,
                        parent_ref: None,
                        client_ref: token.client_ref,
                        user_ref: None,
                        consent_ref: None,
                        scopes: &token.scopes,
                        issued_at: token.issued_at,
                        expires_at: token.expires_at,
                    },
                )
                .await?;
            }
        }
    }
    Ok(())
}

/// `INSERT INTO tokens … SELECT … FROM unnest(…)`, one array per column.
struct ClientTokenRows<'a> {
    domain_ids: Vec<i64>,
    hashes: Vec<&'a [u8]>,
    jtis: Vec<&'a str>,
    client_refs: Vec<i64>,
    scopes: Vec<&'a str>,
    issued_at: Vec<i64>,
    expires_at: Vec<i64>,
}

impl<'a> ClientTokenRows<'a> {
    fn new(issued: &'a [ClientToken]) -> Self {
        Self {
            domain_ids: issued.iter().map(|t| t.domain_id).collect(),
            hashes: issued.iter().map(|t| t.token_hash.as_bytes().as_slice()).collect(),
            jtis: issued.iter().map(|t| t.jti.as_str()).collect(),
            client_refs: issued.iter().map(|t| t.client_ref).collect(),
            scopes: issued.iter().map(|t| t.scopes.as_str()).collect(),
            issued_at: issued.iter().map(|t| t.issued_at).collect(),
            expires_at: issued.iter().map(|t| t.expires_at).collect(),
        }
    }
}

impl QueryFragment<Pg> for ClientTokenRows<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "INSERT INTO tokens (domain_id, kind, token_hash, jti, client_ref, scopes, issued_at, expires_at) \
             SELECT domain_id, 'access', token_hash, jti, client_ref, scopes, issued_at, expires_at FROM unnest(",
        );
        super::push_binds!(
            out,
            Array<BigInt> => &self.domain_ids,
            Array<Binary> => &self.hashes,
            Array<Text> => &self.jtis,
            Array<BigInt> => &self.client_refs,
            Array<Text> => &self.scopes,
            Array<BigInt> => &self.issued_at,
            Array<BigInt> => &self.expires_at,
        );
        out.push_sql(") AS t (domain_id, token_hash, jti, client_ref, scopes, issued_at, expires_at)");
        Ok(())
    }
}

impl QueryId for ClientTokenRows<'_> {
    type QueryId = ();
    // Cached by its text, which does not depend on the number of rows.
    const HAS_STATIC_QUERY_ID: bool = false;
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

    pub(super) fn add<'k>(&mut self, kinds: impl IntoIterator<Item = &'k str>) {
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

/// Which tokens one statement marks: by id, by family or by consent, many at once.
#[derive(Debug, Clone, Copy)]
pub(super) enum Reach<'a> {
    Tokens(&'a [i64]),
    Families(&'a [i64]),
    Consents(&'a [i64]),
}

/// A token a revocation statement marked, with what tells which revocation reached it.
#[derive(Debug, Queryable)]
pub(super) struct Marked {
    pub id: i64,
    pub family: Option<i64>,
    pub consent: Option<i64>,
    pub kind: String,
}

/// Marks the live tokens of `reach` revoked. Only live tokens are marked, so what comes
/// back is exactly what the revocation ended.
pub(super) async fn mark_revoked(
    db: &mut Db<'_>,
    domain_id: i64,
    reach: Reach<'_>,
    how: &Revocation<'_>,
) -> Result<Vec<Marked>, StoreError> {
    if let Reach::Tokens(ids) = reach {
        let statement = MarkTokensRevoked::new(domain_id, ids, how);
        return Ok(on_db!(db, |conn| statement.get_results(conn).await)?);
    }
    Ok(on_db!(db, |conn| {
        let live = diesel::update(tokens::table)
            .filter(tokens::domain_id.eq(domain_id))
            .filter(tokens::revoked_at.is_null())
            .filter(tokens::rotated_at.is_null())
            .filter(tokens::expires_at.gt(how.at))
            .into_boxed();
        let reached = match reach {
            Reach::Tokens(ids) => live.filter(tokens::id.eq_any(ids)),
            Reach::Families(families) => live.filter(tokens::family_ref.eq_any(families)),
            Reach::Consents(consents) => live.filter(tokens::consent_ref.eq_any(consents)),
        };
        reached
            .set((
                tokens::revoked_at.eq(how.at),
                tokens::revoked_by.eq(how.by),
                tokens::revoked_reason.eq(how.reason),
            ))
            .returning((tokens::id, tokens::family_ref, tokens::consent_ref, tokens::kind))
            .get_results(conn)
            .await
    })?)
}

/// [`mark_revoked`] by token id, the revocation hot path, as a statement whose text does
/// not depend on how many ids it carries, so each connection prepares it once: SQLite
/// reads the ids from a JSON array (`json_each`), PostgreSQL from an array parameter.
/// (diesel prepares every `UPDATE` and every `IN (…)` list anew, which on the writer's
/// hot path cost more than the update itself.)
struct MarkTokensRevoked<'a> {
    domain_id: i64,
    ids: &'a [i64],
    ids_json: String,
    how: &'a Revocation<'a>,
}

impl<'a> MarkTokensRevoked<'a> {
    fn new(domain_id: i64, ids: &'a [i64], how: &'a Revocation<'a>) -> Self {
        let ids_json = format!("[{}]", ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
        Self {
            domain_id,
            ids,
            ids_json,
            how,
        }
    }

    /// Everything but the id list, which each backend spells its own way.
    fn walk_ast_with<'b, DB>(
        &'b self,
        mut out: AstPass<'_, 'b, DB>,
        ids: impl FnOnce(&mut AstPass<'_, 'b, DB>) -> QueryResult<()>,
    ) -> QueryResult<()>
    where
        DB: Backend,
        i64: ToSql<BigInt, DB>,
        str: ToSql<Text, DB>,
    {
        out.push_sql("UPDATE tokens SET revoked_at = ");
        out.push_bind_param::<BigInt, _>(&self.how.at)?;
        out.push_sql(", revoked_by = ");
        out.push_bind_param::<Text, _>(self.how.by)?;
        out.push_sql(", revoked_reason = ");
        out.push_bind_param::<Text, _>(self.how.reason)?;
        out.push_sql(" WHERE domain_id = ");
        out.push_bind_param::<BigInt, _>(&self.domain_id)?;
        out.push_sql(" AND ");
        ids(&mut out)?;
        out.push_sql(" AND revoked_at IS NULL AND rotated_at IS NULL AND expires_at > ");
        out.push_bind_param::<BigInt, _>(&self.how.at)?;
        out.push_sql(" RETURNING id, family_ref, consent_ref, kind");
        Ok(())
    }
}

impl QueryFragment<Sqlite> for MarkTokensRevoked<'_> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.walk_ast_with(out, |out| {
            out.push_sql("id IN (SELECT value FROM json_each(");
            out.push_bind_param::<Text, _>(self.ids_json.as_str())?;
            out.push_sql("))");
            Ok(())
        })
    }
}

impl QueryFragment<Pg> for MarkTokensRevoked<'_> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.walk_ast_with(out, |out| {
            out.push_sql("id = ANY(");
            out.push_bind_param::<Array<BigInt>, _>(self.ids)?;
            out.push_sql(")");
            Ok(())
        })
    }
}

impl QueryId for MarkTokensRevoked<'_> {
    type QueryId = ();
    // Cached by its text, which is fixed per backend.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for MarkTokensRevoked<'_> {
    type SqlType = (BigInt, Nullable<BigInt>, Nullable<BigInt>, Text);
}

/// Which families one statement marks.
#[derive(Debug, Clone, Copy)]
pub(super) enum Families<'a> {
    Ids(&'a [i64]),
    UnderConsents(&'a [i64]),
}

/// Marks families revoked.
pub(super) async fn mark_families_revoked(
    db: &mut Db<'_>,
    domain_id: i64,
    families: Families<'_>,
    how: &Revocation<'_>,
) -> Result<(), StoreError> {
    on_db!(db, |conn| {
        let open = diesel::update(token_families::table)
            .filter(token_families::domain_id.eq(domain_id))
            .filter(token_families::revoked_at.is_null())
            .into_boxed();
        let reached = match families {
            Families::Ids(ids) => open.filter(token_families::id.eq_any(ids)),
            Families::UnderConsents(consents) => open.filter(token_families::consent_ref.eq_any(consents)),
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

/// Marks consents withdrawn.
pub(super) async fn mark_consents_revoked(
    db: &mut Db<'_>,
    domain_id: i64,
    ids: &[i64],
    how: &Revocation<'_>,
) -> Result<(), StoreError> {
    on_db!(db, |conn| diesel::update(
        consents::table
            .filter(consents::domain_id.eq(domain_id))
            .filter(consents::id.eq_any(ids))
            .filter(consents::revoked_at.is_null())
    )
    .set((consents::revoked_at.eq(how.at), consents::revoked_reason.eq(how.reason)))
    .execute(conn)
    .await)?;
    Ok(())
}

fn count(marked: &[Marked]) -> Revoked {
    let mut revoked = Revoked::default();
    revoked.add(marked.iter().map(|m| m.kind.as_str()));
    revoked
}

/// Revokes one token unless it already is.
pub async fn revoke_token(
    db: &mut Db<'_>,
    domain_id: i64,
    id: i64,
    how: &Revocation<'_>,
) -> Result<Revoked, StoreError> {
    Ok(count(&mark_revoked(db, domain_id, Reach::Tokens(&[id]), how).await?))
}

/// Revokes a family and every live token in it.
pub async fn revoke_family(
    db: &mut Db<'_>,
    domain_id: i64,
    family_id: i64,
    how: &Revocation<'_>,
) -> Result<Revoked, StoreError> {
    mark_families_revoked(db, domain_id, Families::Ids(&[family_id]), how).await?;
    Ok(count(
        &mark_revoked(db, domain_id, Reach::Families(&[family_id]), how).await?,
    ))
}

/// Withdraws a consent: the consent, every family under it and every live token
/// issued under it.
pub async fn revoke_consent(
    db: &mut Db<'_>,
    domain_id: i64,
    consent_id: i64,
    how: &Revocation<'_>,
) -> Result<Revoked, StoreError> {
    mark_consents_revoked(db, domain_id, &[consent_id], how).await?;
    mark_families_revoked(db, domain_id, Families::UnderConsents(&[consent_id]), how).await?;
    Ok(count(
        &mark_revoked(db, domain_id, Reach::Consents(&[consent_id]), how).await?,
    ))
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

/// The token look-up with the token's client, user, family, consent and covering
/// watermarks joined in, filtered by `$hash_filter`: one statement for everything
/// that decides whether a token is live.
macro_rules! token_views {
    ($domain_id:expr, $hash_filter:expr) => {
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
            .filter(tokens::domain_id.eq($domain_id))
            .filter($hash_filter)
            .select((
                TokenRow::as_select(),
                clients::client_id,
                users::username.nullable(),
                token_families::revoked_at.nullable(),
                consents::revoked_at.nullable(),
                exists(watermarks::covering_current_token()),
            ))
    };
}

/// One indexed look-up by `(domain_id, token_hash)`.
pub async fn view_by_hash(db: &mut Db<'_>, domain_id: i64, hash: &[u8]) -> Result<Option<TokenView>, StoreError> {
    let found: Option<ViewRow> = match db {
        Db::Postgres(conn) => token_views!(domain_id, tokens::token_hash.eq(hash))
            .get_result(&mut **conn)
            .await
            .optional()?,
        // The hottest read of all, so on SQLite it goes through diesel's synchronous API
        // (on this thread, like every SQLite query here): that finds the prepared
        // statement by the query's type, where the async wrapper first writes out the
        // whole SQL text of this five-table join on every call.
        Db::Sqlite(conn) => {
            let hash = hash.to_vec();
            conn.spawn_blocking(move |sync| {
                diesel::RunQueryDsl::get_result::<ViewRow>(token_views!(domain_id, tokens::token_hash.eq(&hash)), sync)
                    .optional()
            })
            .await?
        }
    };
    Ok(found.map(TokenView::from))
}

/// Many look-ups in one statement (`= ANY($1)` on PostgreSQL); tokens not found are
/// simply missing from the answer. Not for SQLite's hot path: its `IN (…)` list is
/// prepared anew for every length.
pub async fn views_by_hashes(
    db: &mut Db<'_>,
    domain_id: i64,
    hashes: &[Vec<u8>],
) -> Result<Vec<TokenView>, StoreError> {
    let found: Vec<ViewRow> = on_db!(db, |conn| token_views!(domain_id, tokens::token_hash.eq_any(hashes))
        .load(conn)
        .await)?;
    Ok(found.into_iter().map(TokenView::from).collect())
}

impl From<ViewRow> for TokenView {
    fn from((token, client_id, username, family_revoked_at, consent_revoked_at, watermarked): ViewRow) -> Self {
        Self {
            token,
            client_id,
            username,
            family_revoked_at,
            consent_revoked_at,
            watermarked,
        }
    }
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
