//! Black-box tests: the real application on a real port, on SQLite and PostgreSQL.

mod helpers;

mod admin_clients;
mod admin_domains;
mod admin_users;
mod audit;
mod errors;
mod metadata;
mod migrations;
mod operations;
mod revoke;
mod secrets;
mod token;
