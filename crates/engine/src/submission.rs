//! Mail submission: SendMail (MS-ASCMD 2.2.1.17), SmartReply (2.2.1.20) and SmartForward
//! (2.2.1.19).
//!
//! The client hands over an RFC 5322 message. The server makes it a proper message from
//! this account (From, Date, Message-ID), adds the original for a SmartReply/SmartForward
//! unless ReplaceMime says the client's MIME is complete, and then delivers it: local
//! recipients (accounts and aliases of this server) get it in their Inbox (which wakes their
//! Pings), remote ones through the configured SMTP smarthost. The send is all or nothing as
//! far as the server can make it: remote recipients go first, in one SMTP transaction, so a
//! refused recipient (SMTP 5xx) or an unreachable smarthost leaves nothing delivered and
//! nothing in Sent Items; only then are local copies delivered and the Sent Items copy made.
//!
//! Statuses are the common codes of MS-ASCMD 2.2.2 (the ComposeMail commands have no codes
//! of their own).

use crate::content::email::eas_datetime;
use crate::content::mail::fields_from_mime;
use crate::{Engine, EngineError};
use easd_protocol::commands::send_mail::{SendMailRequest, Source};
use easd_protocol::commands::smart_forward::SmartForwardRequest;
use easd_protocol::commands::smart_reply::SmartReplyRequest;
use easd_protocol::status::CommonStatus;
use easd_store::{
    folder_type, Account, AccountId, FullItem, ItemChange, ItemClass, NewItem, Store,
};
use mail_builder::headers::address::Address as BuilderAddress;
use mail_builder::headers::date::Date;
use mail_builder::headers::message_id::MessageId;
use mail_builder::headers::Header;
use mail_builder::MessageBuilder;
use mail_parser::{HeaderValue, Message, MessageParser, MimeHeaders};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The SMTP smarthost remote recipients are relayed through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relay {
    /// "host:port" (port 25 when left out; 465 means implicit TLS, any other port
    /// STARTTLS when the server offers it).
    pub address: String,
    pub user: Option<String>,
    pub password: Option<String>,
    /// The name in EHLO.
    pub hello_name: String,
}

/// Which command submits the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComposeKind {
    /// SendMail: the client's message as it is.
    New,
    /// SmartReply: the original is quoted below the client's text.
    Reply,
    /// SmartForward: the original's text and attachments are added.
    Forward,
}

/// One message a client submits.
#[derive(Debug, Clone)]
pub struct Submission {
    pub kind: ComposeKind,
    /// ClientId (14.0+), to recognise a resend (Status 118, MessagePreviouslySent).
    pub client_id: Option<String>,
    /// The message replied to or forwarded (SmartReply, SmartForward).
    pub source: Option<Source>,
    /// ReplaceMime: the client's MIME is the complete message; the original is not added.
    pub replace_mime: bool,
    /// SaveInSentItems (14.0+) or SaveInSent=T (12.1).
    pub save_in_sent: bool,
    /// The client's RFC 5322 message.
    pub mime: Vec<u8>,
}

impl From<SendMailRequest> for Submission {
    fn from(r: SendMailRequest) -> Self {
        Submission {
            kind: ComposeKind::New,
            client_id: r.client_id,
            source: None,
            replace_mime: false,
            save_in_sent: r.save_in_sent_items,
            mime: r.mime,
        }
    }
}

impl From<SmartReplyRequest> for Submission {
    fn from(r: SmartReplyRequest) -> Self {
        Submission {
            kind: ComposeKind::Reply,
            client_id: r.client_id,
            source: Some(r.source),
            replace_mime: r.replace_mime,
            save_in_sent: r.save_in_sent_items,
            mime: r.mime,
        }
    }
}

impl From<SmartForwardRequest> for Submission {
    /// Forwardees (16.0, a forwarded meeting's new attendees) are among the MIME's
    /// recipients as well; the message goes to those.
    fn from(r: SmartForwardRequest) -> Self {
        Submission {
            kind: ComposeKind::Forward,
            client_id: r.client_id,
            source: Some(r.source),
            replace_mime: r.replace_mime,
            save_in_sent: r.save_in_sent_items,
            mime: r.mime,
        }
    }
}

/// Why a submission was refused, as the ComposeMail Status the client gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: CommonStatus,
    pub reason: String,
}

impl Refusal {
    fn new(status: CommonStatus, reason: impl Into<String>) -> Self {
        Refusal {
            status,
            reason: reason.into(),
        }
    }
}

/// What a successful submission did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    /// The Message-ID, without angle brackets.
    pub message_id: String,
    /// Recipients delivered to on this server.
    pub local: Vec<String>,
    /// Recipients relayed through the smarthost.
    pub remote: Vec<String>,
    /// ServerId of the Sent Items copy.
    pub sent_item: Option<String>,
}

/// ClientIds of recent submissions, per account, so a client that resends a message it
/// already sent (its response was lost) gets 118 MessagePreviouslySent rather than a second
/// copy to every recipient (MS-ASCMD 2.2.3.28.1 ClientId). Kept in memory for a day.
#[derive(Debug, Default)]
pub struct RecentSubmissions {
    seen: Mutex<HashMap<(i64, String), Instant>>,
}

