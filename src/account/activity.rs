//! "Recent activity" (SPEC §3.9): the user's last revocations, read from the audit
//! trail (each revocation's event names the user and the application it reached) and
//! told in words: what ended, when, and by whom.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::clock::UnixMicros;
use crate::domain::audit::AuditAction;
use crate::domain::revocation::FixedReason;
use crate::oauth::consents::TokenOwner;
use crate::store::models::AuditEventRow;
use crate::store::{Store, StoreError, audit, clients};

/// How many revocations the page lists.
pub const RECENT: i64 = 20;

/// One revocation that reached the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    pub at: UnixMicros,
    /// The application it reached; `None`: every application.
    pub application: Option<String>,
    /// What ended, in words ("Access withdrawn", "One token", …).
    pub what: &'static str,
    pub by: By,
    /// Tokens it ended.
    pub tokens: u64,
}

/// Who was behind a revocation, as the user reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    You,
    Administrator,
    /// The application itself (it revoked its own token, e.g. when signing out).
    Application,
    /// revokd on its own, for this reason.
    Automatically(&'static str),
}

impl By {
    /// "By you", "By an administrator", "By the application", "Automatically: …".
    pub fn words(self) -> String {
        match self {
            Self::You => "By you".into(),
            Self::Administrator => "By an administrator".into(),
            Self::Application => "By the application".into(),
            Self::Automatically(why) => format!("Automatically: {why}"),
        }
    }
}

pub async fn recent_activity(store: &Store, user: &TokenOwner) -> Result<Vec<Activity>, StoreError> {
    let (domain_id, user_ref) = (user.domain_id, user.user_ref);
    let (events, names) = store
        .read(move |mut db| {
            Box::pin(async move {
                let events = audit::newest_revocations_of_user(&mut db, domain_id, user_ref, RECENT).await?;
                let ids: Vec<i64> = events
                    .iter()
                    .filter_map(|e| e.client_ref)
                    .collect::<HashSet<_>>()
                    .into_iter()
                    .collect();
                let names = clients::client_ids(&mut db, domain_id, &ids).await?;
                Ok((events, names))
            })
        })
        .await?;
    let names: HashMap<i64, String> = names.into_iter().collect();
    let me = format!("user:{}", user.username);
    Ok(events.iter().map(|event| describe(event, &me, &names)).collect())
}

fn describe(event: &AuditEventRow, me: &str, names: &HashMap<i64, String>) -> Activity {
    let details: Value = serde_json::from_str(&event.details).unwrap_or(Value::Null);
    let text = |key: &str| details.get(key).and_then(Value::as_str).map(str::to_owned);
    let application = event.client_ref.map(|id| {
        names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| "a removed application".to_owned())
    });
    let reason = text("reason");
    let what = match (event.action.as_str(), text("level").as_deref()) {
        (a, _) if a == AuditAction::ConsentWithdrawn.as_str() => "Access withdrawn",
        (a, _) if a == AuditAction::RefreshTokenReused.as_str() => "A sign-in and its tokens",
        (a, _) if a == AuditAction::TokensBulkRevoked.as_str() => {
            if reason.as_deref() == Some(FixedReason::UserSignedOutEverywhere.as_str()) {
                "Signed out everywhere"
            } else {
                "Every token"
            }
        }
        (_, Some("RELATED_CONSENT")) => "Access withdrawn",
        (_, Some("RELATED_TOKENS")) => "A sign-in and its tokens",
        _ => "One token",
    };
    Activity {
        at: event.occurred_at,
        application,
        what,
        by: by(
            &event.actor,
            text("initiating_entity").as_deref(),
            reason.as_deref(),
            me,
        ),
        tokens: details.get("count").and_then(Value::as_u64).unwrap_or(0),
    }
}

/// Who, from the event's actor, CAEP entity and reason.
fn by(actor: &str, entity: Option<&str>, reason: Option<&str>, me: &str) -> By {
    if actor == me {
        return By::You;
    }
    let fixed = [
        (FixedReason::RefreshTokenReuse, "refresh-token reuse"),
        (FixedReason::RefreshRetried, "a retried refresh"),
        (FixedReason::PasswordChanged, "password change"),
        (FixedReason::UserDisabled, "account disabled"),
        (
            FixedReason::ClientSecretRotated,
            "the application's secret was replaced",
        ),
        (FixedReason::GlobalTokenRevocation, "security incident response"),
    ];
    if let Some((_, why)) = fixed.iter().find(|(fixed, _)| Some(fixed.as_str()) == reason) {
        return By::Automatically(why);
    }
    match entity {
        Some("admin") => By::Administrator,
        Some("policy") => By::Automatically("a security rule"),
        Some("user") => By::You,
        _ => By::Application,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(action: AuditAction, actor: &str, details: Value) -> AuditEventRow {
        AuditEventRow {
            domain_id: 1,
            id: 1,
            occurred_at: 5,
            action: action.as_str().into(),
            actor: actor.into(),
            request_id: None,
            details: details.to_string(),
            user_ref: Some(7),
            client_ref: Some(3),
        }
    }

    #[test]
    fn revocations_are_told_in_words() {
        let names = HashMap::from([(3, "web".to_owned())]);
        let mine = describe(
            &event(
                AuditAction::ConsentWithdrawn,
                "user:alice",
                serde_json::json!({"level": "RELATED_CONSENT", "initiating_entity": "user", "count": 2}),
            ),
            "user:alice",
            &names,
        );
        assert_eq!(mine.what, "Access withdrawn");
        assert_eq!(mine.by, By::You);
        assert_eq!(mine.application.as_deref(), Some("web"));
        assert_eq!(mine.tokens, 2);

        let reuse = describe(
            &event(
                AuditAction::RefreshTokenReused,
                "policy",
                serde_json::json!({"initiating_entity": "policy", "reason": "refresh_token_reuse"}),
            ),
            "user:alice",
            &names,
        );
        assert_eq!(reuse.by.words(), "Automatically: refresh-token reuse");
        assert_eq!(mine.by.words(), "By you");

        let admin = describe(
            &event(
                AuditAction::TokenRevoked,
                "ops",
                serde_json::json!({"level": "NONE", "initiating_entity": "admin"}),
            ),
            "user:alice",
            &names,
        );
        assert_eq!((admin.what, admin.by), ("One token", By::Administrator));
        assert_eq!(
            by("operator", Some("admin"), Some("password_changed"), "user:alice"),
            By::Automatically("password change")
        );
        assert_eq!(by("web", Some("system"), None, "user:alice"), By::Application);
    }
}
