//! Why a command request's element tree is not a valid request.
//!
//! The server answers a [`ParseError`] with the command's protocol-error status, which each
//! response type offers as `protocol_error()`: FolderSync, FolderCreate, FolderUpdate,
//! FolderDelete Status 10; Ping Status 4; Settings, Provision, ItemOperations Status 2
//! (MS-ASCMD 2.2.3.177, MS-ASPROV 2.2.2.54). GetItemEstimate and MoveItems have no such
//! status of their own: there the server answers common status 103 (InvalidXML, 14.0 and
//! later) or HTTP 400.

use easd_wbxml::Tag;
use std::fmt;

/// A malformed command request: which element was missing, unexpected or invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The document's root is not the command's top-level element.
    #[error("expected <{}> as the root element, found <{}>", TagName(*expected), TagName(*found))]
    UnexpectedRoot { expected: Tag, found: Tag },

    /// A required child element is absent.
    #[error("<{}> is missing the required <{}>", TagName(*parent), TagName(*element))]
    MissingElement { parent: Tag, element: Tag },

    /// An element's content is not a valid value for it.
    #[error("<{}> has an invalid value {value:?}: {reason}", TagName(*element))]
    InvalidValue {
        element: Tag,
        value: String,
        reason: &'static str,
    },

    /// An element is well-formed on its own but breaks a rule of the command (a choice of
    /// children, a count limit, an element not allowed where it stands).
    #[error("<{}>: {reason}", TagName(*element))]
    Invalid { element: Tag, reason: &'static str },
}

impl ParseError {
    /// The element the error is about (the missing child for `MissingElement`).
    pub fn element(&self) -> Tag {
        match self {
            ParseError::UnexpectedRoot { found, .. } => *found,
            ParseError::MissingElement { element, .. } => *element,
            ParseError::InvalidValue { element, .. } => *element,
            ParseError::Invalid { element, .. } => *element,
        }
    }
}

/// A text that is not one of an enumeration's numeric codes (the `FromStr` error of every
/// code enum: statuses, folder types, filter types...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a known code")]
pub struct InvalidCode(pub String);

/// Displays a tag as "Page:Name" (e.g. "FolderHierarchy:SyncKey"), or by its numbers when the
/// code pages do not name it.
#[derive(Clone, Copy)]
pub struct TagName(pub Tag);

impl fmt::Display for TagName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0.namespace(), self.0.name()) {
            (Some(ns), Some(name)) => write!(f, "{ns}{name}"),
            _ => write!(f, "page {} token 0x{:02X}", self.0.page, self.0.token),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use easd_wbxml::tags::airsync;

    #[test]
    fn messages_name_the_elements() {
        let e = ParseError::MissingElement {
            parent: airsync::SYNC,
            element: airsync::SYNC_KEY,
        };
        assert_eq!(
            e.to_string(),
            "<AirSync:Sync> is missing the required <AirSync:SyncKey>"
        );
        assert_eq!(e.element(), airsync::SYNC_KEY);
        let unknown = Tag::new(200, 0x3F);
        assert_eq!(TagName(unknown).to_string(), "page 200 token 0x3F");
    }
}
