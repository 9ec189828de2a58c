//! Slows guessing and noise (SPEC §5): failed authentications are counted per key (a
//! client address, or a domain's user name) over a sliding minute. Past the limit that
//! key is refused until its oldest failure leaves the window, without the credentials
//! being checked, so a right secret gains nothing either. Counts live in this process:
//! with several instances each one counts its own share (README, "Guarantees").

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
/// Past this many keys, stale ones are swept before another is added, so a flood of
/// addresses cannot grow the map without bound.
const SWEEP_ABOVE_KEYS: usize = 10_000;

/// What failures are counted by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FailureKey {
    Address(IpAddr),
    /// A user name of a domain (password sign-ins): a temporary lock of that name.
    User {
        domain: String,
        username: String,
    },
}

/// Failure counts per key; `per_minute == 0` switches the limit off.
#[derive(Debug)]
pub struct FailureLimit {
    per_minute: usize,
    failures: Mutex<HashMap<FailureKey, VecDeque<Instant>>>,
}

impl FailureLimit {
    pub fn new(per_minute: usize) -> Self {
        Self {
            per_minute,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(wait)` when `key` is over the limit: how long until an attempt is accepted.
    pub fn check(&self, key: &FailureKey) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }

    pub fn record(&self, key: FailureKey) {
        self.record_at(key, Instant::now());
    }

    fn check_at(&self, key: &FailureKey, now: Instant) -> Result<(), Duration> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let mut failures = self.lock();
        let Some(times) = failures.get_mut(key) else {
            return Ok(());
        };
        forget_before(times, now);
        match times.front() {
            Some(oldest) if times.len() >= self.per_minute => Err(WINDOW.saturating_sub(now - *oldest)),
            _ => Ok(()),
        }
    }

    fn record_at(&self, key: FailureKey, now: Instant) {
        if self.per_minute == 0 {
            return;
        }
        let mut failures = self.lock();
        if failures.len() >= SWEEP_ABOVE_KEYS && !failures.contains_key(&key) {
            failures.retain(|_, times| {
                forget_before(times, now);
                !times.is_empty()
            });
        }
        let times = failures.entry(key).or_default();
        forget_before(times, now);
        times.push_back(now);
        // Only the newest `per_minute` decide when the key is accepted again.
        while times.len() > self.per_minute {
            times.pop_front();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<FailureKey, VecDeque<Instant>>> {
        // The map holds no invariant a panic elsewhere could break half-way.
        self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn forget_before(times: &mut VecDeque<Instant>, now: Instant) {
    while times.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
        times.pop_front();
    }
}

/// Whole seconds for `Retry-After`, never 0 while refused.
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(last: u8) -> FailureKey {
        FailureKey::Address(IpAddr::from([192, 0, 2, last]))
    }

    #[test]
    fn the_limit_refuses_until_the_oldest_failure_leaves_the_window() {
        let limit = FailureLimit::new(3);
        let start = Instant::now();
        for second in 0..3 {
            assert!(limit.check_at(&address(1), start).is_ok());
            limit.record_at(address(1), start + Duration::from_secs(second));
        }
        let later = start + Duration::from_secs(10);
        assert_eq!(limit.check_at(&address(1), later), Err(Duration::from_secs(50)));
        // Other keys are never slowed.
        assert!(limit.check_at(&address(2), later).is_ok());
        assert!(limit.check_at(&address(1), start + WINDOW).is_ok());
    }

    #[test]
    fn zero_switches_it_off_and_stale_keys_are_swept() {
        let off = FailureLimit::new(0);
        for _ in 0..100 {
            off.record(address(1));
        }
        assert!(off.check(&address(1)).is_ok());

        let limit = FailureLimit::new(1);
        let start = Instant::now();
        for n in 0..SWEEP_ABOVE_KEYS as u32 {
            limit.record_at(FailureKey::Address(IpAddr::from(n.to_be_bytes())), start);
        }
        limit.record_at(address(1), start + WINDOW);
        assert_eq!(limit.lock().len(), 1);
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(3)), 3);
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
    }
}
