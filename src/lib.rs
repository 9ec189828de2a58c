//! revokd: a multi-tenant OAuth 2.0 token revocation service.
//!
//! The crate is a library so the integration tests can build the real application;
//! `main.rs` only parses the command line and calls into it.

pub mod account;
pub mod admin;
pub mod api_schema;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod http;
pub mod oauth;
pub mod openapi;
pub mod security;
pub mod startup;
pub mod status_lists;
pub mod store;
pub mod telemetry;
pub mod tls;
pub mod tokens;
