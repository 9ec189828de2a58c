//! SPEC §5: SIGTERM under load. 16 connections revoke tokens while revokd is told to
//! stop: every request it answered was answered properly (no 5xx), every acknowledged
//! revocation is durable after a restart, and the process exits cleanly within 30 s.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::future::join_all;
use futures_util::{StreamExt, stream};
use revokd::store::DatabaseUrl;
use serde_json::json;
use tokio::sync::Mutex;

use crate::helpers::{fresh_sqlite, shared_postgres, unique};
use crate::process::{Process, free_port};

const CONNECTIONS: usize = 16;
const TOKENS: usize = 1500;
const ACKNOWLEDGED_BEFORE_TERM: usize = 300;

async fn sigterm_drains_and_loses_nothing(database: DatabaseUrl) {
    let mut first = Process::start(&database, free_port()).await;
    let server = &first.server;
    let domain = unique("term");
    server.admin_post("/admin/v1/domains", json!({"name": domain})).await;
    let web = server
        .create_client(&domain, json!({"client_id":"web","grant_types":["client_credentials"]}))
        .await;
    let rs = server.create_client(&domain, json!({"client_id":"rs"})).await;
    let issued: Vec<String> = stream::iter(0..TOKENS)
        .map(|_| server.token(&domain, &web, &[("grant_type", "client_credentials")]))
        .buffered(CONNECTIONS)
        .map(|answer| answer.body["access_token"].as_str().expect("a token").to_owned())
        .collect()
        .await;

    let queue = Arc::new(Mutex::new(issued.into_iter()));
    let acknowledged: Arc<Mutex<Vec<String>>> = Arc::default();
    let failed: Arc<Mutex<Vec<u16>>> = Arc::default();
    let count = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (queue, acknowledged, failed, count) =
                (queue.clone(), acknowledged.clone(), failed.clone(), count.clone());
            let (address, domain, web) = (server.address.clone(), domain.clone(), web.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::builder().pool_max_idle_per_host(1).build().unwrap();
                loop {
                    let Some(token) = queue.lock().await.next() else { break };
                    let sent = http
                        .post(format!("{address}/oauth2/rest/token/revoke?identityDomain={domain}"))
                        .basic_auth(&web.client_id, web.secret.as_deref())
                        .form(&[("token", token.as_str())])
                        .send()
                        .await;
                    match sent {
                        Ok(response) if response.status() == 200 => {
                            acknowledged.lock().await.push(token);
                            count.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(response) => failed.lock().await.push(response.status().as_u16()),
                        // Refused or closed: the server stopped taking requests.
                        Err(_) => break,
                    }
                }
            })
        })
        .collect();
    while count.load(Ordering::SeqCst) < ACKNOWLEDGED_BEFORE_TERM {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    first.terminate();
    let exited = first.exited_within(Duration::from_secs(30)).await;
    join_all(workers).await;
    let (status, took) = exited.expect("revokd exits within 30 s of SIGTERM");
    assert!(status.success(), "a clean exit: {status}");
    eprintln!("revokd stopped {took:?} after SIGTERM");
    assert_eq!(
        *failed.lock().await,
        Vec::<u16>::new(),
        "every request answered was answered properly"
    );
    let acknowledged = std::mem::take(&mut *acknowledged.lock().await);
    assert!(acknowledged.len() >= ACKNOWLEDGED_BEFORE_TERM);
    assert!(
        acknowledged.len() < TOKENS,
        "SIGTERM came while revocations were still to come"
    );

    let second = Process::start(&database, free_port()).await;
    let server = &second.server;
    let still_live: Vec<bool> = stream::iter(&acknowledged)
        .map(|token| server.is_active(&domain, &rs, token))
        .buffered(CONNECTIONS)
        .collect()
        .await;
    assert!(
        still_live.iter().all(|live| !live),
        "{} acknowledged revocations were lost",
        still_live.iter().filter(|l| **l).count()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_on_sqlite() {
    let (database, _file) = fresh_sqlite();
    sigterm_drains_and_loses_nothing(database).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_on_postgres() {
    let Some(database) = shared_postgres() else { return };
    sigterm_drains_and_loses_nothing(database).await;
}
