//! Password sign-ins are counted like client authentications (SPEC §5): per address,
//! and per (domain, user name), which refuses that name for the rest of the window.
//! The `password` grant and the account page (§3.9) both count here.

use std::time::Duration;

use actix_web::HttpRequest;

use super::origin::client_address;
use super::state::AppState;
use crate::domain::{DomainName, Username};
use crate::security::FailureKey;

/// The keys one password sign-in is counted by.
#[derive(Debug)]
pub struct SignInAttempt {
    keys: Vec<FailureKey>,
}

impl SignInAttempt {
    /// The address, and the user name in its domain (a name no user can have is only
    /// counted by address).
    pub fn new(req: &HttpRequest, state: &AppState, domain: &DomainName, username: &str) -> Self {
        let address = client_address(req, &state.settings.trusted_proxies);
        let user = Username::parse(username).ok().map(|name| FailureKey::User {
            domain: domain.to_string(),
            username: name.to_string(),
        });
        Self {
            keys: address.map(FailureKey::Address).into_iter().chain(user).collect(),
        }
    }

    /// `Err(wait)` when any key is over the limit: the credentials must not be checked.
    pub fn check(&self, state: &AppState) -> Result<(), Duration> {
        self.keys.iter().try_for_each(|key| state.auth_failures.check(key))
    }

    /// Counts the failure against every key, and logs it (never the password).
    pub fn failed(self, state: &AppState, domain: &DomainName, client_id: Option<&str>) {
        tracing::warn!(%domain, ?client_id, keys = ?self.keys, "password sign-in failed");
        for key in self.keys {
            state.auth_failures.record(key);
        }
    }
}
