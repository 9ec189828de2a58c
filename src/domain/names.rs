//! Identifiers with a syntax of their own (SPEC §1).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a name was refused; the message is fit for an `error_description`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NameError(pub String);

macro_rules! string_newtype {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = NameError;
            fn try_from(raw: String) -> Result<Self, NameError> {
                Self::parse(&raw)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
    };
}

/// An identity domain's name: `^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`, case-sensitive.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DomainName(String);
string_newtype!(DomainName);

impl DomainName {
    /// The syntax, as the OpenAPI document states it.
    pub const PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$";

    /// The schema of a domain name wherever the document takes one.
    pub fn schema() -> utoipa::openapi::Object {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .pattern(Some(Self::PATTERN))
            .build()
    }

    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let mut chars = raw.chars();
        let valid_first = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
        let valid_rest = chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if valid_first && valid_rest && raw.len() <= 64 {
            Ok(Self(raw.to_owned()))
        } else {
            Err(NameError(
                "identity domain names are 1-64 characters: letters, digits, '_' and '-', starting with a letter or digit".into(),
            ))
        }
    }
}

/// A client identifier: 1-255 characters of RFC 6749 VSCHAR (printable ASCII, space
/// included).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientId(String);
string_newtype!(ClientId);

impl ClientId {
    /// The syntax, as the OpenAPI document states it.
    pub const PATTERN: &str = "^[ -~]{1,255}$";

    pub fn schema() -> utoipa::openapi::Object {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .pattern(Some(Self::PATTERN))
            .build()
    }

    pub fn parse(raw: &str) -> Result<Self, NameError> {
        if (1..=255).contains(&raw.len()) && raw.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(NameError("client_id must be 1-255 printable ASCII characters".into()))
        }
    }
}

/// A resource owner's username: 1-255 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);
string_newtype!(Username);

impl Username {
    pub fn schema() -> utoipa::openapi::Object {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .min_length(Some(1))
            .max_length(Some(255))
            .description(Some("1-255 characters, no control characters"))
            .build()
    }

    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let length = raw.chars().count();
        if (1..=255).contains(&length) && !raw.chars().any(char::is_control) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(NameError(
                "username must be 1-255 characters without control characters".into(),
            ))
        }
    }
}

/// One scope-token (RFC 6749 §3.3: `1*( %x21 / %x23-5B / %x5D-7E )`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Scope(String);
string_newtype!(Scope);

impl Scope {
    /// The syntax, as the OpenAPI document states it.
    pub const PATTERN: &str = r"^[!#-\[\]-~]{1,128}$";

    pub fn schema() -> utoipa::openapi::Object {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .pattern(Some(Self::PATTERN))
            .build()
    }

    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let valid = |b: u8| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b);
        if (1..=128).contains(&raw.len()) && raw.bytes().all(valid) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(NameError(format!(
                "invalid scope {raw:?}: a scope is 1-128 printable ASCII characters without space, '\"' or '\\'"
            )))
        }
    }
}

/// The scopes of a space-separated string as the store keeps it, one string each, for
/// answers and policies (stored scopes were parsed when they were stored).
pub fn stored_scope_list(raw: &str) -> Vec<String> {
    raw.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// A set of scopes in the order first given, without repeats. Stored and sent in the
/// OAuth form: space-separated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    pub const MAX: usize = 100;

    pub fn new(scopes: impl IntoIterator<Item = Scope>) -> Result<Self, NameError> {
        let mut unique: Vec<Scope> = Vec::new();
        for scope in scopes {
            if !unique.contains(&scope) {
                unique.push(scope);
            }
        }
        if unique.len() > Self::MAX {
            return Err(NameError(format!("at most {} scopes", Self::MAX)));
        }
        Ok(Self(unique))
    }

    /// Parses the space-separated form (the store's, and RFC 6749's `scope` parameter).
    pub fn parse_space_separated(raw: &str) -> Result<Self, NameError> {
        Self::new(
            raw.split(' ')
                .filter(|s| !s.is_empty())
                .map(Scope::parse)
                .collect::<Result<Vec<_>, _>>()?,
        )
    }

    pub fn to_space_separated(&self) -> String {
        self.0.iter().map(Scope::as_str).collect::<Vec<_>>().join(" ")
    }

    pub fn iter(&self) -> impl Iterator<Item = &Scope> {
        self.0.iter()
    }

    pub fn contains(&self, scope: &Scope) -> bool {
        self.0.contains(scope)
    }

    pub fn covers(&self, other: &Scopes) -> bool {
        other.iter().all(|scope| self.contains(scope))
    }

    /// These scopes followed by those of `other` not already here.
    pub fn union(&self, other: &Scopes) -> Scopes {
        let mut all = self.0.clone();
        all.extend(other.iter().filter(|s| !self.contains(s)).cloned());
        Scopes(all)
    }

    /// The scopes a grant gets (RFC 6749 §3.3): what was requested, every one of which
    /// must be in `allowed`; nothing requested means everything allowed. `Err` names
    /// the first scope that is not allowed.
    pub fn granted(requested: Option<&Scopes>, allowed: &Scopes) -> Result<Scopes, Scope> {
        match requested {
            None => Ok(allowed.clone()),
            Some(requested) => match requested.iter().find(|s| !allowed.contains(s)) {
                Some(refused) => Err(refused.clone()),
                None => Ok(requested.clone()),
            },
        }
    }
}

