//! A batch of revocations on PostgreSQL, as the batcher (`store::batcher`) gathers
//! them from concurrent requests: those that reach only their own token go through the
//! one-statement fast path, the others through [`super::execute`] in one transaction.
//! Should either fail for a reason other than the database being unreachable, its
//! members are retried one by one, so only the one that cannot be done fails.

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
            let together = if single_tokens {
                fast_path::execute(conn, &members).await
            } else {
                in_transaction(conn, &members).await
            };
            let group_results: Vec<Result<Revoked, StoreError>> = match together {
                Ok(revoked) => revoked.into_iter().map(Ok).collect(),
                Err(error @ StoreError::Unavailable(_)) => return Err(error),
                Err(error) => {
                    tracing::warn!(%error, "a batch of revocations failed; retrying them one by one");
                    let mut alone = Vec::with_capacity(members.len());
                    for member in &members {
                        let result = in_transaction(conn, std::slice::from_ref(member)).await;
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

async fn in_transaction(conn: &mut AsyncPgConnection, batch: &[Revocation]) -> Result<Vec<Revoked>, StoreError> {
    AnsiTransactionManager::begin_transaction(conn).await?;
    let outcome = execute(&mut Db::Postgres(conn), batch).await;
    finish_transaction(conn, outcome).await
}
