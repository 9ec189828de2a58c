//! The variables a policy sees (SPEC §3.12), as one typed value: built from the
//! revocation request on the hot path, or read from JSON by the evaluate endpoint,
//! and turned into CEL values in one place.

use std::collections::HashMap;
use std::sync::Arc;

use cel::Value;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::domain::ClientType;
use crate::domain::revocation::{Reason, RevocationEndpoint, RevokeLevel, TokenKind, TokenTypeParam};

/// Everything a policy is evaluated against.
#[derive(Debug, Clone)]
pub struct Activation {
    pub client: ClientFacts,
    pub token: TokenFacts,
    pub request: RequestFacts,
    pub now: DateTime<Utc>,
}

/// `client`: the client asking for the revocation.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"client_id":"web","client_type":"confidential","domain_admin":false,"scopes":["openid"]}))]
pub struct ClientFacts {
    pub client_id: String,
    pub client_type: ClientType,
    pub domain_admin: bool,
    pub scopes: Vec<String>,
}

/// `token`: the presented token.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind":"refresh","client_id":"web","username":"alice","scopes":["openid"],"issued_at":"2026-12-07T09:00:00Z","expires_at":"2026-12-21T09:00:00Z","active":true}))]
pub struct TokenFacts {
    pub kind: TokenKind,
    pub client_id: String,
    pub username: Option<String>,
    pub scopes: Vec<String>,
    #[schema(value_type = String, format = DateTime)]
    pub issued_at: DateTime<Utc>,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: DateTime<Utc>,
    pub active: bool,
}

/// `request`: what was asked. `revoke_level` is the level that applies before the
/// policy: the one asked for, or the endpoint's default.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"revoke_level":"NONE","token_type":"NONE","endpoint":"oam","reason":null}))]
pub struct RequestFacts {
    pub revoke_level: RevokeLevel,
    #[serde(default = "no_token_type")]
    pub token_type: TokenTypeParam,
    pub endpoint: RevocationEndpoint,
    /// 1 to 200 characters, no control characters.
    #[serde(default)]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200)]
    pub reason: Option<Reason>,
}

fn no_token_type() -> TokenTypeParam {
    TokenTypeParam::None
}

impl Activation {
    /// The variables as CEL values, by name.
    pub(super) fn variables(&self) -> [(&'static str, Value); 4] {
        let client = map([
            ("client_id", string(&self.client.client_id)),
            ("client_type", string(self.client.client_type.as_str())),
            ("domain_admin", Value::Bool(self.client.domain_admin)),
            ("scopes", strings(&self.client.scopes)),
        ]);
        let token = map([
            ("kind", string(self.token.kind.as_str())),
            ("client_id", string(&self.token.client_id)),
            ("username", self.token.username.as_deref().map_or(Value::Null, string)),
            ("scopes", strings(&self.token.scopes)),
            ("issued_at", timestamp(self.token.issued_at)),
            ("expires_at", timestamp(self.token.expires_at)),
            ("active", Value::Bool(self.token.active)),
        ]);
        let request = map([
            ("revoke_level", string(self.request.revoke_level.as_str())),
            ("token_type", string(self.request.token_type.as_str())),
            ("endpoint", string(self.request.endpoint.as_str())),
            (
                "reason",
                self.request.reason.as_ref().map_or(Value::Null, |r| string(r.as_str())),
            ),
        ]);
        [
            ("client", client),
            ("token", token),
            ("request", request),
            ("now", timestamp(self.now)),
        ]
    }
}

fn string(s: &str) -> Value {
    Value::String(Arc::new(s.to_owned()))
}

fn strings(list: &[String]) -> Value {
    Value::List(Arc::new(list.iter().map(|s| string(s)).collect()))
}

fn timestamp(at: DateTime<Utc>) -> Value {
    Value::Timestamp(at.fixed_offset())
}

fn map<const N: usize>(entries: [(&'static str, Value); N]) -> Value {
    Value::from(entries.into_iter().collect::<HashMap<&str, Value>>())
}