const RECENT_FOR: Duration = Duration::from_secs(24 * 3600);
const RECENT_MAX: usize = 100_000;

impl RecentSubmissions {
    /// Records the ClientId; false when it was already there.
    fn reserve(&self, account: AccountId, client_id: &str) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if seen.len() >= RECENT_MAX {
            seen.retain(|_, at| now.duration_since(*at) < RECENT_FOR);
        }
        let key = (account.0, client_id.to_owned());
        match seen.get(&key) {
            Some(at) if now.duration_since(*at) < RECENT_FOR => false,
            _ => {
                seen.insert(key, now);
                true
            }
        }
    }

    /// Forgets a ClientId whose message was not sent, so the client may try again.
    fn release(&self, account: AccountId, client_id: &str) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.remove(&(account.0, client_id.to_owned()));
    }
}

/// The message ready to go out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// What recipients get: no Bcc header.
    pub outgoing: Vec<u8>,
    /// The Sent Items copy: as sent, with the Bcc header the sender wrote.
    pub sent_copy: Vec<u8>,
    /// Every recipient (To, Cc, Bcc), lowercased, each once.
    pub recipients: Vec<String>,
    pub message_id: String,
}

impl Engine {
    /// Submits a message for `account`. `Ok(Err(_))` is a refusal the client hears as a
    /// status; `Err(_)` a server fault.
    pub async fn submit(
        &self,
        account: &Account,
        submission: Submission,
        relay: Option<&Relay>,
    ) -> Result<Result<Submitted, Refusal>, EngineError> {
        let client_id = submission.client_id.clone().filter(|c| !c.is_empty());
        if let Some(id) = &client_id {
            if !self.recent_submissions.reserve(account.id, id) {
                return Ok(Err(Refusal::new(
                    CommonStatus::MessagePreviouslySent,
                    "this ClientId was sent already",
                )));
            }
        }
        let result = self.submit_inner(account, submission, relay).await;
        if let Some(id) = &client_id {
            // Sent nowhere: the client may send it again. (After a fault that came once the
            // message was out, the ClientId stays, so a retry does not send it twice.)
            let sent_nowhere = matches!(&result, Ok(Err(_)) | Err(SubmitFault::BeforeSend(_)));
            if sent_nowhere {
                self.recent_submissions.release(account.id, id);
            }
        }
        match result {
            Ok(r) => Ok(r),
            Err(SubmitFault::BeforeSend(e) | SubmitFault::AfterSend(e)) => Err(e),
        }
    }

    async fn submit_inner(
        &self,
        account: &Account,
        submission: Submission,
        relay: Option<&Relay>,
    ) -> Result<Result<Submitted, Refusal>, SubmitFault> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let original = match submission.kind {
            ComposeKind::New => None,
            ComposeKind::Reply | ComposeKind::Forward => {
                let Some(source) = submission.source.clone().filter(|s| !s.is_empty()) else {
                    return Ok(Err(Refusal::new(
                        CommonStatus::InvalidCombinationOfIDs,
                        "SmartReply/SmartForward without a source message",
                    )));
                };
                let id = account.id;
                let found = self
                    .blocking(move |store| find_source(store, id, &source))
                    .await
                    .map_err(SubmitFault::BeforeSend)?;
                // With ReplaceMime the client's message is complete: a source deleted
                // meanwhile does not stop the send (it only is not marked as answered).
                if found.is_none() && !submission.replace_mime {
                    return Ok(Err(Refusal::new(
                        CommonStatus::ItemNotFound,
                        "the message replied to or forwarded does not exist",
                    )));
                }
                found
            }
        };
        let prepared = match prepare(
            account,
            &submission,
            original.as_ref(),
            now,
            &self.settings.hostname,
        ) {
            Ok(p) => p,
            Err(r) => return Ok(Err(r)),
        };
        let limit = self.settings.max_message_bytes;
        if prepared.sent_copy.len() > limit {
            return Ok(Err(Refusal::new(
                CommonStatus::AttachmentIsTooLarge,
                format!(
                    "the message is {} bytes, the limit is {limit}",
                    prepared.sent_copy.len()
                ),
            )));
        }

        // Local recipients are this server's accounts (primary address or alias).
        let mut local: Vec<(String, AccountId)> = Vec::new();
        let mut remote: Vec<String> = Vec::new();
        for r in &prepared.recipients {
            match self
                .find_recipient(r)
                .await
                .map_err(SubmitFault::BeforeSend)?
            {
                Some(a) => local.push((r.clone(), a)),
                None => remote.push(r.clone()),
            }
        }
        if !remote.is_empty() {
            let Some(relay) = relay else {
                return Ok(Err(Refusal::new(
                    CommonStatus::MailSubmissionFailed,
                    format!(
                        "no smarthost is configured for remote recipients ({})",
                        remote.join(", ")
                    ),
                )));
            };
            if let Err(r) = relay_send(relay, &account.email, &remote, &prepared.outgoing).await {
                return Ok(Err(r));
            }
        }

