//! Prometheus metrics through `metrics` and `metrics-exporter-prometheus`: requests by route and
//! status, a latency histogram per route, and the pool's connections (read at scrape time). Each
//! application has its own recorder (not the process-global one), so several instances in one
//! process (the tests) never mix their numbers.

use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusRecorder};

const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

pub struct Metrics(PrometheusRecorder);

impl Default for Metrics {
    fn default() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&BUCKETS)
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
        });
        Metrics(recorder)
    }
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        // Unknown methods share one series, so odd requests cannot grow memory without bound.
        let method = match method {
            "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" => method,
            _ => "OTHER",
        };
        metrics::with_local_recorder(&self.0, || {
            metrics::counter!(
                "agentdesk_http_requests_total",
                "method" => method.to_string(),
                "route" => route.to_string(),
                "status" => status.to_string()
            )
            .increment(1);
            metrics::histogram!("agentdesk_http_request_duration_seconds", "route" => route.to_string())
                .record(elapsed.as_secs_f64());
        });
    }

    /// The text exposition format, with the pool's connections as they are now.
    pub fn render(&self, pool: (u32, usize)) -> String {
        let (size, idle) = pool;
        metrics::with_local_recorder(&self.0, || {
            metrics::gauge!("agentdesk_db_pool_connections", "state" => "idle").set(idle as f64);
            metrics::gauge!("agentdesk_db_pool_connections", "state" => "in_use")
                .set((size as usize).saturating_sub(idle) as f64);
        });
        self.0.handle().render()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_buckets() {
        let m = Metrics::default();
        m.observe("GET", "/login", 200, Duration::from_millis(3));
        m.observe("GET", "/login", 200, Duration::from_millis(300));
        m.observe("BREW", "/login", 405, Duration::from_millis(1));
        let text = m.render((3, 1));
        assert!(
            text.contains(
                "agentdesk_http_requests_total{method=\"GET\",route=\"/login\",status=\"200\"} 2"
            ),
            "{text}"
        );
        assert!(text.contains("method=\"OTHER\""), "{text}");
        assert!(
            text.contains(
                "agentdesk_http_request_duration_seconds_bucket{route=\"/login\",le=\"0.005\"} 2"
            ),
            "{text}"
        );
        assert!(
            text.contains("agentdesk_http_request_duration_seconds_count{route=\"/login\"} 3"),
            "{text}"
        );
        assert!(
            text.contains("agentdesk_db_pool_connections{state=\"in_use\"} 2"),
            "{text}"
        );
    }
}
