//! The folder hierarchy and FolderSync (MS-ASCMD 2.2.1.5) with its own sync key.
//!
//! The sync state of the "folders" collection is the set of folders the device has, with the
//! hierarchy modseq it saw of each. Changes are the difference to the store's folders now,
//! so a client that resends its previous key gets the same answer again (invariant 2).

use crate::{Engine, EngineError};
use easd_protocol::commands::folder_sync::FolderType;
use easd_protocol::status::{FolderCreateStatus, FolderDeleteStatus, FolderUpdateStatus};
use easd_store::{Folder, Partnership, PartnershipId, Store, StoreError};
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
                        tracing::info!(
                            partnership = pid.0,
                            key,
                            "FolderSync key unknown: client must resync"
                        );
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
            let unchanged = key > 0
                && changes.adds.is_empty()
                && changes.updates.is_empty()
                && changes.deletes.is_empty();
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
    pub async fn hierarchy_is_current(
        &self,
        partnership: &Partnership,
    ) -> Result<bool, EngineError> {
        let pid = partnership.id;
        let account = partnership.account;
        self.blocking(move |store| {
            let Some((_, blob)) = store.latest_sync_state(pid, HIERARCHY)? else {
                return Ok(false);
            };
            let known: HierarchyState = serde_json::from_slice(&blob).unwrap_or_default();
            let folders = store.folders(account)?;
            Ok(folders.len() == known.len()
                && folders
                    .iter()
                    .all(|f| known.get(&f.server_id) == Some(&f.modseq.0)))
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

// ----- FolderCreate, FolderUpdate, FolderDelete (MS-ASCMD 2.2.1.3, 2.2.1.6, 2.2.1.4) -----
//
// These commands carry the FolderSync SyncKey. The key must name a hierarchy state of the
// device; the answer is a new key whose state is the old one plus the device's own change,
// so that the next FolderSync does not echo that change back (while changes made
// elsewhere in between are still reported).

/// A folder the device created (FolderCreate Status 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderCreated {
    pub sync_key: String,
    pub server_id: String,
}

/// The answer to FolderCreate: the new folder, or the Status of MS-ASCMD 2.2.3.177.3.
pub type FolderCreateOutcome = Result<FolderCreated, FolderCreateStatus>;
/// The answer to FolderUpdate: the new SyncKey, or the Status of MS-ASCMD 2.2.3.177.6.
pub type FolderUpdateOutcome = Result<String, FolderUpdateStatus>;
/// The answer to FolderDelete: the new SyncKey, or the Status of MS-ASCMD 2.2.3.177.4.
pub type FolderDeleteOutcome = Result<String, FolderDeleteStatus>;

/// The device's hierarchy state behind `client_key`, or None (Status 9: "synchronization
/// key mismatch or invalid synchronization key"). Key "0" names no state: a device must
/// FolderSync before it changes the hierarchy.
fn hierarchy_state(
    store: &dyn Store,
    partnership: PartnershipId,
    client_key: &str,
) -> Result<Option<(i64, HierarchyState)>, EngineError> {
    let Some(key) = parse_sync_key(client_key).filter(|k| *k > 0) else {
        return Ok(None);
    };
    let state: Option<HierarchyState> = load_state(store, partnership, HIERARCHY, key)?;
    if state.is_none() {
        tracing::info!(
            partnership = partnership.0,
            key,
            "hierarchy key unknown to a folder command"
        );
    }
    Ok(state.map(|s| (key, s)))
}

/// The state behind `key + 1` when it is the newest one: the answer we gave to this very
/// request if the client resends it because our response was lost (invariant 2).
fn answered_state(
    store: &dyn Store,
    partnership: PartnershipId,
    key: i64,
) -> Result<Option<HierarchyState>, EngineError> {
    match store.latest_sync_state(partnership, HIERARCHY)? {
        Some((latest, blob)) if latest == key + 1 => Ok(serde_json::from_slice(&blob).ok()),
        _ => Ok(None),
    }
}

impl Engine {
    /// FolderCreate (MS-ASCMD 2.2.1.3): creates `display_name` under `parent_id` ("0" for
    /// the root) with a user-created type (MS-ASCMD 2.2.3.186.2).
    pub async fn folder_create(
        &self,
        partnership: &Partnership,
        sync_key: &str,
        parent_id: &str,
        display_name: &str,
        folder_type: FolderType,
    ) -> Result<FolderCreateOutcome, EngineError> {
        let pid = partnership.id;
        let account = partnership.account;
        let (sync_key, parent_id, display_name) = (
            sync_key.to_owned(),
            parent_id.to_owned(),
            display_name.to_owned(),
        );
        let outcome = self
            .blocking(move |store| {
                let Some((key, mut state)) = hierarchy_state(store, pid, &sync_key)? else {
                    return Ok(Err(FolderCreateStatus::InvalidSyncKey));
                };
                // MS-ASCMD 2.2.3.186.2: types 2-11 and 19 are reserved for default folders.
                if !folder_type.is_user_created() {
                    return Ok(Err(FolderCreateStatus::MalformedRequest));
                }
                if parent_id != easd_store::ROOT_SERVER_ID {
                    match store.folder_by_server_id(account, &parent_id)? {
                        None => return Ok(Err(FolderCreateStatus::ParentNotFound)),
                        // Status 3: the parent is the Recipient information folder.
                        Some(p)
                            if p.folder_type == easd_store::folder_type::RECIPIENT_INFO_CACHE =>
                        {
                            return Ok(Err(FolderCreateStatus::SpecialFolder))
                        }
                        Some(_) => {}
                    }
                }
                let folder = match store.create_folder(
                    account,
                    &parent_id,
                    &display_name,
                    i32::from(folder_type.code()),
                ) {
                    Ok(f) => f,
                    Err(StoreError::AlreadyExists(_)) => {
                        return Ok(resent_create(
                            store,
                            pid,
                            account,
                            key,
                            &state,
                            &parent_id,
                            &display_name,
                        )?
                        .ok_or(FolderCreateStatus::FolderExists));
                    }
                    Err(StoreError::NotFound(_)) => {
                        return Ok(Err(FolderCreateStatus::ParentNotFound))
                    }
                    Err(StoreError::Invalid(_)) => {
                        return Ok(Err(FolderCreateStatus::MalformedRequest))
                    }
                    Err(StoreError::SpecialFolder(_)) => {
                        return Ok(Err(FolderCreateStatus::SpecialFolder))
                    }
                    Err(e) => return Err(e.into()),
                };
                state.insert(folder.server_id.clone(), folder.modseq.0);
                save_state(store, pid, HIERARCHY, key + 1, &state)?;
                tracing::info!(
                    partnership = pid.0,
                    folder = %folder.server_id,
                    parent = %folder.parent_server_id,
                    "FolderCreate"
                );
                Ok(Ok(FolderCreated {
                    sync_key: (key + 1).to_string(),
                    server_id: folder.server_id,
                }))
            })
            .await?;
        if outcome.is_ok() {
            self.hub.hierarchy_changed(account.0);
        }
        Ok(outcome)
    }

    /// FolderUpdate (MS-ASCMD 2.2.1.6): renames the folder `server_id` and/or moves it under
    /// `parent_id`.
    pub async fn folder_update(
        &self,
        partnership: &Partnership,
        sync_key: &str,
        server_id: &str,
        parent_id: &str,
        display_name: &str,
    ) -> Result<FolderUpdateOutcome, EngineError> {
        let pid = partnership.id;
        let account = partnership.account;
        let (sync_key, server_id, parent_id, display_name) = (
            sync_key.to_owned(),
            server_id.to_owned(),
            parent_id.to_owned(),
            display_name.to_owned(),
        );
        let outcome = self
            .blocking(move |store| {
                let Some((key, mut state)) = hierarchy_state(store, pid, &sync_key)? else {
                    return Ok(Err(FolderUpdateStatus::InvalidSyncKey));
                };
                let Some(folder) = store.folder_by_server_id(account, &server_id)? else {
                    return Ok(Err(FolderUpdateStatus::FolderNotFound));
                };
                // MS-ASCMD 2.2.3.177.6: Status 3 is for the Recipient information folder;
                // the other special folders (Inbox, Drafts, ...) answer Status 2.
                if folder.folder_type == easd_store::folder_type::RECIPIENT_INFO_CACHE {
                    return Ok(Err(FolderUpdateStatus::SpecialFolder));
                }
                if parent_id != easd_store::ROOT_SERVER_ID
                    && store.folder_by_server_id(account, &parent_id)?.is_none()
                {
                    return Ok(Err(FolderUpdateStatus::ParentNotFound));
                }
                let updated =
                    match store.update_folder(account, folder.id, &parent_id, &display_name) {
                        Ok(f) => f,
                        Err(StoreError::SpecialFolder(_) | StoreError::AlreadyExists(_)) => {
                            return Ok(Err(FolderUpdateStatus::FolderExists))
                        }
                        Err(StoreError::NotFound("parent folder")) => {
                            return Ok(Err(FolderUpdateStatus::ParentNotFound))
                        }
                        Err(StoreError::NotFound(_)) => {
                            return Ok(Err(FolderUpdateStatus::FolderNotFound))
                        }
                        Err(StoreError::Invalid(_)) => {
                            return Ok(Err(FolderUpdateStatus::MalformedRequest))
                        }
                        Err(e) => return Err(e.into()),
                    };
                state.insert(updated.server_id.clone(), updated.modseq.0);
                save_state(store, pid, HIERARCHY, key + 1, &state)?;
                let changed = updated.modseq != folder.modseq;
                if changed {
                    tracing::info!(
                        partnership = pid.0,
                        folder = %updated.server_id,
                        parent = %updated.parent_server_id,
                        "FolderUpdate"
                    );
                }
                Ok(Ok(((key + 1).to_string(), changed)))
            })
            .await?;
        Ok(outcome.map(|(sync_key, changed)| {
            if changed {
                self.hub.hierarchy_changed(account.0);
            }
            sync_key
        }))
    }

    /// FolderDelete (MS-ASCMD 2.2.1.4): deletes the folder `server_id`, its subfolders and
    /// everything in them.
    pub async fn folder_delete(
        &self,
        partnership: &Partnership,
        sync_key: &str,
        server_id: &str,
    ) -> Result<FolderDeleteOutcome, EngineError> {
        let pid = partnership.id;
        let account = partnership.account;
        let (sync_key, server_id) = (sync_key.to_owned(), server_id.to_owned());
        let outcome = self
            .blocking(move |store| {
                let Some((key, mut state)) = hierarchy_state(store, pid, &sync_key)? else {
                    return Ok(Err(FolderDeleteStatus::InvalidSyncKey));
                };
                let Some(folder) = store.folder_by_server_id(account, &server_id)? else {
                    // Our answer to this very request was lost: the folder went with it.
                    if state.contains_key(&server_id) {
                        if let Some(answered) = answered_state(store, pid, key)? {
                            if !answered.contains_key(&server_id) {
                                return Ok(Ok((key + 1).to_string()));
                            }
                        }
                    }
                    return Ok(Err(FolderDeleteStatus::FolderNotFound));
                };
                let deleted = match store.delete_folder(account, folder.id) {
                    Ok(d) => d,
                    // MS-ASCMD 2.2.3.177.4 Status 3: a special system folder (Inbox, Drafts, ...).
                    Err(StoreError::SpecialFolder(_)) => return Ok(Err(FolderDeleteStatus::SpecialFolder)),
                    Err(StoreError::NotFound(_)) => return Ok(Err(FolderDeleteStatus::FolderNotFound)),
                    Err(e) => return Err(e.into()),
                };
                for id in &deleted {
                    state.remove(id);
                }
                save_state(store, pid, HIERARCHY, key + 1, &state)?;
                tracing::info!(partnership = pid.0, folder = %server_id, deleted = deleted.len(), "FolderDelete");
                Ok(Ok((key + 1).to_string()))
            })
            .await?;
        if outcome.is_ok() {
            self.hub.hierarchy_changed(account.0);
        }
        Ok(outcome)
    }
}

/// A FolderCreate whose folder exists already: when the folder is the one our (lost)
/// answer to this same request created, answer it again instead of Status 2.
fn resent_create(
    store: &dyn Store,
    partnership: PartnershipId,
    account: easd_store::AccountId,
    key: i64,
    state: &HierarchyState,
    parent_id: &str,
    display_name: &str,
) -> Result<Option<FolderCreated>, EngineError> {
    let Some(answered) = answered_state(store, partnership, key)? else {
        return Ok(None);
    };
    let existing = store.folders(account)?.into_iter().find(|f| {
        f.parent_server_id == parent_id && f.display_name.eq_ignore_ascii_case(display_name)
    });
    Ok(existing
        .filter(|f| answered.contains_key(&f.server_id) && !state.contains_key(&f.server_id))
        .map(|f| FolderCreated {
            sync_key: (key + 1).to_string(),
            server_id: f.server_id,
        }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EngineSettings;
    use std::sync::Arc;

    async fn setup() -> (tempfile::TempDir, Arc<Engine>, Partnership, Partnership) {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path(), EngineSettings::default()).unwrap();
        let (p1, p2) = engine
            .blocking(|store| {
                let a = store.create_account(
                    "dana@example.com",
                    "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA",
                )?;
                Ok((
                    store.create_partnership(a.id, "DEV1", "test", "ua")?,
                    store.create_partnership(a.id, "DEV2", "test", "ua")?,
                ))
            })
            .await
            .unwrap();
        (dir, engine, p1, p2)
    }

    async fn sync(engine: &Engine, p: &Partnership, key: &str) -> FolderChanges {
        match engine.folder_sync(p, key).await.unwrap() {
            FolderSyncOutcome::Changes(c) => c,
            FolderSyncOutcome::InvalidSyncKey => panic!("FolderSync {key}: Status 9"),
        }
    }

    #[tokio::test]
    async fn create_update_delete_with_the_hierarchy_sync_key() {
        let (_dir, engine, p1, p2) = setup().await;
        let initial = sync(&engine, &p1, "0").await;
        assert_eq!(initial.sync_key, "1");
        let other = sync(&engine, &p2, "0").await;
        let inbox = initial
            .adds
            .iter()
            .find(|f| f.folder_type == 2)
            .unwrap()
            .server_id
            .clone();

        // Status 9 for a key the device never had, and for "0".
        for key in ["0", "7", "x"] {
            let r = engine
                .folder_create(&p1, key, "0", "Archive", FolderType::UserCreatedMail)
                .await
                .unwrap();
            assert_eq!(r, Err(FolderCreateStatus::InvalidSyncKey));
        }
        let created = engine
            .folder_create(&p1, "1", "0", "Archive", FolderType::UserCreatedMail)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(created.sync_key, "2");
        // The answer was lost and the request comes again: the same answer.
        let again = engine
            .folder_create(&p1, "1", "0", "Archive", FolderType::UserCreatedMail)
            .await
            .unwrap();
        assert_eq!(again, Ok(created.clone()));
        // The device's own change is not echoed; another device sees it.
        let echo = sync(&engine, &p1, "2").await;
        assert!(echo.adds.is_empty() && echo.updates.is_empty() && echo.deletes.is_empty());
        assert_eq!(echo.sync_key, "2");
        let seen = sync(&engine, &p2, &other.sync_key).await;
        assert_eq!(seen.adds.len(), 1);
        assert_eq!(seen.adds[0].server_id, created.server_id);

        let r = |e: FolderCreateOutcome| e.unwrap_err();
        assert_eq!(
            r(engine
                .folder_create(&p1, "2", "0", "archive", FolderType::UserCreatedMail)
                .await
                .unwrap()),
            FolderCreateStatus::FolderExists
        );
        assert_eq!(
            r(engine
                .folder_create(&p1, "2", "999", "X", FolderType::UserCreatedMail)
                .await
                .unwrap()),
            FolderCreateStatus::ParentNotFound
        );
        assert_eq!(
            r(engine
                .folder_create(&p1, "2", "0", "X", FolderType::Inbox)
                .await
                .unwrap()),
            FolderCreateStatus::MalformedRequest
        );

        // FolderUpdate: rename; special folders answer 2, unknown ones 4, unknown parents 5.
        let key = engine
            .folder_update(&p1, "2", &created.server_id, "0", "Old")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(key, "3");
        assert!(sync(&engine, &p1, "3").await.updates.is_empty());
        assert_eq!(
            engine
                .folder_update(&p1, "3", &inbox, "0", "Renamed")
                .await
                .unwrap(),
            Err(FolderUpdateStatus::FolderExists)
        );
        assert_eq!(
            engine
                .folder_update(&p1, "3", "999", "0", "X")
                .await
                .unwrap(),
            Err(FolderUpdateStatus::FolderNotFound)
        );
        assert_eq!(
            engine
                .folder_update(&p1, "3", &created.server_id, "999", "X")
                .await
                .unwrap(),
            Err(FolderUpdateStatus::ParentNotFound)
        );
        assert_eq!(
            engine
                .folder_update(&p1, "3", &created.server_id, &created.server_id, "X")
                .await
                .unwrap(),
            Err(FolderUpdateStatus::MalformedRequest)
        );

        // FolderDelete: the Inbox is special (3); a resend after a lost answer succeeds.
        assert_eq!(
            engine.folder_delete(&p1, "3", &inbox).await.unwrap(),
            Err(FolderDeleteStatus::SpecialFolder)
        );
        assert_eq!(
            engine
                .folder_delete(&p1, "3", &created.server_id)
                .await
                .unwrap(),
            Ok("4".into())
        );
        assert_eq!(
            engine
                .folder_delete(&p1, "3", &created.server_id)
                .await
                .unwrap(),
            Ok("4".into())
        );
        assert_eq!(
            engine
                .folder_delete(&p1, "4", &created.server_id)
                .await
                .unwrap(),
            Err(FolderDeleteStatus::FolderNotFound)
        );
        let after = sync(&engine, &p1, "4").await;
        assert!(after.deletes.is_empty());
        let seen = sync(&engine, &p2, &seen.sync_key).await;
        assert_eq!(seen.deletes, std::slice::from_ref(&created.server_id));
    }
}
