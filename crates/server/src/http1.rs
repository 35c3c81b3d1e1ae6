//! HTTP/1.1 server connections (RFC 9112) of our own, serving the axum `Router`.
//!
//! Why not hyper's: hyper keeps an 8 KiB read buffer and an 8 KiB write buffer for as long
//! as a connection lives, also while its request handler is pending. A parked Ping is pending
//! for up to an hour, so those 16 KiB were half of what each one cost. This loop holds a
//! buffer only while it reads a request or writes a response: it reads the head and the body,
//! drops its buffer, calls the router, and allocates again to write the answer.
//!
//! While a handler is pending the connection is still watched, through a buffer on the
//! stack that exists only inside one poll: a client that hangs up ends its request (as
//! hyper does without half-close), and bytes it sends early (pipelining) are kept.

use crate::listener::ConnInfo;
use axum::body::{Body, HttpBody};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::{Method, Request, Response, StatusCode, Uri, Version};
use axum::Router;
use bytes::Bytes;
use http_body_util::BodyExt;
use std::future::Future;
use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{ready, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::sync::watch;
use tower::Service;

/// At most this many header fields in a request head (431 beyond).
pub const MAX_HEADERS: usize = 100;

/// Bounds on what one client may make a connection hold or wait for.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Request line and header fields together (431 beyond).
    pub max_head_bytes: usize,
    /// Request body, decoded (413 beyond).
    pub max_body_bytes: usize,
    /// How long a kept-alive connection may wait for its next request.
    pub idle_timeout: Duration,
    /// How long a request head may take once its first byte came (slowloris).
    pub head_timeout: Duration,
    /// How long a request body may go without a byte arriving.
    pub body_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_head_bytes: 64 * 1024,
            max_body_bytes: 50 * 1024 * 1024,
            idle_timeout: Duration::from_secs(120),
            head_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(60),
        }
    }
}

/// A parsed request head.
#[derive(Debug)]
pub struct Head {
    pub method: Method,
    pub uri: Uri,
    pub version: Version,
    pub headers: HeaderMap,
    /// Its length on the wire, up to and including the empty line.
    pub len: usize,
}

/// Why a request is refused before it reaches the router; the connection then closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reject {
    pub status: StatusCode,
    pub reason: &'static str,
}

const fn reject(status: StatusCode, reason: &'static str) -> Reject {
    Reject { status, reason }
}

/// Parses a request head from the start of `buf`: `Ok(None)` while it is incomplete.
pub fn parse_head(buf: &[u8], limits: &Limits) -> Result<Option<Head>, Reject> {
    let too_large = reject(
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "request head too large",
    );
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut fields);
    let len = match request.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if buf.len() >= limits.max_head_bytes => {
            return Err(too_large)
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(reject(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "too many header fields",
            ))
        }
        Err(httparse::Error::Version) => {
            return Err(reject(
                StatusCode::HTTP_VERSION_NOT_SUPPORTED,
                "only HTTP/1.0 and HTTP/1.1 are served here",
            ))
        }
        Err(_) => return Err(reject(StatusCode::BAD_REQUEST, "malformed request head")),
    };
    if len > limits.max_head_bytes {
        return Err(too_large);
    }
    let malformed = |reason| reject(StatusCode::BAD_REQUEST, reason);
    // A complete parse has all three; httparse leaves them unset only on Partial.
    let (Some(method), Some(target), Some(minor)) = (request.method, request.path, request.version)
    else {
        return Err(malformed("malformed request line"));
    };
    let method = Method::from_bytes(method.as_bytes()).map_err(|_| malformed("bad method"))?;
    let uri = target
        .parse::<Uri>()
        .map_err(|_| malformed("bad request target"))?;
    let version = if minor == 0 {
        Version::HTTP_10
    } else {
        Version::HTTP_11
    };
    // One copy of the head backs every header value.
    let shared = Bytes::copy_from_slice(&buf[..len]);
    let mut headers = HeaderMap::with_capacity(request.headers.len());
    for field in request.headers.iter() {
        let name = HeaderName::from_bytes(field.name.as_bytes())
            .map_err(|_| malformed("bad header field name"))?;
        // httparse hands out slices of `buf`: the same range of the copy.
        let start = field.value.as_ptr() as usize - buf.as_ptr() as usize;
        let value = HeaderValue::from_maybe_shared(shared.slice(start..start + field.value.len()))
            .map_err(|_| malformed("bad header field value"))?;
        headers.append(name, value);
    }
    Ok(Some(Head {
        method,
        uri,
        version,
        headers,
        len,
    }))
}

