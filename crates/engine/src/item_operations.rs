//! ItemOperations (MS-ASCMD 2.2.1.10): Fetch of mailbox items and attachments,
//! EmptyFolderContents, and Move of a conversation (MS-ASCON 3.1.4.3); answered in the
//! request's order.
//!
//! Statuses (MS-ASCMD 2.2.3.177.8): 6 for an object that is not found (an item, a folder, a
//! conversation: MS-ASCON 2.2.2.10 names it so), 15 for an attachment or FileReference that
//! is not valid, 8 for a byte range outside the attachment, 9 for a store other than the
//! mailbox, 14 for an item that can't be converted. Another user's ServerId is not found
//! (the store is scoped by account, invariant 7).

use crate::content::email::{parse_file_reference, BodyOptions};
use crate::sync::folder_class;
use crate::{Engine, EngineError};
use easd_protocol::commands::item_operations::{
    ByteRange, EmptyFolderContents, EmptyFolderContentsResponse, Fetch, FetchOptions,
    FetchProperties, FetchResponse, FetchTarget, ItemOperation, MoveConversation,
    MoveConversationResponse, OperationResponse, STORE_MAILBOX,
};
use easd_protocol::items::airsyncbase::BodyType;
use easd_protocol::status::ItemOperationsStatus;
use easd_protocol::values::MimeSupport;
use easd_protocol::{CommonStatus, ProtocolVersion};
use easd_store::{folder_type, AccountId, Item, ItemClass, Partnership, Store, StoreError};
use easd_wbxml::{Element, Node};
use mail_parser::{MessageParser, MimeHeaders};
use std::collections::HashSet;

/// 6: "the object was not found" (named for document libraries in the status enum, used for
/// mailbox objects too: MS-ASCON 2.2.2.10).
const NOT_FOUND: ItemOperationsStatus = ItemOperationsStatus::DocumentLibraryNotFound;

/// What the operations changed, for waking the push hub after the store work.
#[derive(Default)]
struct Touched {
    folders: Vec<i64>,
    hierarchy: bool,
}

impl Engine {
    /// Runs the operations of one ItemOperations request, in order.
    pub async fn item_operations(
        &self,
        partnership: &Partnership,
        operations: Vec<ItemOperation>,
        version: ProtocolVersion,
    ) -> Result<Vec<OperationResponse>, EngineError> {
        let account = partnership.account;
        let pid = partnership.id;
        let default_zone = self.settings.time_zone.clone();
        let (responses, touched) = self
            .blocking(move |store| {
                let mut touched = Touched::default();
                let reader = Reader {
                    account,
                    pid,
                    version,
                    default_zone,
                };
                let mut out = Vec::with_capacity(operations.len());
                for op in operations {
                    out.push(match op {
                        ItemOperation::Fetch(f) => {
                            OperationResponse::Fetch(fetch(store, &reader, &f)?)
                        }
                        ItemOperation::EmptyFolderContents(e) => {
                            OperationResponse::EmptyFolderContents(empty_folder(
                                store,
                                account,
                                &e,
                                &mut touched,
                            )?)
                        }
                        ItemOperation::Move(m) => OperationResponse::Move(move_conversation(
                            store,
                            account,
                            &m,
                            version,
                            &mut touched,
                        )?),
                    });
                }
                Ok((out, touched))
            })
            .await?;
        if touched.hierarchy {
            self.hub.hierarchy_changed(account.0);
        }
        if !touched.folders.is_empty() {
            self.hub.changed(account.0, &touched.folders);
        }
        Ok(responses)
    }
}

/// Who reads fetched items, and how they are rendered for them.
struct Reader {
    account: AccountId,
    pid: easd_store::PartnershipId,
    version: ProtocolVersion,
    /// The server's `time_zone`, for a device whose own is not known.
    default_zone: jiff::tz::TimeZone,
}

