//! Sync (MS-ASCMD 2.2.1.21): the client's collections, options and changes in; the server's
//! changes and its answers to the client's changes out.
//!
//! Item data stays an [`Element`] (`ApplicationData`): the engine converts it per class
//! (`items::email::Email`, `EmailChange`, `DraftEmail`, ...).

use crate::element::{invalid_value, parse_value, ElementExt};
use crate::error::ParseError;
use crate::items::airsyncbase::{BodyPartPreference, BodyPreference, Supported};
use crate::macros::code_enum;
use easd_wbxml::tags::{airsync, airsyncbase, email2, rights_management};
use easd_wbxml::{Element, EncodeError, Tag, Writer};
use std::io::Write;

/// Longest InstanceId read: a Compact DateTime (MS-ASDTYPE 2.7.2) with room to spare.
const MAX_INSTANCE_ID: usize = 64;

code_enum! {
    /// Status of Sync, of a collection and of a client command's response (MS-ASCMD
    /// 2.2.3.177.17), and the common codes (MS-ASCMD 2.2.2).
    SyncStatus: u16 {
        /// 1
        Success = 1,
        /// 3: invalid synchronization key; the client returns to SyncKey 0.
        InvalidSyncKey = 3,
        /// 4: protocol error (malformed request).
        ProtocolError = 4,
        /// 5: server error; the client retries.
        ServerError = 5,
        /// 6: error in client/server conversion (an invalid item from the client).
        ClientServerConversionError = 6,
        /// 7: conflict matching the client and server object (the server's version wins).
        Conflict = 7,
        /// 8: object not found.
        ObjectNotFound = 8,
        /// 9: the Sync command cannot be completed (e.g. the mailbox is full).
        SyncCannotBeCompleted = 9,
        /// 12: the folder hierarchy has changed; the client issues FolderSync.
        FolderHierarchyChanged = 12,
        /// 13: the Sync request is not complete (an empty or partial request the server has no
        /// cached request to complete from); the client resends it in full.
        IncompleteRequest = 13,
        /// 14: invalid Wait or HeartbeatInterval value; Limit gives the bound.
        InvalidWaitOrHeartbeatInterval = 14,
        /// 15: invalid Sync command request (too many collections); Limit gives the maximum.
        InvalidSyncCommand = 15,
        /// 16: retry (a transient server condition).
        Retry = 16,
    }
    common
}

/// FilterType (MS-ASCMD 2.2.3.69.2): one definition, shared with GetItemEstimate and
/// Provision.
pub use crate::values::FilterType;

/// A Sync request (MS-ASCMD 2.2.1.21).
///
/// A request without a body ([`SyncRequest::is_empty`]) is an empty Sync request (MS-ASCMD
/// 2.2.1.21.1): "the same as my last Sync", completed from the request the server cached
/// (or answered with Status 13 when it has none). With `partial` (2.2.3.131), the listed
/// collections are merged into the cached ones. A request needs Collections or Partial;
/// one with neither (only Wait, HeartbeatInterval or WindowSize) is completed from the
/// cache too, see [`SyncRequest::needs_cached_collections`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncRequest {
    pub collections: Vec<SyncCollectionRequest>,
    /// Wait (2.2.3.198): minutes to wait for changes (1–59) before answering.
    pub wait: Option<u32>,
    /// HeartbeatInterval (2.2.3.88.2): seconds to wait for changes (60–3540).
    pub heartbeat_interval: Option<u32>,
    /// WindowSize (2.2.3.199) for the whole request.
    pub window_size: Option<u32>,
    /// Partial (2.2.3.131): only some collections are listed; the others come from the cache.
    pub partial: bool,
}

impl SyncRequest {
    /// Parses a Sync request document.
    ///
    /// Wait and HeartbeatInterval together are a protocol error (Status 4); the range of
    /// either is the engine's to check (Status 14 with Limit).
    pub fn parse(root: &Element) -> Result<Self, ParseError> {
        root.expect_tag(airsync::SYNC)?;
        let wait = root.optional_parse(airsync::WAIT)?;
        let heartbeat_interval = root.optional_parse(airsync::HEARTBEAT_INTERVAL)?;
        if wait.is_some() && heartbeat_interval.is_some() {
            return Err(ParseError::Invalid {
                element: airsync::HEARTBEAT_INTERVAL,
                reason: "Wait and HeartbeatInterval are mutually exclusive",
            });
        }
        let collections = match root.child(airsync::COLLECTIONS) {
            Some(c) => c
                .children_with(airsync::COLLECTION)
                .map(SyncCollectionRequest::parse)
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        Ok(SyncRequest {
            collections,
            wait,
            heartbeat_interval,
            window_size: root.optional_parse(airsync::WINDOW_SIZE)?,
            partial: root.child(airsync::PARTIAL).is_some(),
        })
    }

    /// Parses the body of a Sync request, which may be absent (an empty request).
    pub fn parse_opt(root: Option<&Element>) -> Result<Self, ParseError> {
        match root {
            Some(r) => SyncRequest::parse(r),
            None => Ok(SyncRequest::default()),
        }
    }

    /// True for an empty request (no body, or a Sync element without collections, Wait,
    /// HeartbeatInterval, WindowSize or Partial): the server reuses its cached request.
    pub fn is_empty(&self) -> bool {
        self.collections.is_empty()
            && self.wait.is_none()
            && self.heartbeat_interval.is_none()
            && self.window_size.is_none()
            && !self.partial
    }

    /// True when the server must complete this request from its cache: an empty request,
    /// a Partial one, or one that lists no collections (only Wait, HeartbeatInterval or
    /// WindowSize).
    pub fn needs_cached_collections(&self) -> bool {
        self.partial || self.collections.is_empty()
    }

    /// The seconds the server may wait for changes: Wait in minutes or HeartbeatInterval.
    pub fn wait_seconds(&self) -> Option<u32> {
        self.heartbeat_interval
            .or_else(|| self.wait.map(|m| m.saturating_mul(60)))
    }

    /// The request as a document (what a client sends; for tests and tools).
    pub fn to_element(&self) -> Element {
        let mut e = Element::new(airsync::SYNC);
        if !self.collections.is_empty() {
            let mut cs = Element::new(airsync::COLLECTIONS);
            for c in &self.collections {
                cs.push(c.to_element());
            }
            e.push(cs);
        }
        e.push_opt(airsync::WAIT, self.wait)
            .push_opt(airsync::HEARTBEAT_INTERVAL, self.heartbeat_interval)
            .push_opt(airsync::WINDOW_SIZE, self.window_size);
        if self.partial {
            e.push(Element::new(airsync::PARTIAL));
        }
        e
    }
}

/// One collection of a Sync request (MS-ASCMD 2.2.3.29.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncCollectionRequest {
    /// SyncKey (2.2.3.181.4): "0" starts (or restarts) synchronization.
    pub sync_key: String,
    pub collection_id: String,
    /// Class (2.2.3.27.6): sent by 12.1 clients only.
    pub class: Option<String>,
    /// Supported (2.2.3.179): the properties the client manages (with SyncKey 0).
    pub supported: Option<Supported>,
    /// DeletesAsMoves (2.2.3.43): deleted items go to Deleted Items (absent: true).
    pub deletes_as_moves: Option<bool>,
    /// GetChanges (2.2.3.84): whether the client wants the server's changes.
    pub get_changes: Option<bool>,
    pub window_size: Option<u32>,
    /// ConversationMode (2.2.3.36.2, 14.0+).
    pub conversation_mode: Option<bool>,
    /// Options (2.2.3.125.6): one per Class in 14.0+ (e.g. Email and SMS in the Inbox).
    pub options: Vec<SyncOptions>,
    /// The client's changes (Commands, 2.2.3.32), in order.
    pub commands: Vec<ClientCommand>,
}

