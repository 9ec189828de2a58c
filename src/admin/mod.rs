//! Operator tasks: managing domains, clients and users, and reading the audit trail.
//!
//! The operator API and the CLI both call this service, so a domain created either way
//! is the same domain with the same audit event. Each change and its audit event are
//! written in one transaction.

mod views;

use serde_json::json;

pub use views::{AuditEvent, Client, CreatedClient, Domain, User};

use crate::clock::{Clock, UnixMicros};
use futures_util::future::BoxFuture;

use crate::domain::audit::AuditAction;
use crate::domain::revocation::{Reason, TokenKind};
use crate::domain::{ClientId, ClientSpec, ClientType, DomainName, DomainSettings, SettingsPatch, Username};
use crate::security::{ClientSecret, Password, hash_password};
use crate::store::keys as store_keys;
use crate::store::models::{DomainChanges, NewAuditEvent, NewClient, NewDomain, NewSigningKey, NewUser};
use crate::store::revocations::{self, Bulk, Reach, Revocation, RevokedBy};
use crate::store::{Db, Operation, Store, StoreError, audit, clients, directory, domains, users};
use crate::tokens::keys;

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

/// Audit events kept per answer at most.
pub const MAX_AUDIT_LIMIT: i64 = 1000;

#[derive(Clone)]
pub struct Admin {
    store: Store,
    clock: Clock,
}

impl Admin {
    pub fn new(store: Store, clock: Clock) -> Self {
        Self { store, clock }
    }

    /// Creates a domain together with its first signing key.
    pub async fn create_domain(
        &self,
        name: DomainName,
        settings: DomainSettings,
        actor: Actor,
    ) -> Result<Domain, AdminError> {
        let key = keys::generate().map_err(|e| AdminError::Store(StoreError::Internal(e.to_string())))?;
        let now = self.clock.now();
        let missing = name.clone();
        let row = self
            .store
            .write(move |mut db| {
                Box::pin(async move {
                    let row = domains::insert(
                        &mut db,
                        &NewDomain {
                            name: name.as_str(),
                            access_token_ttl_secs: settings.access_token_ttl_secs,
                            refresh_token_ttl_secs: settings.refresh_token_ttl_secs,
                            public_clients_can_revoke: settings.public_clients_can_revoke,
                            created_at: now,
                            updated_at: now,
                        },
                    )
                    .await?;
                    store_keys::insert(
                        &mut db,
                        &NewSigningKey {
                            domain_id: row.id,
                            kid: &key.kid,
                            algorithm: keys::ALGORITHM,
                            private_key: &key.pkcs8,
                            public_jwk: &key.public_jwk.to_string(),
                            created_at: now,
                        },
                    )
                    .await?;
                    let details = json!({ "settings": settings, "kid": key.kid });
                    record(&mut db, row.id, now, AuditAction::DomainCreated, &actor, details).await?;
                    Ok(row)
                })
            })
            .await
            .map_err(|e| match e {
                StoreError::Conflict => AdminError::Conflict(format!("identity domain '{missing}' already exists")),
                other => AdminError::Store(other),
            })?;
        Ok(row.into())
    }

    pub async fn list_domains(&self) -> Result<Vec<Domain>, AdminError> {
        let rows = self
            .store
            .read(|mut db| Box::pin(async move { domains::list(&mut db).await }))
            .await
            .map_err(AdminError::Store)?;
        Ok(rows.into_iter().map(Domain::from).collect())
    }

    pub async fn get_domain(&self, name: &DomainName) -> Result<Domain, AdminError> {
        let lookup = name.clone();
        self.store
            .read(move |mut db| Box::pin(async move { domains::find_by_name(&mut db, lookup.as_str()).await }))
            .await
            .map_err(AdminError::Store)?
            .map(Domain::from)
            .ok_or_else(|| domain_not_found(name))
    }

