//! Inbound mail: an LMTP listener (RFC 2033: how an MTA hands mail to a store, one reply per
//! recipient) and a plain SMTP listener for local setups. Commands are parsed by smtp-proto;
//! the session loop and the DATA reader are ours.
//!
//! A 250 is sent only after the message is durably stored (ARCHITECTURE.md invariant 1).

use easd_engine::Engine;
use smtp_proto::request::receiver::RequestReceiver;
use smtp_proto::{Error as SmtpError, Request};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Lmtp,
    Smtp,
}

/// Session parameters.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    pub dialect: Dialect,
    pub hostname: String,
    pub max_message_bytes: usize,
    pub idle_timeout: Duration,
}

const MAX_RECIPIENTS: usize = 1000;

pub async fn serve(
    listener: TcpListener,
    engine: Arc<Engine>,
    config: SessionConfig,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = crate::listener::stopped(&mut shutdown) => break,
        };
        let _ = stream.set_nodelay(true);
        let engine = engine.clone();
        let config = config.clone();
        tokio::spawn(async move {
            if let Err(e) = Session::new(stream, engine, config).run().await {
                tracing::debug!(%peer, error = %e, "mail session ended");
            }
        });
    }
}

/// One LMTP or SMTP session over any byte stream.
pub struct Session<S> {
    stream: S,
    engine: Arc<Engine>,
    config: SessionConfig,
    buf: Vec<u8>,
    pos: usize,
}

