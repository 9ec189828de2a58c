//! Migrations go up, down and up again on both backends.

use revokd::store::DatabaseUrl;
use revokd::store::migrations::{self, Direction};

use crate::helpers::{fresh_postgres_database, fresh_sqlite, skip_postgres};

async fn up_down_up(url: &DatabaseUrl) {
    let applied = migrations::run(url, Direction::Up).await.unwrap();
    assert!(!applied.is_empty(), "a fresh database gets every migration");
    assert!(
        migrations::run(url, Direction::Up).await.unwrap().is_empty(),
        "nothing left to apply"
    );
    let reverted = migrations::run(url, Direction::DownAll).await.unwrap();
    assert_eq!(reverted.len(), applied.len());
    let again = migrations::run(url, Direction::Up).await.unwrap();
    assert_eq!(again, applied);
    // The schema is usable after the round trip.
    let store = revokd::store::Store::open(url, &Default::default()).await.unwrap();
    store.ping().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_migrations_go_up_down_and_up() {
    let (url, _file) = fresh_sqlite();
    up_down_up(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_migrations_go_up_down_and_up() {
    let url = match fresh_postgres_database("migrations") {
        Ok(url) => DatabaseUrl::Postgres(url),
        Err(reason) => return skip_postgres::<()>(&reason).unwrap_or(()),
    };
    up_down_up(&url).await;
}