/// How the request body is delimited (RFC 9112 6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    None,
    Length(u64),
    Chunked,
}

/// RFC 9112 6.1–6.3: Transfer-Encoding (chunked only) or one Content-Length; both together,
/// or conflicting lengths, are refused rather than guessed (request smuggling).
pub fn framing(head: &Head) -> Result<Framing, Reject> {
    let bad = |reason| reject(StatusCode::BAD_REQUEST, reason);
    let mut codings = Vec::new();
    for value in head.headers.get_all(header::TRANSFER_ENCODING) {
        let text = value.to_str().map_err(|_| bad("bad Transfer-Encoding"))?;
        codings.extend(
            text.split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_ascii_lowercase),
        );
    }
    let mut length: Option<u64> = None;
    for value in head.headers.get_all(header::CONTENT_LENGTH) {
        let text = value.to_str().map_err(|_| bad("bad Content-Length"))?;
        for part in text.split(',').map(str::trim) {
            if part.is_empty() || part.len() > 19 || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("bad Content-Length"));
            }
            let n: u64 = part.parse().map_err(|_| bad("bad Content-Length"))?;
            if length.is_some_and(|l| l != n) {
                return Err(bad("conflicting Content-Length"));
            }
            length = Some(n);
        }
    }
    if head.headers.contains_key(header::TRANSFER_ENCODING) {
        // RFC 9112 6.1: Transfer-Encoding in HTTP/1.0 means faulty framing.
        if head.version == Version::HTTP_10 {
            return Err(bad("Transfer-Encoding in an HTTP/1.0 request"));
        }
        if length.is_some() {
            return Err(bad("both Transfer-Encoding and Content-Length"));
        }
        // RFC 9112 6.3: chunked must be the final coding; other codings we do not decode.
        if codings.last().map(String::as_str) != Some("chunked") {
            return Err(bad("chunked is not the final transfer coding"));
        }
        if codings.len() > 1 {
            return Err(reject(
                StatusCode::NOT_IMPLEMENTED,
                "only the chunked transfer coding is supported",
            ));
        }
        return Ok(Framing::Chunked);
    }
    Ok(match length {
        Some(0) | None => Framing::None,
        Some(n) => Framing::Length(n),
    })
}

/// Whether the client wants the connection kept after this request (RFC 9112 9.3).
fn wants_keep_alive(version: Version, headers: &HeaderMap) -> bool {
    let has = |token: &str| {
        headers
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    if version == Version::HTTP_10 {
        has("keep-alive")
    } else {
        !has("close")
    }
}

/// Serves requests on one connection until the client leaves, a limit is hit, or shutdown.
///
/// Not an `async fn`: an async fn's future holds its arguments twice (rust-lang/rust#62958),
/// and with TLS `io` is 1.2 KB; an `async move` block holds what it captures once.
#[allow(clippy::manual_async_fn)] // on purpose: see above
pub fn serve_connection<S>(
    mut io: S,
    info: ConnInfo,
    mut router: Router,
    limits: std::sync::Arc<Limits>,
    mut shutdown: watch::Receiver<bool>,
) -> impl Future<Output = ()> + Send
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    async move {
        // Bytes received beyond the request being served: empty but for pipelining.
        let mut pending: Vec<u8> = Vec::new();
        loop {
            // Reading and writing are boxed, each in a statement of its own: inline, their
            // futures took room in this task for as long as it lives, a parked request too
            // (the compiler did not overlap them with the handler's: 2.0 KB instead of 0.6).
            let Some(Incoming {
                request,
                mut keep_alive,
                is_head,
                version,
            }) = Box::pin(next_request(&mut io, &mut pending, &limits, &mut shutdown)).await
            else {
                return;
            };
            let handling = router.call(with_info(request, info));
            let Some(response) = respond(handling, &mut io, &mut pending).await else {
                return;
            };
            if *shutdown.borrow() {
                keep_alive = false;
            }
            let written = Box::pin(write_response(
                &mut io, response, is_head, version, keep_alive,
            ))
            .await;
            match written {
                Ok(true) => {}
                Ok(false) => {
                    let _ = io.shutdown().await;
                    return;
                }
                Err(e) => {
                    tracing::debug!(peer = %info.peer, error = %e, "writing a response failed");
                    return;
                }
            }
        }
    }
}

