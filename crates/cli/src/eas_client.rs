//! The CLI's one HTTP/1.1 and EAS client, shared by `bench`, `probe`, `doctor` and
//! `selftest`: plain or TLS (system roots, a CA file, or any certificate), keep-alive
//! connections, Basic auth, the MS-ASHTTP request line, WBXML bodies built and read with the
//! protocol crate's typed requests and responses where it has them (Sync, SendMail).

use anyhow::{bail, Context};
use easd_protocol::commands::folder_sync::{Folder, FolderType};
use easd_protocol::commands::send_mail::SendMailRequest;
use easd_protocol::commands::sync::{SyncRequest, SyncResponse};
use easd_protocol::http::BasicCredentials;
use easd_protocol::Command;
use easd_wbxml::tags::{compose_mail, folder_hierarchy, move_, ping, provision, settings};
use easd_wbxml::Element;
use rustls_pki_types::{CertificateDer, ServerName};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// The EAS path (MS-ASHTTP 2.2.1.1.1), used when a URL names only the server.
pub const EAS_PATH: &str = "/Microsoft-Server-ActiveSync";
/// Longest response head read; longest body (a Sync window of large mails stays far below).
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 64 * 1024 * 1024;

/// Which server certificates to accept.
#[derive(Debug, Clone)]
pub enum Trust {
    /// The system's CA bundle.
    System,
    /// The certificates of this PEM file (e.g. the server's self-signed one).
    Ca(PathBuf),
    /// Any certificate (`--insecure`, or the bench on loopback); handshake signatures are
    /// still checked.
    Any,
}