#[derive(Default)]
struct Envelope {
    from: Option<String>,
    /// Accepted recipients: (address as given, account).
    to: Vec<(String, easd_store::AccountId)>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<S> {
    pub fn new(stream: S, engine: Arc<Engine>, config: SessionConfig) -> Self {
        Session {
            stream,
            engine,
            config,
            buf: Vec::with_capacity(4096),
            pos: 0,
        }
    }

    async fn reply(&mut self, line: &str) -> std::io::Result<()> {
        // One write per reply: split writes meet the peer's delayed ACK and stall ~40 ms.
        let mut bytes = Vec::with_capacity(line.len() + 2);
        bytes.extend_from_slice(line.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        self.stream.write_all(&bytes).await
    }

    /// Reads more bytes into the buffer; false at end of stream.
    async fn fill(&mut self) -> std::io::Result<bool> {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let mut chunk = [0u8; 8192];
        let n = tokio::time::timeout(self.config.idle_timeout, self.stream.read(&mut chunk))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "idle timeout"))??;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n > 0)
    }

    /// The next command line (with its CRLF), at most 4 KiB.
    async fn next_line(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        loop {
            if let Some(i) = self.buf[self.pos..].iter().position(|&b| b == b'\n') {
                let line = self.buf[self.pos..self.pos + i + 1].to_vec();
                self.pos += i + 1;
                return Ok(Some(line));
            }
            if self.buf.len() - self.pos > smtp_proto::request::receiver::MAX_LINE_LENGTH {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "line too long",
                ));
            }
            if !self.fill().await? {
                return Ok(None);
            }
        }
    }

    /// Reads a DATA body up to the lone "." line, undoing dot-stuffing (RFC 5321 4.5.2).
    /// Returns `None` when it grew past the size limit (the rest is read and dropped).
    async fn read_data(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        let mut message = Vec::new();
        let mut too_big = false;
        loop {
            let Some(line) = self.next_line().await? else {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "eof in DATA",
                ));
            };
            if line == b".\r\n" || line == b".\n" {
                return Ok(if too_big { None } else { Some(message) });
            }
            let body = line.strip_prefix(b".").unwrap_or(&line);
            if message.len() + body.len() > self.config.max_message_bytes {
                too_big = true;
                message = Vec::new();
            }
            if !too_big {
                message.extend_from_slice(body);
            }
        }
    }

    pub async fn run(mut self) -> std::io::Result<()> {
        let greeting = match self.config.dialect {
            Dialect::Lmtp => format!("220 {} easd LMTP ready", self.config.hostname),
            Dialect::Smtp => format!("220 {} easd ESMTP ready", self.config.hostname),
        };
        self.reply(&greeting).await?;
        let mut envelope = Envelope::default();
        let mut greeted = false;
        while let Some(line) = self.next_line().await? {
            let parsed = RequestReceiver::default().ingest(&mut line.iter(), &line);
            match parsed {
                Ok(Request::Lhlo { host }) if self.config.dialect == Dialect::Lmtp => {
                    greeted = true;
                    envelope = Envelope::default();
                    self.ehlo_reply(&host).await?;
                }
                Ok(Request::Ehlo { host }) if self.config.dialect == Dialect::Smtp => {
                    greeted = true;
                    envelope = Envelope::default();
                    self.ehlo_reply(&host).await?;
                }
                Ok(Request::Helo { .. }) if self.config.dialect == Dialect::Smtp => {
                    greeted = true;
                    envelope = Envelope::default();
                    let hostname = self.config.hostname.clone();
                    self.reply(&format!("250 {hostname}")).await?;
                }
                Ok(Request::Lhlo { .. } | Request::Ehlo { .. } | Request::Helo { .. }) => {
                    self.reply("500 5.5.1 Wrong greeting for this protocol")
                        .await?;
                }
                Ok(_) if !greeted => {
                    self.reply("503 5.5.1 Say hello first").await?;
                }
                Ok(Request::Mail { from }) => {
                    if envelope.from.is_some() {
                        self.reply("503 5.5.1 Sender already given").await?;
                    } else if from.size > self.config.max_message_bytes {
                        self.reply("552 5.3.4 Message too big").await?;
                    } else {
                        envelope.from = Some(from.address);
                        self.reply("250 2.1.0 OK").await?;
                    }
                }
                Ok(Request::Rcpt { to }) => {
                    if envelope.from.is_none() {
                        self.reply("503 5.5.1 MAIL first").await?;
                    } else if envelope.to.len() >= MAX_RECIPIENTS {
                        self.reply("452 4.5.3 Too many recipients").await?;
                    } else {
                        match self.engine.find_recipient(&to.address).await {
                            Ok(Some(account)) => {
                                envelope.to.push((to.address, account));
                                self.reply("250 2.1.5 OK").await?;
                            }
                            Ok(None) => self.reply("550 5.1.1 No such user here").await?,
                            Err(e) => {
                                tracing::error!(error = %e, "recipient lookup failed");
                                self.reply("451 4.3.0 Temporary failure").await?;
                            }
                        }
                    }
                }
                Ok(Request::Data) => {
                    if envelope.to.is_empty() {
                        self.reply("503 5.5.1 No valid recipients").await?;
                        continue;
                    }
                    self.reply("354 End data with <CR><LF>.<CR><LF>").await?;
                    let message = self.read_data().await?;
                    let envelope = std::mem::take(&mut envelope);
                    self.deliver(envelope, message).await?;
                }
                Ok(Request::Bdat { .. }) => self.reply("502 5.5.1 BDAT not supported").await?,
                Ok(Request::Rset) => {
                    envelope = Envelope::default();
                    self.reply("250 2.0.0 OK").await?;
                }
                Ok(Request::Noop { .. }) => self.reply("250 2.0.0 OK").await?,
                Ok(Request::Vrfy { .. }) => {
                    self.reply("252 2.1.5 Send some mail, I'll try").await?
                }
                Ok(Request::Quit) => {
                    self.reply("221 2.0.0 Bye").await?;
                    return self.stream.shutdown().await;
                }
                Ok(_) => self.reply("502 5.5.1 Command not implemented").await?,
                Err(SmtpError::UnknownCommand) => self.reply("500 5.5.2 Unknown command").await?,
                Err(SmtpError::ResponseTooLong) => self.reply("500 5.5.2 Line too long").await?,
                Err(SmtpError::InvalidRecipientAddress | SmtpError::InvalidSenderAddress) => {
                    self.reply("501 5.1.3 Bad address syntax").await?
                }
                Err(_) => self.reply("501 5.5.4 Syntax error").await?,
            }
        }
        Ok(())
    }

    async fn ehlo_reply(&mut self, _host: &str) -> std::io::Result<()> {
        let text = format!(
            "250-{}\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 SIZE {}",
            self.config.hostname, self.config.max_message_bytes
        );
        self.reply(&text).await
    }

    async fn deliver(
        &mut self,
        envelope: Envelope,
        message: Option<Vec<u8>>,
    ) -> std::io::Result<()> {
        let Some(message) = message else {
            return match self.config.dialect {
                Dialect::Lmtp => {
                    for _ in &envelope.to {
                        self.reply("552 5.3.4 Message too big").await?;
                    }
                    Ok(())
                }
                Dialect::Smtp => self.reply("552 5.3.4 Message too big").await,
            };
        };
        let mut replies = Vec::with_capacity(envelope.to.len());
        for (address, account) in &envelope.to {
            let reply = match self.engine.deliver(*account, message.clone()).await {
                Ok(_) => "250 2.0.0 Delivered".to_string(),
                Err(e) if e.is_permanent() => {
                    tracing::info!(to = %address, error = %e, "message refused");
                    format!("554 5.6.0 {e}")
                }
                Err(e) => {
                    tracing::error!(to = %address, error = %e, "delivery failed");
                    "451 4.3.0 Temporary failure, try again".to_string()
                }
            };
            replies.push(reply);
        }
        match self.config.dialect {
            // RFC 2033 4.2: one reply per accepted recipient, in order.
            Dialect::Lmtp => {
                for r in replies {
                    self.reply(&r).await?;
                }
                Ok(())
            }
            Dialect::Smtp => {
                let all_ok = replies.iter().all(|r| r.starts_with("250"));
                let reply = if all_ok {
                    "250 2.0.0 Delivered".to_string()
                } else {
                    replies
                        .into_iter()
                        .find(|r| !r.starts_with("250"))
                        .unwrap_or_default()
                };
                self.reply(&reply).await
            }
        }
    }
}
