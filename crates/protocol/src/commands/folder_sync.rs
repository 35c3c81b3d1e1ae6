//! FolderSync (MS-ASCMD 2.2.1.5): synchronizes the folder hierarchy.
//!
//! ```text
//! request:  FolderSync/SyncKey
//! response: FolderSync/{Status, SyncKey, Changes/{Count, (Add|Update|Delete)*}}
//! ```
//! Also home to what the folder commands share: [`FolderType`] and the length bounds.

use crate::element::ElementExt;
use crate::error::ParseError;
use crate::macros::code_enum;
use crate::status::FolderSyncStatus;
use easd_wbxml::tags::folder_hierarchy as fh;
use easd_wbxml::Element;

/// Longest SyncKey of the folder commands (MS-ASCMD SyncKey (FolderSync): 64 characters).
pub const MAX_SYNC_KEY_LEN: usize = 64;
/// Longest ServerId or ParentId of a folder (MS-ASCMD ServerId, ParentId: 64 characters).
pub const MAX_SERVER_ID_LEN: usize = 64;
/// Longest folder DisplayName accepted (the spec gives no bound; 256 is generous).
pub const MAX_DISPLAY_NAME_LEN: usize = 256;

code_enum! {
    /// A folder's type (MS-ASCMD 2.2.3.186.3).
    FolderType: u8 {
        /// User-created folder (generic).
        UserCreatedGeneric = 1,
        Inbox = 2,
        Drafts = 3,
        DeletedItems = 4,
        SentItems = 5,
        Outbox = 6,
        Tasks = 7,
        Calendar = 8,
        Contacts = 9,
        Notes = 10,
        Journal = 11,
        UserCreatedMail = 12,
        UserCreatedCalendar = 13,
        UserCreatedContacts = 14,
        UserCreatedTasks = 15,
        UserCreatedJournal = 16,
        UserCreatedNotes = 17,
        Unknown = 18,
        RecipientInformationCache = 19,
    }
}

impl FolderType {
    /// Whether a client may create a folder of this type with FolderCreate
    /// (MS-ASCMD 2.2.3.186.2: 1 and 12–17).
    pub fn is_user_created(self) -> bool {
        matches!(self.code(), 1 | 12..=17)
    }
}

/// FolderSync request (MS-ASCMD 2.2.1.5): the client's hierarchy sync key, "0" at first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderSyncRequest {
    pub sync_key: String,
}

impl FolderSyncRequest {
    pub fn parse(root: &Element) -> Result<Self, ParseError> {
        root.expect_tag(fh::FOLDER_SYNC)?;
        Ok(FolderSyncRequest {
            sync_key: root.required_text_max(fh::SYNC_KEY, MAX_SYNC_KEY_LEN)?,
        })
    }
}

/// A folder as FolderSync's Add and Update carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    pub server_id: String,
    /// "0" for a folder at the root of the hierarchy.
    pub parent_id: String,
    pub display_name: String,
    pub folder_type: FolderType,
}

impl Folder {
    fn write(&self, tag: easd_wbxml::Tag) -> Element {
        Element::new(tag)
            .with_text(fh::SERVER_ID, &self.server_id)
            .with_text(fh::PARENT_ID, &self.parent_id)
            .with_text(fh::DISPLAY_NAME, &self.display_name)
            .with_text(fh::TYPE, self.folder_type.to_string())
    }
}

/// One hierarchy change since the client's sync key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FolderChange {
    Add(Folder),
    Update(Folder),
    /// The ServerId of a deleted folder.
    Delete(String),
}

/// FolderSync response (MS-ASCMD 2.2.1.5). On a Status other than Success the server sends
/// the Status alone (`sync_key` and `changes` None).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderSyncResponse {
    pub status: FolderSyncStatus,
    pub sync_key: Option<String>,
    /// Written as Changes with its Count (an empty list gives Count 0).
    pub changes: Option<Vec<FolderChange>>,
}

impl FolderSyncResponse {
    /// A response with only a Status (an error).
    pub fn status(status: FolderSyncStatus) -> Self {
        FolderSyncResponse {
            status,
            sync_key: None,
            changes: None,
        }
    }

    /// The answer to a request that does not parse: Status 10, incorrectly formatted request.
    pub fn protocol_error() -> Self {
        Self::status(FolderSyncStatus::MalformedRequest)
    }

