//! ItemOperations (MS-ASCMD 2.2.1.10): fetches items, attachments and documents, empties
//! folders, and moves conversations; several operations in one request, answered in order.
//!
//! ```text
//! request:  ItemOperations/(Fetch | EmptyFolderContents | Move)+
//!   Fetch/{Store, (airsync:CollectionId? airsync:ServerId | airsyncbase:FileReference |
//!          search:LongId | documentlibrary:LinkId), Options?/{Schema?, Range?, UserName?,
//!          Password?, airsync:MIMESupport?, airsyncbase:BodyPreference*,
//!          airsyncbase:BodyPartPreference*, rm:RightsManagementSupport?}}
//!   EmptyFolderContents/{airsync:CollectionId, Options?/DeleteSubFolders}
//!   Move/{ConversationId, DstFldId, Options?/MoveAlways}
//! response: ItemOperations/{Status, Response?/(Fetch | EmptyFolderContents | Move)*}
//!   Fetch/{Status, <the fetched target>, airsync:Class?, Properties?}
//! ```
//! A response goes inline ([`ItemOperationsResponse::to_element`], content base64 in Data)
//! or, when the client asked for it (MS-ASHTTP 2.2.1.1.2.5 MS-ASAcceptMultiPart, or the
//! AcceptMultiPart query option), as a multipart body ([`ItemOperationsResponse::to_multipart`],
//! MS-ASCMD 2.2.1.10.1.1).

use crate::commands::folder_sync::MAX_SERVER_ID_LEN;
use crate::element::{invalid_value, ElementExt};
use crate::error::ParseError;
use crate::items::airsyncbase::{BodyPartPreference, BodyPreference};
use crate::status::ItemOperationsStatus;
use crate::values::MimeSupport;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use easd_wbxml::tags::{
    airsync, airsyncbase, document_library, item_operations as io, rights_management as rm, search,
};
use easd_wbxml::{Element, Node};
use std::fmt;
use std::str::FromStr;

/// The Store of a mailbox fetch.
pub const STORE_MAILBOX: &str = "Mailbox";
/// The Store of a document library fetch.
pub const STORE_DOCUMENT_LIBRARY: &str = "DocumentLibrary";

/// Longest FileReference, LongId, LinkId or credential accepted.
const MAX_REFERENCE_LEN: usize = 1024;
/// Longest Store accepted.
const MAX_STORE_LEN: usize = 64;

/// A byte range "start-end", both inclusive (MS-ASCMD Range (ItemOperations)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

impl FromStr for ByteRange {
    type Err = crate::error::InvalidCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || crate::error::InvalidCode(s.chars().take(32).collect());
        let (a, b) = s.trim().split_once('-').ok_or_else(bad)?;
        let start: u64 = a.trim().parse().map_err(|_| bad())?;
        let end: u64 = b.trim().parse().map_err(|_| bad())?;
        if start > end {
            return Err(bad());
        }
        Ok(ByteRange { start, end })
    }
}

impl fmt::Display for ByteRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

/// What a Fetch names, in request and response alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchTarget {
    /// A mailbox item: airsync:ServerId, with its airsync:CollectionId when the client sends it.
    Item {
        collection_id: Option<String>,
        server_id: String,
    },
    /// An attachment: airsyncbase:FileReference.
    FileReference(String),
    /// A Search result: search:LongId.
    LongId(String),
    /// A document library item: documentlibrary:LinkId.
    LinkId(String),
}

impl FetchTarget {
    fn parse(fetch: &Element) -> Result<Self, ParseError> {
        if let Some(id) = fetch.optional_text_max(airsync::SERVER_ID, MAX_SERVER_ID_LEN)? {
            return Ok(FetchTarget::Item {
                collection_id: fetch
                    .optional_text_max(airsync::COLLECTION_ID, MAX_SERVER_ID_LEN)?,
                server_id: id,
            });
        }
        if let Some(r) = fetch.optional_text_max(airsyncbase::FILE_REFERENCE, MAX_REFERENCE_LEN)? {
            return Ok(FetchTarget::FileReference(r));
        }
        if let Some(id) = fetch.optional_text_max(search::LONG_ID, MAX_REFERENCE_LEN)? {
            return Ok(FetchTarget::LongId(id));
        }
        if let Some(id) = fetch.optional_text_max(document_library::LINK_ID, MAX_REFERENCE_LEN)? {
            return Ok(FetchTarget::LinkId(id));
        }
        Err(ParseError::Invalid {
            element: io::FETCH,
            reason: "needs one of airsync:ServerId, airsyncbase:FileReference, search:LongId, \
                     documentlibrary:LinkId",
        })
    }

