//! Logging: `tracing` to stderr, as text for people or JSON for collectors.
//! `RUST_LOG` filters (default `info`). Nothing logs a token, secret or password:
//! those live in newtypes whose `Debug` is redacted, and request spans carry only the
//! method, the path without its query string, and the request id.
//!
//! Requests actix cannot parse (bad header bytes, a duplicated `Content-Length`, a head
//! over its limit) are answered by actix itself, before any of revokd runs, and each is
//! logged by it at ERROR. Since any client can send them, those lines are held back and
//! summed up in one WARN line per [`SUMMARY_EVERY`] at most ([`MalformedRequests`]).

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, filter, fmt};

use crate::config::LogFormat;

/// Where actix's HTTP/1 connection handling logs what it answered by itself.
const MALFORMED_SOURCE: &str = "actix_http::h1::dispatcher";
/// At most one summary line per this long, however many malformed requests arrive.
pub const SUMMARY_EVERY: Duration = Duration::from_secs(10);

/// Installs the global subscriber; a second call (tests) leaves the first in place.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let not_noise = filter::filter_fn(|meta| !is_malformed_request_noise(meta));
    let base = fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let malformed = MalformedRequests::default();
    let registry = tracing_subscriber::registry().with(filter).with(malformed.clone());
    let installed = match format {
        LogFormat::Text => registry.with(base.with_filter(not_noise)).try_init(),
        LogFormat::Json => registry
            .with(base.json().flatten_event(true).with_filter(not_noise))
            .try_init(),
    };
    if installed.is_ok() {
        // A line cannot be logged from inside the logging of another, so the summaries
        // come from a thread of their own.
        let _ = std::thread::Builder::new().name("log-summaries".into()).spawn(move || {
            loop {
                std::thread::sleep(SUMMARY_EVERY);
                malformed.log_summary();
            }
        });
    }
}

fn is_malformed_request_noise(meta: &Metadata<'_>) -> bool {
    meta.target() == MALFORMED_SOURCE && *meta.level() == Level::ERROR
}

/// Holds back actix's ERROR lines about requests it refused; [`Self::log_summary`]
/// logs one WARN line for those held since the last one.
#[derive(Clone, Default)]
pub struct MalformedRequests {
    held: Arc<Mutex<Held>>,
}

#[derive(Default)]
struct Held {
    count: u64,
    last: String,
}

impl MalformedRequests {
    /// How many lines were held back since the last call, and the last one's text.
    fn take(&self) -> Option<(u64, String)> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        (held.count > 0).then(|| (std::mem::take(&mut held.count), std::mem::take(&mut held.last)))
    }

    pub fn log_summary(&self) {
        if let Some((count, last)) = self.take() {
            tracing::warn!(
                target: "revokd::http",
                count,
                last = %last,
                "malformed HTTP requests answered by actix itself (400, 408 or 431)"
            );
        }
    }
}

impl<S: Subscriber> Layer<S> for MalformedRequests {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        if !is_malformed_request_noise(event.metadata()) {
            return;
        }
        let mut message = Message::default();
        event.record(&mut message);
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        held.count += 1;
        held.last = message.0;
    }
}

/// The `message` of an event.
#[derive(Default)]
struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every event that reaches the formatter, as `(level, target)`.
    #[derive(Clone, Default)]
    struct Seen(Arc<Mutex<Vec<(Level, String)>>>);

    impl<S: Subscriber> Layer<S> for Seen {
        fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
            let meta = event.metadata();
            self.0.lock().unwrap().push((*meta.level(), meta.target().to_owned()));
        }
    }

    #[test]
    fn a_flood_of_malformed_requests_is_one_warn_line_not_many_errors() {
        let seen = Seen::default();
        let malformed = MalformedRequests::default();
        let subscriber = tracing_subscriber::registry().with(malformed.clone()).with(
            seen.clone()
                .with_filter(filter::filter_fn(|meta| !is_malformed_request_noise(meta))),
        );
        tracing::subscriber::with_default(subscriber, || {
            for _ in 0..1000 {
                tracing::error!(target: "actix_http::h1::dispatcher", "stream error: request parse error");
            }
            tracing::error!(target: "revokd::store", "a real error");
            malformed.log_summary();
            // Nothing held back since: no second line.
            malformed.log_summary();
        });
        let seen = seen.0.lock().unwrap();
        assert_eq!(
            *seen,
            [
                (Level::ERROR, "revokd::store".to_owned()),
                (Level::WARN, "revokd::http".to_owned())
            ]
        );
    }

    #[test]
    fn a_summary_counts_what_was_held_back_and_names_the_last() {
        let malformed = MalformedRequests::default();
        let subscriber = tracing_subscriber::registry().with(malformed.clone());
        tracing::subscriber::with_default(subscriber, || {
            tracing::error!(target: "actix_http::h1::dispatcher", "stream error: one");
            tracing::error!(target: "actix_http::h1::dispatcher", "stream error: two");
            tracing::info!(target: "actix_http::h1::dispatcher", "not an error");
        });
        assert_eq!(malformed.take(), Some((2, "stream error: two".to_owned())));
        assert_eq!(malformed.take(), None);
    }
}
