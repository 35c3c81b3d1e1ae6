//! Waiting for changes: Ping (MS-ASCMD 2.2.1.13) and Sync with Wait/HeartbeatInterval.
//!
//! The watch is registered before the store is checked, so a change that commits between
//! the check and the wait still wakes us; a wake-up is checked against the store before it
//! is reported (invariant 6).

use crate::{Engine, EngineError, Wake};
use easd_store::{Folder, Partnership};
use std::time::Duration;
use tokio::time::Instant;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitOutcome {
    /// These folders (their ServerIds) have changes the device has not synced; with the
    /// moment the push hub announced them, when a wake-up (not the first look) found them.
    Changed(Vec<String>, Option<std::time::Instant>),
    /// The folder hierarchy changed since the device's last FolderSync.
    HierarchyChanged,
    /// The interval ran out with no change.
    Expired,
    /// A newer request from the device, or shutdown: answer now as if expired.
    Ended,
}

/// What to watch, and for how long.
#[derive(Debug, Clone)]
pub struct WaitRequest {
    pub folders: Vec<Folder>,
    pub interval: Duration,
    /// Ping reports hierarchy changes (Status 7); a waiting Sync does not.
    pub watch_hierarchy: bool,
}

impl Engine {
    pub async fn wait_for_changes(
        &self,
        partnership: &Partnership,
        request: WaitRequest,
    ) -> Result<WaitOutcome, EngineError> {
        let deadline = Instant::now() + request.interval;
        let account = partnership.account.0;
        let ids: Vec<i64> = request.folders.iter().map(|f| f.id.0).collect();
        let mut watch = self.hub.watch(account, partnership.id.0, ids);
        // An admin's block or wipe between the request's access check and the watch above
        // found nothing to end: the store says so now (invariant 6 for access decisions).
        if self.access_changed(partnership).await? {
            return Ok(WaitOutcome::Ended);
        }
        if request.watch_hierarchy && !self.hierarchy_is_current(partnership).await? {
            return Ok(WaitOutcome::HierarchyChanged);
        }
        let changed = self.changed_folders(partnership, &request.folders).await?;
        if !changed.is_empty() {
            return Ok(WaitOutcome::Changed(changed, None));
        }
        loop {
            let wake = tokio::select! {
                wake = watch.woken() => wake,
                _ = tokio::time::sleep_until(deadline) => return Ok(WaitOutcome::Expired),
            };
            match wake {
                Wake::Changed(folder_ids) => {
                    let announced = watch.woken_at();
                    // Re-register first, then look: nothing slips between the two.
                    let ids: Vec<i64> = request.folders.iter().map(|f| f.id.0).collect();
                    watch = self.hub.watch(account, partnership.id.0, ids);
                    // A block or wipe while this Ping was between two watches.
                    if self.access_changed(partnership).await? {
                        return Ok(WaitOutcome::Ended);
                    }
                    let woken: Vec<Folder> = request
                        .folders
                        .iter()
                        .filter(|f| folder_ids.contains(&f.id.0))
                        .cloned()
                        .collect();
                    let changed = self.changed_folders(partnership, &woken).await?;
                    if !changed.is_empty() {
                        return Ok(WaitOutcome::Changed(changed, announced));
                    }
                }
                Wake::Hierarchy => {
                    let ids: Vec<i64> = request.folders.iter().map(|f| f.id.0).collect();
                    watch = self.hub.watch(account, partnership.id.0, ids);
                    if self.access_changed(partnership).await? {
                        return Ok(WaitOutcome::Ended);
                    }
                    // A hint too: only a hierarchy the device has not synced counts.
                    if request.watch_hierarchy && !self.hierarchy_is_current(partnership).await? {
                        return Ok(WaitOutcome::HierarchyChanged);
                    }
                }
                Wake::Superseded | Wake::Shutdown => return Ok(WaitOutcome::Ended),
            }
        }
    }

    /// True when the device's access state or wipe state in the store is no longer what
    /// the request started with.
    async fn access_changed(&self, partnership: &Partnership) -> Result<bool, EngineError> {
        let account = partnership.account;
        let device_id = partnership.device_id.clone();
        let now = self
            .blocking(move |store| Ok(store.partnership(account, &device_id)?))
            .await?;
        Ok(now.is_none_or(|p| {
            p.access_state != partnership.access_state || p.wipe_state != partnership.wipe_state
        }))
    }

    async fn changed_folders(
        &self,
        partnership: &Partnership,
        folders: &[Folder],
    ) -> Result<Vec<String>, EngineError> {
        let mut changed = Vec::new();
        for f in folders {
            if self.folder_has_changes(partnership, f).await? {
                changed.push(f.server_id.clone());
            }
        }
        Ok(changed)
    }
}

impl Engine {
    /// The folders of `server_ids`, or `None` when any of them does not exist.
    pub async fn folders_by_server_ids(
        &self,
        account: easd_store::AccountId,
        server_ids: Vec<String>,
    ) -> Result<Option<Vec<Folder>>, EngineError> {
        self.blocking(move |store| {
            let all = store.folders(account)?;
            Ok(server_ids
                .iter()
                .map(|id| all.iter().find(|f| &f.server_id == id).cloned())
                .collect())
        })
        .await
    }

    /// Keeps a Ping's folders and heartbeat for the next empty Ping; written only when they
    /// change, so parked phones don't cost a write each.
    pub async fn remember_ping(
        &self,
        partnership: &Partnership,
        folders: serde_json::Value,
        heartbeat: i64,
    ) -> Result<(), EngineError> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let stale = partnership.last_ping.is_none_or(|t| now - t >= 60);
        if partnership.ping_folders == folders && partnership.ping_heartbeat == heartbeat && !stale
        {
            return Ok(());
        }
        let id = partnership.id;
        self.blocking(move |store| {
            let Some(mut p) = store.partnership_by_id(id)? else {
                return Ok(());
            };
            p.ping_folders = folders;
            p.ping_heartbeat = heartbeat;
            p.last_ping = Some(now);
            p.last_heartbeat = Some(heartbeat);
            store.update_partnership(&p)?;
            Ok(())
        })
        .await
    }
}