        // From here on the message is out: a fault is a server error, and the ClientId
        // stays recorded.
        let mut delivered = Vec::new();
        let mut seen_accounts = Vec::new();
        for (address, id) in &local {
            // An account named twice (address and alias) gets one copy.
            if seen_accounts.contains(id) {
                continue;
            }
            seen_accounts.push(*id);
            self.deliver(*id, prepared.outgoing.clone())
                .await
                .map_err(SubmitFault::AfterSend)?;
            delivered.push(address.clone());
        }
        let sent_item = if submission.save_in_sent {
            let id = account.id;
            let copy = prepared.sent_copy.clone();
            let item = self
                .blocking(move |store| save_in_sent(store, id, copy, now))
                .await
                .map_err(SubmitFault::AfterSend)?;
            self.hub.changed(account.id.0, &[item.0 .0]);
            Some(item.1)
        } else {
            None
        };
        if let (Some(original), ComposeKind::Reply | ComposeKind::Forward) =
            (&original, submission.kind)
        {
            let verb = match submission.kind {
                ComposeKind::Forward => LAST_VERB_FORWARD,
                _ if prepared.recipients.len() > 1 => LAST_VERB_REPLY_ALL,
                _ => LAST_VERB_REPLY_TO_SENDER,
            };
            let id = account.id;
            let item = original.item.clone();
            // Best effort: the message is sent whether or not the mark sticks.
            match self
                .blocking(move |store| mark_answered(store, id, &item, verb, now))
                .await
            {
                Ok(()) => self.hub.changed(account.id.0, &[original.item.folder.0]),
                Err(e) => tracing::warn!(error = %e, "marking the original as answered failed"),
            }
        }
        Ok(Ok(Submitted {
            message_id: prepared.message_id,
            local: delivered,
            remote,
            sent_item,
        }))
    }
}

enum SubmitFault {
    /// Nothing was sent.
    BeforeSend(EngineError),
    /// The message went out (to the smarthost or some local recipient).
    AfterSend(EngineError),
}

/// MS-ASEMAIL email2:LastVerbExecuted values, kept in the original's `fields.extra`.
pub const LAST_VERB_REPLY_TO_SENDER: u8 = 1;
pub const LAST_VERB_REPLY_ALL: u8 = 2;
pub const LAST_VERB_FORWARD: u8 = 3;

/// The message a Source names (MS-ASCMD 2.2.3.176): LongId (a Search result's id, here the
/// ServerId), or ItemId, in FolderId when that is given too.
fn find_source(
    store: &dyn Store,
    account: AccountId,
    source: &Source,
) -> Result<Option<FullItem>, EngineError> {
    let Some(server_id) = source.long_id.as_deref().or(source.item_id.as_deref()) else {
        return Ok(None);
    };
    let Some(item) = store.item_by_server_id(account, server_id)? else {
        return Ok(None);
    };
    if item.class != ItemClass::Email {
        return Ok(None);
    }
    if let (Some(folder_id), None) = (source.folder_id.as_deref(), source.long_id.as_deref()) {
        let folder = store.folder(account, item.folder)?;
        if folder.is_none_or(|f| f.server_id != folder_id) {
            return Ok(None);
        }
    }
    Ok(store.items_full(account, &[item.id])?.into_iter().next())
}

fn save_in_sent(
    store: &dyn Store,
    account: AccountId,
    raw: Vec<u8>,
    now: i64,
) -> Result<(easd_store::FolderId, String), EngineError> {
    let folder = store
        .default_folder(account, folder_type::SENT_ITEMS)?
        .ok_or_else(|| EngineError::NotFound("Sent Items".into()))?;
    let mut fields = fields_from_mime(&raw, now)?;
    fields.read = true;
    let item = store.add_item(
        account,
        NewItem {
            folder: folder.id,
            class: ItemClass::Email,
            content: raw,
            fields,
        },
    )?;
    Ok((folder.id, item.server_id))
}

fn mark_answered(
    store: &dyn Store,
    account: AccountId,
    item: &easd_store::Item,
    verb: u8,
    now: i64,
) -> Result<(), EngineError> {
    let mut extra = match &item.fields.extra {
        serde_json::Value::Object(m) => m.clone(),
        _ => serde_json::Map::new(),
    };
    extra.insert("last_verb_executed".into(), verb.into());
    extra.insert("last_verb_execution_time".into(), eas_datetime(now).into());
    store.update_item(
        account,
        item.id,
        &ItemChange {
            extra: Some(serde_json::Value::Object(extra)),
            ..Default::default()
        },
    )?;
    Ok(())
}

