//! What a policy's result means (SPEC §3.12): `true`, `false`, or a map with `allow`
//! and optionally `revoke_level` and `reason`. Anything else, an evaluation error, or
//! a cost limit hit is an error, and an error never blocks: the revocation goes ahead
//! as asked (fail safe) and the error is kept in the decision for the audit event.

use cel::Value;
use cel::objects::Key;
use serde::Serialize;

use crate::domain::revocation::{REVOKE_LEVELS, Reason, RevokeLevel, parse_closed};

/// What a policy decided, as the audit event records it. On error `allow` is true and
/// nothing is replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub allow: bool,
    /// The level the policy replaced the requested one with.
    pub revoke_level: Option<RevokeLevel>,
    /// The reason the policy gave (used when the request gave none).
    pub reason: Option<Reason>,
    /// Why the policy could not decide.
    pub error: Option<String>,
}

/// Longest error kept: an evaluation error may quote values.
const MAX_ERROR_CHARS: usize = 300;

impl Decision {
    /// The fail-safe decision: go ahead as asked, and say why the policy did not decide.
    pub fn failed(error: impl Into<String>) -> Self {
        let error: String = error.into();
        let error = match error.char_indices().nth(MAX_ERROR_CHARS) {
            Some((cut, _)) => format!("{}…", &error[..cut]),
            None => error,
        };
        Self {
            allow: true,
            revoke_level: None,
            reason: None,
            error: Some(error),
        }
    }

    /// Reads a policy's result.
    pub fn from_result(value: &Value) -> Self {
        match value {
            Value::Bool(allow) => Self {
                allow: *allow,
                revoke_level: None,
                reason: None,
                error: None,
            },
            Value::Map(map) => from_map(map.map.iter()).unwrap_or_else(Self::failed),
            other => Self::failed(format!(
                "the result must be a bool or a map with allow, not {}",
                other.type_of()
            )),
        }
    }

    /// The level the revocation runs at.
    pub fn level(&self, asked: RevokeLevel) -> RevokeLevel {
        self.revoke_level.unwrap_or(asked)
    }

    /// The reason the revocation keeps: the request's, else the policy's.
    pub fn reason(&self, asked: Option<Reason>) -> Option<Reason> {
        asked.or_else(|| self.reason.clone())
    }
}

fn from_map<'a>(entries: impl Iterator<Item = (&'a Key, &'a Value)>) -> Result<Decision, String> {
    let mut allow = None;
    let mut revoke_level = None;
    let mut reason = None;
    for (key, value) in entries {
        let Key::String(key) = key else {
            return Err(format!("the result map's keys must be strings, not {key:?}"));
        };
        match (key.as_str(), value) {
            ("allow", Value::Bool(b)) => allow = Some(*b),
            ("revoke_level", Value::String(level)) => {
                revoke_level = Some(parse_closed::<RevokeLevel>("revoke_level", level, &REVOKE_LEVELS)?);
            }
            ("reason", Value::String(text)) => reason = Some(Reason::parse(text)?),
            ("revoke_level" | "reason", Value::Null) => {}
            ("allow", other) => return Err(format!("allow must be a bool, not {}", other.type_of())),
            ("revoke_level" | "reason", other) => {
                return Err(format!("{key} must be a string, not {}", other.type_of()));
            }
            (other, _) => {
                return Err(format!(
                    "the result map has an unknown key '{other}' (allow, revoke_level, reason)"
                ));
            }
        }
    }
    let allow = allow.ok_or("the result map must have allow")?;
    Ok(Decision {
        allow,
        revoke_level,
        reason,
        error: None,
    })
}
