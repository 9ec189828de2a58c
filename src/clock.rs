//! The one source of "now". Stored times are Unix microseconds (UTC); tests move the
//! clock instead of sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, SecondsFormat};

/// Microseconds since the Unix epoch, UTC.
pub type UnixMicros = i64;

pub const MICROS_PER_SEC: i64 = 1_000_000;

#[derive(Clone, Default)]
pub struct Clock {
    /// Added to the system time; only tests change it.
    offset_micros: Arc<AtomicI64>,
}

impl Clock {
    pub fn system() -> Self {
        Self::default()
    }

    pub fn now(&self) -> UnixMicros {
        let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        i64::try_from(since_epoch.as_micros()).unwrap_or(i64::MAX) + self.offset_micros.load(Ordering::Relaxed)
    }

    /// Moves this clock (and every clone of it) forward.
    pub fn advance(&self, by: Duration) {
        let micros = i64::try_from(by.as_micros()).unwrap_or(i64::MAX);
        self.offset_micros.fetch_add(micros, Ordering::Relaxed);
    }
}

/// RFC 3339 in UTC with a `Z`, e.g. `2026-11-24T09:30:00Z`.
pub fn rfc3339(at: UnixMicros) -> String {
    DateTime::from_timestamp_micros(at)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// Parses an RFC 3339 instant (any offset) into Unix microseconds.
pub fn parse_rfc3339(raw: &str) -> Option<UnixMicros> {
    DateTime::parse_from_rfc3339(raw).ok().map(|t| t.timestamp_micros())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips_at_second_precision() {
        let t = 1_764_000_000 * MICROS_PER_SEC;
        assert_eq!(parse_rfc3339(&rfc3339(t)), Some(t));
        assert!(rfc3339(t).ends_with('Z'));
        assert_eq!(
            parse_rfc3339("2026-01-01T01:00:00+01:00"),
            parse_rfc3339("2026-01-01T00:00:00Z")
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn advancing_moves_every_clone() {
        let clock = Clock::system();
        let clone = clock.clone();
        let before = clone.now();
        clock.advance(Duration::from_secs(3600));
        assert!(clone.now() - before >= 3600 * MICROS_PER_SEC);
    }
}