fn fetch(store: &dyn Store, reader: &Reader, f: &Fetch) -> Result<FetchResponse, EngineError> {
    let account = reader.account;
    let answer = |status| FetchResponse {
        status,
        target: Some(f.target.clone()),
        class: None,
        properties: None,
    };
    // 9: only the mailbox is served here (no document libraries, 2.2.3.178.2).
    if !f.store.eq_ignore_ascii_case(STORE_MAILBOX) {
        return Ok(answer(ItemOperationsStatus::UnknownStore));
    }
    match &f.target {
        FetchTarget::Item {
            collection_id,
            server_id,
        } => fetch_item(
            store,
            reader,
            collection_id.as_deref(),
            server_id,
            &f.options,
            &f.target,
        ),
        FetchTarget::FileReference(reference) => {
            fetch_attachment(store, account, reference, f.options.range, &f.target)
        }
        // search:LongId names a Search result: the item's ServerId (engine::search).
        FetchTarget::LongId(id) => fetch_item(store, reader, None, id, &f.options, &f.target),
        // documentlibrary:LinkId in the mailbox store: the request makes no sense.
        FetchTarget::LinkId(_) => Ok(answer(ItemOperationsStatus::ProtocolError)),
    }
}

/// The item of `server_id`, when it is in `collection_id` (if the client named one).
fn find_item(
    store: &dyn Store,
    account: AccountId,
    collection_id: Option<&str>,
    server_id: &str,
) -> Result<Option<(Item, easd_store::Folder)>, EngineError> {
    let Some(item) = store.item_by_server_id(account, server_id)? else {
        return Ok(None);
    };
    let Some(folder) = store.folder(account, item.folder)? else {
        return Ok(None);
    };
    if collection_id.is_some_and(|c| c != folder.server_id) {
        return Ok(None);
    }
    Ok(Some((item, folder)))
}

/// Fetch of a mailbox item (2.2.3.67.1): the item with the body the client prefers, whole
/// unless its BodyPreference truncates it.
fn fetch_item(
    store: &dyn Store,
    reader: &Reader,
    collection_id: Option<&str>,
    server_id: &str,
    options: &FetchOptions,
    target: &FetchTarget,
) -> Result<FetchResponse, EngineError> {
    let account = reader.account;
    let answer = |status| FetchResponse {
        status,
        target: Some(target.clone()),
        class: None,
        properties: None,
    };
    let Some((item, folder)) = find_item(store, account, collection_id, server_id)? else {
        return Ok(answer(NOT_FOUND));
    };
    let Some(full) = store.items_full(account, &[item.id])?.into_iter().next() else {
        return Ok(answer(NOT_FOUND));
    };
    let prefs = fetch_preferences(options, &item);
    // Where an event's all-day and floating times are placed (`sync::device_zone`).
    let zone = if item.class == ItemClass::Calendar {
        crate::sync::device_zone(store, reader.pid, reader.default_zone.clone())?
    } else {
        reader.default_zone.clone()
    };
    let Some(mut data) = crate::sync::render_item(&full, &prefs, reader.version, &zone) else {
        return Ok(answer(ItemOperationsStatus::ConversionFailure));
    };
    if let Some(schema) = &options.schema {
        apply_schema(&mut data, schema);
    }
    Ok(FetchResponse {
        status: ItemOperationsStatus::Success,
        target: Some(target.clone()),
        class: Some(folder_class(folder.folder_type).to_owned()),
        properties: Some(FetchProperties {
            item: Some(data),
            ..Default::default()
        }),
    })
}

/// The body preferences with MIMESupport applied (MS-ASCMD 2.2.3.105.1): 0 never sends
/// MIME, 1 only for S/MIME messages, 2 (or absent) as the BodyPreference asks.
fn fetch_preferences(options: &FetchOptions, item: &Item) -> BodyOptions {
    let smime = item
        .fields
        .message_class
        .to_ascii_uppercase()
        .contains("SMIME");
    let mime_allowed = match options.mime_support {
        Some(MimeSupport::Never) => false,
        Some(MimeSupport::SmimeOnly) => smime,
        _ => true,
    };
    BodyOptions {
        body: options
            .body_preferences
            .iter()
            .filter(|p| mime_allowed || p.body_type != BodyType::Mime)
            .cloned()
            .collect(),
        body_part: options.body_part_preferences.clone(),
    }
}