    fn write_into(&self, e: &mut Element) {
        match self {
            FetchTarget::Item {
                collection_id,
                server_id,
            } => {
                e.push_opt(airsync::COLLECTION_ID, collection_id.as_ref())
                    .push_text(airsync::SERVER_ID, server_id);
            }
            FetchTarget::FileReference(r) => {
                e.push_text(airsyncbase::FILE_REFERENCE, r);
            }
            FetchTarget::LongId(id) => {
                e.push_text(search::LONG_ID, id);
            }
            FetchTarget::LinkId(id) => {
                e.push_text(document_library::LINK_ID, id);
            }
        }
    }
}

/// A credential for a document library (UserName, Password); Debug output hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user_name: String,
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user_name", &self.user_name)
            .field("password", &"<hidden>")
            .finish()
    }
}

/// The Options of a Fetch.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FetchOptions {
    /// Schema: empty elements naming the properties to return (mailbox Search results).
    pub schema: Option<Element>,
    pub range: Option<ByteRange>,
    /// UserName and Password, for a document library.
    pub credentials: Option<Credentials>,
    pub mime_support: Option<MimeSupport>,
    pub body_preferences: Vec<BodyPreference>,
    pub body_part_preferences: Vec<BodyPartPreference>,
    /// rm:RightsManagementSupport (14.1+).
    pub rights_management_support: Option<bool>,
}

impl FetchOptions {
    fn parse(o: &Element) -> Result<Self, ParseError> {
        let user_name = o.optional_text_max(io::USER_NAME, MAX_REFERENCE_LEN)?;
        let password = o.optional_text_max(io::PASSWORD, MAX_REFERENCE_LEN)?;
        let credentials = match (user_name, password) {
            (None, None) => None,
            (Some(user_name), password) => Some(Credentials {
                user_name,
                password: password.unwrap_or_default(),
            }),
            (None, Some(_)) => {
                return Err(ParseError::MissingElement {
                    parent: io::OPTIONS,
                    element: io::USER_NAME,
                })
            }
        };
        Ok(FetchOptions {
            schema: o.child(io::SCHEMA).cloned(),
            range: o.optional_parse(io::RANGE)?,
            credentials,
            mime_support: o.optional_parse(airsync::MIME_SUPPORT)?,
            body_preferences: o
                .children_with(airsyncbase::BODY_PREFERENCE)
                .map(BodyPreference::parse)
                .collect::<Result<_, _>>()?,
            body_part_preferences: o
                .children_with(airsyncbase::BODY_PART_PREFERENCE)
                .map(BodyPartPreference::parse)
                .collect::<Result<_, _>>()?,
            rights_management_support: o.optional_bool(rm::RIGHTS_MANAGEMENT_SUPPORT)?,
        })
    }
}

/// A Fetch operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetch {
    /// [`STORE_MAILBOX`] or [`STORE_DOCUMENT_LIBRARY`].
    pub store: String,
    pub target: FetchTarget,
    pub options: FetchOptions,
}

/// An EmptyFolderContents operation: deletes every item in the folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmptyFolderContents {
    pub collection_id: String,
    /// Options/DeleteSubFolders: also delete the subfolders.
    pub delete_sub_folders: bool,
}

/// A Move operation: moves a conversation's items to a folder (14.0+).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveConversation {
    /// ConversationId, as the client sent it (opaque bytes).
    pub conversation_id: Vec<u8>,
    pub dst_fld_id: String,
    /// Options/MoveAlways: also move the conversation's future items.
    pub move_always: bool,
}

