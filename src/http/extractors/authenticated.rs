//! The opening every OAuth endpoint shares: the identity domain, the form, then the
//! client the form or the `Authorization` header presents, authenticated in that domain.
//! Handlers that take an [`OAuthRequest`] only ever see a client that proved who it is.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

use super::{IdentityDomain, OAuthForm, presented_credentials};
use crate::domain::DomainName;
use crate::http::error::ApiError;
use crate::http::origin::client_address;
use crate::http::state::AppState;
use crate::oauth::{AuthenticatedClient, OAuthError, client_auth};
use crate::security::FailureKey;

/// An OAuth request whose client authenticated. Extracted from the form body; for a
/// `GET` with the parameters in the query string, take [`OAuthQueryRequest`].
///
/// The checks run in this order, each answering in the §3 shape: the identity domain
/// (`400` when missing or malformed), the form (`413`, `415`, `400`), the presented
/// credentials (`400` for two methods at once), then the client itself (`401
/// invalid_client` with `WWW-Authenticate: Basic realm="<domain>"`). An address past
/// the failure limit gets `429` before its credentials are looked at; each failure is
/// counted and logged with the domain, the client id and the address.
pub struct OAuthRequest {
    pub domain: DomainName,
    pub form: OAuthForm,
    pub client: AuthenticatedClient,
}

impl OAuthRequest {
    async fn authenticate(
        req: HttpRequest,
        state: Option<web::Data<AppState>>,
        domain: DomainName,
        form: OAuthForm,
    ) -> Result<Self, ApiError> {
        let state = state.ok_or_else(|| ApiError::Internal("application state missing".into()))?;
        let address = client_address(&req, &state.settings.trusted_proxies);
        let limited = address.map(FailureKey::Address);
        if let Some(key) = &limited {
            state.auth_failures.check(key).map_err(ApiError::too_many_attempts)?;
        }
        let (authenticated, credentials) = match presented_credentials(&req, &form) {
            Ok(credentials) => (
                client_auth::authenticate(&state.store, &domain, &credentials).await,
                Some(credentials),
            ),
            Err(malformed) => (Err(malformed), None),
        };
        if let Err(OAuthError::InvalidClient(_)) = &authenticated {
            if let Some(key) = limited {
                state.auth_failures.record(key);
            }
            let client_id = credentials.as_ref().map(|c| c.client_id());
            // Debug-quoted: a client id is whatever the request sent.
            tracing::warn!(%domain, client_id = ?client_id, address = ?address, "client authentication failed");
        }
        let client = authenticated.map_err(|e| ApiError::from_oauth(e, &domain))?;
        Ok(Self { domain, form, client })
    }
}

impl FromRequest for OAuthRequest {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let domain = IdentityDomain::from_request(req, payload).into_inner();
        let form = OAuthForm::from_request(req, payload);
        let (req, state) = (req.clone(), req.app_data::<web::Data<AppState>>().cloned());
        Box::pin(async move {
            let domain = domain?.0;
            let form = form.await?;
            Self::authenticate(req, state, domain, form).await
        })
    }
}

/// An [`OAuthRequest`] whose parameters are in the query string: the revocation
/// endpoints' `GET` when `REVOKD_REQUIRE_POST=false`.
pub struct OAuthQueryRequest(pub OAuthRequest);

impl FromRequest for OAuthQueryRequest {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let domain = IdentityDomain::from_request(req, payload).into_inner();
        let (req, state) = (req.clone(), req.app_data::<web::Data<AppState>>().cloned());
        Box::pin(async move {
            let domain = domain?.0;
            let form = OAuthForm::parse(req.query_string().as_bytes())?;
            OAuthRequest::authenticate(req, state, domain, form).await.map(Self)
        })
    }
}
