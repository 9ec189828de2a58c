//! Security events (SPEC §3.13): a new password, a disabled user, a rotated client
//! secret. Each changes its row, writes its audit event and, in the same transaction,
//! revokes what it must through the revocation pipeline (a watermark with the event's
//! fixed reason), so introspection, status lists and every later way of reading see it.

use serde_json::json;

use super::{Actor, Admin, AdminError, CreatedClient, User, record};
use crate::domain::audit::AuditAction;
use crate::domain::revocation::FixedReason;
use crate::domain::{ClientId, ClientType, DomainName, Username};
use crate::security::{ClientSecret, Password, hash_password};
use crate::store::revocations::{self, Bulk, Revocation};
use crate::store::{Db, StoreError, account_sessions, clients, directory, domains, users};

/// Every token of the user with this id and name, issued before `now`.
fn all_of_user(id: i64, username: String, now: i64) -> Bulk {
    Bulk {
        user: Some((id, username)),
        client: None,
        kind: None,
        issued_before: now,
        with_consents: false,
    }
}

impl Admin {
    /// Sets a user's password; unless the domain's `revoke_on_password_change` is
    /// false, every live token of the user dies with reason `password_changed`.
    /// Answers how many tokens that revoked.
    pub async fn set_password(
        &self,
        domain: &DomainName,
        username: &Username,
        password: Password,
        actor: Actor,
    ) -> Result<usize, AdminError> {
        let hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| AdminError::Store(StoreError::Internal(format!("password hashing task failed: {e}"))))?
            .map_err(|e| AdminError::Store(StoreError::Internal(e)))?;
        let now = self.clock.now();
        let (name, wanted) = (domain.clone(), username.clone());
        let revoked = self
            .write_in(domain, move |mut db, domain_id| {
                Box::pin(async move {
                    let Some(user) = users::find(&mut db, domain_id, wanted.as_str()).await? else {
                        return Ok(None);
                    };
                    users::set_password_hash(&mut db, domain_id, user.id, &hash.0, now).await?;
                    let revoke = domains::find_by_name(&mut db, name.as_str())
                        .await?
                        .is_some_and(|d| d.revoke_on_password_change);
                    let details = json!({ "username": wanted, "tokens_revoked": revoke });
                    record(
                        &mut db,
                        domain_id,
                        now,
                        AuditAction::UserPasswordChanged,
                        &actor,
                        details,
                    )
                    .await?;
                    if !revoke {
                        return Ok(Some(0));
                    }
                    // Signed in to the account page with the old password: not any more.
                    account_sessions::delete_all_of_user(&mut db, domain_id, user.id).await?;
                    let bulk = all_of_user(user.id, user.username, now);
                    let event = Revocation::security_event(
                        domain_id,
                        bulk,
                        actor.name,
                        FixedReason::PasswordChanged,
                        actor.request_id.clone(),
                        now,
                    );
                    Ok(Some(revoke_now(&mut db, event).await?))
                })
            })
            .await?;
        revoked.ok_or_else(|| user_not_found(domain, username))
    }

    /// Disables or enables a user. Disabling revokes every live token of the user
    /// (reason `user_disabled`) and stops new ones; enabling revives none.
    pub async fn set_disabled(
        &self,
        domain: &DomainName,
        username: &Username,
        disabled: bool,
        actor: Actor,
    ) -> Result<User, AdminError> {
        let now = self.clock.now();
        let wanted = username.clone();
        let row = self
            .write_in(domain, move |mut db, domain_id| {
                Box::pin(async move {
                    let Some(user) = users::find(&mut db, domain_id, wanted.as_str()).await? else {
                        return Ok(None);
                    };
                    if user.disabled_at.is_some() == disabled {
                        return Ok(Some(user));
                    }
                    let at = disabled.then_some(now);
                    let row = users::set_disabled(&mut db, domain_id, user.id, at, now).await?;
                    let action = if disabled {
                        AuditAction::UserDisabled
                    } else {
                        AuditAction::UserEnabled
                    };
                    record(&mut db, domain_id, now, action, &actor, json!({ "username": wanted })).await?;
                    if disabled {
                        let event = Revocation::security_event(
                            domain_id,
                            all_of_user(user.id, user.username, now),
                            actor.name,
                            FixedReason::UserDisabled,
                            actor.request_id.clone(),
                            now,
                        );
                        revoke_now(&mut db, event).await?;
                    }
                    Ok(Some(row))
                })
            })
            .await?;
        row.map(User::from).ok_or_else(|| user_not_found(domain, username))
    }

    /// Gives a confidential client a new secret (shown once, in the answer); the old
    /// one stops working at once, on every instance. With `revoke_tokens`, every live
    /// token of the client dies too (reason `client_secret_rotated`).
    pub async fn rotate_secret(
        &self,
        domain: &DomainName,
        client_id: &ClientId,
        revoke_tokens: bool,
        actor: Actor,
    ) -> Result<CreatedClient, AdminError> {
        let secret = ClientSecret::generate();
        let hash = secret.digest();
        let now = self.clock.now();
        let wanted = client_id.clone();
        let rotated = self
            .write_in(domain, move |mut db, domain_id| {
                Box::pin(async move {
                    let Some(client) = clients::find(&mut db, domain_id, wanted.as_str()).await? else {
                        return Ok(None);
                    };
                    if ClientType::parse(&client.client_type) != Some(ClientType::Confidential) {
                        return Ok(Some(Err(())));
                    }
                    clients::set_secret_hash(&mut db, domain_id, client.id, hash.as_bytes(), now).await?;
                    let details = json!({ "client_id": wanted, "tokens_revoked": revoke_tokens });
                    record(
                        &mut db,
                        domain_id,
                        now,
                        AuditAction::ClientSecretRotated,
                        &actor,
                        details,
                    )
                    .await?;
                    if revoke_tokens {
                        let bulk = Bulk {
                            user: None,
                            client: Some((client.id, client.client_id.clone())),
                            kind: None,
                            issued_before: now,
                            with_consents: false,
                        };
                        let event = Revocation::security_event(
                            domain_id,
                            bulk,
                            actor.name,
                            FixedReason::ClientSecretRotated,
                            actor.request_id.clone(),
                            now,
                        );
                        revoke_now(&mut db, event).await?;
                    }
                    // Every instance drops its cached copy, with the old secret's hash.
                    directory::announce_change(&mut db, domain_id).await?;
                    Ok(Some(Ok((domain_id, client))))
                })
            })
            .await?;
        let (domain_id, client) = match rotated {
            None => {
                return Err(AdminError::NotFound(format!(
                    "no client '{client_id}' in identity domain '{domain}'"
                )));
            }
            Some(Err(())) => {
                return Err(AdminError::Invalid(format!(
                    "client '{client_id}' is public: it has no secret"
                )));
            }
            Some(Ok(found)) => found,
        };
        self.store.domain_changed(domain_id);
        Ok(CreatedClient {
            client: client.into(),
            client_secret: Some(secret),
        })
    }
}

/// Carries out a security event's revocation in the caller's transaction; the tokens
/// it ended.
async fn revoke_now(db: &mut Db<'_>, event: Revocation) -> Result<usize, StoreError> {
    let ended = revocations::execute(db, std::slice::from_ref(&event)).await?;
    let total = ended.iter().map(|r| r.total()).sum();
    // Counted before the commit: a commit failure here is rare enough to count a
    // revocation that did not happen (the caller gets 503 and may retry).
    crate::store::metrics::revocation(None, Some(total > 0));
    Ok(total)
}

fn user_not_found(domain: &DomainName, username: &Username) -> AdminError {
    AdminError::NotFound(format!("no user '{username}' in identity domain '{domain}'"))
}
