//! easd-store: durable state of easd behind the [`Store`] trait.
//!
//! The embedded implementation is [`SqliteStore`] (SQLite in WAL mode, `synchronous=FULL`).
//! Everything here is plain data: no WBXML and no EAS protocol types. Every item and folder
//! query is scoped by account (ARCHITECTURE.md invariant 7), and every write to an account's
//! folders or items bumps the account's modseq in the same transaction, leaving tombstones
//! for deletions and moves-out (the change log Sync and Ping read).
//!
//! The methods are synchronous; async callers run them on `spawn_blocking`.

mod error;
pub mod password;
mod sqlite;
mod types;

pub use error::{Result, StoreError};
pub use sqlite::{SqliteStore, DB_FILE_NAME};
pub use types::*;

/// The store. Object safe, so callers can hold an `Arc<dyn Store>`.
pub trait Store: Send + Sync + 'static {
    // ----- accounts -----

    /// Create an account (email is trimmed and lowercased; unique) and, in the same
    /// transaction, its default folder set ([`DEFAULT_FOLDERS`]). `password_hash` is a PHC
    /// string from [`password::hash_password`].
    fn create_account(&self, email: &str, password_hash: &str) -> Result<Account>;
    fn account(&self, id: AccountId) -> Result<Option<Account>>;
    /// Look up by primary email (case-insensitive).
    fn account_by_email(&self, email: &str) -> Result<Option<Account>>;
    /// Look up by primary email or alias (case-insensitive), for delivery.
    fn account_by_address(&self, address: &str) -> Result<Option<Account>>;
    fn list_accounts(&self) -> Result<Vec<Account>>;
    /// Replace the password hash; returns the new credential generation.
    fn set_password(&self, id: AccountId, password_hash: &str) -> Result<i64>;
    fn set_display_name(&self, id: AccountId, display_name: &str) -> Result<()>;
    /// Add a delivery alias (lowercased; must not be any account's email or alias).
    fn add_alias(&self, id: AccountId, address: &str) -> Result<()>;
    fn remove_alias(&self, id: AccountId, address: &str) -> Result<()>;
    /// Remove an account and everything it owns (folders, items, tombstones, partnerships,
    /// sync states, OOF, device logs).
    fn remove_account(&self, id: AccountId) -> Result<()>;
    /// The account's current modseq (highest change of any kind).
    fn account_modseq(&self, id: AccountId) -> Result<Modseq>;

    // ----- folders -----

    /// All folders of the account, in creation order.
    fn folders(&self, account: AccountId) -> Result<Vec<Folder>>;
    fn folder(&self, account: AccountId, id: FolderId) -> Result<Option<Folder>>;
    fn folder_by_server_id(&self, account: AccountId, server_id: &str) -> Result<Option<Folder>>;
    /// The default folder of an EAS type (Inbox, Sent Items, ...).
    fn default_folder(&self, account: AccountId, folder_type: i32) -> Result<Option<Folder>>;
    /// Create a folder under `parent_server_id` ("0" = root). Errors: NotFound("parent
    /// folder"), AlreadyExists("folder") for a name taken under that parent,
    /// Invalid for an empty name.
    fn create_folder(
        &self,
        account: AccountId,
        parent_server_id: &str,
        display_name: &str,
        folder_type: i32,
    ) -> Result<Folder>;
    /// Rename and/or move a folder (FolderUpdate). Errors: NotFound("folder"),
    /// NotFound("parent folder"), SpecialFolder for a default folder,
    /// AlreadyExists("folder"), Invalid when moving a folder under itself.
    fn update_folder(
        &self,
        account: AccountId,
        id: FolderId,
        new_parent_server_id: &str,
        new_display_name: &str,
    ) -> Result<Folder>;
    /// Delete a folder, its subfolders and their items; leaves a folder tombstone for each.
    /// Returns the deleted server ids. SpecialFolder for a default folder.
    fn delete_folder(&self, account: AccountId, id: FolderId) -> Result<Vec<String>>;
    /// Hierarchy changes since `since` (for FolderSync).
    fn folder_changes_since(&self, account: AccountId, since: Modseq) -> Result<FolderChanges>;
    /// Highest item change in the folder, including tombstones (0 if none).
    fn folder_modseq(&self, account: AccountId, folder: FolderId) -> Result<Modseq>;

    // ----- items -----

    fn add_item(&self, account: AccountId, item: NewItem) -> Result<Item>;
    /// Add many items in one transaction (bulk import). All or nothing.
    fn add_items(&self, account: AccountId, items: Vec<NewItem>) -> Result<Vec<Item>>;
    /// Inbound delivery of a message into the account's Inbox. Durable when it returns
    /// (the caller may then answer 250).
    fn deliver(&self, account: AccountId, content: Vec<u8>, fields: ItemFields) -> Result<Item>;
    fn item(&self, account: AccountId, id: ItemId) -> Result<Option<Item>>;
    fn item_by_server_id(&self, account: AccountId, server_id: &str) -> Result<Option<Item>>;
    /// NotFound("item") if absent or another account's.
    fn item_content(&self, account: AccountId, id: ItemId) -> Result<Vec<u8>>;
    /// Items with content, in the order of `ids`; ids not found (or another account's) are
    /// left out. One snapshot, for rendering a Sync window.
    fn items_full(&self, account: AccountId, ids: &[ItemId]) -> Result<Vec<FullItem>>;
    /// Items whose `uid` (Message-ID, iCalendar UID) matches, in any folder of the account.
    fn items_by_uid(&self, account: AccountId, uid: &str) -> Result<Vec<Item>>;
    /// Apply a change; bumps the modseq only if something actually changed.
    fn update_item(&self, account: AccountId, id: ItemId, change: &ItemChange) -> Result<Item>;
    /// Apply many changes in one transaction (bulk import). All or nothing.
    fn update_items(
        &self,
        account: AccountId,
        changes: &[(ItemId, ItemChange)],
    ) -> Result<Vec<Item>>;
    /// Move to another folder of the same account: new server_id in `dest`, tombstone in
    /// the source. Invalid if `dest` is the item's folder.
    fn move_item(&self, account: AccountId, id: ItemId, dest: FolderId) -> Result<Item>;
    /// Delete, leaving a tombstone.
    fn delete_item(&self, account: AccountId, id: ItemId) -> Result<()>;
    /// Delete all items of a folder (tombstones), and its subfolders if asked
    /// (ItemOperations EmptyFolderContents). Returns the number of items deleted directly
    /// in the folder.
    fn empty_folder(
        &self,
        account: AccountId,
        folder: FolderId,
        delete_subfolders: bool,
    ) -> Result<usize>;
    /// All items of a folder, newest first, with the folder's content modseq of the same
    /// snapshot. No content is read.
    fn list_folder_items(&self, account: AccountId, folder: FolderId) -> Result<FolderItems>;
    /// Item changes in a folder since `since`.
    fn changed_since(
        &self,
        account: AccountId,
        folder: FolderId,
        since: Modseq,
    ) -> Result<ItemChanges>;
    /// Delete item tombstones of a folder at or below `through` (when no device state needs
    /// them any more). Returns how many were removed.
    fn prune_item_tombstones(
        &self,
        account: AccountId,
        folder: FolderId,
        through: Modseq,
    ) -> Result<usize>;

    // ----- global change counter (cross-process wake-ups) -----

    /// The global change counter; cheap (one row). It advances with every write to folders,
    /// items, accounts' existence, partnership access/wipe/policy state and settings.
    fn change_counter(&self) -> Result<i64>;
    /// What changed after counter `since`, grouped by account.
    fn accounts_changed_since(&self, since: i64) -> Result<ChangesSince>;

    // ----- partnerships -----

    fn partnership(&self, account: AccountId, device_id: &str) -> Result<Option<Partnership>>;
    fn partnership_by_id(&self, id: PartnershipId) -> Result<Option<Partnership>>;
    /// Get or create the partnership (account, device_id). An existing row is returned
    /// unchanged.
    fn create_partnership(
        &self,
        account: AccountId,
        device_id: &str,
        device_type: &str,
        user_agent: &str,
    ) -> Result<Partnership>;
    /// Write the mutable fields but the statistics (id, account, device_id, created_at and
    /// the fields [`Store::record_partnership_activity`] keeps are left alone). A change of
    /// access or wipe state is recorded as a change event (a running server ends the
    /// device's parked Ping).
    fn update_partnership(&self, p: &Partnership) -> Result<()>;
    /// Adds one request to the partnership's statistics, in place (increments in SQL).
    fn record_partnership_activity(
        &self,
        id: PartnershipId,
        activity: &PartnershipActivity,
    ) -> Result<()>;
    /// All partnerships, or those of one account.
    fn list_partnerships(&self, account: Option<AccountId>) -> Result<Vec<Partnership>>;
    /// Partnerships of a device across accounts.
    fn partnerships_by_device_id(&self, device_id: &str) -> Result<Vec<Partnership>>;
    /// Remove a partnership and its sync states (and unlink its device logs).
    fn remove_partnership(&self, id: PartnershipId) -> Result<()>;

    // ----- sync states (invariant 2) -----

    /// Store the state behind sync key `key` of a collection ("folders" for FolderSync, a
    /// folder server_id otherwise) and delete every other key but `key - 1`.
    fn put_sync_state(
        &self,
        partnership: PartnershipId,
        collection: &str,
        key: i64,
        blob: &[u8],
    ) -> Result<()>;
    fn sync_state(
        &self,
        partnership: PartnershipId,
        collection: &str,
        key: i64,
    ) -> Result<Option<Vec<u8>>>;
    /// The highest key of a collection and its state.
    fn latest_sync_state(
        &self,
        partnership: PartnershipId,
        collection: &str,
    ) -> Result<Option<(i64, Vec<u8>)>>;
    /// (collection, highest key) for each collection of a partnership.
    fn sync_state_keys(&self, partnership: PartnershipId) -> Result<Vec<(String, i64)>>;
    /// Delete the states of one collection, or of all collections.
    fn delete_sync_states(
        &self,
        partnership: PartnershipId,
        collection: Option<&str>,
    ) -> Result<()>;

    // ----- settings -----

    /// Out-of-office settings of an account (JSON text chosen by the engine).
    fn oof(&self, account: AccountId) -> Result<Option<String>>;
    /// Set (Some) or clear (None) the OOF settings.
    fn set_oof(&self, account: AccountId, settings: Option<&str>) -> Result<()>;
    /// Server-wide settings (access rules, policies: JSON text).
    fn kv_get(&self, key: &str) -> Result<Option<String>>;
    fn kv_set(&self, key: &str, value: &str) -> Result<()>;
    /// Returns whether the key existed.
    fn kv_delete(&self, key: &str) -> Result<bool>;
    /// All (key, value) whose key starts with `prefix`, ordered by key.
    fn kv_list(&self, prefix: &str) -> Result<Vec<(String, String)>>;

    // ----- device logs (mailbox logging) -----

    fn add_device_log(&self, entry: &NewDeviceLog) -> Result<i64>;
    /// Newest first, at most `limit`, optionally filtered by account and/or DeviceId.
    fn device_logs(
        &self,
        account: Option<AccountId>,
        device_id: Option<&str>,
        limit: usize,
    ) -> Result<Vec<DeviceLogEntry>>;
    /// Delete entries older than `before` (unix seconds). Returns how many.
    fn prune_device_logs(&self, before: i64) -> Result<usize>;
}
