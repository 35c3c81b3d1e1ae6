//! Mail as stored (RFC 5322 bytes) and the parsed fields EAS serves (MS-ASEMAIL).

use easd_store::ItemFields;
use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders};
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MailError {
    #[error("the message has no header section")]
    NoHeaders,
}

/// Formats an address list the way EAS shows To/Cc/From: `"Name" <addr>, ...`.
pub fn format_addresses(address: Option<&Address<'_>>) -> String {
    let Some(address) = address else {
        return String::new();
    };
    address
        .iter()
        .filter_map(|a| {
            let email = a.address.as_deref()?;
            Some(match a.name.as_deref() {
                Some(name) if !name.is_empty() => {
                    format!("\"{}\" <{email}>", name.replace('"', "'"))
                }
                _ => email.to_owned(),
            })
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The display names of an address list (DisplayTo, MS-ASEMAIL 2.2.2.26).
pub fn display_names(address: Option<&Address<'_>>) -> String {
    let Some(address) = address else {
        return String::new();
    };
    address
        .iter()
        .filter_map(|a| {
            a.name
                .as_deref()
                .or(a.address.as_deref())
                .map(str::to_owned)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Parses `raw` into the fields the store indexes. `received` is the delivery time (Unix s):
/// DateReceived is when the mailbox got the message, not the sender's Date header.
/// A stored message as the store returns it, for tests of what is made from one.
#[cfg(test)]
pub(crate) fn full_item_from_mime(raw: &str) -> easd_store::FullItem {
    use easd_store::{AccountId, FolderId, Item, ItemClass, ItemId, Modseq};
    let fields = fields_from_mime(raw.as_bytes(), 1_700_000_000).expect("a test message");
    easd_store::FullItem {
        item: Item {
            id: ItemId(7),
            account: AccountId(1),
            folder: FolderId(2),
            server_id: "2:7".into(),
            class: ItemClass::Email,
            modseq: Modseq(1),
            created_modseq: Modseq(1),
            fields,
        },
        content: raw.as_bytes().to_vec(),
    }
}

pub fn fields_from_mime(raw: &[u8], received: i64) -> Result<ItemFields, MailError> {
    let message = MessageParser::default()
        .parse(raw)
        .ok_or(MailError::NoHeaders)?;
    if message.headers().is_empty() {
        return Err(MailError::NoHeaders);
    }
    let importance = importance(&message);
    let root_id = thread_root(&message);
    let has_attachments = message.attachments().any(|a| !is_inline(a));
    // A meeting message by its iTIP METHOD (MS-ASEMAIL 2.2.2.50, RFC 6047).
    let meeting_class = crate::content::itip::calendar_part_of(&message)
        .and_then(|text| calcard::icalendar::ICalendar::parse(text).ok())
        .as_ref()
        .and_then(crate::content::itip::message_class);
    Ok(ItemFields {
        subject: message.subject().unwrap_or_default().to_owned(),
        from: format_addresses(message.from()),
        to: format_addresses(message.to()),
        cc: format_addresses(message.cc()),
        date_received: received,
        read: false,
        flag_status: 0,
        importance,
        message_class: meeting_class.unwrap_or("IPM.Note").to_owned(),
        categories: Vec::new(),
        conversation_id: root_id.map(|id| conversation_id(&id)),
        size: raw.len() as i64,
        has_attachments,
        uid: message.message_id().map(str::to_owned),
        extra: serde_json::json!({
            "display_to": display_names(message.to()),
            "thread_topic": message.thread_name().unwrap_or_default(),
            "sent": message.date().map(|d| d.to_timestamp()),
        }),
    })
}

fn is_inline(part: &mail_parser::MessagePart<'_>) -> bool {
    part.content_disposition().is_some_and(|d| d.is_inline()) && part.content_id().is_some()
}

/// MS-ASEMAIL Importance: 0 low, 1 normal, 2 high, from Importance or X-Priority.
fn importance(message: &mail_parser::Message<'_>) -> i32 {
    if let Some(v) = message.header_raw("Importance") {
        let v = v.trim().to_ascii_lowercase();
        return match v.as_str() {
            "high" => 2,
            "low" => 0,
            _ => 1,
        };
    }
    match message
        .header_raw("X-Priority")
        .and_then(|v| v.trim().chars().next())
    {
        Some('1' | '2') => 2,
        Some('4' | '5') => 0,
        _ => 1,
    }
}

/// The Message-ID that starts the thread: the first of References, else In-Reply-To, else
/// the message's own.
fn thread_root(message: &mail_parser::Message<'_>) -> Option<String> {
    let first = |v: &HeaderValue<'_>| match v {
        HeaderValue::Text(t) => Some(t.to_string()),
        HeaderValue::TextList(l) => l.first().map(|t| t.to_string()),
        _ => None,
    };
    first(message.references())
        .or_else(|| first(message.in_reply_to()))
        .or_else(|| message.message_id().map(str::to_owned))
}

/// A 16-byte ConversationId (MS-ASEMAIL 2.2.2.20) that all messages of a thread share.
pub fn conversation_id(root_message_id: &str) -> Vec<u8> {
    Sha256::digest(root_message_id.trim().to_ascii_lowercase().as_bytes())[..16].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_usual_fields() {
        let raw = b"From: \"Ann Example\" <ann@example.com>\r\nTo: bob@example.com, Carl <carl@example.com>\r\n\
Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nMessage-ID: <1@x>\r\nImportance: high\r\n\r\nHello\r\n";
        let f = fields_from_mime(raw, 1_700_000_000).unwrap();
        assert_eq!(f.subject, "Grüße");
        assert_eq!(f.from, "\"Ann Example\" <ann@example.com>");
        assert_eq!(f.to, "bob@example.com, \"Carl\" <carl@example.com>");
        assert_eq!(f.importance, 2);
        assert_eq!(f.date_received, 1_700_000_000);
        assert_eq!(f.uid.as_deref(), Some("1@x"));
        assert_eq!(f.conversation_id.as_ref().map(Vec::len), Some(16));
        assert!(!f.has_attachments);
    }

    #[test]
    fn a_reply_shares_the_conversation() {
        let a = fields_from_mime(b"Message-ID: <root@x>\r\nSubject: a\r\n\r\nx", 0).unwrap();
        let b = fields_from_mime(
            b"Message-ID: <r2@x>\r\nIn-Reply-To: <root@x>\r\nReferences: <root@x>\r\nSubject: Re: a\r\n\r\nx",
            0,
        )
        .unwrap();
        assert_eq!(a.conversation_id, b.conversation_id);
    }

    #[test]
    fn refuses_headerless_input() {
        assert_eq!(fields_from_mime(b"", 0), Err(MailError::NoHeaders));
    }
}
