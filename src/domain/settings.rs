//! Per-domain settings (SPEC §2, §3.7).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainSettings {
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    /// How long after a rotation the same confidential client may present the rotated
    /// refresh token again as a retry (SPEC §3.3); 0: never.
    pub refresh_token_grace_secs: i64,
    /// How long resource servers may cache a status list, `ttl` in its JWT (SPEC §3.10).
    pub status_list_ttl_secs: i64,
    /// A password change revokes every live token of the user (SPEC §3.13).
    pub revoke_on_password_change: bool,
    pub public_clients_can_revoke: bool,
}

impl DomainSettings {
    /// A retry comes within seconds of a lost answer; an hour is far past any of them.
    pub const MAX_GRACE_SECS: i64 = 3600;

    /// Ten years: long enough for any real TTL, short enough that `now + ttl` in
    /// microseconds stays far from overflow.
    pub const MAX_TTL_SECS: i64 = 10 * 365 * 24 * 3600;

    pub fn ttl_is_valid(secs: i64) -> bool {
        (1..=Self::MAX_TTL_SECS).contains(&secs)
    }

    /// A status list's `ttl`: from a second to a day (SPEC §3.10).
    pub const MAX_STATUS_LIST_TTL_SECS: i64 = 86_400;

    pub fn status_list_ttl_is_valid(secs: i64) -> bool {
        (1..=Self::MAX_STATUS_LIST_TTL_SECS).contains(&secs)
    }
}

impl Default for DomainSettings {
    fn default() -> Self {
        Self {
            access_token_ttl_secs: 3600,
            refresh_token_ttl_secs: 14 * 24 * 3600,
            refresh_token_grace_secs: 30,
            status_list_ttl_secs: 60,
            revoke_on_password_change: true,
            public_clients_can_revoke: true,
        }
    }
}

/// A change to some of a domain's settings; `None` keeps the current value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SettingsPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_ttl_secs: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token_ttl_secs: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token_grace_secs: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_list_ttl_secs: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoke_on_password_change: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_clients_can_revoke: Option<bool>,
}
