//! The token endpoint's grants (SPEC §3.3): `client_credentials`, `password` and
//! `refresh_token` with rotation and reuse detection (RFC 9700 §4.14), one file each.
//! What they share lives here: the service, minting an access JWT, the scopes a
//! client may have, and the access + refresh pair a user grant stores.
//!
//! Every decision that must hold across instances (is this refresh token still
//! unrotated? does this user already have a consent?) is taken inside one store
//! transaction, never from process memory.

mod client_credentials;
mod password;
mod refresh;

use std::sync::{Arc, OnceLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde::Serialize;
use utoipa::ToSchema;

use super::{AuthenticatedClient, KeyRing, OAuthError};
use crate::clock::{Clock, MICROS_PER_SEC, UnixMicros};
use crate::domain::revocation::TokenKind;
use crate::domain::{GrantType, Scopes};
use crate::security::{Password, PasswordHash, Sha256Digest, hash_password};
use crate::store::models::NewToken;
use crate::store::{Db, Store, StoreError, tokens};
use crate::tokens::{AccessClaims, PlainToken, SigningKey, jwt};

/// What a client asks the token endpoint for.
#[derive(Debug)]
pub enum Grant {
    ClientCredentials {
        scope: Option<Scopes>,
    },
    Password {
        username: String,
        password: Password,
        scope: Option<Scopes>,
    },
    RefreshToken {
        refresh_token: PlainToken,
        scope: Option<Scopes>,
    },
}

/// What the token endpoint hands out.
#[derive(Debug)]
pub struct IssuedTokens {
    pub access_token: String,
    pub expires_in: i64,
    pub refresh_token: Option<PlainToken>,
    pub scope: Scopes,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"access_token":"eyJhbGciOiJFUzI1NiIsImtpZCI6Ii4uLiIsInR5cCI6ImF0K2p3dCJ9...","token_type":"Bearer","expires_in":3600,"refresh_token":"Zx1x3mBq9Qh0g3oZkq4F2d6jWc8rT5yNn7uL0aEpVsI","scope":"openid profile"}))]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(schema_with = bearer_literal)]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// `password` and `refresh_token` grants only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub refresh_token: Option<String>,
    /// Space-separated.
    pub scope: String,
}

fn bearer_literal() -> utoipa::openapi::Object {
    crate::api_schema::constant(utoipa::openapi::Type::String, "Bearer".into())
}

impl From<IssuedTokens> for TokenResponse {
    fn from(issued: IssuedTokens) -> Self {
        Self {
            access_token: issued.access_token,
            token_type: "Bearer",
            expires_in: issued.expires_in,
            refresh_token: issued.refresh_token.map(PlainToken::into_string),
            scope: issued.scope.to_space_separated(),
        }
    }
}

/// Issues tokens. Cheap to share: hold it in an `Arc` or app state.
pub struct TokenService {
    store: Store,
    clock: Clock,
    keys: Arc<KeyRing>,
    /// Verified against when the username is unknown, so that answer takes as long
    /// as a wrong password and usernames cannot be probed by timing.
    decoy_hash: OnceLock<PasswordHash>,
}

impl TokenService {
    pub fn new(store: Store, clock: Clock, keys: Arc<KeyRing>) -> Self {
        Self {
            store,
            clock,
            keys,
            decoy_hash: OnceLock::new(),
        }
    }

    /// Runs `grant` for an authenticated client. `issuer` is the domain's issuer URL
    /// as the metadata document shows it.
    pub async fn issue(
        &self,
        client: &AuthenticatedClient,
        issuer: &str,
        grant: Grant,
        request_id: Option<String>,
    ) -> Result<IssuedTokens, OAuthError> {
        match grant {
            Grant::ClientCredentials { scope } => self.client_credentials(client, issuer, scope).await,
            Grant::Password {
                username,
                password,
                scope,
            } => self.password(client, issuer, username, password, scope).await,
            Grant::RefreshToken { refresh_token, scope } => {
                self.refresh(client, issuer, refresh_token, scope, request_id).await
            }
        }
    }

