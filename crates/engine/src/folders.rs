//! The folder hierarchy and FolderSync (MS-ASCMD 2.2.1.5) with its own sync key.
//!
//! The sync state of the "folders" collection is the set of folders the device has, with the
//! hierarchy modseq it saw of each. Changes are the difference to the store's folders now,
//! so a client that resends its previous key gets the same answer again (invariant 2).

use crate::{Engine, EngineError};
use easd_store::{Folder, Partnership, PartnershipId, Store};
use std::collections::BTreeMap;

/// The sync-state collection name of the hierarchy.
pub const HIERARCHY: &str = "folders";

/// What the device has of the hierarchy: folder ServerId → modseq it last saw.
type HierarchyState = BTreeMap<String, i64>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderChanges {
    pub sync_key: String,
    pub adds: Vec<Folder>,
    pub updates: Vec<Folder>,
    pub deletes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FolderSyncOutcome {
    Changes(FolderChanges),
    /// Status 9: the key is unknown; the client must start again from 0.
    InvalidSyncKey,
}

/// Parses a sync key as we hand them out ("0" starts over).
pub fn parse_sync_key(key: &str) -> Option<i64> {
    key.trim().parse::<i64>().ok().filter(|k| *k >= 0)
}

pub(crate) fn load_state<T: serde::de::DeserializeOwned>(
    store: &dyn Store,
    partnership: PartnershipId,
    collection: &str,
    key: i64,
) -> Result<Option<T>, EngineError> {
    Ok(store
        .sync_state(partnership, collection, key)?
        .and_then(|blob| serde_json::from_slice(&blob).ok()))
}

pub(crate) fn save_state<T: serde::Serialize>(
    store: &dyn Store,
    partnership: PartnershipId,
    collection: &str,
    key: i64,
    state: &T,
) -> Result<(), EngineError> {
    let blob = serde_json::to_vec(state).map_err(|e| EngineError::Task(e.to_string()))?;
    store.put_sync_state(partnership, collection, key, &blob)?;
    Ok(())
}

impl Engine {
    pub async fn folder_sync(
        &self,
        partnership: &Partnership,
        client_key: &str,
    ) -> Result<FolderSyncOutcome, EngineError> {
        let pid = partnership.id;
        let account = partnership.account;
        let client_key = client_key.to_owned();
        self.blocking(move |store| {
            let Some(key) = parse_sync_key(&client_key) else {
                return Ok(FolderSyncOutcome::InvalidSyncKey);
            };
            let known: HierarchyState = if key == 0 {
                // A device starting over forgets every collection's state too.
                store.delete_sync_states(pid, None)?;
                HierarchyState::new()
            } else {
                match load_state(store, pid, HIERARCHY, key)? {
                    Some(s) => s,
                    None => {
                        tracing::info!(partnership = pid.0, key, "FolderSync key unknown: client must resync");
                        return Ok(FolderSyncOutcome::InvalidSyncKey);
                    }
                }
            };
            let folders = store.folders(account)?;
            let mut changes = FolderChanges {
                sync_key: String::new(),
                adds: Vec::new(),
                updates: Vec::new(),
                deletes: Vec::new(),
            };
            let mut next = HierarchyState::new();
            for f in &folders {
                match known.get(&f.server_id) {
                    None => changes.adds.push(f.clone()),
                    Some(seen) if *seen != f.modseq.0 => changes.updates.push(f.clone()),
                    Some(_) => {}
                }
                next.insert(f.server_id.clone(), f.modseq.0);
            }
            for id in known.keys() {
                if !next.contains_key(id) {
                    changes.deletes.push(id.clone());
                }
            }
            // Parents before children, so a client can place each folder as it reads it.
            changes.adds.sort_by_key(|f| depth(&folders, f));
            let unchanged = key > 0 && changes.adds.is_empty() && changes.updates.is_empty() && changes.deletes.is_empty();
            let new_key = if unchanged { key } else { key + 1 };
            if !unchanged {
                save_state(store, pid, HIERARCHY, new_key, &next)?;
            }
            changes.sync_key = new_key.to_string();
            Ok(FolderSyncOutcome::Changes(changes))
        })
        .await
    }

    /// The hierarchy modseq the device last synced, to tell Ping about hierarchy changes.
    pub async fn hierarchy_is_current(&self, partnership: &Partnership) -> Result<bool, EngineError> {
        let pid = partnership.id;
        let account = partnership.account;
        self.blocking(move |store| {
            let Some((_, blob)) = store.latest_sync_state(pid, HIERARCHY)? else {
                return Ok(false);
            };
            let known: HierarchyState = serde_json::from_slice(&blob).unwrap_or_default();
            let folders = store.folders(account)?;
            Ok(folders.len() == known.len()
                && folders.iter().all(|f| known.get(&f.server_id) == Some(&f.modseq.0)))
        })
        .await
    }
}

fn depth(folders: &[Folder], folder: &Folder) -> usize {
    let mut d = 0;
    let mut parent = folder.parent_server_id.as_str();
    while d < 64 {
        match folders.iter().find(|f| f.server_id == parent) {
            Some(p) => {
                d += 1;
                parent = p.parent_server_id.as_str();
            }
            None => break,
        }
    }
    d
}
