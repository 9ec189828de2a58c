//! A user's bearer access token (RFC 6750 §2.1) on a domain-scoped request: the user
//! it proves, or `401 invalid_token` with `WWW-Authenticate: Bearer`. An unknown
//! domain answers the same, so domains cannot be probed.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

use super::IdentityDomain;
use crate::http::error::ApiError;
use crate::http::limits::MAX_TOKEN_BYTES;
use crate::http::state::AppState;
use crate::oauth::consents::{TokenOwner, bearer_owner};
use crate::store::domains;
use crate::tokens::PlainToken;

pub struct UserBearer(pub TokenOwner);

impl FromRequest for UserBearer {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let domain = IdentityDomain::from_request(req, payload).into_inner();
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let presented = super::bearer_token(req.headers()).map(str::to_owned);
        Box::pin(async move {
            let domain = domain?.0;
            let state = state.ok_or_else(|| ApiError::Internal("application state missing".into()))?;
            let refuse = |description: &str| ApiError::InvalidToken {
                realm: domain.to_string(),
                description: description.to_owned(),
            };
            let token = presented
                .filter(|t| !t.is_empty() && t.len() <= MAX_TOKEN_BYTES)
                .ok_or_else(|| refuse("send a user's access token as Authorization: Bearer <token>"))?;
            let name = domain.clone();
            let domain_id = state
                .store
                .read(move |mut db| Box::pin(async move { domains::find_by_name(&mut db, name.as_str()).await }))
                .await?
                .map(|row| row.id)
                .ok_or_else(|| refuse("the access token is not valid"))?;
            let owner = bearer_owner(&state.store, &state.clock, domain_id, &PlainToken::new(token))
                .await
                .map_err(|e| ApiError::from_oauth(e, &domain))?
                .ok_or_else(|| refuse("the access token is not valid"))?;
            Ok(Self(owner))
        })
    }
}
