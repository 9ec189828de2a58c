//! Signing keys in memory: each domain's key is read from the store and parsed once,
//! then shared. Keys never change in place, and domain ids are never reused, so an
//! entry can only go stale by its domain being deleted, after which nothing asks
//! for it.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::store::{Store, keys};
use crate::tokens::SigningKey;

use super::OAuthError;

#[derive(Default)]
pub struct KeyRing {
    keys: RwLock<HashMap<i64, Arc<SigningKey>>>,
}

impl KeyRing {
    pub async fn signing_key(&self, store: &Store, domain_id: i64) -> Result<Arc<SigningKey>, OAuthError> {
        if let Some(key) = self.keys.read().ok().and_then(|keys| keys.get(&domain_id).cloned()) {
            return Ok(key);
        }
        let row = store
            .read(move |mut db| Box::pin(async move { keys::active(&mut db, domain_id).await }))
            .await?
            .ok_or_else(|| OAuthError::Internal(format!("domain {domain_id} has no signing key")))?;
        let key = Arc::new(
            SigningKey::from_pkcs8(row.kid.clone(), &row.private_key)
                .map_err(|e| OAuthError::Internal(e.to_string()))?,
        );
        if let Ok(mut keys) = self.keys.write() {
            keys.insert(domain_id, key.clone());
        }
        Ok(key)
    }
}
