//! The value every way of revoking builds: what it reaches, who is behind it, the
//! level, the reason and the request, with the constructors that fix the rules of
//! automatic revocations (who they are by, their level and reason) in one place.

use super::Bulk;
use super::marks::{Marked, Marking};
use crate::clock::UnixMicros;
use crate::domain::audit::AuditAction;
use crate::domain::policy::Decision;
use crate::domain::revocation::{FixedReason, InitiatingEntity, Plan, Reason, RevokeLevel, TokenKind};

/// One revocation, decided and waiting to be carried out.
#[derive(Debug, Clone)]
pub struct Revocation {
    pub domain_id: i64,
    pub reach: Reach,
    pub by: RevokedBy,
    /// The level applied, when the revocation has one (not for bulk).
    pub level: Option<RevokeLevel>,
    pub reason: Option<Reason>,
    pub request_id: Option<String>,
    /// When it was decided; a batch is stamped with the latest of its members.
    pub at: UnixMicros,
    /// What the domain's revocation policy decided, when one ran (SPEC §3.12). Boxed:
    /// most revocations run none, and this value waits in the writer's queues.
    pub policy: Option<Box<Decision>>,
}

/// What a revocation reaches.
#[derive(Debug, Clone)]
pub enum Reach {
    /// A presented token and what its level reaches from it (`domain::revocation::plan`).
    Token { plan: Plan, kind: TokenKind },
    /// A whole family: a rotated refresh token came back.
    ReusedFamily(i64),
    /// A consent, with everything under it, if it is still this user's and active.
    Consent { consent: i64, user_ref: i64 },
    /// Every token of a user and/or client, by watermark.
    Watermark(Bulk),
}

/// Who revoked: what the rows keep as `revoked_by` and the audit event as its actor
/// (a client's id, `operator`, `cli`, `user:<name>`, `policy`), and in CAEP's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedBy {
    pub name: String,
    pub entity: InitiatingEntity,
}

impl RevokedBy {
    /// A client revoking a token: its own, or as its domain's administrator.
    pub fn client(client_id: &str, domain_admin: bool) -> Self {
        Self {
            name: client_id.to_owned(),
            entity: if domain_admin {
                InitiatingEntity::Admin
            } else {
                InitiatingEntity::System
            },
        }
    }

    pub fn user(username: &str) -> Self {
        Self {
            name: format!("user:{username}"),
            entity: InitiatingEntity::User,
        }
    }

    /// revokd's own rules: reuse detection.
    pub fn policy() -> Self {
        Self {
            name: "policy".into(),
            entity: InitiatingEntity::Policy,
        }
    }

    /// The operator API (`operator`) or the CLI (`cli`).
    pub fn operator(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            entity: InitiatingEntity::Admin,
        }
    }
}

impl Revocation {
    /// A rotated refresh token came back: its family dies (RFC 9700 §4.14.2).
    pub fn reuse(domain_id: i64, family: i64, request_id: Option<String>, at: UnixMicros) -> Self {
        Self {
            domain_id,
            reach: Reach::ReusedFamily(family),
            by: RevokedBy::policy(),
            level: Some(RevokeLevel::RelatedTokens),
            reason: Some(Reason::fixed(FixedReason::RefreshTokenReuse)),
            request_id,
            at,
            policy: None,
        }
    }

    /// A token of the pair a refresh minted whose answer never arrived: the client
    /// retried within the grace window (SPEC §3.3), so the pair nobody saw dies, and
    /// nothing else.
    pub fn unseen(domain_id: i64, token: i64, kind: TokenKind, request_id: Option<String>, at: UnixMicros) -> Self {
        Self {
            domain_id,
            reach: Reach::Token {
                plan: Plan {
                    token,
                    family: None,
                    consent: None,
                },
                kind,
            },
            by: RevokedBy::policy(),
            level: Some(RevokeLevel::None),
            reason: Some(Reason::fixed(FixedReason::RefreshRetried)),
            request_id,
            at,
            policy: None,
        }
    }

