//! The `client_credentials` grant (RFC 6749 §4.4): an access token for a confidential
//! client itself, with no family, user or consent.

use super::{AccessSubject, IssuedTokens, TokenService, granted_scopes, mint_access, require_grant};
use crate::clock::MICROS_PER_SEC;
use crate::domain::{GrantType, Scopes};
use crate::oauth::{AuthenticatedClient, OAuthError};
use crate::store::tokens::ClientToken;

impl TokenService {
    pub(super) async fn client_credentials(
        &self,
        client: &AuthenticatedClient,
        issuer: &str,
        scope: Option<Scopes>,
    ) -> Result<IssuedTokens, OAuthError> {
        require_grant(client, GrantType::ClientCredentials)?;
        if !client.is_confidential() {
            return Err(OAuthError::UnauthorizedClient(
                "public clients cannot use client_credentials".into(),
            ));
        }
        let scopes = granted_scopes(scope.as_ref(), &client.client.scopes)?;
        let key = self.keys.signing_key(&self.store, client.domain.id).await?;
        let now = self.clock.now();
        let ttl = client.domain.access_token_ttl_secs;
        let to = AccessSubject {
            issuer,
            subject: &client.client.client_id,
            client,
            status: self.status_slot(client.domain.id, issuer).await?,
        };
        let access = mint_access(&key, to, &scopes, now, ttl)?;
        self.store
            .insert_client_token(ClientToken {
                domain_id: client.domain.id,
                client_ref: client.client.id,
                token_hash: access.hash,
                jti: access.jti.clone(),
                scopes: scopes.to_space_separated(),
                issued_at: now,
                expires_at: now + ttl * MICROS_PER_SEC,
                status: access.status,
            })
            .await?;
        Ok(IssuedTokens {
            access_token: access.jwt,
            expires_in: ttl,
            refresh_token: None,
            scope: scopes,
        })
    }
}
