//! The Direct Push hub: parked Pings (and waiting Syncs) register what they watch; every
//! committed change wakes exactly the watchers of the changed folders of that account.
//!
//! A wake-up is only a hint (ARCHITECTURE.md invariant 6): the woken request looks at the
//! store again. Watchers register *before* they check the store, so a change that commits
//! between the check and the wait is not lost.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::oneshot;

/// Why a watch ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wake {
    /// These watched folders (store folder ids) have changes.
    Changed(Vec<i64>),
    /// The account's folder hierarchy changed (Ping Status 7).
    Hierarchy,
    /// A newer Ping or Sync from the same device took over.
    Superseded,
    /// The server is shutting down: answer now.
    Shutdown,
}

struct Watcher {
    id: u64,
    device: i64,
    folders: Box<[i64]>,
    tx: oneshot::Sender<Woken>,
}

/// A wake-up and when the hub sent it: the start of the push latency a woken Ping reports.
/// That is right after the commit it announces, or, for a commit of another process (`easd
/// deliver`), after the poll of the change log that found it.
type Woken = (Wake, Instant);

const SHARDS: usize = 64;

/// One shard: the watchers of each account that hashes to it.
type Shard = Mutex<HashMap<i64, Vec<Watcher>>>;

/// Shared by every request handler and every write path of the process.
pub struct PushHub {
    shards: Box<[Shard]>,
    next_id: AtomicU64,
    parked: AtomicUsize,
    shutting_down: AtomicBool,
}

impl Default for PushHub {
    fn default() -> Self {
        Self::new()
    }
}

impl PushHub {
    pub fn new() -> Self {
        PushHub {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            next_id: AtomicU64::new(1),
            parked: AtomicUsize::new(0),
            shutting_down: AtomicBool::new(false),
        }
    }

    fn shard(&self, account: i64) -> std::sync::MutexGuard<'_, HashMap<i64, Vec<Watcher>>> {
        let index = (account.unsigned_abs() as usize) % SHARDS;
        self.shards[index].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a watch of `folders` for `device` of `account`, ending any earlier watch of
    /// the same device (its request is answered as superseded).
    pub fn watch(self: &Arc<Self>, account: i64, device: i64, folders: Vec<i64>) -> Watch {
        let (tx, rx) = oneshot::channel();
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        if self.shutting_down.load(Ordering::Acquire) {
            let _ = tx.send((Wake::Shutdown, Instant::now()));
            return Watch {
                hub: self.clone(),
                account,
                id,
                rx,
                woken_at: None,
            };
        }
        let superseded: Vec<Watcher> = {
            let mut shard = self.shard(account);
            let watchers = shard.entry(account).or_default();
            let mut old = Vec::new();
            let mut i = 0;
            while i < watchers.len() {
                if watchers[i].device == device {
                    old.push(watchers.swap_remove(i));
                } else {
                    i += 1;
                }
            }
            watchers.push(Watcher {
                id,
                device,
                folders: folders.into_boxed_slice(),
                tx,
            });
            old
        };
        self.parked.fetch_add(1, Ordering::Relaxed);
        self.parked.fetch_sub(superseded.len(), Ordering::Relaxed);
        for w in superseded {
            let _ = w.tx.send((Wake::Superseded, Instant::now()));
        }
        Watch {
            hub: self.clone(),
            account,
            id,
            rx,
            woken_at: None,
        }
    }

    /// Ends the watch of `device` (a new request from it arrived), answering it.
    pub fn supersede(&self, account: i64, device: i64) {
        self.wake_where(account, |w| {
            (w.device == device).then_some(Wake::Superseded)
        });
    }

    /// Wakes the watchers of `account` that watch any of `folders`.
    pub fn changed(&self, account: i64, folders: &[i64]) {
        self.wake_where(account, |w| {
            let hit: Vec<i64> = w
                .folders
                .iter()
                .copied()
                .filter(|f| folders.contains(f))
                .collect();
            (!hit.is_empty()).then_some(Wake::Changed(hit))
        });
    }

    /// Wakes every watcher of `account`: its folder hierarchy changed.
    pub fn hierarchy_changed(&self, account: i64) {
        self.wake_where(account, |_| Some(Wake::Hierarchy));
    }

    /// Wakes every watcher as if all its folders changed (when the change log can't say
    /// what changed: a woken Ping re-checks the store).
    pub fn wake_everyone(&self) {
        for shard in self.shards.iter() {
            let drained: Vec<Watcher> = {
                let mut map = shard.lock().unwrap_or_else(|e| e.into_inner());
                map.drain().flat_map(|(_, v)| v).collect()
            };
            self.parked.fetch_sub(drained.len(), Ordering::Relaxed);
            for w in drained {
                let folders = w.folders.to_vec();
                let _ = w.tx.send((Wake::Changed(folders), Instant::now()));
            }
        }
    }