impl SyncCollectionRequest {
    /// A collection with a SyncKey and CollectionId and nothing else.
    pub fn new(sync_key: impl Into<String>, collection_id: impl Into<String>) -> Self {
        SyncCollectionRequest {
            sync_key: sync_key.into(),
            collection_id: collection_id.into(),
            class: None,
            supported: None,
            deletes_as_moves: None,
            get_changes: None,
            window_size: None,
            conversation_mode: None,
            options: Vec::new(),
            commands: Vec::new(),
        }
    }

    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        let mut options = Vec::new();
        let mut conversation_mode = e.optional_bool(airsync::CONVERSATION_MODE)?;
        for o in e.children_with(airsync::OPTIONS) {
            options.push(SyncOptions::parse(o)?);
            // Some clients put ConversationMode inside Options; the spec has it in
            // Collection (2.2.3.36.2).
            if conversation_mode.is_none() {
                conversation_mode = o.optional_bool(airsync::CONVERSATION_MODE)?;
            }
        }
        let commands = match e.child(airsync::COMMANDS) {
            Some(c) => c
                .elements()
                .map(ClientCommand::parse)
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        Ok(SyncCollectionRequest {
            sync_key: e.required_text(airsync::SYNC_KEY)?.trim().to_owned(),
            collection_id: e.required_text(airsync::COLLECTION_ID)?.trim().to_owned(),
            class: e.optional_text(airsync::CLASS),
            supported: e.child(airsync::SUPPORTED).map(Supported::parse),
            deletes_as_moves: e.optional_bool(airsync::DELETES_AS_MOVES)?,
            get_changes: e.optional_bool(airsync::GET_CHANGES)?,
            window_size: e.optional_parse(airsync::WINDOW_SIZE)?,
            conversation_mode,
            options,
            commands,
        })
    }

    /// True for SyncKey "0" (MS-ASCMD 2.2.3.181.4).
    pub fn is_initial(&self) -> bool {
        self.sync_key == "0"
    }

    /// The options for `class` (the Options without Class apply to the folder's own class).
    pub fn options_for(&self, class: Option<&str>) -> Option<&SyncOptions> {
        self.options
            .iter()
            .find(|o| o.class.as_deref() == class)
            .or_else(|| self.options.iter().find(|o| o.class.is_none()))
    }

    /// The collection as a client writes it, in the strict order of MS-ASCMD 2.2.3.29.2:
    /// SyncKey, CollectionId, Supported, DeletesAsMoves, GetChanges, WindowSize,
    /// ConversationMode, Options, Commands (12.1's Class first). The parser accepts any
    /// order.
    pub fn to_element(&self) -> Element {
        let mut e = Element::new(airsync::COLLECTION);
        e.push_opt(airsync::CLASS, self.class.as_deref())
            .push_text(airsync::SYNC_KEY, self.sync_key.clone())
            .push_text(airsync::COLLECTION_ID, self.collection_id.clone());
        if let Some(s) = &self.supported {
            e.push(s.to_element());
        }
        e.push_opt_bool(airsync::DELETES_AS_MOVES, self.deletes_as_moves)
            .push_opt_bool(airsync::GET_CHANGES, self.get_changes)
            .push_opt(airsync::WINDOW_SIZE, self.window_size)
            .push_opt_bool(airsync::CONVERSATION_MODE, self.conversation_mode);
        for o in &self.options {
            e.push(o.to_element());
        }
        if !self.commands.is_empty() {
            let mut c = Element::new(airsync::COMMANDS);
            for cmd in &self.commands {
                c.push(cmd.to_element());
            }
            e.push(c);
        }
        e
    }
}

/// The options of a collection for one class (MS-ASCMD 2.2.3.125.6).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncOptions {
    /// Class: which class these options apply to (14.0+: "Email", "SMS", ...).
    pub class: Option<String>,
    /// FilterType (2.2.3.68.2), 0–8; see [`FilterType`].
    pub filter_type: Option<u8>,
    pub body_preferences: Vec<BodyPreference>,
    pub body_part_preferences: Vec<BodyPartPreference>,
    /// MIMESupport (2.2.3.110.3): 0 never MIME, 1 MIME for S/MIME only, 2 always MIME.
    pub mime_support: Option<u8>,
    /// MIMETruncation (2.2.3.111), 0–8.
    pub mime_truncation: Option<u8>,
    /// Conflict (2.2.3.34): 0 the client wins, 1 the server wins (the default).
    pub conflict: Option<u8>,
    /// MaxItems (2.2.3.103.2): for the recipient information cache.
    pub max_items: Option<u32>,
    /// rm:RightsManagementSupport (14.1+).
    pub rights_management_support: Option<bool>,
}

