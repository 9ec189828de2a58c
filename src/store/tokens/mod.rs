//! Tokens and their families as issuance writes them: one row per token, found later
//! by the SHA-256 of the presented string within its domain
//! (`UNIQUE (domain_id, token_hash)`, see `views.rs`). Revoking them is the revocation
//! pipeline's job (`store::revocations`), never this module's.

mod death;
mod views;

use std::collections::BTreeMap;

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Binary, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

pub use death::{Death, death_of};
pub use views::{TokenView, view_by_hash, views_by_hashes};

use super::models::{NewFamily, NewToken};
use super::schema::{token_families, tokens};
use super::status_lists::DomainSlot;
use super::{Db, StoreError, liveness, status_lists};
use crate::clock::UnixMicros;
use crate::domain::revocation::TokenKind;
use crate::domain::status_list::StatusSlot;
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

/// Inserts a token; returns its id. An access token goes on through [`born_dead`].
pub async fn insert(db: &mut Db<'_>, new: &NewToken<'_>) -> Result<i64, StoreError> {
    Ok(on_db!(db, |conn| diesel::insert_into(tokens::table)
        .values(new)
        .returning(tokens::id)
        .get_result(conn)
        .await)?)
}

/// The last write of a transaction that inserted access tokens: those already dead,
/// because what they were issued under ended (a bulk revocation's watermark, their
/// family or consent) while they were being issued, get their status-list bits now, so
/// the list says what introspection says; with them the bits the transaction left to
/// set (`revocations::execute_leaving_bits`).
pub async fn born_dead(
    db: &mut Db<'_>,
    domain_id: i64,
    ids: &[i64],
    now: UnixMicros,
    mut pending: Vec<DomainSlot>,
) -> Result<(), StoreError> {
    let dead = status_lists::born_dead_among(db, domain_id, ids, now).await?;
    pending.extend(dead.into_iter().map(|slot| (domain_id, slot)));
    status_lists::set_bits(db, &pending).await
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
    pub status: StatusSlot,
}

/// Stores client tokens: on PostgreSQL in one statement whose text does not depend on
/// their number (`unnest` of arrays, prepared once), with the check for tokens born
/// dead in the same round trip; on SQLite one cached insert each, then [`born_dead`]
/// over them, per domain. Inside the caller's transaction on SQLite; on PostgreSQL
/// each statement is a transaction of its own (the check must see what committed
/// after the insert, `insert_client_tokens_pg`).
pub async fn insert_client_tokens(db: &mut Db<'_>, issued: &[ClientToken]) -> Result<(), StoreError> {
    let now = issued.iter().map(|t| t.issued_at).max().unwrap_or_default();
    if let Db::Postgres(conn) = db {
        if issued.is_empty() {
            return Ok(());
        }
        let dead = insert_client_tokens_pg(conn, issued, now).await?;
        return status_lists::set_bits(db, &dead).await;
    }
    let mut inserted: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for token in issued {
        let id = insert(
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
                status_list: Some(token.status.list),
                status_idx: Some(token.status.idx),
            },
        )
        .await?;
        inserted.entry(token.domain_id).or_default().push(id);
    }
    for (domain_id, ids) in inserted {
        born_dead(db, domain_id, &ids, now, Vec::new()).await?;
    }
    Ok(())
}

/// The insert, and the tokens of it born dead, in one round trip: the two statements
/// are pipelined, and PostgreSQL runs them in the order sent, each in a transaction of
/// its own, so the check sees whatever committed before the insert did (a bulk
/// revocation the insert waited for, whose scan could not see these tokens; see
/// `revocations::bulk`). Waiting for the insert before sending the check cost
/// issuance a tenth of its throughput (BENCHMARKS.md, issue 14). The check answers a
/// row for every token it finds: should it have run before the insert after all, it
/// finds fewer than were inserted, and is asked again.
async fn insert_client_tokens_pg(
    conn: &mut AsyncPgConnection,
    issued: &[ClientToken],
    now: UnixMicros,
) -> Result<Vec<DomainSlot>, StoreError> {
    let check = || status_lists::IssuedBornDead {
        domain_ids: issued.iter().map(|t| t.domain_id).collect(),
        hashes: issued.iter().map(|t| t.token_hash.as_bytes().as_slice()).collect(),
        now,
    };
    type Found = (i64, Option<i64>, Option<i64>, bool);
    let shared: &AsyncPgConnection = conn;
    let (inserted, mut found) = futures_util::future::try_join(
        ClientTokenRows::new(issued).execute(&mut &*shared),
        check().load::<Found>(&mut &*shared),
    )
    .await?;
    if found.len() < inserted {
        found = check().load::<Found>(conn).await?;
    }
    Ok(found
        .into_iter()
        .filter(|(.., dead)| *dead)
        .filter_map(|(domain_id, list, idx, _)| Some((domain_id, StatusSlot { list: list?, idx: idx? })))
        .collect())
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
    status_lists: Vec<i64>,
    status_indices: Vec<i64>,
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
            status_lists: issued.iter().map(|t| t.status.list).collect(),
            status_indices: issued.iter().map(|t| t.status.idx).collect(),
        }
    }
}

impl QueryFragment<Pg> for ClientTokenRows<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "INSERT INTO tokens (domain_id, kind, token_hash, jti, client_ref, scopes, issued_at, expires_at, \
             status_list, status_idx) \
             SELECT domain_id, 'access', token_hash, jti, client_ref, scopes, issued_at, expires_at, \
             status_list, status_idx FROM unnest(",
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
            Array<BigInt> => &self.status_lists,
            Array<BigInt> => &self.status_indices,
        );
        out.push_sql(
            ") AS t (domain_id, token_hash, jti, client_ref, scopes, issued_at, expires_at, status_list, status_idx)",
        );
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
