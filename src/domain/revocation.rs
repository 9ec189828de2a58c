//! What a revocation request means, decided without I/O (SPEC §3.1, §3.2): the wire
//! enums, who may revoke a token, which things a level reaches, who is behind a
//! revocation and why.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `token_type`: only a hint for the look-up; a wrong one still finds the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TokenTypeParam {
    AccessToken,
    RefreshToken,
    None,
}

impl TokenTypeParam {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccessToken => "ACCESS_TOKEN",
            Self::RefreshToken => "REFRESH_TOKEN",
            Self::None => "NONE",
        }
    }
}

/// Which revocation endpoint a request came to: `oam` (`/oauth2/rest/token/revoke`,
/// SPEC §3.1) or `rfc7009` (`/oauth2/revoke`, SPEC §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RevocationEndpoint {
    Oam,
    Rfc7009,
}

impl RevocationEndpoint {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Oam => "oam",
            Self::Rfc7009 => "rfc7009",
        }
    }
}

/// `revoke_level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RevokeLevel {
    /// Only the presented token.
    None,
    /// The presented token's whole family (refresh chain and its access tokens).
    RelatedTokens,
    /// The family, the (user, client) consent, and every token issued under it.
    RelatedConsent,
}

impl RevokeLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "NONE",
            Self::RelatedTokens => "RELATED_TOKENS",
            Self::RelatedConsent => "RELATED_CONSENT",
        }
    }

    /// RFC 7009 defaults for `/oauth2/revoke` (SPEC §3.2), from what the token really
    /// is: a refresh token takes its grant's access tokens with it.
    pub fn rfc7009_default(kind: TokenKind) -> Self {
        match kind {
            TokenKind::Refresh => Self::RelatedTokens,
            TokenKind::Access => Self::None,
        }
    }
}

/// What a stored token is. Stored as the text `access` / `refresh` (the mapping to
/// SQL lives in `store::models`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, ToSchema, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    Access,
    Refresh,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "access" => Some(Self::Access),
            "refresh" => Some(Self::Refresh),
            _ => None,
        }
    }
}

/// A parameter with a closed set of values: parses it or says which values exist.
pub fn parse_closed<T: for<'de> Deserialize<'de>>(name: &str, raw: &str, allowed: &[&str]) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(raw.to_owned()))
        .map_err(|_| format!("{name} must be one of {}, not {raw:?}", allowed.join(", ")))
}

/// Who is behind a revocation, in the words of CAEP's `initiating_entity` (SPEC §3.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitiatingEntity {
    /// The operator API, the CLI, a `domain_admin` client.
    Admin,
    /// The end user: consent withdrawal.
    User,
    /// A rule of revokd's: refresh-token reuse detection, security events.
    Policy,
    /// Anything else: a client revoking its own token.
    System,
}

impl InitiatingEntity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::User => "user",
            Self::Policy => "policy",
            Self::System => "system",
        }
    }
}

/// Why tokens died, when no one said: the fixed reasons of automatic revocations
/// (SPEC §3.13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixedReason {
    RefreshTokenReuse,
    /// The pair a refresh minted whose answer was lost, superseded by the retry.
    RefreshRetried,
    ConsentWithdrawn,
    /// SPEC §3.13: the user's password changed, their user was disabled, their client's
    /// secret was rotated.
    PasswordChanged,
    UserDisabled,
    ClientSecretRotated,
    /// draft-parecki-oauth-global-token-revocation: an incident tool revoked all of it.
    GlobalTokenRevocation,
    /// The user pressed "Sign out everywhere" on the account page (SPEC §3.9).
    UserSignedOutEverywhere,
}

impl FixedReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RefreshTokenReuse => "refresh_token_reuse",
            Self::RefreshRetried => "refresh_retried",
            Self::ConsentWithdrawn => "consent_withdrawn",
            Self::PasswordChanged => "password_changed",
            Self::UserDisabled => "user_disabled",
            Self::ClientSecretRotated => "client_secret_rotated",
            Self::GlobalTokenRevocation => "global_token_revocation",
            Self::UserSignedOutEverywhere => "user_signed_out_everywhere",
        }
    }
}

/// A reason given with a revocation (SPEC §3.1, §3.7): 1 to [`Reason::MAX_CHARS`]
/// characters, none of them a control character.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Reason(String);

