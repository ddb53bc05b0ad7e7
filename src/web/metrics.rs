//! Prometheus metrics through `metrics` and `metrics-exporter-prometheus`: requests by route and
//! status, a latency histogram per route, the pool's connections (read at scrape time), and what
//! the job passes did (runs by job and outcome, their durations, drafts generated, trials and
//! periods ended, outbox hand-overs; recorded by `crate::jobs`). Each application has its own
//! recorder (not the process-global one), so several instances in one process (the tests) never
//! mix their numbers; clones share it (the server and its scheduler loop).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use metrics::{Counter, Histogram};

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusRecorder};

const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// A job kind can take far longer than a request (100 000 goals, a long outbox).
const JOB_BUCKETS: [f64; 10] = [0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 30.0, 120.0];

/// Job runs by `job` and `outcome` (`ok`, `failed`, or `skipped` while another instance held it).
pub const JOB_RUNS: &str = "agentdesk_job_runs_total";
pub const JOB_DURATION: &str = "agentdesk_job_duration_seconds";
pub const DRAFTS_GENERATED: &str = "agentdesk_drafts_generated_total";
/// Trials ended, by `outcome` (`converted`, `not_converted`).
pub const TRIALS_ENDED: &str = "agentdesk_trials_ended_total";
/// Subscription periods ended, by `outcome` (`renewed`, `canceled`).
pub const PERIOD_ENDS: &str = "agentdesk_subscription_period_ends_total";
pub const OUTBOX_DELIVERED: &str = "agentdesk_outbox_delivered_total";
pub const OUTBOX_RETRIED: &str = "agentdesk_outbox_retried_total";
pub const OUTBOX_FAILED: &str = "agentdesk_outbox_failed_total";
/// Rows housekeeping removed, by `what` (`sessions`, `login_attempts`, `idempotency_keys`).
pub const PURGED: &str = "agentdesk_housekeeping_purged_total";

#[derive(Clone)]
pub struct Metrics {
    recorder: Arc<PrometheusRecorder>,
    /// Each route's request series, registered on its first request: later ones count through the
    /// handles, without building four label strings and looking them up in the recorder.
    routes: Arc<Mutex<HashMap<String, RouteSeries>>>,
}

