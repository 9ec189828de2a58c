//! Clients of an identity domain: registering one (with its secret when confidential),
//! reading and deleting them.

use crate::domain::audit::AuditAction;
use serde_json::json;

use super::{Actor, Admin, AdminError, Client, CreatedClient, record};
use crate::domain::{ClientId, ClientSpec, ClientType, DomainName};
use crate::security::ClientSecret;
use crate::store::models::NewClient;
use crate::store::{clients, directory};

impl Admin {
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
}

fn client_not_found(domain: &DomainName, client_id: &ClientId) -> AdminError {
    AdminError::NotFound(format!("no client '{client_id}' in identity domain '{domain}'"))
}
