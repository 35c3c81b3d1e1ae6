//! FolderDelete (MS-ASCMD 2.2.1.4): deletes a folder and everything in it.
//!
//! ```text
//! request:  FolderDelete/{SyncKey, ServerId}
//! response: FolderDelete/{Status, SyncKey}
//! ```

use crate::commands::folder_sync::{MAX_SERVER_ID_LEN, MAX_SYNC_KEY_LEN};
use crate::element::ElementExt;
use crate::error::ParseError;
use crate::status::FolderDeleteStatus;
use easd_wbxml::tags::folder_hierarchy as fh;
use easd_wbxml::Element;

/// FolderDelete request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderDeleteRequest {
    pub sync_key: String,
    pub server_id: String,
}

impl FolderDeleteRequest {
    pub fn parse(root: &Element) -> Result<Self, ParseError> {
        root.expect_tag(fh::FOLDER_DELETE)?;
        Ok(FolderDeleteRequest {
            sync_key: root.required_text_max(fh::SYNC_KEY, MAX_SYNC_KEY_LEN)?,
            server_id: root.required_text_max(fh::SERVER_ID, MAX_SERVER_ID_LEN)?,
        })
    }
}

/// FolderDelete response. On failure the server sends the Status alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderDeleteResponse {
    pub status: FolderDeleteStatus,
    pub sync_key: Option<String>,
}

impl FolderDeleteResponse {
    /// A response with only a Status (an error).
    pub fn status(status: FolderDeleteStatus) -> Self {
        FolderDeleteResponse {
            status,
            sync_key: None,
        }
    }

    /// The answer to a request that does not parse: Status 10, incorrectly formatted request.
    pub fn protocol_error() -> Self {
        Self::status(FolderDeleteStatus::MalformedRequest)
    }

    pub fn to_element(&self) -> Element {
        let mut root = Element::new(fh::FOLDER_DELETE);
        root.push_text(fh::STATUS, self.status.to_string())
            .push_opt(fh::SYNC_KEY, self.sync_key.as_ref());
        root
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_request() {
        let req = Element::new(fh::FOLDER_DELETE)
            .with_text(fh::SYNC_KEY, "3")
            .with_text(fh::SERVER_ID, "12");
        assert_eq!(
            FolderDeleteRequest::parse(&req).unwrap(),
            FolderDeleteRequest {
                sync_key: "3".into(),
                server_id: "12".into(),
            }
        );
        let no_id = Element::new(fh::FOLDER_DELETE).with_text(fh::SYNC_KEY, "3");
        assert_eq!(
            FolderDeleteRequest::parse(&no_id),
            Err(ParseError::MissingElement {
                parent: fh::FOLDER_DELETE,
                element: fh::SERVER_ID
            })
        );
    }

    #[test]
    fn writes_response() {
        let ok = FolderDeleteResponse {
            status: FolderDeleteStatus::Success,
            sync_key: Some("4".into()),
        };
        assert_eq!(
            ok.to_element(),
            Element::new(fh::FOLDER_DELETE)
                .with_text(fh::STATUS, "1")
                .with_text(fh::SYNC_KEY, "4")
        );
        let special = FolderDeleteResponse {
            status: FolderDeleteStatus::SpecialFolder,
            sync_key: None,
        };
        assert_eq!(
            special.to_element(),
            Element::new(fh::FOLDER_DELETE).with_text(fh::STATUS, "3")
        );
    }
}
