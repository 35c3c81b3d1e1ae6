//! Accept loops: plain HTTP and HTTPS on hyper's HTTP/1.1 connection driver, serving one
//! axum `Router`, with graceful shutdown.
//!
//! We drive hyper directly rather than through `axum::serve` so that TLS and plain share one
//! path and each parked connection costs as little memory as hyper allows.

use axum::Router;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tower::Service;

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
        let shutdown = shutdown.clone();
        // One spawn per kind, not one task with a match: a task is as big as its largest
        // state, and a plain connection need not carry room for a TLS handshake and stream.
        match tls.clone() {
            Some(acceptor) => {
                tokio::spawn(async move {
                    let _guard = guard;
                    // A handshake that stalls must not hold a slot forever.
                    let handshake =
                        tokio::time::timeout(Duration::from_secs(30), acceptor.accept(stream))
                            .await;
                    match handshake {
                        Ok(Ok(tls_stream)) => {
                            let info = ConnInfo { peer, tls: true };
                            serve_connection(tls_stream, info, router, shutdown).await
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
            None => {
                tokio::spawn(async move {
                    let _guard = guard;
                    serve_connection(stream, ConnInfo { peer, tls: false }, router, shutdown).await
                });
            }
        }
    }
}

/// Copies the header values and body chunks out of hyper's read buffer. hyper hands them
/// out as slices of that buffer, so a handler that keeps any of them (a parked Ping keeps
/// its headers and body until it answers) keeps the whole 8 KiB buffer alive while hyper
/// allocates another one to watch the connection: copying the few bytes is cheaper.
fn detach(
    request: hyper::Request<Incoming>,
) -> hyper::Request<impl hyper::body::Body<Data = Bytes, Error = hyper::Error>> {
    let (mut parts, body) = request.into_parts();
    for value in parts.headers.values_mut() {
        let copy = HeaderValue::from_maybe_shared(Bytes::copy_from_slice(value.as_bytes()));
        if let Ok(mut copy) = copy {
            copy.set_sensitive(value.is_sensitive());
            *value = copy;
        }
    }
    let body = body.map_frame(|frame| frame.map_data(|data| Bytes::copy_from_slice(&data)));
    hyper::Request::from_parts(parts, body)
}

async fn serve_connection<S>(
    stream: S,
    info: ConnInfo,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let mut request = detach(request);
        request.extensions_mut().insert(info);
        router.clone().call(request)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(60))
        .keep_alive(true)
        .max_buf_size(64 * 1024);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(peer = %info.peer, error = %e, "connection ended with an error");
            }
        }
        _ = crate::listener::stopped(&mut shutdown) => {
            // Finish the request in flight (parked Pings are answered by the hub), then close.
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(Duration::from_secs(10), conn).await;
        }
    }
}
