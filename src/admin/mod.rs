//! Operator tasks: managing domains, clients and users, and reading the audit trail.
//!
//! The operator API and the CLI both call this service, so a domain created either way
//! is the same domain with the same audit event. Each change and its audit event are
//! written in one transaction. This module owns the service itself, who asked ([`Actor`]),
//! its errors and the in-domain helpers; each aggregate's operations live in their own file.

mod audit;
mod bulk;
mod clients;
mod domains;
mod policies;
mod security_events;
mod status;
mod tokens;
mod users;
mod views;

pub use audit::MAX_AUDIT_LIMIT;
pub use bulk::BulkSpec;
pub use policies::{Evaluation, RevocationPolicy};
pub use status::{DomainStatus, Status};
pub use tokens::TokenLookup;
pub use views::{AuditEvent, Client, CreatedClient, Domain, User};

use futures_util::future::BoxFuture;

use crate::clock::Clock;
use crate::domain::DomainName;
use crate::domain::audit::AuditAction;
use crate::store::models::NewAuditEvent;
use crate::store::{self, Db, Operation, Store, StoreError, domains as store_domains};

/// Who asked for a change, for the audit trail.
#[derive(Debug, Clone)]
pub struct Actor {
    /// `operator` for the operator API, `cli` for the command line.
    pub name: &'static str,
    /// The request id of the HTTP request, when there is one.
    pub request_id: Option<String>,
}

impl Actor {
    pub fn operator(request_id: Option<String>) -> Self {
        Self {
            name: "operator",
            request_id,
        }
    }

    pub fn cli() -> Self {
        Self {
            name: "cli",
            request_id: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(StoreError),
}

#[derive(Clone)]
pub struct Admin {
    store: Store,
    clock: Clock,
}

impl Admin {
    pub fn new(store: Store, clock: Clock) -> Self {
        Self { store, clock }
    }

    /// Runs `op` with the internal id of `domain` on a pooled connection.
    async fn read_in<T, F>(&self, domain: &DomainName, op: F) -> Result<T, AdminError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(Db<'c>, i64) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
    {
        let result = self.store.read(with_domain_id(domain.clone(), op)).await;
        result.map_err(|e| in_domain_error(e, domain))
    }

    /// Runs `op` with the internal id of `domain` in one write transaction.
    async fn write_in<T, F>(&self, domain: &DomainName, op: F) -> Result<T, AdminError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(Db<'c>, i64) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
    {
        let result = self.store.write(with_domain_id(domain.clone(), op)).await;
        result.map_err(|e| in_domain_error(e, domain))
    }
}

/// Wraps `op` so it first finds the domain's id; an unknown domain is `NotFound`.
fn with_domain_id<T, F>(name: DomainName, op: F) -> impl Operation<T>
where
    T: Send + 'static,
    F: for<'c> FnOnce(Db<'c>, i64) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
{
    operation(move |mut db| {
        Box::pin(async move {
            let id = domain_id(&mut db, &name).await?;
            op(db, id).await
        })
    })
}

/// Pins down a closure's signature as a store [`Operation`].
fn operation<T, F>(f: F) -> F
where
    F: for<'c> FnOnce(Db<'c>) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
{
    f
}

fn in_domain_error(error: StoreError, domain: &DomainName) -> AdminError {
    match error {
        StoreError::NotFound => domain_not_found(domain),
        StoreError::Conflict => AdminError::Conflict("already exists".into()),
        other => AdminError::Store(other),
    }
}

/// The internal id of a domain; `StoreError::NotFound` when there is none.
async fn domain_id(db: &mut Db<'_>, name: &DomainName) -> Result<i64, StoreError> {
    store_domains::find_by_name(db, name.as_str())
        .await?
        .map(|row| row.id)
        .ok_or(StoreError::NotFound)
}

async fn record(
    db: &mut Db<'_>,
    domain_id: i64,
    at: i64,
    action: AuditAction,
    actor: &Actor,
    details: serde_json::Value,
) -> Result<(), StoreError> {
    store::audit::record(
        db,
        &NewAuditEvent {
            domain_id,
            occurred_at: at,
            action,
            actor: actor.name,
            request_id: actor.request_id.as_deref(),
            details: details.to_string(),
            user_ref: None,
            client_ref: None,
        },
    )
    .await
}

fn domain_not_found(name: &DomainName) -> AdminError {
    AdminError::NotFound(format!("identity domain '{name}' does not exist"))
}