/// One operation of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemOperation {
    Fetch(Fetch),
    EmptyFolderContents(EmptyFolderContents),
    Move(MoveConversation),
}

/// ItemOperations request: the operations in the client's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemOperationsRequest {
    pub operations: Vec<ItemOperation>,
}

impl ItemOperationsRequest {
    pub fn parse(root: &Element) -> Result<Self, ParseError> {
        root.expect_tag(io::ITEM_OPERATIONS)?;
        let mut operations = Vec::new();
        for e in root.elements() {
            let op = if e.tag == io::FETCH {
                ItemOperation::Fetch(Fetch {
                    store: e.required_text_max(io::STORE, MAX_STORE_LEN)?,
                    target: FetchTarget::parse(e)?,
                    options: e
                        .child(io::OPTIONS)
                        .map(FetchOptions::parse)
                        .transpose()?
                        .unwrap_or_default(),
                })
            } else if e.tag == io::EMPTY_FOLDER_CONTENTS {
                ItemOperation::EmptyFolderContents(EmptyFolderContents {
                    collection_id: e
                        .required_text_max(airsync::COLLECTION_ID, MAX_SERVER_ID_LEN)?,
                    delete_sub_folders: option_flag(e, io::DELETE_SUB_FOLDERS)?,
                })
            } else if e.tag == io::MOVE {
                let id = e.required(io::CONVERSATION_ID)?;
                let conversation_id = id.bytes().unwrap_or_default();
                if conversation_id.is_empty() || conversation_id.len() > MAX_REFERENCE_LEN {
                    return Err(invalid_value(
                        io::CONVERSATION_ID,
                        &String::from_utf8_lossy(&conversation_id),
                        "empty or too long",
                    ));
                }
                ItemOperation::Move(MoveConversation {
                    conversation_id,
                    dst_fld_id: e.required_text_max(io::DST_FLD_ID, MAX_SERVER_ID_LEN)?,
                    move_always: option_flag(e, io::MOVE_ALWAYS)?,
                })
            } else {
                return Err(ParseError::Invalid {
                    element: e.tag,
                    reason: "not an ItemOperations operation (Fetch, EmptyFolderContents, Move)",
                });
            };
            operations.push(op);
        }
        if operations.is_empty() {
            return Err(ParseError::MissingElement {
                parent: io::ITEM_OPERATIONS,
                element: io::FETCH,
            });
        }
        Ok(ItemOperationsRequest { operations })
    }
}

/// A flag in an operation's Options (`<Options><DeleteSubFolders/></Options>`).
fn option_flag(op: &Element, flag: easd_wbxml::Tag) -> Result<bool, ParseError> {
    match op.child(io::OPTIONS) {
        None => Ok(false),
        Some(o) => Ok(o.optional_bool(flag)?.unwrap_or(false)),
    }
}

/// The Properties of a fetched item, attachment or document.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FetchProperties {
    /// A mailbox item's properties: the children of this element (an `airsync:ApplicationData`
    /// as the item types write it) are written first; its own tag is not written.
    pub item: Option<Element>,
    /// airsyncbase:ContentType of an attachment.
    pub content_type: Option<String>,
    pub range: Option<ByteRange>,
    /// The whole size of the attachment or document.
    pub total: Option<u64>,
    /// The content: base64 in Data inline, a binary part in a multipart response.
    pub data: Option<Vec<u8>>,
    /// Version of a document library item (its last-modified dateTime).
    pub version: Option<String>,
}

/// The result of a Fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchResponse {
    pub status: ItemOperationsStatus,
    /// The fetched target, as the request named it.
    pub target: Option<FetchTarget>,
    /// airsync:Class of a mailbox item ("Email", "Calendar", ...).
    pub class: Option<String>,
    pub properties: Option<FetchProperties>,
}

/// The result of an EmptyFolderContents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmptyFolderContentsResponse {
    pub status: ItemOperationsStatus,
    pub collection_id: Option<String>,
}

/// The result of a Move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveConversationResponse {
    pub status: ItemOperationsStatus,
    pub conversation_id: Option<Vec<u8>>,
}

