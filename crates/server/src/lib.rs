//! easd's HTTP service: MS-ASHTTP and the EAS commands, Autodiscover, the access log, the
//! LMTP/SMTP listeners and TLS.

pub mod access_log;
pub mod admin;
pub mod admin_api;
pub mod app;
pub mod auth;
pub mod autodiscover;
mod commands;
pub mod config;
pub mod device_log;
mod eas;
pub mod http1;
pub mod listener;
pub mod lmtp;
mod routes;
pub mod tls;

use crate::access_log::{AccessLog, Destinations};
use crate::app::App;
use crate::config::Config;
use crate::listener::Connections;
use easd_engine::{Engine, EngineSettings};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("configuration: {0}")]
    Config(#[from] config::ConfigError),
    #[error("TLS: {0}")]
    Tls(#[from] tls::TlsError),
    #[error("opening the store in {path}: {source}")]
    Store {
        path: PathBuf,
        source: easd_engine::EngineError,
    },
    #[error("listening on {addr} ({what}): {source}")]
    Listen {
        what: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("access log: {0}")]
    AccessLog(std::io::Error),
}

/// Reads `easd.toml` from the data dir (or `config_file`) with `EASD_*` overrides.
pub fn load_config(data_dir: &Path, config_file: Option<&Path>) -> Result<Config, ServerError> {
    let file = config_file
        .map(Path::to_owned)
        .unwrap_or_else(|| data_dir.join("easd.toml"));
    Ok(Config::load(&file, std::env::vars())?)
}

pub fn engine_settings(config: &Config) -> EngineSettings {
    EngineSettings {
        max_message_bytes: config.max_message_bytes,
        hostname: config.hostname.clone(),
        fault_drop_client_deletes: config.fault_drop_client_deletes,
        admin_email: config
            .admin_email
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_lowercase),
        relay: commands::relay(config),
        // Validated when the configuration was loaded.
        time_zone: config.zone().unwrap_or(jiff::tz::TimeZone::UTC),
    }
}

/// The addresses a running server listens on.
#[derive(Debug, Clone, Default)]
pub struct Bound {
    pub http: Option<SocketAddr>,
    pub https: Option<SocketAddr>,
    pub lmtp: Option<SocketAddr>,
    pub smtp: Option<SocketAddr>,
    /// The admin listener (/metrics, /healthz, /readyz).
    pub admin: Option<SocketAddr>,
    pub tls_fingerprint: Option<String>,
}

