//! The load generator: N signed-in clients, each on its own keep-alive connection, sending one request
//! after the other for a fixed time; latencies of every request after the warm-up are kept.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::http::Client;

/// What one scenario's clients send.
#[derive(Clone)]
pub enum Work {
    /// GETs of these addresses, each client walking the list from its own offset; `expect` is the
    /// status every answer must have.
    Get {
        paths: Arc<Vec<String>>,
        expect: u16,
    },
    /// Approve form posts over distinct deliverables, each taken once from the shared list.
    Approve {
        prefix: &'static str,
        ids: Arc<Vec<String>>,
        next: Arc<AtomicUsize>,
    },
}

pub struct Outcome {
    pub requests: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub seconds: f64,
    pub latencies_us: Vec<u32>,
    /// Mean size of an answer's body as sent (compressed when asked for).
    pub mean_bytes: f64,
}

impl Outcome {
    /// Several runs as one: every request, error and latency of each (the rate then is their mean).
    pub fn merge(runs: impl IntoIterator<Item = Outcome>) -> Outcome {
        let mut all = Outcome {
            requests: 0,
            errors: 0,
            first_error: None,
            seconds: 0.0,
            latencies_us: vec![],
            mean_bytes: 0.0,
        };
        let mut bytes = 0.0;
        for r in runs {
            all.requests += r.requests;
            all.errors += r.errors;
            all.seconds += r.seconds;
            bytes += r.mean_bytes * r.requests as f64;
            all.latencies_us.extend(r.latencies_us);
            if all.first_error.is_none() {
                all.first_error = r.first_error;
            }
        }
        all.latencies_us.sort_unstable();
        all.mean_bytes = bytes / all.requests.max(1) as f64;
        all
    }

    pub fn rate(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    pub fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies_us.len() - 1) as f64 * p).round() as usize;
        self.latencies_us[i] as f64 / 1000.0
    }
}

/// Runs `work` on every client at once: `warmup` first (not counted), then `duration`.
pub async fn run(
    clients: &mut Vec<Client>,
    work: Work,
    warmup: Duration,
    duration: Duration,
) -> Outcome {
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let measure_from = start + warmup;
    let until = measure_from + duration;
    let mut tasks = vec![];
    for (n, mut client) in clients.drain(..).enumerate() {
        let work = work.clone();
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(1 << 16);
            let mut errors = 0u64;
            let mut bytes = 0u64;
            let mut first_error = None;
            let mut i = n;
            loop {
                let now = Instant::now();
                if now >= until || stop.load(Ordering::Relaxed) {
                    break;
                }
                let (result, expect) = match &work {
                    Work::Get { paths, expect } => {
                        let p = &paths[i % paths.len()];
                        i += 1;
                        (client.get(p).await, *expect)
                    }
                    Work::Approve { prefix, ids, next } => {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        let Some(id) = ids.get(k) else {
                            stop.store(true, Ordering::Relaxed);
                            break;
                        };
                        let path = format!("{prefix}/deliverables/{id}/approve");
                        (client.post_form(&path, &[]).await, 303)
                    }
                };
                let took = now.elapsed();
                let ok = match &result {
                    Ok(r) if r.status == expect => true,
                    Ok(r) => {
                        first_error.get_or_insert_with(|| {
                            format!("answered {} (expected {expect})", r.status)
                        });
                        false
                    }
                    Err(e) => {
                        first_error.get_or_insert_with(|| format!("{e:#}"));
                        false
                    }
                };
                if now >= measure_from {
                    if ok {
                        bytes += result.as_ref().map_or(0, |r| r.body.len() as u64);
                        lat.push(took.as_micros().min(u32::MAX as u128) as u32);
                    } else {
                        errors += 1;
                    }
                }
            }
            (client, lat, errors, first_error, bytes)
        }));
    }
    let mut latencies_us = vec![];
    let mut errors = 0;
    let mut first_error = None;
    let mut bytes = 0u64;
    for t in tasks {
        let (client, lat, e, fe, b) = t.await.expect("a load client does not panic");
        clients.push(client);
        bytes += b;
        latencies_us.extend(lat);
        errors += e;
        if first_error.is_none() {
            first_error = fe;
        }
    }
    let end = Instant::now().min(until).max(measure_from);
    let seconds = (end - measure_from).as_secs_f64().max(1e-3);
    latencies_us.sort_unstable();
    let answered = latencies_us.len().max(1) as u64;
    Outcome {
        mean_bytes: bytes as f64 / answered as f64,
        requests: latencies_us.len() as u64,
        errors,
        first_error,
        seconds,
        latencies_us,
    }
}