impl SyncOptions {
    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        Ok(SyncOptions {
            class: e.optional_text(airsync::CLASS),
            filter_type: bounded_u8(e, airsync::FILTER_TYPE, 8)?,
            body_preferences: e
                .children_with(airsyncbase::BODY_PREFERENCE)
                .map(BodyPreference::parse)
                .collect::<Result<_, _>>()?,
            body_part_preferences: e
                .children_with(airsyncbase::BODY_PART_PREFERENCE)
                .map(BodyPartPreference::parse)
                .collect::<Result<_, _>>()?,
            mime_support: bounded_u8(e, airsync::MIME_SUPPORT, 2)?,
            mime_truncation: bounded_u8(e, airsync::MIME_TRUNCATION, 8)?,
            conflict: bounded_u8(e, airsync::CONFLICT, 1)?,
            max_items: e.optional_parse(airsync::MAX_ITEMS)?,
            rights_management_support: e
                .optional_bool(rights_management::RIGHTS_MANAGEMENT_SUPPORT)?,
        })
    }

    /// FilterType as a typed value.
    pub fn filter(&self) -> Option<FilterType> {
        self.filter_type.and_then(FilterType::from_code)
    }

    /// The body preference for `body_type`, if the client sent one.
    pub fn body_preference(
        &self,
        body_type: crate::items::airsyncbase::BodyType,
    ) -> Option<&BodyPreference> {
        self.body_preferences
            .iter()
            .find(|p| p.body_type == body_type)
    }

    pub fn to_element(&self) -> Element {
        let mut e = Element::new(airsync::OPTIONS);
        e.push_opt(airsync::CLASS, self.class.as_deref())
            .push_opt(airsync::FILTER_TYPE, self.filter_type);
        for p in &self.body_preferences {
            e.push(p.to_element());
        }
        for p in &self.body_part_preferences {
            e.push(p.to_element());
        }
        e.push_opt(airsync::CONFLICT, self.conflict)
            .push_opt(airsync::MIME_SUPPORT, self.mime_support)
            .push_opt(airsync::MIME_TRUNCATION, self.mime_truncation)
            .push_opt(airsync::MAX_ITEMS, self.max_items)
            .push_opt_bool(
                rights_management::RIGHTS_MANAGEMENT_SUPPORT,
                self.rights_management_support,
            );
        e
    }
}

/// An optional small integer child with an upper bound.
fn bounded_u8(e: &Element, tag: Tag, max: u8) -> Result<Option<u8>, ParseError> {
    match e.optional_parse::<u8>(tag)? {
        Some(v) if v > max => Err(invalid_value(tag, &v.to_string(), "value out of range")),
        v => Ok(v),
    }
}

/// A change the client sends (MS-ASCMD 2.2.3.32 Commands).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientCommand {
    /// Add (2.2.3.7.2): a new item with the client's temporary id.
    Add {
        client_id: String,
        /// Class of the item (12.1 clients in mixed folders).
        class: Option<String>,
        application_data: Element,
        /// email2:Send (MS-ASEMAIL 2.2.2.69, 16.0+): send the draft rather than save it.
        send: bool,
    },
    /// Change (2.2.3.24): new values for an item's properties.
    Change {
        server_id: String,
        /// airsyncbase:InstanceId (MS-ASAIRS 2.2.2.25, 16.0+): the change is of this one
        /// occurrence of a recurring event, not of the series.
        instance_id: Option<String>,
        application_data: Element,
        /// email2:Send (16.0+).
        send: bool,
    },
    /// Delete (2.2.3.42.2); with airsyncbase:InstanceId (16.0+) of one occurrence only.
    Delete {
        server_id: String,
        instance_id: Option<String>,
    },
    /// Fetch (2.2.3.67.2): the client wants the whole item (typically after truncation).
    Fetch { server_id: String },
}

impl ClientCommand {
    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        let send = e.child(email2::SEND).is_some();
        match e.tag {
            t if t == airsync::ADD => Ok(ClientCommand::Add {
                client_id: e.required_text(airsync::CLIENT_ID)?,
                class: e.optional_text(airsync::CLASS),
                application_data: e.required(airsync::APPLICATION_DATA)?.clone(),
                send,
            }),
            t if t == airsync::CHANGE => Ok(ClientCommand::Change {
                server_id: e.required_text(airsync::SERVER_ID)?,
                instance_id: e.optional_text_max(airsyncbase::INSTANCE_ID, MAX_INSTANCE_ID)?,
                application_data: e.required(airsync::APPLICATION_DATA)?.clone(),
                send,
            }),
            t if t == airsync::DELETE => Ok(ClientCommand::Delete {
                server_id: e.required_text(airsync::SERVER_ID)?,
                instance_id: e.optional_text_max(airsyncbase::INSTANCE_ID, MAX_INSTANCE_ID)?,
            }),
            t if t == airsync::FETCH => Ok(ClientCommand::Fetch {
                server_id: e.required_text(airsync::SERVER_ID)?,
            }),
            _ => Err(ParseError::Invalid {
                element: e.tag,
                reason: "not a client command (Add, Change, Delete or Fetch)",
            }),
        }
    }

    /// The item's ServerId (`None` for Add).
    pub fn server_id(&self) -> Option<&str> {
        match self {
            ClientCommand::Add { .. } => None,
            ClientCommand::Change { server_id, .. }
            | ClientCommand::Delete { server_id, .. }
            | ClientCommand::Fetch { server_id } => Some(server_id),
        }
    }

    pub fn to_element(&self) -> Element {
        match self {
            ClientCommand::Add {
                client_id,
                class,
                application_data,
                send,
            } => {
                let mut e = Element::new(airsync::ADD);
                e.push_opt(airsync::CLASS, class.as_deref())
                    .push_text(airsync::CLIENT_ID, client_id.clone())
                    .push(application_data.clone());
                if *send {
                    e.push(Element::new(email2::SEND));
                }
                e
            }
            ClientCommand::Change {
                server_id,
                instance_id,
                application_data,
                send,
            } => {
                let mut e = Element::new(airsync::CHANGE);
                e.push_text(airsync::SERVER_ID, server_id.clone())
                    .push_opt(airsyncbase::INSTANCE_ID, instance_id.as_deref())
                    .push(application_data.clone());
                if *send {
                    e.push(Element::new(email2::SEND));
                }
                e
            }
            ClientCommand::Delete {
                server_id,
                instance_id,
            } => {
                let mut e = Element::new(airsync::DELETE);
                e.push_text(airsync::SERVER_ID, server_id.clone())
                    .push_opt(airsyncbase::INSTANCE_ID, instance_id.as_deref());
                e
            }
            ClientCommand::Fetch { server_id } => {
                Element::new(airsync::FETCH).with_text(airsync::SERVER_ID, server_id.clone())
            }
        }
    }
}

