//! The OpenAPI document, assembled from the annotations on the handlers.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::http::handlers::{admin, consents, introspect, metadata, ops, revoke, token};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "revokd",
        description = "Multi-tenant OAuth 2.0 token revocation service. Every error body is \
                       `{\"status\":\"failure\",\"error\":\"<code>\",\"error_description\":\"<text>\"}`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        revoke::revoke,
        revoke::revoke_rfc7009,
        token::token,
        introspect::introspect,
        consents::list,
        consents::withdraw,
        metadata::metadata,
        metadata::jwks,
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
        admin::users::create,
        admin::users::list,
        admin::users::get,
        admin::users::delete,
        admin::revocations::create,
        admin::audit::list,
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "oauth", description = "Token issuance, revocation and introspection"),
        (name = "consents", description = "End users' consents"),
        (name = "discovery", description = "RFC 8414 metadata and JWKS"),
        (name = "operator", description = "Operator API (`Authorization: Bearer <REVOKD_ADMIN_TOKEN>`)"),
        (name = "operations", description = "Health, readiness, metrics and this document"),
    )
)]
pub struct ApiDoc;

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

    use super::*;

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

    #[test]
    fn document_is_openapi_3_1_with_every_operator_path() {
        let doc: serde_json::Value = serde_json::from_str(&document_json()).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        for path in [
            "/admin/v1/domains",
            "/admin/v1/domains/{domain}/clients",
            "/admin/v1/domains/{domain}/audit",
            "/readyz",
        ] {
            assert!(doc["paths"].get(path).is_some(), "{path} missing");
        }
        assert!(doc["components"]["securitySchemes"].get("operator_token").is_some());
    }
}
