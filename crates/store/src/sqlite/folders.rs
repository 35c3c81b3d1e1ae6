use std::collections::HashSet;

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::changes::AccountTx;
use crate::error::{Result, StoreError};
use crate::types::{AccountId, Folder, FolderChanges, FolderId, Modseq, ROOT_SERVER_ID};

const FOLDER_COLS: &str = "id, account_id, server_id, parent_server_id, display_name, \
     folder_type, is_default, created_modseq, modseq, content_modseq";

fn folder_from_row(r: &Row<'_>) -> rusqlite::Result<Folder> {
    Ok(Folder {
        id: FolderId(r.get(0)?),
        account: AccountId(r.get(1)?),
        server_id: r.get(2)?,
        parent_server_id: r.get(3)?,
        display_name: r.get(4)?,
        folder_type: r.get(5)?,
        is_default: r.get(6)?,
        created_modseq: Modseq(r.get(7)?),
        modseq: Modseq(r.get(8)?),
        content_modseq: Modseq(r.get(9)?),
    })
}

pub(crate) fn list(conn: &Connection, account: AccountId) -> Result<Vec<Folder>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {FOLDER_COLS} FROM folders WHERE account_id = ?1 ORDER BY id"
        ))?
        .query_map([account.0], folder_from_row)?
        .collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn get(conn: &Connection, account: AccountId, id: FolderId) -> Result<Option<Folder>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {FOLDER_COLS} FROM folders WHERE id = ?1 AND account_id = ?2"
        ))?
        .query_row([id.0, account.0], folder_from_row)
        .optional()?)
}

/// NotFound("folder") if absent or another account's.
pub(crate) fn require(conn: &Connection, account: AccountId, id: FolderId) -> Result<Folder> {
    get(conn, account, id)?.ok_or(StoreError::NotFound("folder"))
}

pub(crate) fn by_server_id(
    conn: &Connection,
    account: AccountId,
    server_id: &str,
) -> Result<Option<Folder>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {FOLDER_COLS} FROM folders WHERE account_id = ?1 AND server_id = ?2"
        ))?
        .query_row(params![account.0, server_id], folder_from_row)
        .optional()?)
}

pub(crate) fn default_folder(
    conn: &Connection,
    account: AccountId,
    folder_type: i32,
) -> Result<Option<Folder>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {FOLDER_COLS} FROM folders
             WHERE account_id = ?1 AND folder_type = ?2 AND is_default = 1
             ORDER BY id LIMIT 1"
        ))?
        .query_row(params![account.0, folder_type], folder_from_row)
        .optional()?)
}

fn name_taken(
    conn: &Connection,
    account: AccountId,
    parent: &str,
    name: &str,
    except: Option<FolderId>,
) -> Result<bool> {
    let id: Option<i64> = conn
        .prepare_cached(
            "SELECT id FROM folders WHERE account_id = ?1 AND parent_server_id = ?2
             AND display_name = ?3 COLLATE NOCASE",
        )?
        .query_row(params![account.0, parent, name], |r| r.get(0))
        .optional()?;
    Ok(matches!(id, Some(id) if Some(FolderId(id)) != except))
}

fn check_parent(conn: &Connection, account: AccountId, parent: &str) -> Result<()> {
    if parent != ROOT_SERVER_ID && by_server_id(conn, account, parent)?.is_none() {
        return Err(StoreError::NotFound("parent folder"));
    }
    Ok(())
}

/// Create a folder inside an account write transaction.
pub(crate) fn insert_folder(
    atx: &mut AccountTx<'_>,
    parent: &str,
    name: &str,
    folder_type: i32,
    is_default: bool,
) -> Result<Folder> {
    if name.trim().is_empty() {
        return Err(StoreError::Invalid("empty folder name"));
    }
    check_parent(atx.conn, atx.account, parent)?;
    if name_taken(atx.conn, atx.account, parent, name, None)? {
        return Err(StoreError::AlreadyExists("folder"));
    }
    let server_id = atx.alloc_folder_num().to_string();
    let m = atx.next_modseq();
    atx.conn
        .prepare_cached(
            "INSERT INTO folders (account_id, server_id, parent_server_id, display_name,
                 folder_type, is_default, created_modseq, modseq)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
        )?
        .execute(params![
            atx.account.0,
            server_id,
            parent,
            name,
            folder_type,
            is_default,
            m.0
        ])?;
    atx.touch_hierarchy();
    let id = FolderId(atx.conn.last_insert_rowid());
    require(atx.conn, atx.account, id)
}

