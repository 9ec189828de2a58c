//! SPEC §3.7: a bulk revocation does not write a row per token. With 10^6 live tokens
//! of one client (seeded directly in the store), revoking them all is one watermark and
//! one indexed count; every sampled token is inactive afterwards.

use std::time::{Duration, Instant};

use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use revokd::clock::MICROS_PER_SEC;
use revokd::store::DatabaseUrl;
use revokd::store::{clients, domains};
use serde_json::json;

use crate::helpers::{
    TestApp, drop_postgres_database, fresh_postgres_database, fresh_sqlite, skip_postgres, spawn_with_settings,
    test_settings,
};

const TOKENS: i64 = 1_000_000;
const SAMPLED: i64 = 100;

/// Inserts `rows` live access tokens of one client with random hashes.
async fn seed(database: &DatabaseUrl, (domain_id, client_ref): (i64, i64), issued: i64, expires: i64, rows: i64) {
    match database {
        DatabaseUrl::Postgres(url) => {
            let mut conn = AsyncPgConnection::establish(url).await.unwrap();
            diesel::sql_query(
                "INSERT INTO tokens (domain_id, kind, token_hash, jti, client_ref, scopes, issued_at, expires_at) \
                 SELECT $1, 'access', sha256(('seed-' || i)::bytea), 'seed-' || i, $2, '', $3, $4 \
                 FROM generate_series(1, $5) AS i",
            )
            .bind::<BigInt, _>(domain_id)
            .bind::<BigInt, _>(client_ref)
            .bind::<BigInt, _>(issued)
            .bind::<BigInt, _>(expires)
            .bind::<BigInt, _>(rows)
            .execute(&mut conn)
            .await
            .unwrap();
            // What autovacuum would do shortly after such a load.
            diesel_async::SimpleAsyncConnection::batch_execute(&mut conn, "ANALYZE tokens")
                .await
                .unwrap();
        }
        DatabaseUrl::Sqlite(path) => {
            let path = path.clone();
            tokio::task::spawn_blocking(move || {
                use diesel::connection::SimpleConnection;
                use diesel::{Connection, SqliteConnection};
                let mut conn = SqliteConnection::establish(&path).unwrap();
                conn.batch_execute("PRAGMA busy_timeout = 10000;").unwrap();
                let query = diesel::sql_query(
                    "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?) \
                     INSERT INTO tokens (domain_id, kind, token_hash, jti, client_ref, scopes, issued_at, expires_at) \
                     SELECT ?, 'access', randomblob(32), 'seed-' || i, ?, '', ?, ? FROM seq",
                )
                .bind::<BigInt, _>(rows)
                .bind::<BigInt, _>(domain_id)
                .bind::<BigInt, _>(client_ref)
                .bind::<BigInt, _>(issued)
                .bind::<BigInt, _>(expires);
                diesel::RunQueryDsl::execute(query, &mut conn).unwrap();
            })
            .await
            .unwrap();
        }
    }
}

async fn million_tokens_die_at_once(app: &TestApp) {
    let domain = app.create_domain().await;
    let client = app
        .create_client(
            &domain,
            json!({"client_id":"bulk","grant_types":["client_credentials"]}),
        )
        .await;
    let rs = app.create_client(&domain, json!({"client_id":"rs"})).await;

    // Tokens whose plain text the test knows, issued the normal way.
    let mut sampled = Vec::new();
    for _ in 0..SAMPLED {
        let answer = app
            .token(&domain, &client, &[("grant_type", "client_credentials")])
            .await;
        sampled.push(answer.body["access_token"].as_str().unwrap().to_owned());
    }
    // The rest straight into the database, beside the running app (an operation of
    // the app's store would be cut short by its time bound).
    let name = domain.clone();
    let ids = app
        .store
        .read(move |mut db| {
            Box::pin(async move {
                let domain = domains::find_by_name(&mut db, &name).await?.unwrap();
                let client = clients::find(&mut db, domain.id, "bulk").await?.unwrap();
                Ok((domain.id, client.id))
            })
        })
        .await
        .unwrap();
    let now = app.clock.now();
    let seeded = Instant::now();
    seed(
        &app.database,
        ids,
        now - MICROS_PER_SEC,
        now + 3600 * MICROS_PER_SEC,
        TOKENS - SAMPLED,
    )
    .await;
    eprintln!("seeded {TOKENS} tokens in {:?}", seeded.elapsed());

    let started = Instant::now();
    let answer = app
        .admin_post(
            &format!("/admin/v1/domains/{domain}/revocations"),
            json!({"client_id":"bulk"}),
        )
        .await;
    let took = started.elapsed();
    eprintln!("bulk revocation of {TOKENS} tokens answered in {took:?}");
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body["revoked_tokens"], TOKENS, "the count is exact");
    // The point of the watermark: no write per token. A write per token would take
    // tens of seconds here; the bound leaves room for a busy CI machine.
    assert!(took < Duration::from_secs(3), "bulk revocation took {took:?}");
    for token in &sampled {
        assert!(
            !app.is_active(&domain, &rs, token).await,
            "a sampled token is still active"
        );
    }
    // A fresh token of the same client is unaffected.
    let fresh = app
        .token(&domain, &client, &[("grant_type", "client_credentials")])
        .await;
    assert!(
        app.is_active(&domain, &rs, fresh.body["access_token"].as_str().unwrap())
            .await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_bulk_revocation_of_a_million_tokens() {
    let (url, file) = fresh_sqlite();
    let app = spawn_with_settings(test_settings(url), Some(file)).await;
    million_tokens_die_at_once(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_bulk_revocation_of_a_million_tokens() {
    let url = match fresh_postgres_database("scale") {
        Ok(url) => url,
        Err(reason) => return skip_postgres::<()>(&reason).unwrap_or(()),
    };
    let app = spawn_with_settings(test_settings(DatabaseUrl::Postgres(url.clone())), None).await;
    million_tokens_die_at_once(&app).await;
    drop(app);
    drop_postgres_database(&url);
}
