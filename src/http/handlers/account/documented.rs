//! The account page in the OpenAPI document: its forms and its answers, every one of
//! them HTML (errors included: a person reads them), grouped as the handlers answer.

use std::collections::BTreeMap;

use utoipa::openapi::{ContentBuilder, ObjectBuilder, RefOr, Response, ResponseBuilder, Type};
use utoipa::{IntoResponses, ToSchema};

use crate::http::error::documented::{HeaderDoc, groups, with_headers};

pub const RETRY_AFTER: HeaderDoc = ("Retry-After", "Seconds to wait before retrying", "^[1-9][0-9]*$");

pub fn html(description: &str, headers: &[HeaderDoc]) -> RefOr<Response> {
    let response = ResponseBuilder::new().description(description).content(
        "text/html",
        ContentBuilder::new()
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .build(),
    );
    with_headers(response, headers)
}

groups! {
    /// What any account-page request may be answered when it cannot be served.
    PageRefused {
        "400" => html("A plain error page: the identity domain is missing or malformed, or the form cannot be read \
            (a parameter repeated, empty or missing); nothing was changed", &[]),
        "404" => html("A plain error page: no such identity domain (or, for an application, no active consent of \
            the signed-in user with that id); nothing was changed", &[]),
        "503" => html("A plain error page: the store cannot be reached; nothing was changed", &[RETRY_AFTER]),
    }

    /// A form post refused before anything was checked.
    FormRefused {
        "403" => html("A plain page: the CSRF token is not this page's (a forged or stale form), the session has \
            ended, or (sign-in) the username or password is wrong, with the form again; nothing was changed", &[]),
        "413" => html("A plain error page: the form is over 16 KiB", &[]),
        "415" => html("A plain error page: the body is not `application/x-www-form-urlencoded`", &[]),
    }
}

/// The sign-in form.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SignInForm {
    #[schema(min_length = 1, max_length = 255, example = "alice")]
    username: String,
    /// At most 1024 bytes.
    #[schema(format = Password, min_length = 1, max_length = 1024)]
    password: String,
    /// The token of the sign-in form, from the page that showed it.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    csrf_token: String,
}

/// A signed-in form: only the session's CSRF token.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SessionForm {
    /// The session's CSRF token, from the page that showed the form.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    csrf_token: String,
}
