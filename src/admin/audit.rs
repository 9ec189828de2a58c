//! Reading a domain's audit trail (the events are written by [`super::record`] in each
//! change's transaction).

use super::{Admin, AdminError, AuditEvent};
use crate::domain::DomainName;
use crate::store::audit;

/// Audit events kept per answer at most.
pub const MAX_AUDIT_LIMIT: i64 = 1000;

impl Admin {
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
}