/// Relays `message` to `recipients` through the smarthost, in one SMTP transaction: one
/// refused recipient refuses the message for all.
pub(crate) async fn relay_send(
    relay: &Relay,
    from: &str,
    recipients: &[String],
    message: &[u8],
) -> Result<(), Refusal> {
    use lettre::address::{Address, Envelope};
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::transport::smtp::client::{Tls, TlsParameters};
    use lettre::transport::smtp::extension::ClientId;
    use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

    let failed = |status, reason: String| Refusal::new(status, reason);
    let (host, port) = split_host_port(&relay.address);
    let sender: Address = from.parse().map_err(|e| {
        failed(
            CommonStatus::MailSubmissionFailed,
            format!("sender {from}: {e}"),
        )
    })?;
    let mut to = Vec::with_capacity(recipients.len());
    for r in recipients {
        to.push(r.parse::<Address>().map_err(|e| {
            failed(
                CommonStatus::MessageRecipientUnresolved,
                format!("recipient {r}: {e}"),
            )
        })?);
    }
    let envelope = Envelope::new(Some(sender), to).map_err(|e| {
        failed(
            CommonStatus::MessageRecipientUnresolved,
            format!("envelope: {e}"),
        )
    })?;
    let tls_params = TlsParameters::new(host.clone()).map_err(|e| {
        failed(
            CommonStatus::MailSubmissionFailed,
            format!("smarthost TLS: {e}"),
        )
    })?;
    let tls = if port == 465 {
        Tls::Wrapper(tls_params)
    } else {
        Tls::Opportunistic(tls_params)
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.clone())
        .port(port)
        .tls(tls)
        .hello_name(ClientId::Domain(relay.hello_name.clone()))
        .timeout(Some(Duration::from_secs(60)));
    if let (Some(user), Some(password)) = (&relay.user, &relay.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    let transport = builder.build();
    match transport.send_raw(&envelope, message).await {
        Ok(_) => {
            tracing::info!(smarthost = %relay.address, recipients = recipients.len(), "relayed");
            Ok(())
        }
        Err(e) => {
            tracing::warn!(smarthost = %relay.address, error = %e, "relay failed");
            // SMTP 5xx: the smarthost will not take it (a refused recipient, a policy);
            // anything else (4xx, no connection, timeout) may pass later.
            let status = if e.is_permanent() {
                CommonStatus::MailSubmissionFailed
            } else {
                CommonStatus::ServerErrorRetryLater
            };
            Err(failed(status, format!("smarthost {}: {e}", relay.address)))
        }
    }
}

/// "host:port", "host" (port 25), "[v6]:port".
fn split_host_port(address: &str) -> (String, u16) {
    let address = address.trim();
    if let Some(rest) = address.strip_prefix('[') {
        if let Some((host, tail)) = rest.split_once(']') {
            let port = tail
                .strip_prefix(':')
                .and_then(|p| p.parse().ok())
                .unwrap_or(25);
            return (host.to_owned(), port);
        }
    }
    match address.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => (host.to_owned(), port.parse().unwrap_or(25)),
        _ => (address.to_owned(), 25),
    }
}

// ----- the message -----

/// One header field as the client wrote it: its name and its whole text (folded lines
/// joined by CRLF, without the final CRLF).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Field {
    name: String,
    raw: Vec<u8>,
}

impl Field {
    fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// A field from a mail-builder header value (which folds and encodes it).
    fn built(name: &str, value: &impl Header) -> Field {
        let mut raw = format!("{name}: ").into_bytes();
        let _ = value.write_header(&mut raw, name.len() + 2);
        while raw.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            raw.pop();
        }
        Field {
            name: name.to_owned(),
            raw,
        }
    }
}

/// Splits a message into its header fields and its body (RFC 5322 2.1), with every line
/// ending made CRLF.
fn split_message(raw: &[u8]) -> (Vec<Field>, Vec<u8>) {
    let mut fields: Vec<Field> = Vec::new();
    let mut pos = 0;
    while pos < raw.len() {
        let end = raw[pos..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(raw.len(), |i| pos + i);
        let mut line = &raw[pos..end];
        pos = (end + 1).min(raw.len());
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        if line.is_empty() {
            return (fields, crlf(&raw[pos..]));
        }
        if line[0] == b' ' || line[0] == b'\t' {
            if let Some(last) = fields.last_mut() {
                last.raw.extend_from_slice(b"\r\n");
                last.raw.extend_from_slice(line);
            }
            continue;
        }
        match line.iter().position(|b| *b == b':') {
            Some(colon) => fields.push(Field {
                name: String::from_utf8_lossy(&line[..colon]).trim().to_owned(),
                raw: line.to_vec(),
            }),
            // Not a header field: the header section ended without its blank line.
            None => {
                let mut body = line.to_vec();
                body.extend_from_slice(b"\r\n");
                body.extend_from_slice(&raw[pos..]);
                return (fields, crlf(&body));
            }
        }
    }
    (fields, Vec::new())
}

/// Makes every bare LF a CRLF (SMTP and the store want CRLF lines).
fn crlf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 32);
    let mut prev = 0u8;
    for &b in bytes {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    out
}

