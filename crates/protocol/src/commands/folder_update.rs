//! FolderUpdate (MS-ASCMD 2.2.1.6): renames and/or moves a folder.
//!
//! ```text
//! request:  FolderUpdate/{SyncKey, ServerId, ParentId, DisplayName}
//! response: FolderUpdate/{Status, SyncKey}
//! ```

use crate::commands::folder_sync::{MAX_DISPLAY_NAME_LEN, MAX_SERVER_ID_LEN, MAX_SYNC_KEY_LEN};
use crate::element::ElementExt;
use crate::error::ParseError;
use crate::status::FolderUpdateStatus;
use easd_wbxml::tags::folder_hierarchy as fh;
use easd_wbxml::Element;

/// FolderUpdate request: the folder `server_id` gets `display_name` and moves under
/// `parent_id` ("0" for the root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderUpdateRequest {
    pub sync_key: String,
    pub server_id: String,
    pub parent_id: String,
    pub display_name: String,
}

impl FolderUpdateRequest {
    pub fn parse(root: &Element) -> Result<Self, ParseError> {
        root.expect_tag(fh::FOLDER_UPDATE)?;
        Ok(FolderUpdateRequest {
            sync_key: root.required_text_max(fh::SYNC_KEY, MAX_SYNC_KEY_LEN)?,
            server_id: root.required_text_max(fh::SERVER_ID, MAX_SERVER_ID_LEN)?,
            parent_id: root.required_text_max(fh::PARENT_ID, MAX_SERVER_ID_LEN)?,
            display_name: root.required_text_max(fh::DISPLAY_NAME, MAX_DISPLAY_NAME_LEN)?,
        })
    }
}

/// FolderUpdate response. On failure the server sends the Status alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderUpdateResponse {
    pub status: FolderUpdateStatus,
    pub sync_key: Option<String>,
}

impl FolderUpdateResponse {
    /// A response with only a Status (an error).
    pub fn status(status: FolderUpdateStatus) -> Self {
        FolderUpdateResponse {
            status,
            sync_key: None,
        }
    }

    /// The answer to a request that does not parse: Status 10, incorrectly formatted request.
    pub fn protocol_error() -> Self {
        Self::status(FolderUpdateStatus::MalformedRequest)
    }

    pub fn to_element(&self) -> Element {
        let mut root = Element::new(fh::FOLDER_UPDATE);
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
        let req = Element::new(fh::FOLDER_UPDATE)
            .with_text(fh::SYNC_KEY, "2")
            .with_text(fh::SERVER_ID, "12")
            .with_text(fh::PARENT_ID, "2")
            .with_text(fh::DISPLAY_NAME, "Old mail");
        assert_eq!(
            FolderUpdateRequest::parse(&req).unwrap(),
            FolderUpdateRequest {
                sync_key: "2".into(),
                server_id: "12".into(),
                parent_id: "2".into(),
                display_name: "Old mail".into(),
            }
        );
        let no_parent = Element::new(fh::FOLDER_UPDATE)
            .with_text(fh::SYNC_KEY, "2")
            .with_text(fh::SERVER_ID, "12")
            .with_text(fh::DISPLAY_NAME, "x");
        assert_eq!(
            FolderUpdateRequest::parse(&no_parent),
            Err(ParseError::MissingElement {
                parent: fh::FOLDER_UPDATE,
                element: fh::PARENT_ID
            })
        );
    }

    #[test]
    fn writes_response() {
        let ok = FolderUpdateResponse {
            status: FolderUpdateStatus::Success,
            sync_key: Some("3".into()),
        };
        assert_eq!(
            ok.to_element(),
            Element::new(fh::FOLDER_UPDATE)
                .with_text(fh::STATUS, "1")
                .with_text(fh::SYNC_KEY, "3")
        );
        let missing = FolderUpdateResponse {
            status: FolderUpdateStatus::FolderNotFound,
            sync_key: None,
        };
        assert_eq!(
            missing.to_element(),
            Element::new(fh::FOLDER_UPDATE).with_text(fh::STATUS, "4")
        );
    }
}