/// Schema (2.2.3.158.1): only the properties it names are returned.
fn apply_schema(data: &mut Element, schema: &Element) {
    let wanted: HashSet<_> = schema.elements().map(|e| e.tag).collect();
    if wanted.is_empty() {
        return;
    }
    data.children.retain(|n| match n {
        Node::Element(e) => wanted.contains(&e.tag),
        _ => false,
    });
}

/// Fetch of an attachment by airsyncbase:FileReference (2.2.3.67.1, MS-ASAIRS 2.2.2.24.2):
/// the decoded bytes of the message's nth attachment, or the part Range names.
fn fetch_attachment(
    store: &dyn Store,
    account: AccountId,
    reference: &str,
    range: Option<ByteRange>,
    target: &FetchTarget,
) -> Result<FetchResponse, EngineError> {
    let answer = |status| FetchResponse {
        status,
        target: Some(target.clone()),
        class: None,
        properties: None,
    };
    let invalid = || Ok(answer(ItemOperationsStatus::InvalidAttachment));
    // Clients echo the reference as we wrote it; some URL-encode it first ("5%3a1%3a0").
    let decoded = percent_decode(reference);
    let Some((server_id, index)) = parse_file_reference(&decoded) else {
        return invalid();
    };
    let Some((item, _)) = find_item(store, account, None, server_id)? else {
        return invalid();
    };
    if item.class != ItemClass::Email {
        return invalid();
    }
    let content = match store.item_content(account, item.id) {
        Ok(c) => c,
        Err(StoreError::NotFound(_)) => return invalid(),
        Err(e) => return Err(e.into()),
    };
    let Some(message) = MessageParser::default().parse(&content) else {
        return invalid();
    };
    let Some(part) = message.attachments().nth(index) else {
        return invalid();
    };
    let bytes = part.contents();
    let total = bytes.len() as u64;
    let content_type = part.content_type().map(|ct| match ct.subtype() {
        Some(sub) => format!("{}/{}", ct.ctype(), sub),
        None => ct.ctype().to_owned(),
    });
    let (data, range) = match range {
        None => (bytes.to_vec(), None),
        // 8: the range starts past the end (2.2.3.143.2: the server gives what it has of
        // a range that runs past the end).
        Some(r) if r.start >= total => return Ok(answer(ItemOperationsStatus::InvalidByteRange)),
        Some(r) => {
            let end = r.end.min(total - 1);
            let slice = &bytes[r.start as usize..=end as usize];
            (
                slice.to_vec(),
                Some(ByteRange {
                    start: r.start,
                    end,
                }),
            )
        }
    };
    Ok(FetchResponse {
        status: ItemOperationsStatus::Success,
        target: Some(target.clone()),
        class: None,
        properties: Some(FetchProperties {
            content_type,
            range,
            total: Some(total),
            data: Some(data),
            ..Default::default()
        }),
    })
}

/// Decodes %XX escapes; anything malformed is kept as it is.
fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// EmptyFolderContents (2.2.3.58): deletes every item of the folder (tombstones, so every
/// device's next Sync gets the Deletes), and its subfolders with DeleteSubFolders.
fn empty_folder(
    store: &dyn Store,
    account: AccountId,
    e: &EmptyFolderContents,
    touched: &mut Touched,
) -> Result<EmptyFolderContentsResponse, EngineError> {
    let answer = |status| EmptyFolderContentsResponse {
        status,
        collection_id: Some(e.collection_id.clone()),
    };
    let Some(folder) = store.folder_by_server_id(account, &e.collection_id)? else {
        return Ok(answer(NOT_FOUND));
    };
    match store.empty_folder(account, folder.id, e.delete_sub_folders) {
        Ok(_) => {
            touched.folders.push(folder.id.0);
            touched.hierarchy |= e.delete_sub_folders;
            Ok(answer(ItemOperationsStatus::Success))
        }
        Err(StoreError::NotFound(_)) => Ok(answer(NOT_FOUND)),
        Err(err @ (StoreError::SpecialFolder(_) | StoreError::Invalid(_))) => {
            tracing::info!(error = %err, "EmptyFolderContents refused");
            Ok(answer(ItemOperationsStatus::Common(
                CommonStatus::AccessDenied,
            )))
        }
        Err(err) => Err(err.into()),
    }
}

