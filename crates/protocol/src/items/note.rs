//! The Notes class (MS-ASNOTE, 14.0+): a note's Subject, Body, MessageClass, Categories
//! and LastModifiedDate.

use crate::element::ElementExt;
use crate::error::ParseError;
use crate::items::airsyncbase::Body;
use crate::version::ProtocolVersion;
use easd_wbxml::tags::{airsync, airsyncbase, notes};
use easd_wbxml::{Element, Tag};

/// A note (MS-ASNOTE). Categories is `Some(vec![])` when the element was present
/// and empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Note {
    pub subject: Option<String>,
    /// airsyncbase:Body.
    pub body: Option<Body>,
    /// MessageClass: "IPM.StickyNote" or a class derived from it.
    pub message_class: Option<String>,
    pub categories: Option<Vec<String>>,
    /// LastModifiedDate, dateTime; the server sets it.
    pub last_modified_date: Option<String>,
}

impl Note {
    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        Ok(Note {
            subject: e.optional_text(notes::SUBJECT),
            body: e.child(airsyncbase::BODY).map(Body::parse).transpose()?,
            message_class: e.optional_text(notes::MESSAGE_CLASS),
            categories: e.child(notes::CATEGORIES).map(|c| {
                c.children_with(notes::CATEGORY)
                    .map(|c| c.text().unwrap_or_default())
                    .collect()
            }),
            last_modified_date: e.optional_text(notes::LAST_MODIFIED_DATE),
        })
    }

    /// The note as Sync ApplicationData. The class is 14.0+ (MS-ASNOTE): the server
    /// doesn't sync a Notes folder to older clients, so `version` changes nothing today.
    pub fn to_application_data(&self, version: ProtocolVersion) -> Element {
        self.to_element_with_tag(airsync::APPLICATION_DATA, version)
    }

    pub fn to_element_with_tag(&self, tag: Tag, _version: ProtocolVersion) -> Element {
        let mut e = Element::new(tag);
        e.push_opt(notes::SUBJECT, self.subject.as_deref());
        if let Some(b) = &self.body {
            e.push(b.to_element());
        }
        e.push_opt(notes::MESSAGE_CLASS, self.message_class.as_deref());
        if let Some(c) = &self.categories {
            let mut list = Element::new(notes::CATEGORIES);
            for v in c {
                list.push_text(notes::CATEGORY, v.clone());
            }
            e.push(list);
        }
        e.push_opt(
            notes::LAST_MODIFIED_DATE,
            self.last_modified_date.as_deref(),
        );
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::items::airsyncbase::BodyType;

    #[test]
    fn round_trip() {
        let n = Note {
            subject: Some("Shopping".into()),
            body: Some(Body::new(BodyType::Plain, "milk\neggs")),
            message_class: Some("IPM.StickyNote".into()),
            categories: Some(vec!["Home".into()]),
            last_modified_date: Some("2026-11-25T10:00:00.000Z".into()),
        };
        for v in [
            ProtocolVersion::V14_0,
            ProtocolVersion::V14_1,
            ProtocolVersion::V16_1,
        ] {
            assert_eq!(Note::parse(&n.to_application_data(v)).unwrap(), n);
        }
        let empty = Element::new(airsync::APPLICATION_DATA).with(Element::new(notes::CATEGORIES));
        assert_eq!(Note::parse(&empty).unwrap().categories, Some(vec![]));
    }
}