/// Runs the handler; None when the client hung up first (the handler, a parked Ping, ends
/// with it). Not an `async fn`, for the reason given at `serve_connection`.
#[allow(clippy::manual_async_fn)] // on purpose: see above
fn respond<'a, S, F>(
    mut handling: F,
    io: &'a mut S,
    pending: &'a mut Vec<u8>,
) -> impl Future<Output = Option<Response<Body>>> + Send + 'a
where
    S: AsyncRead + Unpin + Send,
    F: Future<Output = Result<Response<Body>, std::convert::Infallible>> + Unpin + Send + 'a,
{
    async move {
        loop {
            // Watch the client only while nothing of its is waiting to be read.
            if !pending.is_empty() {
                let Ok(response) = (&mut handling).await;
                return Some(response);
            }
            tokio::select! {
                biased;
                response = &mut handling => {
                    let Ok(response) = response;
                    return Some(response);
                }
                read = read_some(io, pending) => {
                    if !matches!(read, Ok(n) if n > 0) {
                        return None;
                    }
                }
            }
        }
    }
}

/// A request read from the connection, and what answering it needs to know.
struct Incoming {
    request: Request<Body>,
    keep_alive: bool,
    is_head: bool,
    version: Version,
}

fn with_info(mut request: Request<Body>, info: ConnInfo) -> Request<Body> {
    request.extensions_mut().insert(info);
    request
}

/// Reads the next request, head and body; None when the connection is to close (a refused
/// request has been answered).
async fn next_request<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut S,
    pending: &mut Vec<u8>,
    limits: &Limits,
    shutdown: &mut watch::Receiver<bool>,
) -> Option<Incoming> {
    let head = match read_head(io, pending, limits, shutdown).await {
        Ok(Some(head)) => head,
        Ok(None) => return None,
        Err(r) => {
            refuse(io, r).await;
            return None;
        }
    };
    let body = match read_body(io, pending, &head, limits).await {
        Ok(Some(body)) => body,
        Ok(None) => return None,
        Err(r) => {
            refuse(io, r).await;
            return None;
        }
    };
    if pending.is_empty() {
        // Give back what the head and body needed.
        *pending = Vec::new();
    } else {
        pending.shrink_to_fit();
    }
    let keep_alive = wants_keep_alive(head.version, &head.headers);
    let is_head = head.method == Method::HEAD;
    let version = head.version;
    let mut request = Request::new(body);
    *request.method_mut() = head.method;
    *request.uri_mut() = head.uri;
    *request.version_mut() = head.version;
    *request.headers_mut() = head.headers;
    Some(Incoming {
        request,
        keep_alive,
        is_head,
        version,
    })
}

/// Reads into `into` through a buffer on the stack, which exists only during one poll: a
/// connection waiting for bytes holds no buffer. Ok(0) is the end of the stream.
async fn read_some<S: AsyncRead + Unpin>(io: &mut S, into: &mut Vec<u8>) -> io::Result<usize> {
    std::future::poll_fn(|cx| {
        let mut stack = [MaybeUninit::<u8>::uninit(); 8192];
        let mut buf = ReadBuf::uninit(&mut stack);
        ready!(Pin::new(&mut *io).poll_read(cx, &mut buf))?;
        into.extend_from_slice(buf.filled());
        Poll::Ready(Ok(buf.filled().len()))
    })
    .await
}