/// Move of a conversation (MS-ASCON 3.1.4.3, MS-ASCMD 2.2.3.117.1): every message of the
/// conversation, in every mail folder but Sent Items (MS-ASCON 2.2.2.8), goes to DstFldId.
/// The moves reach the devices as Deletes and Adds through Sync.
fn move_conversation(
    store: &dyn Store,
    account: AccountId,
    m: &MoveConversation,
    version: ProtocolVersion,
    touched: &mut Touched,
) -> Result<MoveConversationResponse, EngineError> {
    let answer = |status| MoveConversationResponse {
        status,
        conversation_id: Some(m.conversation_id.clone()),
    };
    // Move exists from 14.0 on (2.2.3.117.1).
    if version < ProtocolVersion::V14_0 {
        return Ok(answer(ItemOperationsStatus::ProtocolError));
    }
    // 155: MoveAlways must be present (2.2.3.118).
    if !m.move_always {
        return Ok(answer(ItemOperationsStatus::Common(
            CommonStatus::MoveCommandDisallowedForNonPersistentMoveAction,
        )));
    }
    let Some(dst) = store.folder_by_server_id(account, &m.dst_fld_id)? else {
        return Ok(answer(NOT_FOUND));
    };
    // MS-ASCON 2.2.2.10: 105 for the Recipient Information Cache, 156 for a folder that
    // does not hold mail.
    if dst.folder_type == folder_type::RECIPIENT_INFO_CACHE {
        return Ok(answer(ItemOperationsStatus::Common(
            CommonStatus::InvalidCombinationOfIDs,
        )));
    }
    if folder_class(dst.folder_type) != "Email" {
        return Ok(answer(ItemOperationsStatus::Common(
            CommonStatus::MoveCommandInvalidDestinationFolder,
        )));
    }
    let mut found = false;
    for folder in store.folders(account)? {
        let mail = folder_class(folder.folder_type) == "Email"
            && folder.folder_type != folder_type::RECIPIENT_INFO_CACHE
            && folder.folder_type != folder_type::SENT_ITEMS;
        if !mail {
            continue;
        }
        let listing = store.list_folder_items(account, folder.id)?;
        let mut moved_any = false;
        for summary in &listing.items {
            let Some(item) = store.item(account, summary.id)? else {
                continue;
            };
            if item.fields.conversation_id.as_deref() != Some(m.conversation_id.as_slice()) {
                continue;
            }
            found = true;
            if folder.id == dst.id {
                continue;
            }
            match store.move_item(account, item.id, dst.id) {
                Ok(_) => moved_any = true,
                // Deleted or moved meanwhile: nothing left to move.
                Err(StoreError::NotFound(_) | StoreError::Invalid(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if moved_any {
            touched.folders.push(folder.id.0);
            touched.folders.push(dst.id.0);
        }
    }
    Ok(answer(if found {
        ItemOperationsStatus::Success
    } else {
        NOT_FOUND
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("5%3a21%3A0"), "5:21:0");
        assert_eq!(percent_decode("5:21:0"), "5:21:0");
        assert_eq!(percent_decode("50%"), "50%");
        assert_eq!(percent_decode("a%zzb"), "a%zzb");
        assert_eq!(percent_decode("%a\u{e9}"), "%a\u{e9}");
    }
}
