//! What `revokd status` tells an operator: each domain with its clients, users and
//! tokens (stored, and live by the one liveness rule).

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Serialize;

use super::{Admin, AdminError};
use crate::domain::revocation::TokenKind;
use crate::on_db;
use crate::store::schema::{clients, tokens, users};
use crate::store::{Db, StoreError, domains, liveness};

#[derive(Debug, Serialize)]
pub struct Status {
    pub domains: Vec<DomainStatus>,
}

#[derive(Debug, Serialize)]
pub struct DomainStatus {
    pub name: String,
    pub clients: i64,
    pub users: i64,
    pub access_tokens: TokenCounts,
    pub refresh_tokens: TokenCounts,
}

/// Rows stored, and how many of them are live now.
#[derive(Debug, Default, Serialize)]
pub struct TokenCounts {
    pub stored: i64,
    pub live: i64,
}

impl Admin {
    /// Every domain, by name, with its counts. Counting live tokens reads every token
    /// row: seconds on tens of millions.
    pub async fn status(&self) -> Result<Status, AdminError> {
        let now = self.clock.now();
        let domains = self
            .store
            .read(move |mut db| {
                Box::pin(async move {
                    let mut all = Vec::new();
                    for domain in domains::list(&mut db).await? {
                        all.push(domain_status(&mut db, domain.id, domain.name, now).await?);
                    }
                    Ok(all)
                })
            })
            .await
            .map_err(AdminError::Store)?;
        Ok(Status { domains })
    }
}

async fn domain_status(
    db: &mut Db<'_>,
    domain_id: i64,
    name: String,
    now: crate::clock::UnixMicros,
) -> Result<DomainStatus, StoreError> {
    let clients: i64 = on_db!(db, |conn| clients::table
        .filter(clients::domain_id.eq(domain_id))
        .count()
        .get_result(conn)
        .await)?;
    let users: i64 = on_db!(db, |conn| users::table
        .filter(users::domain_id.eq(domain_id))
        .count()
        .get_result(conn)
        .await)?;
    let stored: Vec<(TokenKind, i64)> = on_db!(db, |conn| tokens::table
        .filter(tokens::domain_id.eq(domain_id))
        .group_by(tokens::kind)
        .select((tokens::kind, diesel::dsl::count_star()))
        .load(conn)
        .await)?;
    let live: Vec<(TokenKind, i64)> = on_db!(db, |conn| tokens::table
        .filter(tokens::domain_id.eq(domain_id))
        .filter(liveness::live(now))
        .group_by(tokens::kind)
        .select((tokens::kind, diesel::dsl::count_star()))
        .load(conn)
        .await)?;
    let mut status = DomainStatus {
        name,
        clients,
        users,
        access_tokens: TokenCounts::default(),
        refresh_tokens: TokenCounts::default(),
    };
    for (kind, count) in stored {
        counts_of(&mut status, kind).stored = count;
    }
    for (kind, count) in live {
        counts_of(&mut status, kind).live = count;
    }
    Ok(status)
}

fn counts_of(status: &mut DomainStatus, kind: TokenKind) -> &mut TokenCounts {
    match kind {
        TokenKind::Access => &mut status.access_tokens,
        TokenKind::Refresh => &mut status.refresh_tokens,
    }
}