    pub fn to_element(&self) -> Element {
        let mut root = Element::new(fh::FOLDER_SYNC);
        root.push_text(fh::STATUS, self.status.to_string());
        root.push_opt(fh::SYNC_KEY, self.sync_key.as_ref());
        if let Some(changes) = &self.changes {
            let mut c = Element::new(fh::CHANGES);
            c.push_text(fh::COUNT, changes.len().to_string());
            for change in changes {
                c.push(match change {
                    FolderChange::Add(f) => f.write(fh::ADD),
                    FolderChange::Update(f) => f.write(fh::UPDATE),
                    FolderChange::Delete(id) => {
                        Element::new(fh::DELETE).with_text(fh::SERVER_ID, id)
                    }
                });
            }
            root.push(c);
        }
        root
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::CommonStatus;

    #[test]
    fn parses_initial_request() {
        let req = Element::new(fh::FOLDER_SYNC).with_text(fh::SYNC_KEY, "0");
        assert_eq!(
            FolderSyncRequest::parse(&req).unwrap(),
            FolderSyncRequest {
                sync_key: "0".into()
            }
        );
    }

    #[test]
    fn rejects_bad_requests() {
        let no_key = Element::new(fh::FOLDER_SYNC);
        assert_eq!(
            FolderSyncRequest::parse(&no_key),
            Err(ParseError::MissingElement {
                parent: fh::FOLDER_SYNC,
                element: fh::SYNC_KEY
            })
        );
        let wrong_root = Element::new(fh::FOLDER_CREATE).with_text(fh::SYNC_KEY, "0");
        assert!(matches!(
            FolderSyncRequest::parse(&wrong_root),
            Err(ParseError::UnexpectedRoot { .. })
        ));
        let long = Element::new(fh::FOLDER_SYNC).with_text(fh::SYNC_KEY, "1".repeat(65));
        assert!(matches!(
            FolderSyncRequest::parse(&long),
            Err(ParseError::InvalidValue { .. })
        ));
    }

    #[test]
    fn writes_initial_response() {
        // An initial FolderSync response.
        let resp = FolderSyncResponse {
            status: FolderSyncStatus::Success,
            sync_key: Some("1".into()),
            changes: Some(vec![
                FolderChange::Add(Folder {
                    server_id: "1".into(),
                    parent_id: "0".into(),
                    display_name: "Calendar".into(),
                    folder_type: FolderType::Calendar,
                }),
                FolderChange::Add(Folder {
                    server_id: "2".into(),
                    parent_id: "0".into(),
                    display_name: "Inbox".into(),
                    folder_type: FolderType::Inbox,
                }),
            ]),
        };
        let expected = Element::new(fh::FOLDER_SYNC)
            .with_text(fh::STATUS, "1")
            .with_text(fh::SYNC_KEY, "1")
            .with(
                Element::new(fh::CHANGES)
                    .with_text(fh::COUNT, "2")
                    .with(
                        Element::new(fh::ADD)
                            .with_text(fh::SERVER_ID, "1")
                            .with_text(fh::PARENT_ID, "0")
                            .with_text(fh::DISPLAY_NAME, "Calendar")
                            .with_text(fh::TYPE, "8"),
                    )
                    .with(
                        Element::new(fh::ADD)
                            .with_text(fh::SERVER_ID, "2")
                            .with_text(fh::PARENT_ID, "0")
                            .with_text(fh::DISPLAY_NAME, "Inbox")
                            .with_text(fh::TYPE, "2"),
                    ),
            );
        assert_eq!(resp.to_element(), expected);
    }

    #[test]
    fn writes_incremental_and_error_responses() {
        let resp = FolderSyncResponse {
            status: FolderSyncStatus::Success,
            sync_key: Some("3".into()),
            changes: Some(vec![FolderChange::Delete("7".into())]),
        };
        let el = resp.to_element();
        let changes = el.child(fh::CHANGES).unwrap();
        assert_eq!(changes.child_text(fh::COUNT).as_deref(), Some("1"));
        assert_eq!(
            changes
                .child(fh::DELETE)
                .unwrap()
                .child_text(fh::SERVER_ID)
                .as_deref(),
            Some("7")
        );

        let err = FolderSyncResponse::status(FolderSyncStatus::InvalidSyncKey).to_element();
        assert_eq!(
            err,
            Element::new(fh::FOLDER_SYNC).with_text(fh::STATUS, "9")
        );
        let common = FolderSyncResponse::status(CommonStatus::DeviceNotProvisioned.into());
        assert_eq!(
            common.to_element().child_text(fh::STATUS).as_deref(),
            Some("142")
        );
    }

    #[test]
    fn folder_types() {
        assert_eq!("12".parse::<FolderType>(), Ok(FolderType::UserCreatedMail));
        assert!("20".parse::<FolderType>().is_err());
        assert!(FolderType::UserCreatedGeneric.is_user_created());
        assert!(!FolderType::Inbox.is_user_created());
        assert_eq!(FolderType::ALL.len(), 19);
    }
}
