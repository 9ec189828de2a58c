//! A batch of revocations on PostgreSQL, as the batcher (`store::batcher`) gathers
//! them from concurrent requests: those that reach only their own token go through the
//! one-statement fast path, the others through [`super::execute`] in one transaction.
//! A batch that loses a lock conflict (PostgreSQL picked it as a deadlock victim) is
//! run again a few times, after a short random pause; should it still fail for a
//! reason other than the database being unreachable, its members are retried one by
//! one, so only the one that cannot be done fails.

use std::time::Duration;

use diesel_async::{AnsiTransactionManager, AsyncPgConnection, TransactionManager};

use super::{Revocation, Revoked, execute, fast_path};
use crate::store::batcher::Ran;
use crate::store::pool::finish_transaction;
use crate::store::{Db, StoreError};

pub(in crate::store) fn run(conn: &mut AsyncPgConnection, batch: Vec<Revocation>) -> Ran<'_, Revoked> {
    Box::pin(async move {
        let mut results: Vec<Option<Result<Revoked, StoreError>>> = batch.iter().map(|_| None).collect();
        type Numbered = Vec<(usize, Revocation)>;
        let (single, wide): (Numbered, Numbered) = batch
            .into_iter()
            .enumerate()
            .partition(|(_, r)| r.single_token().is_some());
        for (group, single_tokens) in [(single, true), (wide, false)] {
            if group.is_empty() {
                continue;
            }
            let (indexes, members): (Vec<usize>, Vec<Revocation>) = group.into_iter().unzip();
            let together = carry_out(conn, &members, single_tokens).await;
            let group_results: Vec<Result<Revoked, StoreError>> = match together {
                Ok(revoked) => revoked.into_iter().map(Ok).collect(),
                Err(error @ StoreError::Unavailable(_)) => return Err(error),
                Err(error) => {
                    tracing::warn!(%error, "a batch of revocations failed; retrying them one by one");
                    let mut alone = Vec::with_capacity(members.len());
                    for member in &members {
                        let result = carry_out(conn, std::slice::from_ref(member), false).await;
                        alone.push(result.map(|mut revoked| revoked.pop().unwrap_or_default()));
                    }
                    alone
                }
            };
            for (index, result) in indexes.into_iter().zip(group_results) {
                results[index] = Some(result);
            }
        }
        Ok(results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(StoreError::Internal("a revocation was left out of its batch".into()))))
            .collect())
    })
}

/// Runs lost to a lock conflict before the batch's members are tried one by one.
const CONTENTION_RETRIES: u32 = 3;

/// `batch` by the fast path or in one transaction, again while it loses lock conflicts.
/// Rows are locked in one order on every path (`marks.rs`), so a conflict takes
/// another writer outside that order; each rerun sees their committed work.
async fn carry_out(
    conn: &mut AsyncPgConnection,
    batch: &[Revocation],
    single_tokens: bool,
) -> Result<Vec<Revoked>, StoreError> {
    let mut reruns = 0;
    loop {
        let outcome = if single_tokens {
            fast_path::execute(conn, batch).await
        } else {
            in_transaction(conn, batch).await
        };
        match outcome {
            Err(StoreError::Contention(cause)) if reruns < CONTENTION_RETRIES => {
                reruns += 1;
                tracing::info!(%cause, reruns, "a batch of revocations lost a lock conflict; running it again");
                // Apart at random, so the two sides of a conflict do not meet again.
                tokio::time::sleep(Duration::from_millis(rand::random_range(1..=5 * u64::from(reruns)))).await;
            }
            outcome => return outcome,
        }
    }
}

async fn in_transaction(conn: &mut AsyncPgConnection, batch: &[Revocation]) -> Result<Vec<Revoked>, StoreError> {
    AnsiTransactionManager::begin_transaction(conn).await?;
    let outcome = execute(&mut Db::Postgres(conn), batch).await;
    finish_transaction(conn, outcome).await
}
