//! The embedded SQLite store.

mod accounts;
mod changes;
mod conn;
mod devices;
mod folders;
mod items;
mod misc;
mod schema;

use std::path::Path;

use crate::error::{Result, StoreError};
use crate::types::*;
use crate::Store;
use changes::AccountTx;
use conn::Connections;

/// File name of the database inside a data directory.
pub const DB_FILE_NAME: &str = "easd.sqlite3";

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// [`Store`] on one SQLite file. Any number of handles, in any number of processes, may
/// open the same file: SQLite's locking serializes writers (BEGIN IMMEDIATE, 5 s busy
/// timeout) and WAL lets readers run alongside.
pub struct SqliteStore {
    conns: Connections,
}

impl SqliteStore {
    /// Open (creating directories, file and schema as needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        Ok(SqliteStore {
            conns: Connections::open(path)?,
        })
    }

    /// Open `dir/easd.sqlite3`, the database of a data directory (`--data DIR`).
    pub fn open_data_dir(dir: &Path) -> Result<Self> {
        Self::open(&dir.join(DB_FILE_NAME))
    }

    /// How many global counter values of change events are kept for
    /// [`Store::accounts_changed_since`] (default 4096). Stored in the database, so every
    /// process sharing it agrees. A poller that falls further behind gets `truncated`.
    pub fn set_change_events_kept(&self, keep: i64) -> Result<()> {
        self.conns.write("set_change_events_kept", |tx| {
            changes::set_keep_events(tx, keep)
        })
    }

    /// Run one account write: modseqs and change events are written in the same
    /// transaction as the change itself.
    fn account_write<T>(
        &self,
        op: &'static str,
        account: AccountId,
        f: impl FnOnce(&mut AccountTx<'_>) -> Result<T>,
    ) -> Result<T> {
        self.conns.write(op, |tx| {
            let mut atx = AccountTx::begin(tx, account)?;
            let out = f(&mut atx)?;
            atx.finish()?;
            Ok(out)
        })
    }
}

impl Store for SqliteStore {
    fn create_account(&self, email: &str, password_hash: &str) -> Result<Account> {
        self.conns.write("create_account", |tx| {
            accounts::create(tx, email, password_hash)
        })
    }

    fn account(&self, id: AccountId) -> Result<Option<Account>> {
        self.conns.read("account", |tx| accounts::get(tx, id))
    }

    fn account_by_email(&self, email: &str) -> Result<Option<Account>> {
        self.conns
            .read("account_by_email", |tx| accounts::by_email(tx, email))
    }

    fn account_by_address(&self, address: &str) -> Result<Option<Account>> {
        self.conns
            .read("account_by_address", |tx| accounts::by_address(tx, address))
    }

    fn list_accounts(&self) -> Result<Vec<Account>> {
        self.conns.read("list_accounts", |tx| accounts::list(tx))
    }

    fn set_password(&self, id: AccountId, password_hash: &str) -> Result<i64> {
        self.conns.write("set_password", |tx| {
            accounts::set_password(tx, id, password_hash)
        })
    }

    fn set_display_name(&self, id: AccountId, display_name: &str) -> Result<()> {
        self.conns.write("set_display_name", |tx| {
            accounts::set_display_name(tx, id, display_name)
        })
    }

    fn add_alias(&self, id: AccountId, address: &str) -> Result<()> {
        self.conns
            .write("add_alias", |tx| accounts::add_alias(tx, id, address))
    }

    fn remove_alias(&self, id: AccountId, address: &str) -> Result<()> {
        self.conns
            .write("remove_alias", |tx| accounts::remove_alias(tx, id, address))
    }

    fn remove_account(&self, id: AccountId) -> Result<()> {
        self.conns
            .write("remove_account", |tx| accounts::remove(tx, id))
    }

    fn account_modseq(&self, id: AccountId) -> Result<Modseq> {
        self.conns
            .read("account_modseq", |tx| accounts::modseq(tx, id))
    }

    fn folders(&self, account: AccountId) -> Result<Vec<Folder>> {
        self.conns.read("folders", |tx| folders::list(tx, account))
    }

    fn folder(&self, account: AccountId, id: FolderId) -> Result<Option<Folder>> {
        self.conns
            .read("folder", |tx| folders::get(tx, account, id))
    }

    fn folder_by_server_id(&self, account: AccountId, server_id: &str) -> Result<Option<Folder>> {
        self.conns.read("folder_by_server_id", |tx| {
            folders::by_server_id(tx, account, server_id)
        })
    }

    fn default_folder(&self, account: AccountId, folder_type: i32) -> Result<Option<Folder>> {
        self.conns.read("default_folder", |tx| {
            folders::default_folder(tx, account, folder_type)
        })
    }

    fn create_folder(
        &self,
        account: AccountId,
        parent_server_id: &str,
        display_name: &str,
        folder_type: i32,
    ) -> Result<Folder> {
        self.account_write("create_folder", account, |atx| {
            folders::insert_folder(atx, parent_server_id, display_name, folder_type, false)
        })
    }

