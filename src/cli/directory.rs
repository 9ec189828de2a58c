//! The directory's commands (`revokd domain|client|user create`, `user disable|enable`,
//! `token issue`): what the operator API does, on the database directly.

use std::sync::Arc;

use anyhow::{Context, bail};

use super::{admin, open_store, read_password};
use crate::admin::Actor;
use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::{ClientId, ClientSpec, ClientType, DomainName, DomainSettings, GrantType, Scope, Scopes, Username};
use crate::oauth::{Grant, KeyRing, TokenResponse, TokenService, client_auth};
use crate::security::Password;

/// `revokd domain create`; a setting left out has taken its default.
pub(super) async fn create_domain(
    settings: &Settings,
    name: &str,
    settings_for_domain: DomainSettings,
) -> anyhow::Result<()> {
    if !(0..=DomainSettings::MAX_GRACE_SECS).contains(&settings_for_domain.refresh_token_grace_secs) {
        bail!(
            "the refresh token grace must be from 0 to {} seconds",
            DomainSettings::MAX_GRACE_SECS
        );
    }
    if !DomainSettings::status_list_ttl_is_valid(settings_for_domain.status_list_ttl_secs) {
        bail!(
            "the status list TTL must be from 1 to {} seconds",
            DomainSettings::MAX_STATUS_LIST_TTL_SECS
        );
    }
    for ttl in [
        settings_for_domain.access_token_ttl_secs,
        settings_for_domain.refresh_token_ttl_secs,
    ] {
        if !DomainSettings::ttl_is_valid(ttl) {
            bail!("TTLs must be from 1 to {} seconds", DomainSettings::MAX_TTL_SECS);
        }
    }
    let domain = admin(settings)
        .await?
        .create_domain(DomainName::parse(name)?, settings_for_domain, Actor::cli())
        .await?;
    println!("{}", serde_json::to_string_pretty(&domain)?);
    Ok(())
}

/// `revokd client create`: prints the client, with its secret when confidential.
pub(super) async fn create_client(
    settings: &Settings,
    domain: &str,
    client_id: &str,
    client_type: ClientType,
    grants: Vec<GrantType>,
    scopes: &[String],
    domain_admin: bool,
) -> anyhow::Result<()> {
    let spec = ClientSpec {
        client_id: ClientId::parse(client_id)?,
        client_type,
        grant_types: (!grants.is_empty()).then_some(grants),
        scopes: scopes_of(scopes)?,
        domain_admin,
    };
    let created = admin(settings)
        .await?
        .create_client(&DomainName::parse(domain)?, spec, Actor::cli())
        .await?;
    println!("{}", serde_json::to_string_pretty(&created)?);
    Ok(())
}

/// `revokd user create`, the password from standard input.
pub(super) async fn create_user(settings: &Settings, domain: &str, username: &str) -> anyhow::Result<()> {
    let password = read_password()?;
    let user = admin(settings)
        .await?
        .create_user(
            &DomainName::parse(domain)?,
            Username::parse(username)?,
            Password::new(password),
            Actor::cli(),
        )
        .await?;
    println!("{}", serde_json::to_string_pretty(&user)?);
    Ok(())
}

/// `revokd user disable|enable`: prints the user.
pub(super) async fn set_disabled(
    settings: &Settings,
    domain: &str,
    username: &str,
    disabled: bool,
) -> anyhow::Result<()> {
    let user = admin(settings)
        .await?
        .set_disabled(
            &DomainName::parse(domain)?,
            &Username::parse(username)?,
            disabled,
            Actor::cli(),
        )
        .await?;
    println!("{}", serde_json::to_string_pretty(&user)?);
    Ok(())
}

/// `revokd token issue`: a password grant with `username` (password from standard
/// input), else client_credentials.
pub(super) async fn issue_token(
    settings: &Settings,
    domain: &str,
    client_id: &str,
    username: Option<String>,
    scopes: &[String],
) -> anyhow::Result<()> {
    let domain = DomainName::parse(domain)?;
    let scope = (!scopes.is_empty()).then(|| scopes_of(scopes)).transpose()?;
    let grant = match username {
        Some(username) => Grant::Password {
            username,
            password: Password::new(read_password()?),
            scope,
        },
        None => Grant::ClientCredentials { scope },
    };
    let store = open_store(settings).await?;
    let client = client_auth::without_credentials(&store, &domain, client_id)
        .await?
        .with_context(|| format!("no client '{client_id}' in identity domain '{domain}'"))?;
    let base = match &settings.public_url {
        Some(url) => url.as_str().trim_end_matches('/').to_owned(),
        None => format!(
            "{}://{}",
            if settings.tls.is_some() { "https" } else { "http" },
            settings.listen
        ),
    };
    let service = TokenService::new(store, Clock::system(), Arc::new(KeyRing::default()));
    let issued = service
        .issue(&client, &format!("{base}/domains/{domain}"), grant, None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{}", serde_json::to_string_pretty(&TokenResponse::from(issued))?);
    Ok(())
}

pub(super) fn scopes_of(raw: &[String]) -> anyhow::Result<Scopes> {
    Ok(Scopes::new(
        raw.iter().map(|s| Scope::parse(s)).collect::<Result<Vec<_>, _>>()?,
    )?)
}

pub(super) fn parse_client_type(raw: &str) -> Result<ClientType, String> {
    ClientType::parse(raw).ok_or_else(|| "expected confidential or public".into())
}

pub(super) fn parse_grant(raw: &str) -> Result<GrantType, String> {
    GrantType::parse(raw).ok_or_else(|| "expected client_credentials, password or refresh_token".into())
}
