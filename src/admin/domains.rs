//! Identity domains: creating one with its first signing key, reading, changing and
//! deleting them.

use crate::domain::audit::AuditAction;
use serde_json::json;

use super::{Actor, Admin, AdminError, Domain, domain_not_found, record};
use crate::domain::{DomainName, DomainSettings, SettingsPatch};
use crate::store::keys as store_keys;
use crate::store::models::{DomainChanges, NewDomain, NewSigningKey};
use crate::store::{StoreError, directory, domains};
use crate::tokens::keys;

impl Admin {
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
                            refresh_token_grace_secs: settings.refresh_token_grace_secs,
                            status_list_ttl_secs: settings.status_list_ttl_secs,
                            revoke_on_password_change: settings.revoke_on_password_change,
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
                        refresh_token_grace_secs: patch.refresh_token_grace_secs,
                        status_list_ttl_secs: patch.status_list_ttl_secs,
                        revoke_on_password_change: patch.revoke_on_password_change,
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
}
