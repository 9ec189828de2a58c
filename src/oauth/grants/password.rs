//! The `password` grant (RFC 6749 §4.3): a user's access + refresh pair, starting a new
//! family under the user's consent to the client (created, or reused and widened).

use super::{AccessSubject, IssuedTokens, Lineage, PairTtls, TokenService, granted_scopes, mint_access, require_grant};
use crate::clock::UnixMicros;
use crate::domain::{ConsentPublicId, GrantType, Scopes};
use crate::oauth::{AuthenticatedClient, OAuthError};
use crate::security::{Password, PasswordHash, verify_password};
use crate::store::models::{NewConsent, NewFamily, UserRow};
use crate::store::{Db, StoreError, consents, tokens, users};
use crate::tokens::PlainToken;

impl TokenService {
    /// The user of the domain with this name and password, if they may sign in: the
    /// one check of a password, for the `password` grant and the account page (SPEC
    /// §3.9). An unknown user costs the same Argon2 verification as a known one (a
    /// decoy hash), so names cannot be probed by timing; a disabled user is refused
    /// exactly like a wrong password (SPEC §3.13).
    pub async fn verify_user(
        &self,
        domain_id: i64,
        username: &str,
        password: Password,
    ) -> Result<Option<UserRow>, OAuthError> {
        let lookup = username.to_owned();
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
        Ok(user.filter(|user| verified && user.disabled_at.is_none()))
    }

    pub(super) async fn password(
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
        let Some(user) = self.verify_user(domain_id, &username, password).await? else {
            return Err(OAuthError::InvalidGrant("the username or password is not valid".into()));
        };

        let key = self.keys.signing_key(&self.store, domain_id).await?;
        let now = self.clock.now();
        let ttls = PairTtls {
            access: client.domain.access_token_ttl_secs,
            refresh: client.domain.refresh_token_ttl_secs,
        };
        let to = AccessSubject {
            issuer,
            subject: &user.username,
            client,
            status: self.status_slot(domain_id, issuer).await?,
        };
        let access = mint_access(&key, to, &scopes, now, ttls.access)?;
        let refresh = PlainToken::generate();
        let (client_ref, user_ref) = (client.client.id, user.id);
        let refresh_hash = refresh.digest();

        let attempt = || {
            let (stored, scopes) = (access.stored(), scopes.clone());
            self.store.write(move |mut db| {
                Box::pin(async move {
                    let consent_ref = grant_consent(&mut db, domain_id, user_ref, client_ref, &scopes, now).await?;
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
                    let scope_text = scopes.to_space_separated();
                    lineage
                        .insert_pair(&mut db, (&stored, &refresh_hash), &scope_text, now, ttls, Vec::new())
                        .await
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
            expires_in: ttls.access,
            refresh_token: Some(refresh),
            scope: scopes,
        })
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
                public_id: ConsentPublicId::generate().as_str(),
            },
        )
        .await?
        .id),
    }
}
