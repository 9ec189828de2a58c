//! The OpenAPI document, assembled from the annotations on the handlers.

use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ObjectBuilder, Ref, RefOr, Type};
use utoipa::{Modify, OpenApi};

use crate::http::handlers::{
    account, admin, consents, global_revocation, introspect, metadata, ops, revoke, status_lists, token,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "revokd",
        description = DESCRIPTION,
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        revoke::revoke,
        revoke::revoke_rfc7009,
        token::token,
        introspect::introspect,
        consents::list,
        consents::withdraw,
        account::home,
        account::sign_in,
        account::confirm_revoke,
        account::revoke,
        account::confirm_sign_out_everywhere,
        account::sign_out_everywhere,
        account::sign_out,
        account::stylesheet,
        global_revocation::revoke,
        metadata::metadata,
        metadata::jwks,
        status_lists::list,
        status_lists::aggregation,
        ops::healthz,
        ops::readyz,
        ops::metrics,
        ops::openapi_json,
        admin::domains::create,
        admin::domains::list,
        admin::domains::get,
        admin::domains::update,
        admin::domains::delete,
        admin::clients::create,
        admin::clients::list,
        admin::clients::get,
        admin::clients::delete,
        admin::clients::rotate_secret,
        admin::users::create,
        admin::users::list,
        admin::users::get,
        admin::users::delete,
        admin::users::update,
        admin::users::set_password,
        admin::revocations::create,
        admin::tokens::lookup,
        admin::policies::put,
        admin::policies::get,
        admin::policies::delete,
        admin::policies::evaluate,
        admin::audit::list,
    ),
    modifiers(&SecuritySchemes, &ResponseHeaders),
    tags(
        (name = "oauth", description = "Token issuance, revocation and introspection"),
        (name = "consents", description = "End users' consents"),
        (name = "account", description = "The end-user account page (HTML forms, no JavaScript): sign in, see and \
            revoke the applications with access, sign out everywhere. Every form carries the page's CSRF token; \
            every answer, errors included, is HTML"),
        (name = "discovery", description = "RFC 8414 metadata and JWKS"),
        (name = "status lists", description = "Token Status Lists (draft-ietf-oauth-status-list): revocation that resource servers check offline"),
        (name = "operator", description = "Operator API (`Authorization: Bearer <REVOKD_ADMIN_TOKEN>`)"),
        (name = "operations", description = "Health, readiness, metrics and this document"),
    )
)]
pub struct ApiDoc;

const DESCRIPTION: &str = "Multi-tenant OAuth 2.0 token revocation service.

Every `/oauth2/rest/...` and `/oauth2/revoke` request names its identity domain by the \
`x-oauth-identity-domain-name` header or the `identityDomain` query parameter (the header wins); \
without one it is `400 invalid_request`.

Every error body is `{\"status\":\"failure\",\"error\":\"<code>\",\"error_description\":\"<text>\"}` (`ErrorBody`), \
also for what no operation lists: an unknown path is `404 not_found`, a method a path does not serve is \
`405` with `Allow`, and with `REVOKD_REQUIRE_HTTPS=true` a plain-HTTP request to anything but `/healthz`, \
`/readyz` and `/metrics` is `400 invalid_request`.

OAuth clients authenticate with HTTP Basic (`client_secret_basic`), with `client_id` and `client_secret` in \
the form (`client_secret_post`), or, when public, with `client_id` alone. OpenAPI has no security scheme for \
credentials in a form body, so these operations list `client_secret_basic` or no scheme, and their forms \
carry `client_id` and `client_secret`.

This document describes the default configuration. With `REVOKD_REQUIRE_POST=false` the two revocation \
paths also answer `GET` with the form's parameters in the query string, as `POST` does; by default that \
`GET` is `405` with `Allow: POST`.";

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "client_secret_basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "Client id and secret, each form-urlencoded first (RFC 6749 §2.3.1)",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "user_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A user's access token from the token endpoint"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "admin_client_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An access token of a domain_admin client of the domain, with the scope the operation names",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "operator_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The operator token, REVOKD_ADMIN_TOKEN"))
                    .build(),
            ),
        );
    }
}

/// The response headers the annotations name are sent with every answer of that status
/// (that is the rule for naming one), but utoipa 6 cannot say `required`; its
/// extensions are written flat into the header object, so `required` goes there.
/// Schemathesis then fails a run where one is missing. Every answer also carries
/// `x-request-id` (`http::middleware::RequestId`), the id audit events keep.
struct ResponseHeaders;

const REQUEST_ID: &str = "x-request-id";

