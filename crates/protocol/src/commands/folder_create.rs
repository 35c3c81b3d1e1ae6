//! FolderCreate (MS-ASCMD 2.2.1.3): creates a folder.
//!
//! ```text
//! request:  FolderCreate/{SyncKey, ParentId, DisplayName, Type}
//! response: FolderCreate/{Status, SyncKey, ServerId}
//! ```

use crate::commands::folder_sync::{
    FolderType, MAX_DISPLAY_NAME_LEN, MAX_SERVER_ID_LEN, MAX_SYNC_KEY_LEN,
};
use crate::element::ElementExt;
use crate::error::ParseError;
use crate::status::FolderCreateStatus;
use easd_wbxml::tags::folder_hierarchy as fh;
use easd_wbxml::Element;

/// FolderCreate request. Whether `folder_type` is one a client may create
/// ([`FolderType::is_user_created`]) is for the server to judge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderCreateRequest {
    pub sync_key: String,
    /// "0" for the root of the hierarchy.
    pub parent_id: String,
    pub display_name: String,
    pub folder_type: FolderType,
}

impl FolderCreateRequest {
    pub fn parse(root: &Element) -> Result<Self, ParseError> {
        root.expect_tag(fh::FOLDER_CREATE)?;
        Ok(FolderCreateRequest {
            sync_key: root.required_text_max(fh::SYNC_KEY, MAX_SYNC_KEY_LEN)?,
            parent_id: root.required_text_max(fh::PARENT_ID, MAX_SERVER_ID_LEN)?,
            display_name: root.required_text_max(fh::DISPLAY_NAME, MAX_DISPLAY_NAME_LEN)?,
            folder_type: root.required_parse(fh::TYPE)?,
        })
    }
}

/// FolderCreate response. On failure the server sends the Status alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderCreateResponse {
    pub status: FolderCreateStatus,
    pub sync_key: Option<String>,
    /// The new folder's ServerId.
    pub server_id: Option<String>,
}

impl FolderCreateResponse {
    /// A response with only a Status (an error).
    pub fn status(status: FolderCreateStatus) -> Self {
        FolderCreateResponse {
            status,
            sync_key: None,
            server_id: None,
        }
    }

    /// The answer to a request that does not parse: Status 10, incorrectly formatted request.
    pub fn protocol_error() -> Self {
        Self::status(FolderCreateStatus::MalformedRequest)
    }

    pub fn to_element(&self) -> Element {
        let mut root = Element::new(fh::FOLDER_CREATE);
        root.push_text(fh::STATUS, self.status.to_string())
            .push_opt(fh::SYNC_KEY, self.sync_key.as_ref())
            .push_opt(fh::SERVER_ID, self.server_id.as_ref());
        root
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> Element {
        // Creating a mail folder at the root.
        Element::new(fh::FOLDER_CREATE)
            .with_text(fh::SYNC_KEY, "1")
            .with_text(fh::PARENT_ID, "0")
            .with_text(fh::DISPLAY_NAME, "Archive")
            .with_text(fh::TYPE, "12")
    }

    #[test]
    fn parses_request() {
        assert_eq!(
            FolderCreateRequest::parse(&request()).unwrap(),
            FolderCreateRequest {
                sync_key: "1".into(),
                parent_id: "0".into(),
                display_name: "Archive".into(),
                folder_type: FolderType::UserCreatedMail,
            }
        );
    }

    #[test]
    fn rejects_missing_and_invalid_children() {
        let mut no_name = request();
        no_name.children.remove(2);
        assert_eq!(
            FolderCreateRequest::parse(&no_name),
            Err(ParseError::MissingElement {
                parent: fh::FOLDER_CREATE,
                element: fh::DISPLAY_NAME
            })
        );
        let mut bad_type = request();
        bad_type.children.pop();
        bad_type.push_text(fh::TYPE, "mail");
        assert!(matches!(
            FolderCreateRequest::parse(&bad_type),
            Err(ParseError::InvalidValue { element, .. }) if element == fh::TYPE
        ));
    }

    #[test]
    fn writes_response() {
        let resp = FolderCreateResponse {
            status: FolderCreateStatus::Success,
            sync_key: Some("2".into()),
            server_id: Some("12".into()),
        };
        assert_eq!(
            resp.to_element(),
            Element::new(fh::FOLDER_CREATE)
                .with_text(fh::STATUS, "1")
                .with_text(fh::SYNC_KEY, "2")
                .with_text(fh::SERVER_ID, "12")
        );
        assert_eq!(
            FolderCreateResponse::status(FolderCreateStatus::FolderExists).to_element(),
            Element::new(fh::FOLDER_CREATE).with_text(fh::STATUS, "2")
        );
    }
}
