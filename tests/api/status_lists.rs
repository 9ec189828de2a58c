//! SPEC §3.10 Token Status Lists: every way of revoking sets exactly the dead tokens'
//! bits, as a stock client reads them (and this crate's reader, and introspection),
//! on both backends and through a second PostgreSQL instance; the HTTP contract of the
//! list and aggregation endpoints; indices never handed out twice.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::Read;
use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Answer, Server, TestApp, TestClient, shared_postgres, spawn_with_settings, test_settings};
use crate::status_list_reader::{fetch, invalid_by_reader, invalid_by_stock_client, jwks, slot, stock_client, verify};

/// A domain with the clients and users the scenario needs, and every token issued so
/// far, by name, with whether it should be dead.
struct Scene {
    domain: String,
    web: TestClient,
    mobile: TestClient,
    admin: TestClient,
    rs: TestClient,
    tokens: BTreeMap<String, String>,
    dead: BTreeSet<String>,
}

async fn scene(app: &Server) -> Scene {
    // No grace window: a rotated refresh token presented again is reuse at once.
    let domain = app.create_domain_with(json!({"refresh_token_grace_secs": 0})).await;
    let grants = json!(["password", "refresh_token", "client_credentials"]);
    let web = app
        .create_client(&domain, json!({"client_id":"web","grant_types":grants}))
        .await;
    let mobile = app
        .create_client(&domain, json!({"client_id":"mobile","grant_types":grants}))
        .await;
    let admin = app
        .create_client(&domain, json!({"client_id":"admin","domain_admin":true}))
        .await;
    let rs = app.create_client(&domain, json!({"client_id":"rs"})).await;
    for user in ["alice", "bob", "carol", "dave", "erin", "frank"] {
        app.create_user(&domain, user, "pw").await;
    }
    Scene {
        domain,
        web,
        mobile,
        admin,
        rs,
        tokens: BTreeMap::new(),
        dead: BTreeSet::new(),
    }
}

impl Scene {
    /// A login; its access token is `{name}` and its refresh token `{name}.R`.
    async fn login(&mut self, app: &Server, name: &str, client: &str, user: &str) -> String {
        let client = self.client(client);
        let (access, refresh) = app.login(&self.domain, &client, user, "pw").await;
        self.tokens.insert(name.to_owned(), access);
        refresh
    }

    async fn client_token(&mut self, app: &Server, name: &str, client: &str) {
        let client = self.client(client);
        let answer = app
            .token(&self.domain, &client, &[("grant_type", "client_credentials")])
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        self.tokens.insert(
            name.to_owned(),
            answer.body["access_token"].as_str().unwrap().to_owned(),
        );
    }

    /// A refresh; the new access token is `{name}`; the new refresh token is returned.
    async fn refresh(&mut self, app: &Server, name: &str, client: &str, refresh: &str) -> String {
        let client = self.client(client);
        let answer = app
            .token(
                &self.domain,
                &client,
                &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        self.tokens.insert(
            name.to_owned(),
            answer.body["access_token"].as_str().unwrap().to_owned(),
        );
        answer.body["refresh_token"].as_str().unwrap().to_owned()
    }

    fn client(&self, name: &str) -> TestClient {
        match name {
            "web" => self.web.clone(),
            "mobile" => self.mobile.clone(),
            _ => self.admin.clone(),
        }
    }

    fn die(&mut self, names: &[&str]) {
        self.dead.extend(names.iter().map(|n| (*n).to_owned()));
    }

    /// Every token so far is INVALID exactly when it should be dead: by the stock client
    /// and this crate's reader on each of `readers` (instances of one store), and by
    /// introspection on the first.
    async fn check(&self, step: &str, readers: &[&Server]) {
        let names: Vec<&String> = self.tokens.keys().collect();
        let tokens: Vec<&str> = self.tokens.values().map(String::as_str).collect();
        let expected: Vec<bool> = names.iter().map(|n| self.dead.contains(*n)).collect();
        let stock = stock_client();
        for reader in readers {
            let by_reader = invalid_by_reader(reader, &self.domain, &tokens).await;
            assert_eq!(
                named(&names, &by_reader),
                named(&names, &expected),
                "{step}: this crate's reader"
            );
            if let Some(client) = &stock {
                let by_stock = invalid_by_stock_client(client, reader, &self.domain, &tokens).await;
                assert_eq!(
                    named(&names, &by_stock),
                    named(&names, &expected),
                    "{step}: the stock client"
                );
            }
        }
        for (name, token) in &self.tokens {
            let active = readers[0].is_active(&self.domain, &self.rs, token).await;
            assert_eq!(active, !self.dead.contains(name), "{step}: introspection of {name}");
        }
    }
}

/// `names[i] => INVALID?`, for readable failures.
fn named(names: &[&String], invalid: &[bool]) -> BTreeMap<String, &'static str> {
    names
        .iter()
        .zip(invalid)
        .map(|(name, dead)| ((*name).clone(), if *dead { "INVALID" } else { "VALID" }))
        .collect()
}

