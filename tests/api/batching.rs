//! Concurrent revocations are written together (group commit, `store::revocations`);
//! each still gets its own exact answer, and one that the database refuses does not
//! take the others down with it.

use futures_util::future::join_all;
use serde_json::json;

use crate::helpers::{TestApp, TestClient};
use revokd::store::DatabaseUrl;

const TOKENS: usize = 24;

async fn issue(app: &TestApp, domain: &str, client: &TestClient, n: usize) -> Vec<String> {
    let mut tokens = Vec::with_capacity(n);
    for _ in 0..n {
        let answer = app.token(domain, client, &[("grant_type", "client_credentials")]).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        tokens.push(answer.body["access_token"].as_str().unwrap().to_owned());
    }
    tokens
}

async fn client_credentials(app: &TestApp, domain: &str, client: &TestClient, scope: &str) -> crate::helpers::Answer {
    app.token(
        domain,
        client,
        &[("grant_type", "client_credentials"), ("scope", scope)],
    )
    .await
}

async fn revoke(app: &TestApp, domain: &str, client: &TestClient, token: &str) -> crate::helpers::Answer {
    app.revoke(domain, client, &[("token", token)]).await
}

/// Makes the database refuse a change to `tokens`, as a failing disk or a constraint
/// would: a trigger raising an error. `event` is `INSERT` or `UPDATE`, `when` the
/// condition on `NEW`/`OLD` (the same text serves both backends).
async fn refuse(app: &TestApp, event: &str, when: &str) {
    let name = crate::helpers::unique("refuse").replace('-', "_");
    match &app.database {
        DatabaseUrl::Sqlite(path) => {
            use diesel::connection::SimpleConnection;
            use diesel::{Connection, SqliteConnection};
            let mut conn = SqliteConnection::establish(path).unwrap();
            conn.batch_execute(&format!(
                "CREATE TRIGGER {name} BEFORE {event} ON tokens WHEN {when} \
                 BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;"
            ))
            .unwrap();
        }
        DatabaseUrl::Postgres(url) => {
            use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
            let mut conn = AsyncPgConnection::establish(url).await.unwrap();
            conn.batch_execute(&format!(
                "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$; \
                 CREATE TRIGGER {name} BEFORE {event} ON tokens FOR EACH ROW \
                 WHEN ({when}) EXECUTE FUNCTION {name}();"
            ))
            .await
            .unwrap();
        }
    }
}

crate::both_backends! {
    async fn concurrent_issuance_stores_every_token_and_one_refused_insert_fails_alone(app) {
        let domain = app.create_domain().await;
        let svc = app
            .create_client(&domain, json!({"client_id":"svc","scopes":["read","doomed"]}))
            .await;
        let rs = app.create_client(&domain, json!({"client_id":"rs"})).await;
        refuse(&app, "INSERT", "NEW.scopes = 'doomed'").await;
        let scopes: Vec<&str> = (0..TOKENS).map(|i| if i == TOKENS / 2 { "doomed" } else { "read" }).collect();
        let answers = join_all(scopes.iter().map(|scope| client_credentials(&app, &domain, &svc, scope))).await;
        for (answer, scope) in answers.iter().zip(&scopes) {
            if *scope == "doomed" {
                assert!(answer.status >= 500, "a token that was not stored must not be handed out: {}", answer.text);
            } else {
                assert_eq!(answer.status, 200, "{}", answer.text);
                let token = answer.body["access_token"].as_str().unwrap();
                assert!(app.is_active(&domain, &rs, token).await, "an issued token is unknown to the store");
            }
        }
    }

    async fn concurrent_revocations_each_get_their_own_answer(app) {
        let domain = app.create_domain().await;
        let svc = app.create_client(&domain, json!({"client_id":"svc"})).await;
        let rs = app.create_client(&domain, json!({"client_id":"rs"})).await;
        let tokens = issue(&app, &domain, &svc, TOKENS).await;

        // Every token twice, all at once: each is revoked once, and both answers are 200.
        let answers = join_all(tokens.iter().chain(&tokens).map(|t| revoke(&app, &domain, &svc, t))).await;
        for answer in &answers {
            assert_eq!(answer.status, 200, "{}", answer.text);
        }
        for token in &tokens {
            assert!(!app.is_active(&domain, &rs, token).await);
        }
        let audit = app.admin_get(&format!("/admin/v1/domains/{domain}/audit?limit=1000")).await;
        let revoked: Vec<&serde_json::Value> = audit.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "token.revoked")
            .collect();
        assert_eq!(revoked.len(), TOKENS, "one event per token that really died: {}", audit.text);
        assert!(revoked.iter().all(|e| e["details"]["count"] == 1), "{}", audit.text);
    }

    async fn a_revocation_the_database_refuses_does_not_sink_the_others(app) {
        let domain = app.create_domain().await;
        let svc = app.create_client(&domain, json!({"client_id":"svc"})).await;
        let rs = app.create_client(&domain, json!({"client_id":"rs"})).await;
        let tokens = issue(&app, &domain, &svc, TOKENS).await;
        let poisoned = TOKENS / 2;
        let jti = app.introspect(&domain, &rs, &tokens[poisoned]).await.body["jti"].as_str().unwrap().to_owned();
        refuse(&app, "UPDATE", &format!("OLD.jti = '{jti}' AND NEW.revoked_at IS NOT NULL")).await;

        // On SQLite, keep the writer busy meanwhile, so that every revocation lands in the
        // one batch that follows (PostgreSQL's batcher gathers them by itself).
        let busy_writer = matches!(app.database, DatabaseUrl::Sqlite(_)).then(|| {
            let store = app.store.clone();
            tokio::spawn(async move {
                store
                    .write(|_db| Box::pin(async { std::thread::sleep(std::time::Duration::from_millis(500)); Ok(()) }))
                    .await
            })
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let answers = join_all(tokens.iter().map(|t| revoke(&app, &domain, &svc, t))).await;
        if let Some(busy) = busy_writer {
            busy.await.unwrap().unwrap();
        }
        for (i, (answer, token)) in answers.iter().zip(&tokens).enumerate() {
            if i == poisoned {
                assert!(answer.status >= 500, "the refused revocation must not report success: {}", answer.text);
                assert!(app.is_active(&domain, &rs, token).await, "nothing of the refused revocation remains");
            } else {
                assert_eq!(answer.status, 200, "token {i}: {}", answer.text);
                assert!(!app.is_active(&domain, &rs, token).await, "token {i} is still live");
            }
        }
    }
}
