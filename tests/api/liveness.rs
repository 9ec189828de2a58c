//! The one liveness rule (`store::liveness`): its SQL fragment and its Rust predicate
//! agree on every combination of the facts, on both backends. Tokens are written
//! straight into the store here, to reach states no API sequence reaches in one go.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use revokd::clock::{MICROS_PER_SEC, UnixMicros};
use revokd::domain::revocation::TokenKind;
use revokd::on_db;
use revokd::security::Sha256Digest;
use revokd::store::models::{NewConsent, NewFamily, NewToken};
use revokd::store::schema::{consents, revocation_watermarks, token_families, tokens};
use revokd::store::{Db, Store, StoreError, clients, domains, liveness, users};
use serde_json::json;

use crate::both_backends;
use crate::helpers::TestApp;

/// The parent rows a token can hang from: a family and a consent that are open, a
/// family and a consent that are dead, and a client with a watermark.
struct Parents {
    domain_id: i64,
    client: i64,
    watermarked_client: i64,
    user: i64,
    open_family: i64,
    revoked_family: i64,
    active_consent: i64,
    withdrawn_consent: i64,
}

/// One token of the grid and whether the rule should call it live.
struct Case {
    id: i64,
    hash: Sha256Digest,
    label: String,
    expected: bool,
}

async fn parents(app: &TestApp, now: UnixMicros) -> Parents {
    let domain = app.create_domain().await;
    let grants = json!(["password", "refresh_token", "client_credentials"]);
    for id in ["web", "other", "third"] {
        app.create_client(
            &domain,
            json!({"client_id": id, "grant_types": grants, "scopes": ["openid"]}),
        )
        .await;
    }
    app.create_user(&domain, "alice", "correct horse").await;
    app.store
        .write(move |mut db| {
            Box::pin(async move {
                let domain_id = domains::find_by_name(&mut db, &domain)
                    .await?
                    .ok_or(StoreError::NotFound)?
                    .id;
                let client_ref =
                    |row: Option<revokd::store::models::ClientRow>| row.map(|c| c.id).ok_or(StoreError::NotFound);
                let client = client_ref(clients::find(&mut db, domain_id, "web").await?)?;
                let watermarked_client = client_ref(clients::find(&mut db, domain_id, "other").await?)?;
                let third = client_ref(clients::find(&mut db, domain_id, "third").await?)?;
                let user = users::find(&mut db, domain_id, "alice")
                    .await?
                    .ok_or(StoreError::NotFound)?
                    .id;
                let public_ids = ["a".repeat(32), "b".repeat(32)];
                let consent = |client_ref, public_id: &'static str| NewConsent {
                    domain_id,
                    user_ref: user,
                    client_ref,
                    scopes: "openid",
                    granted_at: now,
                    public_id,
                };
                let [first_id, second_id] = public_ids.map(|id| &*Box::leak(id.into_boxed_str()));
                let active_consent = revokd::store::consents::insert(&mut db, &consent(client, first_id))
                    .await?
                    .id;
                let withdrawn_consent = revokd::store::consents::insert(&mut db, &consent(third, second_id))
                    .await?
                    .id;
                let family = NewFamily {
                    domain_id,
                    client_ref: client,
                    user_ref: Some(user),
                    consent_ref: None,
                    created_at: now,
                };
                let open_family = revokd::store::tokens::insert_family(&mut db, &family).await?;
                let revoked_family = revokd::store::tokens::insert_family(&mut db, &family).await?;
                on_db!(&mut db, |conn| {
                    diesel::update(consents::table.filter(consents::id.eq(withdrawn_consent)))
                        .set(consents::revoked_at.eq(now))
                        .execute(conn)
                        .await?;
                    diesel::update(token_families::table.filter(token_families::id.eq(revoked_family)))
                        .set(token_families::revoked_at.eq(now))
                        .execute(conn)
                        .await?;
                    diesel::insert_into(revocation_watermarks::table)
                        .values((
                            revocation_watermarks::domain_id.eq(domain_id),
                            revocation_watermarks::user_ref.eq(None::<i64>),
                            revocation_watermarks::client_ref.eq(Some(watermarked_client)),
                            revocation_watermarks::token_kind.eq(None::<TokenKind>),
                            revocation_watermarks::revoked_before.eq(now),
                            revocation_watermarks::reason.eq(None::<String>),
                            revocation_watermarks::created_at.eq(now),
                        ))
                        .execute(conn)
                        .await
                })?;
                Ok(Parents {
                    domain_id,
                    client,
                    watermarked_client,
                    user,
                    open_family,
                    revoked_family,
                    active_consent,
                    withdrawn_consent,
                })
            })
        })
        .await
        .expect("parents written")
}

