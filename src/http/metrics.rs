//! Request counters and latency histograms, rendered in the Prometheus text format.
//! Routes are labelled by their pattern (`/admin/v1/domains/{domain}`), never by the
//! concrete path, so label sets stay few and no identifier leaks into them.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Default)]
struct Latency {
    count: u64,
    sum_secs: f64,
    /// Cumulative counts, one per bucket of `BUCKETS`.
    buckets: [u64; BUCKETS.len()],
}

pub struct Metrics {
    started: Instant,
    backend: &'static str,
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<(String, String), Latency>>,
}

impl Metrics {
    pub fn new(backend: &'static str) -> Self {
        Self {
            started: Instant::now(),
            backend,
            requests: Mutex::default(),
            latency: Mutex::default(),
        }
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        if let Ok(mut requests) = self.requests.lock() {
            *requests
                .entry((method.to_owned(), route.to_owned(), status))
                .or_default() += 1;
        }
        if let Ok(mut latency) = self.latency.lock() {
            let entry = latency.entry((method.to_owned(), route.to_owned())).or_default();
            let secs = elapsed.as_secs_f64();
            entry.count += 1;
            entry.sum_secs += secs;
            for (bucket, bound) in entry.buckets.iter_mut().zip(BUCKETS) {
                if secs <= bound {
                    *bucket += 1;
                }
            }
        }
    }

    pub fn render(&self, store_ready: bool) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP revokd_up Whether the store answered the last readiness probe."
        );
        let _ = writeln!(out, "# TYPE revokd_up gauge");
        let _ = writeln!(
            out,
            "revokd_up{{backend=\"{}\"}} {}",
            self.backend,
            u8::from(store_ready)
        );
        let _ = writeln!(
            out,
            "# HELP revokd_uptime_seconds Seconds since the process started serving."
        );
        let _ = writeln!(out, "# TYPE revokd_uptime_seconds gauge");
        let _ = writeln!(out, "revokd_uptime_seconds {:.3}", self.started.elapsed().as_secs_f64());
        let _ = writeln!(
            out,
            "# HELP revokd_http_requests_total HTTP requests answered, by method, route and status."
        );
        let _ = writeln!(out, "# TYPE revokd_http_requests_total counter");
        if let Ok(requests) = self.requests.lock() {
            for ((method, route, status), count) in requests.iter() {
                let _ = writeln!(
                    out,
                    "revokd_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {count}",
                    escape(method),
                    escape(route)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP revokd_http_request_duration_seconds Time to answer HTTP requests."
        );
        let _ = writeln!(out, "# TYPE revokd_http_request_duration_seconds histogram");
        if let Ok(latency) = self.latency.lock() {
            for ((method, route), l) in latency.iter() {
                let labels = format!("method=\"{}\",route=\"{}\"", escape(method), escape(route));
                for (bound, count) in BUCKETS.iter().zip(l.buckets) {
                    let _ = writeln!(
                        out,
                        "revokd_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}"
                    );
                }
                let _ = writeln!(
                    out,
                    "revokd_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                    l.count
                );
                let _ = writeln!(
                    out,
                    "revokd_http_request_duration_seconds_sum{{{labels}}} {}",
                    l.sum_secs
                );
                let _ = writeln!(
                    out,
                    "revokd_http_request_duration_seconds_count{{{labels}}} {}",
                    l.count
                );
            }
        }
        out
    }
}

fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_buckets_render() {
        let metrics = Metrics::new("sqlite");
        metrics.observe("GET", "/healthz", 200, Duration::from_micros(300));
        metrics.observe("GET", "/healthz", 200, Duration::from_millis(20));
        let text = metrics.render(true);
        assert!(text.contains("revokd_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"));
        assert!(text.contains(
            "revokd_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"0.0005\"} 1"
        ));
        assert!(text.contains("revokd_http_request_duration_seconds_count{method=\"GET\",route=\"/healthz\"} 2"));
        assert!(text.contains("revokd_up{backend=\"sqlite\"} 1"));
    }
}
