//! The token look-up with arbitrary bytes as the presented token, through the public
//! paths that take one: `Store::token` (by the digest of the string, and by a raw
//! 32-byte digest), introspection (RFC 7662) and revocation (RFC 7009).
//!
//! One SQLite store on a temporary file, opened once, holds two domains, `acme` and
//! `other`, each with a confidential client `api`, and one live access token of acme's
//! client whose string is [`KNOWN`] (the seed corpus starts the fuzzer next to it).
//! Checks: never a panic or a store error; only `KNOWN` in acme is found or active
//! (with what it was stored with); another domain never sees it and revoking it from
//! there is a no-op; revoking anything else is a no-op.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use revokd::admin::{Actor, Admin};
use revokd::clock::{Clock, MICROS_PER_SEC};
use revokd::domain::revocation::{RevocationEndpoint, RevokeLevel, TokenTypeParam};
use revokd::domain::{ClientId, ClientSpec, ClientType, DomainName, DomainSettings, Scopes};
use revokd::oauth::client_auth::{self, AuthenticatedClient};
use revokd::oauth::introspection;
use revokd::oauth::revocation::{self, LevelChoice, RevocationRequest};
use revokd::security::Sha256Digest;
use revokd::store::tokens::ClientToken;
use revokd::store::{DatabaseUrl, Store, StoreOptions};
use revokd::tokens::PlainToken;

/// The one token the store holds.
const KNOWN: &str = "revokd-fuzz-known-token";
const JTI: &str = "revokd-fuzz-jti";
const ISSUER: &str = "http://127.0.0.1:8080/domains/acme";

struct World {
    runtime: tokio::runtime::Runtime,
    store: Store,
    clock: Clock,
    acme: AuthenticatedClient,
    other: AuthenticatedClient,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let dir = std::env::temp_dir().join(format!("revokd-fuzz-token-lookup-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("store.db").to_str().unwrap().to_owned();
        let clock = Clock::system();
        let (store, acme, other) = runtime.block_on(async {
            let store = Store::open(&DatabaseUrl::Sqlite(path), &StoreOptions::default())
                .await
                .unwrap();
            let admin = Admin::new(store.clone(), clock.clone());
            let mut clients = Vec::new();
            for name in ["acme", "other"] {
                let domain = DomainName::parse(name).unwrap();
                admin
                    .create_domain(domain.clone(), DomainSettings::default(), Actor::cli())
                    .await
                    .unwrap();
                let spec = ClientSpec {
                    client_id: ClientId::parse("api").unwrap(),
                    client_type: ClientType::Confidential,
                    grant_types: None,
                    scopes: Scopes::parse_space_separated("read write").unwrap(),
                    domain_admin: false,
                };
                admin.create_client(&domain, spec, Actor::cli()).await.unwrap();
                let client = client_auth::without_credentials(&store, &domain, "api").await.unwrap();
                clients.push(client.unwrap());
            }
            let other = clients.pop().unwrap();
            let acme = clients.pop().unwrap();
            let now = clock.now();
            // A slot as issuance gets one: from a range reserved in the store.
            let domain_id = acme.domain.id;
            let range = store
                .write(move |mut db| {
                    Box::pin(async move { revokd::store::status_lists::reserve_range(&mut db, domain_id, now).await })
                })
                .await
                .unwrap();
            store
                .insert_client_token(ClientToken {
                    domain_id: acme.domain.id,
                    client_ref: acme.client.id,
                    token_hash: PlainToken::new(KNOWN.into()).digest(),
                    jti: JTI.into(),
                    scopes: "read".into(),
                    issued_at: now,
                    expires_at: now + 365 * 24 * 3600 * MICROS_PER_SEC,
                    status: revokd::domain::status_list::StatusSlot {
                        list: range.list,
                        idx: range.start,
                    },
                })
                .await
                .unwrap();
            (store, acme, other)
        });
        World {
            runtime,
            store,
            clock,
            acme,
            other,
        }
    })
}

async fn look_up(w: &World, data: &[u8]) {
    let presented = String::from_utf8_lossy(data).into_owned();
    let known = presented == KNOWN;
    let token = PlainToken::new(presented);

    // The store, by the digest of the presented string, in each domain and in one the
    // input names.
    let arbitrary_domain = data
        .get(..8)
        .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
        .unwrap_or(-1);
    for domain_id in [w.acme.domain.id, w.other.domain.id, arbitrary_domain] {
        let found = w.store.token(domain_id, token.digest()).await.expect("look-up failed");
        let expected = known && domain_id == w.acme.domain.id;
        assert_eq!(
            found.is_some(),
            expected,
            "domain {domain_id}, token {:?}",
            token.expose()
        );
        if let Some(view) = found {
            assert_eq!(view.client_id, "api");
            assert_eq!(view.token.jti, JTI);
            assert_eq!(view.token.domain_id, w.acme.domain.id);
            assert_eq!(view.token.client_ref, w.acme.client.id);
            assert_eq!(view.username, None);
        }
    }

    // The store, with the input's first 32 bytes as the digest itself.
    if let Some(raw) = data.get(..32).and_then(Sha256Digest::from_slice) {
        let found = w.store.token(w.acme.domain.id, raw).await.expect("look-up failed");
        let expected = raw.matches(&PlainToken::new(KNOWN.into()).digest());
        assert_eq!(found.is_some(), expected, "raw digest {:?}", &data[..32]);
    }

    // Introspection: active only for KNOWN asked by acme's client.
    for (client, may_see) in [(&w.acme, true), (&w.other, false)] {
        let answer = introspection::introspect(&w.store, &w.clock, client, &token, ISSUER.into())
            .await
            .expect("introspection failed");
        assert_eq!(
            answer.active,
            known && may_see,
            "introspection by {}",
            client.domain.name
        );
        assert_eq!(answer.details.is_some(), answer.active);
        if let Some(active) = answer.details {
            assert_eq!(
                (
                    active.token_type,
                    active.client_id.as_str(),
                    active.sub.as_str(),
                    active.jti.as_str()
                ),
                ("access_token", "api", "api", JTI)
            );
            assert_eq!(active.scope, "read");
        }
    }

    // Revocation: a no-op from the other domain, whatever the token (KNOWN included),
    // and from acme for anything but KNOWN (which stays live for the next input).
    let level = match data.first().map(|b| b % 4) {
        Some(0) => LevelChoice::Rfc7009Default,
        Some(1) => LevelChoice::Explicit(RevokeLevel::RelatedTokens),
        Some(2) => LevelChoice::Explicit(RevokeLevel::RelatedConsent),
        _ => LevelChoice::Explicit(RevokeLevel::None),
    };
    let revokers: &[&AuthenticatedClient] = if known { &[&w.other] } else { &[&w.other, &w.acme] };
    for client in revokers {
        let request = RevocationRequest {
            token: token.clone(),
            token_type: TokenTypeParam::None,
            level,
            reason: None,
            endpoint: match level {
                LevelChoice::Rfc7009Default => RevocationEndpoint::Rfc7009,
                LevelChoice::Explicit(_) => RevocationEndpoint::Oam,
            },
            request_id: None,
        };
        let revoked = revocation::revoke(&w.store, &w.clock, client, request)
            .await
            .expect("revocation failed");
        assert_eq!(revoked, Default::default(), "revocation by {}", client.domain.name);
    }
}

fuzz_target!(|data: &[u8]| {
    let w = world();
    w.runtime.block_on(look_up(w, data));
});
