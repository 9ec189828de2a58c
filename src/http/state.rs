//! What every handler can reach: built once in `startup.rs`, shared through `web::Data`.

use crate::admin::Admin;
use crate::clock::Clock;
use crate::config::Settings;
use crate::oauth::TokenService;
use crate::security::{AdminToken, FailureLimit};
use crate::status_lists::Publisher;
use crate::store::Store;

use super::metrics::Metrics;

pub struct AppState {
    pub store: Store,
    pub clock: Clock,
    pub admin: Admin,
    pub tokens: TokenService,
    /// Signed status lists, cached per list until their bits change (SPEC §3.10).
    pub status_lists: Publisher,
    /// `None`: the operator API refuses everyone.
    pub admin_token: Option<AdminToken>,
    pub metrics: Metrics,
    /// Failed client authentications and password sign-ins, per address and user name.
    pub auth_failures: FailureLimit,
    pub settings: Settings,
    /// `GET /openapi.json`, rendered once at start-up.
    pub openapi_json: String,
}
