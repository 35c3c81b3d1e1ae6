//! Mail in the store (RFC 5322 bytes + parsed fields) rendered as the EAS Email class
//! (MS-ASEMAIL) with the body the client asked for (MS-ASAIRS BodyPreference).

use easd_protocol::items::airsyncbase::{
    Attachment, AttachmentMethod, Body, BodyData, BodyPart, BodyPartPreference, BodyPartStatus,
    BodyPreference, BodyType,
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
    Some(shape_body(body_type, full, || plain_text(message), &wanted))
}

/// The body of `body_type` holding `full`, cut to the preference's TruncationSize (with
/// AllOrNone, no data at all when it does not fit) and with its Preview taken from
/// `plain` (MS-ASAIRS 2.2.2.9 Body, 2.2.2.40 TruncationSize, 2.2.2.35 Preview).
pub(crate) fn shape_body(
    body_type: BodyType,
    full: String,
    plain: impl FnOnce() -> String,
    wanted: &BodyPreference,
) -> Body {
    let size = u32::try_from(full.len()).unwrap_or(u32::MAX);
    let preview = wanted.preview.filter(|n| *n > 0).map(|n| {
        let text = plain();
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
    body
}

/// The part of a message that is new in its conversation, as HTML (MS-ASAIRS 2.2.2.10: Type
/// 2 is the only body part type): the body without the quoted earlier messages.
fn body_part(message: Option<&mail_parser::Message<'_>>, pref: &BodyPartPreference) -> BodyPart {
    let full = match message {
        Some(m) if has_real_html(m) => {
            let html = m.body_html(0).map(|h| h.into_owned()).unwrap_or_default();
            html_before_quote(&html).to_owned()
        }
        _ => plain_to_html(&plain_before_quote(&plain_text(message))),
    };
    let size = u32::try_from(full.len()).unwrap_or(u32::MAX);
    let preview = pref.preview.filter(|n| *n > 0).map(|n| {
        let text = plain_text(message);
        let words = plain_before_quote(&text)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        truncate_chars(&words, n as usize)
    });
    let (truncated, data) = match pref.truncation_size {
        Some(limit) if (limit as usize) < full.len() => (
            Some(true),
            (!pref.all_or_none).then(|| BodyData::Text(truncate_bytes(&full, limit as usize))),
        ),
        _ => (None, Some(BodyData::Text(full))),
    };
    BodyPart {
        status: BodyPartStatus::Success,
        body_type: BodyType::Html,
        estimated_data_size: size,
        truncated,
        data,
        preview,
    }
}

/// HTML up to where the quoted conversation starts (the reply markers mail clients write).
fn html_before_quote(html: &str) -> &str {
    const MARKERS: [&str; 5] = [
        "<blockquote",
        "<div class=\"gmail_quote",
        "<div id=\"divrplyfwdmsg",
        "<div id=\"appendonsend",
        "<div class=\"moz-cite-prefix",
    ];
    let lower = html.to_ascii_lowercase();
    let cut = MARKERS
        .iter()
        .filter_map(|m| lower.find(m))
        .min()
        .unwrap_or(html.len());
    &html[..cut]
}

/// Plain text up to the quoted conversation: "> " lines, an "-----Original Message-----"
/// divider, and the "On ... wrote:" line before them.
fn plain_before_quote(text: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with('>') || t.starts_with("-----Original Message-----") {
            break;
        }
        kept.push(line);
    }
    while kept.last().is_some_and(|l| l.trim().is_empty()) {
        kept.pop();
    }
    if kept
        .last()
        .is_some_and(|l| l.trim_end().ends_with("wrote:"))
    {
        kept.pop();
    }
    kept.join("\n")
}

fn plain_to_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    out.push_str("<html><body>");
    for (i, line) in text.lines().enumerate() {
        if i > 0 {
            out.push_str("<br>");
        }
        for c in line.chars() {
            match c {
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '&' => out.push_str("&amp;"),
                '"' => out.push_str("&quot;"),
                c => out.push(c),
            }
        }
    }
    out.push_str("</body></html>");
    out
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

/// What the client asked of the body: BodyPreference, and BodyPartPreference (14.1+).
#[derive(Debug, Clone, Default)]
pub struct BodyOptions {
    pub body: Vec<BodyPreference>,
    pub body_part: Vec<BodyPartPreference>,
}

impl BodyOptions {
    /// Only body preferences (Search and ItemOperations ask for no body part).
    pub fn body(body: Vec<BodyPreference>) -> Self {
        BodyOptions {
            body,
            body_part: Vec::new(),
        }
    }
}

/// Renders a stored message as the Email class for `version`.
pub fn render(item: &FullItem, options: &BodyOptions, version: ProtocolVersion) -> Email {
    let prefs = options.body.as_slice();
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
        // MS-ASAIRS 2.2.2.10: the BodyPart is sent from 14.1 when the client asked for it.
        body_part: if version >= ProtocolVersion::V14_1 {
            options
                .body_part
                .iter()
                .find(|p| p.body_type == BodyType::Html)
                .map(|p| body_part(message.as_ref(), p))
        } else {
            None
        },
        message_class: Some(fields.message_class.clone()),
        meeting_request: crate::content::itip::meeting_request(
            &item.content,
            &fields.message_class,
            version,
        ),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::mail::full_item_from_mime;

    const REPLY_HTML: &str = "From: Bob <bob@example.com>\r\nTo: alice@example.com\r\n\
Subject: Re: Plans\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
<html><body><p>Friday works.</p><blockquote><p>Shall we meet on Friday?</p></blockquote>\
</body></html>\r\n";

    const REPLY_PLAIN: &str = "From: Bob <bob@example.com>\r\nTo: alice@example.com\r\n\
Subject: Re: Plans\r\nContent-Type: text/plain\r\n\r\nFriday works.\r\nBob & co\r\n\r\n\
On Tue, Alice wrote:\r\n> Shall we meet on Friday?\r\n";

    fn options(pref: BodyPartPreference) -> BodyOptions {
        BodyOptions {
            body: vec![BodyPreference::new(BodyType::Html)],
            body_part: vec![pref],
        }
    }

    fn part_text(part: &BodyPart) -> &str {
        match part.data.as_ref() {
            Some(BodyData::Text(t)) => t,
            other => panic!("no text data: {other:?}"),
        }
    }

    #[test]
    fn body_part_is_the_new_html_without_the_quote() {
        let item = full_item_from_mime(REPLY_HTML);
        let pref = BodyPartPreference::new(BodyType::Html);
        let email = render(&item, &options(pref), ProtocolVersion::V16_1);
        let part = email.body_part.expect("a body part at 16.1");
        assert_eq!(part.status, BodyPartStatus::Success);
        assert_eq!(part.body_type, BodyType::Html);
        let text = part_text(&part);
        assert!(text.contains("Friday works."), "{text}");
        assert!(!text.contains("Shall we meet"), "{text}");
        assert_eq!(part.estimated_data_size as usize, text.len());
        // The Body itself still carries the whole conversation.
        let body = email.body.unwrap();
        assert!(matches!(body.data, Some(BodyData::Text(t)) if t.contains("Shall we meet")));
    }

    #[test]
    fn body_part_of_plain_text_is_escaped_html_and_honours_truncation() {
        let item = full_item_from_mime(REPLY_PLAIN);
        let whole = render(
            &item,
            &options(BodyPartPreference::new(BodyType::Html)),
            ProtocolVersion::V14_1,
        )
        .body_part
        .unwrap();
        let text = part_text(&whole).to_owned();
        assert_eq!(
            text,
            "<html><body>Friday works.<br>Bob &amp; co</body></html>"
        );

        let mut cut = BodyPartPreference::new(BodyType::Html);
        cut.truncation_size = Some(10);
        cut.preview = Some(6);
        let part = render(&item, &options(cut.clone()), ProtocolVersion::V16_1)
            .body_part
            .unwrap();
        assert_eq!(part.truncated, Some(true));
        assert_eq!(part_text(&part), &text[..10]);
        assert_eq!(part.estimated_data_size as usize, text.len());
        assert_eq!(part.preview.as_deref(), Some("Friday"));

        cut.all_or_none = true;
        let part = render(&item, &options(cut), ProtocolVersion::V16_1)
            .body_part
            .unwrap();
        assert!(part.data.is_none() && part.truncated == Some(true));
    }

    #[test]
    fn no_body_part_before_14_1_or_unasked() {
        let item = full_item_from_mime(REPLY_HTML);
        let asked = options(BodyPartPreference::new(BodyType::Html));
        assert!(render(&item, &asked, ProtocolVersion::V14_0)
            .body_part
            .is_none());
        let unasked = BodyOptions::body(vec![BodyPreference::new(BodyType::Html)]);
        assert!(render(&item, &unasked, ProtocolVersion::V16_1)
            .body_part
            .is_none());
    }
}