    pub async fn update_domain(
        &self,
        name: &DomainName,
        patch: SettingsPatch,
        actor: Actor,
    ) -> Result<Domain, AdminError> {
        let now = self.clock.now();
        let row = self
            .write_in(name, move |mut db, id| {
                Box::pin(async move {
                    let changes = DomainChanges {
                        access_token_ttl_secs: patch.access_token_ttl_secs,
                        refresh_token_ttl_secs: patch.refresh_token_ttl_secs,
                        public_clients_can_revoke: patch.public_clients_can_revoke,
                        updated_at: now,
                    };
                    let row = domains::update(&mut db, id, &changes).await?;
                    record(
                        &mut db,
                        id,
                        now,
                        AuditAction::DomainUpdated,
                        &actor,
                        json!({ "changes": patch }),
                    )
                    .await?;
                    directory::announce_change(&mut db, id).await?;
                    Ok(row)
                })
            })
            .await?;
        self.store.domain_changed(row.id);
        Ok(row.into())
    }

    /// Deletes the domain with every client, user, consent, key, token and audit event
    /// it holds. The deletion itself is logged, since the domain's audit trail goes too.
    pub async fn delete_domain(&self, name: &DomainName, actor: Actor) -> Result<(), AdminError> {
        let id = self
            .write_in(name, |mut db, id| {
                Box::pin(async move {
                    domains::delete(&mut db, id).await?;
                    directory::announce_change(&mut db, id).await?;
                    Ok(id)
                })
            })
            .await?;
        self.store.domain_changed(id);
        tracing::info!(domain = %name, actor = actor.name, request_id = actor.request_id.as_deref(), "identity domain deleted");
        Ok(())
    }

    pub async fn create_client(
        &self,
        domain: &DomainName,
        spec: ClientSpec,
        actor: Actor,
    ) -> Result<CreatedClient, AdminError> {
        let grant_types = spec.checked_grant_types().map_err(AdminError::Invalid)?;
        let secret = match spec.client_type {
            ClientType::Confidential => Some(ClientSecret::generate()),
            ClientType::Public => None,
        };
        let secret_hash = secret.as_ref().map(|s| s.digest());
        let now = self.clock.now();
        let client_id = spec.client_id.clone();
        let row = self
            .write_in(domain, move |mut db, domain_id| {
                Box::pin(async move {
                    let grants: Vec<&str> = grant_types.iter().map(|g| g.as_str()).collect();
                    let row = clients::insert(
                        &mut db,
                        &NewClient {
                            domain_id,
                            client_id: spec.client_id.as_str(),
                            client_type: spec.client_type.as_str(),
                            secret_hash: secret_hash.as_ref().map(|d| d.as_bytes().as_slice()),
                            grant_types: &grants.join(" "),
                            scopes: &spec.scopes.to_space_separated(),
                            domain_admin: spec.domain_admin,
                            created_at: now,
                            updated_at: now,
                        },
                    )
                    .await?;
                    let view = Client::from(row.clone());
                    record(&mut db, domain_id, now, AuditAction::ClientCreated, &actor, json!(view)).await?;
                    Ok(row)
                })
            })
            .await
            .map_err(|e| match e {
                AdminError::Conflict(_) => AdminError::Conflict(format!(
                    "client '{client_id}' already exists in identity domain '{domain}'"
                )),
                other => other,
            })?;
        Ok(CreatedClient {
            client: row.into(),
            client_secret: secret,
        })
    }

    pub async fn list_clients(&self, domain: &DomainName) -> Result<Vec<Client>, AdminError> {
        let rows = self
            .read_in(domain, |mut db, id| {
                Box::pin(async move { clients::list(&mut db, id).await })
            })
            .await?;
        Ok(rows.into_iter().map(Client::from).collect())
    }

    pub async fn get_client(&self, domain: &DomainName, client_id: &ClientId) -> Result<Client, AdminError> {
        let wanted = client_id.clone();
        self.read_in(domain, move |mut db, id| {
            Box::pin(async move { clients::find(&mut db, id, wanted.as_str()).await })
        })
        .await?
        .map(Client::from)
        .ok_or_else(|| client_not_found(domain, client_id))
    }