/// Header fields, a blank line, the body.
fn assemble(fields: &[Field], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 1024);
    for f in fields {
        out.extend_from_slice(&f.raw);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// Header fields followed by a MIME part written by mail-builder (its own header fields,
/// a blank line and its body): the part becomes the message's body.
fn assemble_with_part(fields: &[Field], part: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(part.len() + 1024);
    for f in fields {
        out.extend_from_slice(&f.raw);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(part);
    out
}

fn new_message_id(hostname: &str) -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    let a: u64 = rng.gen();
    let b: u64 = rng.gen();
    let host = if hostname.trim().is_empty() {
        "localhost"
    } else {
        hostname.trim()
    };
    format!("{a:016x}{b:016x}@{host}")
}

/// Turns the client's message into the one that is sent (pure: no I/O).
pub fn prepare(
    account: &Account,
    submission: &Submission,
    original: Option<&FullItem>,
    now: i64,
    hostname: &str,
) -> Result<Prepared, Refusal> {
    let invalid = |why: &str| Refusal::new(CommonStatus::InvalidMIME, why.to_owned());
    if submission.mime.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(invalid("the message is empty"));
    }
    let client = MessageParser::default()
        .parse(&submission.mime)
        .ok_or_else(|| invalid("the message does not parse"))?;
    if client.headers().is_empty() {
        return Err(invalid("the message has no header fields"));
    }
    let (mut fields, body) = split_message(&submission.mime);
    if fields.is_empty() {
        return Err(invalid("the message has no header fields"));
    }

    // Recipients: To, Cc and Bcc (RFC 5322 3.6.3).
    let mut recipients: Vec<String> = Vec::new();
    for list in [client.to(), client.cc(), client.bcc()]
        .into_iter()
        .flatten()
    {
        for a in list.iter() {
            if let Some(addr) = a.address.as_deref() {
                let addr = addr.trim().to_lowercase();
                if !addr.is_empty() && !recipients.contains(&addr) {
                    recipients.push(addr);
                }
            }
        }
    }
    if recipients.is_empty() {
        return Err(Refusal::new(
            CommonStatus::MessageHasNoRecipient,
            "the message names no recipient",
        ));
    }

    // From: the account's own address. A user never sends as another user: a From that is
    // not one of the account's addresses is replaced.
    let own = |addr: &str| {
        let addr = addr.trim().to_lowercase();
        addr == account.email || account.aliases.contains(&addr)
    };
    let from_ok = client.from().is_some_and(|f| {
        let mut it = f.iter();
        matches!((it.next(), it.next()), (Some(a), None) if a.address.as_deref().is_some_and(own))
    });
    if !from_ok {
        fields.retain(|f| !f.is("From"));
        let name = account.display_name.trim();
        let from = if name.is_empty() {
            BuilderAddress::new_address(None::<String>, account.email.clone())
        } else {
            BuilderAddress::new_address(Some(name.to_owned()), account.email.clone())
        };
        fields.insert(0, Field::built("From", &from));
    }
    // Sender names who sent on whose behalf; only the account itself may be named.
    let sender_ok = client
        .sender()
        .and_then(|s| s.first())
        .and_then(|a| a.address.as_deref())
        .is_some_and(own);
    if !sender_ok {
        fields.retain(|f| !f.is("Sender"));
    }
    // Set by final delivery, never by the sender (RFC 5321 4.4).
    fields.retain(|f| !f.is("Return-Path"));

    // Date and Message-ID (RFC 5322 3.6.1, 3.6.4) when the client left them out.
    if client.date().is_none() {
        fields.retain(|f| !f.is("Date"));
        fields.push(Field::built("Date", &Date::new(now)));
    }
    let message_id = match client.message_id() {
        Some(id) if !id.trim().is_empty() => id.trim().to_owned(),
        _ => {
            fields.retain(|f| !f.is("Message-ID"));
            let id = new_message_id(hostname);
            fields.push(Field::built("Message-ID", &MessageId::new(id.clone())));
            id
        }
    };

    // Threading of a reply or forward (RFC 5322 3.6.4).
    let original_message = original.and_then(|o| MessageParser::default().parse(&o.content));
    if let (Some(o), Some(om)) = (original, original_message.as_ref()) {
        let original_id = om
            .message_id()
            .map(str::to_owned)
            .or_else(|| o.item.fields.uid.clone());
        if let Some(original_id) = original_id {
            if submission.kind == ComposeKind::Reply && client.in_reply_to().is_empty() {
                fields.push(Field::built(
                    "In-Reply-To",
                    &MessageId::new(original_id.clone()),
                ));
            }
            if client.references().is_empty() {
                let mut ids = message_ids(om.references());
                if ids.is_empty() {
                    ids = message_ids(om.in_reply_to());
                }
                ids.push(original_id);
                fields.push(Field::built(
                    "References",
                    &MessageId::new_list(ids.into_iter()),
                ));
            }
        }
    }

    let with_bcc = match (
        submission.kind,
        submission.replace_mime,
        &original_message,
        original,
    ) {
        (ComposeKind::Reply | ComposeKind::Forward, false, Some(om), Some(o)) => {
            let part = compose_body(&client, om, o, submission.kind);
            fields.retain(|f| {
                !f.name.to_ascii_lowercase().starts_with("content-") && !f.is("MIME-Version")
            });
            fields.push(Field {
                name: "MIME-Version".into(),
                raw: b"MIME-Version: 1.0".to_vec(),
            });
            assemble_with_part(&fields, &part)
        }
        _ => assemble(&fields, &body),
    };
    // Recipients never see the Bcc list (RFC 5322 3.6.3); the sender's copy keeps it.
    let (sent_fields, sent_body) = split_message(&with_bcc);
    let outgoing_fields: Vec<Field> = sent_fields
        .iter()
        .filter(|f| !f.is("Bcc"))
        .cloned()
        .collect();
    let outgoing = assemble(&outgoing_fields, &sent_body);
    Ok(Prepared {
        outgoing,
        sent_copy: with_bcc,
        recipients,
        message_id,
    })
}

