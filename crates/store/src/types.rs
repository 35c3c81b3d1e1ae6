//! Plain data types of the store. Nothing here knows about WBXML or EAS requests; the
//! engine maps these to protocol types.

use serde::{Deserialize, Serialize};

macro_rules! id_newtype {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_newtype!(
    /// Internal row id of an account. Never reused (AUTOINCREMENT), so caches keyed by it
    /// can't mistake a new account for a removed one.
    AccountId
);
id_newtype!(
    /// Internal row id of a folder (not the EAS folder ServerId string).
    FolderId
);
id_newtype!(
    /// Internal row id of an item (not the EAS ServerId string).
    ItemId
);
id_newtype!(
    /// Internal row id of a partnership (account × EAS DeviceId). Named so to avoid
    /// confusion with the EAS DeviceId string.
    PartnershipId
);
id_newtype!(
    /// Per-account modification sequence. Every write to an account's folders or items
    /// takes a fresh value from the account's counter in the same transaction.
    Modseq
);

/// EAS folder types, MS-ASCMD 2.2.3.186.3 (FolderSync Type).
pub mod folder_type {
    pub const USER_GENERIC: i32 = 1;
    pub const INBOX: i32 = 2;
    pub const DRAFTS: i32 = 3;
    pub const DELETED_ITEMS: i32 = 4;
    pub const SENT_ITEMS: i32 = 5;
    pub const OUTBOX: i32 = 6;
    pub const TASKS: i32 = 7;
    pub const CALENDAR: i32 = 8;
    pub const CONTACTS: i32 = 9;
    pub const NOTES: i32 = 10;
    pub const JOURNAL: i32 = 11;
    pub const USER_MAIL: i32 = 12;
    pub const USER_CALENDAR: i32 = 13;
    pub const USER_CONTACTS: i32 = 14;
    pub const USER_TASKS: i32 = 15;
    pub const USER_JOURNAL: i32 = 16;
    pub const USER_NOTES: i32 = 17;
    pub const UNKNOWN: i32 = 18;
    pub const RECIPIENT_INFO_CACHE: i32 = 19;
}

/// The default folder set created with every account: (display name, EAS type).
/// Junk E-Mail has no type of its own in MS-ASCMD, so it is a user-created mail
/// folder (12), as other servers do; it is still flagged `is_default` (undeletable).
pub const DEFAULT_FOLDERS: &[(&str, i32)] = &[
    ("Inbox", folder_type::INBOX),
    ("Drafts", folder_type::DRAFTS),
    ("Deleted Items", folder_type::DELETED_ITEMS),
    ("Sent Items", folder_type::SENT_ITEMS),
    ("Outbox", folder_type::OUTBOX),
    ("Tasks", folder_type::TASKS),
    ("Calendar", folder_type::CALENDAR),
    ("Contacts", folder_type::CONTACTS),
    ("Notes", folder_type::NOTES),
    ("Junk E-Mail", folder_type::USER_MAIL),
];

/// The EAS ServerId of the root folder (parent of top-level folders), MS-ASCMD 2.2.3.123.
pub const ROOT_SERVER_ID: &str = "0";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: AccountId,
    /// Lowercased primary address, also the login name.
    pub email: String,
    /// argon2id PHC string. Never serialized (JSON output of the CLI must not show it).
    #[serde(skip)]
    pub password_hash: String,
    pub display_name: String,
    /// Additional lowercased addresses that deliver to this account.
    pub aliases: Vec<String>,
    /// Changes whenever the credentials change (set_password). Values are taken from the
    /// global change counter, so they are never reused, even across a remove and re-create
    /// of the same email: an auth cache keyed by (email, generation) can't go stale.
    pub credential_generation: i64,
    /// Unix seconds.
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Folder {
    pub id: FolderId,
    pub account: AccountId,
    /// EAS folder ServerId, unique per account, never reused.
    pub server_id: String,
    /// "0" for a top-level folder.
    pub parent_server_id: String,
    pub display_name: String,
    /// MS-ASCMD 2.2.3.186.3, see [`folder_type`].
    pub folder_type: i32,
    /// One of the default set: can't be deleted, renamed or moved (FolderDelete/FolderUpdate
    /// Status 3, "special folder").
    pub is_default: bool,
    pub created_modseq: Modseq,
    /// Last hierarchy change of this folder (create, rename, move).
    pub modseq: Modseq,
    /// Highest item change in this folder, including tombstones; 0 if none yet.
    pub content_modseq: Modseq,
}

/// Class of an item; which native format `content` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ItemClass {
    /// RFC 5322 bytes.
    Email,
    /// iCalendar (VEVENT).
    Calendar,
    /// vCard.
    Contacts,
    /// iCalendar (VTODO).
    Tasks,
    /// Plain text.
    Notes,
}

impl ItemClass {
    pub fn as_i64(self) -> i64 {
        match self {
            ItemClass::Email => 1,
            ItemClass::Calendar => 2,
            ItemClass::Contacts => 3,
            ItemClass::Tasks => 4,
            ItemClass::Notes => 5,
        }
    }

