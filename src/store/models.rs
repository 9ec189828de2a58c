//! Rows as they are stored. Conversion to API shapes happens in `admin/`.
//!
//! Every insertable binds `None` as `NULL` (`treat_none_as_default_value = false`):
//! no column here has a default worth asking for, and a statement whose text does not
//! depend on which fields are `None` is prepared once and cached, where one with
//! `DEFAULT` in it is prepared anew on every insert.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::prelude::*;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

use super::schema::{audit_events, clients, consents, domains, signing_keys, token_families, tokens, users};
use crate::clock::UnixMicros;
use crate::domain::audit::AuditAction;
use crate::domain::revocation::TokenKind;

impl<DB: Backend> ToSql<Text, DB> for TokenKind
where
    str: ToSql<Text, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        self.as_str().to_sql(out)
    }
}

// Read in place on each backend: every token look-up reads one, so no `String` for it.
impl FromSql<Text, diesel::sqlite::Sqlite> for TokenKind {
    fn from_sql(mut value: diesel::sqlite::SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        token_kind(value.read_text())
    }
}

impl FromSql<Text, diesel::pg::Pg> for TokenKind {
    fn from_sql(value: diesel::pg::PgValue<'_>) -> deserialize::Result<Self> {
        token_kind(std::str::from_utf8(value.as_bytes())?)
    }
}

fn token_kind(raw: &str) -> deserialize::Result<TokenKind> {
    TokenKind::parse(raw).ok_or_else(|| format!("unknown token kind {raw:?}").into())
}

impl<DB: Backend> ToSql<Text, DB> for AuditAction
where
    str: ToSql<Text, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        self.as_str().to_sql(out)
    }
}

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
    pub refresh_token_grace_secs: i64,
    pub status_list_ttl_secs: i64,
    pub revoke_on_password_change: bool,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = domains)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewDomain<'a> {
    pub name: &'a str,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    pub public_clients_can_revoke: bool,
    pub created_at: UnixMicros,
    pub updated_at: UnixMicros,
    pub refresh_token_grace_secs: i64,
    pub status_list_ttl_secs: i64,
    pub revoke_on_password_change: bool,
}

/// A PATCH of domain settings: `None` leaves a column as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = domains)]
pub struct DomainChanges {
    pub access_token_ttl_secs: Option<i64>,
    pub refresh_token_ttl_secs: Option<i64>,
    pub refresh_token_grace_secs: Option<i64>,
    pub status_list_ttl_secs: Option<i64>,
    pub revoke_on_password_change: Option<bool>,
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
#[diesel(treat_none_as_default_value = false)]
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
    /// When the user was disabled (SPEC §3.13); `None`: enabled.
    pub disabled_at: Option<UnixMicros>,
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
#[diesel(treat_none_as_default_value = false)]
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
    /// The user and the client a revocation reached, when it reached one.
    pub user_ref: Option<i64>,
    pub client_ref: Option<i64>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = audit_events)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewAuditEvent<'a> {
    pub domain_id: i64,
    pub occurred_at: UnixMicros,
    pub action: AuditAction,
    pub actor: &'a str,
    pub request_id: Option<&'a str>,
    pub details: String,
    /// The user and the client a revocation reached (for the user's "Recent
    /// activity", SPEC §3.9); `None` for other events.
    pub user_ref: Option<i64>,
    pub client_ref: Option<i64>,
}

#[derive(Clone, Queryable, Selectable)]
#[diesel(table_name = signing_keys)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct SigningKeyRow {
    pub domain_id: i64,
    pub id: i64,
    pub kid: String,
    pub algorithm: String,
    pub private_key: Vec<u8>,
    pub public_jwk: String,
    pub created_at: UnixMicros,
    pub retired_at: Option<UnixMicros>,
}

impl std::fmt::Debug for SigningKeyRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyRow")
            .field("domain_id", &self.domain_id)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

#[derive(Insertable)]
#[diesel(table_name = signing_keys)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewSigningKey<'a> {
    pub domain_id: i64,
    pub kid: &'a str,
    pub algorithm: &'a str,
    pub private_key: &'a [u8],
    pub public_jwk: &'a str,
    pub created_at: UnixMicros,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = consents)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct ConsentRow {
    pub domain_id: i64,
    pub id: i64,
    pub user_ref: i64,
    pub client_ref: i64,
    pub scopes: String,
    pub granted_at: UnixMicros,
    pub revoked_at: Option<UnixMicros>,
    pub revoked_reason: Option<String>,
    /// What the user sees (`ConsentPublicId`); `id` never leaves revokd.
    pub public_id: String,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = consents)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewConsent<'a> {
    pub domain_id: i64,
    pub user_ref: i64,
    pub client_ref: i64,
    pub scopes: &'a str,
    pub granted_at: UnixMicros,
    pub public_id: &'a str,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = token_families)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewFamily {
    pub domain_id: i64,
    pub client_ref: i64,
    pub user_ref: Option<i64>,
    pub consent_ref: Option<i64>,
    pub created_at: UnixMicros,
}

/// A stored token: never the token itself, only its SHA-256.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tokens)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct TokenRow {
    pub domain_id: i64,
    pub id: i64,
    pub kind: TokenKind,
    pub token_hash: Vec<u8>,
    pub jti: String,
    pub family_ref: Option<i64>,
    pub parent_ref: Option<i64>,
    pub client_ref: i64,
    pub user_ref: Option<i64>,
    pub consent_ref: Option<i64>,
    pub scopes: String,
    pub issued_at: UnixMicros,
    pub expires_at: UnixMicros,
    pub rotated_at: Option<UnixMicros>,
    pub revoked_at: Option<UnixMicros>,
    pub revoked_by: Option<String>,
    pub revoked_reason: Option<String>,
    pub status_list: Option<i64>,
    pub status_idx: Option<i64>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = tokens)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewToken<'a> {
    pub domain_id: i64,
    pub kind: TokenKind,
    pub token_hash: &'a [u8],
    pub jti: &'a str,
    pub family_ref: Option<i64>,
    pub parent_ref: Option<i64>,
    pub client_ref: i64,
    pub user_ref: Option<i64>,
    pub consent_ref: Option<i64>,
    pub scopes: &'a str,
    pub issued_at: UnixMicros,
    pub expires_at: UnixMicros,
    /// Access tokens: the status list and index their JWT's `status` claim names.
    pub status_list: Option<i64>,
    pub status_idx: Option<i64>,
}
