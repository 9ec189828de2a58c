//! What kind of client an application is, and which grants it may use.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientType {
    /// Holds a secret (RFC 6749 §2.1).
    Confidential,
    /// Cannot keep a secret (a browser or mobile app): authenticates by `client_id` alone.
    Public,
}

impl ClientType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confidential => "confidential",
            Self::Public => "public",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "confidential" => Some(Self::Confidential),
            "public" => Some(Self::Public),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    ClientCredentials,
    Password,
    RefreshToken,
}

impl GrantType {
    pub const ALL: [GrantType; 3] = [Self::ClientCredentials, Self::Password, Self::RefreshToken];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientCredentials => "client_credentials",
            Self::Password => "password",
            Self::RefreshToken => "refresh_token",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == raw)
    }

    /// The grants a client gets when its creator names none.
    pub fn defaults_for(client_type: ClientType) -> Vec<GrantType> {
        match client_type {
            ClientType::Confidential => vec![Self::ClientCredentials],
            ClientType::Public => vec![Self::Password, Self::RefreshToken],
        }
    }
}

/// What an operator asks for when creating a client.
#[derive(Debug, Clone)]
pub struct ClientSpec {
    pub client_id: super::ClientId,
    pub client_type: ClientType,
    /// `None`: the defaults for the client type.
    pub grant_types: Option<Vec<GrantType>>,
    pub scopes: super::Scopes,
    pub domain_admin: bool,
}

impl ClientSpec {
    /// The grants the client gets, without repeats, or why the combination is refused.
    /// A public client has no secret, so it may neither use `client_credentials` (which
    /// would hand tokens to anyone who knows its id) nor act as a domain administrator.
    pub fn checked_grant_types(&self) -> Result<Vec<GrantType>, String> {
        let requested = self
            .grant_types
            .clone()
            .unwrap_or_else(|| GrantType::defaults_for(self.client_type));
        let mut grants = Vec::with_capacity(requested.len());
        for grant in requested {
            if !grants.contains(&grant) {
                grants.push(grant);
            }
        }
        if self.client_type == ClientType::Public {
            if grants.contains(&GrantType::ClientCredentials) {
                return Err("a public client cannot use the client_credentials grant: it has no secret".into());
            }
            if self.domain_admin {
                return Err("a public client cannot be a domain_admin: it has no secret".into());
            }
        }
        Ok(grants)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ClientId, Scopes};

    fn spec(client_type: ClientType, grants: Option<Vec<GrantType>>, domain_admin: bool) -> ClientSpec {
        ClientSpec {
            client_id: ClientId::parse("web").unwrap(),
            client_type,
            grant_types: grants,
            scopes: Scopes::default(),
            domain_admin,
        }
    }

    #[test]
    fn defaults_depend_on_the_client_type() {
        assert_eq!(
            spec(ClientType::Confidential, None, false)
                .checked_grant_types()
                .unwrap(),
            vec![GrantType::ClientCredentials]
        );
        assert_eq!(
            spec(ClientType::Public, None, false).checked_grant_types().unwrap(),
            vec![GrantType::Password, GrantType::RefreshToken]
        );
    }

    #[test]
    fn repeats_are_dropped() {
        let grants = vec![GrantType::Password, GrantType::Password, GrantType::RefreshToken];
        assert_eq!(
            spec(ClientType::Confidential, Some(grants), true)
                .checked_grant_types()
                .unwrap(),
            vec![GrantType::Password, GrantType::RefreshToken]
        );
    }

    #[test]
    fn public_clients_get_no_secret_backed_powers() {
        assert!(
            spec(ClientType::Public, Some(vec![GrantType::ClientCredentials]), false)
                .checked_grant_types()
                .is_err()
        );
        assert!(
            spec(ClientType::Public, Some(vec![GrantType::Password]), true)
                .checked_grant_types()
                .is_err()
        );
        assert!(
            spec(ClientType::Public, Some(vec![]), false)
                .checked_grant_types()
                .is_ok()
        );
    }
}
