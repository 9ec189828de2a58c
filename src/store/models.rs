//! Rows as they are stored. Conversion to API shapes happens in `admin/`.

use diesel::prelude::*;

use super::schema::{audit_events, clients, domains, users};
use crate::clock::UnixMicros;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = domains)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct DomainRow {
    pub id: i64,
    pub name: String,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    pub public_clients_can_revoke: bool,
    pub created_at: UnixMicros,
    pub updated_at: UnixMicros,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = domains)]
pub struct NewDomain<'a> {
    pub name: &'a str,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    pub public_clients_can_revoke: bool,
    pub created_at: UnixMicros,
    pub updated_at: UnixMicros,
}

/// A PATCH of domain settings: `None` leaves a column as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = domains)]
pub struct DomainChanges {
    pub access_token_ttl_secs: Option<i64>,
    pub refresh_token_ttl_secs: Option<i64>,
    pub public_clients_can_revoke: Option<bool>,
    pub updated_at: UnixMicros,
}

#[derive(Clone, Queryable, Selectable)]
#[diesel(table_name = clients)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct ClientRow {
    pub domain_id: i64,
    pub id: i64,
    pub client_id: String,
    pub client_type: String,
    pub secret_hash: Option<Vec<u8>>,
    pub grant_types: String,
    pub scopes: String,
    pub domain_admin: bool,
    pub created_at: UnixMicros,
    pub updated_at: UnixMicros,
}

impl std::fmt::Debug for ClientRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientRow")
            .field("domain_id", &self.domain_id)
            .field("client_id", &self.client_id)
            .field("client_type", &self.client_type)
            .finish_non_exhaustive()
    }
}

#[derive(Insertable)]
#[diesel(table_name = clients)]
pub struct NewClient<'a> {
    pub domain_id: i64,
    pub client_id: &'a str,
    pub client_type: &'a str,
    pub secret_hash: Option<&'a [u8]>,
    pub grant_types: &'a str,
    pub scopes: &'a str,
    pub domain_admin: bool,
    pub created_at: UnixMicros,
    pub updated_at: UnixMicros,
}

#[derive(Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct UserRow {
    pub domain_id: i64,
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub created_at: UnixMicros,
    pub updated_at: UnixMicros,
}

impl std::fmt::Debug for UserRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRow")
            .field("domain_id", &self.domain_id)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

#[derive(Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub domain_id: i64,
    pub username: &'a str,
    pub password_hash: &'a str,
    pub created_at: UnixMicros,
    pub updated_at: UnixMicros,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct AuditEventRow {
    pub domain_id: i64,
    pub id: i64,
    pub occurred_at: UnixMicros,
    pub action: String,
    pub actor: String,
    pub request_id: Option<String>,
    pub details: String,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = audit_events)]
pub struct NewAuditEvent<'a> {
    pub domain_id: i64,
    pub occurred_at: UnixMicros,
    pub action: &'a str,
    pub actor: &'a str,
    pub request_id: Option<&'a str>,
    pub details: String,
}
