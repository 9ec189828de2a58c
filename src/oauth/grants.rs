//! The token endpoint's grants (SPEC §3.3): client_credentials, password and
//! refresh_token with rotation and reuse detection (RFC 9700 §4.14).
//!
//! Every decision that must hold across instances (is this refresh token still
//! unrotated? does this user already have a consent?) is taken inside one store
//! transaction, never from process memory.

use std::sync::{Arc, OnceLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::{AuthenticatedClient, KeyRing, OAuthError};
use crate::clock::{Clock, MICROS_PER_SEC, UnixMicros};
use crate::domain::{GrantType, Scopes};
use crate::security::{Password, PasswordHash, Sha256Digest, hash_password, verify_password};
use crate::store::models::{NewAuditEvent, NewConsent, NewFamily, NewToken};
use crate::store::tokens::{ACCESS, ClientToken, REFRESH, Revocation};
use crate::store::{Db, Store, StoreError, audit, consents, tokens, users, watermarks};
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
    crate::openapi::constant(utoipa::openapi::Type::String, "Bearer".into())
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

/// An access token before it is stored: the JWT to hand out and what the row keeps.
struct MintedAccess {
    jwt: String,
    hash: Sha256Digest,
    jti: String,
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

    async fn client_credentials(
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
        let access = mint_access(&key, issuer, &client.client.client_id, client, &scopes, now, ttl)?;
        self.store
            .insert_client_token(ClientToken {
                domain_id: client.domain.id,
                client_ref: client.client.id,
                token_hash: access.hash,
                jti: access.jti.clone(),
                scopes: scopes.to_space_separated(),
                issued_at: now,
                expires_at: now + ttl * MICROS_PER_SEC,
            })
            .await?;
        Ok(IssuedTokens {
            access_token: access.jwt,
            expires_in: ttl,
            refresh_token: None,
            scope: scopes,
        })
    }

    async fn password(
        &self,
        client: &AuthenticatedClient,
        issuer: &str,
        username: String,
        password: Password,
        scope: Option<Scopes>,
    ) -> Result<IssuedTokens, OAuthError> {
        require_grant(client, GrantType::Password)?;
        let scopes = granted_scopes(scope.as_ref(), &client.client.scopes)?;
        let domain_id = client.domain.id;
        let lookup = username.clone();
        let user = self
            .store
            .read(move |mut db| Box::pin(async move { users::find(&mut db, domain_id, &lookup).await }))
            .await?;
        let stored_hash = match &user {
            Some(user) => PasswordHash(user.password_hash.clone()),
            None => self.decoy_hash()?,
        };
        // Argon2 takes tens of milliseconds of CPU: keep it off the async threads.
        let verified = tokio::task::spawn_blocking(move || verify_password(&password, &stored_hash))
            .await
            .map_err(|e| OAuthError::Internal(format!("password check failed: {e}")))?;
        let user = match user {
            Some(user) if verified => user,
            _ => return Err(OAuthError::InvalidGrant("the username or password is not valid".into())),
        };

        let key = self.keys.signing_key(&self.store, domain_id).await?;
        let now = self.clock.now();
        let (access_ttl, refresh_ttl) = (
            client.domain.access_token_ttl_secs,
            client.domain.refresh_token_ttl_secs,
        );
        let access = mint_access(&key, issuer, &user.username, client, &scopes, now, access_ttl)?;
        let refresh = PlainToken::generate();
        let scope_text = scopes.to_space_separated();
        let (client_ref, user_ref) = (client.client.id, user.id);
        let (access_hash, access_jti, refresh_hash) = (access.hash, access.jti.clone(), refresh.digest());
        let scopes_for_consent = scopes.clone();

        let attempt = || {
            let (scope_text, access_jti, scopes_for_consent) =
                (scope_text.clone(), access_jti.clone(), scopes_for_consent.clone());
            self.store.write(move |mut db| {
                Box::pin(async move {
                    let consent_ref =
                        grant_consent(&mut db, domain_id, user_ref, client_ref, &scopes_for_consent, now).await?;
                    let family_ref = tokens::insert_family(
                        &mut db,
                        &NewFamily {
                            domain_id,
                            client_ref,
                            user_ref: Some(user_ref),
                            consent_ref: Some(consent_ref),
                            created_at: now,
                        },
                    )
                    .await?;
                    let lineage = Lineage {
                        domain_id,
                        client_ref,
                        user_ref,
                        consent_ref,
                        family_ref,
                        parent_ref: None,
                    };
                    lineage
                        .insert(&mut db, ACCESS, &access_hash, &access_jti, &scope_text, now, access_ttl)
                        .await?;
                    lineage
                        .insert(
                            &mut db,
                            REFRESH,
                            &refresh_hash,
                            &new_jti(),
                            &scope_text,
                            now,
                            refresh_ttl,
                        )
                        .await?;
                    Ok(())
                })
            })
        };
        // Two first logins of one user at one client race to create the consent; on
        // PostgreSQL the loser hits the unique index and simply runs again, finding it.
        match attempt().await {
            Err(StoreError::Conflict) => attempt().await?,
            other => other?,
        }
        Ok(IssuedTokens {
            access_token: access.jwt,
            expires_in: access_ttl,
            refresh_token: Some(refresh),
            scope: scopes,
        })
    }

    async fn refresh(
        &self,
        client: &AuthenticatedClient,
        issuer: &str,
        presented: PlainToken,
        scope: Option<Scopes>,
        request_id: Option<String>,
    ) -> Result<IssuedTokens, OAuthError> {
        require_grant(client, GrantType::RefreshToken)?;
        let key = self.keys.signing_key(&self.store, client.domain.id).await?;
        let now = self.clock.now();
        let (domain_id, client_ref) = (client.domain.id, client.client.id);
        let (access_ttl, refresh_ttl) = (
            client.domain.access_token_ttl_secs,
            client.domain.refresh_token_ttl_secs,
        );
        let presented_hash = presented.digest();
        let new_refresh = PlainToken::generate();
        let new_refresh_hash = new_refresh.digest();
        let issuer = issuer.to_owned();
        let actor = client.client.client_id.clone();
        let client = client.clone();

        let outcome = self
            .store
            .write(move |mut db| {
                Box::pin(async move {
                    let Some(token) = tokens::find_by_hash(&mut db, domain_id, presented_hash.as_bytes()).await? else {
                        return Ok(Refresh::Refused("the refresh token is not valid"));
                    };
                    // A refresh token is bound to its client (RFC 6749 §6).
                    if token.kind != REFRESH || token.client_ref != client_ref {
                        return Ok(Refresh::Refused("the refresh token is not valid"));
                    }
                    if token.rotated_at.is_some() {
                        return reuse(&mut db, &token, now, &actor, request_id.as_deref()).await;
                    }
                    if token.revoked_at.is_some()
                        || token.expires_at <= now
                        || watermarks::covers(&mut db, &token).await?
                    {
                        return Ok(Refresh::Refused("the refresh token is revoked or expired"));
                    }
                    if let Some(family_ref) = token.family_ref {
                        let family = tokens::find_family(&mut db, domain_id, family_ref).await?;
                        if family.is_none_or(|f| f.revoked_at.is_some()) {
                            return Ok(Refresh::Refused("the refresh token is revoked"));
                        }
                    }
                    if let Some(consent_ref) = token.consent_ref {
                        let consent = consents::find(&mut db, domain_id, consent_ref).await?;
                        if consent.is_none_or(|c| c.revoked_at.is_some()) {
                            return Ok(Refresh::Refused("the consent behind this refresh token was withdrawn"));
                        }
                    }
                    let (Some(user_ref), Some(family_ref), Some(consent_ref)) =
                        (token.user_ref, token.family_ref, token.consent_ref)
                    else {
                        return Ok(Refresh::Refused("the refresh token is not valid"));
                    };
                    let Some(user) = users::find_by_id(&mut db, domain_id, user_ref).await? else {
                        return Ok(Refresh::Refused("the refresh token is not valid"));
                    };
                    let original = Scopes::parse_space_separated(&token.scopes)
                        .map_err(|e| StoreError::Internal(format!("stored scopes: {e}")))?;
                    let scopes = match Scopes::granted(scope.as_ref(), &original) {
                        Ok(scopes) => scopes,
                        Err(refused) => return Ok(Refresh::BadScope(refused.to_string())),
                    };
                    // The conditional update is what decides a race of two refreshes.
                    if !tokens::mark_rotated(&mut db, domain_id, token.id, now).await? {
                        return reuse(&mut db, &token, now, &actor, request_id.as_deref()).await;
                    }
                    let access = mint_access(&key, &issuer, &user.username, &client, &scopes, now, access_ttl)
                        .map_err(|e| StoreError::Internal(e.to_string()))?;
                    let scope_text = scopes.to_space_separated();
                    let lineage = Lineage {
                        domain_id,
                        client_ref,
                        user_ref,
                        consent_ref,
                        family_ref,
                        parent_ref: Some(token.id),
                    };
                    lineage
                        .insert(&mut db, ACCESS, &access.hash, &access.jti, &scope_text, now, access_ttl)
                        .await?;
                    lineage
                        .insert(
                            &mut db,
                            REFRESH,
                            &new_refresh_hash,
                            &new_jti(),
                            &scope_text,
                            now,
                            refresh_ttl,
                        )
                        .await?;
                    Ok(Refresh::Issued {
                        jwt: access.jwt,
                        scopes,
                    })
                })
            })
            .await?;
        match outcome {
            Refresh::Issued { jwt, scopes } => Ok(IssuedTokens {
                access_token: jwt,
                expires_in: access_ttl,
                refresh_token: Some(new_refresh),
                scope: scopes,
            }),
            Refresh::Refused(why) => Err(OAuthError::InvalidGrant(why.into())),
            Refresh::Reused => Err(OAuthError::InvalidGrant(
                "the refresh token was already used; every token of its grant is now revoked".into(),
            )),
            Refresh::BadScope(scope) => Err(OAuthError::InvalidScope(format!(
                "scope {scope} was not granted to this refresh token"
            ))),
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

/// How a refresh ended, decided inside its transaction.
enum Refresh {
    Issued { jwt: String, scopes: Scopes },
    Refused(&'static str),
    Reused,
    BadScope(String),
}

/// A rotated refresh token came back: someone holds a copy. Kill the whole family
/// (RFC 9700 §4.14.2) and keep a record of it; the caller gets `invalid_grant`.
async fn reuse(
    db: &mut Db<'_>,
    token: &crate::store::models::TokenRow,
    now: UnixMicros,
    actor: &str,
    request_id: Option<&str>,
) -> Result<Refresh, StoreError> {
    let Some(family_ref) = token.family_ref else {
        return Ok(Refresh::Reused);
    };
    let how = Revocation {
        at: now,
        by: "reuse-detection",
        reason: "refresh token reuse",
    };
    let revoked = tokens::revoke_family(db, token.domain_id, family_ref, &how).await?;
    audit::record(
        db,
        &NewAuditEvent {
            domain_id: token.domain_id,
            occurred_at: now,
            action: "refresh_token.reused",
            actor,
            request_id,
            details: json!({ "family_id": family_ref, "revoked": revoked, "count": revoked.total(), "level": "RELATED_TOKENS" })
                .to_string(),
        },
    )
    .await?;
    Ok(Refresh::Reused)
}

/// The ids every token of one grant shares.
struct Lineage {
    domain_id: i64,
    client_ref: i64,
    user_ref: i64,
    consent_ref: i64,
    family_ref: i64,
    parent_ref: Option<i64>,
}

impl Lineage {
    #[allow(clippy::too_many_arguments)]
    async fn insert(
        &self,
        db: &mut Db<'_>,
        kind: &str,
        hash: &Sha256Digest,
        jti: &str,
        scopes: &str,
        now: UnixMicros,
        ttl_secs: i64,
    ) -> Result<i64, StoreError> {
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
        .await
    }
}

/// The user's active consent for the client, widened to `scopes` if needed, or a new one.
async fn grant_consent(
    db: &mut Db<'_>,
    domain_id: i64,
    user_ref: i64,
    client_ref: i64,
    scopes: &Scopes,
    now: UnixMicros,
) -> Result<i64, StoreError> {
    match consents::find_active(db, domain_id, user_ref, client_ref).await? {
        Some(consent) => {
            let held = Scopes::parse_space_separated(&consent.scopes)
                .map_err(|e| StoreError::Internal(format!("stored scopes: {e}")))?;
            if !held.covers(scopes) {
                consents::set_scopes(db, domain_id, consent.id, &held.union(scopes).to_space_separated()).await?;
            }
            Ok(consent.id)
        }
        None => Ok(consents::insert(
            db,
            &NewConsent {
                domain_id,
                user_ref,
                client_ref,
                scopes: &scopes.to_space_separated(),
                granted_at: now,
            },
        )
        .await?
        .id),
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
