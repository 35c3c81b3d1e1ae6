//! The admin listener (`admin_listen`, loopback by default): `/healthz`, `/readyz` and
//! `/metrics` in the Prometheus text format.
//!
//! The metrics are kept in a small hand-kept registry (one process-wide [`Metrics`]), fed by
//! the access-log layer (every request, with its command, HTTP and EAS status and duration)
//! and by authentication (failures).
//!
//! Access: `/healthz` and `/readyz` are open. `/metrics` is open to loopback peers (the
//! default listener is loopback only, and `easd top` reads it); from any other address it
//! needs `Authorization: Bearer <token>`, the token being the content of `admin.token` in the
//! data dir, created at first start with mode 0600.

use crate::access_log::AccessLine;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use easd_engine::stats::Direction;
use easd_engine::Engine;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Upper bounds (seconds) of the request duration histogram: parked Pings run for minutes.
const BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
    1800.0, 3600.0,
];

/// Upper bounds (seconds) of the push latency histogram: a wake-up takes milliseconds.
const PUSH_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

struct Histogram {
    bounds: &'static [f64],
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram::with_bounds(BUCKETS)
    }
}

impl Histogram {
    fn with_bounds(bounds: &'static [f64]) -> Self {
        Histogram {
            bounds,
            counts: vec![0; bounds.len()],
            sum: 0.0,
            count: 0,
        }
    }

    fn observe(&mut self, seconds: f64) {
        for (i, bound) in self.bounds.iter().enumerate() {
            if seconds <= *bound {
                self.counts[i] += 1;
            }
        }
        self.sum += seconds;
        self.count += 1;
    }
}

impl Histogram {
    /// The `_bucket`, `_sum` and `_count` lines; `labels` ends with a comma when not empty.
    fn render(&self, out: &mut String, name: &str, labels: &str) {
        for (bound, n) in self.bounds.iter().zip(&self.counts) {
            let _ = writeln!(out, "{name}_bucket{{{labels}le=\"{bound}\"}} {n}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels}le=\"+Inf\"}} {}", self.count);
        let plain = match labels.trim_end_matches(',') {
            "" => String::new(),
            l => format!("{{{l}}}"),
        };
        let _ = writeln!(out, "{name}_sum{plain} {}", self.sum);
        let _ = writeln!(out, "{name}_count{plain} {}", self.count);
    }
}

/// The process-wide registry.
pub struct Metrics {
    /// (command, HTTP status, EAS status) → count.
    requests: Mutex<BTreeMap<(String, u16, String), u64>>,
    durations: Mutex<BTreeMap<String, Histogram>>,
    push_latency: Mutex<Histogram>,
    auth_failures: AtomicU64,
    server_errors: AtomicU64,
    bytes_out: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            requests: Default::default(),
            durations: Default::default(),
            push_latency: Mutex::new(Histogram::with_bounds(PUSH_BUCKETS)),
            auth_failures: Default::default(),
            server_errors: Default::default(),
            bytes_out: Default::default(),
        }
    }
}

/// The registry every part of the server records into.
pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::default)
}