    fn update_folder(
        &self,
        account: AccountId,
        id: FolderId,
        new_parent_server_id: &str,
        new_display_name: &str,
    ) -> Result<Folder> {
        self.account_write("update_folder", account, |atx| {
            folders::update(atx, id, new_parent_server_id, new_display_name)
        })
    }

    fn delete_folder(&self, account: AccountId, id: FolderId) -> Result<Vec<String>> {
        self.account_write("delete_folder", account, |atx| {
            let f = folders::require(atx.conn, account, id)?;
            if f.is_default {
                return Err(StoreError::SpecialFolder(f.display_name));
            }
            folders::delete_tree(atx, &f)
        })
    }

    fn folder_changes_since(&self, account: AccountId, since: Modseq) -> Result<FolderChanges> {
        self.conns.read("folder_changes_since", |tx| {
            folders::changes_since(tx, account, since)
        })
    }

    fn folder_modseq(&self, account: AccountId, folder: FolderId) -> Result<Modseq> {
        self.conns.read("folder_modseq", |tx| {
            Ok(folders::require(tx, account, folder)?.content_modseq)
        })
    }

    fn add_item(&self, account: AccountId, item: NewItem) -> Result<Item> {
        self.account_write("add_item", account, |atx| {
            Ok(items::add_many(atx, vec![item])?.remove(0))
        })
    }

    fn add_items(&self, account: AccountId, new: Vec<NewItem>) -> Result<Vec<Item>> {
        self.account_write("add_items", account, |atx| items::add_many(atx, new))
    }

    fn deliver(&self, account: AccountId, content: Vec<u8>, fields: ItemFields) -> Result<Item> {
        self.account_write("deliver", account, |atx| {
            let inbox = folders::default_folder(atx.conn, account, folder_type::INBOX)?
                .ok_or(StoreError::NotFound("inbox"))?;
            let item = NewItem {
                folder: inbox.id,
                class: ItemClass::Email,
                content,
                fields,
            };
            Ok(items::add_many(atx, vec![item])?.remove(0))
        })
    }

    fn item(&self, account: AccountId, id: ItemId) -> Result<Option<Item>> {
        self.conns.read("item", |tx| items::get(tx, account, id))
    }

    fn item_by_server_id(&self, account: AccountId, server_id: &str) -> Result<Option<Item>> {
        self.conns.read("item_by_server_id", |tx| {
            items::by_server_id(tx, account, server_id)
        })
    }

    fn item_content(&self, account: AccountId, id: ItemId) -> Result<Vec<u8>> {
        self.conns
            .read("item_content", |tx| items::content(tx, account, id))
    }

    fn items_full(&self, account: AccountId, ids: &[ItemId]) -> Result<Vec<FullItem>> {
        self.conns
            .read("items_full", |tx| items::full(tx, account, ids))
    }

    fn items_by_uid(&self, account: AccountId, uid: &str) -> Result<Vec<Item>> {
        self.conns
            .read("items_by_uid", |tx| items::by_uid(tx, account, uid))
    }

    fn update_item(&self, account: AccountId, id: ItemId, change: &ItemChange) -> Result<Item> {
        self.account_write("update_item", account, |atx| items::update(atx, id, change))
    }

    fn update_items(
        &self,
        account: AccountId,
        changes: &[(ItemId, ItemChange)],
    ) -> Result<Vec<Item>> {
        self.account_write("update_items", account, |atx| {
            changes
                .iter()
                .map(|(id, change)| items::update(atx, *id, change))
                .collect()
        })
    }

    fn move_item(&self, account: AccountId, id: ItemId, dest: FolderId) -> Result<Item> {
        self.account_write("move_item", account, |atx| items::move_to(atx, id, dest))
    }

    fn delete_item(&self, account: AccountId, id: ItemId) -> Result<()> {
        self.account_write("delete_item", account, |atx| items::delete(atx, id))
    }

    fn empty_folder(
        &self,
        account: AccountId,
        folder: FolderId,
        delete_subfolders: bool,
    ) -> Result<usize> {
        self.account_write("empty_folder", account, |atx| {
            items::empty_folder(atx, folder, delete_subfolders)
        })
    }

    fn list_folder_items(&self, account: AccountId, folder: FolderId) -> Result<FolderItems> {
        self.conns
            .read("list_folder_items", |tx| items::list(tx, account, folder))
    }

    fn changed_since(
        &self,
        account: AccountId,
        folder: FolderId,
        since: Modseq,
    ) -> Result<ItemChanges> {
        self.conns.read("changed_since", |tx| {
            items::changed_since(tx, account, folder, since)
        })
    }

    fn prune_item_tombstones(
        &self,
        account: AccountId,
        folder: FolderId,
        through: Modseq,
    ) -> Result<usize> {
        self.conns.write("prune_item_tombstones", |tx| {
            items::prune_tombstones(tx, account, folder, through)
        })
    }

    fn change_counter(&self) -> Result<i64> {
        self.conns
            .read("change_counter", |tx| changes::change_counter(tx))
    }

