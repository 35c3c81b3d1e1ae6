//! Mail in the store (RFC 5322 bytes + parsed fields) rendered as the EAS Email class
//! (MS-ASEMAIL) with the body the client asked for (MS-ASAIRS BodyPreference).

use easd_protocol::items::airsyncbase::{
    Attachment, AttachmentMethod, Body, BodyData, BodyPreference, BodyType,
};
use easd_protocol::items::email::{Email, Flag, FlagStatus, Importance};
use easd_protocol::ProtocolVersion;
use easd_store::FullItem;
use mail_parser::{MessageParser, MimeHeaders};

/// MS-ASDTYPE 2.3: dateTime as `2026-11-25T16:22:49.000Z`.
pub fn eas_datetime(unix: i64) -> String {
    let t =
        time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// A FileReference names an attachment by its item and its position among the message's
/// attachments (MS-ASAIRS 2.2.2.24.2: opaque to the client).
pub fn file_reference(server_id: &str, index: usize) -> String {
    format!("{server_id}:{index}")
}

/// Splits a FileReference into the item's ServerId and the attachment index.
pub fn parse_file_reference(reference: &str) -> Option<(&str, usize)> {
    let (server_id, index) = reference.rsplit_once(':')?;
    Some((server_id, index.parse().ok()?))
}

/// The body a client gets for a message, per its preferences.
fn choose_body(
    message: Option<&mail_parser::Message<'_>>,
    raw: &[u8],
    prefs: &[BodyPreference],
) -> Option<Body> {
    // MIME when the client lists it (iOS does); else HTML, else plain text.
    let wanted = [BodyType::Mime, BodyType::Html, BodyType::Plain]
        .into_iter()
        .find_map(|t| prefs.iter().find(|p| p.body_type == t))
        .cloned()
        .unwrap_or_else(|| BodyPreference::new(BodyType::Plain));
    let (body_type, full): (BodyType, String) = match wanted.body_type {
        BodyType::Mime => (BodyType::Mime, String::from_utf8_lossy(raw).into_owned()),
        BodyType::Html => match message.and_then(|m| m.body_html(0)) {
            Some(html) if message.is_some_and(|m| m.html_body_count() > 0 && has_real_html(m)) => {
                (BodyType::Html, html.into_owned())
            }
            _ => (BodyType::Plain, plain_text(message)),
        },
        _ => (BodyType::Plain, plain_text(message)),
    };
    let size = u32::try_from(full.len()).unwrap_or(u32::MAX);
    let preview = wanted.preview.filter(|n| *n > 0).map(|n| {
        let text = plain_text(message);
        truncate_chars(
            text.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .as_str(),
            n as usize,
        )
    });
    let mut body = match wanted.truncation_size {
        Some(limit) if (limit as usize) < full.len() => {
            let data = if wanted.all_or_none {
                None
            } else {
                Some(BodyData::Text(truncate_bytes(&full, limit as usize)))
            };
            Body {
                body_type,
                estimated_data_size: Some(size),
                truncated: Some(true),
                data,
                preview: None,
            }
        }
        _ => Body::new(body_type, BodyData::Text(full)),
    };
    body.preview = preview;
    Some(body)
}

/// mail-parser synthesises an HTML body from plain text; only a real text/html part counts.
fn has_real_html(m: &mail_parser::Message<'_>) -> bool {
    m.html_bodies().any(|p| {
        p.content_type()
            .is_some_and(|ct| ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("html")))
    })
}

fn plain_text(message: Option<&mail_parser::Message<'_>>) -> String {
    let Some(m) = message else {
        return String::new();
    };
    let has_plain = m.text_bodies().any(|p| {
        p.content_type()
            .is_none_or(|ct| ct.subtype().is_none_or(|s| s.eq_ignore_ascii_case("plain")))
    });
    if has_plain {
        return m.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
    }
    match m.body_html(0) {
        Some(html) => {
            html2text::from_read(html.as_bytes(), 80).unwrap_or_else(|_| html.into_owned())
        }
        None => String::new(),
    }
}

fn truncate_bytes(s: &str, limit: usize) -> String {
    let mut end = limit.min(s.len());
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

fn truncate_chars(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Renders a stored message as the Email class for `version`.
pub fn render(item: &FullItem, prefs: &[BodyPreference], version: ProtocolVersion) -> Email {
    let fields = &item.item.fields;
    let message = MessageParser::default().parse(&item.content);
    let attachments = message
        .as_ref()
        .map(|m| {
            m.attachments()
                .enumerate()
                .map(|(i, part)| {
                    let mut a = Attachment::new(
                        file_reference(&item.item.server_id, i),
                        u32::try_from(part.contents().len()).unwrap_or(u32::MAX),
                    );
                    a.display_name =
                        Some(part.attachment_name().unwrap_or("attachment").to_owned());
                    a.method = if part.message().is_some() {
                        AttachmentMethod::EmbeddedMessage
                    } else {
                        AttachmentMethod::Normal
                    };
                    a.content_id = part
                        .content_id()
                        .map(|c| c.trim_matches(['<', '>']).to_owned());
                    a.is_inline = part.content_disposition().map(|d| d.is_inline());
                    a
                })
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let extra = &fields.extra;
    let text = |key: &str| extra.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    let native = if message.as_ref().is_some_and(has_real_html) {
        BodyType::Html
    } else {
        BodyType::Plain
    };
    Email {
        to: Some(fields.to.clone()),
        cc: (!fields.cc.is_empty()).then(|| fields.cc.clone()),
        from: Some(fields.from.clone()),
        subject: Some(fields.subject.clone()),
        date_received: Some(eas_datetime(fields.date_received)),
        display_to: text("display_to"),
        thread_topic: text("thread_topic").or_else(|| Some(fields.subject.clone())),
        importance: Importance::from_code(u8::try_from(fields.importance).unwrap_or(1)),
        read: Some(fields.read),
        attachments,
        body: choose_body(message.as_ref(), &item.content, prefs),
        message_class: Some(fields.message_class.clone()),
        internet_cpid: Some("65001".into()),
        flag: Some(
            match FlagStatus::from_code(u8::try_from(fields.flag_status).unwrap_or(0)) {
                Some(status) if fields.flag_status != 0 => Flag {
                    status: Some(status),
                    flag_type: Some("Follow up".into()),
                    ..Default::default()
                },
                _ => Flag::default(),
            },
        ),
        content_class: Some("urn:content-classes:message".into()),
        native_body_type: Some(native),
        categories: fields.categories.clone(),
        conversation_id: if version >= ProtocolVersion::V14_0 {
            fields.conversation_id.clone()
        } else {
            None
        },
        conversation_index: if version >= ProtocolVersion::V14_0 {
            fields.conversation_id.as_ref().map(|_| vec![0u8; 5])
        } else {
            None
        },
        ..Default::default()
    }
}