impl Metrics {
    /// Records one finished request (called by the access-log layer).
    pub fn request(&self, line: &AccessLine) {
        let command = line.record.command.unwrap_or("other").to_owned();
        let eas = line
            .record
            .eas_status
            .map(|s| s.to_string())
            .unwrap_or_else(|| "-".into());
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((command.clone(), line.http_status, eas))
                .or_default() += 1;
        }
        if let Ok(mut m) = self.durations.lock() {
            m.entry(command)
                .or_default()
                .observe(line.duration.as_secs_f64());
        }
        if line.http_status >= 500 {
            self.server_errors.fetch_add(1, Ordering::Relaxed);
        }
        self.bytes_out.fetch_add(line.bytes_out, Ordering::Relaxed);
    }

    /// Records one refused login (wrong password, unknown user, locked out).
    pub fn auth_failure(&self) {
        self.auth_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// Records the time from a change's commit to the answer of the Ping it woke.
    pub fn push_latency(&self, latency: Duration) {
        if let Ok(mut h) = self.push_latency.lock() {
            h.observe(latency.as_secs_f64());
        }
    }

    /// The Prometheus text exposition, with the gauges read now.
    pub fn render(
        &self,
        parked: usize,
        store_seconds: Option<f64>,
        synced: &[((&str, Direction), u64)],
    ) -> String {
        let mut out = String::new();
        let label = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        out.push_str("# HELP easd_requests_total HTTP requests by EAS command, HTTP status and EAS status.\n");
        out.push_str("# TYPE easd_requests_total counter\n");
        if let Ok(m) = self.requests.lock() {
            for ((cmd, http, eas), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "easd_requests_total{{command=\"{}\",http=\"{http}\",eas=\"{}\"}} {n}",
                    label(cmd),
                    label(eas)
                );
            }
        }
        out.push_str("# HELP easd_request_duration_seconds Request duration by EAS command.\n");
        out.push_str("# TYPE easd_request_duration_seconds histogram\n");
        if let Ok(m) = self.durations.lock() {
            for (cmd, h) in m.iter() {
                h.render(
                    &mut out,
                    "easd_request_duration_seconds",
                    &format!("command=\"{}\",", label(cmd)),
                );
            }
        }
        out.push_str("# HELP easd_push_latency_seconds From the commit of a change to the Ping it wakes answering Status 2.\n");
        out.push_str("# TYPE easd_push_latency_seconds histogram\n");
        if let Ok(h) = self.push_latency.lock() {
            h.render(&mut out, "easd_push_latency_seconds", "");
        }
        out.push_str(
            "# HELP easd_items_synced_total Items in Sync Commands, by class and direction.\n",
        );
        out.push_str("# TYPE easd_items_synced_total counter\n");
        for ((class, direction), n) in synced {
            let _ = writeln!(
                out,
                "easd_items_synced_total{{class=\"{}\",direction=\"{}\"}} {n}",
                label(class),
                direction.as_str()
            );
        }
        let mut scalar = |name: &str, kind: &str, help: &str, value: String| {
            let _ = write!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
            );
        };
        scalar(
            "easd_parked_pings",
            "gauge",
            "Ping and wait-Sync requests parked now.",
            parked.to_string(),
        );
        scalar(
            "easd_auth_failures_total",
            "counter",
            "Refused logins.",
            self.auth_failures.load(Ordering::Relaxed).to_string(),
        );
        scalar(
            "easd_http_5xx_total",
            "counter",
            "Responses with a 5xx status.",
            self.server_errors.load(Ordering::Relaxed).to_string(),
        );
        scalar(
            "easd_response_bytes_total",
            "counter",
            "Response body bytes (Content-Length).",
            self.bytes_out.load(Ordering::Relaxed).to_string(),
        );
        if let Some(s) = store_seconds {
            scalar(
                "easd_store_query_seconds",
                "gauge",
                "Time of a trivial store query made for this scrape.",
                format!("{s:.6}"),
            );
        }
        scalar("easd_up", "gauge", "1 while the process runs.", "1".into());
        out
    }
}

/// Reads `admin.token` in the data dir, creating it (random, mode 0600) when missing.
pub fn load_or_create_token(data_dir: &Path) -> std::io::Result<String> {
    let path = data_dir.join("admin.token");
    if let Ok(text) = std::fs::read_to_string(&path) {
        let t = text.trim().to_owned();
        if !t.is_empty() {
            return Ok(t);
        }
    }
    let bytes: [u8; 32] = rand::random();
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    use std::io::Write;
    let mut f = options.open(&path)?;
    f.write_all(token.as_bytes())?;
    f.write_all(b"\n")?;
    Ok(token)
}

struct Admin {
    engine: Arc<Engine>,
    token: String,
}