/// A started server: its addresses, and the handle that stops it.
pub struct Server {
    pub bound: Bound,
    pub app: Arc<App>,
    shutdown: watch::Sender<bool>,
    connections: Connections,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Server {
    /// Binds every configured listener and starts serving.
    pub async fn start(config: Config, data_dir: PathBuf) -> Result<Server, ServerError> {
        std::fs::create_dir_all(&data_dir).map_err(|source| ServerError::Store {
            path: data_dir.clone(),
            source: easd_engine::EngineError::Task(source.to_string()),
        })?;
        let engine = Engine::open(&data_dir, engine_settings(&config)).map_err(|source| {
            ServerError::Store {
                path: data_dir.clone(),
                source,
            }
        })?;
        if config.fault_drop_client_deletes {
            tracing::warn!("fault_drop_client_deletes is on: client Sync Deletes are acknowledged and dropped (tests only)");
        }
        let access_log =
            AccessLog::start(&data_dir, Destinations::from_setting(&config.access_log))
                .map_err(ServerError::AccessLog)?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let connections = Connections::default();
        let mut bound = Bound::default();
        let mut tasks = Vec::new();
        let app = App::new(config.clone(), data_dir.clone(), engine.clone(), access_log);
        let router = app::router(app.clone());
        let limits = Arc::new(http1::Limits {
            max_body_bytes: config.max_request_bytes,
            ..http1::Limits::default()
        });

        let bind = |what: &'static str, addr: SocketAddr| async move {
            TcpListener::bind(addr)
                .await
                .map_err(|source| ServerError::Listen { what, addr, source })
        };
        if let Some(addr) = config.listen_addr("http_listen") {
            let listener = bind("HTTP", addr).await?;
            bound.http = listener.local_addr().ok();
            tasks.push(tokio::spawn(listener::serve(
                listener,
                router.clone(),
                None,
                limits.clone(),
                connections.clone(),
                shutdown_rx.clone(),
            )));
        }
        if let Some(addr) = config.listen_addr("https_listen") {
            let tls = tls::load_or_create(
                &data_dir,
                config.tls_cert.as_deref(),
                config.tls_key.as_deref(),
                &config.hostname,
            )?;
            let listener = bind("HTTPS", addr).await?;
            bound.https = listener.local_addr().ok();
            bound.tls_fingerprint = Some(tls.fingerprint.clone());
            let acceptor = tokio_rustls::TlsAcceptor::from(tls.config.clone());
            tasks.push(tokio::spawn(listener::serve(
                listener,
                router.clone(),
                Some(acceptor),
                limits.clone(),
                connections.clone(),
                shutdown_rx.clone(),
            )));
        }
        for (key, dialect) in [
            ("lmtp_listen", lmtp::Dialect::Lmtp),
            ("smtp_listen", lmtp::Dialect::Smtp),
        ] {
            let Some(addr) = config.listen_addr(key) else {
                continue;
            };
            let what = if dialect == lmtp::Dialect::Lmtp {
                "LMTP"
            } else {
                "SMTP"
            };
            let listener = bind(what, addr).await?;
            let local = listener.local_addr().ok();
            match dialect {
                lmtp::Dialect::Lmtp => bound.lmtp = local,
                lmtp::Dialect::Smtp => bound.smtp = local,
            }
            let session = lmtp::SessionConfig {
                dialect,
                hostname: config.hostname.clone(),
                max_message_bytes: config.max_message_bytes,
                idle_timeout: Duration::from_secs(300),
            };
            tasks.push(tokio::spawn(lmtp::serve(
                listener,
                engine.clone(),
                session,
                shutdown_rx.clone(),
            )));
        }
        if let Some(addr) = config.listen_addr("admin_listen") {
            if let Some((local, task)) = admin::start(addr, &data_dir, engine.clone()).await {
                bound.admin = Some(local);
                tasks.push(task);
            }
        }
        tasks.push(tokio::spawn(watch_other_processes(
            engine.clone(),
            shutdown_rx.clone(),
        )));
        Ok(Server {
            bound,
            app,
            shutdown,
            connections,
            tasks,
        })
    }

    /// Answers every parked Ping at once, stops accepting, and waits for open requests.
    pub async fn shutdown(self) {
        self.app.engine.hub.shutdown();
        let _ = self.shutdown.send(true);
        self.connections.drain(Duration::from_secs(15)).await;
        for t in self.tasks {
            t.abort();
        }
    }
}

/// Wakes Pings for writes made by another process on the same data dir (`easd deliver`,
/// the CLI): the store's global change counter is cheap to poll.
async fn watch_other_processes(engine: Arc<Engine>, mut shutdown: watch::Receiver<bool>) {
    let mut seen = match engine.blocking(|s| Ok(s.change_counter()?)).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "reading the change counter failed");
            0
        }
    };
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            _ = crate::listener::stopped(&mut shutdown) => return,
        }
        let since = seen;
        let result = engine
            .blocking(move |s| {
                let now = s.change_counter()?;
                if now == since {
                    return Ok((now, None));
                }
                Ok((now, Some(s.accounts_changed_since(since)?)))
            })
            .await;
        match result {
            Ok((now, Some(changes))) => {
                seen = now;
                engine.wake_for(changes);
            }
            Ok((now, None)) => seen = now,
            Err(e) => tracing::warn!(error = %e, "polling for changes failed"),
        }
    }
}
