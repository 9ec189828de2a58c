//! What the operator API and the CLI show of domains, clients, users and audit events.
//! No view carries a secret, except the one answer that creates a client.

use serde::Serialize;
use utoipa::ToSchema;

use crate::clock;
use crate::domain::{ClientType, GrantType};
use crate::security::ClientSecret;
use crate::store::models::{AuditEventRow, ClientRow, DomainRow, UserRow};

/// An identity domain and its settings.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"name":"acme","access_token_ttl_secs":3600,"refresh_token_ttl_secs":1209600,"refresh_token_grace_secs":30,"status_list_ttl_secs":60,"revoke_on_password_change":true,"public_clients_can_revoke":true}))]
pub struct Domain {
    pub name: String,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    /// Seconds in which the same confidential client may retry a refresh whose answer
    /// it lost (SPEC §3.3); 0: never.
    pub refresh_token_grace_secs: i64,
    /// Seconds resource servers may cache the domain's status lists (`ttl`, SPEC §3.10).
    pub status_list_ttl_secs: i64,
    /// A password change revokes every live token of the user (SPEC §3.13).
    pub revoke_on_password_change: bool,
    pub public_clients_can_revoke: bool,
}

impl From<DomainRow> for Domain {
    fn from(row: DomainRow) -> Self {
        Self {
            name: row.name,
            access_token_ttl_secs: row.access_token_ttl_secs,
            refresh_token_ttl_secs: row.refresh_token_ttl_secs,
            refresh_token_grace_secs: row.refresh_token_grace_secs,
            status_list_ttl_secs: row.status_list_ttl_secs,
            revoke_on_password_change: row.revoke_on_password_change,
            public_clients_can_revoke: row.public_clients_can_revoke,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"client_id":"web","client_type":"confidential","grant_types":["password","refresh_token"],"scopes":["openid","profile"],"domain_admin":false}))]
pub struct Client {
    pub client_id: String,
    pub client_type: ClientType,
    pub grant_types: Vec<GrantType>,
    pub scopes: Vec<String>,
    pub domain_admin: bool,
}

impl From<ClientRow> for Client {
    fn from(row: ClientRow) -> Self {
        Self {
            client_type: ClientType::parse(&row.client_type).unwrap_or(ClientType::Public),
            grant_types: row.grant_types.split(' ').filter_map(GrantType::parse).collect(),
            scopes: crate::domain::stored_scope_list(&row.scopes),
            client_id: row.client_id,
            domain_admin: row.domain_admin,
        }
    }
}

/// A client as just created: the only time its secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedClient {
    #[serde(flatten)]
    pub client: Client,
    /// The generated secret (confidential clients only). It is stored as a SHA-256
    /// digest and cannot be shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, nullable = false, example = "q9M2pXk0sVdH3rB6tWnYc8eLfJ1aZ4uG7iO5yKxTgQw")]
    pub client_secret: Option<ClientSecret>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"username":"alice"}))]
pub struct User {
    pub username: String,
    /// A disabled user gets no tokens, and held none from the moment it was disabled.
    pub disabled: bool,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        Self {
            username: row.username,
            disabled: row.disabled_at.is_some(),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEvent {
    pub id: i64,
    /// RFC 3339, UTC.
    pub occurred_at: String,
    /// What happened, e.g. `client.created`.
    pub action: String,
    /// Who did it: `operator` (the operator API), `cli`, or a client or user.
    pub actor: String,
    /// The `x-request-id` of the HTTP request that caused it, if any.
    pub request_id: Option<String>,
    /// What changed; never a token, secret or password.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

impl From<AuditEventRow> for AuditEvent {
    fn from(row: AuditEventRow) -> Self {
        Self {
            id: row.id,
            occurred_at: clock::rfc3339(row.occurred_at),
            details: serde_json::from_str(&row.details).unwrap_or(serde_json::Value::Null),
            action: row.action,
            actor: row.actor,
            request_id: row.request_id,
        }
    }
}
