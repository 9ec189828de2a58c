//! The command line: `revokd serve` (the default) and the operator tasks, which work
//! on the database directly and need no HTTP or admin token.

use std::io::BufRead;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use crate::admin::{Actor, Admin};
use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::{ClientId, ClientType, DomainName, DomainSettings, GrantType, Username};
use crate::security::Password;
use crate::startup::Application;
use crate::store::Store;
use crate::store::migrations::{self, Direction};
use crate::telemetry;
use directory::{create_client, create_domain, create_user, issue_token, parse_client_type, parse_grant, set_disabled};

mod directory;
mod operator;
mod policy;

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
    /// Issue tokens, for trying the service out.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Exit 0 when this instance answers `GET /healthz` with 200 on `REVOKD_LISTEN`
    /// (loopback when it listens on every address), 1 otherwise: a container
    /// `HEALTHCHECK` needs no other program in the image. Plain HTTP only.
    Healthcheck,
    /// Whether the store is reachable and migrated, and every domain's clients, users
    /// and tokens (stored and live), as JSON; exits 1 when unreachable or not migrated.
    Status,
    /// Revoke a token, or every token of a user or client, through the revocation
    /// pipeline (audit actor `cli`); `--dry-run` counts and changes nothing.
    #[command(subcommand)]
    Revoke(operator::RevokeCommand),
    /// Set, show or remove a domain's revocation policy (CEL, SPEC §3.12).
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
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
        /// Seconds in which a confidential client may retry a refresh (0: never).
        #[arg(long)]
        refresh_token_grace_secs: Option<i64>,
        /// Seconds resource servers may cache a status list (1 to 86400).
        #[arg(long)]
        status_list_ttl_secs: Option<i64>,
        /// Whether a password change revokes the user's tokens (default true).
        #[arg(long)]
        revoke_on_password_change: Option<bool>,
        #[arg(long)]
        public_clients_can_revoke: Option<bool>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client; a confidential client's secret is printed once.
    Create {
        domain: String,
        client_id: String,
        /// confidential or public.
        #[arg(long = "type", value_parser = parse_client_type, default_value = "confidential")]
        client_type: ClientType,
        /// client_credentials, password or refresh_token (repeat for several; default
        /// depends on --type).
        #[arg(long = "grant", value_parser = parse_grant)]
        grants: Vec<GrantType>,
        /// A scope the client may ask for (repeat for several).
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// The client may revoke any token of its domain.
        #[arg(long)]
        domain_admin: bool,
    },
    /// Give a confidential client a new secret (printed once); the old one stops
    /// working at once and the client's tokens are revoked, unless --keep-tokens.
    RotateSecret {
        domain: String,
        client_id: String,
        #[arg(long)]
        keep_tokens: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from the first line of standard input.
    Create { domain: String, username: String },
    /// Set a user's password (first line of standard input); their tokens are revoked
    /// unless the domain's revoke_on_password_change is false.
    Password { domain: String, username: String },
    /// Disable a user: no new tokens, and every token they hold dies at once.
    Disable { domain: String, username: String },
    /// Enable a disabled user again (their old tokens stay dead).
    Enable { domain: String, username: String },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue tokens to a client of the domain, as its token endpoint would, without the
    /// client's secret. With --username, a password grant (the password is read from
    /// the first line of standard input); otherwise client_credentials.
    Issue {
        domain: String,
        client_id: String,
        #[arg(long)]
        username: Option<String>,
        /// A scope to ask for (repeat for several; default all the client may have).
        #[arg(long = "scope")]
        scopes: Vec<String>,
    },
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    telemetry::init(settings.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::Healthcheck => healthcheck(&settings).await,
        Command::Status => operator::status(&settings).await,
        Command::Revoke(command) => operator::revoke(&settings, command).await,
        Command::Policy(command) => policy::run(&settings, command).await,
        Command::Migrate { revert_all } => migrate(&settings, revert_all).await,
        Command::Domain(DomainCommand::Create {
            name,
            access_token_ttl_secs,
            refresh_token_ttl_secs,
            refresh_token_grace_secs,
            status_list_ttl_secs,
            revoke_on_password_change,
            public_clients_can_revoke,
        }) => {
            let defaults = DomainSettings::default();
            let domain_settings = DomainSettings {
                access_token_ttl_secs: access_token_ttl_secs.unwrap_or(defaults.access_token_ttl_secs),
                refresh_token_ttl_secs: refresh_token_ttl_secs.unwrap_or(defaults.refresh_token_ttl_secs),
                refresh_token_grace_secs: refresh_token_grace_secs.unwrap_or(defaults.refresh_token_grace_secs),
                status_list_ttl_secs: status_list_ttl_secs.unwrap_or(defaults.status_list_ttl_secs),
                revoke_on_password_change: revoke_on_password_change.unwrap_or(defaults.revoke_on_password_change),
                public_clients_can_revoke: public_clients_can_revoke.unwrap_or(defaults.public_clients_can_revoke),
            };
            create_domain(&settings, &name, domain_settings).await
        }
        Command::Client(ClientCommand::Create {
            domain,
            client_id,
            client_type,
            grants,
            scopes,
            domain_admin,
        }) => {
            create_client(
                &settings,
                &domain,
                &client_id,
                client_type,
                grants,
                &scopes,
                domain_admin,
            )
            .await
        }
        Command::User(UserCommand::Create { domain, username }) => create_user(&settings, &domain, &username).await,
        Command::User(UserCommand::Password { domain, username }) => {
            let password = Password::new(read_password()?);
            let (domain, username) = (DomainName::parse(&domain)?, Username::parse(&username)?);
            let revoked = admin(&settings)
                .await?
                .set_password(&domain, &username, password, Actor::cli())
                .await?;
            println!(
                "{}",
                serde_json::json!({ "status": "success", "revoked_tokens": revoked })
            );
            Ok(())
        }
        Command::User(UserCommand::Disable { domain, username }) => {
            set_disabled(&settings, &domain, &username, true).await
        }
        Command::User(UserCommand::Enable { domain, username }) => {
            set_disabled(&settings, &domain, &username, false).await
        }
        Command::Client(ClientCommand::RotateSecret {
            domain,
            client_id,
            keep_tokens,
        }) => {
            let rotated = admin(&settings)
                .await?
                .rotate_secret(
                    &DomainName::parse(&domain)?,
                    &ClientId::parse(&client_id)?,
                    !keep_tokens,
                    Actor::cli(),
                )
                .await?;
            println!("{}", serde_json::to_string_pretty(&rotated)?);
            Ok(())
        }
        Command::Token(TokenCommand::Issue {
            domain,
            client_id,
            username,
            scopes,
        }) => issue_token(&settings, &domain, &client_id, username, &scopes).await,
    }
}

