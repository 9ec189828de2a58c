//! What the audit trail says happened: a closed set of actions, spelled once.

/// The `action` of an audit event (stored as its text; the SQL mapping lives in
/// `store::models`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::AsExpression)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum AuditAction {
    DomainCreated,
    DomainUpdated,
    ClientCreated,
    ClientDeleted,
    UserCreated,
    UserDeleted,
    /// SPEC §3.13: the operator set a user's password, disabled or enabled a user,
    /// rotated a client's secret (each with the revocation it caused, if any).
    UserPasswordChanged,
    UserDisabled,
    UserEnabled,
    ClientSecretRotated,
    /// A client revoked a token (SPEC §3.1, §3.2), at some level.
    TokenRevoked,
    /// A rotated refresh token came back: its family died (SPEC §3.3).
    RefreshTokenReused,
    /// A user withdrew a consent (SPEC §3.5).
    ConsentWithdrawn,
    /// The operator revoked a user's or client's tokens at once (SPEC §3.7).
    TokensBulkRevoked,
    /// The operator set or removed a domain's revocation policy (SPEC §3.12).
    PolicySet,
    PolicyDeleted,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DomainCreated => "domain.created",
            Self::DomainUpdated => "domain.updated",
            Self::ClientCreated => "client.created",
            Self::ClientDeleted => "client.deleted",
            Self::UserCreated => "user.created",
            Self::UserDeleted => "user.deleted",
            Self::UserPasswordChanged => "user.password_changed",
            Self::UserDisabled => "user.disabled",
            Self::UserEnabled => "user.enabled",
            Self::ClientSecretRotated => "client.secret_rotated",
            Self::TokenRevoked => "token.revoked",
            Self::RefreshTokenReused => "refresh_token.reused",
            Self::ConsentWithdrawn => "consent.withdrawn",
            Self::TokensBulkRevoked => "tokens.bulk_revoked",
            Self::PolicySet => "revocation_policy.set",
            Self::PolicyDeleted => "revocation_policy.deleted",
        }
    }
}
