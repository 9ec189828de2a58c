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
use crate::domain::status_list::{StatusSlot, list_uri};
use crate::domain::{GrantType, Scopes};
use crate::security::{Password, PasswordHash, Sha256Digest, hash_password};
use crate::status_lists::Allocator;
use crate::store::models::NewToken;
use crate::store::status_lists::DomainSlot;
use crate::store::{Db, Store, StoreError, tokens};
use crate::tokens::{AccessClaims, PlainToken, SigningKey, StatusClaim, StatusListReference, jwt};

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
    /// Hands out each access token's status-list slot (SPEC §3.10).
    status_slots: Allocator,
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
            status_slots: Allocator::default(),
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

    /// The slot of the next access token of the domain, and the `status` claim naming
    /// it under `issuer`.
    async fn status_slot(&self, domain_id: i64, issuer: &str) -> Result<(StatusSlot, StatusClaim), OAuthError> {
        let slot = self.status_slots.allocate(&self.store, &self.clock, domain_id).await?;
        let claim = StatusClaim {
            status_list: StatusListReference {
                idx: slot.idx,
                uri: list_uri(issuer, slot.list),
            },
        };
        Ok((slot, claim))
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
    status: StatusSlot,
}

/// What the row of an access token keeps of it, owned, to move into a write.
#[derive(Debug, Clone)]
struct StoredAccess {
    hash: Sha256Digest,
    jti: String,
    status: StatusSlot,
}

impl MintedAccess {
    fn stored(&self) -> StoredAccess {
        StoredAccess {
            hash: self.hash,
            jti: self.jti.clone(),
            status: self.status,
        }
    }
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
    /// Stores the access + refresh pair a password or refresh grant hands out, then sets
    /// the bits the transaction left (`pending`) and those of a pair born dead: the
    /// last writes of the grant's transaction (`tokens::born_dead`).
    async fn insert_pair(
        &self,
        db: &mut Db<'_>,
        (access, refresh): (&StoredAccess, &Sha256Digest),
        scopes: &str,
        now: UnixMicros,
        ttls: PairTtls,
        pending: Vec<DomainSlot>,
    ) -> Result<(), StoreError> {
        let refresh_jti = new_jti();
        let pair = [
            (
                TokenKind::Access,
                &access.hash,
                access.jti.as_str(),
                ttls.access,
                Some(access.status),
            ),
            (TokenKind::Refresh, refresh, refresh_jti.as_str(), ttls.refresh, None),
        ];
        let mut access_id = None;
        for (kind, hash, jti, ttl_secs, status) in pair {
            let id = tokens::insert(
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
                    status_list: status.map(|s| s.list),
                    status_idx: status.map(|s| s.idx),
                },
            )
            .await?;
            if kind == TokenKind::Access {
                access_id = Some(id);
            }
        }
        tokens::born_dead(db, self.domain_id, &Vec::from_iter(access_id), now, pending).await
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

/// What an access token says besides its scopes: who it is for and where its status is.
struct AccessSubject<'a> {
    issuer: &'a str,
    subject: &'a str,
    client: &'a AuthenticatedClient,
    status: (StatusSlot, StatusClaim),
}

fn mint_access(
    key: &SigningKey,
    to: AccessSubject<'_>,
    scopes: &Scopes,
    now: UnixMicros,
    ttl_secs: i64,
) -> Result<MintedAccess, OAuthError> {
    let AccessSubject {
        issuer,
        subject,
        client,
        status: (slot, status),
    } = to;
    let jti = new_jti();
    let claims = AccessClaims {
        iss: issuer.to_owned(),
        sub: subject.to_owned(),
        client_id: client.client.client_id.clone(),
        scope: scopes.to_space_separated(),
        iat: now / MICROS_PER_SEC,
        exp: (now + ttl_secs * MICROS_PER_SEC) / MICROS_PER_SEC,
        jti: jti.clone(),
        status: Some(status),
    };
    let jwt = jwt::sign(&claims, key).map_err(|e| OAuthError::Internal(e.to_string()))?;
    Ok(MintedAccess {
        hash: Sha256Digest::of(jwt.as_bytes()),
        jwt,
        jti,
        status: slot,
    })
}
