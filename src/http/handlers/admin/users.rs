//! `/admin/v1/domains/{domain}/users`.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::admin::User;
use crate::domain::{DomainName, Username};
use crate::http::error::documented::{JsonBodyRefused, OperatorRefused, StoreUnavailable};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extractors::{Operator, ValidJson};
use crate::http::handlers::common::{Success, deleted};
use crate::http::handlers::params::{DomainPath, UserPath};
use crate::http::state::AppState;
use crate::security::Password;

/// A new resource owner. No `Debug`: it holds a password.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username":"alice","password":"correct horse battery staple"}))]
pub struct CreateUser {
    /// 1-255 characters, unique in the domain.
    pub username: String,
    /// Stored only as an Argon2id hash.
    #[validate(length(min = 1, max = 1024, message = "must be 1 to 1024 characters"))]
    #[schema(format = Password, min_length = 1, max_length = 1024)]
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct UserList {
    pub users: Vec<User>,
}

/// Registers a resource owner.
#[utoipa::path(post, path = "/admin/v1/domains/{domain}/users", tag = "operator", operation_id = "create_user",
    security(("operator_token" = [])),
    params(DomainPath),
    request_body = CreateUser,
    responses(
        (status = 201, description = "Created", body = User),
        (status = 400, description = "Malformed body", body = ErrorBody),
        OperatorRefused,
        (status = 404, description = "No such domain", body = ErrorBody),
        (status = 409, description = "The username is taken in this domain", body = ErrorBody),
        JsonBodyRefused,
        StoreUnavailable))]
pub async fn create(
    state: web::Data<AppState>,
    operator: Operator,
    domain: web::Path<DomainName>,
    body: ValidJson<CreateUser>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let username = Username::parse(&body.username)?;
    let user = state
        .admin
        .create_user(&domain, username, Password::new(body.password), operator.actor())
        .await?;
    Ok(HttpResponse::Created().json(user))
}

/// Lists a domain's users.
#[utoipa::path(get, path = "/admin/v1/domains/{domain}/users", tag = "operator", operation_id = "list_users",
    security(("operator_token" = [])),
    params(DomainPath),
    responses(
        (status = 200, description = "The domain's users", body = UserList),
        (status = 400, description = "Malformed domain name", body = ErrorBody),
        OperatorRefused,
        (status = 404, description = "No such domain", body = ErrorBody),
        StoreUnavailable))]
pub async fn list(
    state: web::Data<AppState>,
    _operator: Operator,
    domain: web::Path<DomainName>,
) -> Result<web::Json<UserList>, ApiError> {
    Ok(web::Json(UserList {
        users: state.admin.list_users(&domain).await?,
    }))
}

/// One user.
#[utoipa::path(get, path = "/admin/v1/domains/{domain}/users/{username}", tag = "operator", operation_id = "get_user",
    security(("operator_token" = [])),
    params(UserPath),
    responses(
        (status = 200, description = "The user", body = User),
        (status = 400, description = "Malformed name", body = ErrorBody),
        OperatorRefused,
        (status = 404, description = "No such domain or user", body = ErrorBody),
        StoreUnavailable))]
pub async fn get(
    state: web::Data<AppState>,
    _operator: Operator,
    path: web::Path<(DomainName, Username)>,
) -> Result<web::Json<User>, ApiError> {
    let (domain, username) = path.into_inner();
    Ok(web::Json(state.admin.get_user(&domain, &username).await?))
}

/// Deletes a user with their consents and tokens.
#[utoipa::path(delete, path = "/admin/v1/domains/{domain}/users/{username}", tag = "operator", operation_id = "delete_user",
    security(("operator_token" = [])),
    params(UserPath),
    responses(
        (status = 200, description = "Deleted", body = Success),
        (status = 400, description = "Malformed name", body = ErrorBody),
        OperatorRefused,
        (status = 404, description = "No such domain or user", body = ErrorBody),
        StoreUnavailable))]
pub async fn delete(
    state: web::Data<AppState>,
    operator: Operator,
    path: web::Path<(DomainName, Username)>,
) -> Result<HttpResponse, ApiError> {
    let (domain, username) = path.into_inner();
    state.admin.delete_user(&domain, &username, operator.actor()).await?;
    Ok(deleted())
}

/// A new password. No `Debug`: it holds a password.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"password":"a new correct horse battery staple"}))]
pub struct SetPassword {
    #[validate(length(min = 1, max = 1024, message = "must be 1 to 1024 characters"))]
    #[schema(format = Password, min_length = 1, max_length = 1024)]
    pub password: String,
}

/// Sets a user's password (SPEC §3.13); unless the domain's `revoke_on_password_change`
/// is false, every live token of the user is revoked with reason `password_changed`.
#[utoipa::path(put, path = "/admin/v1/domains/{domain}/users/{username}/password", tag = "operator",
    operation_id = "set_user_password",
    security(("operator_token" = [])),
    params(UserPath),
    request_body = SetPassword,
    responses(
        (status = 200, description = "Set", body = Success),
        (status = 400, description = "Malformed body or name", body = ErrorBody),
        OperatorRefused,
        (status = 404, description = "No such domain or user", body = ErrorBody),
        JsonBodyRefused,
        StoreUnavailable))]
pub async fn set_password(
    state: web::Data<AppState>,
    operator: Operator,
    path: web::Path<(DomainName, Username)>,
    body: ValidJson<SetPassword>,
) -> Result<web::Json<Success>, ApiError> {
    let (domain, username) = path.into_inner();
    state
        .admin
        .set_password(&domain, &username, Password::new(body.0.password), operator.actor())
        .await?;
    Ok(web::Json(Success { status: "success" }))
}

/// What a PATCH of a user may change.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"disabled":true}))]
pub struct UpdateUser {
    /// `true`: the user gets no tokens and every token they hold is inactive at once
    /// (reason `user_disabled`); `false` enables them again, reviving no token.
    pub disabled: Option<bool>,
}

/// Disables or enables a user (SPEC §3.13).
#[utoipa::path(patch, path = "/admin/v1/domains/{domain}/users/{username}", tag = "operator",
    operation_id = "update_user",
    security(("operator_token" = [])),
    params(UserPath),
    request_body = UpdateUser,
    responses(
        (status = 200, description = "The user as it is now", body = User),
        (status = 400, description = "Malformed body or name", body = ErrorBody),
        OperatorRefused,
        (status = 404, description = "No such domain or user", body = ErrorBody),
        JsonBodyRefused,
        StoreUnavailable))]
pub async fn update(
    state: web::Data<AppState>,
    operator: Operator,
    path: web::Path<(DomainName, Username)>,
    body: ValidJson<UpdateUser>,
) -> Result<web::Json<User>, ApiError> {
    let (domain, username) = path.into_inner();
    let user = match body.0.disabled {
        Some(disabled) => {
            state
                .admin
                .set_disabled(&domain, &username, disabled, operator.actor())
                .await?
        }
        None => state.admin.get_user(&domain, &username).await?,
    };
    Ok(web::Json(user))
}
