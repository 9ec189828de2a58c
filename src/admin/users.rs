//! Users of an identity domain: creating one with a hashed password, reading and
//! deleting them.

use crate::domain::audit::AuditAction;
use serde_json::json;

use super::{Actor, Admin, AdminError, User, record};
use crate::domain::{DomainName, Username};
use crate::security::{Password, hash_password};
use crate::store::models::NewUser;
use crate::store::{StoreError, users};

impl Admin {
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
}

fn user_not_found(domain: &DomainName, username: &Username) -> AdminError {
    AdminError::NotFound(format!("no user '{username}' in identity domain '{domain}'"))
}