/// `revokd serve`.
async fn serve(settings: Settings) -> anyhow::Result<()> {
    Application::build(settings).await?.run_until_stopped().await?;
    Ok(())
}

/// `revokd healthcheck`: one `GET /healthz`, three seconds at most.
async fn healthcheck(settings: &Settings) -> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    if settings.tls.is_some() {
        bail!("REVOKD_TLS_CERT is set: probe https://…/healthz from outside instead");
    }
    let mut address = settings.listen;
    if address.ip().is_unspecified() {
        address.set_ip(match address {
            std::net::SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    let probe = async {
        let mut stream = tokio::net::TcpStream::connect(address).await?;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await?;
        std::io::Result::Ok(head)
    };
    let head = tokio::time::timeout(std::time::Duration::from_secs(3), probe)
        .await
        .with_context(|| format!("no answer from {address} within 3 s"))?
        .with_context(|| format!("cannot reach {address}"))?;
    if &head[9..12] != b"200" {
        bail!("{address} answered {}", String::from_utf8_lossy(&head));
    }
    Ok(())
}

/// `revokd migrate [--revert-all]`: prints the versions applied or reverted.
async fn migrate(settings: &Settings, revert_all: bool) -> anyhow::Result<()> {
    let direction = if revert_all { Direction::DownAll } else { Direction::Up };
    let versions = migrations::run(&settings.database, direction).await?;
    let verb = if revert_all { "reverted" } else { "applied" };
    println!("{}", serde_json::json!({ verb: versions }));
    Ok(())
}

fn read_password() -> anyhow::Result<String> {
    read_secret_line("the password")
}

/// The first line of standard input, 1 to 1024 characters: how secrets (a password, a
/// token) reach the CLI, never as arguments.
fn read_secret_line(what: &str) -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .with_context(|| format!("cannot read {what} from standard input"))?;
    let secret = line.trim_end_matches(['\r', '\n']).to_owned();
    if secret.is_empty() || secret.chars().count() > 1024 {
        bail!("{what} (first line of standard input) must be 1 to 1024 characters");
    }
    Ok(secret)
}

async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    Store::open(&settings.database, &settings.store)
        .await
        .with_context(|| format!("cannot open the store at {}", settings.database))
}

async fn admin(settings: &Settings) -> anyhow::Result<Admin> {
    Ok(Admin::new(open_store(settings).await?, Clock::system()))
}