/// A Sync response (MS-ASCMD 2.2.1.21).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncResponse {
    /// Status of the whole request (2.2.3.177.17), present for request-level failures
    /// (4, 12, 13, 14, 15, common codes); absent on success.
    pub status: Option<SyncStatus>,
    /// Limit (2.2.3.97): with Status 14 the allowed Wait or HeartbeatInterval bound, with
    /// Status 15 the maximum number of collections. Excludes `collections`.
    pub limit: Option<u32>,
    pub collections: Vec<SyncCollectionResponse>,
}

impl SyncResponse {
    /// A response with only a top-level status (e.g. 13: resend the full request).
    pub fn status(status: SyncStatus) -> Self {
        SyncResponse {
            status: Some(status),
            ..SyncResponse::default()
        }
    }

    /// The answer to a request that does not parse: Status 4, protocol error.
    pub fn protocol_error() -> Self {
        SyncResponse::status(SyncStatus::ProtocolError)
    }

    /// True when there is nothing to say: no status and no collection. Such a response is
    /// sent as an empty Sync response, HTTP headers only (MS-ASCMD 2.2.1.21.2).
    pub fn is_empty(&self) -> bool {
        self.status.is_none() && self.limit.is_none() && self.collections.is_empty()
    }

    /// The response as a tree. Element order: Status, then Limit or Collections (the
    /// SyncResponse schema, MS-ASCMD 6.46).
    pub fn to_element(&self) -> Element {
        let mut e = Element::new(airsync::SYNC);
        e.push_opt(airsync::STATUS, self.status);
        if let Some(l) = self.limit {
            e.push_text(airsync::LIMIT, l.to_string());
        } else if !self.collections.is_empty() {
            let mut cs = Element::new(airsync::COLLECTIONS);
            for c in &self.collections {
                cs.push(c.to_element());
            }
            e.push(cs);
        }
        e
    }

    /// Streams the response (same bytes as `encode(&self.to_element())`), so that a large
    /// window of items is written without building the whole tree.
    pub fn write<W: Write>(&self, w: &mut Writer<W>) -> Result<(), EncodeError> {
        w.start(airsync::SYNC)?;
        if let Some(s) = self.status {
            w.text_element(airsync::STATUS, &s.to_string())?;
        }
        if let Some(l) = self.limit {
            w.text_element(airsync::LIMIT, &l.to_string())?;
        } else if !self.collections.is_empty() {
            w.start(airsync::COLLECTIONS)?;
            for c in &self.collections {
                c.write(w)?;
            }
            w.end()?;
        }
        w.end()
    }

    /// Parses a Sync response document (for tests and tools).
    pub fn parse(root: &Element) -> Result<Self, ParseError> {
        root.expect_tag(airsync::SYNC)?;
        Ok(SyncResponse {
            status: root
                .child(airsync::STATUS)
                .map(parse_value::<SyncStatus>)
                .transpose()?,
            limit: root.optional_parse(airsync::LIMIT)?,
            collections: match root.child(airsync::COLLECTIONS) {
                Some(c) => c
                    .children_with(airsync::COLLECTION)
                    .map(SyncCollectionResponse::parse)
                    .collect::<Result<_, _>>()?,
                None => Vec::new(),
            },
        })
    }
}

/// One collection of a Sync response (MS-ASCMD 2.2.3.29.2).
///
/// Element order. The SyncResponse schema (MS-ASCMD 6.46) lets the children of Collection
/// come in any order; its element table lists Class, SyncKey, CollectionId, Status,
/// MoreAvailable, Commands, Responses, and example 4.5.8 shows MoreAvailable after
/// Commands. easd writes Class, SyncKey, CollectionId, Status, Responses, MoreAvailable,
/// Commands: the identification first, the answers to the client's own changes before
/// the server's changes (so a client maps its ClientIds before it meets the server's
/// items), and MoreAvailable before Commands as the element table has it. This is also
/// the order of the widely deployed open-source servers that devices are tested against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncCollectionResponse {
    /// Class: written for 12.1 clients only (the caller leaves it `None` otherwise).
    pub class: Option<String>,
    pub sync_key: String,
    pub collection_id: String,
    pub status: SyncStatus,
    /// MoreAvailable (2.2.3.116): more changes than the window held.
    pub more_available: bool,
    /// The server's changes (Commands).
    pub commands: Vec<ServerCommand>,
    /// The answers to the client's changes (Responses, 2.2.3.154).
    pub responses: Vec<ClientCommandResponse>,
}

impl SyncCollectionResponse {
    pub fn new(
        sync_key: impl Into<String>,
        collection_id: impl Into<String>,
        status: SyncStatus,
    ) -> Self {
        SyncCollectionResponse {
            class: None,
            sync_key: sync_key.into(),
            collection_id: collection_id.into(),
            status,
            more_available: false,
            commands: Vec::new(),
            responses: Vec::new(),
        }
    }

    pub fn to_element(&self) -> Element {
        let mut e = Element::new(airsync::COLLECTION);
        e.push_opt(airsync::CLASS, self.class.as_deref())
            .push_text(airsync::SYNC_KEY, self.sync_key.clone())
            .push_text(airsync::COLLECTION_ID, self.collection_id.clone())
            .push_text(airsync::STATUS, self.status.to_string());
        if !self.responses.is_empty() {
            let mut r = Element::new(airsync::RESPONSES);
            for resp in &self.responses {
                r.push(resp.to_element());
            }
            e.push(r);
        }
        if self.more_available {
            e.push(Element::new(airsync::MORE_AVAILABLE));
        }
        if !self.commands.is_empty() {
            let mut c = Element::new(airsync::COMMANDS);
            for cmd in &self.commands {
                c.push(cmd.to_element());
            }
            e.push(c);
        }
        e
    }

    /// Streams the Collection element (same bytes as its `to_element`).
    pub fn write<W: Write>(&self, w: &mut Writer<W>) -> Result<(), EncodeError> {
        let commands_follow = !self.commands.is_empty();
        self.write_open(w, commands_follow)?;
        for c in &self.commands {
            c.write(w)?;
        }
        Self::write_close(w, commands_follow)
    }

