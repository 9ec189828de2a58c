//! Status-list slots for issuance. Each process reserves ranges of indices in the store
//! ([`status_lists::reserve_range`], one small write per [`RANGE_SIZE`] tokens) and hands
//! them out from memory, so issuance never waits on a shared counter and no two
//! instances ever share an index. What a process had not handed out when it stops stays
//! VALID and unused: harmless.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::clock::Clock;
use crate::domain::status_list::{RANGE_SIZE, StatusSlot};
use crate::store::status_lists::{self, Reserved};
use crate::store::{Store, StoreError};

#[derive(Default)]
pub struct Allocator {
    /// Per domain, the rest of the range being handed out; its lock is held across a
    /// reservation, so one task reserves while the others of that domain wait for it.
    ranges: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<Option<Range>>>>>,
}

#[derive(Debug, Clone, Copy)]
struct Range {
    list: i64,
    next: i64,
    end: i64,
}

impl Range {
    fn take(&mut self) -> Option<StatusSlot> {
        (self.next < self.end).then(|| {
            self.next += 1;
            StatusSlot {
                list: self.list,
                idx: self.next - 1,
            }
        })
    }
}

impl From<Reserved> for Range {
    fn from(reserved: Reserved) -> Self {
        Self {
            list: reserved.list,
            next: reserved.start,
            end: reserved.end,
        }
    }
}

impl Allocator {
    /// A slot no other token of the domain has had or will have.
    pub async fn allocate(&self, store: &Store, clock: &Clock, domain_id: i64) -> Result<StatusSlot, StoreError> {
        let cell = {
            let mut ranges = self
                .ranges
                .lock()
                .map_err(|_| StoreError::Internal("status list ranges: lock poisoned".into()))?;
            ranges.entry(domain_id).or_default().clone()
        };
        let mut range = cell.lock().await;
        if let Some(slot) = range.as_mut().and_then(Range::take) {
            return Ok(slot);
        }
        let now = clock.now();
        let reserved = store
            .write(move |mut db| Box::pin(async move { status_lists::reserve_range(&mut db, domain_id, now).await }))
            .await?;
        debug_assert_eq!(reserved.end - reserved.start, RANGE_SIZE);
        let mut fresh = Range::from(reserved);
        let slot = fresh
            .take()
            .ok_or_else(|| StoreError::Internal("status list ranges: an empty range".into()))?;
        *range = Some(fresh);
        Ok(slot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_hands_out_each_index_once() {
        let mut range = Range::from(Reserved {
            list: 2,
            start: 1024,
            end: 1027,
        });
        let taken: Vec<_> = std::iter::from_fn(|| range.take()).map(|s| (s.list, s.idx)).collect();
        assert_eq!(taken, [(2, 1024), (2, 1025), (2, 1026)]);
        assert!(range.take().is_none());
    }
}
