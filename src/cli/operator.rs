//! The operator's commands for a running deployment, straight on the database:
//! `revokd status` and `revokd revoke` (SPEC §3.8; for operators without HTTP access).

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde_json::json;

use super::{admin, read_secret_line};
use crate::admin::{Actor, BulkSpec};
use crate::clock;
use crate::config::Settings;
use crate::domain::revocation::{Reason, RevokeLevel, TokenKind};
use crate::domain::{ClientId, DomainName, Username};
use crate::store::migrations;
use crate::tokens::PlainToken;

#[derive(Debug, Subcommand)]
pub enum RevokeCommand {
    /// Revoke one token of the domain, read from the first line of standard input (never
    /// an argument: those show in process lists and shell histories).
    Token {
        domain: String,
        /// NONE, RELATED_TOKENS or RELATED_CONSENT (default: RFC 7009's, a refresh
        /// token takes its family with it).
        #[arg(long, value_parser = parse_level)]
        level: Option<RevokeLevel>,
        #[command(flatten)]
        common: Common,
    },
    /// Revoke every live token of a user, a client, or a user at a client, by watermark.
    Bulk {
        domain: String,
        #[arg(long)]
        username: Option<String>,
        #[arg(long)]
        client_id: Option<String>,
        /// TOKENS (both kinds, the default), ACCESS_TOKENS or REFRESH_TOKENS.
        #[arg(long = "type", value_parser = parse_revoke_type, default_value = "TOKENS")]
        kind: RevokeType,
        /// Only tokens issued before this instant (RFC 3339; default and at most now).
        #[arg(long)]
        issued_before: Option<String>,
        /// Also withdraw the matching consents, and every token under them.
        #[arg(long)]
        revoke_consents: bool,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Debug, Args)]
pub struct Common {
    /// Kept on the revoked rows and in the audit event (1–200 characters).
    #[arg(long)]
    reason: Option<String>,
    /// Count what would be revoked; change nothing.
    #[arg(long)]
    dry_run: bool,
}

impl Common {
    fn reason(&self) -> anyhow::Result<Option<Reason>> {
        self.reason
            .as_deref()
            .map(|r| Reason::parse(r).map_err(|e| anyhow::anyhow!("--reason: {e}")))
            .transpose()
    }
}

/// `revokd revoke token|bulk`: prints what was (or would be) revoked.
pub async fn revoke(settings: &Settings, command: RevokeCommand) -> anyhow::Result<()> {
    match command {
        RevokeCommand::Token { domain, level, common } => {
            let token = PlainToken::new(read_secret_line("the token")?);
            let revoked = admin(settings)
                .await?
                .revoke_token(
                    &DomainName::parse(&domain)?,
                    token,
                    level,
                    common.reason()?,
                    common.dry_run,
                    Actor::cli(),
                )
                .await?;
            let answer = json!({
                "dry_run": common.dry_run,
                "revoked_tokens": revoked.total(),
                "revoked": revoked,
                "revoked_consents": revoked.consents,
            });
            println!("{}", serde_json::to_string_pretty(&answer)?);
        }
        RevokeCommand::Bulk {
            domain,
            username,
            client_id,
            kind,
            issued_before,
            revoke_consents,
            common,
        } => {
            let issued_before = issued_before
                .map(|raw| clock::parse_rfc3339(&raw).with_context(|| format!("--issued-before {raw:?}: not RFC 3339")))
                .transpose()?;
            let spec = BulkSpec {
                username: username.as_deref().map(Username::parse).transpose()?,
                client_id: client_id.as_deref().map(ClientId::parse).transpose()?,
                kind: kind.0,
                issued_before,
                revoke_consents,
                reason: common.reason()?,
                dry_run: common.dry_run,
            };
            let count = admin(settings)
                .await?
                .bulk_revoke(&DomainName::parse(&domain)?, spec, Actor::cli())
                .await?;
            let answer = json!({ "dry_run": common.dry_run, "revoked_tokens": count });
            println!("{}", serde_json::to_string_pretty(&answer)?);
        }
    }
    Ok(())
}

/// `revokd status`: the store, its migrations, every domain's counts; exits non-zero
/// when the store cannot be reached or migrations are pending (this command applies
/// none, so it never changes the schema).
pub async fn status(settings: &Settings) -> anyhow::Result<()> {
    let backend = match settings.database {
        crate::store::DatabaseUrl::Sqlite(_) => "sqlite",
        crate::store::DatabaseUrl::Postgres(_) => "postgres",
    };
    let (applied, pending) = match migrations::status(&settings.database).await {
        Ok(versions) => versions,
        Err(e) => {
            let answer = json!({"store": {"backend": backend, "reachable": false, "error": e.to_string()}});
            println!("{}", serde_json::to_string_pretty(&answer)?);
            bail!("the store at {} cannot be reached", settings.database);
        }
    };
    let mut answer = json!({
        "store": {"backend": backend, "reachable": true},
        "migrations": {"applied": applied.len(), "pending": pending},
    });
    if !pending.is_empty() {
        println!("{}", serde_json::to_string_pretty(&answer)?);
        bail!("migrations are pending: `revokd migrate` (or start the service) applies them");
    }
    answer["domains"] = serde_json::to_value(admin(settings).await?.status().await?.domains)?;
    println!("{}", serde_json::to_string_pretty(&answer)?);
    Ok(())
}

fn parse_level(raw: &str) -> Result<RevokeLevel, String> {
    crate::domain::revocation::parse_closed("--level", raw, &["NONE", "RELATED_TOKENS", "RELATED_CONSENT"])
}

/// The kinds a bulk revocation reaches; `None`: both.
#[derive(Debug, Clone, Copy)]
pub struct RevokeType(Option<TokenKind>);

fn parse_revoke_type(raw: &str) -> Result<RevokeType, String> {
    match raw {
        "TOKENS" => Ok(RevokeType(None)),
        "ACCESS_TOKENS" => Ok(RevokeType(Some(TokenKind::Access))),
        "REFRESH_TOKENS" => Ok(RevokeType(Some(TokenKind::Refresh))),
        _ => Err("expected TOKENS, ACCESS_TOKENS or REFRESH_TOKENS".into()),
    }
}