/// Reads with a time limit; None when the client left or was too slow.
async fn read_within<S: AsyncRead + Unpin>(
    io: &mut S,
    into: &mut Vec<u8>,
    limit: Duration,
) -> Option<usize> {
    match tokio::time::timeout(limit, read_some(io, into)).await {
        Ok(Ok(n)) if n > 0 => Some(n),
        _ => None,
    }
}

/// Waits for the next request head: Ok(None) when the connection should just close.
async fn read_head<S: AsyncRead + Unpin>(
    io: &mut S,
    pending: &mut Vec<u8>,
    limits: &Limits,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<Option<Head>, Reject> {
    if pending.is_empty() {
        // Idle between requests: only here does shutdown close the connection at once.
        tokio::select! {
            read = read_within(io, pending, limits.idle_timeout) => {
                if read.is_none() {
                    return Ok(None);
                }
            }
            _ = crate::listener::stopped(shutdown) => return Ok(None),
        }
    }
    let deadline = tokio::time::Instant::now() + limits.head_timeout;
    loop {
        if let Some(head) = parse_head(pending, limits)? {
            pending.drain(..head.len);
            return Ok(Some(head));
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if read_within(io, pending, left).await.is_none() {
            return Ok(None);
        }
    }
}

/// Reads the whole body (limits.max_body_bytes), answering `Expect: 100-continue` first.
/// Ok(None) when the client left or stalled.
async fn read_body<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut S,
    pending: &mut Vec<u8>,
    head: &Head,
    limits: &Limits,
) -> Result<Option<Body>, Reject> {
    let framing = framing(head)?;
    if let Framing::Length(n) = framing {
        if n > limits.max_body_bytes as u64 {
            return Err(reject(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body too large",
            ));
        }
    }
    if let Some(expect) = head.headers.get(header::EXPECT) {
        // RFC 9110 10.1.1: 100-continue is the only expectation defined.
        if !expect.as_bytes().eq_ignore_ascii_case(b"100-continue") {
            return Err(reject(
                StatusCode::EXPECTATION_FAILED,
                "unsupported expectation",
            ));
        }
        if framing != Framing::None && pending.is_empty() && head.version == Version::HTTP_11 {
            let sent = io.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await;
            if sent.is_err() || io.flush().await.is_err() {
                return Ok(None);
            }
        }
    }
    let body = match framing {
        Framing::None => return Ok(Some(Body::empty())),
        Framing::Length(n) => {
            let n = n as usize;
            let mut body = Vec::with_capacity(n.min(1024 * 1024));
            if !take(io, pending, &mut body, n, limits).await {
                return Ok(None);
            }
            body
        }
        Framing::Chunked => match read_chunked(io, pending, limits).await? {
            Some(body) => body,
            None => return Ok(None),
        },
    };
    Ok(Some(Body::from(body)))
}

/// Moves `n` bytes of the stream (those in `pending` first) to `out`; false when the
/// client left or stalled.
async fn take<S: AsyncRead + Unpin>(
    io: &mut S,
    pending: &mut Vec<u8>,
    out: &mut Vec<u8>,
    mut n: usize,
    limits: &Limits,
) -> bool {
    loop {
        let here = n.min(pending.len());
        out.extend_from_slice(&pending[..here]);
        pending.drain(..here);
        n -= here;
        if n == 0 {
            return true;
        }
        if read_within(io, pending, limits.body_timeout)
            .await
            .is_none()
        {
            return false;
        }
    }
}

/// The longest chunk-size or trailer line we read.
const MAX_CHUNK_LINE: usize = 4096;

/// Takes one CRLF-terminated line from the stream; Ok(None) when the client left.
async fn line<S: AsyncRead + Unpin>(
    io: &mut S,
    pending: &mut Vec<u8>,
    limits: &Limits,
) -> Result<Option<Vec<u8>>, Reject> {
    loop {
        if let Some(end) = pending.windows(2).position(|w| w == b"\r\n") {
            let line = pending[..end].to_vec();
            pending.drain(..end + 2);
            return Ok(Some(line));
        }
        if pending.len() > MAX_CHUNK_LINE {
            return Err(reject(StatusCode::BAD_REQUEST, "chunk line too long"));
        }
        if read_within(io, pending, limits.body_timeout)
            .await
            .is_none()
        {
            return Ok(None);
        }
    }
}

/// RFC 9112 7.1: chunk-size [ chunk-ext ] CRLF; the extensions are ignored.
pub fn chunk_size(line: &[u8]) -> Result<usize, Reject> {
    let bad = reject(StatusCode::BAD_REQUEST, "bad chunk size");
    let digits = line
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    if digits.is_empty() || digits.len() > 15 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return Err(bad);
    }
    let text = std::str::from_utf8(digits).map_err(|_| bad)?;
    usize::from_str_radix(text, 16).map_err(|_| bad)
}