/// The result of one operation, in the request's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OperationResponse {
    Fetch(FetchResponse),
    EmptyFolderContents(EmptyFolderContentsResponse),
    Move(MoveConversationResponse),
}

/// ItemOperations response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemOperationsResponse {
    pub status: ItemOperationsStatus,
    /// Written in Response, when not empty.
    pub responses: Vec<OperationResponse>,
}

/// Where content goes while a response is written.
enum Content<'a> {
    /// Base64 text in Data.
    Inline,
    /// Binary parts, numbered from 1 (part 0 is the WBXML).
    Parts(&'a mut Vec<Vec<u8>>),
}

impl ItemOperationsResponse {
    /// A response with only a Status (an error for the whole request).
    pub fn status(status: ItemOperationsStatus) -> Self {
        ItemOperationsResponse {
            status,
            responses: Vec::new(),
        }
    }

    /// The answer to a request that does not parse: Status 2, protocol error.
    pub fn protocol_error() -> Self {
        Self::status(ItemOperationsStatus::ProtocolError)
    }

    /// The inline response: content as base64 in Data.
    pub fn to_element(&self) -> Element {
        self.build(Content::Inline)
    }

    /// The multipart response body (MS-ASCMD 2.2.1.10.1.1): the part count, an (offset,
    /// length) pair per part, then the parts; part 0 is the WBXML response, in which every
    /// content (Properties/Data, and airsyncbase:Body/airsyncbase:Data of fetched items) is
    /// replaced by a Part element (MS-ASCMD 2.2.3.130) naming the binary part that holds it.
    pub fn to_multipart(&self) -> Vec<u8> {
        let mut parts = Vec::new();
        let root = self.build(Content::Parts(&mut parts));
        let wbxml = easd_wbxml::encode(&root);
        let mut all: Vec<&[u8]> = Vec::with_capacity(parts.len() + 1);
        all.push(&wbxml);
        all.extend(parts.iter().map(Vec::as_slice));
        multipart_body(&all)
    }

    fn build(&self, mut content: Content<'_>) -> Element {
        let mut root = Element::new(io::ITEM_OPERATIONS);
        root.push_text(io::STATUS, self.status.to_string());
        if self.responses.is_empty() {
            return root;
        }
        let mut response = Element::new(io::RESPONSE);
        for r in &self.responses {
            response.push(match r {
                OperationResponse::Fetch(f) => fetch_element(f, &mut content),
                OperationResponse::EmptyFolderContents(r) => {
                    let mut e = Element::new(io::EMPTY_FOLDER_CONTENTS);
                    e.push_text(io::STATUS, r.status.to_string())
                        .push_opt(airsync::COLLECTION_ID, r.collection_id.as_ref());
                    e
                }
                OperationResponse::Move(r) => {
                    let mut e = Element::new(io::MOVE);
                    e.push_text(io::STATUS, r.status.to_string());
                    if let Some(id) = &r.conversation_id {
                        e.push(Element::opaque_element(io::CONVERSATION_ID, id.clone()));
                    }
                    e
                }
            });
        }
        root.push(response);
        root
    }
}

fn fetch_element(f: &FetchResponse, content: &mut Content<'_>) -> Element {
    let mut e = Element::new(io::FETCH);
    e.push_text(io::STATUS, f.status.to_string());
    if let Some(t) = &f.target {
        t.write_into(&mut e);
    }
    e.push_opt(airsync::CLASS, f.class.as_ref());
    if let Some(p) = &f.properties {
        let mut props = Element::new(io::PROPERTIES);
        if let Some(item) = &p.item {
            for child in item.elements() {
                props.push(match content {
                    Content::Inline => child.clone(),
                    Content::Parts(parts) => body_data_to_part(child, parts),
                });
            }
        }
        props
            .push_opt(airsyncbase::CONTENT_TYPE, p.content_type.as_ref())
            .push_opt(io::RANGE, p.range)
            .push_opt(io::TOTAL, p.total);
        if let Some(data) = &p.data {
            match content {
                Content::Inline => {
                    props.push_text(io::DATA, BASE64.encode(data));
                }
                Content::Parts(parts) => {
                    parts.push(data.clone());
                    props.push_text(io::PART, parts.len().to_string());
                }
            }
        }
        props.push_opt(io::VERSION, p.version.as_ref());
        e.push(props);
    }
    e
}

