//! Client authentication (RFC 6749 §2.3): the credentials a request presented, and
//! checking them against the client of the domain. A confidential client costs one
//! SHA-256 and a constant-time compare; Argon2 is never involved.

use crate::domain::{ClientType, DomainName};
use crate::security::{ClientSecret, Sha256Digest};
use crate::store::Store;
use crate::store::models::{ClientRow, DomainRow};

use super::OAuthError;

/// What a request presented to say which client it is.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// `client_secret_basic` or `client_secret_post`.
    Secret { client_id: String, secret: ClientSecret },
    /// A public client: `client_id` alone.
    Public { client_id: String },
}

impl Credentials {
    pub fn client_id(&self) -> &str {
        match self {
            Self::Secret { client_id, .. } | Self::Public { client_id } => client_id,
        }
    }
}

/// A client that proved who it is, with its domain.
#[derive(Debug, Clone)]
pub struct AuthenticatedClient {
    pub domain: DomainRow,
    pub client: ClientRow,
}

impl AuthenticatedClient {
    pub fn is_confidential(&self) -> bool {
        self.client.client_type == ClientType::Confidential.as_str()
    }

    pub fn may_use(&self, grant: crate::domain::GrantType) -> bool {
        self.client.grant_types.split(' ').any(|g| g == grant.as_str())
    }
}

/// The client, without credentials: for callers that hold the database already (the
/// CLI). `None` when the domain or client does not exist.
pub async fn without_credentials(
    store: &Store,
    domain: &DomainName,
    client_id: &str,
) -> Result<Option<AuthenticatedClient>, OAuthError> {
    let found = store.client_in_domain(domain.as_str(), client_id).await?;
    Ok(found.map(|entry| AuthenticatedClient {
        domain: entry.0.clone(),
        client: entry.1.clone(),
    }))
}

/// Checks `credentials` against the domain's client. An unknown domain, an unknown
/// client, a wrong secret, a secret for a public client or none for a confidential
/// one all answer the same `invalid_client`, so nothing can be enumerated.
pub async fn authenticate(
    store: &Store,
    domain: &DomainName,
    credentials: &Credentials,
) -> Result<AuthenticatedClient, OAuthError> {
    let refused = || OAuthError::InvalidClient("client authentication failed".into());
    let Some(AuthenticatedClient { domain, client }) =
        without_credentials(store, domain, credentials.client_id()).await?
    else {
        return Err(refused());
    };
    let stored = client.secret_hash.as_deref().and_then(Sha256Digest::from_slice);
    let genuine = match (credentials, stored) {
        (Credentials::Secret { secret, .. }, Some(stored)) => stored.matches(&secret.digest()),
        (Credentials::Public { .. }, None) => client.client_type == ClientType::Public.as_str(),
        _ => false,
    };
    if genuine {
        Ok(AuthenticatedClient { domain, client })
    } else {
        Err(refused())
    }
}
