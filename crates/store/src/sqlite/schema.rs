//! Schema migrations, applied in order by a `PRAGMA user_version` runner. Never edit a
//! migration that has shipped; append a new one.

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{Result, StoreError};

/// Migration `i` takes the schema from version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: the initial schema.
    r#"
-- The global change counter: one row, bumped by every write transaction in any account.
-- Other processes (the server) poll it to notice writes made by `easd deliver` or the CLI.
-- change_events with counter <= pruned_through may have been deleted; about keep_events
-- counter values of events are kept.
CREATE TABLE counter (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    value          INTEGER NOT NULL,
    pruned_through INTEGER NOT NULL,
    keep_events    INTEGER NOT NULL
);
INSERT INTO counter (id, value, pruned_through, keep_events) VALUES (1, 0, 0, 4096);

-- What each counter value changed. kind: 0 folder content (ref = folder id),
-- 1 folder hierarchy (ref = 0), 2 partnership state (ref = partnership id),
-- 3 server settings (account 0). Pruned to the last few thousand counter values.
CREATE TABLE change_events (
    id         INTEGER PRIMARY KEY,
    counter    INTEGER NOT NULL,
    account_id INTEGER NOT NULL,
    kind       INTEGER NOT NULL,
    ref_id     INTEGER NOT NULL
);
CREATE INDEX change_events_counter ON change_events (counter);

CREATE TABLE accounts (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    email                 TEXT NOT NULL UNIQUE,
    password_hash         TEXT NOT NULL,
    display_name          TEXT NOT NULL DEFAULT '',
    credential_generation INTEGER NOT NULL,
    created_at            INTEGER NOT NULL,
    -- Per-account modseq counter (the change log), and the counters from which folder
    -- ServerIds and the numeric part of item ServerIds are allocated (never reused).
    modseq                INTEGER NOT NULL DEFAULT 0,
    next_folder_num       INTEGER NOT NULL DEFAULT 1,
    next_item_num         INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE account_aliases (
    address    TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE
);
CREATE INDEX account_aliases_account ON account_aliases (account_id);

CREATE TABLE folders (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id       INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    server_id        TEXT NOT NULL,
    parent_server_id TEXT NOT NULL,
    display_name     TEXT NOT NULL,
    folder_type      INTEGER NOT NULL,
    is_default       INTEGER NOT NULL DEFAULT 0,
    created_modseq   INTEGER NOT NULL,
    modseq           INTEGER NOT NULL,
    content_modseq   INTEGER NOT NULL DEFAULT 0,
    -- Item tombstones at or below this modseq were pruned.
    tombstones_pruned INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account_id, server_id)
);
-- Folder names are unique per parent, ignoring ASCII case as Exchange does.
CREATE UNIQUE INDEX folders_name ON folders (account_id, parent_server_id, display_name COLLATE NOCASE);
CREATE INDEX folders_modseq ON folders (account_id, modseq);

CREATE TABLE folder_tombstones (
    account_id     INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    server_id      TEXT NOT NULL,
    created_modseq INTEGER NOT NULL,
    modseq         INTEGER NOT NULL,
    PRIMARY KEY (account_id, server_id)
) WITHOUT ROWID;
CREATE INDEX folder_tombstones_modseq ON folder_tombstones (account_id, modseq);

-- Item rows stay small (content lives in item_content) so folder listings scan few pages.
CREATE TABLE items (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id      INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    folder_id       INTEGER NOT NULL REFERENCES folders (id) ON DELETE CASCADE,
    server_id       TEXT NOT NULL,
    class           INTEGER NOT NULL,
    modseq          INTEGER NOT NULL,
    created_modseq  INTEGER NOT NULL,
    date_received   INTEGER NOT NULL DEFAULT 0,
    subject         TEXT NOT NULL DEFAULT '',
    from_addr       TEXT NOT NULL DEFAULT '',
    to_addr         TEXT NOT NULL DEFAULT '',
    cc_addr         TEXT NOT NULL DEFAULT '',
    is_read         INTEGER NOT NULL DEFAULT 0,
    flag_status     INTEGER NOT NULL DEFAULT 0,
    importance      INTEGER NOT NULL DEFAULT 1,
    message_class   TEXT NOT NULL DEFAULT '',
    categories      TEXT NOT NULL DEFAULT '[]',
    conversation_id BLOB,
    size            INTEGER NOT NULL DEFAULT 0,
    has_attachments INTEGER NOT NULL DEFAULT 0,
    uid             TEXT,
    extra           TEXT NOT NULL DEFAULT 'null',
    UNIQUE (account_id, server_id)
);
-- Covering index for list_folder_items (newest first, id breaks ties) and FilterType
-- date windows: a 10,000-item folder is listed without touching the table.
CREATE INDEX items_folder_date ON items (folder_id, date_received, id, server_id, modseq, created_modseq);
CREATE INDEX items_folder_modseq ON items (folder_id, modseq);
CREATE INDEX items_uid ON items (account_id, uid) WHERE uid IS NOT NULL;
CREATE INDEX items_conversation ON items (account_id, conversation_id) WHERE conversation_id IS NOT NULL;