    fn decoy_hash(&self) -> Result<PasswordHash, OAuthError> {
        if let Some(hash) = self.decoy_hash.get() {
            return Ok(hash.clone());
        }
        let hash = hash_password(&Password::new(new_jti())).map_err(OAuthError::Internal)?;
        Ok(self.decoy_hash.get_or_init(|| hash).clone())
    }
}

/// An access token before it is stored: the JWT to hand out and what the row keeps.
struct MintedAccess {
    jwt: String,
    hash: Sha256Digest,
    jti: String,
}

/// The ids every token of one user grant shares.
struct Lineage {
    domain_id: i64,
    client_ref: i64,
    user_ref: i64,
    consent_ref: i64,
    family_ref: i64,
    /// The refresh token a refresh grant rotated; `None` for the first pair.
    parent_ref: Option<i64>,
}

/// How long each token of a pair lives, in seconds.
#[derive(Debug, Clone, Copy)]
struct PairTtls {
    access: i64,
    refresh: i64,
}

impl Lineage {
    /// Stores the access + refresh pair a password or refresh grant hands out.
    async fn insert_pair(
        &self,
        db: &mut Db<'_>,
        access: (&Sha256Digest, &str),
        refresh: &Sha256Digest,
        scopes: &str,
        now: UnixMicros,
        ttls: PairTtls,
    ) -> Result<(), StoreError> {
        let refresh_jti = new_jti();
        let pair = [
            (TokenKind::Access, access.0, access.1, ttls.access),
            (TokenKind::Refresh, refresh, refresh_jti.as_str(), ttls.refresh),
        ];
        for (kind, hash, jti, ttl_secs) in pair {
            tokens::insert(
                db,
                &NewToken {
                    domain_id: self.domain_id,
                    kind,
                    token_hash: hash.as_bytes(),
                    jti,
                    family_ref: Some(self.family_ref),
                    parent_ref: self.parent_ref,
                    client_ref: self.client_ref,
                    user_ref: Some(self.user_ref),
                    consent_ref: Some(self.consent_ref),
                    scopes,
                    issued_at: now,
                    expires_at: now + ttl_secs * MICROS_PER_SEC,
                },
            )
            .await?;
        }
        Ok(())
    }
}

fn require_grant(client: &AuthenticatedClient, grant: GrantType) -> Result<(), OAuthError> {
    if client.may_use(grant) {
        Ok(())
    } else {
        Err(OAuthError::UnauthorizedClient(format!(
            "this client may not use the {} grant",
            grant.as_str()
        )))
    }
}

fn granted_scopes(requested: Option<&Scopes>, allowed: &str) -> Result<Scopes, OAuthError> {
    let allowed =
        Scopes::parse_space_separated(allowed).map_err(|e| OAuthError::Internal(format!("stored scopes: {e}")))?;
    Scopes::granted(requested, &allowed)
        .map_err(|refused| OAuthError::InvalidScope(format!("scope {refused} is not allowed for this client")))
}

/// A JWT id: 128 random bits.
fn new_jti() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn mint_access(
    key: &SigningKey,
    issuer: &str,
    subject: &str,
    client: &AuthenticatedClient,
    scopes: &Scopes,
    now: UnixMicros,
    ttl_secs: i64,
) -> Result<MintedAccess, OAuthError> {
    let jti = new_jti();
    let claims = AccessClaims {
        iss: issuer.to_owned(),
        sub: subject.to_owned(),
        client_id: client.client.client_id.clone(),
        scope: scopes.to_space_separated(),
        iat: now / MICROS_PER_SEC,
        exp: (now + ttl_secs * MICROS_PER_SEC) / MICROS_PER_SEC,
        jti: jti.clone(),
    };
    let jwt = jwt::sign(&claims, key).map_err(|e| OAuthError::Internal(e.to_string()))?;
    Ok(MintedAccess {
        hash: Sha256Digest::of(jwt.as_bytes()),
        jwt,
        jti,
    })
}
