//! Notes (MS-ASNOTE, typed in `easd_protocol::items::note`) ⇄ the stored text
//! (ARCHITECTURE.md: "text for notes").
//!
//! The stored form is a small header block, a blank line, then the note's text as is:
//!
//! ```text
//! Subject: Shopping
//! Category: Home
//! Category: Errands
//! Message-Class: IPM.StickyNote
//! Last-Modified: 2026-11-25T10:00:00.000Z
//!
//! milk
//! eggs
//! ```
//!
//! Header values escape `\` as `\\` and line breaks as `\n`. `Body-Type: 2` records a
//! body that is not plain text. A text without such a header block (an imported .txt) is
//! all body; its first line is the subject.

use easd_protocol::items::airsyncbase::{Body, BodyType};
use easd_protocol::items::note::Note;

const SUBJECT: &str = "Subject";
const CATEGORY: &str = "Category";
const MESSAGE_CLASS: &str = "Message-Class";
const LAST_MODIFIED: &str = "Last-Modified";
const BODY_TYPE: &str = "Body-Type";
const HEADERS: [&str; 5] = [SUBJECT, CATEGORY, MESSAGE_CLASS, LAST_MODIFIED, BODY_TYPE];

/// The stored text of a note.
pub fn to_text(note: &Note) -> String {
    let mut out = String::new();
    let mut header = |name: &str, value: &str| {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(&escape(value));
        out.push('\n');
    };
    if let Some(s) = &note.subject {
        header(SUBJECT, s);
    }
    for c in note.categories.iter().flatten() {
        header(CATEGORY, c);
    }
    if let Some(m) = &note.message_class {
        header(MESSAGE_CLASS, m);
    }
    if let Some(d) = &note.last_modified_date {
        header(LAST_MODIFIED, d);
    }
    if let Some(b) = note
        .body
        .as_ref()
        .filter(|b| b.body_type != BodyType::Plain)
    {
        header(BODY_TYPE, &b.body_type.code().to_string());
    }
    out.push('\n');
    if let Some(data) = note.body.as_ref().and_then(|b| b.data.as_ref()) {
        out.push_str(&data.to_text());
    }
    out
}

/// The note in a stored (or imported) text.
pub fn from_text(text: &str) -> Note {
    let Some((head, body)) = split_headers(text) else {
        return Note {
            subject: text
                .lines()
                .next()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty()),
            body: (!text.is_empty()).then(|| Body::new(BodyType::Plain, text)),
            ..Note::default()
        };
    };
    let mut note = Note::default();
    let mut body_type = BodyType::Plain;
    let mut categories = Vec::new();
    for line in head.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = unescape(value.strip_prefix(' ').unwrap_or(value));
        match name {
            SUBJECT => note.subject = Some(value),
            CATEGORY => categories.push(value),
            MESSAGE_CLASS => note.message_class = Some(value),
            LAST_MODIFIED => note.last_modified_date = Some(value),
            BODY_TYPE => {
                body_type = value
                    .parse()
                    .ok()
                    .and_then(BodyType::from_code)
                    .unwrap_or(BodyType::Plain)
            }
            _ => {}
        }
    }
    note.categories = (!categories.is_empty()).then_some(categories);
    note.body = (!body.is_empty()).then(|| Body::new(body_type, body));
    note
}

/// A 16.x Change onto the stored note: the properties present replace the stored ones.
pub fn apply_change(stored: &mut Note, change: &Note) {
    if change.subject.is_some() {
        stored.subject.clone_from(&change.subject);
    }
    if change.body.is_some() {
        stored.body.clone_from(&change.body);
    }
    if change.message_class.is_some() {
        stored.message_class.clone_from(&change.message_class);
    }
    if change.categories.is_some() {
        stored.categories.clone_from(&change.categories);
    }
}

/// The header block and the body, when `text` starts with one of our headers and has the
/// blank line that ends them.
fn split_headers(text: &str) -> Option<(&str, &str)> {
    if let Some(rest) = text.strip_prefix('\n') {
        // No header at all: the note has only a body (or nothing).
        return Some(("", rest));
    }
    let name = text.lines().next()?.split_once(':')?.0;
    if !HEADERS.contains(&name) {
        return None;
    }
    let end = text.find("\n\n")?;
    Some((&text[..end], &text[end + 2..]))
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('\r', "\\r")
        .replace('\n', "\\n")
}

fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use easd_protocol::ProtocolVersion;

    fn full() -> Note {
        Note {
            subject: Some("Shopping \\ list\nweekend".into()),
            body: Some(Body::new(
                BodyType::Plain,
                "milk\n\neggs\nSubject: not a header",
            )),
            message_class: Some("IPM.StickyNote".into()),
            categories: Some(vec!["Home".into(), "Errands: weekly".into()]),
            last_modified_date: Some("2026-11-25T10:00:00.000Z".into()),
        }
    }

    #[test]
    fn every_field_survives_the_store() {
        let n = full();
        let text = to_text(&n);
        assert!(
            text.starts_with("Subject: Shopping \\\\ list\\nweekend\n"),
            "{text}"
        );
        assert_eq!(from_text(&text), n);
        for v in [
            ProtocolVersion::V14_0,
            ProtocolVersion::V14_1,
            ProtocolVersion::V16_1,
        ] {
            let received = Note::parse(&n.to_application_data(v)).unwrap();
            assert_eq!(from_text(&to_text(&received)), n, "{v:?}");
        }
        let html = Note {
            body: Some(Body::new(BodyType::Html, "<p>hi</p>")),
            ..Note::default()
        };
        assert_eq!(from_text(&to_text(&html)), html);
        assert_eq!(from_text(&to_text(&Note::default())), Note::default());
    }

    #[test]
    fn plain_text_import() {
        let n = from_text("Call mum\nabout Sunday\n");
        assert_eq!(n.subject.as_deref(), Some("Call mum"));
        assert_eq!(
            n.body.unwrap().data.unwrap().to_text(),
            "Call mum\nabout Sunday\n"
        );
    }

    #[test]
    fn partial_change_keeps_the_rest() {
        let mut stored = full();
        let change = Note {
            subject: Some("Groceries".into()),
            ..Note::default()
        };
        apply_change(&mut stored, &change);
        let mut want = full();
        want.subject = Some("Groceries".into());
        assert_eq!(stored, want);
    }

    proptest::proptest! {
        #[test]
        fn any_text_reads(text in "(Subject|Category|Body-Type|x)?[:a-z\\\\\n ]{0,40}") {
            let n = from_text(&text);
            let _ = to_text(&n);
        }

        #[test]
        fn any_note_round_trips(subject in "[a-z\\\\\n: ]{0,12}", body in "[a-z\n: ]{1,30}") {
            let n = Note {
                subject: Some(subject),
                body: Some(Body::new(BodyType::Plain, body)),
                ..Note::default()
            };
            proptest::prop_assert_eq!(from_text(&to_text(&n)), n);
        }
    }
}