    /// Deletes a client with its consents and tokens.
    pub async fn delete_client(
        &self,
        domain: &DomainName,
        client_id: &ClientId,
        actor: Actor,
    ) -> Result<(), AdminError> {
        let now = self.clock.now();
        let wanted = client_id.clone();
        let deleted = self
            .write_in(domain, move |mut db, id| {
                Box::pin(async move {
                    let deleted = clients::delete(&mut db, id, wanted.as_str()).await?;
                    if deleted {
                        record(
                            &mut db,
                            id,
                            now,
                            AuditAction::ClientDeleted,
                            &actor,
                            json!({ "client_id": wanted }),
                        )
                        .await?;
                        directory::announce_change(&mut db, id).await?;
                    }
                    Ok(deleted.then_some(id))
                })
            })
            .await?;
        let domain_id = deleted.ok_or_else(|| client_not_found(domain, client_id))?;
        self.store.domain_changed(domain_id);
        Ok(())
    }

    pub async fn create_user(
        &self,
        domain: &DomainName,
        username: Username,
        password: Password,
        actor: Actor,
    ) -> Result<User, AdminError> {
        // Argon2 takes tens of milliseconds of CPU: keep it off the async threads.
        let hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| AdminError::Store(StoreError::Internal(format!("password hashing task failed: {e}"))))?
            .map_err(|e| AdminError::Store(StoreError::Internal(e)))?;
        let now = self.clock.now();
        let name = username.clone();
        let row = self
            .write_in(domain, move |mut db, domain_id| {
                Box::pin(async move {
                    let row = users::insert(
                        &mut db,
                        &NewUser {
                            domain_id,
                            username: name.as_str(),
                            password_hash: &hash.0,
                            created_at: now,
                            updated_at: now,
                        },
                    )
                    .await?;
                    record(
                        &mut db,
                        domain_id,
                        now,
                        AuditAction::UserCreated,
                        &actor,
                        json!({ "username": name }),
                    )
                    .await?;
                    Ok(row)
                })
            })
            .await
            .map_err(|e| match e {
                AdminError::Conflict(_) => AdminError::Conflict(format!(
                    "user '{username}' already exists in identity domain '{domain}'"
                )),
                other => other,
            })?;
        Ok(row.into())
    }

    pub async fn list_users(&self, domain: &DomainName) -> Result<Vec<User>, AdminError> {
        let rows = self
            .read_in(domain, |mut db, id| {
                Box::pin(async move { users::list(&mut db, id).await })
            })
            .await?;
        Ok(rows.into_iter().map(User::from).collect())
    }

    pub async fn get_user(&self, domain: &DomainName, username: &Username) -> Result<User, AdminError> {
        let wanted = username.clone();
        self.read_in(domain, move |mut db, id| {
            Box::pin(async move { users::find(&mut db, id, wanted.as_str()).await })
        })
        .await?
        .map(User::from)
        .ok_or_else(|| user_not_found(domain, username))
    }

    /// Deletes a user with their consents and tokens.
    pub async fn delete_user(&self, domain: &DomainName, username: &Username, actor: Actor) -> Result<(), AdminError> {
        let now = self.clock.now();
        let wanted = username.clone();
        let deleted = self
            .write_in(domain, move |mut db, id| {
                Box::pin(async move {
                    let deleted = users::delete(&mut db, id, wanted.as_str()).await?;
                    if deleted {
                        record(
                            &mut db,
                            id,
                            now,
                            AuditAction::UserDeleted,
                            &actor,
                            json!({ "username": wanted }),
                        )
                        .await?;
                    }
                    Ok(deleted)
                })
            })
            .await?;
        deleted.then_some(()).ok_or_else(|| user_not_found(domain, username))
    }

    /// The newest `limit` events of a domain (1 to [`MAX_AUDIT_LIMIT`]), newest first.
    pub async fn audit(&self, domain: &DomainName, limit: i64) -> Result<Vec<AuditEvent>, AdminError> {
        if !(1..=MAX_AUDIT_LIMIT).contains(&limit) {
            return Err(AdminError::Invalid(format!(
                "limit must be from 1 to {MAX_AUDIT_LIMIT}"
            )));
        }
        let rows = self
            .read_in(domain, move |mut db, id| {
                Box::pin(async move { audit::newest(&mut db, id, limit).await })
            })
            .await?;
        Ok(rows.into_iter().map(AuditEvent::from).collect())
    }

    /// Revokes every live token of a user, a client, or a user at a client (SPEC §3.7
    /// `revocations`) with one watermark row, whatever the number of tokens, through
    /// the revocation pipeline; answers how many live tokens that reached. A dry run
    /// counts and changes nothing.
    pub async fn bulk_revoke(&self, domain: &DomainName, spec: BulkSpec, actor: Actor) -> Result<i64, AdminError> {
        if spec.username.is_none() && spec.client_id.is_none() {
            return Err(AdminError::Invalid("name a username, a client_id, or both".into()));
        }
        let now = self.clock.now();
        let wanted = spec.clone();
        let resolved = self
            .read_in(domain, move |mut db, domain_id| {
                Box::pin(async move {
                    let user = match &wanted.username {
                        Some(name) => match users::find(&mut db, domain_id, name.as_str()).await? {
                            Some(user) => Some((user.id, user.username)),
                            None => return Ok(Err(format!("no user '{name}' in this identity domain"))),
                        },
                        None => None,
                    };
                    let client = match &wanted.client_id {
                        Some(id) => match clients::find(&mut db, domain_id, id.as_str()).await? {
                            Some(client) => Some((client.id, client.client_id)),
                            None => return Ok(Err(format!("no client '{id}' in this identity domain"))),
                        },
                        None => None,
                    };
                    let bulk = Bulk {
                        user,
                        client,
                        kind: wanted.kind,
                        // A future instant would also kill tokens issued later: cap it at now.
                        issued_before: wanted.issued_before.map_or(now, |t| t.min(now)),
                        with_consents: wanted.revoke_consents,
                    };
                    let counted = if wanted.dry_run {
                        Some(revocations::count_live(&mut db, domain_id, &bulk, now).await?)
                    } else {
                        None
                    };
                    Ok(Ok((domain_id, bulk, counted)))
                })
            })
            .await?;
        let (domain_id, bulk, counted) = resolved.map_err(AdminError::NotFound)?;
        if let Some(counted) = counted {
            return Ok(counted.total() as i64);
        }
        let revoked = self
            .store
            .revoke(Revocation {
                domain_id,
                reach: Reach::Watermark(bulk),
                by: RevokedBy::operator(actor.name),
                level: None,
                reason: spec.reason,
                request_id: actor.request_id,
                at: now,
            })
            .await
            .map_err(|e| in_domain_error(e, domain))?;
        Ok(revoked.total() as i64)
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

/// What a bulk revocation asks for.
#[derive(Debug, Clone)]
pub struct BulkSpec {
    pub username: Option<Username>,
    pub client_id: Option<ClientId>,
    /// `None`: both kinds.
    pub kind: Option<TokenKind>,
    pub issued_before: Option<UnixMicros>,
    pub revoke_consents: bool,
    pub reason: Option<Reason>,
    pub dry_run: bool,
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

fn client_not_found(domain: &DomainName, client_id: &ClientId) -> AdminError {
    AdminError::NotFound(format!("no client '{client_id}' in identity domain '{domain}'"))
}

fn user_not_found(domain: &DomainName, username: &Username) -> AdminError {
    AdminError::NotFound(format!("no user '{username}' in identity domain '{domain}'"))
}

/// The internal id of a domain; `StoreError::NotFound` when there is none.
async fn domain_id(db: &mut Db<'_>, name: &DomainName) -> Result<i64, StoreError> {
    domains::find_by_name(db, name.as_str())
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
    audit::record(
        db,
        &NewAuditEvent {
            domain_id,
            occurred_at: at,
            action,
            actor: actor.name,
            request_id: actor.request_id.as_deref(),
            details: details.to_string(),
        },
    )
    .await
}

fn domain_not_found(name: &DomainName) -> AdminError {
    AdminError::NotFound(format!("identity domain '{name}' does not exist"))
}