impl Trust {
    pub fn from_args(ca: Option<PathBuf>, insecure: bool) -> Trust {
        match (ca, insecure) {
            (_, true) => Trust::Any,
            (Some(ca), false) => Trust::Ca(ca),
            (None, false) => Trust::System,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    pub path: String,
}

pub fn parse_url(url: &str) -> anyhow::Result<Url> {
    let (tls, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        bail!("{url:?}: only http:// and https:// URLs");
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let default_port = if tls { 443 } else { 80 };
    let (host, port) = if let Some(h) = authority.strip_prefix('[') {
        let (h, after) = h.split_once(']').context("bad IPv6 host")?;
        let port = after
            .strip_prefix(':')
            .map(str::parse)
            .transpose()
            .with_context(|| format!("{url:?}: bad port"))?
            .unwrap_or(default_port);
        (h.to_owned(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (
                h.to_owned(),
                p.parse().with_context(|| format!("{url:?}: bad port"))?,
            ),
            None => (authority.to_owned(), default_port),
        }
    };
    if host.is_empty() {
        bail!("{url:?}: no host");
    }
    Ok(Url {
        tls,
        host,
        port,
        path: path.to_owned(),
    })
}

/// A server to talk to: where it is and how to secure the connection.
pub struct Endpoint {
    pub url: Url,
    host_header: String,
    tls: Option<(tokio_rustls::TlsConnector, ServerName<'static>)>,
}

impl Endpoint {
    pub fn new(url: &str, trust: &Trust) -> anyhow::Result<Endpoint> {
        let url = parse_url(url)?;
        let host_header = if url.host.contains(':') {
            format!("[{}]:{}", url.host, url.port)
        } else {
            format!("{}:{}", url.host, url.port)
        };
        let tls = if url.tls {
            let name = ServerName::try_from(url.host.clone()).context("TLS server name")?;
            Some((tls_connector(trust)?, name))
        } else {
            None
        };
        Ok(Endpoint {
            url,
            host_header,
            tls,
        })
    }

    /// The EAS path: the URL's, or the standard one when the URL names only the server.
    pub fn eas_path(&self) -> &str {
        if self.url.path == "/" {
            EAS_PATH
        } else {
            &self.url.path
        }
    }

    pub async fn connect(&self) -> anyhow::Result<Connection> {
        let tcp = TcpStream::connect((self.url.host.as_str(), self.url.port))
            .await
            .context("connect")?;
        tcp.set_nodelay(true)?;
        let (io, peer_certificates): (Box<dyn Io>, _) = match &self.tls {
            Some((connector, name)) => {
                let stream = connector
                    .connect(name.clone(), tcp)
                    .await
                    .context("TLS handshake")?;
                let certs = stream
                    .get_ref()
                    .1
                    .peer_certificates()
                    .map(|c| c.iter().map(|c| c.clone().into_owned()).collect());
                (Box::new(stream), certs)
            }
            None => (Box::new(tcp), None),
        };
        Ok(Connection {
            io,
            buf: Vec::new(),
            peer_certificates,
        })
    }

    /// A request head: request line, Host, Content-Length, then `headers`.
    pub fn head(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body_len: usize,
    ) -> String {
        let mut head = format!(
            "{method} {target} HTTP/1.1\r\nHost: {}\r\nContent-Length: {body_len}\r\n",
            self.host_header
        );
        for (n, v) in headers {
            head.push_str(n);
            head.push_str(": ");
            head.push_str(v);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        head
    }
}

pub fn tls_connector(trust: &Trust) -> anyhow::Result<tokio_rustls::TlsConnector> {
    use rustls_pki_types::pem::PemObject;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let mut roots = rustls::RootCertStore::empty();
    let mut config = match trust {
        Trust::Any => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth(),
        Trust::Ca(path) => {
            for cert in CertificateDer::pem_file_iter(path)
                .with_context(|| format!("reading {}", path.display()))?
            {
                roots.add(cert.with_context(|| format!("reading {}", path.display()))?)?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Trust::System => {
            for bundle in [
                "/etc/ssl/certs/ca-certificates.crt",
                "/etc/pki/tls/certs/ca-bundle.crt",
                "/etc/ssl/cert.pem",
            ] {
                if let Ok(iter) = CertificateDer::pem_file_iter(bundle) {
                    for cert in iter.flatten() {
                        let _ = roots.add(cert);
                    }
                    break;
                }
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// Accepts any certificate but still checks the handshake signatures.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls_pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// One HTTP/1.1 connection; requests on it are answered in order (keep-alive).
pub struct Connection {
    io: Box<dyn Io>,
    buf: Vec<u8>,
    /// The server's certificate chain (TLS only), end entity first.
    pub peer_certificates: Option<Vec<CertificateDer<'static>>>,
}

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The server will close the connection after this answer.
    pub close: bool,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

impl Connection {
    pub async fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.io.write_all(bytes).await?;
        self.io.flush().await
    }

    /// Reads more; false at the end of the stream. A TLS peer that closes without
    /// close_notify counts as an end.
    async fn fill(&mut self) -> std::io::Result<bool> {
        self.buf.reserve(4096);
        match self.io.read_buf(&mut self.buf).await {
            Ok(0) => Ok(false),
            Ok(_) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn fill_or_fail(&mut self) -> anyhow::Result<()> {
        if !self.fill().await? {
            bail!("connection closed");
        }
        Ok(())
    }

    /// Reads one response: Content-Length, chunked, or until close.
    pub async fn read_reply(&mut self) -> anyhow::Result<Reply> {
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            anyhow::ensure!(self.buf.len() < MAX_HEAD, "response head too long");
            if !self.fill().await? {
                bail!(if self.buf.is_empty() {
                    "connection closed without an answer"
                } else {
                    "connection closed in the response head"
                });
            }
        };
        let head =
            std::str::from_utf8(&self.buf[..head_end]).context("response head is not UTF-8")?;
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or("");
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .with_context(|| format!("bad status line {status_line:?}"))?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
            .collect();
        let (mut length, mut chunked, mut close) = (None, false, false);
        for (name, value) in &headers {
            if name.eq_ignore_ascii_case("content-length") {
                let n: usize = value.parse().context("bad Content-Length")?;
                anyhow::ensure!(n <= MAX_BODY, "response body of {n} bytes is too large");
                length = Some(n);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.to_ascii_lowercase().contains("chunked");
            } else if name.eq_ignore_ascii_case("connection") {
                close = value.eq_ignore_ascii_case("close");
            }
        }
        self.buf.drain(..head_end);
        let body = if chunked {
            self.read_chunked().await?
        } else if let Some(n) = length {
            while self.buf.len() < n {
                self.fill_or_fail().await?;
            }
            self.buf.drain(..n).collect()
        } else if (100..200).contains(&status) || status == 204 || status == 304 {
            Vec::new()
        } else {
            // No length: the body runs to the end of the stream (RFC 9112 6.3).
            close = true;
            while self.fill().await? {
                anyhow::ensure!(self.buf.len() <= MAX_BODY, "response body too large");
            }
            std::mem::take(&mut self.buf)
        };
        if self.buf.is_empty() && self.buf.capacity() > 16 * 1024 {
            self.buf = Vec::new();
        }
        Ok(Reply {
            status,
            headers,
            body,
            close,
        })
    }

    async fn read_chunked(&mut self) -> anyhow::Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(i) = find(&self.buf, b"\r\n") {
                    break i;
                }
                anyhow::ensure!(self.buf.len() < MAX_HEAD, "chunk size line too long");
                self.fill_or_fail().await?;
            };
            let size_text = std::str::from_utf8(&self.buf[..line_end])?;
            let size_text = size_text.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_text, 16).context("bad chunk size")?;
            anyhow::ensure!(body.len() + size <= MAX_BODY, "response body too large");
            self.buf.drain(..line_end + 2);
            if size == 0 {
                // Trailers, then the final CRLF.
                loop {
                    if let Some(i) = find(&self.buf, b"\r\n") {
                        self.buf.drain(..i + 2);
                        if i == 0 {
                            return Ok(body);
                        }
                    } else {
                        self.fill_or_fail().await?;
                    }
                }
            }
            while self.buf.len() < size + 2 {
                self.fill_or_fail().await?;
            }
            body.extend_from_slice(&self.buf[..size]);
            self.buf.drain(..size + 2);
        }
    }
}

/// One request on a connection of its own (`Connection: close`), all within `timeout`.
pub async fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: Duration,
    trust: &Trust,
) -> anyhow::Result<Reply> {
    let exchange = async {
        let endpoint = Endpoint::new(url, trust)?;
        let mut conn = endpoint.connect().await?;
        let mut all = vec![("Connection", "close"), ("User-Agent", "easd-ops")];
        all.extend_from_slice(headers);
        let mut bytes = endpoint
            .head(method, &endpoint.url.path, &all, body.len())
            .into_bytes();
        bytes.extend_from_slice(body);
        conn.send(&bytes).await.context("send")?;
        conn.read_reply().await
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(r) => r,
        Err(_) => bail!("timed out after {} ms", timeout.as_millis()),
    }
}

/// An EAS answer: the HTTP status and the decoded WBXML body (None when empty).
pub struct Answer {
    pub http: u16,
    pub body: Option<Element>,
    pub reply: Reply,
}

/// What a device tells the server about itself (Settings DeviceInformation, MS-ASCMD
/// 2.2.3.54, sent inside Provision as of 14.1).
pub struct DeviceInfo<'a> {
    pub model: &'a str,
    pub friendly_name: &'a str,
    pub user_agent: &'a str,
}

/// One simulated device: its partnership's identity, its policy key, one keep-alive
/// connection.
pub struct EasClient {
    endpoint: Arc<Endpoint>,
    conn: Option<Connection>,
    /// "Basic ..." (RFC 7617).
    authorization: String,
    /// The login, percent-encoded for the query.
    user_param: String,
    pub device_id: String,
    pub device_type: String,
    /// MS-ASProtocolVersion.
    pub version: &'static str,
    pub user_agent: &'static str,
    /// X-MS-PolicyKey, once provisioned.
    pub policy_key: Option<u32>,
}

/// Percent-encodes a query value (MS-ASHTTP 2.2.1.1.1.2: the plain form is URL-encoded).
fn query_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn status_of(root: &Element, tag: easd_wbxml::Tag) -> Option<u32> {
    root.child_text(tag).and_then(|s| s.trim().parse().ok())
}

impl EasClient {
    pub fn new(
        endpoint: Arc<Endpoint>,
        login: &str,
        password: &str,
        device_id: impl Into<String>,
        device_type: impl Into<String>,
    ) -> EasClient {
        let credentials = BasicCredentials {
            login: login.to_owned(),
            password: password.to_owned(),
        };
        EasClient {
            endpoint,
            conn: None,
            authorization: credentials.to_header(),
            user_param: query_value(login),
            device_id: device_id.into(),
            device_type: device_type.into(),
            version: "16.1",
            user_agent: "easd-client/1",
            policy_key: None,
        }
    }

    /// The request for `command` (MS-ASHTTP 2.2.1.1: the plain query form).
    fn request_bytes(
        &self,
        command: Command,
        query: &str,
        content_type: &str,
        body: &[u8],
    ) -> Vec<u8> {
        let target = format!(
            "{}?Cmd={}&User={}&DeviceId={}&DeviceType={}{query}",
            self.endpoint.eas_path(),
            command.name(),
            self.user_param,
            query_value(&self.device_id),
            query_value(&self.device_type),
        );
        let key = self.policy_key.map(|k| k.to_string());
        let mut headers = vec![
            ("Authorization", self.authorization.as_str()),
            ("MS-ASProtocolVersion", self.version),
            ("User-Agent", self.user_agent),
            ("Content-Type", content_type),
        ];
        if let Some(key) = &key {
            headers.push(("X-MS-PolicyKey", key));
        }
        let mut bytes = self
            .endpoint
            .head("POST", &target, &headers, body.len())
            .into_bytes();
        bytes.extend_from_slice(body);
        bytes
    }

    async fn conn(&mut self) -> anyhow::Result<&mut Connection> {
        if self.conn.is_none() {
            self.conn = Some(self.endpoint.connect().await?);
        }
        Ok(self.conn.as_mut().expect("connected above"))
    }

    /// Sends a command without waiting for its answer (a Ping to park).
    pub async fn send(&mut self, command: Command, body: &Element) -> anyhow::Result<()> {
        let bytes = self.request_bytes(
            command,
            "",
            "application/vnd.ms-sync.wbxml",
            &easd_wbxml::encode(body),
        );
        let sent = self.conn().await?.send(&bytes).await;
        if let Err(e) = sent {
            self.conn = None;
            return Err(e).with_context(|| format!("{}: sending", command.name()));
        }
        Ok(())
    }

    /// Waits for the answer to the command sent last.
    pub async fn answer(&mut self, command: Command) -> anyhow::Result<Answer> {
        let conn = self.conn.as_mut().context("not connected")?;
        let reply = match conn.read_reply().await {
            Ok(r) => r,
            Err(e) => {
                self.conn = None;
                return Err(e).with_context(|| format!("{}: reading the answer", command.name()));
            }
        };
        if reply.close || reply.status != 200 {
            self.conn = None;
        }
        let body = if reply.status == 200 && !reply.body.is_empty() {
            Some(
                easd_wbxml::decode(&reply.body)
                    .with_context(|| format!("{}: malformed WBXML", command.name()))?,
            )
        } else {
            None
        };
        Ok(Answer {
            http: reply.status,
            body,
            reply,
        })
    }

    /// Sends a command and returns its answer, whatever the HTTP status.
    pub async fn exchange(&mut self, command: Command, body: &Element) -> anyhow::Result<Answer> {
        self.send(command, body).await?;
        self.answer(command).await
    }

    /// Sends a command; an HTTP status other than 200 is an error.
    pub async fn call(
        &mut self,
        command: Command,
        body: &Element,
    ) -> anyhow::Result<Option<Element>> {
        let answer = self.exchange(command, body).await?;
        if answer.http != 200 {
            bail!(
                "{}: HTTP {} {}",
                command.name(),
                answer.http,
                String::from_utf8_lossy(&answer.reply.body).trim()
            );
        }
        Ok(answer.body)
    }

    async fn call_root(&mut self, command: Command, body: &Element) -> anyhow::Result<Element> {
        self.call(command, body)
            .await?
            .with_context(|| format!("{}: empty answer", command.name()))
    }

    /// Provision, first phase (MS-ASPROV 3.1.5.1): the policy and a temporary key.
    pub async fn provision_request(&mut self, info: &DeviceInfo<'_>) -> anyhow::Result<u32> {
        let request = Element::new(provision::PROVISION)
            .with(
                Element::new(settings::DEVICE_INFORMATION).with(
                    Element::new(settings::SET)
                        .with_text(settings::MODEL, info.model)
                        .with_text(settings::FRIENDLY_NAME, info.friendly_name)
                        .with_text(settings::OS, std::env::consts::OS)
                        .with_text(settings::USER_AGENT, info.user_agent),
                ),
            )
            .with(
                Element::new(provision::POLICIES).with(
                    Element::new(provision::POLICY)
                        .with_text(provision::POLICY_TYPE, "MS-EAS-Provisioning-WBXML"),
                ),
            );
        let root = self.call_root(Command::Provision, &request).await?;
        expect_status(&root, provision::STATUS, "Provision")?;
        policy_key(&root).context("Provision: no temporary PolicyKey")
    }

    /// Both phases of Provision (MS-ASPROV 3.1.5.1): afterwards requests carry the final key.
    pub async fn provision(&mut self, info: &DeviceInfo<'_>) -> anyhow::Result<u32> {
        let temporary = self.provision_request(info).await?;
        self.policy_key = Some(temporary);
        let ack = Element::new(provision::PROVISION).with(
            Element::new(provision::POLICIES).with(
                Element::new(provision::POLICY)
                    .with_text(provision::POLICY_TYPE, "MS-EAS-Provisioning-WBXML")
                    .with_text(provision::POLICY_KEY, temporary.to_string())
                    .with_text(provision::STATUS, "1"),
            ),
        );
        let root = self.call_root(Command::Provision, &ack).await?;
        expect_status(&root, provision::STATUS, "Provision")?;
        let key = policy_key(&root).context("Provision: no final PolicyKey")?;
        self.policy_key = Some(key);
        Ok(key)
    }

    /// FolderSync (MS-ASCMD 2.2.1.5) from `sync_key`: the new key and the folders added.
    pub async fn folder_sync(&mut self, sync_key: &str) -> anyhow::Result<(String, Vec<Folder>)> {
        let request = Element::new(folder_hierarchy::FOLDER_SYNC)
            .with_text(folder_hierarchy::SYNC_KEY, sync_key);
        let root = self.call_root(Command::FolderSync, &request).await?;
        expect_status(&root, folder_hierarchy::STATUS, "FolderSync")?;
        let key = root
            .child_text(folder_hierarchy::SYNC_KEY)
            .context("FolderSync: no SyncKey")?;
        let folders = root
            .child(folder_hierarchy::CHANGES)
            .into_iter()
            .flat_map(|c| c.children_with(folder_hierarchy::ADD))
            .filter_map(|a| {
                Some(Folder {
                    server_id: a.child_text(folder_hierarchy::SERVER_ID)?,
                    parent_id: a
                        .child_text(folder_hierarchy::PARENT_ID)
                        .unwrap_or_default(),
                    display_name: a
                        .child_text(folder_hierarchy::DISPLAY_NAME)
                        .unwrap_or_default(),
                    folder_type: a.child_text(folder_hierarchy::TYPE)?.parse().ok()?,
                })
            })
            .collect();
        Ok((key, folders))
    }

    /// FolderCreate (MS-ASCMD 2.2.1.3) of a mail folder at the root: (new hierarchy key,
    /// ServerId).
    pub async fn folder_create(
        &mut self,
        sync_key: &str,
        name: &str,
    ) -> anyhow::Result<(String, String)> {
        let request = Element::new(folder_hierarchy::FOLDER_CREATE)
            .with_text(folder_hierarchy::SYNC_KEY, sync_key)
            .with_text(folder_hierarchy::PARENT_ID, "0")
            .with_text(folder_hierarchy::DISPLAY_NAME, name)
            .with_text(
                folder_hierarchy::TYPE,
                FolderType::UserCreatedMail.to_string(),
            );
        let root = self.call_root(Command::FolderCreate, &request).await?;
        expect_status(&root, folder_hierarchy::STATUS, "FolderCreate")?;
        Ok((
            root.child_text(folder_hierarchy::SYNC_KEY)
                .context("FolderCreate: no SyncKey")?,
            root.child_text(folder_hierarchy::SERVER_ID)
                .context("FolderCreate: no ServerId")?,
        ))
    }

    /// FolderDelete (MS-ASCMD 2.2.1.4): the new hierarchy key.
    pub async fn folder_delete(
        &mut self,
        sync_key: &str,
        server_id: &str,
    ) -> anyhow::Result<String> {
        let request = Element::new(folder_hierarchy::FOLDER_DELETE)
            .with_text(folder_hierarchy::SYNC_KEY, sync_key)
            .with_text(folder_hierarchy::SERVER_ID, server_id);
        let root = self.call_root(Command::FolderDelete, &request).await?;
        expect_status(&root, folder_hierarchy::STATUS, "FolderDelete")?;
        root.child_text(folder_hierarchy::SYNC_KEY)
            .context("FolderDelete: no SyncKey")
    }

    /// Sync (MS-ASCMD 2.2.1.21) with the protocol crate's typed request and response. An
    /// empty answer (nothing changed, MS-ASCMD 2.2.1.21.2) gives an empty response.
    pub async fn sync(&mut self, request: &SyncRequest) -> anyhow::Result<SyncResponse> {
        match self.call(Command::Sync, &request.to_element()).await? {
            Some(root) => SyncResponse::parse(&root).map_err(|e| anyhow::anyhow!("Sync: {e}")),
            None => Ok(SyncResponse::default()),
        }
    }

    /// SendMail (MS-ASCMD 2.2.1.17), 14.0+ form.
    pub async fn send_mail(
        &mut self,
        mime: Vec<u8>,
        save_in_sent_items: bool,
    ) -> anyhow::Result<()> {
        let client_id = format!("{:016x}", rand::random::<u64>());
        let request = SendMailRequest {
            client_id: Some(client_id),
            account_id: None,
            save_in_sent_items,
            mime,
            template_id: None,
        };
        // Success is an empty 200; a failure carries a Status.
        if let Some(root) = self.call(Command::SendMail, &request.to_element()).await? {
            if let Some(s) = status_of(&root, compose_mail::STATUS) {
                bail!("SendMail: Status {s}");
            }
        }
        Ok(())
    }

    /// MoveItems (MS-ASCMD 2.2.1.12) of one item: its new ServerId.
    pub async fn move_item(
        &mut self,
        server_id: &str,
        from: &str,
        to: &str,
    ) -> anyhow::Result<String> {
        let request = Element::new(move_::MOVE_ITEMS).with(
            Element::new(move_::MOVE)
                .with_text(move_::SRC_MSG_ID, server_id)
                .with_text(move_::SRC_FLD_ID, from)
                .with_text(move_::DST_FLD_ID, to),
        );
        let root = self.call_root(Command::MoveItems, &request).await?;
        let response = root
            .child(move_::RESPONSE)
            .context("MoveItems: no Response")?;
        // MS-ASCMD 2.2.3.177.9: Status 3 is success.
        match status_of(response, move_::STATUS) {
            Some(3) => response
                .child_text(move_::DST_MSG_ID)
                .context("MoveItems: no DstMsgId"),
            other => bail!("MoveItems: Status {other:?}"),
        }
    }

    /// Ping (MS-ASCMD 2.2.1.13) of `folders` (ServerId, Class): the answer's Status and, with
    /// Status 5, the HeartbeatInterval the server allows.
    pub async fn ping(
        &mut self,
        heartbeat: u32,
        folders: &[(&str, &str)],
    ) -> anyhow::Result<(u32, Option<u32>)> {
        self.send(Command::Ping, &ping_request(heartbeat, folders))
            .await?;
        self.ping_answer().await
    }

    /// The answer of a Ping sent earlier.
    pub async fn ping_answer(&mut self) -> anyhow::Result<(u32, Option<u32>)> {
        let answer = self.answer(Command::Ping).await?;
        if answer.http != 200 {
            bail!("Ping: HTTP {}", answer.http);
        }
        let root = answer.body.context("Ping: empty answer")?;
        let status = status_of(&root, ping::STATUS).context("Ping: no Status")?;
        Ok((status, status_of(&root, ping::HEARTBEAT_INTERVAL)))
    }
}

pub fn ping_request(heartbeat: u32, folders: &[(&str, &str)]) -> Element {
    let mut list = Element::new(ping::FOLDERS);
    for (id, class) in folders {
        list.push(
            Element::new(ping::FOLDER)
                .with_text(ping::ID, *id)
                .with_text(ping::CLASS, *class),
        );
    }
    Element::new(ping::PING)
        .with_text(ping::HEARTBEAT_INTERVAL, heartbeat.to_string())
        .with(list)
}

fn policy_key(root: &Element) -> Option<u32> {
    root.child(provision::POLICIES)
        .and_then(|p| p.child(provision::POLICY))
        .and_then(|p| p.child_text(provision::POLICY_KEY))
        .and_then(|k| k.trim().parse::<u32>().ok())
}

pub fn expect_status(root: &Element, tag: easd_wbxml::Tag, command: &str) -> anyhow::Result<()> {
    match root.child_text(tag) {
        Some(s) if s.trim() == "1" => Ok(()),
        Some(s) => bail!("{command}: Status {s}"),
        None => bail!("{command}: no Status"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = parse_url("https://mail.example.com/Microsoft-Server-ActiveSync").unwrap();
        assert_eq!(
            (u.tls, u.port, u.host.as_str()),
            (true, 443, "mail.example.com")
        );
        let u = parse_url("http://[::1]:8080").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("::1", 8080, "/")
        );
        assert!(parse_url("ftp://x").is_err());
        assert!(parse_url("http://:80/").is_err());
        assert!(parse_url("http://h:x/").is_err());
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(query_value("a@b.c"), "a%40b.c");
        assert_eq!(query_value("DOM\\u s"), "DOM%5Cu%20s");
    }

    #[tokio::test]
    async fn reads_replies_of_every_framing() {
        use tokio::net::TcpListener;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            s.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc\
                  HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n1;x\r\nf\r\n0\r\n\r\n\
                  HTTP/1.1 401 Unauthorized\r\n\r\ngone",
            )
            .await
            .unwrap();
        });
        let endpoint = Endpoint::new(&format!("http://{addr}"), &Trust::System).unwrap();
        assert_eq!(endpoint.eas_path(), EAS_PATH);
        let mut c = endpoint.connect().await.unwrap();
        let r = c.read_reply().await.unwrap();
        assert_eq!(
            (r.status, r.body.as_slice(), r.close),
            (200, &b"abc"[..], false)
        );
        let r = c.read_reply().await.unwrap();
        assert_eq!(r.body, b"def");
        let r = c.read_reply().await.unwrap();
        assert_eq!(
            (r.status, r.body.as_slice(), r.close),
            (401, &b"gone"[..], true)
        );
        assert!(c.read_reply().await.is_err());
    }
}