impl<'de> Deserialize<'de> for Scopes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let scopes = Vec::<Scope>::deserialize(deserializer)?;
        Scopes::new(scopes).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_names_follow_the_spec_pattern() {
        for ok in ["acme", "A", "0-x_y", &"a".repeat(64)] {
            assert!(DomainName::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-acme",
            "_a",
            "ac me",
            "acme!",
            "ac.me",
            "é",
            &"a".repeat(65),
            "a'; DROP TABLE domains;--",
        ] {
            assert!(DomainName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn client_ids_are_vschar() {
        assert!(ClientId::parse("urn:acme:web app").is_ok());
        assert!(ClientId::parse("").is_err());
        assert!(ClientId::parse("tab\there").is_err());
        assert!(ClientId::parse("ünï").is_err());
        assert!(ClientId::parse(&"c".repeat(256)).is_err());
    }

    #[test]
    fn usernames_refuse_control_characters() {
        assert!(Username::parse("alice@example.com").is_ok());
        assert!(Username::parse("Zoë").is_ok());
        assert!(Username::parse("").is_err());
        assert!(Username::parse("a\nb").is_err());
    }

    #[test]
    fn granted_scopes_stay_within_the_allowed() {
        let allowed = Scopes::parse_space_separated("openid profile email").unwrap();
        let ask = |raw: &str| Scopes::parse_space_separated(raw).unwrap();
        assert_eq!(Scopes::granted(None, &allowed).unwrap(), allowed);
        assert_eq!(
            Scopes::granted(Some(&ask("email openid")), &allowed)
                .unwrap()
                .to_space_separated(),
            "email openid"
        );
        assert_eq!(
            Scopes::granted(Some(&ask("openid admin")), &allowed)
                .unwrap_err()
                .as_str(),
            "admin"
        );
        assert_eq!(ask("a b").union(&ask("b c")).to_space_separated(), "a b c");
        assert!(allowed.covers(&ask("profile")));
        assert!(!ask("profile").covers(&allowed));
    }

    #[test]
    fn scopes_dedupe_and_round_trip() {
        let s = Scopes::parse_space_separated("openid  profile openid").unwrap();
        assert_eq!(s.to_space_separated(), "openid profile");
        assert!(Scope::parse("has space").is_err());
        assert!(Scope::parse("quote\"").is_err());
        assert!(Scopes::parse_space_separated("").unwrap().iter().next().is_none());
    }
}

/// A consent as its user names it (SPEC §3.5): 32 lowercase hex digits, 128 random
/// bits, unique in its domain. The integer id that orders consents stays inside.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ConsentPublicId(String);
string_newtype!(ConsentPublicId);

impl ConsentPublicId {
    pub const PATTERN: &str = "^[0-9a-f]{32}$";

    pub fn generate() -> Self {
        use rand::RngCore;
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn parse(raw: &str) -> Result<Self, NameError> {
        if raw.len() == 32 && raw.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(NameError("a consent id is 32 lowercase hex digits".into()))
        }
    }
}

#[cfg(test)]
mod consent_id_tests {
    use super::ConsentPublicId;

    #[test]
    fn generated_ids_parse_and_differ() {
        let (a, b) = (ConsentPublicId::generate(), ConsentPublicId::generate());
        assert_ne!(a, b);
        assert_eq!(ConsentPublicId::parse(a.as_str()), Ok(a));
        for bad in [
            "",
            "12",
            "ABCDEF0123456789abcdef0123456789",
            "g0000000000000000000000000000000",
        ] {
            assert!(ConsentPublicId::parse(bad).is_err(), "{bad}");
        }
    }
}