    pub fn from_i64(v: i64) -> Option<Self> {
        Some(match v {
            1 => ItemClass::Email,
            2 => ItemClass::Calendar,
            3 => ItemClass::Contacts,
            4 => ItemClass::Tasks,
            5 => ItemClass::Notes,
            _ => return None,
        })
    }
}

/// Parsed, queryable fields of an item. Mail fields are real columns; everything else the
/// engine wants to cache goes in `extra` (stored as JSON text).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemFields {
    pub subject: String,
    pub from: String,
    pub to: String,
    pub cc: String,
    /// Unix seconds. The date FilterType compares against (mail: received date; the engine
    /// decides for other classes). Indexed.
    pub date_received: i64,
    pub read: bool,
    /// 0 none, 1 complete, 2 active (MS-ASEMAIL Flag/Status).
    pub flag_status: i32,
    /// 0 low, 1 normal, 2 high.
    pub importance: i32,
    pub message_class: String,
    pub categories: Vec<String>,
    /// EAS ConversationId bytes (opaque, MS-ASEMAIL 2.2.2.20).
    pub conversation_id: Option<Vec<u8>>,
    /// Size in bytes of the native content (EstimatedDataSize).
    pub size: i64,
    pub has_attachments: bool,
    /// Message-ID for mail, UID for iCalendar/vCard. Indexed, for meeting responses and
    /// duplicate checks.
    pub uid: Option<String>,
    /// Anything else the engine wants to cache.
    pub extra: serde_json::Value,
}

impl Default for ItemFields {
    fn default() -> Self {
        ItemFields {
            subject: String::new(),
            from: String::new(),
            to: String::new(),
            cc: String::new(),
            date_received: 0,
            read: false,
            flag_status: 0,
            importance: 1,
            message_class: String::new(),
            categories: Vec::new(),
            conversation_id: None,
            size: 0,
            has_attachments: false,
            uid: None,
            extra: serde_json::Value::Null,
        }
    }
}

/// An item to add.
#[derive(Debug, Clone, PartialEq)]
pub struct NewItem {
    pub folder: FolderId,
    pub class: ItemClass,
    pub content: Vec<u8>,
    pub fields: ItemFields,
}

/// An item without its content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub id: ItemId,
    pub account: AccountId,
    pub folder: FolderId,
    /// EAS ServerId "<folder server_id>:<n>", stable while the item stays in its folder.
    pub server_id: String,
    pub class: ItemClass,
    /// Last change of this item.
    pub modseq: Modseq,
    /// When the item got its current server_id (added or moved in).
    pub created_modseq: Modseq,
    pub fields: ItemFields,
}

/// An item with its native content, for rendering a Sync window or ItemOperations Fetch.
#[derive(Debug, Clone, PartialEq)]
pub struct FullItem {
    pub item: Item,
    pub content: Vec<u8>,
}

/// The cheap view of an item, for snapshots and change detection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemSummary {
    pub id: ItemId,
    pub server_id: String,
    pub modseq: Modseq,
    /// When the item got this server_id: `created_modseq > since` means "new to a device
    /// synced up to `since`" (an Add), otherwise a Change.
    pub created_modseq: Modseq,
    pub date_received: i64,
}

/// All items of a folder, newest `date_received` first, and the folder's content modseq
/// read in the same snapshot (use it as the baseline for later `changed_since`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderItems {
    pub items: Vec<ItemSummary>,
    pub modseq: Modseq,
}

/// Changes in a folder since a modseq, read in one snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemChanges {
    /// Items added to or changed in the folder (ordered by modseq).
    pub changed: Vec<ItemSummary>,
    /// Server ids deleted from or moved out of the folder. Items that were both added and
    /// removed after `since` are left out (the device never saw them).
    pub deleted: Vec<String>,
    /// The folder's content modseq at the time of the read: the next baseline.
    pub modseq: Modseq,
    /// Tombstones newer than `since` were pruned, so `deleted` may be incomplete: the
    /// caller must compare against its own snapshot (or reset the collection).
    pub truncated: bool,
}

/// Folder hierarchy changes since a modseq, read in one snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderChanges {
    /// Folders created, renamed or moved; parents come before their children.
    pub changed: Vec<Folder>,
    /// Server ids of deleted folders (created at or before `since`).
    pub deleted: Vec<String>,
    /// The account's modseq at the time of the read: the next baseline.
    pub modseq: Modseq,
}

/// A change to an item. `None` leaves a field alone. The item's modseq is bumped only when
/// something actually changes, so a client re-sending its own state causes no echo.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ItemChange {
    pub read: Option<bool>,
    pub flag_status: Option<i32>,
    pub categories: Option<Vec<String>>,
    pub extra: Option<serde_json::Value>,
    /// Replace content and all fields (calendar/contact/task/note changes from a client).
    pub replace: Option<(Vec<u8>, ItemFields)>,
}