    /// A user withdraws one of their consents (SPEC §3.5).
    pub fn consent_withdrawal(
        domain_id: i64,
        consent: i64,
        user_ref: i64,
        username: &str,
        reason: Option<Reason>,
        request_id: Option<String>,
        at: UnixMicros,
    ) -> Self {
        Self {
            domain_id,
            reach: Reach::Consent { consent, user_ref },
            by: RevokedBy::user(username),
            level: Some(RevokeLevel::RelatedConsent),
            reason: Some(reason.unwrap_or_else(|| Reason::fixed(FixedReason::ConsentWithdrawn))),
            request_id,
            at,
            policy: None,
        }
    }

    /// The user signed out everywhere (SPEC §3.9): every token they hold in the domain,
    /// by watermark, their own doing. Their consents stay: the applications keep the
    /// access granted, and get it again when the user signs in to them.
    pub fn signed_out_everywhere(
        domain_id: i64,
        user_ref: i64,
        username: &str,
        request_id: Option<String>,
        at: UnixMicros,
    ) -> Self {
        Self {
            domain_id,
            reach: Reach::Watermark(Bulk {
                user: Some((user_ref, username.to_owned())),
                client: None,
                kind: None,
                issued_before: at,
                with_consents: false,
            }),
            by: RevokedBy::user(username),
            level: None,
            reason: Some(Reason::fixed(FixedReason::UserSignedOutEverywhere)),
            request_id,
            at,
            policy: None,
        }
    }

    /// Every live token of a user or client, by watermark, because of a security event
    /// (SPEC §3.13): the operator's (or the CLI's) doing, with the event's fixed reason.
    pub fn security_event(
        domain_id: i64,
        bulk: Bulk,
        actor: &str,
        reason: FixedReason,
        request_id: Option<String>,
        at: UnixMicros,
    ) -> Self {
        Self {
            domain_id,
            reach: Reach::Watermark(bulk),
            by: RevokedBy::operator(actor),
            level: None,
            reason: Some(Reason::fixed(reason)),
            request_id,
            at,
            policy: None,
        }
    }

    pub fn action(&self) -> AuditAction {
        match self.reach {
            Reach::Token { .. } => AuditAction::TokenRevoked,
            Reach::ReusedFamily(_) => AuditAction::RefreshTokenReused,
            Reach::Consent { .. } => AuditAction::ConsentWithdrawn,
            Reach::Watermark(_) => AuditAction::TokensBulkRevoked,
        }
    }

    /// Reaches nothing but its own token: the PostgreSQL fast path can do it.
    pub(super) fn single_token(&self) -> Option<i64> {
        match self.reach {
            Reach::Token {
                plan:
                    Plan {
                        token,
                        family: None,
                        consent: None,
                    },
                ..
            } => Some(token),
            _ => None,
        }
    }

    pub(super) fn marking(&self) -> Marking<'_> {
        Marking {
            by: &self.by.name,
            reason: self.reason.as_ref().map(Reason::as_str),
        }
    }

    /// Whether a token marked by this batch is one this revocation reaches. (A
    /// consent that is not the user's, or no longer active, never made it into the
    /// marking statement.)
    pub(super) fn reaches(&self, token: &Marked) -> bool {
        match &self.reach {
            Reach::Token { plan, .. } => {
                token.id == plan.token
                    || (plan.family.is_some() && token.family == plan.family)
                    || (plan.consent.is_some() && token.consent == plan.consent)
            }
            Reach::ReusedFamily(family) => token.family == Some(*family),
            Reach::Consent { consent, .. } => token.consent == Some(*consent),
            Reach::Watermark(_) => false,
        }
    }

    pub(super) fn reaches_consent(&self, consent: i64) -> bool {
        match &self.reach {
            Reach::Token { plan, .. } => plan.consent == Some(consent),
            Reach::Consent { consent: own, .. } => *own == consent,
            Reach::ReusedFamily(_) | Reach::Watermark(_) => false,
        }
    }
}