CREATE TABLE item_content (
    item_id INTEGER PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE,
    content BLOB NOT NULL
);

-- Deletions and moves-out. created_modseq is when the server_id came to be, so a change
-- query can skip items the device never saw.
CREATE TABLE item_tombstones (
    id             INTEGER PRIMARY KEY,
    account_id     INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    folder_id      INTEGER NOT NULL REFERENCES folders (id) ON DELETE CASCADE,
    server_id      TEXT NOT NULL,
    created_modseq INTEGER NOT NULL,
    modseq         INTEGER NOT NULL
);
CREATE INDEX item_tombstones_folder ON item_tombstones (folder_id, modseq);

CREATE TABLE partnerships (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id         INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    device_id          TEXT NOT NULL,
    device_type        TEXT NOT NULL DEFAULT '',
    user_agent         TEXT NOT NULL DEFAULT '',
    protocol_version   TEXT NOT NULL DEFAULT '',
    model              TEXT NOT NULL DEFAULT '',
    imei               TEXT NOT NULL DEFAULT '',
    friendly_name      TEXT NOT NULL DEFAULT '',
    os                 TEXT NOT NULL DEFAULT '',
    os_language        TEXT NOT NULL DEFAULT '',
    phone_number       TEXT NOT NULL DEFAULT '',
    mobile_operator    TEXT NOT NULL DEFAULT '',
    created_at         INTEGER NOT NULL,
    first_sync         INTEGER,
    last_sync          INTEGER,
    last_sync_attempt  INTEGER,
    last_ping          INTEGER,
    last_heartbeat     INTEGER,
    policy_key         INTEGER NOT NULL DEFAULT 0,
    policy_status      INTEGER NOT NULL DEFAULT 0,
    provisioned_policy TEXT NOT NULL DEFAULT '',
    access_state       TEXT NOT NULL DEFAULT 'allowed',
    access_reason      TEXT NOT NULL DEFAULT '',
    wipe_state         TEXT NOT NULL DEFAULT 'none',
    wipe_requested_at  INTEGER,
    wipe_acked_at      INTEGER,
    items_sent         INTEGER NOT NULL DEFAULT 0,
    items_received     INTEGER NOT NULL DEFAULT 0,
    last_error         TEXT NOT NULL DEFAULT '',
    ping_folders       TEXT NOT NULL DEFAULT 'null',
    ping_heartbeat     INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account_id, device_id)
);
CREATE INDEX partnerships_device ON partnerships (device_id);

CREATE TABLE sync_states (
    partnership_id INTEGER NOT NULL REFERENCES partnerships (id) ON DELETE CASCADE,
    collection     TEXT NOT NULL,
    sync_key       INTEGER NOT NULL,
    blob           BLOB NOT NULL,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (partnership_id, collection, sync_key)
) WITHOUT ROWID;

CREATE TABLE oof (
    account_id INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    settings   TEXT NOT NULL
);

CREATE TABLE kv (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE device_log (
    id             INTEGER PRIMARY KEY,
    account_id     INTEGER REFERENCES accounts (id) ON DELETE CASCADE,
    device_id      TEXT NOT NULL,
    partnership_id INTEGER REFERENCES partnerships (id) ON DELETE SET NULL,
    at             INTEGER NOT NULL,
    command        TEXT NOT NULL,
    request_xml    TEXT NOT NULL,
    response_xml   TEXT NOT NULL,
    meta           TEXT NOT NULL
);
CREATE INDEX device_log_account ON device_log (account_id, device_id, id);
CREATE INDEX device_log_at ON device_log (at);
"#,
    // 2: when the device last completed the Provision handshake (the policy refresh
    // interval counts from it), and when its last error happened.
    r#"
ALTER TABLE partnerships ADD COLUMN provisioned_at INTEGER;
ALTER TABLE partnerships ADD COLUMN last_error_at INTEGER;
"#,
];

/// Bring the schema up to date. Runs in one IMMEDIATE transaction and re-reads the version
/// inside it, so two processes opening a fresh data dir at once migrate it only once.
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    let known = MIGRATIONS.len() as i64;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > known {
        return Err(StoreError::SchemaTooNew {
            found: version,
            known,
        });
    }
    for sql in &MIGRATIONS[version as usize..] {
        tx.execute_batch(sql)?;
    }
    if version < known {
        // PRAGMA takes no bound parameters; `known` is our own integer.
        tx.execute_batch(&format!("PRAGMA user_version = {known}"))?;
    }
    tx.commit()?;
    Ok(())
}