impl Reason {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() {
            return Err("reason must not be empty".into());
        }
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(format!("reason is over {} characters", Self::MAX_CHARS));
        }
        if raw.chars().any(char::is_control) {
            return Err("reason must not hold control characters".into());
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn fixed(reason: FixedReason) -> Self {
        Self(reason.as_str().to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Parsed, so a JSON body holding a reason is refused as a whole when it is not one.
impl<'de> Deserialize<'de> for Reason {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

pub const TOKEN_TYPES: [&str; 3] = ["ACCESS_TOKEN", "REFRESH_TOKEN", "NONE"];
pub const REVOKE_LEVELS: [&str; 3] = ["NONE", "RELATED_TOKENS", "RELATED_CONSENT"];

/// The client asking for a revocation.
#[derive(Debug, Clone, Copy)]
pub struct Revoker {
    pub client_ref: i64,
    pub is_public: bool,
    pub domain_admin: bool,
}

/// Whether a client may revoke at all in its domain (before any token is looked at).
pub fn may_revoke_at_all(revoker: Revoker, public_clients_can_revoke: bool) -> bool {
    !revoker.is_public || public_clients_can_revoke
}

/// Whether `revoker` may revoke a token issued to `owner_client_ref`: its own tokens,
/// or any token of the domain for a domain administrator.
pub fn may_revoke(revoker: Revoker, owner_client_ref: i64) -> bool {
    revoker.client_ref == owner_client_ref || revoker.domain_admin
}

/// The presented token as far as the plan needs it.
#[derive(Debug, Clone, Copy)]
pub struct TokenLinks {
    pub token_id: i64,
    pub family: Option<i64>,
    pub consent: Option<i64>,
}

/// What one revocation changes; carried out in one transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub token: i64,
    /// Revoke this family and every token in it.
    pub family: Option<i64>,
    /// Revoke this consent, every family under it and every token issued under it.
    pub consent: Option<i64>,
}

/// Which things `level` reaches from the presented token. A level falls back to the
/// one below when the token has no family (client_credentials) or no consent.
pub fn plan(level: RevokeLevel, token: TokenLinks) -> Plan {
    let family = match level {
        RevokeLevel::None => None,
        RevokeLevel::RelatedTokens | RevokeLevel::RelatedConsent => token.family,
    };
    let consent = match level {
        RevokeLevel::RelatedConsent => token.consent,
        RevokeLevel::None | RevokeLevel::RelatedTokens => None,
    };
    Plan {
        token: token.token_id,
        family,
        consent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER_TOKEN: TokenLinks = TokenLinks {
        token_id: 7,
        family: Some(3),
        consent: Some(2),
    };
    const CLIENT_TOKEN: TokenLinks = TokenLinks {
        token_id: 9,
        family: None,
        consent: None,
    };

    #[test]
    fn levels_reach_token_family_consent() {
        assert_eq!(
            plan(RevokeLevel::None, USER_TOKEN),
            Plan {
                token: 7,
                family: None,
                consent: None
            }
        );
        assert_eq!(
            plan(RevokeLevel::RelatedTokens, USER_TOKEN),
            Plan {
                token: 7,
                family: Some(3),
                consent: None
            }
        );
        assert_eq!(
            plan(RevokeLevel::RelatedConsent, USER_TOKEN),
            Plan {
                token: 7,
                family: Some(3),
                consent: Some(2)
            }
        );
    }

    #[test]
    fn tokens_without_family_or_consent_fall_back() {
        for level in [
            RevokeLevel::None,
            RevokeLevel::RelatedTokens,
            RevokeLevel::RelatedConsent,
        ] {
            assert_eq!(
                plan(level, CLIENT_TOKEN),
                Plan {
                    token: 9,
                    family: None,
                    consent: None
                }
            );
        }
        let family_only = TokenLinks {
            token_id: 1,
            family: Some(5),
            consent: None,
        };
        assert_eq!(
            plan(RevokeLevel::RelatedConsent, family_only),
            plan(RevokeLevel::RelatedTokens, family_only)
        );
    }

    #[test]
    fn who_may_revoke() {
        let owner = Revoker {
            client_ref: 1,
            is_public: false,
            domain_admin: false,
        };
        let admin = Revoker {
            client_ref: 2,
            is_public: false,
            domain_admin: true,
        };
        let public = Revoker {
            client_ref: 3,
            is_public: true,
            domain_admin: false,
        };
        assert!(may_revoke(owner, 1));
        assert!(!may_revoke(owner, 4));
        assert!(may_revoke(admin, 4));
        assert!(may_revoke_at_all(public, true));
        assert!(!may_revoke_at_all(public, false));
        assert!(may_revoke_at_all(owner, false));
    }

    #[test]
    fn reasons_are_short_printable_text() {
        assert_eq!(
            Reason::parse("lost laptop").map(|r| r.as_str().to_owned()),
            Ok("lost laptop".into())
        );
        assert!(Reason::parse("").is_err());
        assert!(Reason::parse("a\u{0}b").is_err());
        assert!(Reason::parse("line\nbreak").is_err());
        // Characters, not bytes: 200 two-byte characters are fine, 201 are not.
        assert!(Reason::parse(&"é".repeat(200)).is_ok());
        assert!(Reason::parse(&"é".repeat(201)).is_err());
    }

    #[test]
    fn wire_values_parse_or_name_the_allowed() {
        assert_eq!(
            parse_closed::<RevokeLevel>("revoke_level", "RELATED_CONSENT", &REVOKE_LEVELS),
            Ok(RevokeLevel::RelatedConsent)
        );
        let error = parse_closed::<RevokeLevel>("revoke_level", "related_tokens", &REVOKE_LEVELS).unwrap_err();
        assert!(error.contains("NONE, RELATED_TOKENS, RELATED_CONSENT"), "{error}");
        assert_eq!(
            parse_closed::<TokenTypeParam>("token_type", "NONE", &TOKEN_TYPES),
            Ok(TokenTypeParam::None)
        );
        assert_eq!(
            RevokeLevel::rfc7009_default(TokenKind::Refresh),
            RevokeLevel::RelatedTokens
        );
        assert_eq!(RevokeLevel::rfc7009_default(TokenKind::Access), RevokeLevel::None);
    }
}