fn message_ids(v: &HeaderValue<'_>) -> Vec<String> {
    match v {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    }
}

/// The body of a SmartReply or SmartForward without ReplaceMime (MS-ASCMD 2.2.1.19,
/// 2.2.1.20): the client's text, then the original (quoted for a reply; for a forward with
/// its header summary and its attachments), as text and, when either side has HTML, HTML.
fn compose_body(
    client: &Message<'_>,
    original: &Message<'_>,
    o: &FullItem,
    kind: ComposeKind,
) -> Vec<u8> {
    let client_text = client
        .body_text(0)
        .map(|t| t.into_owned())
        .unwrap_or_default();
    let client_html = real_html(client);
    let original_text = original
        .body_text(0)
        .map(|t| t.into_owned())
        .unwrap_or_default();
    let original_html = real_html(original);
    let fields = &o.item.fields;
    let date = original
        .header_raw("Date")
        .map(|d| d.trim().to_owned())
        .unwrap_or_else(|| eas_datetime(fields.date_received));
    let from = if fields.from.is_empty() {
        "unknown sender".to_owned()
    } else {
        fields.from.clone()
    };

    let (text, html_intro) = match kind {
        ComposeKind::Forward => {
            let mut summary = vec![
                "---------- Forwarded message ----------".to_owned(),
                format!("From: {from}"),
                format!("Date: {date}"),
                format!("Subject: {}", fields.subject),
                format!("To: {}", fields.to),
            ];
            if !fields.cc.is_empty() {
                summary.push(format!("Cc: {}", fields.cc));
            }
            let text = format!(
                "{}\r\n\r\n{}\r\n\r\n{}",
                client_text.trim_end(),
                summary.join("\r\n"),
                original_text
            );
            let html = summary
                .iter()
                .map(|l| escape_html(l))
                .collect::<Vec<_>>()
                .join("<br>\r\n");
            (text, html)
        }
        _ => {
            let attribution = format!("On {date}, {from} wrote:");
            let text = format!(
                "{}\r\n\r\n{attribution}\r\n{}",
                client_text.trim_end(),
                quote(&original_text)
            );
            (text, escape_html(&attribution))
        }
    };
    let html = (client_html.is_some() || original_html.is_some()).then(|| {
        let mine = client_html
            .clone()
            .unwrap_or_else(|| format!("<div>{}</div>", text_to_html(&client_text)));
        let theirs = original_html
            .as_deref()
            .map(html_inner)
            .map(str::to_owned)
            .unwrap_or_else(|| text_to_html(&original_text));
        let block = match kind {
            ComposeKind::Forward => format!("<div><br>{html_intro}<br><br>{theirs}</div>"),
            _ => format!(
                "<div><br>{html_intro}</div><blockquote type=\"cite\" style=\"margin:0 0 0 .8ex;border-left:1px #ccc solid;padding-left:1ex\">{theirs}</blockquote>"
            ),
        };
        insert_before_body_end(&mine, &block)
    });

    let mut builder = MessageBuilder::new().text_body(text);
    if let Some(html) = html {
        builder = builder.html_body(html);
    }
    builder = add_attachments(builder, client);
    if kind == ComposeKind::Forward {
        builder = add_attachments(builder, original);
    }
    let mut out = Vec::new();
    let _ = builder.write_body(&mut out);
    out
}

/// Copies a message's attachments (inline ones with their Content-ID) into `builder`.
fn add_attachments<'x>(
    mut builder: MessageBuilder<'x>,
    message: &'x Message<'x>,
) -> MessageBuilder<'x> {
    for part in message.attachments() {
        let content_type = part
            .content_type()
            .map(|ct| match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub),
                None => ct.ctype().to_owned(),
            })
            .unwrap_or_else(|| "application/octet-stream".to_owned());
        let contents = part.contents().to_vec();
        let inline = part.content_disposition().is_some_and(|d| d.is_inline());
        match part.content_id() {
            Some(cid) if inline => {
                let cid = cid.trim().trim_matches(['<', '>']).to_owned();
                builder = builder.inline(content_type, cid, contents);
            }
            _ => {
                let name = part
                    .attachment_name()
                    .map(str::to_owned)
                    .unwrap_or_else(|| match part.message() {
                        Some(_) => "message.eml".to_owned(),
                        None => "attachment".to_owned(),
                    });
                builder = builder.attachment(content_type, name, contents);
            }
        }
    }
    builder
}

/// The HTML body when the message has a real text/html part (mail-parser makes one up
/// from plain text otherwise).
fn real_html(m: &Message<'_>) -> Option<String> {
    let real = m.html_bodies().any(|p| {
        p.content_type()
            .is_some_and(|ct| ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("html")))
    });
    if real {
        m.body_html(0).map(|h| h.into_owned())
    } else {
        None
    }
}