impl Modify for ResponseHeaders {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let required = |header: &mut Header| {
            header
                .extensions
                .get_or_insert_with(Default::default)
                .insert("required".to_owned(), true.into());
        };
        let operations = openapi.paths.paths.values_mut().flat_map(|item| {
            [
                &mut item.get,
                &mut item.post,
                &mut item.patch,
                &mut item.delete,
                &mut item.put,
            ]
            .into_iter()
            .flatten()
        });
        for operation in operations {
            for response in operation.responses.responses.values_mut() {
                let RefOr::T(response) = response else { continue };
                for header in response.headers.values_mut() {
                    if let RefOr::T(header) = header {
                        required(header);
                    }
                }
                response.headers.insert(
                    REQUEST_ID.to_owned(),
                    RefOr::Ref(Ref::new(format!("#/components/headers/{REQUEST_ID}"))),
                );
            }
        }
        let mut request_id = HeaderBuilder::new()
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some("^[A-Za-z0-9._-]{1,64}$")),
            ))
            .description(Some(
                "The request's id: the caller's own `x-request-id` when it is 1-64 letters, digits, `.`, `_` or `-`, \
                 else 32 hex digits made up by the server. Audit events keep it.",
            ))
            .build();
        required(&mut request_id);
        openapi
            .components
            .get_or_insert_with(Default::default)
            .headers
            .insert(REQUEST_ID.to_owned(), RefOr::T(request_id));
    }
}