/// Every combination of the six facts, one token each.
async fn grid(store: &Store, p: &Parents, now: UnixMicros) -> Vec<Case> {
    let mut specs = Vec::new();
    for revoked in [false, true] {
        for rotated in [false, true] {
            for expired in [false, true] {
                for family in [None, Some(false), Some(true)] {
                    for consent in [None, Some(false), Some(true)] {
                        for watermarked in [false, true] {
                            specs.push((revoked, rotated, expired, family, consent, watermarked));
                        }
                    }
                }
            }
        }
    }
    let rows: Vec<(String, Sha256Digest, bool, NewTokenSpec)> = specs
        .into_iter()
        .enumerate()
        .map(|(n, (revoked, rotated, expired, family, consent, watermarked))| {
            let label = format!(
                "revoked={revoked} rotated={rotated} expired={expired} family_revoked={family:?} consent_withdrawn={consent:?} watermarked={watermarked}"
            );
            let expected = !revoked
                && !rotated
                && !expired
                && family != Some(true)
                && consent != Some(true)
                && !watermarked;
            let spec = NewTokenSpec {
                client: if watermarked { p.watermarked_client } else { p.client },
                family: family.map(|dead| if dead { p.revoked_family } else { p.open_family }),
                consent: consent.map(|dead| if dead { p.withdrawn_consent } else { p.active_consent }),
                issued_at: now - MICROS_PER_SEC,
                expires_at: if expired { now - 1 } else { now + 3600 * MICROS_PER_SEC },
                revoked_at: revoked.then_some(now - 1),
                rotated_at: rotated.then_some(now - 1),
            };
            (label, Sha256Digest::of(format!("liveness-token-{n}").as_bytes()), expected, spec)
        })
        .collect();
    let (domain_id, user) = (p.domain_id, p.user);
    let to_write: Vec<(Sha256Digest, NewTokenSpec)> = rows.iter().map(|(_, h, _, s)| (*h, s.clone())).collect();
    let ids = store
        .write(move |mut db| {
            Box::pin(async move {
                let mut ids = Vec::new();
                for (n, (hash, spec)) in to_write.iter().enumerate() {
                    let jti = format!("jti-{n}");
                    let id = revokd::store::tokens::insert(
                        &mut db,
                        &NewToken {
                            domain_id,
                            kind: TokenKind::Refresh,
                            token_hash: hash.as_bytes(),
                            jti: &jti,
                            family_ref: spec.family,
                            parent_ref: None,
                            client_ref: spec.client,
                            user_ref: Some(user),
                            consent_ref: spec.consent,
                            scopes: "openid",
                            issued_at: spec.issued_at,
                            expires_at: spec.expires_at,
                            status_list: None,
                            status_idx: None,
                        },
                    )
                    .await?;
                    let (revoked_at, rotated_at) = (spec.revoked_at, spec.rotated_at);
                    on_db!(&mut db, |conn| diesel::update(tokens::table.filter(tokens::id.eq(id)))
                        .set((tokens::revoked_at.eq(revoked_at), tokens::rotated_at.eq(rotated_at)))
                        .execute(conn)
                        .await)?;
                    ids.push(id);
                }
                Ok(ids)
            })
        })
        .await
        .expect("tokens written");
    rows.into_iter()
        .zip(ids)
        .map(|((label, hash, expected, _), id)| Case {
            id,
            hash,
            label,
            expected,
        })
        .collect()
}

#[derive(Clone)]
struct NewTokenSpec {
    client: i64,
    family: Option<i64>,
    consent: Option<i64>,
    issued_at: UnixMicros,
    expires_at: UnixMicros,
    revoked_at: Option<UnixMicros>,
    rotated_at: Option<UnixMicros>,
}

/// The ids of `domain_id`'s tokens the SQL fragment calls live.
async fn live_by_sql(store: &Store, domain_id: i64, now: UnixMicros) -> Vec<i64> {
    store
        .read(move |mut db: Db<'_>| {
            Box::pin(async move {
                Ok(on_db!(&mut db, |conn| tokens::table
                    .filter(tokens::domain_id.eq(domain_id))
                    .filter(liveness::live(now))
                    .select(tokens::id)
                    .load::<i64>(conn)
                    .await)?)
            })
        })
        .await
        .expect("live tokens counted")
}

both_backends! {
    async fn sql_and_rust_agree_on_every_combination_of_facts(app) {
        let now = app.clock.now();
        let parents = parents(&app, now).await;
        let cases = grid(&app.store, &parents, now).await;
        assert_eq!(cases.len(), 144);
        let by_sql = live_by_sql(&app.store, parents.domain_id, now).await;
        let mut live = 0;
        for case in &cases {
            let view = app.store.token(parents.domain_id, case.hash).await.expect("look-up").expect("token found");
            assert_eq!(view.is_live(now), case.expected, "Rust predicate: {}", case.label);
            assert_eq!(by_sql.contains(&case.id), case.expected, "SQL fragment: {}", case.label);
            live += usize::from(case.expected);
        }
        // Live: nothing set, with or without an open family and an active consent.
        assert_eq!(live, 4);
        assert_eq!(by_sql.len(), 4);
    }
}
