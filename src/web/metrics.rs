//! Prometheus metrics kept in memory: requests by route and status, a latency histogram per route,
//! and the pool's connections (read at scrape time).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Default)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
}

#[derive(Default)]
pub struct Metrics(Mutex<Inner>);

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        // Unknown methods share one series, so odd requests cannot grow memory without bound.
        let method = match method {
            "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" => method,
            _ => "OTHER",
        };
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *m.requests
            .entry((method.to_string(), route.to_string(), status))
            .or_default() += 1;
        let h = m.latency.entry(route.to_string()).or_default();
        h.count += 1;
        h.sum += secs;
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                h.buckets[i] += 1;
            }
        }
    }

    /// The text exposition format.
    pub fn render(&self, pool: (u32, usize)) -> String {
        let m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        out.push_str(
            "# HELP agentdesk_http_requests_total HTTP requests by method, route and status.\n",
        );
        out.push_str("# TYPE agentdesk_http_requests_total counter\n");
        for ((method, route, status), n) in &m.requests {
            let _ = writeln!(
                out,
                "agentdesk_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
                esc(method),
                esc(route)
            );
        }
        out.push_str(
            "# HELP agentdesk_http_request_duration_seconds Time to answer a request, by route.\n",
        );
        out.push_str("# TYPE agentdesk_http_request_duration_seconds histogram\n");
        for (route, h) in &m.latency {
            let r = esc(route);
            for (i, le) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "agentdesk_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"{le}\"}} {}",
                    h.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "agentdesk_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "agentdesk_http_request_duration_seconds_sum{{route=\"{r}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "agentdesk_http_request_duration_seconds_count{{route=\"{r}\"}} {}",
                h.count
            );
        }
        let (size, idle) = pool;
        out.push_str("# HELP agentdesk_db_pool_connections Database pool connections by state.\n");
        out.push_str("# TYPE agentdesk_db_pool_connections gauge\n");
        let _ = writeln!(
            out,
            "agentdesk_db_pool_connections{{state=\"idle\"}} {idle}"
        );
        let _ = writeln!(
            out,
            "agentdesk_db_pool_connections{{state=\"in_use\"}} {}",
            (size as usize).saturating_sub(idle)
        );
        out
    }
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_buckets() {
        let m = Metrics::default();
        m.observe("GET", "/login", 200, Duration::from_millis(3));
        m.observe("GET", "/login", 200, Duration::from_millis(300));
        let text = m.render((3, 1));
        assert!(text.contains(
            "agentdesk_http_requests_total{method=\"GET\",route=\"/login\",status=\"200\"} 2"
        ));
        assert!(text.contains(
            "agentdesk_http_request_duration_seconds_bucket{route=\"/login\",le=\"0.005\"} 1"
        ));
        assert!(text.contains("agentdesk_http_request_duration_seconds_count{route=\"/login\"} 2"));
        assert!(text.contains("agentdesk_db_pool_connections{state=\"in_use\"} 2"));
    }
}
