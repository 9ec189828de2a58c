//! `revokd policy set|show|delete`: a domain's revocation policy (SPEC §3.12) from the
//! command line, through the same service as the operator API (audit actor `cli`).

use std::io::Read;

use anyhow::{Context, bail};
use clap::Subcommand;

use super::admin;
use crate::admin::Actor;
use crate::config::Settings;
use crate::domain::DomainName;
use crate::domain::policy::MAX_EXPRESSION_CHARS;

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Set the domain's policy; the CEL expression is read from standard input (it may
    /// span lines). A syntax error is reported with its line:column.
    Set {
        domain: String,
        /// Store it without running it.
        #[arg(long)]
        disabled: bool,
    },
    /// Print the domain's policy as JSON.
    Show { domain: String },
    /// Remove the domain's policy.
    Delete { domain: String },
}

pub async fn run(settings: &Settings, command: PolicyCommand) -> anyhow::Result<()> {
    match command {
        PolicyCommand::Set { domain, disabled } => {
            let mut expression = String::new();
            std::io::stdin()
                .take(4 * MAX_EXPRESSION_CHARS as u64 + 1)
                .read_to_string(&mut expression)
                .context("cannot read the expression from standard input")?;
            let expression = expression.trim().to_owned();
            if expression.is_empty() {
                bail!("the expression (standard input) is empty");
            }
            let policy = admin(settings)
                .await?
                .set_policy(&DomainName::parse(&domain)?, expression, !disabled, Actor::cli())
                .await?;
            println!("{}", serde_json::to_string_pretty(&policy)?);
        }
        PolicyCommand::Show { domain } => {
            let policy = admin(settings).await?.get_policy(&DomainName::parse(&domain)?).await?;
            println!("{}", serde_json::to_string_pretty(&policy)?);
        }
        PolicyCommand::Delete { domain } => {
            admin(settings)
                .await?
                .delete_policy(&DomainName::parse(&domain)?, Actor::cli())
                .await?;
            println!("{}", serde_json::json!({ "status": "success" }));
        }
    }
    Ok(())
}
