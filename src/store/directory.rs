//! Domains and their clients by public name, kept in memory for client
//! authentication, which every OAuth request starts with; and each domain's compiled
//! revocation policy (or that it has none), which every client revocation asks for.
//!
//! An entry is dropped whenever its domain, one of its clients or its policy changes: in this
//! process when the change commits, and in every other process on the same PostgreSQL
//! through `LISTEN/NOTIFY` (the notification is sent by the changing transaction, so it
//! arrives only if that commits). While the listening connection is down nothing is
//! cached, and everything cached before is dropped, since notifications may have been
//! missed. SQLite is one process's store, so there only the local path exists.
//!
//! Only clients that exist are cached, never a miss: a new client is found at once.
//! A domain without a policy is cached as such: setting one announces the change.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use diesel::sql_types::Text;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use futures_util::StreamExt;

use super::models::{ClientRow, DomainRow};
use super::{Db, StoreError};
use crate::domain::policy::Policy;

/// The PostgreSQL channel changes are announced on; the payload is the domain id.
const CHANNEL: &str = "revokd_directory";
/// How often the listening connection is checked when no notification arrives.
const LISTENER_PING: Duration = Duration::from_secs(5);
/// Pause before reconnecting a listener that lost its connection.
const LISTENER_RETRY: Duration = Duration::from_secs(1);

/// A domain and one of its clients, as client authentication needs them.
pub type Entry = Arc<(DomainRow, ClientRow)>;

/// A domain's revocation policy as revocations need it: `None` when it has none or
/// it is disabled.
pub type CachedPolicy = Option<Arc<Policy>>;

pub struct Directory {
    /// domain name → client_id → entry.
    entries: RwLock<HashMap<String, HashMap<String, Entry>>>,
    /// domain id → its policy. Written under the `entries` lock, so one generation
    /// check covers both.
    policies: RwLock<HashMap<i64, CachedPolicy>>,
    /// Bumped by every invalidation; a look-up that started before one must not
    /// store what it read.
    generation: AtomicU64,
    /// False while invalidations could be missed (PostgreSQL listener down).
    enabled: AtomicBool,
}

impl Directory {
    /// `enabled`: whether entries may be kept from the start (not on PostgreSQL until
    /// its listener runs).
    pub(super) fn new(enabled: bool) -> Self {
        Self {
            entries: RwLock::default(),
            policies: RwLock::default(),
            generation: AtomicU64::new(0),
            enabled: AtomicBool::new(enabled),
        }
    }

    pub(super) fn get(&self, domain: &str, client_id: &str) -> Option<Entry> {
        if !self.enabled.load(Ordering::Acquire) {
            return None;
        }
        let entries = self.entries.read().ok()?;
        entries.get(domain)?.get(client_id).cloned()
    }

    /// The generation to hand to [`Directory::insert`] after reading the store.
    pub(super) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Keeps `entry` unless something was invalidated since `generation` was taken
    /// (the read may have seen the state before that change).
    pub(super) fn insert(&self, generation: u64, entry: Entry) {
        if !self.enabled.load(Ordering::Acquire) {
            return;
        }
        let Ok(mut entries) = self.entries.write() else { return };
        // Checked under the lock that invalidation also takes, so no invalidation can
        // slip between the check and the insert.
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        let (domain, client) = &*entry;
        entries
            .entry(domain.name.clone())
            .or_default()
            .insert(client.client_id.clone(), entry.clone());
    }

    pub(super) fn policy(&self, domain_id: i64) -> Option<CachedPolicy> {
        if !self.enabled.load(Ordering::Acquire) {
            return None;
        }
        self.policies.read().ok()?.get(&domain_id).cloned()
    }

    /// Keeps `policy` as the domain's, on the terms of [`Directory::insert`].
    pub(super) fn insert_policy(&self, generation: u64, domain_id: i64, policy: CachedPolicy) {
        if !self.enabled.load(Ordering::Acquire) {
            return;
        }
        let Ok(_entries) = self.entries.write() else { return };
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if let Ok(mut policies) = self.policies.write() {
            policies.insert(domain_id, policy);
        }
    }

    /// Drops everything cached for the domain with this id.
    pub fn invalidate_domain(&self, domain_id: i64) {
        if let Ok(mut entries) = self.entries.write() {
            self.generation.fetch_add(1, Ordering::AcqRel);
            entries.retain(|_, clients| clients.values().all(|entry| entry.0.id != domain_id));
            if let Ok(mut policies) = self.policies.write() {
                policies.remove(&domain_id);
            }
        }
    }

    fn invalidate_all(&self) {
        if let Ok(mut entries) = self.entries.write() {
            self.generation.fetch_add(1, Ordering::AcqRel);
            entries.clear();
            if let Ok(mut policies) = self.policies.write() {
                policies.clear();
            }
        }
    }

    fn set_enabled(&self, enabled: bool) {
        // Whichever way it turns, nothing cached before may be trusted.
        self.invalidate_all();
        self.enabled.store(enabled, Ordering::Release);
    }
}

