//! The applications a user granted access: their active consents, each with how many
//! live tokens it holds now.

use std::collections::HashMap;

use crate::clock::{Clock, UnixMicros};
use crate::oauth::consents::TokenOwner;
use crate::store::{Store, StoreError, consents};

/// One application with access to the user's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    /// The consent's public id, as `DELETE /oauth2/rest/consents/{id}` takes it.
    pub consent_id: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub granted_at: UnixMicros,
    pub live_tokens: i64,
}

pub async fn applications(store: &Store, clock: &Clock, user: &TokenOwner) -> Result<Vec<Application>, StoreError> {
    let (domain_id, user_ref, now) = (user.domain_id, user.user_ref, clock.now());
    let (rows, counts) = store
        .read(move |mut db| {
            Box::pin(async move {
                let rows = consents::active_for_user(&mut db, domain_id, user_ref).await?;
                let counts = consents::live_tokens_by_consent(&mut db, domain_id, user_ref, now).await?;
                Ok((rows, counts))
            })
        })
        .await?;
    let counts: HashMap<i64, i64> = counts
        .into_iter()
        .filter_map(|(consent, count)| Some((consent?, count)))
        .collect();
    Ok(rows
        .into_iter()
        .map(|(consent, client_id)| Application {
            live_tokens: counts.get(&consent.id).copied().unwrap_or(0),
            consent_id: consent.public_id,
            client_id,
            scopes: crate::domain::stored_scope_list(&consent.scopes),
            granted_at: consent.granted_at,
        })
        .collect())
}
