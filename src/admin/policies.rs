//! A domain's revocation policy (SPEC §3.12): set, shown, removed, and tried out
//! without revoking anything. Setting and removing announce the change, so every
//! instance drops its compiled copy before its next revocation.

use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::{Actor, Admin, AdminError, record};
use crate::clock::{self, UnixMicros};
use crate::domain::DomainName;
use crate::domain::audit::AuditAction;
use crate::domain::policy::{Activation, Limits, Policy};
use crate::domain::revocation::{Reason, RevokeLevel};
use crate::store::directory;
use crate::store::policies::{self, PolicyRow};

/// A domain's stored policy.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"expression":"token.kind == 'refresh' ? {'allow': true, 'revoke_level': 'RELATED_TOKENS'} : true","enabled":true,"created_at":"2026-12-07T09:00:00Z","updated_at":"2026-12-07T09:00:00Z"}))]
pub struct RevocationPolicy {
    pub expression: String,
    /// A disabled policy is kept but not run.
    pub enabled: bool,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub updated_at: String,
}

impl From<PolicyRow> for RevocationPolicy {
    fn from(row: PolicyRow) -> Self {
        Self {
            expression: row.expression,
            enabled: row.enabled,
            created_at: clock::rfc3339(row.created_at),
            updated_at: clock::rfc3339(row.updated_at),
        }
    }
}

/// What a policy would decide for a revocation, and what the revocation would then do.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"allow":true,"revoke_level":"RELATED_TOKENS","reason":null,"error":null}))]
pub struct Evaluation {
    /// Whether the revocation goes ahead; `true` on error (fail safe).
    pub allow: bool,
    /// The level it would run at: the policy's, else the request's.
    pub revoke_level: RevokeLevel,
    /// The reason it would keep: the request's, else the policy's.
    #[schema(value_type = Option<String>)]
    pub reason: Option<Reason>,
    /// Why the policy could not decide (the revocation would go ahead as asked).
    pub error: Option<String>,
}

impl Admin {
    /// Sets the domain's policy, replacing any; `Invalid` (with `line:column`) when
    /// the expression does not compile.
    pub async fn set_policy(
        &self,
        domain: &DomainName,
        expression: String,
        enabled: bool,
        actor: Actor,
    ) -> Result<RevocationPolicy, AdminError> {
        Policy::compile(&expression).map_err(|e| AdminError::Invalid(format!("expression: {e}")))?;
        let now = self.clock.now();
        let (domain_id, row) = self
            .write_in(domain, move |mut db, domain_id| {
                Box::pin(async move {
                    let row = policies::put(
                        &mut db,
                        &PolicyRow {
                            domain_id,
                            expression,
                            enabled,
                            created_at: now,
                            updated_at: now,
                        },
                    )
                    .await?;
                    let details = json!({ "expression": row.expression, "enabled": row.enabled });
                    record(&mut db, domain_id, now, AuditAction::PolicySet, &actor, details).await?;
                    directory::announce_change(&mut db, domain_id).await?;
                    Ok((domain_id, row))
                })
            })
            .await?;
        self.store.domain_changed(domain_id);
        Ok(row.into())
    }

    pub async fn get_policy(&self, domain: &DomainName) -> Result<RevocationPolicy, AdminError> {
        self.read_in(domain, |mut db, domain_id| {
            Box::pin(async move { policies::find(&mut db, domain_id).await })
        })
        .await?
        .map(RevocationPolicy::from)
        .ok_or_else(|| no_policy(domain))
    }

    /// Removes the domain's policy; `NotFound` when it has none.
    pub async fn delete_policy(&self, domain: &DomainName, actor: Actor) -> Result<(), AdminError> {
        let now = self.clock.now();
        let deleted = self
            .write_in(domain, move |mut db, domain_id| {
                Box::pin(async move {
                    if !policies::delete(&mut db, domain_id).await? {
                        return Ok(None);
                    }
                    record(&mut db, domain_id, now, AuditAction::PolicyDeleted, &actor, json!({})).await?;
                    directory::announce_change(&mut db, domain_id).await?;
                    Ok(Some(domain_id))
                })
            })
            .await?;
        let domain_id = deleted.ok_or_else(|| no_policy(domain))?;
        self.store.domain_changed(domain_id);
        Ok(())
    }

    /// What `expression` (or, without one, the domain's stored policy, even disabled)
    /// decides for `activation`; revokes nothing. `now` defaults to the clock's.
    pub async fn evaluate_policy(
        &self,
        domain: &DomainName,
        expression: Option<String>,
        activation: impl FnOnce(UnixMicros) -> Activation,
    ) -> Result<Evaluation, AdminError> {
        let stored = self
            .read_in(domain, |mut db, domain_id| {
                Box::pin(async move { policies::find(&mut db, domain_id).await })
            })
            .await?;
        let source = match expression {
            Some(expression) => expression,
            None => stored.ok_or_else(|| no_policy(domain))?.expression,
        };
        let policy = Policy::compile(&source).map_err(|e| AdminError::Invalid(format!("expression: {e}")))?;
        let activation = activation(self.clock.now());
        let decision = policy.evaluate(&activation, Limits::default());
        Ok(Evaluation {
            allow: decision.allow,
            revoke_level: decision.level(activation.request.revoke_level),
            reason: decision.reason(activation.request.reason),
            error: decision.error,
        })
    }
}

fn no_policy(domain: &DomainName) -> AdminError {
    AdminError::NotFound(format!("identity domain '{domain}' has no revocation policy"))
}