/// RFC 9112 7.1: decodes a chunked body; trailer fields are read and dropped.
async fn read_chunked<S: AsyncRead + Unpin>(
    io: &mut S,
    pending: &mut Vec<u8>,
    limits: &Limits,
) -> Result<Option<Vec<u8>>, Reject> {
    let too_large = reject(StatusCode::PAYLOAD_TOO_LARGE, "request body too large");
    let mut body = Vec::new();
    loop {
        let Some(size_line) = line(io, pending, limits).await? else {
            return Ok(None);
        };
        let size = chunk_size(&size_line)?;
        if size == 0 {
            let mut trailers = 0;
            loop {
                let Some(trailer) = line(io, pending, limits).await? else {
                    return Ok(None);
                };
                if trailer.is_empty() {
                    return Ok(Some(body));
                }
                trailers += trailer.len() + 2;
                if trailers > limits.max_head_bytes {
                    return Err(reject(
                        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                        "trailer section too large",
                    ));
                }
            }
        }
        if size > limits.max_body_bytes.saturating_sub(body.len()) {
            return Err(too_large);
        }
        body.reserve(size);
        if !take(io, pending, &mut body, size, limits).await {
            return Ok(None);
        }
        let mut crlf = Vec::with_capacity(2);
        if !take(io, pending, &mut crlf, 2, limits).await {
            return Ok(None);
        }
        if crlf != b"\r\n" {
            return Err(reject(
                StatusCode::BAD_REQUEST,
                "chunk not followed by CRLF",
            ));
        }
    }
}

/// Answers a refused request and closes.
async fn refuse<S: AsyncRead + AsyncWrite + Unpin>(io: &mut S, r: Reject) {
    let text = format!(
        "HTTP/1.1 {}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\n\
         connection: close\r\ndate: {}\r\n\r\n{}\n",
        r.status,
        r.reason.len() + 1,
        httpdate::fmt_http_date(std::time::SystemTime::now()),
        r.reason,
    );
    let _ = io.write_all(text.as_bytes()).await;
    let _ = io.shutdown().await;
    // RFC 9112 9.6: close gradually. Closing with the rest of a refused request unread makes
    // the kernel send a reset, which can destroy the answer before the client reads it; so
    // read and discard for a moment (bounded in bytes and time).
    let mut sink = Vec::new();
    let mut drained = 0;
    let lingering = async {
        while drained < 1024 * 1024 {
            match read_some(io, &mut sink).await {
                Ok(n) if n > 0 => drained += n,
                _ => break,
            }
            sink.clear();
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), lingering).await;
}

/// Data up to this size is copied next to the head (or chunk size) so one write sends both.
const COALESCE: usize = 16 * 1024;

/// How the response body is delimited on the wire.
enum Out {
    /// HEAD, 1xx, 204, 304: no body whatever the handler gave.
    Nothing,
    Length(u64),
    Chunked,
    /// An HTTP/1.0 client and a body of unknown length: it ends when the connection does.
    UntilClose,
}

