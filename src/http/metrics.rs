//! Request counters and latency histograms, rendered in the Prometheus text format.
//! Routes are labelled by their pattern (`/admin/v1/domains/{domain}`), never by the
//! concrete path, so label sets stay few and no identifier leaks into them.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::store::metrics::{self as store_metrics, PoolUsage};

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

/// Everything counted for one (route, method).
#[derive(Default)]
struct Route {
    by_status: BTreeMap<u16, u64>,
    latency: Latency,
}

pub struct Metrics {
    started: Instant,
    backend: &'static str,
    /// route pattern → method → counts. Looked up by `&str`, so counting a request
    /// allocates nothing once its route has been seen.
    routes: Mutex<BTreeMap<String, BTreeMap<String, Route>>>,
}

impl Metrics {
    pub fn new(backend: &'static str) -> Self {
        Self {
            started: Instant::now(),
            backend,
            routes: Mutex::default(),
        }
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let Ok(mut routes) = self.routes.lock() else { return };
        if !routes.contains_key(route) {
            routes.insert(route.to_owned(), BTreeMap::new());
        }
        let Some(methods) = routes.get_mut(route) else { return };
        if !methods.contains_key(method) {
            methods.insert(method.to_owned(), Route::default());
        }
        let Some(entry) = methods.get_mut(method) else { return };
        *entry.by_status.entry(status).or_default() += 1;
        let secs = elapsed.as_secs_f64();
        let latency = &mut entry.latency;
        latency.count += 1;
        latency.sum_secs += secs;
        for (bucket, bound) in latency.buckets.iter_mut().zip(BUCKETS) {
            if secs <= bound {
                *bucket += 1;
            }
        }
    }

    pub fn render(&self, store_ready: bool, pool: PoolUsage) -> String {
        let mut out = String::new();
        render_store(&mut out, pool);
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
        let Ok(routes) = self.routes.lock() else { return out };
        let each = || {
            routes
                .iter()
                .flat_map(|(route, methods)| methods.iter().map(move |(method, counts)| (method, route, counts)))
        };
        for (method, route, counts) in each() {
            for (status, count) in &counts.by_status {
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
        for (method, route, counts) in each() {
            let l = &counts.latency;
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
        out
    }
}

/// The store's counters (`store::metrics`) and its pool's connections.
fn render_store(out: &mut String, pool: PoolUsage) {
    let _ = writeln!(
        out,
        "# HELP revokd_revocations_total Revocations carried out, every way of revoking (refresh-token reuse as RELATED_TOKENS), by level (BULK: by watermark) and outcome."
    );
    let _ = writeln!(out, "# TYPE revokd_revocations_total counter");
    for (level, outcome, count) in store_metrics::revocations() {
        let _ = writeln!(
            out,
            "revokd_revocations_total{{level=\"{level}\",outcome=\"{outcome}\"}} {count}"
        );
    }
    let _ = writeln!(
        out,
        "# HELP revokd_store_errors_total Requests the store failed, by kind (answered 503, or 500 for internal)."
    );
    let _ = writeln!(out, "# TYPE revokd_store_errors_total counter");
    for (kind, count) in store_metrics::errors() {
        let _ = writeln!(out, "revokd_store_errors_total{{kind=\"{kind}\"}} {count}");
    }
    let _ = writeln!(
        out,
        "# HELP revokd_db_pool_connections Connections of the store's pool (SQLite: its readers), by state; max is the configured size."
    );
    let _ = writeln!(out, "# TYPE revokd_db_pool_connections gauge");
    for (state, value) in [
        ("in_use", pool.open.saturating_sub(pool.idle)),
        ("idle", pool.idle),
        ("max", pool.max),
    ] {
        let _ = writeln!(out, "revokd_db_pool_connections{{state=\"{state}\"}} {value}");
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
        let text = metrics.render(
            true,
            PoolUsage {
                open: 3,
                idle: 1,
                max: 16,
            },
        );
        assert!(text.contains("revokd_db_pool_connections{state=\"in_use\"} 2"));
        assert!(text.contains("revokd_revocations_total{level=\"BULK\",outcome=\"failed\"}"));
        assert!(text.contains("revokd_store_errors_total{kind=\"contention\"}"));
        assert!(text.contains("revokd_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"));
        assert!(text.contains(
            "revokd_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"0.0005\"} 1"
        ));
        assert!(text.contains("revokd_http_request_duration_seconds_count{method=\"GET\",route=\"/healthz\"} 2"));
        assert!(text.contains("revokd_up{backend=\"sqlite\"} 1"));
    }
}
