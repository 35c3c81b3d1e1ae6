//! Accept loops: plain HTTP and HTTPS, each connection served by `http1` (our HTTP/1.1
//! loop, which holds no buffer while a request is parked), with graceful shutdown.

use crate::http1::{serve_connection, Limits};
use axum::Router;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

/// What handlers may know of the connection, inserted as a request extension.
#[derive(Debug, Clone, Copy)]
pub struct ConnInfo {
    pub peer: SocketAddr,
    /// True on the HTTPS listener.
    pub tls: bool,
}

/// Counts open connections so shutdown can wait for them to finish.
#[derive(Debug, Default, Clone)]
pub struct Connections(Arc<AtomicUsize>);

impl Connections {
    pub fn open(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }

    /// Waits until every connection has closed, or `limit` passes.
    pub async fn drain(&self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while self.open() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

struct ConnectionGuard(Arc<AtomicUsize>);

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Resolves once `shutdown` turns true (or its sender is gone).
pub async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|s| *s).await;
}

/// Serves `router` on `listener` until `shutdown` turns true.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<TlsAcceptor>,
    limits: Arc<Limits>,
    connections: Connections,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = crate::listener::stopped(&mut shutdown) => break,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        connections.0.fetch_add(1, Ordering::Relaxed);
        let guard = ConnectionGuard(connections.0.clone());
        let router = router.clone();
        let limits = limits.clone();
        let shutdown = shutdown.clone();
        // One spawn per kind, not one task with a match: a task is as big as its largest
        // state, and a plain connection need not carry room for a TLS handshake and stream.
        match tls.clone() {
            Some(acceptor) => {
                tokio::spawn(async move {
                    let _guard = guard;
                    let Some(tls_stream) = handshake(&acceptor, stream, peer).await else {
                        return;
                    };
                    let info = ConnInfo { peer, tls: true };
                    serve_connection(tls_stream, info, router, limits, shutdown).await
                });
            }
            None => {
                tokio::spawn(async move {
                    let _guard = guard;
                    let info = ConnInfo { peer, tls: false };
                    serve_connection(stream, info, router, limits, shutdown).await
                });
            }
        }
    }
}

/// The TLS handshake, bounded in time: one that stalls must not hold a slot forever.
/// (A function of its own, so its state does not stay in the connection's task.)
async fn handshake(
    acceptor: &TlsAcceptor,
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
) -> Option<tokio_rustls::server::TlsStream<tokio::net::TcpStream>> {
    let accepting = Box::pin(acceptor.accept(stream));
    match tokio::time::timeout(Duration::from_secs(30), accepting).await {
        Ok(Ok(tls_stream)) => Some(tls_stream),
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::debug!(%peer, "TLS handshake timed out");
            None
        }
    }
}
