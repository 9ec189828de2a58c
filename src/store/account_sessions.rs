//! The account page's sessions (SPEC §3.9): one row per sign-in, found by the SHA-256
//! of the cookie's value within its domain. Ending a session deletes its row, so it
//! ends on every instance at once.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::schema::{account_sessions, users};
use super::{Db, StoreError};
use crate::clock::UnixMicros;
use crate::on_db;
use crate::security::Sha256Digest;

/// A live session's user: their id and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    pub user_ref: i64,
    pub username: String,
}

/// Starts a session for the user; the user's sessions that expired go with it.
pub async fn insert(
    db: &mut Db<'_>,
    domain_id: i64,
    user_ref: i64,
    hash: &Sha256Digest,
    now: UnixMicros,
    expires_at: UnixMicros,
) -> Result<(), StoreError> {
    on_db!(db, |conn| diesel::delete(
        account_sessions::table
            .filter(account_sessions::domain_id.eq(domain_id))
            .filter(account_sessions::user_ref.eq(user_ref))
            .filter(account_sessions::expires_at.le(now))
    )
    .execute(conn)
    .await)?;
    on_db!(db, |conn| diesel::insert_into(account_sessions::table)
        .values((
            account_sessions::domain_id.eq(domain_id),
            account_sessions::session_hash.eq(hash.as_bytes().as_slice()),
            account_sessions::user_ref.eq(user_ref),
            account_sessions::created_at.eq(now),
            account_sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await)?;
    Ok(())
}

/// The user of the live session with this hash: not expired, and the user not
/// disabled.
pub async fn find_live(
    db: &mut Db<'_>,
    domain_id: i64,
    hash: &Sha256Digest,
    now: UnixMicros,
) -> Result<Option<SessionUser>, StoreError> {
    let found: Option<(i64, String)> = on_db!(db, |conn| account_sessions::table
        .inner_join(
            users::table.on(users::domain_id
                .eq(account_sessions::domain_id)
                .and(users::id.eq(account_sessions::user_ref))),
        )
        .filter(account_sessions::domain_id.eq(domain_id))
        .filter(account_sessions::session_hash.eq(hash.as_bytes().as_slice()))
        .filter(account_sessions::expires_at.gt(now))
        .filter(users::disabled_at.is_null())
        .select((users::id, users::username))
        .get_result(conn)
        .await
        .optional())?;
    Ok(found.map(|(user_ref, username)| SessionUser { user_ref, username }))
}

/// Ends the session with this hash, if there is one.
pub async fn delete(db: &mut Db<'_>, domain_id: i64, hash: &Sha256Digest) -> Result<(), StoreError> {
    on_db!(db, |conn| diesel::delete(
        account_sessions::table
            .filter(account_sessions::domain_id.eq(domain_id))
            .filter(account_sessions::session_hash.eq(hash.as_bytes().as_slice()))
    )
    .execute(conn)
    .await)?;
    Ok(())
}

/// Ends every session of the user.
pub async fn delete_all_of_user(db: &mut Db<'_>, domain_id: i64, user_ref: i64) -> Result<(), StoreError> {
    on_db!(db, |conn| diesel::delete(
        account_sessions::table
            .filter(account_sessions::domain_id.eq(domain_id))
            .filter(account_sessions::user_ref.eq(user_ref))
    )
    .execute(conn)
    .await)?;
    Ok(())
}
