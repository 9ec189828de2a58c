//! Operator authentication: `Authorization: Bearer <REVOKD_ADMIN_TOKEN>`, compared in
//! constant time. With no admin token configured, nobody gets in over HTTP.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

use crate::http::error::ApiError;
use crate::http::middleware::RequestId;
use crate::http::state::AppState;

const REALM: &str = "revokd-admin";

/// Proof that the request carries the operator's token.
#[derive(Debug, Clone)]
pub struct Operator {
    pub request_id: RequestId,
}

fn refuse(description: &str) -> ApiError {
    ApiError::InvalidToken {
        realm: REALM.to_owned(),
        description: description.to_owned(),
    }
}

impl Operator {
    fn authenticate(req: &HttpRequest) -> Result<Self, ApiError> {
        let state = req
            .app_data::<web::Data<AppState>>()
            .ok_or_else(|| ApiError::Internal("application state missing".into()))?;
        let Some(expected) = &state.admin_token else {
            return Err(refuse("the operator API is disabled: REVOKD_ADMIN_TOKEN is not set"));
        };
        let presented = super::bearer_token(req.headers())
            .ok_or_else(|| refuse("send the operator token as Authorization: Bearer <token>"))?;
        if !expected.matches(presented) {
            return Err(refuse("the operator token is not valid"));
        }
        let request_id = req
            .extensions()
            .get::<RequestId>()
            .cloned()
            .unwrap_or_else(|| RequestId::from_headers(req.headers()));
        Ok(Self { request_id })
    }

    pub fn actor(&self) -> crate::admin::Actor {
        crate::admin::Actor::operator(Some(self.request_id.to_string()))
    }
}

use actix_web::HttpMessage;

impl FromRequest for Operator {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Self::authenticate(req))
    }
}
