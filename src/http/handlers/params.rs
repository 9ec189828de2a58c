//! Path parameters as the OpenAPI document describes them, once for every operation
//! that takes them (`params(DomainPath)`); the handlers take them as typed paths
//! (`web::Path<DomainName>`, `web::Path<(DomainName, ClientId)>`), checked by the same
//! `DomainName` / `ClientId` / `Username` rules the schemas state.

use utoipa::IntoParams;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{Object, Required};

use crate::domain::{ClientId, DomainName, Username};

fn path(name: &str, schema: Object, description: &str, example: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(schema))
        .example(Some(serde_json::json!(example)))
        .build()
}

fn domain() -> Parameter {
    path(
        "domain",
        DomainName::schema(),
        "Identity domain name (`400 invalid_request` when malformed)",
        "acme",
    )
}

/// `{domain}`.
pub struct DomainPath;

impl IntoParams for DomainPath {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![domain()]
    }
}

/// `{domain}` and `{client_id}`.
pub struct ClientPath;

impl IntoParams for ClientPath {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            domain(),
            path("client_id", ClientId::schema(), "Client identifier", "web"),
        ]
    }
}

/// `{domain}` and `{list_id}` (a status list).
pub struct StatusListPath;

impl IntoParams for StatusListPath {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let list_id = utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .pattern(Some("^[A-Za-z0-9_-]{1,64}$"))
            .build();
        vec![
            domain(),
            path(
                "list_id",
                list_id,
                "A list of the domain, as access tokens' `status` claims name it (`404` when there is none)",
                "1",
            ),
        ]
    }
}

/// `{domain}` and `{username}`.
pub struct UserPath;

impl IntoParams for UserPath {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![domain(), path("username", Username::schema(), "Username", "alice")]
    }
}
