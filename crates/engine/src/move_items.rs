//! MoveItems (MS-ASCMD 2.2.1.12): moves items between folders of the account.
//!
//! The device that moves an item knows the result already (the response carries the new
//! ServerId, DstMsgId), so its own sync states are rewritten in place: the old ServerId
//! leaves the newest state of the source collection and the new one joins the newest state
//! of the destination collection, under the same sync keys the device holds. Its next Sync
//! of either folder then reports nothing for its own move, while other devices see a Delete
//! in the source and an Add in the destination (the store leaves a tombstone in the source).

use crate::sync::{folder_class, CollectionState};
use crate::{Engine, EngineError};
use easd_protocol::commands::move_items::{Move, MoveResponse};
use easd_protocol::status::MoveItemsStatus;
use easd_store::{AccountId, Folder, Item, Modseq, PartnershipId, Store, StoreError};

/// What the item store did for one Move, for the device's states and the push hub.
struct Moved {
    old_server_id: String,
    item: Item,
    src: Folder,
    dst: Folder,
}

impl Engine {
    /// Runs the Moves of one MoveItems request, in order (one Response per Move).
    pub async fn move_items(
        &self,
        partnership: &easd_store::Partnership,
        moves: Vec<Move>,
    ) -> Result<Vec<MoveResponse>, EngineError> {
        let pid = partnership.id;
        let account = partnership.account;
        let (responses, touched) = self
            .blocking(move |store| {
                let mut responses = Vec::with_capacity(moves.len());
                let mut touched = Vec::new();
                for m in moves {
                    let (status, dst_msg_id) = match move_one(store, account, &m)? {
                        Ok(moved) => {
                            forget_own_move(store, account, pid, &moved)?;
                            touched.push(moved.src.id.0);
                            touched.push(moved.dst.id.0);
                            (MoveItemsStatus::Success, Some(moved.item.server_id))
                        }
                        Err(status) => (status, None),
                    };
                    responses.push(MoveResponse {
                        src_msg_id: m.src_msg_id,
                        status,
                        dst_msg_id,
                    });
                }
                Ok((responses, touched))
            })
            .await?;
        if !touched.is_empty() {
            // Other devices' Pings look again; this device's states already match.
            self.hub.changed(account.0, &touched);
        }
        Ok(responses)
    }
}

/// One Move, with the statuses of MS-ASCMD 2.2.3.177.10.
fn move_one(
    store: &dyn Store,
    account: AccountId,
    m: &Move,
) -> Result<Result<Moved, MoveItemsStatus>, EngineError> {
    // 1: the source collection is unknown (e.g. deleted).
    let Some(src) = store.folder_by_server_id(account, &m.src_fld_id)? else {
        return Ok(Err(MoveItemsStatus::InvalidSourceId));
    };
    // 2: the destination collection is unknown.
    let Some(dst) = store.folder_by_server_id(account, &m.dst_fld_id)? else {
        return Ok(Err(MoveItemsStatus::InvalidDestinationId));
    };
    // 4: source and destination are the same.
    if src.id == dst.id {
        return Ok(Err(MoveItemsStatus::SameSourceAndDestination));
    }
    // 1: the item is not in the source folder (another user's item is "not found" too:
    // the store is scoped by account, invariant 7), e.g. it was moved out before.
    let item = match store.item_by_server_id(account, &m.src_msg_id)? {
        Some(item) if item.folder == src.id => item,
        _ => return Ok(Err(MoveItemsStatus::InvalidSourceId)),
    };
    // Items keep their native format: a message can't become a contact. The destination
    // is not a valid one for this item (2).
    if folder_class(src.folder_type) != folder_class(dst.folder_type) {
        return Ok(Err(MoveItemsStatus::InvalidDestinationId));
    }
    match store.move_item(account, item.id, dst.id) {
        Ok(moved) => Ok(Ok(Moved {
            old_server_id: item.server_id,
            item: moved,
            src,
            dst,
        })),
        // Gone or moved between the lookup and the move.
        Err(StoreError::NotFound(_)) => Ok(Err(MoveItemsStatus::InvalidSourceId)),
        Err(StoreError::Invalid(_)) => Ok(Err(MoveItemsStatus::SameSourceAndDestination)),
        Err(e) if e.is_busy() => {
            // 7: the item is locked (another writer held the database too long).
            tracing::warn!(error = %e, "MoveItems: store busy");
            Ok(Err(MoveItemsStatus::Locked))
        }
        Err(e) => Err(e.into()),
    }
}

/// Rewrites the device's newest states of both collections in place (same keys), so its
/// next Sync does not echo its own move.
fn forget_own_move(
    store: &dyn Store,
    account: AccountId,
    pid: PartnershipId,
    moved: &Moved,
) -> Result<(), EngineError> {
    let new_modseq = moved.item.modseq;
    let old_id = moved.old_server_id.as_str();
    update_latest_state(store, pid, &moved.src.server_id, |state| {
        let known = state.known.remove(old_id).is_some();
        // The Ping check compares the folder's modseq with the state's snapshot: when the
        // move is the only change since then, the device has seen everything.
        if known
            && only_own_change(
                store,
                account,
                &moved.src,
                state.snapshot,
                new_modseq,
                |c| c.changed.is_empty() && c.deleted.len() == 1 && c.deleted[0] == old_id,
            )?
        {
            state.snapshot = state.snapshot.max(new_modseq.0);
        }
        Ok(known)
    })?;
    let new_id = moved.item.server_id.as_str();
    update_latest_state(store, pid, &moved.dst.server_id, |state| {
        state.known.insert(new_id.to_owned(), new_modseq.0);
        if only_own_change(
            store,
            account,
            &moved.dst,
            state.snapshot,
            new_modseq,
            |c| c.deleted.is_empty() && c.changed.len() == 1 && c.changed[0].server_id == new_id,
        )? {
            state.snapshot = state.snapshot.max(new_modseq.0);
        }
        Ok(true)
    })?;
    Ok(())
}

/// True when the folder's changes since `snapshot` are exactly this move (checked by
/// `is_own`) and end at its modseq.
fn only_own_change(
    store: &dyn Store,
    account: AccountId,
    folder: &Folder,
    snapshot: i64,
    modseq: Modseq,
    is_own: impl Fn(&easd_store::ItemChanges) -> bool,
) -> Result<bool, EngineError> {
    let changes = store.changed_since(account, folder.id, Modseq(snapshot))?;
    Ok(!changes.truncated && changes.modseq == modseq && is_own(&changes))
}

/// Loads the newest state of a collection, lets `f` change it, and stores it again under
/// the same key when `f` says it changed. No state (never synced) → nothing to do.
fn update_latest_state(
    store: &dyn Store,
    pid: PartnershipId,
    collection: &str,
    f: impl FnOnce(&mut CollectionState) -> Result<bool, EngineError>,
) -> Result<(), EngineError> {
    let Some((key, blob)) = store.latest_sync_state(pid, collection)? else {
        return Ok(());
    };
    // A state that does not parse is left alone: the Sync that reads it decides.
    let Ok(mut state) = serde_json::from_slice::<CollectionState>(&blob) else {
        return Ok(());
    };
    if f(&mut state)? {
        crate::folders::save_state(store, pid, collection, key, &state)?;
    }
    Ok(())
}