/// Which kinds of change an account saw, for waking push listeners.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountChanges {
    pub account: AccountId,
    /// Folders whose items changed.
    pub folders: Vec<FolderId>,
    /// The folder hierarchy changed (or the account was removed).
    pub hierarchy: bool,
    /// Partnerships whose access, wipe or policy state changed.
    pub partnerships: Vec<PartnershipId>,
}

/// Result of [`crate::Store::accounts_changed_since`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangesSince {
    /// The global change counter these events run up to; pass it next time.
    pub counter: i64,
    /// Events between the given counter and the oldest kept one were pruned: the caller
    /// must treat every account as changed.
    pub truncated: bool,
    pub accounts: Vec<AccountChanges>,
    /// Server-wide settings (the `kv` table) changed.
    pub settings: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessState {
    #[default]
    Allowed,
    Blocked,
    Quarantined,
}

impl AccessState {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessState::Allowed => "allowed",
            AccessState::Blocked => "blocked",
            AccessState::Quarantined => "quarantined",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "allowed" => AccessState::Allowed,
            "blocked" => AccessState::Blocked,
            "quarantined" => AccessState::Quarantined,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WipeState {
    #[default]
    None,
    /// Full device wipe requested (Provision RemoteWipe).
    PendingFull,
    /// Account-only wipe requested (EAS 16.1 AccountOnlyRemoteWipe).
    PendingAccount,
    /// The device acknowledged the wipe.
    Wiped,
}

impl WipeState {
    pub fn as_str(self) -> &'static str {
        match self {
            WipeState::None => "none",
            WipeState::PendingFull => "pending_full",
            WipeState::PendingAccount => "pending_account",
            WipeState::Wiped => "wiped",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "none" => WipeState::None,
            "pending_full" => WipeState::PendingFull,
            "pending_account" => WipeState::PendingAccount,
            "wiped" => WipeState::Wiped,
            _ => return None,
        })
    }
}

/// A device partnership: one EAS DeviceId used by one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partnership {
    pub id: PartnershipId,
    pub account: AccountId,
    /// EAS DeviceId, as the device sent it.
    pub device_id: String,
    pub device_type: String,
    pub user_agent: String,
    pub protocol_version: String,
    // Settings DeviceInformation (MS-ASCMD 2.2.3.43).
    pub model: String,
    pub imei: String,
    pub friendly_name: String,
    pub os: String,
    pub os_language: String,
    pub phone_number: String,
    pub mobile_operator: String,
    /// Unix seconds of row creation.
    pub created_at: i64,
    // Unix seconds; None = never.
    pub first_sync: Option<i64>,
    pub last_sync: Option<i64>,
    pub last_sync_attempt: Option<i64>,
    pub last_ping: Option<i64>,
    pub last_heartbeat: Option<i64>,
    /// 0 = none issued.
    pub policy_key: i64,
    pub policy_status: i32,
    /// The policy the device acknowledged last (the engine's policy name and revision).
    pub provisioned_policy: String,
    /// Unix seconds of the last completed Provision handshake.
    #[serde(default)]
    pub provisioned_at: Option<i64>,
    pub access_state: AccessState,
    /// Why the access state is what it is (invariant 8).
    pub access_reason: String,
    pub wipe_state: WipeState,
    pub wipe_requested_at: Option<i64>,
    pub wipe_acked_at: Option<i64>,
    // Statistics (written only by `Store::record_partnership_activity`).
    /// Items the server sent to the device.
    pub items_sent: i64,
    /// Items the device sent to the server.
    pub items_received: i64,
    pub last_error: String,
    #[serde(default)]
    pub last_error_at: Option<i64>,
    /// Folders of the last Ping (JSON chosen by the engine), so a Ping without a body can
    /// reuse them (MS-ASCMD 2.2.3.130).
    pub ping_folders: serde_json::Value,
    /// Heartbeat of the last Ping, seconds; 0 = none.
    pub ping_heartbeat: i64,
}

/// One request of a device, for its statistics (the manner of Exchange's
/// Get-MobileDeviceStatistics).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnershipActivity {
    /// Unix seconds.
    pub at: i64,
    /// A synchronization (Sync, FolderSync) that succeeded: sets the last and first sync.
    pub synced: bool,
    pub items_sent: i64,
    pub items_received: i64,
    /// The request failed: why (kept with its time until the next error).
    pub error: Option<String>,
}

/// A device log entry to insert (mailbox logging of requests and responses).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewDeviceLog {
    pub account: Option<AccountId>,
    pub device_id: String,
    pub partnership: Option<PartnershipId>,
    /// Unix seconds.
    pub at: i64,
    pub command: String,
    pub request_xml: String,
    pub response_xml: String,
    pub meta: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceLogEntry {
    pub id: i64,
    #[serde(flatten)]
    pub entry: NewDeviceLog,
}
