//! easd's engine: what the EAS commands mean, independent of HTTP and WBXML bytes.
//!
//! The server calls the engine with typed values; the engine reads and writes the store
//! (on blocking threads: SQLite calls block) and wakes the push hub after every commit.

pub mod access;
pub mod certificates;
pub mod content;
pub mod delivery;
pub mod device_admin;
pub mod devices;
pub mod drafts;
pub mod estimate;
pub mod export;
pub mod folders;
pub mod import;
pub mod item_operations;
pub mod meetings;
pub mod move_items;
pub mod pim_sync;
pub mod ping;
pub mod policy;
pub mod push;
pub mod recipients;
pub mod search;
pub mod settings;
pub mod stats;
pub mod submission;
pub mod sync;

pub use push::{PushHub, Wake, Watch};

use easd_store::{SqliteStore, Store, StoreError};
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Mail(#[from] content::mail::MailError),
    #[error("message too large ({size} bytes, limit {limit})")]
    TooLarge { size: usize, limit: usize },
    #[error("not found: {0}")]
    NotFound(String),
    #[error("background task failed: {0}")]
    Task(String),
}

impl EngineError {
    /// True when retrying cannot help (SMTP 5xx rather than 4xx).
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            EngineError::Mail(_) | EngineError::TooLarge { .. } | EngineError::NotFound(_)
        )
    }
}

/// Settings the engine needs from the configuration.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    pub max_message_bytes: usize,
    pub hostname: String,
    /// Test only: acknowledge a client's Sync Delete without applying it, so that
    /// `easd selftest` can be shown to report a change that never reaches the other device.
    pub fault_drop_client_deletes: bool,
    /// Told (by mail) about each quarantined device: a local account, or a remote address
    /// reached through `relay`.
    pub admin_email: Option<String>,
    /// The SMTP smarthost for remote recipients.
    pub relay: Option<submission::Relay>,
    /// Where all-day and floating events are placed for a device whose zone is not known.
    pub time_zone: jiff::tz::TimeZone,
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings {
            max_message_bytes: 50 * 1024 * 1024,
            hostname: "localhost".into(),
            fault_drop_client_deletes: false,
            admin_email: None,
            relay: None,
            time_zone: jiff::tz::TimeZone::UTC,
        }
    }
}

pub struct Engine {
    store: Arc<dyn Store>,
    pub hub: Arc<PushHub>,
    pub settings: EngineSettings,
    /// Items sent and received by Sync, for the metrics.
    pub stats: Arc<stats::SyncStats>,
    /// ClientIds of recent SendMail/SmartReply/SmartForward (MS-ASCMD 2.2.3.28.1).
    pub(crate) recent_submissions: submission::RecentSubmissions,
    /// The engine itself, for work that outlives the request that started it.
    me: std::sync::Weak<Engine>,
}

impl Engine {
    pub fn new(store: Arc<dyn Store>, settings: EngineSettings) -> Arc<Engine> {
        Arc::new_cyclic(|me| Engine {
            store,
            hub: Arc::new(PushHub::new()),
            settings,
            stats: Default::default(),
            recent_submissions: Default::default(),
            me: me.clone(),
        })
    }

    /// Opens (or creates) the embedded store in `data_dir`.
    pub fn open(data_dir: &Path, settings: EngineSettings) -> Result<Arc<Engine>, EngineError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| EngineError::Task(format!("creating {}: {e}", data_dir.display())))?;
        let store = SqliteStore::open_data_dir(data_dir)?;
        Ok(Engine::new(Arc::new(store), settings))
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Wakes the push listeners for changes another process committed.
    pub fn wake_for(&self, changes: easd_store::ChangesSince) {
        if changes.truncated {
            self.hub.wake_everyone();
            return;
        }
        for c in changes.accounts {
            // A decision about a device (access, wipe, removal; the store records no event
            // for the device's own handshake) ends its parked Ping, so its next request
            // gets the answer at once. First: a Ping woken by the other events below is
            // between two watches for a moment, where this would miss it.
            for p in &c.partnerships {
                self.hub.supersede(c.account.0, p.0);
            }
            if c.hierarchy {
                self.hub.hierarchy_changed(c.account.0);
            }
            if !c.folders.is_empty() {
                let folders: Vec<i64> = c.folders.iter().map(|f| f.0).collect();
                self.hub.changed(c.account.0, &folders);
            }
        }
    }

    /// Runs a store call on a blocking thread.
    pub async fn blocking<T, F>(&self, f: F) -> Result<T, EngineError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<T, EngineError> + Send + 'static,
    {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(|e| EngineError::Task(e.to_string()))?
    }
}
