//! Tokens and their families as issuance writes them: one row per token, found later
//! by the SHA-256 of the presented string within its domain
//! (`UNIQUE (domain_id, token_hash)`, see `views.rs`). Revoking them is the revocation
//! pipeline's job (`store::revocations`), never this module's.

mod views;

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Binary, Text};
use diesel_async::RunQueryDsl;

pub use views::{TokenView, view_by_hash, views_by_hashes};

use super::models::{NewFamily, NewToken};
use super::schema::{token_families, tokens};
use super::{Db, StoreError, liveness};
use crate::clock::UnixMicros;
use crate::domain::revocation::TokenKind;
use crate::on_db;
use crate::security::Sha256Digest;

/// A token minted by the rotation of a refresh token (or by a retry of it), as the
/// refresh grant's grace window reads it.
#[derive(Debug, Queryable)]
pub struct Child {
    pub id: i64,
    pub kind: TokenKind,
    pub rotated_at: Option<UnixMicros>,
    pub revoked_at: Option<UnixMicros>,
    pub expires_at: UnixMicros,
}

/// The tokens whose parent is the refresh token `parent` (`tokens_by_parent`).
pub async fn children_of(db: &mut Db<'_>, domain_id: i64, parent: i64) -> Result<Vec<Child>, StoreError> {
    Ok(on_db!(db, |conn| tokens::table
        .filter(tokens::domain_id.eq(domain_id))
        .filter(tokens::parent_ref.eq(parent))
        .select((
            tokens::id,
            tokens::kind,
            tokens::rotated_at,
            tokens::revoked_at,
            tokens::expires_at
        ))
        .load(conn)
        .await)?)
}

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
                        kind: TokenKind::Access,
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
        crate::store::push_binds!(
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

/// Marks a refresh token as replaced, if it is still live and no one else did first.
/// The condition in the `WHERE` decides races between concurrent refreshes (and with a
/// revocation): on PostgreSQL the second transaction waits for the first's row lock
/// and then matches nothing; on SQLite writes are serial.
pub async fn mark_rotated(db: &mut Db<'_>, domain_id: i64, id: i64, now: UnixMicros) -> Result<bool, StoreError> {
    let updated = on_db!(db, |conn| diesel::update(
        tokens::table
            .filter(tokens::domain_id.eq(domain_id))
            .filter(tokens::id.eq(id))
            .filter(liveness::live(now))
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