    /// Answers every parked request at once; later watches end immediately.
    pub fn shutdown(&self) {
        self.shutting_down.store(true, Ordering::Release);
        for shard in self.shards.iter() {
            let drained: Vec<Watcher> = {
                let mut map = shard.lock().unwrap_or_else(|e| e.into_inner());
                map.drain().flat_map(|(_, v)| v).collect()
            };
            self.parked.fetch_sub(drained.len(), Ordering::Relaxed);
            for w in drained {
                let _ = w.tx.send((Wake::Shutdown, Instant::now()));
            }
        }
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Acquire)
    }

    /// How many requests are parked now.
    pub fn parked(&self) -> usize {
        self.parked.load(Ordering::Relaxed)
    }

    fn wake_where(&self, account: i64, mut decide: impl FnMut(&Watcher) -> Option<Wake>) {
        let woken: Vec<(Watcher, Wake)> = {
            let mut shard = self.shard(account);
            let Some(watchers) = shard.get_mut(&account) else {
                return;
            };
            let mut woken = Vec::new();
            let mut i = 0;
            while i < watchers.len() {
                match decide(&watchers[i]) {
                    Some(wake) => woken.push((watchers.swap_remove(i), wake)),
                    None => i += 1,
                }
            }
            if watchers.is_empty() {
                shard.remove(&account);
            }
            woken
        };
        self.parked.fetch_sub(woken.len(), Ordering::Relaxed);
        let now = Instant::now();
        for (w, wake) in woken {
            let _ = w.tx.send((wake, now));
        }
    }

    fn unregister(&self, account: i64, id: u64) {
        let mut shard = self.shard(account);
        if let Some(watchers) = shard.get_mut(&account) {
            if let Some(pos) = watchers.iter().position(|w| w.id == id) {
                watchers.swap_remove(pos);
                self.parked.fetch_sub(1, Ordering::Relaxed);
            }
            if watchers.is_empty() {
                shard.remove(&account);
            }
        }
    }
}

/// A registered watch; dropping it unregisters.
pub struct Watch {
    hub: Arc<PushHub>,
    account: i64,
    id: u64,
    rx: oneshot::Receiver<Woken>,
    /// When the hub sent the wake-up received.
    woken_at: Option<Instant>,
}

impl Watch {
    /// Waits for a wake-up. (Race it against the heartbeat timer.)
    pub async fn woken(&mut self) -> Wake {
        match (&mut self.rx).await {
            Ok((wake, at)) => {
                self.woken_at = Some(at);
                wake
            }
            Err(_) => Wake::Superseded,
        }
    }

    /// A wake-up that already happened, without waiting.
    pub fn try_woken(&mut self) -> Option<Wake> {
        let (wake, at) = self.rx.try_recv().ok()?;
        self.woken_at = Some(at);
        Some(wake)
    }

    /// When the hub sent the wake-up last received.
    pub fn woken_at(&self) -> Option<Instant> {
        self.woken_at
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.hub.unregister(self.account, self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wakes_only_matching_folders() {
        let hub = Arc::new(PushHub::new());
        let mut a = hub.watch(1, 10, vec![100, 101]);
        let mut b = hub.watch(1, 11, vec![102]);
        let mut c = hub.watch(2, 12, vec![100]);
        assert_eq!(hub.parked(), 3);
        hub.changed(1, &[101, 999]);
        let announced = Instant::now();
        assert!(a.woken_at().is_none());
        assert_eq!(a.woken().await, Wake::Changed(vec![101]));
        // The wake-up carries when the hub sent it: the start of the push latency.
        assert!(a.woken_at().is_some_and(|at| at <= announced));
        assert!(b.try_woken().is_none());
        assert!(c.try_woken().is_none());
        assert_eq!(hub.parked(), 2);
        drop(b);
        drop(c);
        assert_eq!(hub.parked(), 0);
    }

    #[tokio::test]
    async fn a_new_watch_of_the_device_supersedes() {
        let hub = Arc::new(PushHub::new());
        let mut first = hub.watch(1, 10, vec![1]);
        let _second = hub.watch(1, 10, vec![1]);
        assert_eq!(first.woken().await, Wake::Superseded);
        assert_eq!(hub.parked(), 1);
    }

    #[tokio::test]
    async fn shutdown_answers_everyone() {
        let hub = Arc::new(PushHub::new());
        let mut w = hub.watch(5, 1, vec![1]);
        hub.hierarchy_changed(6);
        hub.shutdown();
        assert_eq!(w.woken().await, Wake::Shutdown);
        let mut late = hub.watch(5, 2, vec![1]);
        assert_eq!(late.woken().await, Wake::Shutdown);
        assert_eq!(hub.parked(), 0);
    }
}
