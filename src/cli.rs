//! The command line: `revokd serve` (the default) and the operator tasks, which work
//! on the database directly and need no HTTP or admin token.

use std::io::BufRead;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};

use crate::admin::{Actor, Admin};
use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::{ClientId, ClientSpec, ClientType, DomainName, DomainSettings, GrantType, Scope, Scopes, Username};
use crate::security::Password;
use crate::startup::Application;
use crate::store::Store;
use crate::store::migrations::{self, Direction};
use crate::telemetry;

#[derive(Debug, Parser)]
#[command(name = "revokd", version, about = "Multi-tenant OAuth 2.0 token revocation service")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve HTTP (the default). Configuration comes from the environment (README).
    Serve,
    /// Manage identity domains.
    #[command(subcommand)]
    Domain(DomainCommand),
    /// Manage OAuth clients.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage users (resource owners).
    #[command(subcommand)]
    User(UserCommand),
    /// Apply pending migrations (or revert them all).
    Migrate {
        /// Revert every migration: drops all of revokd's tables and data.
        #[arg(long)]
        revert_all: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum DomainCommand {
    /// Create an identity domain.
    Create {
        name: String,
        #[arg(long)]
        access_token_ttl_secs: Option<i64>,
        #[arg(long)]
        refresh_token_ttl_secs: Option<i64>,
        #[arg(long)]
        public_clients_can_revoke: Option<bool>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ClientKind {
    Confidential,
    Public,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Grant {
    ClientCredentials,
    Password,
    RefreshToken,
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client; a confidential client's secret is printed once.
    Create {
        domain: String,
        client_id: String,
        #[arg(long = "type", value_enum, default_value = "confidential")]
        client_type: ClientKind,
        /// A grant the client may use (repeat for several; default depends on --type).
        #[arg(long = "grant", value_enum)]
        grants: Vec<Grant>,
        /// A scope the client may ask for (repeat for several).
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// The client may revoke any token of its domain.
        #[arg(long)]
        domain_admin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from the first line of standard input.
    Create { domain: String, username: String },
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    telemetry::init(settings.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => Application::build(settings).await?.run_until_stopped().await?,
        Command::Migrate { revert_all } => {
            let direction = if revert_all { Direction::DownAll } else { Direction::Up };
            let versions = migrations::run(&settings.database, direction).await?;
            let verb = if revert_all { "reverted" } else { "applied" };
            println!("{}", serde_json::json!({ verb: versions }));
        }
        Command::Domain(DomainCommand::Create {
            name,
            access_token_ttl_secs,
            refresh_token_ttl_secs,
            public_clients_can_revoke,
        }) => {
            let defaults = DomainSettings::default();
            let settings_for_domain = DomainSettings {
                access_token_ttl_secs: access_token_ttl_secs.unwrap_or(defaults.access_token_ttl_secs),
                refresh_token_ttl_secs: refresh_token_ttl_secs.unwrap_or(defaults.refresh_token_ttl_secs),
                public_clients_can_revoke: public_clients_can_revoke.unwrap_or(defaults.public_clients_can_revoke),
            };
            for ttl in [
                settings_for_domain.access_token_ttl_secs,
                settings_for_domain.refresh_token_ttl_secs,
            ] {
                if !DomainSettings::ttl_is_valid(ttl) {
                    bail!("TTLs must be from 1 to {} seconds", DomainSettings::MAX_TTL_SECS);
                }
            }
            let domain = admin(&settings)
                .await?
                .create_domain(DomainName::parse(&name)?, settings_for_domain, Actor::cli())
                .await?;
            println!("{}", serde_json::to_string_pretty(&domain)?);
        }
        Command::Client(ClientCommand::Create {
            domain,
            client_id,
            client_type,
            grants,
            scopes,
            domain_admin,
        }) => {
            let spec = ClientSpec {
                client_id: ClientId::parse(&client_id)?,
                client_type: match client_type {
                    ClientKind::Confidential => ClientType::Confidential,
                    ClientKind::Public => ClientType::Public,
                },
                grant_types: (!grants.is_empty()).then(|| {
                    grants
                        .iter()
                        .map(|g| match g {
                            Grant::ClientCredentials => GrantType::ClientCredentials,
                            Grant::Password => GrantType::Password,
                            Grant::RefreshToken => GrantType::RefreshToken,
                        })
                        .collect()
                }),
                scopes: Scopes::new(scopes.iter().map(|s| Scope::parse(s)).collect::<Result<Vec<_>, _>>()?)?,
                domain_admin,
            };
            let created = admin(&settings)
                .await?
                .create_client(&DomainName::parse(&domain)?, spec, Actor::cli())
                .await?;
            println!("{}", serde_json::to_string_pretty(&created)?);
        }
        Command::User(UserCommand::Create { domain, username }) => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("cannot read the password from standard input")?;
            let password = line.trim_end_matches(['\r', '\n']).to_owned();
            if password.is_empty() || password.chars().count() > 1024 {
                bail!("the password (first line of standard input) must be 1 to 1024 characters");
            }
            let user = admin(&settings)
                .await?
                .create_user(
                    &DomainName::parse(&domain)?,
                    Username::parse(&username)?,
                    Password::new(password),
                    Actor::cli(),
                )
                .await?;
            println!("{}", serde_json::to_string_pretty(&user)?);
        }
    }
    Ok(())
}

async fn admin(settings: &Settings) -> anyhow::Result<Admin> {
    let store = Store::open(&settings.database, &settings.store)
        .await
        .with_context(|| format!("cannot open the store at {}", settings.database))?;
    Ok(Admin::new(store, Clock::system()))
}