/// The document as served and as committed in `openapi/openapi.json`.
pub fn document_json() -> String {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc.to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use serde_json::{Value, json};

    use super::*;
    use crate::domain::DomainName;
    use crate::domain::revocation::{REVOKE_LEVELS, RevokeLevel, TOKEN_TYPES, TokenTypeParam, parse_closed};

    /// The committed document must be what the code generates; `UPDATE_OPENAPI=1
    /// cargo test` rewrites it.
    #[test]
    fn committed_document_matches_the_code() {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("openapi/openapi.json");
        let generated = document_json() + "\n";
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            std::fs::write(&path, &generated).unwrap();
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "openapi/openapi.json is out of date: run `UPDATE_OPENAPI=1 cargo test --lib openapi` and commit it"
        );
    }

    fn document() -> Value {
        serde_json::from_str(&document_json()).expect("the document is JSON")
    }

    fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
        let mut found = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().expect("path item") {
                found.push((method.to_uppercase(), path.clone(), operation));
            }
        }
        found
    }

    #[test]
    fn document_is_openapi_3_1_with_every_spec_operation_once() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.1.0");
        let documented: Vec<(String, String)> = operations(&doc).into_iter().map(|(m, p, _)| (m, p)).collect();
        for (method, path) in [
            ("POST", "/oauth2/rest/token/revoke"),
            ("POST", "/oauth2/revoke"),
            ("POST", "/oauth2/rest/token"),
            ("POST", "/oauth2/rest/token/introspect"),
            ("GET", "/oauth2/rest/consents"),
            ("DELETE", "/oauth2/rest/consents/{consent_id}"),
            ("GET", "/.well-known/oauth-authorization-server/domains/{domain}"),
            ("GET", "/oauth2/rest/jwks"),
            ("POST", "/admin/v1/domains"),
            ("GET", "/admin/v1/domains"),
            ("GET", "/admin/v1/domains/{domain}"),
            ("PATCH", "/admin/v1/domains/{domain}"),
            ("DELETE", "/admin/v1/domains/{domain}"),
            ("POST", "/admin/v1/domains/{domain}/clients"),
            ("GET", "/admin/v1/domains/{domain}/clients"),
            ("GET", "/admin/v1/domains/{domain}/clients/{client_id}"),
            ("DELETE", "/admin/v1/domains/{domain}/clients/{client_id}"),
            ("POST", "/admin/v1/domains/{domain}/users"),
            ("GET", "/admin/v1/domains/{domain}/users"),
            ("GET", "/admin/v1/domains/{domain}/users/{username}"),
            ("DELETE", "/admin/v1/domains/{domain}/users/{username}"),
            ("POST", "/admin/v1/domains/{domain}/revocations"),
            ("GET", "/admin/v1/domains/{domain}/audit"),
            ("GET", "/healthz"),
            ("GET", "/readyz"),
            ("GET", "/metrics"),
            ("GET", "/openapi.json"),
        ] {
            assert!(
                documented.contains(&(method.to_owned(), path.to_owned())),
                "{method} {path} is not documented"
            );
        }
        let mut ids: Vec<&str> = operations(&doc)
            .iter()
            .map(|(m, p, op)| {
                op["operationId"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{m} {p} has no operationId"))
            })
            .collect();
        let count = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(
            ids.len(),
            count,
            "operationIds repeat: generated clients need them unique"
        );
    }

    #[test]
    fn every_domain_scoped_operation_takes_the_header_and_the_query_parameter() {
        let doc = document();
        for (method, path, operation) in operations(&doc) {
            if !path.starts_with("/oauth2/") {
                continue;
            }
            let parameters = operation["parameters"].as_array().cloned().unwrap_or_default();
            for (name, place) in [("x-oauth-identity-domain-name", "header"), ("identityDomain", "query")] {
                let parameter = parameters
                    .iter()
                    .find(|p| p["name"] == name && p["in"] == place)
                    .unwrap_or_else(|| panic!("{method} {path} lacks the {place} parameter {name}"));
                assert_eq!(
                    parameter["schema"]["pattern"],
                    DomainName::PATTERN,
                    "{method} {path} {name}"
                );
            }
        }
    }

    #[test]
    fn revoke_parameters_are_the_enums_the_server_parses() {
        let doc = document();
        let schemas = &doc["components"]["schemas"];
        let form = &schemas["RevokeForm"]["properties"];
        let values = |schema: &Value| -> Vec<String> {
            let name = schema["$ref"]
                .as_str()
                .and_then(|r| r.rsplit('/').next())
                .expect("a $ref");
            schemas[name]["enum"]
                .as_array()
                .unwrap_or_else(|| panic!("{name} is not an enum"))
                .iter()
                .map(|v| v.as_str().expect("string values").to_owned())
                .collect()
        };
        assert_eq!(values(&form["token_type"]), TOKEN_TYPES);
        assert_eq!(values(&form["revoke_level"]), REVOKE_LEVELS);
        let bulk = &schemas["BulkRevocation"]["properties"]["revoke_type"];
        let bulk_ref = bulk["oneOf"]
            .as_array()
            .and_then(|alternatives| alternatives.iter().find(|a| a.get("$ref").is_some()))
            .unwrap_or(bulk);
        assert_eq!(values(bulk_ref), ["ACCESS_TOKENS", "REFRESH_TOKENS", "TOKENS"]);
        for level in REVOKE_LEVELS {
            assert!(parse_closed::<RevokeLevel>("revoke_level", level, &REVOKE_LEVELS).is_ok());
        }
        for kind in TOKEN_TYPES {
            assert!(parse_closed::<TokenTypeParam>("token_type", kind, &TOKEN_TYPES).is_ok());
        }
    }

    #[test]
    fn every_error_answer_is_the_error_object_with_its_headers() {
        let doc = document();
        for (method, path, operation) in operations(&doc) {
            for (status, response) in operation["responses"].as_object().expect("responses") {
                let json = &response["content"]["application/json"]["schema"];
                let code: u16 = status.parse().expect("numeric status");
                if path.starts_with("/account") {
                    // The account page answers people: every answer is a page.
                    if code != 303 {
                        assert!(
                            response["content"]["text/html"].is_object() || path.ends_with(".css"),
                            "{method} {path} {status}"
                        );
                    }
                } else if code >= 400 {
                    assert_eq!(
                        json["$ref"], "#/components/schemas/ErrorBody",
                        "{method} {path} {status}"
                    );
                }
                let required_header = |name: &str| {
                    assert_eq!(
                        response["headers"][name]["required"], true,
                        "{method} {path} {status} must list {name} as required"
                    );
                };
                assert_eq!(
                    response["headers"]["x-request-id"]["$ref"], "#/components/headers/x-request-id",
                    "{method} {path} {status}"
                );
                match code {
                    401 => required_header("WWW-Authenticate"),
                    503 => required_header("Retry-After"),
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn operations_name_their_security_schemes() {
        let doc = document();
        let schemes = &doc["components"]["securitySchemes"];
        assert_eq!(schemes["client_secret_basic"]["scheme"], "basic");
        assert_eq!(schemes["user_token"]["scheme"], "bearer");
        assert_eq!(schemes["operator_token"]["scheme"], "bearer");
        for (method, path, operation) in operations(&doc) {
            let expected = if path.starts_with("/admin/") {
                json!([{"operator_token": []}])
            } else if path.starts_with("/oauth2/rest/consents") {
                json!([{"user_token": []}])
            } else if path.ends_with("/global-token-revocation") {
                json!([{"admin_client_token": []}])
            } else if [
                "/oauth2/rest/token",
                "/oauth2/rest/token/introspect",
                "/oauth2/rest/token/revoke",
                "/oauth2/revoke",
            ]
            .contains(&path.as_str())
            {
                // Or no scheme at all: client_secret_post and public clients send the
                // credentials in the form.
                json!([{"client_secret_basic": []}, {}])
            } else {
                Value::Null
            };
            assert_eq!(operation["security"], expected, "{method} {path}");
        }
    }
}
