//! The parser on its own, and the connection loop over loopback TCP with a small router.

use super::*;
use axum::routing::{get, post};
use std::sync::Arc;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};

fn head(text: &str) -> Result<Option<Head>, Reject> {
    parse_head(text.as_bytes(), &Limits::default())
}

#[test]
fn parses_a_complete_head_and_waits_for_a_partial_one() {
    let h = head("POST /Microsoft-Server-ActiveSync?Cmd=Ping HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
        .unwrap()
        .unwrap();
    assert_eq!(h.method, Method::POST);
    assert_eq!(h.uri.query(), Some("Cmd=Ping"));
    assert_eq!(h.version, Version::HTTP_11);
    assert_eq!(h.headers["host"], "x");
    assert_eq!(h.len, 83);
    assert_eq!(framing(&h), Ok(Framing::Length(3)));
    assert!(head("POST / HTTP/1.1\r\nHost: x\r\n").unwrap().is_none());
}

#[test]
fn refuses_malformed_and_oversized_heads() {
    let status = |text: &str| head(text).unwrap_err().status;
    assert_eq!(status("GARBAGE\r\n\r\n"), StatusCode::BAD_REQUEST);
    assert_eq!(
        status("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n"),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        status("GET / HTTP/2.0\r\n\r\n"),
        StatusCode::HTTP_VERSION_NOT_SUPPORTED
    );
    let many = format!(
        "GET / HTTP/1.1\r\n{}\r\n",
        "a: b\r\n".repeat(MAX_HEADERS + 1)
    );
    assert_eq!(status(&many), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    let limits = Limits {
        max_head_bytes: 64,
        ..Limits::default()
    };
    let long = format!("GET / HTTP/1.1\r\nx: {}", "y".repeat(100));
    let refused = parse_head(long.as_bytes(), &limits).unwrap_err();
    assert_eq!(refused.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
}

#[test]
fn body_framing_follows_rfc_9112() {
    let framing_of = |fields: &str| {
        let text = format!("POST / HTTP/1.1\r\n{fields}\r\n");
        framing(&head(&text).unwrap().unwrap())
    };
    assert_eq!(framing_of(""), Ok(Framing::None));
    assert_eq!(
        framing_of("Content-Length: 5, 5\r\n"),
        Ok(Framing::Length(5))
    );
    assert_eq!(
        framing_of("Transfer-Encoding: Chunked\r\n"),
        Ok(Framing::Chunked)
    );
    let status = |fields: &str| framing_of(fields).unwrap_err().status;
    assert_eq!(
        status("Content-Length: 5\r\nContent-Length: 6\r\n"),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(status("Content-Length: +5\r\n"), StatusCode::BAD_REQUEST);
    assert_eq!(
        status("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        status("Transfer-Encoding: gzip\r\n"),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        status("Transfer-Encoding: gzip, chunked\r\n"),
        StatusCode::NOT_IMPLEMENTED
    );
    let old = head("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n")
        .unwrap()
        .unwrap();
    assert_eq!(framing(&old).unwrap_err().status, StatusCode::BAD_REQUEST);
}

proptest::proptest! {
    /// The fuzz target's properties (crates/server/fuzz), on every `cargo test`.
    #[test]
    fn any_bytes_get_an_answer_never_a_panic(
        data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
        prefix in proptest::prop_oneof![
            proptest::prelude::Just(&b""[..]),
            proptest::prelude::Just(&b"POST /x HTTP/1.1\r\n"[..]),
        ],
    ) {
        let limits = Limits { max_head_bytes: 512, ..Limits::default() };
        let input = [prefix, &data[..]].concat();
        match parse_head(&input, &limits) {
            Ok(Some(head)) => {
                proptest::prop_assert!(head.len <= input.len().min(limits.max_head_bytes));
                let _ = framing(&head);
            }
            Ok(None) => proptest::prop_assert!(input.len() < limits.max_head_bytes),
            Err(r) => proptest::prop_assert!(r.status.as_u16() >= 400),
        }
        let _ = chunk_size(&data);
    }
}

#[test]
fn chunk_sizes() {
    assert_eq!(chunk_size(b"1a"), Ok(26));
    assert_eq!(chunk_size(b"0;name=value"), Ok(0));
    assert!(chunk_size(b"").is_err());
    assert!(chunk_size(b"-1").is_err());
    assert!(chunk_size(b"fffffffffffffffffff").is_err());
}

/// Drops: tells the test that a handler's future was dropped.
struct Dropped(Option<tokio::sync::oneshot::Sender<()>>);
impl Drop for Dropped {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

type Parked = Arc<tokio::sync::Mutex<Option<tokio::sync::oneshot::Sender<()>>>>;

struct TestServer {
    addr: std::net::SocketAddr,
    stop: watch::Sender<bool>,
    /// Set by the test before it sends GET /park: dropped with the handler.
    parked: Parked,
    /// Answers a parked request.
    release: Arc<tokio::sync::Notify>,
}

async fn server(limits: Limits) -> TestServer {
    let parked: Parked = Arc::default();
    let release = Arc::new(tokio::sync::Notify::new());
    let (p, r) = (parked.clone(), release.clone());
    let router =
        Router::new()
            .route("/echo", post(|body: Bytes| async move { body }))
            .route(
                "/peer",
                get(
                    |axum::Extension(info): axum::Extension<ConnInfo>| async move {
                        info.peer.to_string()
                    },
                ),
            )
            .route(
                "/stream",
                get(|| async {
                    let frames = futures_util::stream::iter(["first,", "second"].map(|s| {
                        Ok::<_, std::io::Error>(axum::body::Bytes::from_static(s.as_bytes()))
                    }));
                    Body::from_stream(frames)
                }),
            )
            .route(
                "/park",
                get(move || {
                    let (p, r) = (p.clone(), r.clone());
                    async move {
                        let _guard = Dropped(p.lock().await.take());
                        r.notified().await;
                        "released"
                    }
                }),
            );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stop_rx) = watch::channel(false);
    let limits = Arc::new(limits);
    tokio::spawn(async move {
        loop {
            let (stream, peer) = listener.accept().await.unwrap();
            let info = ConnInfo { peer, tls: false };
            tokio::spawn(serve_connection(
                stream,
                info,
                router.clone(),
                limits.clone(),
                stop_rx.clone(),
            ));
        }
    });
    TestServer {
        addr,
        stop,
        parked,
        release,
    }
}

/// One response: status, lower-cased head, body (Content-Length or chunked).
async fn response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> (u16, String, Vec<u8>) {
    response_to(stream, buf, false).await
}

async fn response_to(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    head_request: bool,
) -> (u16, String, Vec<u8>) {
    let find = |b: &[u8], n: &[u8]| b.windows(n.len()).position(|w| w == n);
    let end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i + 4;
        }
        assert!(
            stream.read_buf(buf).await.unwrap() > 0,
            "closed before a head"
        );
    };
    let head = String::from_utf8(buf[..end].to_vec())
        .unwrap()
        .to_ascii_lowercase();
    buf.drain(..end);
    let status = head[9..12].parse().unwrap();
    let mut body = Vec::new();
    if head.contains("transfer-encoding: chunked") {
        loop {
            let line_end = loop {
                if let Some(i) = find(buf, b"\r\n") {
                    break i;
                }
                stream.read_buf(buf).await.unwrap();
            };
            let size =
                usize::from_str_radix(std::str::from_utf8(&buf[..line_end]).unwrap(), 16).unwrap();
            buf.drain(..line_end + 2);
            while buf.len() < size + 2 {
                stream.read_buf(buf).await.unwrap();
            }
            body.extend(buf.drain(..size));
            buf.drain(..2);
            if size == 0 {
                break;
            }
        }
    } else if let Some(at) = head.find("content-length: ") {
        let n: usize = head[at + 16..]
            .split("\r\n")
            .next()
            .unwrap()
            .parse()
            .unwrap();
        if !head.starts_with("http/1.1 1") && !head_request {
            while buf.len() < n {
                assert!(stream.read_buf(buf).await.unwrap() > 0);
            }
            body.extend(buf.drain(..n));
        }
    }
    (status, head, body)
}

async fn closed(stream: &mut TcpStream) -> bool {
    let mut rest = Vec::new();
    matches!(stream.read_to_end(&mut rest).await, Ok(0))
}

async fn connect(s: &TestServer) -> (TcpStream, Vec<u8>) {
    (TcpStream::connect(s.addr).await.unwrap(), Vec::new())
}

#[tokio::test]
async fn keeps_the_connection_for_the_next_request() {
    let s = server(Limits::default()).await;
    let (mut c, mut buf) = connect(&s).await;
    for body in ["one", "two"] {
        let req = format!(
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        c.write_all(req.as_bytes()).await.unwrap();
        let (status, head, got) = response(&mut c, &mut buf).await;
        assert_eq!(status, 200);
        assert!(head.contains("content-length: 3\r\n"), "{head}");
        assert!(head.contains("date: "), "{head}");
        assert_eq!(got, body.as_bytes());
    }
    // Handlers see the connection's ConnInfo.
    c.write_all(b"GET /peer HTTP/1.1\r\n\r\n").await.unwrap();
    let (_, _, got) = response(&mut c, &mut buf).await;
    assert_eq!(
        String::from_utf8(got).unwrap(),
        c.local_addr().unwrap().to_string()
    );
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order() {
    let s = server(Limits::default()).await;
    let (mut c, mut buf) = connect(&s).await;
    c.write_all(b"POST /echo HTTP/1.1\r\nContent-Length: 1\r\n\r\naPOST /echo HTTP/1.1\r\nContent-Length: 1\r\n\r\nb")
        .await
        .unwrap();
    assert_eq!(response(&mut c, &mut buf).await.2, b"a");
    assert_eq!(response(&mut c, &mut buf).await.2, b"b");
}

#[tokio::test]
async fn decodes_chunked_bodies_within_the_limit() {
    let s = server(Limits {
        max_body_bytes: 10,
        ..Limits::default()
    })
    .await;
    let (mut c, mut buf) = connect(&s).await;
    c.write_all(b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: t\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(response(&mut c, &mut buf).await.2, b"abcde");
    c.write_all(b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n")
        .await
        .unwrap();
    assert_eq!(response(&mut c, &mut buf).await.0, 413);
    assert!(closed(&mut c).await);

    let (mut c, mut buf) = connect(&s).await;
    c.write_all(b"POST /echo HTTP/1.1\r\nContent-Length: 11\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(response(&mut c, &mut buf).await.0, 413);
}

#[tokio::test]
async fn answers_expect_100_continue_before_the_body() {
    let s = server(Limits::default()).await;
    let (mut c, mut buf) = connect(&s).await;
    c.write_all(b"POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(response(&mut c, &mut buf).await.0, 100);
    c.write_all(b"body").await.unwrap();
    let (status, _, body) = response(&mut c, &mut buf).await;
    assert_eq!((status, body.as_slice()), (200, b"body".as_slice()));
}

#[tokio::test]
async fn head_gets_no_body_and_http_1_0_and_close_end_the_connection() {
    let s = server(Limits::default()).await;
    let (mut c, mut buf) = connect(&s).await;
    c.write_all(b"HEAD /peer HTTP/1.1\r\n\r\nGET /peer HTTP/1.1\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (status, head, _) = response_to(&mut c, &mut buf, true).await;
    assert_eq!(status, 200);
    assert!(head.contains("content-length: "), "{head}");
    // The next bytes are the second response's, not a body of the first.
    let (status, head, body) = response(&mut c, &mut buf).await;
    assert_eq!(status, 200);
    assert!(head.contains("connection: close"), "{head}");
    assert!(!body.is_empty());
    assert!(closed(&mut c).await);

    let (mut c, mut buf) = connect(&s).await;
    c.write_all(b"GET /peer HTTP/1.0\r\n\r\n").await.unwrap();
    assert_eq!(response(&mut c, &mut buf).await.0, 200);
    assert!(closed(&mut c).await);
}

#[tokio::test]
async fn streams_a_body_of_unknown_length_in_chunks() {
    let s = server(Limits::default()).await;
    let (mut c, mut buf) = connect(&s).await;
    c.write_all(b"GET /stream HTTP/1.1\r\n\r\n").await.unwrap();
    let (status, head, body) = response(&mut c, &mut buf).await;
    assert_eq!(status, 200);
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    assert_eq!(body, b"first,second");
    // An HTTP/1.0 client cannot take chunks: the body ends with the connection.
    let (mut c, _) = connect(&s).await;
    c.write_all(b"GET /stream HTTP/1.0\r\n\r\n").await.unwrap();
    let mut all = Vec::new();
    c.read_to_end(&mut all).await.unwrap();
    assert!(
        all.ends_with(b"\r\n\r\nfirst,second"),
        "{}",
        String::from_utf8_lossy(&all)
    );
}

#[tokio::test]
async fn malformed_requests_get_4xx_and_the_connection_closes() {
    let s = server(Limits::default()).await;
    for (request, expected) in [
        ("NOT HTTP\r\n\r\n".to_string(), 400),
        (
            "POST /echo HTTP/1.1\r\nContent-Length: x\r\n\r\n".to_string(),
            400,
        ),
        (
            format!(
                "GET / HTTP/1.1\r\n{}\r\n",
                "a: b\r\n".repeat(MAX_HEADERS + 1)
            ),
            431,
        ),
        (format!("GET /{} HTTP/1.1\r\n", "a".repeat(70 * 1024)), 431),
        (
            "POST /echo HTTP/1.1\r\nExpect: magic\r\n\r\n".to_string(),
            417,
        ),
    ] {
        let (mut c, mut buf) = connect(&s).await;
        c.write_all(request.as_bytes()).await.unwrap();
        assert_eq!(
            response(&mut c, &mut buf).await.0,
            expected,
            "{request:.60}"
        );
        assert!(closed(&mut c).await);
    }
}

#[tokio::test]
async fn a_client_that_hangs_up_ends_its_parked_request() {
    let s = server(Limits::default()).await;
    let (tx, rx) = tokio::sync::oneshot::channel();
    *s.parked.lock().await = Some(tx);
    let (mut c, _) = connect(&s).await;
    c.write_all(b"GET /park HTTP/1.1\r\n\r\n").await.unwrap();
    // Wait until the handler runs (it took the sender), then hang up.
    while s.parked.lock().await.is_some() {
        tokio::task::yield_now().await;
    }
    drop(c);
    rx.await
        .expect("the parked handler is dropped when its client leaves");
}

#[tokio::test]
async fn shutdown_closes_idle_connections_and_answers_parked_ones_with_close() {
    let s = server(Limits::default()).await;
    let (mut idle, mut idle_buf) = connect(&s).await;
    idle.write_all(b"GET /peer HTTP/1.1\r\n\r\n").await.unwrap();
    assert_eq!(response(&mut idle, &mut idle_buf).await.0, 200);

    let (tx, _rx) = tokio::sync::oneshot::channel();
    *s.parked.lock().await = Some(tx);
    let (mut c, mut buf) = connect(&s).await;
    c.write_all(b"GET /park HTTP/1.1\r\n\r\n").await.unwrap();
    while s.parked.lock().await.is_some() {
        tokio::task::yield_now().await;
    }
    s.stop.send(true).unwrap();
    assert!(closed(&mut idle).await);
    s.release.notify_one();
    let (status, head, body) = response(&mut c, &mut buf).await;
    assert_eq!((status, body.as_slice()), (200, b"released".as_slice()));
    assert!(head.contains("connection: close"), "{head}");
    assert!(closed(&mut c).await);
}