/// Tells the other processes on the same PostgreSQL that a domain or one of its clients
/// changed. Run it inside the changing transaction: PostgreSQL delivers the
/// notification only when that commits. Nothing to do on SQLite.
pub async fn announce_change(db: &mut Db<'_>, domain_id: i64) -> Result<(), StoreError> {
    if let Db::Postgres(conn) = db {
        let notify = diesel::sql_query("SELECT pg_notify($1, $2)")
            .bind::<Text, _>(CHANNEL)
            .bind::<Text, _>(domain_id.to_string());
        diesel_async::RunQueryDsl::execute(notify, &mut **conn).await?;
    }
    Ok(())
}

/// Keeps a `LISTEN` connection to PostgreSQL for as long as `directory` is in use,
/// invalidating on every notification; reconnects after any failure, with caching
/// off until it is listening again.
pub(super) async fn listen(url: String, directory: std::sync::Weak<Directory>) {
    loop {
        match listen_once(&url, &directory).await {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(%error, "directory listener lost its connection; caching is off until it is back")
            }
        }
        let Some(live) = directory.upgrade() else { return };
        live.set_enabled(false);
        drop(live);
        tokio::time::sleep(LISTENER_RETRY).await;
    }
}

/// Listens until the directory is dropped (`Ok`) or the connection fails (`Err`).
async fn listen_once(url: &str, directory: &std::sync::Weak<Directory>) -> Result<(), StoreError> {
    let mut conn = AsyncPgConnection::establish(url).await?;
    diesel_async::RunQueryDsl::execute(diesel::sql_query(format!("LISTEN {CHANNEL}")), &mut conn).await?;
    match directory.upgrade() {
        Some(live) => live.set_enabled(true),
        None => return Ok(()),
    }
    loop {
        // The stream hands out what the connection buffered meanwhile, so dropping it
        // for a ping loses nothing.
        let next = {
            let mut notifications = std::pin::pin!(conn.notifications_stream());
            tokio::time::timeout(LISTENER_PING, notifications.next()).await
        };
        let Some(live) = directory.upgrade() else { return Ok(()) };
        match next {
            Ok(Some(Ok(notification))) => match notification.payload.parse::<i64>() {
                Ok(domain_id) => live.invalidate_domain(domain_id),
                Err(_) => live.invalidate_all(),
            },
            Ok(Some(Err(error))) => return Err(error.into()),
            Ok(None) => return Err(StoreError::unavailable("the listening connection closed")),
            Err(_quiet) => {
                let ping = diesel_async::RunQueryDsl::execute(diesel::sql_query("SELECT 1"), &mut conn);
                tokio::time::timeout(LISTENER_PING, ping)
                    .await
                    .map_err(|_| StoreError::unavailable("the listening connection stopped answering"))??;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(domain_id: i64, domain: &str, client_id: &str) -> Entry {
        Arc::new((
            DomainRow {
                id: domain_id,
                name: domain.into(),
                access_token_ttl_secs: 60,
                refresh_token_ttl_secs: 60,
                public_clients_can_revoke: true,
                created_at: 0,
                updated_at: 0,
                refresh_token_grace_secs: 30,
                status_list_ttl_secs: 60,
                revoke_on_password_change: true,
            },
            ClientRow {
                domain_id,
                id: 1,
                client_id: client_id.into(),
                client_type: "confidential".into(),
                secret_hash: None,
                grant_types: String::new(),
                scopes: String::new(),
                domain_admin: false,
                created_at: 0,
                updated_at: 0,
            },
        ))
    }

    #[test]
    fn invalidation_drops_only_that_domain() {
        let directory = Directory::new(true);
        directory.insert(directory.generation(), entry(1, "a", "web"));
        directory.insert(directory.generation(), entry(2, "b", "web"));
        directory.invalidate_domain(1);
        assert!(directory.get("a", "web").is_none());
        assert!(directory.get("b", "web").is_some());
    }

    #[test]
    fn a_read_older_than_an_invalidation_is_not_kept() {
        let directory = Directory::new(true);
        let before = directory.generation();
        directory.invalidate_domain(1);
        directory.insert(before, entry(1, "a", "web"));
        assert!(directory.get("a", "web").is_none());
    }

    #[test]
    fn policies_go_with_their_domain() {
        let directory = Directory::new(true);
        let policy = Policy::compile("true").ok().map(Arc::new);
        directory.insert_policy(directory.generation(), 1, policy);
        directory.insert_policy(directory.generation(), 2, None);
        assert!(matches!(directory.policy(1), Some(Some(_))));
        assert!(matches!(directory.policy(2), Some(None)), "no policy is cached too");
        let before = directory.generation();
        directory.invalidate_domain(1);
        assert!(directory.policy(1).is_none());
        assert!(directory.policy(2).is_some());
        directory.insert_policy(before, 1, None);
        assert!(
            directory.policy(1).is_none(),
            "a read older than the change is not kept"
        );
        directory.set_enabled(false);
        assert!(directory.policy(2).is_none());
    }

    #[test]
    fn nothing_is_kept_or_served_while_disabled() {
        let directory = Directory::new(true);
        directory.insert(directory.generation(), entry(1, "a", "web"));
        directory.set_enabled(false);
        assert!(directory.get("a", "web").is_none());
        directory.insert(directory.generation(), entry(1, "a", "web"));
        directory.set_enabled(true);
        assert!(directory.get("a", "web").is_none(), "re-enabling starts empty");
    }
}