/// The scenario: issue, then each way of revoking, checking every token after each.
/// `app` issues and revokes; `readers` read the lists.
async fn every_way_of_revoking(app: &Server, readers: &[&Server]) {
    let mut s = scene(app).await;
    let domain = s.domain.clone();
    s.login(app, "alice.1", "web", "alice").await;
    let alice_2 = s.login(app, "alice.2", "web", "alice").await;
    s.login(app, "bob.1", "web", "bob").await;
    s.login(app, "bob.2", "web", "bob").await;
    s.client_token(app, "web.cc", "web").await;
    s.check("fresh tokens are VALID", readers).await;

    let answer = app
        .revoke(
            &domain,
            &s.web,
            &[("token", &s.tokens["alice.1"]), ("revoke_level", "NONE")],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    s.die(&["alice.1"]);
    s.check("NONE", readers).await;

    let alice_3 = s.refresh(app, "alice.2b", "web", &alice_2).await;
    let answer = app
        .revoke(
            &domain,
            &s.web,
            &[("token", &alice_3), ("revoke_level", "RELATED_TOKENS")],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    s.die(&["alice.2", "alice.2b"]);
    s.check("RELATED_TOKENS: the family", readers).await;

    let answer = app
        .revoke(
            &domain,
            &s.admin,
            &[("token", &s.tokens["bob.1"]), ("revoke_level", "RELATED_CONSENT")],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    s.die(&["bob.1", "bob.2"]);
    s.check("RELATED_CONSENT: everything under the consent", readers).await;

    let carol_1 = s.login(app, "carol.1", "web", "carol").await;
    s.refresh(app, "carol.2", "web", &carol_1).await;
    let answer = app
        .token(
            &domain,
            &s.web,
            &[("grant_type", "refresh_token"), ("refresh_token", &carol_1)],
        )
        .await;
    answer.assert_error(400, "invalid_grant");
    s.die(&["carol.1", "carol.2"]);
    s.check("refresh-token reuse", readers).await;

    s.login(app, "dave.mobile", "mobile", "dave").await;
    s.login(app, "dave.web", "web", "dave").await;
    let bearer = s.tokens["dave.web"].clone();
    let consents = as_user(app, Method::GET, "/oauth2/rest/consents", &domain, &bearer).await;
    let mobile_consent = consents.body["consents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["client_id"] == "mobile")
        .expect("dave's consent to mobile")["consent_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let answer = as_user(
        app,
        Method::DELETE,
        &format!("/oauth2/rest/consents/{mobile_consent}"),
        &domain,
        &bearer,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    s.die(&["dave.mobile"]);
    s.check("consent withdrawal", readers).await;

    s.login(app, "erin.web", "web", "erin").await;
    s.login(app, "erin.mobile", "mobile", "erin").await;
    let answer = app
        .admin_post(
            &format!("/admin/v1/domains/{domain}/revocations"),
            json!({"username":"erin"}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    s.die(&["erin.web", "erin.mobile"]);
    s.check("bulk by user", readers).await;

    s.client_token(app, "mobile.cc", "mobile").await;
    s.login(app, "frank.mobile", "mobile", "frank").await;
    s.login(app, "frank.web", "web", "frank").await;
    let answer = app
        .admin_post(
            &format!("/admin/v1/domains/{domain}/revocations"),
            json!({"client_id":"mobile"}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    s.die(&["mobile.cc", "frank.mobile"]);
    s.check("bulk by client", readers).await;
}

async fn as_user(app: &Server, method: Method, path: &str, domain: &str, bearer: &str) -> Answer {
    let url = app.url(&format!("{path}?identityDomain={domain}"));
    Answer::from(app.http.request(method, url).bearer_auth(bearer).send().await.unwrap()).await
}

/// A GET of a list as a resource server sends it, with extra headers.
async fn get_list(app: &Server, uri: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app.http.get(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

fn header<'r>(response: &'r reqwest::Response, name: &str) -> Option<&'r str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

crate::both_backends! {
    async fn every_way_of_revoking_sets_exactly_the_dead_tokens_bits(app) {
        every_way_of_revoking(&app, &[&app]).await;
    }

    async fn access_tokens_name_their_list_and_refresh_tokens_none(app) {
        let domain = app.create_domain().await;
        let web = app.create_client(&domain, json!({"client_id":"web","grant_types":["password","refresh_token"]})).await;
        app.create_user(&domain, "alice", "pw").await;
        let (access, refresh) = app.login(&domain, &web, "alice", "pw").await;
        let metadata = app.get(&format!("/.well-known/oauth-authorization-server/domains/{domain}")).await;
        let issuer = metadata.body["issuer"].as_str().unwrap().to_owned();
        assert_eq!(metadata.body["status_list_aggregation_endpoint"], format!("{issuer}/status-lists"));
        let slot = slot(&access);
        assert_eq!(slot.uri, format!("{issuer}/status-lists/1"));
        assert!(!refresh.contains('.'), "refresh tokens stay opaque");
        let aggregation = app.get(&format!("/domains/{domain}/status-lists")).await;
        assert_eq!(aggregation.status, 200, "{}", aggregation.text);
        assert_eq!(aggregation.body, json!({"status_lists": [slot.uri]}));
        assert_eq!(aggregation.header("access-control-allow-origin"), Some("*"));
    }

    async fn the_list_is_a_signed_statuslist_jwt_with_caching_headers(app) {
        let domain = app.create_domain().await;
        let web = app.create_client(&domain, json!({"client_id":"web","grant_types":["client_credentials"]})).await;
        let issued = app.token(&domain, &web, &[("grant_type", "client_credentials")]).await;
        let token = issued.body["access_token"].as_str().unwrap().to_owned();
        let slot = slot(&token);

        let response = get_list(&app, &slot.uri, &[]).await;
        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, "content-type"), Some("application/statuslist+jwt"));
        assert_eq!(header(&response, "cache-control"), Some("public, max-age=60"));
        assert_eq!(header(&response, "access-control-allow-origin"), Some("*"));
        let etag = header(&response, "etag").expect("an ETag").to_owned();
        let list = verify(&response.text().await.unwrap(), &jwks(&app, &domain).await);
        assert_eq!(list.header.typ.as_deref(), Some("statuslist+jwt"));
        assert_eq!(list.header.alg, jsonwebtoken::Algorithm::ES256);
        let issuer = slot.uri.trim_end_matches("/status-lists/1");
        assert_eq!(list.claims["iss"], issuer);
        assert_eq!(list.claims["sub"], slot.uri.as_str());
        assert_eq!(list.claims["ttl"], 60);
        assert_eq!(list.claims["exp"].as_i64().unwrap(), list.claims["iat"].as_i64().unwrap() + 120);
        assert_eq!(list.claims["status_list"]["bits"], 1);
        assert!(list.bytes.len() as u64 * 8 > slot.idx, "lst covers the index");
        assert!(!list.is_invalid(slot.idx));

        // Nothing changed: the same signed list, and a conditional GET is 304.
        let again = get_list(&app, &slot.uri, &[]).await;
        assert_eq!(header(&again, "etag"), Some(etag.as_str()));
        let not_modified = get_list(&app, &slot.uri, &[("if-none-match", &etag)]).await;
        assert_eq!(not_modified.status(), 304);
        assert_eq!(header(&not_modified, "etag"), Some(etag.as_str()));
        assert_eq!(header(&not_modified, "access-control-allow-origin"), Some("*"));
        assert!(not_modified.bytes().await.unwrap().is_empty());

        // gzip when accepted.
        let gzipped = get_list(&app, &slot.uri, &[("accept-encoding", "gzip")]).await;
        assert_eq!(header(&gzipped, "content-encoding"), Some("gzip"));
        let mut jwt = String::new();
        flate2::read::GzDecoder::new(&gzipped.bytes().await.unwrap()[..]).read_to_string(&mut jwt).unwrap();
        assert_eq!(verify(&jwt, &jwks(&app, &domain).await).claims["sub"], slot.uri.as_str());

        // A revocation re-signs it: a new tag, the bit set, the old tag no longer 304.
        let answer = app.revoke(&domain, &web, &[("token", &token)]).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        let changed = get_list(&app, &slot.uri, &[("if-none-match", &etag)]).await;
        assert_eq!(changed.status(), 200);
        assert_ne!(header(&changed, "etag"), Some(etag.as_str()));
        assert!(verify(&changed.text().await.unwrap(), &jwks(&app, &domain).await).is_invalid(slot.idx));

        // A new ttl is seen at once; and a list older than ttl is signed anew.
        let patched = app.admin(Method::PATCH, &format!("/admin/v1/domains/{domain}"), Some(json!({"status_list_ttl_secs": 5}))).await;
        assert_eq!(patched.status, 200, "{}", patched.text);
        assert_eq!(patched.body["status_list_ttl_secs"], 5);
        let short = get_list(&app, &slot.uri, &[]).await;
        assert_eq!(header(&short, "cache-control"), Some("public, max-age=5"));
        let short_tag = header(&short, "etag").unwrap().to_owned();
        let claims = verify(&short.text().await.unwrap(), &jwks(&app, &domain).await).claims;
        assert_eq!(claims["ttl"], 5);
        assert_eq!(claims["exp"].as_i64().unwrap(), claims["iat"].as_i64().unwrap() + 10);
        app.clock.advance(Duration::from_secs(5));
        let later = get_list(&app, &slot.uri, &[]).await;
        assert_ne!(header(&later, "etag"), Some(short_tag.as_str()));
        let later_claims = verify(&later.text().await.unwrap(), &jwks(&app, &domain).await).claims;
        assert!(later_claims["iat"].as_i64().unwrap() >= claims["iat"].as_i64().unwrap() + 5);
        for refused in [json!({"status_list_ttl_secs": 0}), json!({"status_list_ttl_secs": 86_401})] {
            app.admin(Method::PATCH, &format!("/admin/v1/domains/{domain}"), Some(refused)).await.assert_error(400, "invalid_request");
        }
    }

    async fn content_negotiation_and_what_is_not_there(app) {
        let domain = app.create_domain().await;
        let other = app.create_domain().await;
        let web = app.create_client(&domain, json!({"client_id":"web","grant_types":["client_credentials"]})).await;
        let issued = app.token(&domain, &web, &[("grant_type", "client_credentials")]).await;
        let uri = slot(issued.body["access_token"].as_str().unwrap()).uri;

        for accept in ["*/*", "application/*", "application/statuslist+jwt", "text/html, application/statuslist+jwt;q=0.2"] {
            assert_eq!(get_list(&app, &uri, &[("accept", accept)]).await.status(), 200, "{accept}");
        }
        for accept in ["application/json", "application/statuslist+jwt;q=0", "text/*"] {
            let refused = Answer::from(get_list(&app, &uri, &[("accept", accept)]).await).await;
            refused.assert_error(406, "invalid_request");
            assert_eq!(refused.header("access-control-allow-origin"), Some("*"), "{accept}");
        }
        for missing in [
            format!("/domains/{domain}/status-lists/2"),
            format!("/domains/{domain}/status-lists/abc"),
            format!("/domains/{domain}/status-lists/01"),
            // Another domain's path never serves this domain's list.
            format!("/domains/{other}/status-lists/1"),
            "/domains/nosuchdomain/status-lists/1".to_owned(),
            "/domains/nosuchdomain/status-lists".to_owned(),
        ] {
            let answer = app.get(&missing).await;
            answer.assert_error(404, "not_found");
            assert_eq!(answer.header("access-control-allow-origin"), Some("*"), "{missing}");
        }
        assert_eq!(app.get(&format!("/domains/{other}/status-lists")).await.body, json!({"status_lists": []}));
        let preflight = app.http.request(Method::OPTIONS, &uri).header("origin", "https://rs.example").send().await.unwrap();
        assert_eq!(preflight.status(), 204);
        assert_eq!(header(&preflight, "access-control-allow-origin"), Some("*"));
        assert!(header(&preflight, "access-control-allow-headers").is_some_and(|h| h.contains("If-None-Match")));
    }

    async fn indices_are_never_handed_out_twice_by_concurrent_issuance(app) {
        let domain = app.create_domain().await;
        let grants = json!(["client_credentials", "password"]);
        let web = app.create_client(&domain, json!({"client_id":"web","grant_types":grants})).await;
        app.create_user(&domain, "alice", "pw").await;
        let slots = issue_concurrently(&[&app], &domain, &web, 6, 200).await;
        assert_unique(&slots, 6 * 200);
    }
}

/// `tasks` tasks per server, each issuing `per_task` `client_credentials` tokens; the
/// slots they carry.
async fn issue_concurrently(
    servers: &[&Server],
    domain: &str,
    client: &TestClient,
    tasks: usize,
    per_task: usize,
) -> Vec<crate::status_list_reader::Slot> {
    let mut running = Vec::new();
    for server in servers {
        for _ in 0..tasks {
            let (server, domain, client) = (
                Server {
                    address: server.address.clone(),
                    http: server.http.clone(),
                },
                domain.to_owned(),
                client.clone(),
            );
            running.push(tokio::spawn(async move {
                let mut slots = Vec::with_capacity(per_task);
                for _ in 0..per_task {
                    let answer = server
                        .token(&domain, &client, &[("grant_type", "client_credentials")])
                        .await;
                    assert_eq!(answer.status, 200, "{}", answer.text);
                    slots.push(slot(answer.body["access_token"].as_str().unwrap()));
                }
                slots
            }));
        }
    }
    let mut slots = Vec::new();
    for task in running {
        slots.extend(task.await.unwrap());
    }
    slots
}

fn assert_unique(slots: &[crate::status_list_reader::Slot], expected: usize) {
    assert_eq!(slots.len(), expected);
    let distinct: HashSet<(&str, u64)> = slots
        .iter()
        .map(|s| (s.uri.rsplit('/').next().unwrap(), s.idx))
        .collect();
    assert_eq!(distinct.len(), expected, "an index was handed out twice");
}

/// Two instances on one PostgreSQL: tokens issued by A (whose public URL is B's, as
/// behind a load balancer), every list read through B, right after each revocation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_a_second_instance_serves_every_revocation_at_once() {
    let Some(database) = shared_postgres() else { return };
    let b = spawn_with_settings(test_settings(database.clone()), None).await;
    let mut settings = test_settings(database);
    settings.public_url = Some(b.address.parse().unwrap());
    let a = spawn_with_settings(settings, None).await;
    every_way_of_revoking(&a, &[&b]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_two_instances_issuing_at_once_never_share_an_index() {
    let Some(database) = shared_postgres() else { return };
    let a = spawn_with_settings(test_settings(database.clone()), None).await;
    let b = spawn_with_settings(test_settings(database), None).await;
    let domain = a.create_domain().await;
    let web = a
        .create_client(&domain, json!({"client_id":"web","grant_types":["client_credentials"]}))
        .await;
    // Over 1,024 per instance: each reserves several ranges, while the other does too.
    let slots = issue_concurrently(&[&a, &b], &domain, &web, 4, 400).await;
    assert_unique(&slots, 2 * 4 * 400);
    let uri = &slots[0].uri;
    let list = fetch(&b, &domain, uri).await;
    assert!(slots.iter().all(|s| !list.is_invalid(s.idx)));
}

/// A full list opens the next one, on both backends.
mod rollover {
    use revokd::domain::status_list::{LIST_SIZE, RANGE_SIZE};
    use revokd::store::status_lists::{Reserved, reserve_range};

    use super::*;

    async fn a_full_list_opens_the_next(app: TestApp) {
        let domain = app.create_domain().await;
        let id = app.admin_get(&format!("/admin/v1/domains/{domain}")).await;
        assert_eq!(id.status, 200);
        let reserved: Vec<Reserved> = app
            .store
            .write(move |mut db| {
                Box::pin(async move {
                    let domain_id = revokd::store::domains::find_by_name(&mut db, &domain)
                        .await?
                        .unwrap()
                        .id;
                    let first = reserve_range(&mut db, domain_id, 0).await?;
                    revokd::on_db!(&mut db, |conn| {
                        use diesel::prelude::*;
                        use diesel_async::RunQueryDsl;
                        use revokd::store::schema::status_lists;
                        diesel::update(status_lists::table.filter(status_lists::domain_id.eq(domain_id)))
                            .set(status_lists::reserved.eq(LIST_SIZE - RANGE_SIZE))
                            .execute(conn)
                            .await
                    })?;
                    Ok(vec![
                        first,
                        reserve_range(&mut db, domain_id, 0).await?,
                        reserve_range(&mut db, domain_id, 0).await?,
                    ])
                })
            })
            .await
            .unwrap();
        assert_eq!(
            reserved[0],
            Reserved {
                list: 1,
                start: 0,
                end: RANGE_SIZE
            }
        );
        assert_eq!(
            reserved[1],
            Reserved {
                list: 1,
                start: LIST_SIZE - RANGE_SIZE,
                end: LIST_SIZE
            }
        );
        assert_eq!(
            reserved[2],
            Reserved {
                list: 2,
                start: 0,
                end: RANGE_SIZE
            }
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_sqlite() {
        let Some(app) = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await else {
            return;
        };
        a_full_list_opens_the_next(app).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres() {
        let Some(app) = crate::helpers::spawn_app(crate::helpers::Backend::Postgres).await else {
            return;
        };
        a_full_list_opens_the_next(app).await;
    }
}

/// A token whose issuance overlapped a bulk revocation that covers it (issued before
/// the watermark, stored after it) is born dead: its bit is set by its own insert.
mod born_dead {
    use revokd::domain::status_list::StatusSlot;
    use revokd::security::Sha256Digest;
    use revokd::store::status_lists::reserve_range;
    use revokd::store::tokens::{ClientToken, insert_client_tokens};

    use super::*;

    async fn a_token_issued_under_a_watermark_is_invalid_at_once(app: TestApp) {
        let domain = app.create_domain().await;
        let web = app
            .create_client(&domain, json!({"client_id":"web","grant_types":["client_credentials"]}))
            .await;
        let issued = app.token(&domain, &web, &[("grant_type", "client_credentials")]).await;
        let uri = slot(issued.body["access_token"].as_str().unwrap()).uri;
        let before_the_watermark = app.clock.now() - 1_000_000;
        let answer = app
            .admin_post(
                &format!("/admin/v1/domains/{domain}/revocations"),
                json!({"client_id":"web"}),
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text);

        // Two tokens stored now, as a slow issuance would: one issued before the
        // watermark, one after.
        let name = domain.clone();
        let after_the_watermark = app.clock.now() + 1_000_000;
        let stored: Vec<StatusSlot> = app
            .store
            .write(move |mut db| {
                Box::pin(async move {
                    let (domain_row, client_row) = revokd::store::clients::find_with_domain(&mut db, &name, "web")
                        .await?
                        .unwrap();
                    let range = reserve_range(&mut db, domain_row.id, 0).await?;
                    let mut slots = Vec::new();
                    let mut tokens = Vec::new();
                    for (n, issued_at) in [before_the_watermark, after_the_watermark].into_iter().enumerate() {
                        let status = StatusSlot {
                            list: range.list,
                            idx: range.start + n as i64,
                        };
                        slots.push(status);
                        tokens.push(ClientToken {
                            domain_id: domain_row.id,
                            client_ref: client_row.id,
                            token_hash: Sha256Digest::of(format!("{name}-late-{n}").as_bytes()),
                            jti: format!("late-{n}"),
                            scopes: String::new(),
                            issued_at,
                            expires_at: issued_at + 3_600_000_000,
                            status,
                        });
                    }
                    insert_client_tokens(&mut db, &tokens).await?;
                    Ok(slots)
                })
            })
            .await
            .unwrap();
        let list = fetch(&app, &domain, &uri).await;
        assert!(
            list.is_invalid(stored[0].idx as u64),
            "born under the watermark: INVALID"
        );
        assert!(!list.is_invalid(stored[1].idx as u64), "issued after it: VALID");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_sqlite() {
        let Some(app) = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await else {
            return;
        };
        a_token_issued_under_a_watermark_is_invalid_at_once(app).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres() {
        let Some(app) = crate::helpers::spawn_app(crate::helpers::Backend::Postgres).await else {
            return;
        };
        a_token_issued_under_a_watermark_is_invalid_at_once(app).await;
    }
}

/// PostgreSQL queues the bits revocations set and folds them into their chunks later
/// (`store::status_lists`, `postgres.rs`): a list shows queued bits at once, and a fold
/// changes neither its bits nor its version, so the same signed list is served (304).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_queued_bits_show_at_once_and_folding_them_changes_nothing_served() {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use revokd::store::Db;
    use revokd::store::schema::status_list_pending;
    use revokd::store::status_lists::fold_pending;

    let Some(app) = crate::helpers::spawn_app(crate::helpers::Backend::Postgres).await else {
        return;
    };
    let domain = app.create_domain().await;
    let web = app
        .create_client(&domain, json!({"client_id":"web","grant_types":["client_credentials"]}))
        .await;
    let mut tokens = Vec::new();
    for _ in 0..3 {
        let issued = app.token(&domain, &web, &[("grant_type", "client_credentials")]).await;
        tokens.push(issued.body["access_token"].as_str().unwrap().to_owned());
    }
    let slots: Vec<_> = tokens.iter().map(|t| slot(t)).collect();
    for token in [&tokens[0], &tokens[2]] {
        assert_eq!(app.revoke(&domain, &web, &[("token", token)]).await.status, 200);
    }
    let queued = get_list(&app, &slots[0].uri, &[]).await;
    let etag = header(&queued, "etag").expect("an ETag").to_owned();
    let list = verify(&queued.text().await.unwrap(), &jwks(&app, &domain).await);
    assert_eq!(
        slots.iter().map(|s| list.is_invalid(s.idx)).collect::<Vec<_>>(),
        [true, false, true]
    );

    // Whatever the background fold has moved already, nothing is queued after this.
    let name = domain.clone();
    let left: i64 = app
        .store
        .write(move |mut db| {
            Box::pin(async move {
                let Db::Postgres(conn) = &mut db else {
                    unreachable!("a PostgreSQL test")
                };
                fold_pending(conn).await?;
                let (domain_row, _) = revokd::store::clients::find_with_domain(&mut db, &name, "web")
                    .await?
                    .unwrap();
                let Db::Postgres(conn) = &mut db else {
                    unreachable!("a PostgreSQL test")
                };
                Ok(status_list_pending::table
                    .filter(status_list_pending::domain_id.eq(domain_row.id))
                    .count()
                    .get_result(&mut **conn)
                    .await?)
            })
        })
        .await
        .unwrap();
    assert_eq!(left, 0, "the fold moved every queued bit of the domain");
    let folded = get_list(&app, &slots[0].uri, &[("if-none-match", &etag)]).await;
    assert_eq!(folded.status(), 304, "folding changed the list's version");
    let list = fetch(&app, &domain, &slots[0].uri).await;
    assert_eq!(
        slots.iter().map(|s| list.is_invalid(s.idx)).collect::<Vec<_>>(),
        [true, false, true]
    );

    // A revocation after the fold changes the list again.
    assert_eq!(app.revoke(&domain, &web, &[("token", &tokens[1])]).await.status, 200);
    let changed = get_list(&app, &slots[0].uri, &[("if-none-match", &etag)]).await;
    assert_eq!(changed.status(), 200);
    let list = verify(&changed.text().await.unwrap(), &jwks(&app, &domain).await);
    assert!(slots.iter().all(|s| list.is_invalid(s.idx)));
}
