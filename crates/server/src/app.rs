//! The HTTP application: shared state and the routes.

use crate::access_log::{AccessLine, AccessLog, AccessRecord};
use crate::auth::{FailureLimiter, VerdictCache};
use crate::config::Config;
use crate::listener::ConnInfo;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use easd_engine::Engine;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Everything a request handler may reach.
pub struct App {
    pub config: Config,
    pub data_dir: PathBuf,
    pub engine: Arc<Engine>,
    pub verdicts: VerdictCache,
    pub limiter: FailureLimiter,
    pub access_log: AccessLog,
}

impl App {
    pub fn new(
        config: Config,
        data_dir: PathBuf,
        engine: Arc<Engine>,
        access_log: AccessLog,
    ) -> Arc<App> {
        Arc::new(App {
            verdicts: VerdictCache::new(Duration::from_secs(config.auth_cache_seconds)),
            limiter: FailureLimiter::new(
                config.auth_max_failures,
                Duration::from_secs(config.auth_lockout_seconds),
            ),
            config,
            data_dir,
            engine,
            access_log,
        })
    }

    /// The EAS URL phones are told to use: the configured public URL, or one derived from the
    /// request's Host and scheme.
    pub fn eas_url(&self, headers: &HeaderMap, conn: Option<&ConnInfo>) -> String {
        if let Some(url) = &self.config.public_url {
            let base = url.trim_end_matches('/');
            return if base.ends_with("/Microsoft-Server-ActiveSync") {
                base.to_owned()
            } else {
                format!("{base}/Microsoft-Server-ActiveSync")
            };
        }
        let host = headers
            .get("x-forwarded-host")
            .or_else(|| headers.get(axum::http::header::HOST))
            .and_then(|h| h.to_str().ok())
            .filter(|h| !h.is_empty() && h.len() < 256 && !h.contains(['/', ' ', '@']))
            .unwrap_or("localhost");
        let tls = conn.is_some_and(|c| c.tls)
            || headers
                .get("x-forwarded-proto")
                .and_then(|h| h.to_str().ok())
                .is_some_and(|p| p.eq_ignore_ascii_case("https"));
        let scheme = if tls { "https" } else { "http" };
        format!("{scheme}://{host}/Microsoft-Server-ActiveSync")
    }
}

pub fn router(app: Arc<App>) -> Router {
    let eas = axum::routing::options(crate::eas::options)
        .post(crate::eas::post)
        .get(crate::eas::get);
    Router::new()
        .route("/Microsoft-Server-ActiveSync", eas.clone())
        .route("/microsoft-server-activesync", eas)
        .route(
            "/autodiscover/autodiscover.xml",
            post(crate::routes::autodiscover_xml),
        )
        .route(
            "/Autodiscover/Autodiscover.xml",
            post(crate::routes::autodiscover_xml),
        )
        .route(
            "/autodiscover/autodiscover.json",
            get(crate::routes::autodiscover_json),
        )
        .route(
            "/autodiscover/autodiscover.json/v1.0/{email}",
            get(crate::routes::autodiscover_json_v1),
        )
        .route("/healthz", get(crate::routes::healthz))
        .fallback(|| async { StatusCode::NOT_FOUND })
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            access_log_layer,
        ))
        .with_state(app)
}

/// Measures every request and writes its access-log line.
async fn access_log_layer(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let client = request
        .extensions()
        .get::<ConnInfo>()
        .map(|c| c.peer.ip())
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    let bytes_in = content_length(request.headers());
    let response = next.run(request).await;
    let record = response
        .extensions()
        .get::<AccessRecord>()
        .cloned()
        .unwrap_or_default();
    let bytes_out = content_length(response.headers());
    let line = AccessLine {
        time: time::OffsetDateTime::now_utc(),
        client,
        method,
        path,
        record,
        http_status: response.status().as_u16(),
        duration: started.elapsed(),
        bytes_in,
        bytes_out,
    };
    crate::admin::metrics().request(&line);
    app.access_log.write(line);
    response
}

fn content_length(headers: &HeaderMap) -> u64 {
    headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// A plain-text error response: the status and one line saying why.
pub fn text_error(status: StatusCode, message: impl Into<String>) -> Response {
    let mut message = message.into();
    message.push('\n');
    (
        status,
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; charset=utf-8",
        )],
        Body::from(message),
    )
        .into_response()
}
