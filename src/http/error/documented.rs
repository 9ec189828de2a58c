//! The error answers as the OpenAPI document lists them, grouped by what produces
//! them: a handler names in `responses(...)` the groups its extractors and calls can
//! answer with, next to its own success and `400` (whose causes it describes itself).
//! The headers named here are sent with every such answer (`crate::openapi` marks them
//! required), each with a pattern the value matches.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use utoipa::IntoResponses;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::{ContentBuilder, ObjectBuilder, Ref, RefOr, Response, ResponseBuilder, Type};

/// `(name, description, pattern)` of a response header.
pub(crate) type HeaderDoc = (&'static str, &'static str, &'static str);

/// `response` with these headers, each a string matching its pattern (the account
/// page's answers are built with it too).
pub(crate) fn with_headers(mut response: ResponseBuilder, headers: &[HeaderDoc]) -> RefOr<Response> {
    for (name, description, pattern) in headers {
        let schema = ObjectBuilder::new().schema_type(Type::String).pattern(Some(*pattern));
        response = response.header(
            *name,
            HeaderBuilder::new()
                .description(Some(*description))
                .schema(Some(schema))
                .build(),
        );
    }
    RefOr::T(response.build())
}

fn error(description: &str, example: Value, headers: &[HeaderDoc]) -> RefOr<Response> {
    let response = ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("ErrorBody")))
            .example(Some(example))
            .build(),
    );
    with_headers(response, headers)
}

fn body(error: &str, description: &str) -> Value {
    json!({"status": "failure", "error": error, "error_description": description})
}

/// Declares response groups: `Name { "401" => response, … }` becomes a unit struct whose
/// `IntoResponses` lists them (the account page's groups use it too). The caller has
/// `IntoResponses`, `BTreeMap`, `RefOr` and `Response` in scope.
macro_rules! groups {
    ($($(#[$doc:meta])* $name:ident { $($status:literal => $response:expr),+ $(,)? })*) => {$(
        $(#[$doc])*
        pub struct $name;

        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                BTreeMap::from([$(($status.to_owned(), $response)),+])
            }
        }
    )*};
}
pub(crate) use groups;

groups! {
    /// Client authentication (HTTP Basic, `client_id` + `client_secret` in the form,
    /// or a public client's `client_id`) failed; also for an unknown domain.
    ClientAuthFailed {
        "401" => error(
            "invalid_client: missing, unknown or wrong client credentials, or an unknown identity domain \
             (indistinguishable on purpose)",
            body("invalid_client", "client authentication failed"),
            &[("WWW-Authenticate", "`Basic realm=\"<domain>\"`", "^Basic realm=\"[A-Za-z0-9][A-Za-z0-9_-]{0,63}\"$")],
        ),
        "429" => error(
            "temporarily_unavailable: too many failed authentications from this address (or, for the password \
             grant, for this user name) in the last minute; the credentials were not checked",
            body("temporarily_unavailable", "too many failed authentication attempts; retry in 42 s"),
            &[("Retry-After", "seconds until an attempt is accepted again", "^[1-9][0-9]*$")],
        ),
    }

    /// The user's bearer access token is missing, unknown, revoked or expired.
    UserTokenRefused {
        "401" => error(
            "invalid_token: the bearer token is missing, unknown, revoked or expired, or the domain is unknown",
            body("invalid_token", "the access token is not valid"),
            &[(
                "WWW-Authenticate",
                "`Bearer realm=\"<domain>\", error=\"invalid_token\"` (RFC 6750 §3)",
                "^Bearer realm=\"[A-Za-z0-9][A-Za-z0-9_-]{0,63}\", error=\"invalid_token\"$",
            )],
        ),
    }

    /// The operator token is missing or wrong, or the operator API is disabled
    /// (no `REVOKD_ADMIN_TOKEN`).
    OperatorRefused {
        "401" => error(
            "invalid_token: the operator token is missing or wrong, or REVOKD_ADMIN_TOKEN is not set",
            body("invalid_token", "the operator token is not valid"),
            &[(
                "WWW-Authenticate",
                "`Bearer realm=\"revokd-admin\", error=\"invalid_token\"`",
                "^Bearer realm=\"revokd-admin\", error=\"invalid_token\"$",
            )],
        ),
    }

    /// A JSON request body the endpoint will not read.
    JsonBodyRefused {
        "413" => error(
            "invalid_request: the request body is over 16 KiB",
            body("invalid_request", "the request body is over 16384 bytes"),
            &[],
        ),
        "415" => error(
            "invalid_request: the request body is not `application/json`",
            body("invalid_request", "the request body must be JSON (Content-Type: application/json)"),
            &[],
        ),
    }

    /// A form request body the endpoint will not read.
    FormBodyRefused {
        "413" => error(
            "invalid_request: the request body is over 16 KiB",
            body("invalid_request", "the request body is over 16384 bytes"),
            &[],
        ),
        "415" => error(
            "invalid_request: the request body is not `application/x-www-form-urlencoded`",
            body("invalid_request", "the request body must be application/x-www-form-urlencoded"),
            &[],
        ),
    }

    /// The store cannot answer now; nothing was changed.
    StoreUnavailable {
        "503" => error(
            "temporarily_unavailable: the store cannot be reached; nothing was changed, retry after `Retry-After` seconds",
            body("temporarily_unavailable", "the store is unavailable, retry later"),
            &[("Retry-After", "Seconds to wait before retrying", "^[0-9]+$")],
        ),
    }

    /// `/readyz`: the instance should get no traffic now, and why.
    NotReady {
        "503" => error(
            "temporarily_unavailable: the store is unreachable or its last write failed (on SQLite, until a \
             write commits again); the description says why",
            body("temporarily_unavailable", "not ready: the last SQLite write failed: database or disk is full"),
            &[("Retry-After", "Seconds to wait before retrying", "^[0-9]+$")],
        ),
    }
}
