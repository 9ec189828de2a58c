//! `/admin/v1/domains/{domain}/clients`.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::admin::{Client, CreatedClient};
use crate::domain::{ClientId, ClientSpec, ClientType, DomainName, GrantType, Scope, Scopes};
use crate::http::error::documented::{JsonBodyRefused, OperatorRefused, StoreUnavailable};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extractors::{Operator, ValidJson};
use crate::http::handlers::common::{Success, deleted};
use crate::http::handlers::params::{ClientPath, DomainPath};
use crate::http::state::AppState;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"client_id":"web","client_type":"confidential","grant_types":["password","refresh_token"],"scopes":["openid","profile"],"domain_admin":false}))]
pub struct CreateClient {
    /// 1-255 printable ASCII characters, unique in the domain.
    #[schema(pattern = "^[ -~]{1,255}$")]
    pub client_id: String,
    /// Default `confidential`.
    pub client_type: Option<ClientType>,
    /// Default `["client_credentials"]` for confidential clients, `["password","refresh_token"]`
    /// for public ones. Public clients cannot have `client_credentials`.
    pub grant_types: Option<Vec<GrantType>>,
    /// The scopes the client may ask for. Default none.
    #[validate(length(max = 100, message = "at most 100 scopes"))]
    #[schema(schema_with = scope_list)]
    pub scopes: Option<Vec<String>>,
    /// May revoke any token of its domain. Default false; confidential clients only.
    pub domain_admin: Option<bool>,
}

/// Up to 100 RFC 6749 §3.3 scope-tokens, or `null` for none.
fn scope_list() -> utoipa::openapi::Array {
    utoipa::openapi::ArrayBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            utoipa::openapi::Type::Array,
            utoipa::openapi::Type::Null,
        ]))
        .items(Scope::schema())
        .max_items(Some(Scopes::MAX))
        .description(Some("The scopes the client may ask for. Default none."))
        .build()
}

#[derive(Serialize, ToSchema)]
pub struct ClientList {
    pub clients: Vec<Client>,
}

/// Registers a client. A confidential client's secret is generated here and shown
/// only in this answer.
#[utoipa::path(post, path = "/admin/v1/domains/{domain}/clients", tag = "operator", operation_id = "create_client",
    security(("operator_token" = [])),
    params(DomainPath),
    request_body = CreateClient,
    responses(
        (status = 201, description = "Created; `client_secret` is shown this once", body = CreatedClient,
            example = json!({"client_id":"web","client_type":"confidential","grant_types":["password","refresh_token"],"scopes":["openid","profile"],"domain_admin":false,"client_secret":"q9M2pXk0sVdH3rB6tWnYc8eLfJ1aZ4uG7iO5yKxTgQw"})),
        (status = 400, description = "Malformed body", body = ErrorBody),
        OperatorRefused,
        (status = 404, description = "No such domain", body = ErrorBody),
        (status = 409, description = "The client_id is taken in this domain", body = ErrorBody),
        JsonBodyRefused,
        StoreUnavailable))]
pub async fn create(
    state: web::Data<AppState>,
    operator: Operator,
    domain: web::Path<DomainName>,
    body: ValidJson<CreateClient>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let scopes = body
        .scopes
        .unwrap_or_default()
        .iter()
        .map(|s| Scope::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    let spec = ClientSpec {
        client_id: ClientId::parse(&body.client_id)?,
        client_type: body.client_type.unwrap_or(ClientType::Confidential),
        grant_types: body.grant_types,
        scopes: Scopes::new(scopes)?,
        domain_admin: body.domain_admin.unwrap_or(false),
    };
    let created = state.admin.create_client(&domain, spec, operator.actor()).await?;
    Ok(HttpResponse::Created().json(created))
}

/// Lists a domain's clients (never their secrets).
#[utoipa::path(get, path = "/admin/v1/domains/{domain}/clients", tag = "operator", operation_id = "list_clients",
    security(("operator_token" = [])),
    params(DomainPath),
    responses(
        (status = 200, description = "The domain's clients", body = ClientList),
        (status = 400, description = "Malformed domain name", body = ErrorBody),
        OperatorRefused,
        (status = 404, description = "No such domain", body = ErrorBody),
        StoreUnavailable))]
