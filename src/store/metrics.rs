//! What the store counts for `/metrics` (`http::metrics` renders it): revocations by
//! level and outcome, counted once each has committed or failed, and failures by kind.
//! Process-wide counters, lock-free, shared by every store of the process.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::domain::revocation::RevokeLevel;

/// The label of a revocation's level; bulk revocations have none.
pub const LEVELS: [&str; 4] = ["NONE", "RELATED_TOKENS", "RELATED_CONSENT", "BULK"];

/// How a revocation ended: it ended tokens or consents, it found nothing live to end,
/// or the store failed it (the caller got a `503`).
pub const OUTCOMES: [&str; 3] = ["revoked", "nothing_live", "failed"];

/// What went wrong in the store, as `StoreError` says it: cannot reach or write now,
/// lost a lock conflict, or answered something unexpected.
pub const ERROR_KINDS: [&str; 3] = ["unavailable", "contention", "internal"];

static REVOCATIONS: [[AtomicU64; OUTCOMES.len()]; LEVELS.len()] =
    [const { [const { AtomicU64::new(0) }; OUTCOMES.len()] }; LEVELS.len()];
static ERRORS: [AtomicU64; ERROR_KINDS.len()] = [const { AtomicU64::new(0) }; ERROR_KINDS.len()];

fn level_index(level: Option<RevokeLevel>) -> usize {
    match level {
        Some(RevokeLevel::None) => 0,
        Some(RevokeLevel::RelatedTokens) => 1,
        Some(RevokeLevel::RelatedConsent) => 2,
        None => 3,
    }
}

/// One revocation done: `Some(true)` it ended something, `Some(false)` nothing was
/// live, `None` it failed.
pub fn revocation(level: Option<RevokeLevel>, ended: Option<bool>) {
    let outcome = match ended {
        Some(true) => 0,
        Some(false) => 1,
        None => 2,
    };
    REVOCATIONS[level_index(level)][outcome].fetch_add(1, Ordering::Relaxed);
}

pub fn error(kind: usize) {
    if let Some(counter) = ERRORS.get(kind) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// `(level, outcome, count)` for every pair.
pub fn revocations() -> impl Iterator<Item = (&'static str, &'static str, u64)> {
    LEVELS.iter().enumerate().flat_map(|(l, level)| {
        OUTCOMES
            .iter()
            .enumerate()
            .map(move |(o, outcome)| (*level, *outcome, REVOCATIONS[l][o].load(Ordering::Relaxed)))
    })
}

/// `(kind, count)` for every kind.
pub fn errors() -> impl Iterator<Item = (&'static str, u64)> {
    ERROR_KINDS
        .iter()
        .zip(&ERRORS)
        .map(|(kind, counter)| (*kind, counter.load(Ordering::Relaxed)))
}

/// Connections of the store's pool (PostgreSQL; SQLite's readers): open, idle, most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUsage {
    pub open: usize,
    pub idle: usize,
    pub max: usize,
}
