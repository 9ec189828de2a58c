//! OAuth clients of a domain. Every query names the domain.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{ClientRow, DomainRow, NewClient};
use super::schema::{clients, domains};
use super::{Db, StoreError};
use crate::clock::UnixMicros;
use crate::on_db;

pub async fn insert(db: &mut Db<'_>, new: &NewClient<'_>) -> Result<ClientRow, StoreError> {
    Ok(on_db!(db, |conn| diesel::insert_into(clients::table)
        .values(new)
        .returning(ClientRow::as_returning())
        .get_result(conn)
        .await)?)
}

pub async fn find(db: &mut Db<'_>, domain_id: i64, client_id: &str) -> Result<Option<ClientRow>, StoreError> {
    Ok(on_db!(db, |conn| clients::table
        .filter(clients::domain_id.eq(domain_id))
        .filter(clients::client_id.eq(client_id))
        .select(ClientRow::as_select())
        .get_result(conn)
        .await
        .optional())?)
}

pub async fn list(db: &mut Db<'_>, domain_id: i64) -> Result<Vec<ClientRow>, StoreError> {
    Ok(on_db!(db, |conn| clients::table
        .filter(clients::domain_id.eq(domain_id))
        .select(ClientRow::as_select())
        .order(clients::client_id.asc())
        .load(conn)
        .await)?)
}

/// Deletes a client and, through the foreign keys, its consents and tokens.
pub async fn delete(db: &mut Db<'_>, domain_id: i64, client_id: &str) -> Result<bool, StoreError> {
    let deleted = on_db!(db, |conn| diesel::delete(
        clients::table
            .filter(clients::domain_id.eq(domain_id))
            .filter(clients::client_id.eq(client_id))
    )
    .execute(conn)
    .await)?;
    Ok(deleted > 0)
}

/// A client and its domain, by their public names, in one round trip: what client
/// authentication needs.
/// Replaces a confidential client's secret hash.
pub async fn set_secret_hash(
    db: &mut Db<'_>,
    domain_id: i64,
    id: i64,
    hash: &[u8],
    now: UnixMicros,
) -> Result<(), StoreError> {
    on_db!(db, |conn| diesel::update(
        clients::table
            .filter(clients::domain_id.eq(domain_id))
            .filter(clients::id.eq(id))
    )
    .set((clients::secret_hash.eq(hash), clients::updated_at.eq(now)))
    .execute(conn)
    .await)?;
    Ok(())
}

pub async fn find_with_domain(
    db: &mut Db<'_>,
    domain_name: &str,
    client_id: &str,
) -> Result<Option<(DomainRow, ClientRow)>, StoreError> {
    Ok(on_db!(db, |conn| domains::table
        .inner_join(clients::table.on(clients::domain_id.eq(domains::id)))
        .filter(domains::name.eq(domain_name))
        .filter(clients::client_id.eq(client_id))
        .select((DomainRow::as_select(), ClientRow::as_select()))
        .get_result(conn)
        .await
        .optional())?)
}

/// The client ids of these clients of the domain, by client id number.
pub async fn client_ids(db: &mut Db<'_>, domain_id: i64, ids: &[i64]) -> Result<Vec<(i64, String)>, StoreError> {
    Ok(on_db!(db, |conn| clients::table
        .filter(clients::domain_id.eq(domain_id))
        .filter(clients::id.eq_any(ids))
        .select((clients::id, clients::client_id))
        .load(conn)
        .await)?)
}