    /// Writes the Collection up to its commands (those in `self.commands` are not written):
    /// a streamed response writes its commands one by one after this, then `write_close`.
    /// With `commands_follow`, the Commands element is left open for them.
    pub fn write_open<W: Write>(
        &self,
        w: &mut Writer<W>,
        commands_follow: bool,
    ) -> Result<(), EncodeError> {
        w.start(airsync::COLLECTION)?;
        if let Some(c) = &self.class {
            w.text_element(airsync::CLASS, c)?;
        }
        w.text_element(airsync::SYNC_KEY, &self.sync_key)?;
        w.text_element(airsync::COLLECTION_ID, &self.collection_id)?;
        w.text_element(airsync::STATUS, &self.status.to_string())?;
        if !self.responses.is_empty() {
            w.start(airsync::RESPONSES)?;
            for r in &self.responses {
                r.write(w)?;
            }
            w.end()?;
        }
        if self.more_available {
            w.empty(airsync::MORE_AVAILABLE)?;
        }
        if commands_follow {
            w.start(airsync::COMMANDS)?;
        }
        Ok(())
    }

    /// Closes what `write_open` opened.
    pub fn write_close<W: Write>(
        w: &mut Writer<W>,
        commands_follow: bool,
    ) -> Result<(), EncodeError> {
        if commands_follow {
            w.end()?;
        }
        w.end()
    }

    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        Ok(SyncCollectionResponse {
            class: e.optional_text(airsync::CLASS),
            sync_key: e.required_text(airsync::SYNC_KEY)?,
            collection_id: e.required_text(airsync::COLLECTION_ID)?,
            status: parse_value::<SyncStatus>(e.required(airsync::STATUS)?)?,
            more_available: e.child(airsync::MORE_AVAILABLE).is_some(),
            commands: match e.child(airsync::COMMANDS) {
                Some(c) => c
                    .elements()
                    .map(ServerCommand::parse)
                    .collect::<Result<_, _>>()?,
                None => Vec::new(),
            },
            responses: match e.child(airsync::RESPONSES) {
                Some(r) => r
                    .elements()
                    .map(ClientCommandResponse::parse)
                    .collect::<Result<_, _>>()?,
                None => Vec::new(),
            },
        })
    }
}

/// A change the server sends (MS-ASCMD 2.2.3.32 Commands in a response).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerCommand {
    /// Add (2.2.3.7.2): a new item.
    Add {
        server_id: String,
        application_data: Element,
    },
    /// Change (2.2.3.24): changed properties of an item the client has.
    Change {
        server_id: String,
        application_data: Element,
    },
    /// Delete (2.2.3.42.2): the item is gone.
    Delete { server_id: String },
    /// SoftDelete (2.2.3.172): the item left the filter window; the client drops it
    /// without treating it as deleted.
    SoftDelete { server_id: String },
}

impl ServerCommand {
    pub fn server_id(&self) -> &str {
        match self {
            ServerCommand::Add { server_id, .. }
            | ServerCommand::Change { server_id, .. }
            | ServerCommand::Delete { server_id }
            | ServerCommand::SoftDelete { server_id } => server_id,
        }
    }

    fn parts(&self) -> (Tag, &str, Option<&Element>) {
        match self {
            ServerCommand::Add {
                server_id,
                application_data,
            } => (airsync::ADD, server_id, Some(application_data)),
            ServerCommand::Change {
                server_id,
                application_data,
            } => (airsync::CHANGE, server_id, Some(application_data)),
            ServerCommand::Delete { server_id } => (airsync::DELETE, server_id, None),
            ServerCommand::SoftDelete { server_id } => (airsync::SOFT_DELETE, server_id, None),
        }
    }

    pub fn to_element(&self) -> Element {
        let (tag, server_id, data) = self.parts();
        let mut e = Element::new(tag).with_text(airsync::SERVER_ID, server_id);
        if let Some(d) = data {
            e.push(application_data(d));
        }
        e
    }

    pub fn write<W: Write>(&self, w: &mut Writer<W>) -> Result<(), EncodeError> {
        let (tag, server_id, data) = self.parts();
        w.start(tag)?;
        w.text_element(airsync::SERVER_ID, server_id)?;
        if let Some(d) = data {
            write_application_data(w, d)?;
        }
        w.end()
    }

    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        let server_id = e.required_text(airsync::SERVER_ID)?;
        let data = || -> Element {
            e.child(airsync::APPLICATION_DATA)
                .cloned()
                .unwrap_or_else(|| Element::new(airsync::APPLICATION_DATA))
        };
        match e.tag {
            t if t == airsync::ADD => Ok(ServerCommand::Add {
                server_id,
                application_data: data(),
            }),
            t if t == airsync::CHANGE => Ok(ServerCommand::Change {
                server_id,
                application_data: data(),
            }),
            t if t == airsync::DELETE => Ok(ServerCommand::Delete { server_id }),
            t if t == airsync::SOFT_DELETE => Ok(ServerCommand::SoftDelete { server_id }),
            _ => Err(ParseError::Invalid {
                element: e.tag,
                reason: "not a server command (Add, Change, Delete or SoftDelete)",
            }),
        }
    }
}

/// The server's answer to one client change (MS-ASCMD 2.2.3.154 Responses). The server
/// answers every Add and Fetch, and a Change or Delete only when it failed (or, 16.x, when
/// a Change added attachments).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientCommandResponse {
    Add {
        /// Class, when the client's Add carried one.
        class: Option<String>,
        client_id: String,
        /// The new item's id; absent when the add failed.
        server_id: Option<String>,
        status: SyncStatus,
        /// 16.x: properties the server assigned (e.g. a draft's ConversationId, the
        /// FileReferences of added attachments).
        application_data: Option<Element>,
    },
    Change {
        server_id: String,
        status: SyncStatus,
        /// 16.x: e.g. the FileReferences of attachments the Change added.
        application_data: Option<Element>,
    },
    Delete {
        server_id: String,
        status: SyncStatus,
    },
    Fetch {
        server_id: String,
        status: SyncStatus,
        /// The whole item on success.
        application_data: Option<Element>,
    },
}

impl ClientCommandResponse {
    pub fn status(&self) -> SyncStatus {
        match self {
            ClientCommandResponse::Add { status, .. }
            | ClientCommandResponse::Change { status, .. }
            | ClientCommandResponse::Delete { status, .. }
            | ClientCommandResponse::Fetch { status, .. } => *status,
        }
    }

