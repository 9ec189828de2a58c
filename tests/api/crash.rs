//! SPEC §3.1 durability, tried as an attacker would: revokd as its own process, 16
//! connections revoking tokens at every level, SIGKILL once more than 1,000 revocations
//! have been acknowledged while others are still in flight, then a restart on the same
//! store. Every acknowledged revocation holds; nothing that was not asked changed.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::future::join_all;
use futures_util::{Future, StreamExt, stream};
use revokd::store::DatabaseUrl;
use serde_json::json;
use tokio::sync::Mutex;

use crate::helpers::{fresh_sqlite, shared_postgres, unique};
use crate::process::{Process, free_port};

const CONNECTIONS: usize = 16;
const ACKNOWLEDGED_BEFORE_KILL: usize = 1000;

/// Runs `calls` with at most 16 in flight (each is a connection), in order.
async fn bounded<T>(calls: impl IntoIterator<Item = impl Future<Output = T>>) -> Vec<T> {
    stream::iter(calls).buffered(CONNECTIONS).collect().await
}

/// What one revocation asks and which tokens it must kill.
struct Target {
    token: String,
    level: &'static str,
    dies: Vec<String>,
}

async fn acknowledged_revocations_survive_sigkill(database: DatabaseUrl) {
    let first = Process::start(&database, free_port()).await;
    let server = &first.server;
    let domain = unique("crash");
    server.admin_post("/admin/v1/domains", json!({"name": domain})).await;
    let web = server
        .create_client(
            &domain,
            json!({"client_id":"web","grant_types":["client_credentials","password","refresh_token"]}),
        )
        .await;
    let rs = server.create_client(&domain, json!({"client_id":"rs"})).await;
    let mut targets = Vec::new();
    let mut untouched = Vec::new();
    // NONE: client tokens, one each; some are never revoked.
    let machine =
        bounded((0..1300).map(|_| server.token(&domain, &web, &[("grant_type", "client_credentials")]))).await;
    for (n, answer) in machine.iter().enumerate() {
        let token = answer.body["access_token"].as_str().expect("access token").to_owned();
        if n < 1200 {
            targets.push(Target {
                token: token.clone(),
                level: "NONE",
                dies: vec![token],
            });
        } else {
            untouched.push(token);
        }
    }
    // RELATED_TOKENS: families of one user; RELATED_CONSENT: users of their own.
    server.create_user(&domain, "fam", "pw").await;
    for n in 0..60 {
        let (access, refresh) = server.login(&domain, &web, "fam", "pw").await;
        if n < 50 {
            targets.push(Target {
                token: refresh.clone(),
                level: "RELATED_TOKENS",
                dies: vec![access, refresh],
            });
        } else {
            untouched.extend([access, refresh]);
        }
    }
    for n in 0..25 {
        let user = format!("u{n}");
        server.create_user(&domain, &user, "pw").await;
        let (access, refresh) = server.login(&domain, &web, &user, "pw").await;
        if n < 20 {
            targets.push(Target {
                token: access.clone(),
                level: "RELATED_CONSENT",
                dies: vec![access, refresh],
            });
        } else {
            untouched.extend([access, refresh]);
        }
    }
    // Mixed levels in every stretch of the run: ordered by the tokens' random tails.
    targets.sort_by(|a, b| a.token[a.token.len() - 16..].cmp(&b.token[b.token.len() - 16..]));

    let queue = Arc::new(Mutex::new(targets.into_iter()));
    let acknowledged: Arc<Mutex<Vec<Target>>> = Arc::default();
    let count = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (queue, acknowledged, count) = (queue.clone(), acknowledged.clone(), count.clone());
            let (address, domain, web) = (server.address.clone(), domain.clone(), web.clone());
            tokio::spawn(async move {
                // A connection of its own per worker.
                let http = reqwest::Client::builder().pool_max_idle_per_host(1).build().unwrap();
                loop {
                    let Some(target) = queue.lock().await.next() else { break };
                    let sent = http
                        .post(format!("{address}/oauth2/rest/token/revoke?identityDomain={domain}"))
                        .basic_auth(&web.client_id, web.secret.as_deref())
                        .form(&[("token", target.token.as_str()), ("revoke_level", target.level)])
                        .send()
                        .await;
                    match sent {
                        Ok(response) if response.status() == 200 => {
                            acknowledged.lock().await.push(target);
                            count.fetch_add(1, Ordering::SeqCst);
                        }
                        // The server is gone: what was in flight may or may not have happened.
                        _ => break,
                    }
                }
            })
        })
        .collect();
    while count.load(Ordering::SeqCst) < ACKNOWLEDGED_BEFORE_KILL {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    first.kill();
    join_all(workers).await;
    let acknowledged = std::mem::take(&mut *acknowledged.lock().await);
    let in_flight_or_left: BTreeSet<String> = queue.lock().await.by_ref().map(|t| t.token).collect();
    assert!(acknowledged.len() >= ACKNOWLEDGED_BEFORE_KILL);
    assert!(
        !in_flight_or_left.is_empty(),
        "the kill came while revocations were still to come"
    );

    let second = Process::start(&database, free_port()).await;
    let server = &second.server;
    let dead = acknowledged.iter().flat_map(|t| t.dies.iter());
    let dead_checks = bounded(dead.map(|token| server.is_active(&domain, &rs, token))).await;
    assert!(
        dead_checks.iter().all(|live| !live),
        "{} acknowledged revocations were lost",
        dead_checks.iter().filter(|l| **l).count()
    );
    let live_checks = bounded(untouched.iter().map(|token| server.is_active(&domain, &rs, token))).await;
    assert!(live_checks.iter().all(|live| *live), "a token nobody revoked died");
    second.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_revocations_survive_sigkill_on_sqlite() {
    let (database, _file) = fresh_sqlite();
    acknowledged_revocations_survive_sigkill(database).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_revocations_survive_sigkill_on_postgres() {
    let Some(database) = shared_postgres() else { return };
    acknowledged_revocations_survive_sigkill(database).await;
}
