//! Introspection (RFC 7662, SPEC §3.4): what a resource server learns about a token.
//! Read from the store on every call, so a revocation is visible on every instance as
//! soon as it has been answered.

use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::schema::{AdditionalProperties, AllOfBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};

use super::{AuthenticatedClient, OAuthError};
use crate::clock::{Clock, MICROS_PER_SEC};
use crate::domain::revocation::TokenKind;
use crate::store::Store;
use crate::tokens::PlainToken;

/// The answer: every field for a live token, exactly `{"active":false}` otherwise.
#[derive(Debug, Serialize)]
pub struct Introspection {
    pub active: bool,
    #[serde(flatten)]
    pub details: Option<ActiveToken>,
}

/// What a live token carries, next to `"active": true`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActiveToken {
    #[schema(schema_with = token_type_schema)]
    pub token_type: &'static str,
    pub client_id: String,
    /// Only for tokens issued to a user.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub username: Option<String>,
    /// The username for user tokens, the client_id for client_credentials tokens.
    pub sub: String,
    /// Space-separated.
    pub scope: String,
    /// Unix seconds.
    pub iat: i64,
    /// Unix seconds.
    pub exp: i64,
    pub iss: String,
    pub jti: String,
}

fn token_type_schema() -> utoipa::openapi::Object {
    crate::api_schema::string_enum(&["access_token", "refresh_token"])
}

/// The document's view of the answer: one of two shapes, told apart by `active`.
impl utoipa::PartialSchema for Introspection {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(Ref::from_schema_name("ActiveIntrospection"))
            .item(Ref::from_schema_name("InactiveIntrospection"))
            .description(Some(
                "Every field for a live token; exactly `{\"active\":false}` for a revoked, expired, unknown or \
                 other-domain token.",
            ))
            .into()
    }
}

impl ToSchema for Introspection {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        let active_flag = |value: bool| {
            ObjectBuilder::new()
                .property("active", crate::api_schema::constant(Type::Boolean, value.into()))
                .required("active")
        };
        let active = AllOfBuilder::new()
            .item(active_flag(true))
            .item(Ref::from_schema_name("ActiveToken"))
            .description(Some("A live token."))
            .examples([serde_json::json!({"active":true,"token_type":"access_token","client_id":"web","username":"alice","sub":"alice","scope":"openid profile","iat":1764000000,"exp":1764003600,"iss":"http://127.0.0.1:8080/domains/acme","jti":"bX0n3q8wJ7kQ2c1yT5rV9A"})]);
        let inactive = active_flag(false)
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .description(Some(
                "Revoked, expired, unknown or another domain's: nothing else is said.",
            ))
            .examples([serde_json::json!({"active": false})]);
        schemas.push(("ActiveIntrospection".to_owned(), active.into()));
        schemas.push(("InactiveIntrospection".to_owned(), inactive.into()));
        schemas.push((
            "ActiveToken".to_owned(),
            <ActiveToken as utoipa::PartialSchema>::schema(),
        ));
        <ActiveToken as ToSchema>::schemas(schemas);
    }
}

impl Introspection {
    pub fn inactive() -> Self {
        Self {
            active: false,
            details: None,
        }
    }
}

pub async fn introspect(
    store: &Store,
    clock: &Clock,
    client: &AuthenticatedClient,
    token: &PlainToken,
    issuer: String,
) -> Result<Introspection, OAuthError> {
    if !client.is_confidential() {
        return Err(OAuthError::InvalidClient(
            "only confidential clients may introspect tokens".into(),
        ));
    }
    let view = store.token(client.domain.id, token.digest()).await?;
    let Some(view) = view.filter(|v| v.is_live(clock.now())) else {
        return Ok(Introspection::inactive());
    };
    let t = view.token;
    Ok(Introspection {
        active: true,
        details: Some(ActiveToken {
            token_type: match t.kind {
                TokenKind::Access => "access_token",
                TokenKind::Refresh => "refresh_token",
            },
            sub: view.username.clone().unwrap_or_else(|| view.client_id.clone()),
            client_id: view.client_id,
            username: view.username,
            scope: t.scopes,
            iat: t.issued_at / MICROS_PER_SEC,
            exp: t.expires_at / MICROS_PER_SEC,
            iss: issuer,
            jti: t.jti,
        }),
    })
}