pub async fn list(
    state: web::Data<AppState>,
    _operator: Operator,
    domain: web::Path<DomainName>,
) -> Result<web::Json<ClientList>, ApiError> {
    Ok(web::Json(ClientList {
        clients: state.admin.list_clients(&domain).await?,
    }))
}

/// One client.
#[utoipa::path(get, path = "/admin/v1/domains/{domain}/clients/{client_id}", tag = "operator", operation_id = "get_client",
    security(("operator_token" = [])),
    params(ClientPath),
    responses(
        (status = 200, description = "The client", body = Client),
        (status = 400, description = "Malformed name", body = ErrorBody),
        OperatorRefused,
        (status = 404, description = "No such domain or client", body = ErrorBody),
        StoreUnavailable))]
pub async fn get(
    state: web::Data<AppState>,
    _operator: Operator,
    path: web::Path<(DomainName, ClientId)>,
) -> Result<web::Json<Client>, ApiError> {
    let (domain, client_id) = path.into_inner();
    Ok(web::Json(state.admin.get_client(&domain, &client_id).await?))
}

/// Deletes a client with its consents and tokens.
#[utoipa::path(delete, path = "/admin/v1/domains/{domain}/clients/{client_id}", tag = "operator", operation_id = "delete_client",
    security(("operator_token" = [])),
    params(ClientPath),
    responses(
        (status = 200, description = "Deleted", body = Success),
        (status = 400, description = "Malformed name", body = ErrorBody),
        OperatorRefused,
        (status = 404, description = "No such domain or client", body = ErrorBody),
        StoreUnavailable))]
pub async fn delete(
    state: web::Data<AppState>,
    operator: Operator,
    path: web::Path<(DomainName, ClientId)>,
) -> Result<HttpResponse, ApiError> {
    let (domain, client_id) = path.into_inner();
    state.admin.delete_client(&domain, &client_id, operator.actor()).await?;
    Ok(deleted())
}

/// How a secret rotation goes; every field is optional, and so is the body.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"revoke_tokens":false}))]
pub struct RotateSecret {
    /// Default true: every live token of the client is revoked (reason
    /// `client_secret_rotated`).
    pub revoke_tokens: Option<bool>,
}

/// Gives a confidential client a new secret, shown once (SPEC §3.13). The old secret
/// stops working at once, on every instance; the client's tokens are revoked unless
/// `{"revoke_tokens":false}`.
#[utoipa::path(post, path = "/admin/v1/domains/{domain}/clients/{client_id}/secret", tag = "operator",
    operation_id = "rotate_client_secret",
    security(("operator_token" = [])),
    params(ClientPath),
    request_body(content = Option<RotateSecret>, description = "Optional"),
    responses(
        (status = 200, description = "The client with its new secret", body = CreatedClient),
        (status = 400, description = "Malformed body or name, or a public client (it has no secret)", body = ErrorBody),
        OperatorRefused,
        (status = 404, description = "No such domain or client", body = ErrorBody),
        JsonBodyRefused,
        StoreUnavailable))]
pub async fn rotate_secret(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    operator: Operator,
    path: web::Path<(DomainName, ClientId)>,
) -> Result<web::Json<CreatedClient>, ApiError> {
    let (domain, client_id) = path.into_inner();
    use actix_web::http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
    let headers = req.headers();
    let empty = match headers.get(CONTENT_LENGTH) {
        Some(length) => length.as_bytes() == b"0",
        None => !headers.contains_key(TRANSFER_ENCODING),
    };
    let body = if empty {
        RotateSecret::default()
    } else {
        use actix_web::FromRequest;
        ValidJson::<RotateSecret>::from_request(&req, &mut payload.into_inner())
            .await?
            .0
    };
    let rotated = state
        .admin
        .rotate_secret(
            &domain,
            &client_id,
            body.revoke_tokens.unwrap_or(true),
            operator.actor(),
        )
        .await?;
    Ok(web::Json(rotated))
}