pub(crate) fn update(
    atx: &mut AccountTx<'_>,
    id: FolderId,
    new_parent: &str,
    new_name: &str,
) -> Result<Folder> {
    let f = require(atx.conn, atx.account, id)?;
    if f.is_default {
        return Err(StoreError::SpecialFolder(f.display_name));
    }
    if new_name.trim().is_empty() {
        return Err(StoreError::Invalid("empty folder name"));
    }
    if f.parent_server_id == new_parent && f.display_name == new_name {
        return Ok(f);
    }
    check_parent(atx.conn, atx.account, new_parent)?;
    // Walk up from the new parent: meeting the folder itself means a cycle.
    let mut cur = new_parent.to_string();
    while cur != ROOT_SERVER_ID {
        if cur == f.server_id {
            return Err(StoreError::Invalid("folder moved under itself"));
        }
        match by_server_id(atx.conn, atx.account, &cur)? {
            Some(p) => cur = p.parent_server_id,
            None => break,
        }
    }
    if name_taken(atx.conn, atx.account, new_parent, new_name, Some(id))? {
        return Err(StoreError::AlreadyExists("folder"));
    }
    let m = atx.next_modseq();
    atx.conn.execute(
        "UPDATE folders SET parent_server_id = ?2, display_name = ?3, modseq = ?4 WHERE id = ?1",
        params![id.0, new_parent, new_name, m.0],
    )?;
    atx.touch_hierarchy();
    require(atx.conn, atx.account, id)
}

/// Delete a folder and its subtree, leaving folder tombstones. Items, their content and item
/// tombstones of these folders go by cascade (a device drops a deleted collection whole).
pub(crate) fn delete_tree(atx: &mut AccountTx<'_>, root: &Folder) -> Result<Vec<String>> {
    let subtree: Vec<(i64, String, i64)> = atx
        .conn
        .prepare_cached(
            "WITH RECURSIVE sub(id, server_id, created_modseq) AS (
                 SELECT id, server_id, created_modseq FROM folders WHERE id = ?1
                 UNION ALL
                 SELECT f.id, f.server_id, f.created_modseq FROM folders f
                 JOIN sub ON f.account_id = ?2 AND f.parent_server_id = sub.server_id
             )
             SELECT id, server_id, created_modseq FROM sub",
        )?
        .query_map(params![root.id.0, atx.account.0], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let m = atx.next_modseq();
    let mut deleted = Vec::with_capacity(subtree.len());
    for (id, server_id, created) in subtree {
        atx.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO folder_tombstones (account_id, server_id, created_modseq, modseq)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![atx.account.0, server_id, created, m.0])?;
        atx.conn
            .prepare_cached("DELETE FROM folders WHERE id = ?1")?
            .execute([id])?;
        // Also wake listeners on the deleted collection itself.
        atx.touch_folder(FolderId(id), m);
        deleted.push(server_id);
    }
    atx.touch_hierarchy();
    Ok(deleted)
}

pub(crate) fn changes_since(
    conn: &Connection,
    account: AccountId,
    since: Modseq,
) -> Result<FolderChanges> {
    let modseq = super::accounts::modseq(conn, account)?;
    let changed: Vec<Folder> = conn
        .prepare_cached(&format!(
            "SELECT {FOLDER_COLS} FROM folders WHERE account_id = ?1 AND modseq > ?2 ORDER BY id"
        ))?
        .query_map([account.0, since.0], folder_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    let deleted: Vec<String> = conn
        .prepare_cached(
            "SELECT server_id FROM folder_tombstones
             WHERE account_id = ?1 AND modseq > ?2 AND created_modseq <= ?2
             ORDER BY modseq, server_id",
        )?
        .query_map([account.0, since.0], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(FolderChanges {
        changed: parents_first(changed),
        deleted,
        modseq,
    })
}

/// Order folders so that a parent in the list comes before its children (clients reject an
/// Add whose ParentId they don't know yet). A folder moved under a newer one breaks plain
/// creation order, hence this.
fn parents_first(mut pending: Vec<Folder>) -> Vec<Folder> {
    let in_list: HashSet<String> = pending.iter().map(|f| f.server_id.clone()).collect();
    let mut emitted: HashSet<String> = HashSet::new();
    let mut out = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let before = pending.len();
        let mut rest = Vec::new();
        for f in pending {
            if !in_list.contains(&f.parent_server_id) || emitted.contains(&f.parent_server_id) {
                emitted.insert(f.server_id.clone());
                out.push(f);
            } else {
                rest.push(f);
            }
        }
        if rest.len() == before {
            // Impossible for a tree; don't loop forever on corrupt data.
            out.extend(rest);
            break;
        }
        pending = rest;
    }
    out
}
