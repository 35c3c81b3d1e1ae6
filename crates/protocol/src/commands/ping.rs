//! Ping (MS-ASCMD 2.2.1.13): asks the server to watch folders and answer when one changes
//! or the heartbeat interval ends.
//!
//! ```text
//! request:  Ping/{HeartbeatInterval?, Folders?/Folder+/{Id, Class}}
//! response: Ping/{Status, Folders?/Folder*, MaxFolders?, HeartbeatInterval?}
//! ```
//! A request without HeartbeatInterval or Folders (or an empty body) reuses the previous
//! Ping's; the server answers Status 3 when it has none.

use crate::commands::folder_sync::MAX_SERVER_ID_LEN;
use crate::element::ElementExt;
use crate::error::ParseError;
use crate::status::PingStatus;
use easd_wbxml::tags::ping;
use easd_wbxml::Element;

/// Longest folder Class accepted ("Email", "Calendar", "Contacts", "Tasks", "Notes", "SMS").
const MAX_CLASS_LEN: usize = 32;

/// A folder to watch (MS-ASCMD 2.2.3.71.2 Folder (Ping)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PingFolder {
    /// The folder's ServerId (from FolderSync).
    pub id: String,
    /// The folder's class: "Email", "Calendar", "Contacts", "Tasks", "Notes" or "SMS".
    pub class: String,
}

/// Ping request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PingRequest {
    /// Seconds to wait for changes (MS-ASCMD 2.2.3.88.1); `None`: the previous Ping's.
    pub heartbeat_interval: Option<u32>,
    /// The folders to watch; `None`: the previous Ping's.
    pub folders: Option<Vec<PingFolder>>,
}

impl PingRequest {
    pub fn parse(root: &Element) -> Result<Self, ParseError> {
        root.expect_tag(ping::PING)?;
        let heartbeat_interval = root.optional_parse(ping::HEARTBEAT_INTERVAL)?;
        let folders = match root.child(ping::FOLDERS) {
            None => None,
            Some(folders) => {
                let list = folders
                    .children_with(ping::FOLDER)
                    .map(|f| {
                        Ok(PingFolder {
                            id: f.required_text_max(ping::ID, MAX_SERVER_ID_LEN)?,
                            class: f.required_text_max(ping::CLASS, MAX_CLASS_LEN)?,
                        })
                    })
                    .collect::<Result<Vec<_>, ParseError>>()?;
                // MS-ASCMD 2.2.3.75.2: Folders holds one or more Folder.
                if list.is_empty() {
                    return Err(ParseError::MissingElement {
                        parent: ping::FOLDERS,
                        element: ping::FOLDER,
                    });
                }
                Some(list)
            }
        };
        Ok(PingRequest {
            heartbeat_interval,
            folders,
        })
    }
}

/// Ping response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PingResponse {
    pub status: PingStatus,
    /// With Status 2 (ChangesFound): the ids of the folders that changed.
    pub folders: Vec<String>,
    /// With Status 6 (TooManyFolders): the most folders the server watches.
    pub max_folders: Option<u32>,
    /// With Status 5 (HeartbeatOutOfBounds): the nearest allowed interval.
    pub heartbeat_interval: Option<u32>,
}

impl PingResponse {
    /// A response with only a Status.
    pub fn status(status: PingStatus) -> Self {
        PingResponse {
            status,
            folders: Vec::new(),
            max_folders: None,
            heartbeat_interval: None,
        }
    }

    /// The answer to a request that does not parse: Status 4, protocol error.
    pub fn protocol_error() -> Self {
        Self::status(PingStatus::ProtocolError)
    }

    pub fn to_element(&self) -> Element {
        let mut root = Element::new(ping::PING);
        root.push_text(ping::STATUS, self.status.to_string());
        if !self.folders.is_empty() {
            let mut folders = Element::new(ping::FOLDERS);
            for id in &self.folders {
                folders.push_text(ping::FOLDER, id);
            }
            root.push(folders);
        }
        root.push_opt(ping::MAX_FOLDERS, self.max_folders)
            .push_opt(ping::HEARTBEAT_INTERVAL, self.heartbeat_interval);
        root
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(id: &str, class: &str) -> Element {
        Element::new(ping::FOLDER)
            .with_text(ping::ID, id)
            .with_text(ping::CLASS, class)
    }

    #[test]
    fn parses_full_request() {
        let req = Element::new(ping::PING)
            .with_text(ping::HEARTBEAT_INTERVAL, "900")
            .with(
                Element::new(ping::FOLDERS)
                    .with(folder("5", "Email"))
                    .with(folder("1", "Calendar")),
            );
        assert_eq!(
            PingRequest::parse(&req).unwrap(),
            PingRequest {
                heartbeat_interval: Some(900),
                folders: Some(vec![
                    PingFolder {
                        id: "5".into(),
                        class: "Email".into()
                    },
                    PingFolder {
                        id: "1".into(),
                        class: "Calendar".into()
                    },
                ]),
            }
        );
    }

    #[test]
    fn parses_empty_request() {
        assert_eq!(
            PingRequest::parse(&Element::new(ping::PING)).unwrap(),
            PingRequest::default()
        );
    }

    #[test]
    fn rejects_bad_requests() {
        let bad_interval = Element::new(ping::PING).with_text(ping::HEARTBEAT_INTERVAL, "-5");
        assert!(matches!(
            PingRequest::parse(&bad_interval),
            Err(ParseError::InvalidValue { .. })
        ));
        let no_class = Element::new(ping::PING).with(
            Element::new(ping::FOLDERS).with(Element::new(ping::FOLDER).with_text(ping::ID, "5")),
        );
        assert_eq!(
            PingRequest::parse(&no_class),
            Err(ParseError::MissingElement {
                parent: ping::FOLDER,
                element: ping::CLASS
            })
        );
        let empty_folders = Element::new(ping::PING).with(Element::new(ping::FOLDERS));
        assert!(PingRequest::parse(&empty_folders).is_err());
    }

    #[test]
    fn writes_responses() {
        let changes = PingResponse {
            status: PingStatus::ChangesFound,
            folders: vec!["5".into(), "1".into()],
            max_folders: None,
            heartbeat_interval: None,
        };
        assert_eq!(
            changes.to_element(),
            Element::new(ping::PING).with_text(ping::STATUS, "2").with(
                Element::new(ping::FOLDERS)
                    .with_text(ping::FOLDER, "5")
                    .with_text(ping::FOLDER, "1")
            )
        );
        let limits = PingResponse {
            max_folders: Some(200),
            heartbeat_interval: Some(3540),
            ..PingResponse::status(PingStatus::TooManyFolders)
        };
        assert_eq!(
            limits.to_element(),
            Element::new(ping::PING)
                .with_text(ping::STATUS, "6")
                .with_text(ping::MAX_FOLDERS, "200")
                .with_text(ping::HEARTBEAT_INTERVAL, "3540")
        );
        assert_eq!(
            PingResponse::status(PingStatus::Expired).to_element(),
            Element::new(ping::PING).with_text(ping::STATUS, "1")
        );
    }
}