    pub fn to_element(&self) -> Element {
        // Child order of the SyncResponse schema: Class, ClientId, ServerId, Status, then
        // ApplicationData.
        let mut e;
        match self {
            ClientCommandResponse::Add {
                class,
                client_id,
                server_id,
                status,
                application_data: data,
            } => {
                e = Element::new(airsync::ADD);
                e.push_opt(airsync::CLASS, class.as_deref())
                    .push_text(airsync::CLIENT_ID, client_id.clone())
                    .push_opt(airsync::SERVER_ID, server_id.as_deref())
                    .push_text(airsync::STATUS, status.to_string());
                if let Some(d) = data {
                    e.push(application_data(d));
                }
            }
            ClientCommandResponse::Change {
                server_id,
                status,
                application_data: data,
            } => {
                e = Element::new(airsync::CHANGE)
                    .with_text(airsync::SERVER_ID, server_id.clone())
                    .with_text(airsync::STATUS, status.to_string());
                if let Some(d) = data {
                    e.push(application_data(d));
                }
            }
            ClientCommandResponse::Delete { server_id, status } => {
                e = Element::new(airsync::DELETE)
                    .with_text(airsync::SERVER_ID, server_id.clone())
                    .with_text(airsync::STATUS, status.to_string());
            }
            ClientCommandResponse::Fetch {
                server_id,
                status,
                application_data: data,
            } => {
                e = Element::new(airsync::FETCH)
                    .with_text(airsync::SERVER_ID, server_id.clone())
                    .with_text(airsync::STATUS, status.to_string());
                if let Some(d) = data {
                    e.push(application_data(d));
                }
            }
        }
        e
    }

    pub fn write<W: Write>(&self, w: &mut Writer<W>) -> Result<(), EncodeError> {
        let data = match self {
            ClientCommandResponse::Add {
                class,
                client_id,
                server_id,
                status,
                application_data,
            } => {
                w.start(airsync::ADD)?;
                if let Some(c) = class {
                    w.text_element(airsync::CLASS, c)?;
                }
                w.text_element(airsync::CLIENT_ID, client_id)?;
                if let Some(s) = server_id {
                    w.text_element(airsync::SERVER_ID, s)?;
                }
                w.text_element(airsync::STATUS, &status.to_string())?;
                application_data.as_ref()
            }
            ClientCommandResponse::Change {
                server_id,
                status,
                application_data,
            } => {
                w.start(airsync::CHANGE)?;
                w.text_element(airsync::SERVER_ID, server_id)?;
                w.text_element(airsync::STATUS, &status.to_string())?;
                application_data.as_ref()
            }
            ClientCommandResponse::Delete { server_id, status } => {
                w.start(airsync::DELETE)?;
                w.text_element(airsync::SERVER_ID, server_id)?;
                w.text_element(airsync::STATUS, &status.to_string())?;
                None
            }
            ClientCommandResponse::Fetch {
                server_id,
                status,
                application_data,
            } => {
                w.start(airsync::FETCH)?;
                w.text_element(airsync::SERVER_ID, server_id)?;
                w.text_element(airsync::STATUS, &status.to_string())?;
                application_data.as_ref()
            }
        };
        if let Some(d) = data {
            write_application_data(w, d)?;
        }
        w.end()
    }

    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        let status = parse_value::<SyncStatus>(e.required(airsync::STATUS)?)?;
        let data = e.child(airsync::APPLICATION_DATA).cloned();
        match e.tag {
            t if t == airsync::ADD => Ok(ClientCommandResponse::Add {
                class: e.optional_text(airsync::CLASS),
                client_id: e.required_text(airsync::CLIENT_ID)?,
                server_id: e.optional_text(airsync::SERVER_ID),
                status,
                application_data: data,
            }),
            t if t == airsync::CHANGE => Ok(ClientCommandResponse::Change {
                server_id: e.required_text(airsync::SERVER_ID)?,
                status,
                application_data: data,
            }),
            t if t == airsync::DELETE => Ok(ClientCommandResponse::Delete {
                server_id: e.required_text(airsync::SERVER_ID)?,
                status,
            }),
            t if t == airsync::FETCH => Ok(ClientCommandResponse::Fetch {
                server_id: e.required_text(airsync::SERVER_ID)?,
                status,
                application_data: data,
            }),
            _ => Err(ParseError::Invalid {
                element: e.tag,
                reason: "not a response (Add, Change, Delete or Fetch)",
            }),
        }
    }
}

/// The item data as an ApplicationData element, whatever tag the caller built it with
/// (e.g. an `Email::to_application_data` tree, or properties built under another tag).
fn application_data(d: &Element) -> Element {
    if d.tag == airsync::APPLICATION_DATA {
        d.clone()
    } else {
        Element {
            tag: airsync::APPLICATION_DATA,
            children: d.children.clone(),
        }
    }
}

