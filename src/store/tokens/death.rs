//! How a token died, for the operator's look-up (SPEC §3.13): marked itself, or through
//! its family, its consent or a bulk revocation's watermark, whichever came first.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::clock::UnixMicros;
use crate::on_db;
use crate::store::models::TokenRow;
use crate::store::schema::{consents, revocation_watermarks, token_families};
use crate::store::{Db, StoreError};

/// When, by whom (as stored; known only for tokens marked themselves) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Death {
    pub at: UnixMicros,
    pub by: Option<String>,
    pub reason: Option<String>,
}

/// The token's own mark, else the earliest of its family's, its consent's and the
/// watermarks that cover it; `None` for a token no revocation reached.
pub async fn death_of(db: &mut Db<'_>, token: &TokenRow) -> Result<Option<Death>, StoreError> {
    if let Some(at) = token.revoked_at {
        return Ok(Some(Death {
            at,
            by: token.revoked_by.clone(),
            reason: token.revoked_reason.clone(),
        }));
    }
    let domain_id = token.domain_id;
    let mut found: Vec<(UnixMicros, Option<String>)> = Vec::new();
    if let Some(family) = token.family_ref {
        let ended: Option<(Option<i64>, Option<String>)> = on_db!(db, |conn| token_families::table
            .filter(token_families::domain_id.eq(domain_id))
            .filter(token_families::id.eq(family))
            .select((token_families::revoked_at, token_families::revoked_reason))
            .get_result(conn)
            .await
            .optional())?;
        found.extend(ended.and_then(|(at, reason)| Some((at?, reason))));
    }
    if let Some(consent) = token.consent_ref {
        let ended: Option<(Option<i64>, Option<String>)> = on_db!(db, |conn| consents::table
            .filter(consents::domain_id.eq(domain_id))
            .filter(consents::id.eq(consent))
            .select((consents::revoked_at, consents::revoked_reason))
            .get_result(conn)
            .await
            .optional())?;
        found.extend(ended.and_then(|(at, reason)| Some((at?, reason))));
    }
    let watermark: Option<(i64, Option<String>)> = on_db!(db, |conn| revocation_watermarks::table
        .filter(revocation_watermarks::domain_id.eq(domain_id))
        .filter(
            revocation_watermarks::user_ref
                .is_null()
                .or(revocation_watermarks::user_ref.eq(token.user_ref))
        )
        .filter(
            revocation_watermarks::client_ref
                .is_null()
                .or(revocation_watermarks::client_ref.eq(token.client_ref))
        )
        .filter(
            revocation_watermarks::token_kind
                .is_null()
                .or(revocation_watermarks::token_kind.eq(token.kind))
        )
        .filter(revocation_watermarks::revoked_before.gt(token.issued_at))
        .order(revocation_watermarks::created_at.asc())
        .select((revocation_watermarks::created_at, revocation_watermarks::reason))
        .first(conn)
        .await
        .optional())?;
    found.extend(watermark);
    Ok(found
        .into_iter()
        .min_by_key(|(at, _)| *at)
        .map(|(at, reason)| Death { at, by: None, reason }))
}
