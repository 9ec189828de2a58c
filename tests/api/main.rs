//! Black-box tests: the real application on a real port, on SQLite and PostgreSQL.

mod helpers;

mod admin_clients;
mod admin_domains;
mod admin_users;
mod audit;
mod batching;
mod brute_force;
mod bulk;
mod cli;
mod consents;
mod crash;
mod directory;
mod errors;
mod global_revocation;
mod hostile;
mod instances;
mod introspect;
mod liveness;
mod metadata;
mod migrations;
mod operations;
mod outage;
mod process;
mod races;
mod revoke;
mod scale;
mod secrets;
mod security_events;
mod shutdown;
mod slow_clients;
mod status_list_reader;
mod status_lists;
mod store_schema;
mod token;
mod token_lookup;