    fn accounts_changed_since(&self, since: i64) -> Result<ChangesSince> {
        self.conns.read("accounts_changed_since", |tx| {
            changes::changes_since(tx, since)
        })
    }

    fn partnership(&self, account: AccountId, device_id: &str) -> Result<Option<Partnership>> {
        self.conns
            .read("partnership", |tx| devices::get(tx, account, device_id))
    }

    fn partnership_by_id(&self, id: PartnershipId) -> Result<Option<Partnership>> {
        self.conns
            .read("partnership_by_id", |tx| devices::by_id(tx, id))
    }

    fn create_partnership(
        &self,
        account: AccountId,
        device_id: &str,
        device_type: &str,
        user_agent: &str,
    ) -> Result<Partnership> {
        // Most calls find the row; only take the write lock when it is missing.
        if let Some(p) = self.partnership(account, device_id)? {
            return Ok(p);
        }
        self.conns.write("create_partnership", |tx| {
            devices::create(tx, account, device_id, device_type, user_agent)
        })
    }

    fn update_partnership(&self, p: &Partnership) -> Result<()> {
        self.conns
            .write("update_partnership", |tx| devices::update(tx, p))
    }

    fn record_partnership_activity(
        &self,
        id: PartnershipId,
        activity: &PartnershipActivity,
    ) -> Result<()> {
        self.conns.write("record_partnership_activity", |tx| {
            devices::record_activity(tx, id, activity)
        })
    }

    fn list_partnerships(&self, account: Option<AccountId>) -> Result<Vec<Partnership>> {
        self.conns
            .read("list_partnerships", |tx| devices::list(tx, account))
    }

    fn partnerships_by_device_id(&self, device_id: &str) -> Result<Vec<Partnership>> {
        self.conns.read("partnerships_by_device_id", |tx| {
            devices::by_device_id(tx, device_id)
        })
    }

    fn remove_partnership(&self, id: PartnershipId) -> Result<()> {
        self.conns
            .write("remove_partnership", |tx| devices::remove(tx, id))
    }

    fn put_sync_state(
        &self,
        partnership: PartnershipId,
        collection: &str,
        key: i64,
        blob: &[u8],
    ) -> Result<()> {
        self.conns.write("put_sync_state", |tx| {
            devices::put_sync_state(tx, partnership, collection, key, blob)
        })
    }

    fn sync_state(
        &self,
        partnership: PartnershipId,
        collection: &str,
        key: i64,
    ) -> Result<Option<Vec<u8>>> {
        self.conns.read("sync_state", |tx| {
            devices::sync_state(tx, partnership, collection, key)
        })
    }

    fn latest_sync_state(
        &self,
        partnership: PartnershipId,
        collection: &str,
    ) -> Result<Option<(i64, Vec<u8>)>> {
        self.conns.read("latest_sync_state", |tx| {
            devices::latest_sync_state(tx, partnership, collection)
        })
    }

    fn sync_state_keys(&self, partnership: PartnershipId) -> Result<Vec<(String, i64)>> {
        self.conns.read("sync_state_keys", |tx| {
            devices::sync_state_keys(tx, partnership)
        })
    }

    fn delete_sync_states(
        &self,
        partnership: PartnershipId,
        collection: Option<&str>,
    ) -> Result<()> {
        self.conns.write("delete_sync_states", |tx| {
            devices::delete_sync_states(tx, partnership, collection)
        })
    }

    fn oof(&self, account: AccountId) -> Result<Option<String>> {
        self.conns.read("oof", |tx| misc::oof(tx, account))
    }

    fn set_oof(&self, account: AccountId, settings: Option<&str>) -> Result<()> {
        self.conns
            .write("set_oof", |tx| misc::set_oof(tx, account, settings))
    }

    fn kv_get(&self, key: &str) -> Result<Option<String>> {
        self.conns.read("kv_get", |tx| misc::kv_get(tx, key))
    }

    fn kv_set(&self, key: &str, value: &str) -> Result<()> {
        self.conns
            .write("kv_set", |tx| misc::kv_set(tx, key, value))
    }

    fn kv_delete(&self, key: &str) -> Result<bool> {
        self.conns.write("kv_delete", |tx| misc::kv_delete(tx, key))
    }

    fn kv_list(&self, prefix: &str) -> Result<Vec<(String, String)>> {
        self.conns.read("kv_list", |tx| misc::kv_list(tx, prefix))
    }

    fn add_device_log(&self, entry: &NewDeviceLog) -> Result<i64> {
        self.conns
            .write("add_device_log", |tx| misc::add_device_log(tx, entry))
    }

    fn device_logs(
        &self,
        account: Option<AccountId>,
        device_id: Option<&str>,
        limit: usize,
    ) -> Result<Vec<DeviceLogEntry>> {
        self.conns.read("device_logs", |tx| {
            misc::device_logs(tx, account, device_id, limit)
        })
    }

    fn prune_device_logs(&self, before: i64) -> Result<usize> {
        self.conns.write("prune_device_logs", |tx| {
            misc::prune_device_logs(tx, before)
        })
    }
}
