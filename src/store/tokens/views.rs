//! The token look-up: a token by the SHA-256 of the presented string, with its
//! client's id, its user's name and the liveness facts (`store::liveness`), in one
//! statement.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::clock::UnixMicros;
use crate::store::liveness::{self, Facts};
use crate::store::models::TokenRow;
use crate::store::schema::{clients, tokens, users};
use crate::store::{Db, StoreError};

/// A token with what decides whether it is live and what introspection shows.
#[derive(Debug, Clone)]
pub struct TokenView {
    pub token: TokenRow,
    pub client_id: String,
    pub username: Option<String>,
    /// Whether its family is revoked, its consent withdrawn, a watermark covers it.
    pub family_revoked: bool,
    pub consent_withdrawn: bool,
    pub watermarked: bool,
}

/// A token row with its client's id, its user's name and the facts of
/// [`liveness::facts`].
type ViewRow = (TokenRow, String, Option<String>, (bool, bool, bool));

/// The token look-up with the token's client and user joined in and the liveness facts
/// selected, filtered by `$hash_filter`: one statement for everything a caller needs.
macro_rules! token_views {
    ($domain_id:expr, $hash_filter:expr) => {
        token_views!($domain_id, $hash_filter, liveness::facts())
    };
    ($domain_id:expr, $hash_filter:expr, $facts:expr) => {
        liveness::with_family_and_consent()
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
            .filter(tokens::domain_id.eq($domain_id))
            .filter($hash_filter)
            .select((
                TokenRow::as_select(),
                clients::client_id,
                users::username.nullable(),
                $facts,
            ))
    };
}

/// One indexed look-up by `(domain_id, token_hash)`.
pub async fn view_by_hash(db: &mut Db<'_>, domain_id: i64, hash: &[u8]) -> Result<Option<TokenView>, StoreError> {
    let found: Option<ViewRow> = match db {
        Db::Postgres(conn) => token_views!(domain_id, tokens::token_hash.eq(hash), liveness::facts_pg())
            .get_result(&mut **conn)
            .await
            .optional()?,
        // The hottest read of all, so on SQLite it goes through diesel's synchronous API
        // (on this thread, like every SQLite query here): that finds the prepared
        // statement by the query's type, where the async wrapper first writes out the
        // whole SQL text of this join on every call.
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
    let found: Vec<ViewRow> = match db {
        Db::Postgres(conn) => {
            token_views!(domain_id, tokens::token_hash.eq_any(hashes), liveness::facts_pg())
                .load(&mut **conn)
                .await?
        }
        Db::Sqlite(conn) => {
            token_views!(domain_id, tokens::token_hash.eq_any(hashes))
                .load(&mut **conn)
                .await?
        }
    };
    Ok(found.into_iter().map(TokenView::from).collect())
}

impl From<ViewRow> for TokenView {
    fn from((token, client_id, username, (family_revoked, consent_withdrawn, watermarked)): ViewRow) -> Self {
        Self {
            token,
            client_id,
            username,
            family_revoked,
            consent_withdrawn,
            watermarked,
        }
    }
}

impl TokenView {
    pub fn facts(&self) -> Facts {
        Facts {
            revoked_at: self.token.revoked_at,
            rotated_at: self.token.rotated_at,
            expires_at: self.token.expires_at,
            family_revoked: self.family_revoked,
            consent_withdrawn: self.consent_withdrawn,
            watermarked: self.watermarked,
        }
    }

    /// Live by the one rule of `store::liveness`.
    pub fn is_live(&self, now: UnixMicros) -> bool {
        self.facts().is_live(now)
    }
}

#[cfg(test)]
mod tests {
    use diesel::query_builder::{QueryFragment, QueryId};
    use diesel::sqlite::Sqlite;

    use super::*;

    fn prepared_once<Q: QueryId + QueryFragment<Sqlite>>(_: &Q) -> bool {
        Q::HAS_STATIC_QUERY_ID
    }

    /// SQLite finds the look-up's prepared statement by its type; a type without a
    /// static id would be written out and looked up by its text on every call.
    #[test]
    fn the_look_up_is_prepared_once_per_connection() {
        let hash: Vec<u8> = Vec::new();
        assert!(prepared_once(&token_views!(1_i64, tokens::token_hash.eq(&hash))));
    }
}