/// Writes the response; Ok(false) when the connection must close after it.
async fn write_response<S: AsyncWrite + Unpin>(
    io: &mut S,
    response: Response<Body>,
    is_head: bool,
    version: Version,
    mut keep_alive: bool,
) -> io::Result<bool> {
    let (mut parts, mut body) = response.into_parts();
    let status = parts.status;
    let headers = &mut parts.headers;
    if headers
        .get_all(header::CONNECTION)
        .iter()
        .any(|v| v.as_bytes().eq_ignore_ascii_case(b"close"))
    {
        keep_alive = false;
    }
    // Framing is ours to decide.
    headers.remove(header::TRANSFER_ENCODING);
    headers.remove(header::CONNECTION);
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    // RFC 9110 8.6: no Content-Length in 1xx and 204 responses.
    if status.is_informational() || status == StatusCode::NO_CONTENT {
        headers.remove(header::CONTENT_LENGTH);
    }
    let out = if is_head
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        Out::Nothing
    } else if let Some(n) = declared.or(body.size_hint().exact()) {
        if declared.is_none() {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(n));
        }
        Out::Length(n)
    } else if version == Version::HTTP_11 {
        headers.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        Out::Chunked
    } else {
        keep_alive = false;
        Out::UntilClose
    };
    if !headers.contains_key(header::DATE) {
        if let Ok(date) =
            HeaderValue::from_str(&httpdate::fmt_http_date(std::time::SystemTime::now()))
        {
            headers.insert(header::DATE, date);
        }
    }
    if !keep_alive {
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    } else if version == Version::HTTP_10 {
        headers.insert(header::CONNECTION, HeaderValue::from_static("keep-alive"));
    }

    let mut buf = Vec::with_capacity(256);
    buf.extend_from_slice(b"HTTP/1.1 ");
    buf.extend_from_slice(status.as_str().as_bytes());
    buf.push(b' ');
    buf.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    buf.extend_from_slice(b"\r\n");
    for (name, value) in headers.iter() {
        buf.extend_from_slice(name.as_str().as_bytes());
        buf.extend_from_slice(b": ");
        buf.extend_from_slice(value.as_bytes());
        buf.extend_from_slice(b"\r\n");
    }
    buf.extend_from_slice(b"\r\n");
    drop(parts);

    let mut left = match out {
        Out::Nothing => {
            io.write_all(&buf).await?;
            io.flush().await?;
            return Ok(keep_alive);
        }
        Out::Length(n) => n,
        Out::Chunked | Out::UntilClose => u64::MAX,
    };
    let chunked = matches!(out, Out::Chunked);
    if chunked {
        // A streamed body's head goes out before its first frame, however long that takes.
        io.write_all(&buf).await?;
        io.flush().await?;
        buf.clear();
    }
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame
            .map_err(|e| io::Error::other(e.to_string()))?
            .into_data()
        else {
            continue; // trailers: none of our handlers sends them
        };
        let mut data = data;
        if data.len() as u64 > left {
            // The handler declared less than it sent: send what was declared, then close.
            data.truncate(left as usize);
            keep_alive = false;
        }
        left -= data.len() as u64;
        if data.is_empty() {
            continue;
        }
        if chunked {
            buf.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
        }
        if data.len() <= COALESCE {
            buf.extend_from_slice(&data);
        } else {
            io.write_all(&buf).await?;
            buf.clear();
            io.write_all(&data).await?;
        }
        if chunked {
            buf.extend_from_slice(b"\r\n");
        }
        // Each frame of a streamed body goes out at once; a whole body in one write.
        if chunked || !body.is_end_stream() || buf.len() >= COALESCE {
            io.write_all(&buf).await?;
            io.flush().await?;
            buf.clear();
        }
    }
    if chunked {
        buf.extend_from_slice(b"0\r\n\r\n");
    }
    io.write_all(&buf).await?;
    io.flush().await?;
    if matches!(out, Out::Length(_)) && left > 0 {
        // Fewer bytes than declared: the client can only tell by the connection closing.
        keep_alive = false;
    }
    Ok(keep_alive)
}

#[cfg(test)]
mod tests;