/// Times a trivial store query; None when the store fails.
async fn store_query(engine: &Engine) -> Result<f64, String> {
    let started = Instant::now();
    let answer = tokio::time::timeout(
        Duration::from_secs(5),
        engine.blocking(|s| Ok(s.change_counter()?)),
    )
    .await;
    match answer {
        Ok(Ok(_)) => Ok(started.elapsed().as_secs_f64()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("store query timed out".into()),
    }
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(admin): State<Arc<Admin>>) -> Response {
    match store_query(&admin.engine).await {
        Ok(_) => (StatusCode::OK, "ready\n").into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("store: {e}\n")).into_response(),
    }
}

async fn metrics_route(
    State(admin): State<Arc<Admin>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if !peer.ip().is_loopback() && !bearer_ok(&headers, &admin.token) {
        return (
            StatusCode::UNAUTHORIZED,
            "Authorization: Bearer <admin.token> required\n",
        )
            .into_response();
    }
    let store = store_query(&admin.engine).await.ok();
    let synced = admin.engine.stats.items();
    let body = metrics().render(admin.engine.hub.parked(), store, &synced);
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

pub(crate) fn bearer_ok(headers: &HeaderMap, token: &str) -> bool {
    let Some(given) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    // Constant-time comparison.
    given.len() == token.len()
        && given
            .bytes()
            .zip(token.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

pub fn router(engine: Arc<Engine>, token: String) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_route))
        .fallback(|| async { StatusCode::NOT_FOUND })
        .with_state(Arc::new(Admin {
            engine: engine.clone(),
            token: token.clone(),
        }))
        .merge(crate::admin_api::routes(engine, token))
}

/// Binds the admin listener and serves it until the task is aborted. A failure to bind is
/// logged, not fatal: the mail service matters more than its dashboard.
pub async fn start(
    addr: SocketAddr,
    data_dir: &Path,
    engine: Arc<Engine>,
) -> Option<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let token = match load_or_create_token(data_dir) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "admin.token: admin listener not started");
            return None;
        }
    };
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(%addr, error = %e, "admin listener not started");
            return None;
        }
    };
    let local = listener.local_addr().ok()?;
    let app = router(engine, token).into_make_service_with_connect_info::<SocketAddr>();
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "admin listener stopped");
        }
    });
    tracing::info!("admin listener on {local} (/metrics, /healthz, /readyz)");
    Some((local, task))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histogram() {
        let m = Metrics::default();
        let line = AccessLine {
            time: time::OffsetDateTime::now_utc(),
            client: std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
            method: "POST".into(),
            path: "/Microsoft-Server-ActiveSync".into(),
            record: crate::access_log::AccessRecord {
                command: Some("Sync"),
                eas_status: Some(1),
                ..Default::default()
            },
            http_status: 200,
            duration: Duration::from_millis(20),
            bytes_in: 0,
            bytes_out: 10,
        };
        m.request(&line);
        m.auth_failure();
        m.push_latency(Duration::from_millis(3));
        let synced = [(("Email", Direction::ToDevice), 4)];
        let text = m.render(3, Some(0.001), &synced);
        assert!(text.contains("easd_push_latency_seconds_bucket{le=\"0.0025\"} 0"));
        assert!(text.contains("easd_push_latency_seconds_bucket{le=\"0.005\"} 1"));
        assert!(text.contains("easd_push_latency_seconds_count 1"));
        assert!(text.contains("easd_items_synced_total{class=\"Email\",direction=\"to_device\"} 4"));
        assert!(text.contains("easd_requests_total{command=\"Sync\",http=\"200\",eas=\"1\"} 1"));
        assert!(
            text.contains("easd_request_duration_seconds_bucket{command=\"Sync\",le=\"0.025\"} 1")
        );
        assert!(
            text.contains("easd_request_duration_seconds_bucket{command=\"Sync\",le=\"0.01\"} 0")
        );
        assert!(text.contains("easd_parked_pings 3"));
        assert!(text.contains("easd_auth_failures_total 1"));
    }

    #[test]
    fn bearer() {
        let mut h = HeaderMap::new();
        assert!(!bearer_ok(&h, "abc"));
        h.insert("authorization", "Bearer abc".parse().unwrap());
        assert!(bearer_ok(&h, "abc"));
        assert!(!bearer_ok(&h, "abd"));
    }
}