fn write_application_data<W: Write>(w: &mut Writer<W>, d: &Element) -> Result<(), EncodeError> {
    if d.tag == airsync::APPLICATION_DATA {
        w.element(d)
    } else {
        w.start(airsync::APPLICATION_DATA)?;
        for child in &d.children {
            match child {
                easd_wbxml::Node::Element(c) => w.element(c)?,
                easd_wbxml::Node::Text(t) => w.text(t)?,
                easd_wbxml::Node::Opaque(b) => w.opaque(b)?,
            }
        }
        w.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::items::airsyncbase::BodyType;
    use crate::status::CommonStatus;
    use easd_wbxml::tags::{email, rights_management as rm};

    /// An email collection with options for HTML and MIME, a body part preference and
    /// rights management (MS-ASCMD 2.2.3.125.6).
    fn options_request() -> Element {
        Element::new(airsync::SYNC).with(
            Element::new(airsync::COLLECTIONS).with(
                Element::new(airsync::COLLECTION)
                    .with_text(airsync::SYNC_KEY, "1474823612")
                    .with_text(airsync::COLLECTION_ID, "5")
                    .with_text(airsync::DELETES_AS_MOVES, "1")
                    .with(Element::new(airsync::GET_CHANGES))
                    .with_text(airsync::WINDOW_SIZE, "25")
                    .with(
                        Element::new(airsync::OPTIONS)
                            .with_text(airsync::FILTER_TYPE, "3")
                            .with_text(airsync::CLASS, "Email")
                            .with_text(airsync::MIME_SUPPORT, "1")
                            .with_text(airsync::MIME_TRUNCATION, "8")
                            .with(
                                Element::new(airsyncbase::BODY_PREFERENCE)
                                    .with_text(airsyncbase::TYPE, "2")
                                    .with_text(airsyncbase::TRUNCATION_SIZE, "51200")
                                    .with_text(airsyncbase::ALL_OR_NONE, "0")
                                    .with_text(airsyncbase::PREVIEW, "255"),
                            )
                            .with(
                                Element::new(airsyncbase::BODY_PREFERENCE)
                                    .with_text(airsyncbase::TYPE, "4"),
                            )
                            .with(
                                Element::new(airsyncbase::BODY_PART_PREFERENCE)
                                    .with_text(airsyncbase::TYPE, "2")
                                    .with_text(airsyncbase::TRUNCATION_SIZE, "1024"),
                            )
                            .with_text(rm::RIGHTS_MANAGEMENT_SUPPORT, "1"),
                    )
                    .with_text(airsync::CONVERSATION_MODE, "1"),
            ),
        )
    }

    #[test]
    fn parses_collection_options() {
        let r = SyncRequest::parse(&options_request()).unwrap();
        assert!(!r.is_empty());
        assert_eq!(r.collections.len(), 1);
        let c = &r.collections[0];
        assert_eq!(c.sync_key, "1474823612");
        assert_eq!(c.collection_id, "5");
        assert_eq!(c.deletes_as_moves, Some(true));
        assert_eq!(c.get_changes, Some(true));
        assert_eq!(c.window_size, Some(25));
        assert_eq!(c.conversation_mode, Some(true));
        assert!(!c.is_initial());
        let o = c.options_for(Some("Email")).unwrap();
        assert_eq!(o.filter(), Some(FilterType::OneWeek));
        assert_eq!(o.mime_support, Some(1));
        assert_eq!(o.mime_truncation, Some(8));
        assert_eq!(o.body_preferences.len(), 2);
        assert_eq!(
            o.body_preference(BodyType::Html).unwrap().truncation_size,
            Some(51200)
        );
        assert_eq!(o.body_part_preferences[0].truncation_size, Some(1024));
        assert_eq!(o.rights_management_support, Some(true));
        // Round trip through the client form.
        assert_eq!(SyncRequest::parse(&r.to_element()).unwrap(), r);
    }

    #[test]
    fn parses_client_commands() {
        let app = Element::new(airsync::APPLICATION_DATA).with_text(email::READ, "1");
        let root = Element::new(airsync::SYNC).with(
            Element::new(airsync::COLLECTIONS).with(
                Element::new(airsync::COLLECTION)
                    .with_text(airsync::SYNC_KEY, "7")
                    .with_text(airsync::COLLECTION_ID, "4")
                    .with(
                        Element::new(airsync::COMMANDS)
                            .with(
                                Element::new(airsync::ADD)
                                    .with_text(airsync::CLIENT_ID, "c-1")
                                    .with(app.clone())
                                    .with(Element::new(email2::SEND)),
                            )
                            .with(
                                Element::new(airsync::CHANGE)
                                    .with_text(airsync::SERVER_ID, "4:3")
                                    .with(app.clone()),
                            )
                            .with(
                                Element::new(airsync::DELETE).with_text(airsync::SERVER_ID, "4:4"),
                            )
                            .with(
                                Element::new(airsync::FETCH).with_text(airsync::SERVER_ID, "4:5"),
                            ),
                    ),
            ),
        );
        let r = SyncRequest::parse(&root).unwrap();
        let cmds = &r.collections[0].commands;
        assert_eq!(
            cmds[0],
            ClientCommand::Add {
                client_id: "c-1".into(),
                class: None,
                application_data: app.clone(),
                send: true
            }
        );
        assert_eq!(cmds[1].server_id(), Some("4:3"));
        assert!(matches!(&cmds[2], ClientCommand::Delete { server_id, .. } if server_id == "4:4"));
        assert!(matches!(&cmds[3], ClientCommand::Fetch { server_id } if server_id == "4:5"));
        assert_eq!(SyncRequest::parse(&r.to_element()).unwrap(), r);
    }

    #[test]
    fn empty_and_partial_requests() {
        // No body at all.
        let r = SyncRequest::parse_opt(None).unwrap();
        assert!(r.is_empty());
        assert!(r.needs_cached_collections());
        // <Sync/>.
        assert!(SyncRequest::parse(&Element::new(airsync::SYNC))
            .unwrap()
            .is_empty());
        // Wait with Partial and one collection (MS-ASCMD 2.2.3.131).
        let root = Element::new(airsync::SYNC)
            .with(
                Element::new(airsync::COLLECTIONS).with(
                    Element::new(airsync::COLLECTION)
                        .with_text(airsync::SYNC_KEY, "1474823615")
                        .with_text(airsync::COLLECTION_ID, "5"),
                ),
            )
            .with_text(airsync::WAIT, "10")
            .with_text(airsync::WINDOW_SIZE, "512")
            .with(Element::new(airsync::PARTIAL));
        let r = SyncRequest::parse(&root).unwrap();
        assert!(r.partial);
        assert!(!r.is_empty());
        assert!(r.needs_cached_collections());
        assert_eq!(r.wait, Some(10));
        assert_eq!(r.wait_seconds(), Some(600));
        assert_eq!(r.window_size, Some(512));
        // Only a HeartbeatInterval: not empty, but the collections come from the cache.
        let hb = Element::new(airsync::SYNC).with_text(airsync::HEARTBEAT_INTERVAL, "480");
        let r = SyncRequest::parse(&hb).unwrap();
        assert!(!r.is_empty());
        assert!(r.needs_cached_collections());
        assert_eq!(r.wait_seconds(), Some(480));
    }

    #[test]
    fn rejects_malformed_requests() {
        let both = Element::new(airsync::SYNC)
            .with_text(airsync::WAIT, "5")
            .with_text(airsync::HEARTBEAT_INTERVAL, "300");
        assert!(matches!(
            SyncRequest::parse(&both),
            Err(ParseError::Invalid { .. })
        ));
        let wrong_root = Element::new(airsync::COLLECTIONS);
        assert!(matches!(
            SyncRequest::parse(&wrong_root),
            Err(ParseError::UnexpectedRoot { .. })
        ));
        let no_key =
            Element::new(airsync::SYNC)
                .with(Element::new(airsync::COLLECTIONS).with(
                    Element::new(airsync::COLLECTION).with_text(airsync::COLLECTION_ID, "5"),
                ));
        assert!(matches!(
            SyncRequest::parse(&no_key),
            Err(ParseError::MissingElement { element, .. }) if element == airsync::SYNC_KEY
        ));
        let bad_filter = Element::new(airsync::SYNC).with(
            Element::new(airsync::COLLECTIONS).with(
                Element::new(airsync::COLLECTION)
                    .with_text(airsync::SYNC_KEY, "1")
                    .with_text(airsync::COLLECTION_ID, "5")
                    .with(Element::new(airsync::OPTIONS).with_text(airsync::FILTER_TYPE, "9")),
            ),
        );
        assert!(SyncRequest::parse(&bad_filter).is_err());
        let bad_command = Element::new(airsync::SYNC).with(
            Element::new(airsync::COLLECTIONS).with(
                Element::new(airsync::COLLECTION)
                    .with_text(airsync::SYNC_KEY, "1")
                    .with_text(airsync::COLLECTION_ID, "5")
                    .with(Element::new(airsync::COMMANDS).with(
                        Element::new(airsync::SOFT_DELETE).with_text(airsync::SERVER_ID, "5:1"),
                    )),
            ),
        );
        assert!(SyncRequest::parse(&bad_command).is_err());
        let add_without_data = Element::new(airsync::SYNC).with(
            Element::new(airsync::COLLECTIONS).with(
                Element::new(airsync::COLLECTION)
                    .with_text(airsync::SYNC_KEY, "1")
                    .with_text(airsync::COLLECTION_ID, "5")
                    .with(
                        Element::new(airsync::COMMANDS)
                            .with(Element::new(airsync::ADD).with_text(airsync::CLIENT_ID, "1")),
                    ),
            ),
        );
        assert!(SyncRequest::parse(&add_without_data).is_err());
    }

    fn full_response() -> SyncResponse {
        let app = Element::new(airsync::APPLICATION_DATA).with_text(email::READ, "1");
        let mut c = SyncCollectionResponse::new("1474823615", "5", SyncStatus::Success);
        c.more_available = true;
        c.commands = vec![
            ServerCommand::Delete {
                server_id: "5:9".into(),
            },
            ServerCommand::SoftDelete {
                server_id: "5:10".into(),
            },
            ServerCommand::Change {
                server_id: "5:11".into(),
                application_data: app.clone(),
            },
            ServerCommand::Add {
                server_id: "5:12".into(),
                application_data: app.clone(),
            },
        ];
        c.responses = vec![
            ClientCommandResponse::Change {
                server_id: "5:3".into(),
                status: SyncStatus::Conflict,
                application_data: None,
            },
            ClientCommandResponse::Add {
                class: None,
                client_id: "c-1001".into(),
                server_id: Some("2:17".into()),
                status: SyncStatus::Success,
                application_data: None,
            },
            ClientCommandResponse::Delete {
                server_id: "5:4".into(),
                status: SyncStatus::ObjectNotFound,
            },
            ClientCommandResponse::Fetch {
                server_id: "5:5".into(),
                status: SyncStatus::Success,
                application_data: Some(app),
            },
        ];
        SyncResponse {
            status: None,
            limit: None,
            collections: vec![
                c,
                SyncCollectionResponse::new("725113", "2", SyncStatus::InvalidSyncKey),
            ],
        }
    }

    #[test]
    fn response_element_order() {
        let e = full_response().to_element();
        let coll = e
            .child(airsync::COLLECTIONS)
            .unwrap()
            .child(airsync::COLLECTION)
            .unwrap();
        let tags: Vec<Tag> = coll.elements().map(|c| c.tag).collect();
        assert_eq!(
            tags,
            [
                airsync::SYNC_KEY,
                airsync::COLLECTION_ID,
                airsync::STATUS,
                airsync::RESPONSES,
                airsync::MORE_AVAILABLE,
                airsync::COMMANDS
            ]
        );
        let add = coll
            .child(airsync::RESPONSES)
            .unwrap()
            .child(airsync::ADD)
            .unwrap();
        let add_tags: Vec<Tag> = add.elements().map(|c| c.tag).collect();
        assert_eq!(
            add_tags,
            [airsync::CLIENT_ID, airsync::SERVER_ID, airsync::STATUS]
        );
        assert_eq!(coll.child_text(airsync::STATUS).unwrap(), "1");
    }

    #[test]
    fn response_round_trip_and_streaming_matches() {
        let r = full_response();
        let tree = r.to_element();
        assert_eq!(SyncResponse::parse(&tree).unwrap(), r);
        let mut w = Writer::new(Vec::new());
        r.write(&mut w).unwrap();
        assert_eq!(w.finish().unwrap(), easd_wbxml::encode(&tree));
    }

    #[test]
    fn top_level_status_and_limit() {
        // A HeartbeatInterval out of bounds gets Status 14 and the Limit (2.2.3.97).
        let r = SyncResponse {
            status: Some(SyncStatus::InvalidWaitOrHeartbeatInterval),
            limit: Some(3540),
            collections: vec![],
        };
        let e = r.to_element();
        let tags: Vec<Tag> = e.elements().map(|c| c.tag).collect();
        assert_eq!(tags, [airsync::STATUS, airsync::LIMIT]);
        assert_eq!(e.child_text(airsync::STATUS).unwrap(), "14");
        assert_eq!(SyncResponse::parse(&e).unwrap(), r);
        let s = SyncResponse::status(SyncStatus::IncompleteRequest).to_element();
        assert_eq!(s.child_text(airsync::STATUS).unwrap(), "13");
        assert!(SyncResponse::default().is_empty());
    }

    #[test]
    fn application_data_under_another_tag_is_retagged() {
        let props = Element::new(easd_wbxml::tags::search::PROPERTIES).with_text(email::READ, "0");
        let cmd = ServerCommand::Add {
            server_id: "5:1".into(),
            application_data: props,
        };
        let e = cmd.to_element();
        assert!(e.child(airsync::APPLICATION_DATA).is_some());
        let mut w = Writer::new(Vec::new());
        w.start(airsync::COMMANDS).unwrap();
        cmd.write(&mut w).unwrap();
        w.end().unwrap();
        assert_eq!(
            w.finish().unwrap(),
            easd_wbxml::encode(&Element::new(airsync::COMMANDS).with(e))
        );
    }

    #[test]
    fn status_codes() {
        for code in [1u16, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16] {
            assert_eq!(SyncStatus::from_code(code).unwrap().code(), code);
        }
        assert_eq!(
            SyncStatus::from_code(142),
            Some(SyncStatus::Common(CommonStatus::DeviceNotProvisioned))
        );
        assert_eq!(SyncStatus::from_code(2), None);
        assert_eq!(SyncStatus::Retry.to_string(), "16");
    }
}