fn quote(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                ">".to_owned()
            } else {
                format!("> {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\r\n")
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

fn text_to_html(text: &str) -> String {
    text.lines()
        .map(escape_html)
        .collect::<Vec<_>>()
        .join("<br>\r\n")
}

fn find_ci(haystack: &str, needle: &str) -> Option<usize> {
    haystack.to_ascii_lowercase().find(needle)
}

fn rfind_ci(haystack: &str, needle: &str) -> Option<usize> {
    haystack.to_ascii_lowercase().rfind(needle)
}

/// What is inside `<body>` (the whole text when there is no body element).
fn html_inner(html: &str) -> &str {
    let start = find_ci(html, "<body")
        .and_then(|i| html[i..].find('>').map(|j| i + j + 1))
        .unwrap_or(0);
    let end = rfind_ci(html, "</body")
        .filter(|e| *e >= start)
        .unwrap_or(html.len());
    &html[start..end]
}

/// Inserts `block` before `</body>`, or at the end.
fn insert_before_body_end(html: &str, block: &str) -> String {
    match rfind_ci(html, "</body") {
        Some(i) => format!("{}{block}{}", &html[..i], &html[i..]),
        None => format!("{html}{block}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> Account {
        Account {
            id: AccountId(1),
            email: "alice@example.com".into(),
            password_hash: String::new(),
            display_name: "Alice Liddell".into(),
            aliases: vec!["al@example.com".into()],
            credential_generation: 1,
            created_at: 0,
        }
    }

    fn send(mime: &str) -> Submission {
        Submission {
            kind: ComposeKind::New,
            client_id: None,
            source: None,
            replace_mime: false,
            save_in_sent: true,
            mime: mime.as_bytes().to_vec(),
        }
    }

    fn header(raw: &[u8], name: &str) -> Option<String> {
        let m = MessageParser::default().parse(raw)?;
        m.header_raw(name).map(|v| v.trim().to_owned())
    }

    #[test]
    fn adds_from_date_and_message_id_and_hides_bcc() {
        let p = prepare(
            &alice(),
            &send("To: bob@example.com\nBcc: Carl <carl@example.net>\nSubject: hi\n\nhello\n"),
            None,
            1_700_000_000,
            "mx.example.com",
        )
        .unwrap();
        assert_eq!(p.recipients, ["bob@example.com", "carl@example.net"]);
        let out = &p.outgoing;
        assert!(header(out, "From").unwrap().contains("<alice@example.com>"));
        assert!(header(out, "Date").is_some());
        assert!(p.message_id.ends_with("@mx.example.com"));
        assert_eq!(header(out, "Bcc"), None);
        assert!(header(&p.sent_copy, "Bcc")
            .unwrap()
            .contains("carl@example.net"));
        // CRLF everywhere, and the body as written.
        assert!(!out.windows(2).any(|w| w[1] == b'\n' && w[0] != b'\r'));
        assert!(out.ends_with(b"\r\n\r\nhello\r\n"));
    }

    #[test]
    fn never_sends_as_another_user() {
        let p = prepare(
            &alice(),
            &send("From: Bob <bob@example.com>\r\nSender: bob@example.com\r\nTo: x@example.net\r\n\r\nx"),
            None,
            0,
            "h",
        )
        .unwrap();
        let from = header(&p.outgoing, "From").unwrap();
        assert!(
            from.contains("alice@example.com") && !from.contains("bob"),
            "{from}"
        );
        assert_eq!(header(&p.outgoing, "Sender"), None);
        // An alias of the account is the user's own: kept.
        let p = prepare(
            &alice(),
            &send("From: Al <AL@example.com>\r\nTo: x@example.net\r\nDate: Tue, 1 Jul 2003 10:52:37 +0200\r\nMessage-ID: <m1@x>\r\n\r\nx"),
            None,
            0,
            "h",
        )
        .unwrap();
        assert_eq!(
            header(&p.outgoing, "From").as_deref(),
            Some("Al <AL@example.com>")
        );
        assert_eq!(p.message_id, "m1@x");
        assert_eq!(
            header(&p.outgoing, "Date").as_deref(),
            Some("Tue, 1 Jul 2003 10:52:37 +0200")
        );
    }

    #[test]
    fn refuses_what_cannot_be_sent() {
        let e = prepare(&alice(), &send("Subject: nobody\r\n\r\nx"), None, 0, "h").unwrap_err();
        assert_eq!(e.status, CommonStatus::MessageHasNoRecipient);
        let e = prepare(&alice(), &send(""), None, 0, "h").unwrap_err();
        assert_eq!(e.status, CommonStatus::InvalidMIME);
    }

    fn original(raw: &str) -> FullItem {
        crate::content::mail::full_item_from_mime(raw)
    }

    const ORIGINAL: &str = "From: Bob <bob@example.com>\r\nTo: alice@example.com\r\nSubject: Plans\r\n\
Message-ID: <orig@example.com>\r\nReferences: <root@example.com>\r\nDate: Tue, 1 Jul 2003 10:52:37 +0200\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n\
Content-Type: text/plain\r\n\r\nShall we meet on Friday?\r\nBob\r\n--b1\r\n\
Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"agenda.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b1--\r\n";

    #[test]
    fn smart_reply_quotes_and_threads() {
        let o = original(ORIGINAL);
        let mut s = send("To: bob@example.com\r\nSubject: Re: Plans\r\n\r\nYes, Friday works.\r\n");
        s.kind = ComposeKind::Reply;
        let p = prepare(&alice(), &s, Some(&o), 0, "h").unwrap();
        let m = MessageParser::default().parse(&p.outgoing).unwrap();
        let text = m.body_text(0).unwrap();
        assert!(text.starts_with("Yes, Friday works."), "{text}");
        assert!(text.contains("> Shall we meet on Friday?"), "{text}");
        assert!(text.contains("wrote:"), "{text}");
        assert_eq!(m.in_reply_to().as_text(), Some("orig@example.com"));
        assert_eq!(
            message_ids(m.references()),
            ["root@example.com", "orig@example.com"]
        );
        // A reply does not carry the original's attachments.
        assert_eq!(m.attachments().count(), 0);
        assert_eq!(m.subject(), Some("Re: Plans"));
    }

    #[test]
    fn smart_forward_attaches_the_original_attachments() {
        let o = original(ORIGINAL);
        let mut s = send("To: carl@example.net\r\nSubject: Fw: Plans\r\n\r\nFYI\r\n");
        s.kind = ComposeKind::Forward;
        let p = prepare(&alice(), &s, Some(&o), 0, "h").unwrap();
        let m = MessageParser::default().parse(&p.outgoing).unwrap();
        let text = m.body_text(0).unwrap();
        assert!(text.starts_with("FYI"), "{text}");
        assert!(text.contains("Forwarded message"), "{text}");
        assert!(text.contains("Shall we meet on Friday?"), "{text}");
        let names: Vec<_> = m
            .attachments()
            .filter_map(|a| a.attachment_name())
            .collect();
        assert_eq!(names, ["agenda.pdf"]);
        assert_eq!(m.attachments().next().unwrap().contents(), b"%PDF-1.4\n");
        assert_eq!(m.in_reply_to().as_text(), None);
        assert_eq!(
            message_ids(m.references()),
            ["root@example.com", "orig@example.com"]
        );
    }

    #[test]
    fn replace_mime_keeps_the_client_message() {
        let o = original(ORIGINAL);
        let raw = "To: bob@example.com\r\nSubject: Re: Plans\r\n\r\nAll of it, my way.\r\n";
        let mut s = send(raw);
        s.kind = ComposeKind::Reply;
        s.replace_mime = true;
        let p = prepare(&alice(), &s, Some(&o), 0, "h").unwrap();
        assert!(p.outgoing.ends_with(b"\r\n\r\nAll of it, my way.\r\n"));
        assert_eq!(
            header(&p.outgoing, "In-Reply-To").as_deref(),
            Some("<orig@example.com>")
        );
    }

    #[test]
    fn html_reply_keeps_html() {
        let o = original(
            "From: bob@example.com\r\nSubject: s\r\nMessage-ID: <o2@x>\r\nContent-Type: text/html\r\n\r\n<html><body><p>Original &amp; more</p></body></html>",
        );
        let mut s = send(
            "To: bob@example.com\r\nSubject: Re: s\r\nContent-Type: text/html\r\n\r\n<html><body><p>Mine</p></body></html>",
        );
        s.kind = ComposeKind::Reply;
        let p = prepare(&alice(), &s, Some(&o), 0, "h").unwrap();
        let m = MessageParser::default().parse(&p.outgoing).unwrap();
        let html = m.body_html(0).unwrap();
        let mine = html.find("<p>Mine</p>").unwrap();
        let theirs = html.find("<blockquote").unwrap();
        assert!(
            mine < theirs && html.contains("<p>Original &amp; more</p>"),
            "{html}"
        );
        assert!(html.trim_end().ends_with("</body></html>"), "{html}");
    }

    #[test]
    fn header_splitting() {
        let (f, body) = split_message(b"A: 1\n  folded\nB: 2\n\nbody\nline");
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].raw, b"A: 1\r\n  folded");
        assert_eq!(body, b"body\r\nline");
        assert_eq!(
            split_host_port("smtp.example.com:587"),
            ("smtp.example.com".into(), 587)
        );
        assert_eq!(
            split_host_port("smtp.example.com"),
            ("smtp.example.com".into(), 25)
        );
        assert_eq!(split_host_port("[::1]:2525"), ("::1".into(), 2525));
    }

    #[test]
    fn recent_client_ids() {
        let r = RecentSubmissions::default();
        assert!(r.reserve(AccountId(1), "x"));
        assert!(!r.reserve(AccountId(1), "x"));
        assert!(r.reserve(AccountId(2), "x"));
        r.release(AccountId(1), "x");
        assert!(r.reserve(AccountId(1), "x"));
    }
}