struct RouteSeries {
    duration: Histogram,
    requests: HashMap<(&'static str, u16), Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&BUCKETS)
            .expect("the bucket list is not empty")
            .set_buckets_for_metric(Matcher::Full(JOB_DURATION.into()), &JOB_BUCKETS)
            .expect("the bucket list is not empty")
            .build_recorder();
        metrics::with_local_recorder(&recorder, || {
            metrics::describe_counter!(
                "agentdesk_http_requests_total",
                "HTTP requests by method, route and status."
            );
            metrics::describe_histogram!(
                "agentdesk_http_request_duration_seconds",
                metrics::Unit::Seconds,
                "Time to answer a request, by route."
            );
            metrics::describe_gauge!(
                "agentdesk_db_pool_connections",
                "Database pool connections by state."
            );
            metrics::describe_counter!(
                JOB_RUNS,
                "Job runs by job and outcome (ok, failed, skipped: another instance held it)."
            );
            metrics::describe_histogram!(
                JOB_DURATION,
                metrics::Unit::Seconds,
                "Time a job kind took in a pass, by job."
            );
            metrics::describe_counter!(
                DRAFTS_GENERATED,
                "Drafts the scheduler generated (one per goal and period)."
            );
            metrics::describe_counter!(TRIALS_ENDED, "Trials ended, by outcome.");
            metrics::describe_counter!(PERIOD_ENDS, "Subscription periods ended, by outcome.");
            metrics::describe_counter!(OUTBOX_DELIVERED, "Outbox hand-overs delivered.");
            metrics::describe_counter!(
                OUTBOX_RETRIED,
                "Outbox hand-overs that failed and wait for a retry."
            );
            metrics::describe_counter!(
                OUTBOX_FAILED,
                "Outbox hand-overs failed for good after their last attempt."
            );
            metrics::describe_counter!(PURGED, "Rows housekeeping removed, by kind.");
        });
        Metrics {
            recorder: Arc::new(recorder),
            routes: Arc::default(),
        }
    }
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        // Unknown methods share one series, so odd requests cannot grow memory without bound.
        let method = match method {
            "GET" => "GET",
            "HEAD" => "HEAD",
            "POST" => "POST",
            "PUT" => "PUT",
            "PATCH" => "PATCH",
            "DELETE" => "DELETE",
            "OPTIONS" => "OPTIONS",
            _ => "OTHER",
        };
        let recorder = self.recorder.as_ref();
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        if !routes.contains_key(route) {
            let duration = metrics::with_local_recorder(
                recorder,
                || metrics::histogram!("agentdesk_http_request_duration_seconds", "route" => route.to_string()),
            );
            let series = RouteSeries {
                duration,
                requests: HashMap::new(),
            };
            routes.insert(route.to_string(), series);
        }
        let series = routes.get_mut(route).expect("registered above");
        series
            .requests
            .entry((method, status))
            .or_insert_with(|| {
                metrics::with_local_recorder(recorder, || {
                    metrics::counter!(
                        "agentdesk_http_requests_total",
                        "method" => method,
                        "route" => route.to_string(),
                        "status" => status.to_string()
                    )
                })
            })
            .increment(1);
        series.duration.record(elapsed.as_secs_f64());
    }

    /// Runs `record` against this application's recorder: the `metrics` macros inside it count
    /// here (the job runner records a pass this way).
    pub fn record(&self, record: impl FnOnce()) {
        metrics::with_local_recorder(self.recorder.as_ref(), record);
    }

    /// The text exposition format, with the pool's connections as they are now.
    pub fn render(&self, pool: (u32, usize)) -> String {
        let (size, idle) = pool;
        metrics::with_local_recorder(self.recorder.as_ref(), || {
            metrics::gauge!("agentdesk_db_pool_connections", "state" => "idle").set(idle as f64);
            metrics::gauge!("agentdesk_db_pool_connections", "state" => "in_use")
                .set((size as usize).saturating_sub(idle) as f64);
        });
        self.recorder.handle().render()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_buckets() {
        fn shows(text: &str, line: &str) {
            assert!(text.contains(line), "{line} missing in:\n{text}");
        }
        const LOGIN_200: &str =
            "agentdesk_http_requests_total{method=\"GET\",route=\"/login\",status=\"200\"}";
        let m = Metrics::default();
        m.observe("GET", "/login", 200, Duration::from_millis(3));
        m.observe("GET", "/login", 200, Duration::from_millis(300));
        m.observe("BREW", "/login", 405, Duration::from_millis(1));
        let text = m.render((3, 1));
        shows(&text, &format!("{LOGIN_200} 2"));
        shows(&text, "method=\"OTHER\"");
        shows(
            &text,
            "agentdesk_http_request_duration_seconds_bucket{route=\"/login\",le=\"0.005\"} 2",
        );
        shows(
            &text,
            "agentdesk_http_request_duration_seconds_count{route=\"/login\"} 3",
        );
        shows(&text, "agentdesk_db_pool_connections{state=\"in_use\"} 2");
        // A route's series are registered once; what is counted after a scrape is in the next one.
        m.observe("GET", "/login", 200, Duration::from_millis(2));
        m.observe("GET", "/login", 303, Duration::from_millis(2));
        let text = m.render((3, 1));
        shows(&text, &format!("{LOGIN_200} 3"));
        shows(
            &text,
            "agentdesk_http_requests_total{method=\"GET\",route=\"/login\",status=\"303\"} 1",
        );
        shows(
            &text,
            "agentdesk_http_request_duration_seconds_count{route=\"/login\"} 5",
        );
    }
}