/// An item property with every airsyncbase:Body's Data moved into a binary part: Data is
/// replaced by itemoperations:Part (MS-ASCMD 2.2.3.130).
fn body_data_to_part(e: &Element, parts: &mut Vec<Vec<u8>>) -> Element {
    if e.tag != airsyncbase::BODY {
        return e.clone();
    }
    let mut body = Element::new(e.tag);
    for node in &e.children {
        match node {
            Node::Element(d) if d.tag == airsyncbase::DATA => {
                parts.push(d.bytes().unwrap_or_default());
                body.push_text(io::PART, parts.len().to_string());
            }
            other => body.children.push(other.clone()),
        }
    }
    body
}

/// Lays out a multipart body (MS-ASCMD 2.2.1.10.1.1): PartsCount, then PartMetaData
/// (Offset, Length) per part (2.2.1.10.1.1.1), then the parts; all integers 32-bit
/// little-endian, offsets from the start of the body.
pub fn multipart_body(parts: &[&[u8]]) -> Vec<u8> {
    let header = 4 + 8 * parts.len();
    let total = header + parts.iter().map(|p| p.len()).sum::<usize>();
    let mut out = Vec::with_capacity(total);
    let int = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes();
    out.extend_from_slice(&int(parts.len()));
    let mut offset = header;
    for p in parts {
        out.extend_from_slice(&int(offset));
        out.extend_from_slice(&int(p.len()));
        offset += p.len();
    }
    for p in parts {
        out.extend_from_slice(p);
    }
    out
}

/// Splits a multipart body into its parts (for clients and tests); `None` when the layout
/// is inconsistent.
pub fn split_multipart(body: &[u8]) -> Option<Vec<&[u8]>> {
    let int = |at: usize| -> Option<usize> {
        let b = body.get(at..at.checked_add(4)?)?;
        usize::try_from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])).ok()
    };
    let count = int(0)?;
    if count > body.len() / 8 {
        return None;
    }
    (0..count)
        .map(|i| {
            let offset = int(4 + 8 * i)?;
            let len = int(8 + 8 * i)?;
            body.get(offset..offset.checked_add(len)?)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::items::airsyncbase::BodyType;
    use easd_wbxml::tags::email;

    fn fetch_item() -> Element {
        Element::new(io::FETCH)
            .with_text(io::STORE, STORE_MAILBOX)
            .with_text(airsync::COLLECTION_ID, "5")
            .with_text(airsync::SERVER_ID, "5:21")
            .with(
                Element::new(io::OPTIONS)
                    .with_text(airsync::MIME_SUPPORT, "0")
                    .with(
                        Element::new(airsyncbase::BODY_PREFERENCE)
                            .with_text(airsyncbase::TYPE, "2")
                            .with_text(airsyncbase::TRUNCATION_SIZE, "5120")
                            .with_text(airsyncbase::ALL_OR_NONE, "1"),
                    )
                    .with_text(rm::RIGHTS_MANAGEMENT_SUPPORT, "1"),
            )
    }

    #[test]
    fn parses_item_fetch() {
        let req = Element::new(io::ITEM_OPERATIONS).with(fetch_item());
        let parsed = ItemOperationsRequest::parse(&req).unwrap();
        let ItemOperation::Fetch(f) = &parsed.operations[0] else {
            panic!("not a fetch: {parsed:?}");
        };
        assert_eq!(f.store, STORE_MAILBOX);
        assert_eq!(
            f.target,
            FetchTarget::Item {
                collection_id: Some("5".into()),
                server_id: "5:21".into()
            }
        );
        assert_eq!(f.options.mime_support, Some(MimeSupport::Never));
        assert_eq!(f.options.rights_management_support, Some(true));
        let pref = &f.options.body_preferences[0];
        assert_eq!(pref.body_type, BodyType::Html);
        assert_eq!(pref.truncation_size, Some(5120));
        assert!(pref.all_or_none);
    }

    #[test]
    fn parses_attachment_doclib_and_longid_fetches() {
        let req = Element::new(io::ITEM_OPERATIONS)
            .with(
                Element::new(io::FETCH)
                    .with_text(io::STORE, STORE_MAILBOX)
                    .with_text(airsyncbase::FILE_REFERENCE, "20%3a2%3a0")
                    .with(Element::new(io::OPTIONS).with_text(io::RANGE, "0-8191")),
            )
            .with(
                Element::new(io::FETCH)
                    .with_text(io::STORE, STORE_DOCUMENT_LIBRARY)
                    .with_text(document_library::LINK_ID, r"\\fileserver\share\q1.docx")
                    .with(
                        Element::new(io::OPTIONS)
                            .with_text(io::USER_NAME, r"CONTOSO\deviceuser")
                            .with_text(io::PASSWORD, "P@ssw0rd!"),
                    ),
            )
            .with(
                Element::new(io::FETCH)
                    .with_text(io::STORE, STORE_MAILBOX)
                    .with_text(search::LONG_ID, "RgAAAAAaX9MEq")
                    .with(
                        Element::new(io::OPTIONS).with(
                            Element::new(io::SCHEMA)
                                .with(Element::new(email::SUBJECT))
                                .with(Element::new(airsyncbase::BODY)),
                        ),
                    ),
            );
        let ops = ItemOperationsRequest::parse(&req).unwrap().operations;
        let fetches: Vec<&Fetch> = ops
            .iter()
            .filter_map(|o| match o {
                ItemOperation::Fetch(f) => Some(f),
                _ => None,
            })
            .collect();
        assert_eq!(
            fetches[0].target,
            FetchTarget::FileReference("20%3a2%3a0".into())
        );
        assert_eq!(
            fetches[0].options.range,
            Some(ByteRange {
                start: 0,
                end: 8191
            })
        );
        assert_eq!(
            fetches[1].target,
            FetchTarget::LinkId(r"\\fileserver\share\q1.docx".into())
        );
        let creds = fetches[1].options.credentials.as_ref().unwrap();
        assert_eq!(creds.user_name, r"CONTOSO\deviceuser");
        assert!(!format!("{creds:?}").contains("P@ss"));
        assert_eq!(
            fetches[2].target,
            FetchTarget::LongId("RgAAAAAaX9MEq".into())
        );
        let schema = fetches[2].options.schema.as_ref().unwrap();
        assert_eq!(schema.elements().count(), 2);
    }

    #[test]
    fn parses_empty_folder_contents_and_move() {
        let req = Element::new(io::ITEM_OPERATIONS)
            .with(
                Element::new(io::EMPTY_FOLDER_CONTENTS)
                    .with_text(airsync::COLLECTION_ID, "3")
                    .with(Element::new(io::OPTIONS).with(Element::new(io::DELETE_SUB_FOLDERS))),
            )
            .with(
                Element::new(io::MOVE)
                    .with(Element::opaque_element(
                        io::CONVERSATION_ID,
                        vec![0xD6, 0x15],
                    ))
                    .with_text(io::DST_FLD_ID, "12"),
            );
        let ops = ItemOperationsRequest::parse(&req).unwrap().operations;
        assert_eq!(
            ops,
            vec![
                ItemOperation::EmptyFolderContents(EmptyFolderContents {
                    collection_id: "3".into(),
                    delete_sub_folders: true,
                }),
                ItemOperation::Move(MoveConversation {
                    conversation_id: vec![0xD6, 0x15],
                    dst_fld_id: "12".into(),
                    move_always: false,
                }),
            ]
        );
    }

    #[test]
    fn rejects_bad_requests() {
        let parse =
            |e: Element| ItemOperationsRequest::parse(&Element::new(io::ITEM_OPERATIONS).with(e));
        assert!(ItemOperationsRequest::parse(&Element::new(io::ITEM_OPERATIONS)).is_err());
        // No target.
        assert!(matches!(
            parse(Element::new(io::FETCH).with_text(io::STORE, STORE_MAILBOX)),
            Err(ParseError::Invalid { .. })
        ));
        // No Store.
        assert!(parse(Element::new(io::FETCH).with_text(airsync::SERVER_ID, "5:1")).is_err());
        // Bad range.
        assert!(parse(
            Element::new(io::FETCH)
                .with_text(io::STORE, STORE_MAILBOX)
                .with_text(airsyncbase::FILE_REFERENCE, "x")
                .with(Element::new(io::OPTIONS).with_text(io::RANGE, "10-2"))
        )
        .is_err());
        // Bad body preference.
        assert!(parse(
            Element::new(io::FETCH)
                .with_text(io::STORE, STORE_MAILBOX)
                .with_text(airsync::SERVER_ID, "5:1")
                .with(Element::new(io::OPTIONS).with(
                    Element::new(airsyncbase::BODY_PREFERENCE).with_text(airsyncbase::TYPE, "9")
                ))
        )
        .is_err());
        assert!(parse(Element::new(io::EMPTY_FOLDER_CONTENTS)).is_err());
        assert!(parse(Element::new(io::MOVE).with_text(io::DST_FLD_ID, "1")).is_err());
        assert!(parse(Element::new(io::STATUS)).is_err());
    }

    #[test]
    fn byte_ranges() {
        assert_eq!("0-9".parse(), Ok(ByteRange { start: 0, end: 9 }));
        assert_eq!(ByteRange { start: 5, end: 5 }.to_string(), "5-5");
        for bad in ["", "5", "-5", "a-b", "9-0", "1-2-3"] {
            assert!(bad.parse::<ByteRange>().is_err(), "{bad}");
        }
    }

    fn attachment_response() -> ItemOperationsResponse {
        ItemOperationsResponse {
            status: ItemOperationsStatus::Success,
            responses: vec![OperationResponse::Fetch(FetchResponse {
                status: ItemOperationsStatus::Success,
                target: Some(FetchTarget::FileReference("20%3a2%3a0".into())),
                class: None,
                properties: Some(FetchProperties {
                    content_type: Some("text/plain".into()),
                    range: Some(ByteRange { start: 0, end: 13 }),
                    total: Some(14),
                    data: Some(b"Hello, world!\n".to_vec()),
                    ..Default::default()
                }),
            })],
        }
    }

    #[test]
    fn writes_inline_attachment_response() {
        let expected = Element::new(io::ITEM_OPERATIONS)
            .with_text(io::STATUS, "1")
            .with(
                Element::new(io::RESPONSE).with(
                    Element::new(io::FETCH)
                        .with_text(io::STATUS, "1")
                        .with_text(airsyncbase::FILE_REFERENCE, "20%3a2%3a0")
                        .with(
                            Element::new(io::PROPERTIES)
                                .with_text(airsyncbase::CONTENT_TYPE, "text/plain")
                                .with_text(io::RANGE, "0-13")
                                .with_text(io::TOTAL, "14")
                                .with_text(io::DATA, "SGVsbG8sIHdvcmxkIQo="),
                        ),
                ),
            );
        assert_eq!(attachment_response().to_element(), expected);
    }

    #[test]
    fn writes_multipart_attachment_response() {
        let body = attachment_response().to_multipart();
        let parts = split_multipart(&body).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1], b"Hello, world!\n");
        let wbxml = easd_wbxml::decode(parts[0]).unwrap();
        let props = wbxml
            .child(io::RESPONSE)
            .and_then(|r| r.child(io::FETCH))
            .and_then(|f| f.child(io::PROPERTIES))
            .unwrap();
        assert_eq!(props.child_text(io::PART).as_deref(), Some("1"));
        assert!(props.child(io::DATA).is_none());
        // The layout: count, then (offset, length) pairs, offsets from the start.
        assert_eq!(&body[0..4], &2u32.to_le_bytes());
        assert_eq!(&body[4..8], &20u32.to_le_bytes());
    }

    #[test]
    fn writes_item_fetch_with_body_parts() {
        let item = Element::new(airsync::APPLICATION_DATA)
            .with_text(email::SUBJECT, "Lunch")
            .with(
                Element::new(airsyncbase::BODY)
                    .with_text(airsyncbase::TYPE, "4")
                    .with_text(airsyncbase::ESTIMATED_DATA_SIZE, "9")
                    .with_text(airsyncbase::DATA, "Subject: "),
            );
        let resp = ItemOperationsResponse {
            status: ItemOperationsStatus::Success,
            responses: vec![OperationResponse::Fetch(FetchResponse {
                status: ItemOperationsStatus::Success,
                target: Some(FetchTarget::Item {
                    collection_id: Some("5".into()),
                    server_id: "5:22".into(),
                }),
                class: Some("Email".into()),
                properties: Some(FetchProperties {
                    item: Some(item),
                    ..Default::default()
                }),
            })],
        };
        let inline = resp.to_element();
        let fetch = inline
            .child(io::RESPONSE)
            .and_then(|r| r.child(io::FETCH))
            .unwrap();
        let order: Vec<_> = fetch.elements().map(|e| e.tag).collect();
        assert_eq!(
            order,
            [
                io::STATUS,
                airsync::COLLECTION_ID,
                airsync::SERVER_ID,
                airsync::CLASS,
                io::PROPERTIES
            ]
        );
        let props = fetch.child(io::PROPERTIES).unwrap();
        assert_eq!(props.child_text(email::SUBJECT).as_deref(), Some("Lunch"));
        assert!(props.child(airsync::APPLICATION_DATA).is_none());

        let body = resp.to_multipart();
        let parts = split_multipart(&body).unwrap();
        assert_eq!(parts[1], b"Subject: ");
        let doc = easd_wbxml::decode(parts[0]).unwrap();
        let b = doc
            .child(io::RESPONSE)
            .and_then(|r| r.child(io::FETCH))
            .and_then(|f| f.child(io::PROPERTIES))
            .and_then(|p| p.child(airsyncbase::BODY))
            .unwrap();
        assert_eq!(b.child_text(io::PART).as_deref(), Some("1"));
        assert_eq!(b.child_text(airsyncbase::TYPE).as_deref(), Some("4"));
        assert!(b.child(airsyncbase::DATA).is_none());
    }

    #[test]
    fn writes_other_responses() {
        let resp = ItemOperationsResponse {
            status: ItemOperationsStatus::Success,
            responses: vec![
                OperationResponse::EmptyFolderContents(EmptyFolderContentsResponse {
                    status: ItemOperationsStatus::Success,
                    collection_id: Some("3".into()),
                }),
                OperationResponse::Move(MoveConversationResponse {
                    status: ItemOperationsStatus::Success,
                    conversation_id: None,
                }),
            ],
        };
        assert_eq!(
            resp.to_element(),
            Element::new(io::ITEM_OPERATIONS)
                .with_text(io::STATUS, "1")
                .with(
                    Element::new(io::RESPONSE)
                        .with(
                            Element::new(io::EMPTY_FOLDER_CONTENTS)
                                .with_text(io::STATUS, "1")
                                .with_text(airsync::COLLECTION_ID, "3")
                        )
                        .with(Element::new(io::MOVE).with_text(io::STATUS, "1"))
                )
        );
        assert_eq!(
            ItemOperationsResponse::status(ItemOperationsStatus::ProtocolError).to_element(),
            Element::new(io::ITEM_OPERATIONS).with_text(io::STATUS, "2")
        );
    }

    #[test]
    fn multipart_layout_and_split() {
        assert_eq!(multipart_body(&[]), 0u32.to_le_bytes());
        let body = multipart_body(&[b"ab", b"", b"cde"]);
        assert_eq!(body.len(), 4 + 24 + 5);
        assert_eq!(
            split_multipart(&body).unwrap(),
            vec![&b"ab"[..], b"", b"cde"]
        );
        assert!(split_multipart(&[1, 0, 0]).is_none());
        assert!(split_multipart(&[1, 0, 0, 0, 200, 0, 0, 0, 1, 0, 0, 0]).is_none());
        assert!(split_multipart(&[255, 255, 255, 255]).is_none());
    }
}
