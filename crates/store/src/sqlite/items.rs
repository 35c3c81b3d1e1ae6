use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::changes::AccountTx;
use super::folders;
use crate::error::{Result, StoreError};
use crate::types::{
    AccountId, FolderId, FolderItems, FullItem, Item, ItemChange, ItemChanges, ItemClass,
    ItemFields, ItemId, ItemSummary, Modseq, NewItem,
};

const ITEM_COLS: &str = "id, account_id, folder_id, server_id, class, modseq, created_modseq, \
     date_received, subject, from_addr, to_addr, cc_addr, is_read, flag_status, importance, \
     message_class, categories, conversation_id, size, has_attachments, uid, extra";

fn bad_json(col: usize, e: serde_json::Error) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(col, rusqlite::types::Type::Text, Box::new(e))
}

fn item_from_row(r: &Row<'_>) -> rusqlite::Result<Item> {
    let class: i64 = r.get(4)?;
    let class = ItemClass::from_i64(class).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            4,
            rusqlite::types::Type::Integer,
            format!("unknown item class {class}").into(),
        )
    })?;
    let categories: String = r.get(16)?;
    let extra: String = r.get(21)?;
    Ok(Item {
        id: ItemId(r.get(0)?),
        account: AccountId(r.get(1)?),
        folder: FolderId(r.get(2)?),
        server_id: r.get(3)?,
        class,
        modseq: Modseq(r.get(5)?),
        created_modseq: Modseq(r.get(6)?),
        fields: ItemFields {
            date_received: r.get(7)?,
            subject: r.get(8)?,
            from: r.get(9)?,
            to: r.get(10)?,
            cc: r.get(11)?,
            read: r.get(12)?,
            flag_status: r.get(13)?,
            importance: r.get(14)?,
            message_class: r.get(15)?,
            categories: serde_json::from_str(&categories).map_err(|e| bad_json(16, e))?,
            conversation_id: r.get(17)?,
            size: r.get(18)?,
            has_attachments: r.get(19)?,
            uid: r.get(20)?,
            extra: serde_json::from_str(&extra).map_err(|e| bad_json(21, e))?,
        },
    })
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
    // Vec<String> and serde_json::Value always serialize.
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

pub(crate) fn get(conn: &Connection, account: AccountId, id: ItemId) -> Result<Option<Item>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {ITEM_COLS} FROM items WHERE id = ?1 AND account_id = ?2"
        ))?
        .query_row([id.0, account.0], item_from_row)
        .optional()?)
}

fn require(conn: &Connection, account: AccountId, id: ItemId) -> Result<Item> {
    get(conn, account, id)?.ok_or(StoreError::NotFound("item"))
}

pub(crate) fn by_server_id(
    conn: &Connection,
    account: AccountId,
    server_id: &str,
) -> Result<Option<Item>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {ITEM_COLS} FROM items WHERE account_id = ?1 AND server_id = ?2"
        ))?
        .query_row(params![account.0, server_id], item_from_row)
        .optional()?)
}

pub(crate) fn by_uid(conn: &Connection, account: AccountId, uid: &str) -> Result<Vec<Item>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {ITEM_COLS} FROM items WHERE account_id = ?1 AND uid = ?2 ORDER BY id"
        ))?
        .query_map(params![account.0, uid], item_from_row)?
        .collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn content(conn: &Connection, account: AccountId, id: ItemId) -> Result<Vec<u8>> {
    conn.prepare_cached(
        "SELECT c.content FROM item_content c JOIN items i ON i.id = c.item_id
         WHERE i.id = ?1 AND i.account_id = ?2",
    )?
    .query_row([id.0, account.0], |r| r.get(0))
    .optional()?
    .ok_or(StoreError::NotFound("item"))
}

pub(crate) fn full(conn: &Connection, account: AccountId, ids: &[ItemId]) -> Result<Vec<FullItem>> {
    let mut out = Vec::with_capacity(ids.len());
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ITEM_COLS}, (SELECT content FROM item_content WHERE item_id = items.id)
         FROM items WHERE id = ?1 AND account_id = ?2"
    ))?;
    for id in ids {
        let row = stmt
            .query_row([id.0, account.0], |r| {
                let content: Option<Vec<u8>> = r.get(22)?;
                Ok(FullItem {
                    item: item_from_row(r)?,
                    content: content.unwrap_or_default(),
                })
            })
            .optional()?;
        out.extend(row);
    }
    Ok(out)
}

/// Insert one item inside an account write transaction. `folder_sid` is the server_id of
/// `item.folder`, already checked to belong to the account.
fn insert(atx: &mut AccountTx<'_>, folder_sid: &str, item: NewItem) -> Result<Item> {
    let m = atx.next_modseq();
    let server_id = format!("{folder_sid}:{}", atx.alloc_item_num());
    let f = &item.fields;
    // EstimatedDataSize defaults to the native content's size.
    let size = if f.size == 0 {
        item.content.len() as i64
    } else {
        f.size
    };
    atx.conn
        .prepare_cached(
            "INSERT INTO items (account_id, folder_id, server_id, class, modseq, created_modseq,
                 date_received, subject, from_addr, to_addr, cc_addr, is_read, flag_status,
                 importance, message_class, categories, conversation_id, size, has_attachments,
                 uid, extra)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                 ?17, ?18, ?19, ?20)",
        )?
        .execute(params![
            atx.account.0,
            item.folder.0,
            server_id,
            item.class.as_i64(),
            m.0,
            f.date_received,
            f.subject,
            f.from,
            f.to,
            f.cc,
            f.read,
            f.flag_status,
            f.importance,
            f.message_class,
            to_json(&f.categories),
            f.conversation_id,
            size,
            f.has_attachments,
            f.uid,
            to_json(&f.extra),
        ])?;
    let id = ItemId(atx.conn.last_insert_rowid());
    atx.conn
        .prepare_cached("INSERT INTO item_content (item_id, content) VALUES (?1, ?2)")?
        .execute(params![id.0, item.content])?;
    atx.touch_folder(item.folder, m);
    let mut fields = item.fields;
    fields.size = size;
    Ok(Item {
        id,
        account: atx.account,
        folder: item.folder,
        server_id,
        class: item.class,
        modseq: m,
        created_modseq: m,
        fields,
    })
}

pub(crate) fn add_many(atx: &mut AccountTx<'_>, items: Vec<NewItem>) -> Result<Vec<Item>> {
    let mut sids: HashMap<FolderId, String> = HashMap::new();
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let sid = match sids.get(&item.folder) {
            Some(s) => s.clone(),
            None => {
                let f = folders::require(atx.conn, atx.account, item.folder)?;
                sids.insert(item.folder, f.server_id.clone());
                f.server_id
            }
        };
        out.push(insert(atx, &sid, item)?);
    }
    Ok(out)
}

fn tombstone(atx: &mut AccountTx<'_>, item: &Item, m: Modseq) -> Result<()> {
    atx.conn
        .prepare_cached(
            "INSERT INTO item_tombstones (account_id, folder_id, server_id, created_modseq, modseq)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            atx.account.0,
            item.folder.0,
            item.server_id,
            item.created_modseq.0,
            m.0
        ])?;
    atx.touch_folder(item.folder, m);
    Ok(())
}

pub(crate) fn update(atx: &mut AccountTx<'_>, id: ItemId, change: &ItemChange) -> Result<Item> {
    let old = require(atx.conn, atx.account, id)?;
    let mut fields = old.fields.clone();
    let mut new_content = None;
    if let Some((content, f)) = &change.replace {
        fields = f.clone();
        if fields.size == 0 {
            fields.size = content.len() as i64;
        }
        new_content = Some(content);
    }
    if let Some(v) = change.read {
        fields.read = v;
    }
    if let Some(v) = change.flag_status {
        fields.flag_status = v;
    }
    if let Some(v) = &change.categories {
        fields.categories = v.clone();
    }
    if let Some(v) = &change.extra {
        fields.extra = v.clone();
    }
    if fields == old.fields && new_content.is_none() {
        return Ok(old);
    }
    let m = atx.next_modseq();
    let f = &fields;
    atx.conn
        .prepare_cached(
            "UPDATE items SET modseq = ?2, date_received = ?3, subject = ?4, from_addr = ?5,
                 to_addr = ?6, cc_addr = ?7, is_read = ?8, flag_status = ?9, importance = ?10,
                 message_class = ?11, categories = ?12, conversation_id = ?13, size = ?14,
                 has_attachments = ?15, uid = ?16, extra = ?17
             WHERE id = ?1",
        )?
        .execute(params![
            id.0,
            m.0,
            f.date_received,
            f.subject,
            f.from,
            f.to,
            f.cc,
            f.read,
            f.flag_status,
            f.importance,
            f.message_class,
            to_json(&f.categories),
            f.conversation_id,
            f.size,
            f.has_attachments,
            f.uid,
            to_json(&f.extra),
        ])?;
    if let Some(content) = new_content {
        atx.conn
            .prepare_cached("UPDATE item_content SET content = ?2 WHERE item_id = ?1")?
            .execute(params![id.0, content])?;
    }
    atx.touch_folder(old.folder, m);
    Ok(Item {
        modseq: m,
        fields,
        ..old
    })
}

pub(crate) fn move_to(atx: &mut AccountTx<'_>, id: ItemId, dest: FolderId) -> Result<Item> {
    let old = require(atx.conn, atx.account, id)?;
    let dest_folder = folders::require(atx.conn, atx.account, dest)?;
    if old.folder == dest {
        return Err(StoreError::Invalid(
            "source and destination folder are the same",
        ));
    }
    let m = atx.next_modseq();
    tombstone(atx, &old, m)?;
    let server_id = format!("{}:{}", dest_folder.server_id, atx.alloc_item_num());
    atx.conn
        .prepare_cached(
            "UPDATE items SET folder_id = ?2, server_id = ?3, modseq = ?4, created_modseq = ?4
             WHERE id = ?1",
        )?
        .execute(params![id.0, dest.0, server_id, m.0])?;
    atx.touch_folder(dest, m);
    Ok(Item {
        folder: dest,
        server_id,
        modseq: m,
        created_modseq: m,
        ..old
    })
}

pub(crate) fn delete(atx: &mut AccountTx<'_>, id: ItemId) -> Result<()> {
    let old = require(atx.conn, atx.account, id)?;
    let m = atx.next_modseq();
    tombstone(atx, &old, m)?;
    atx.conn
        .prepare_cached("DELETE FROM items WHERE id = ?1")?
        .execute([id.0])?;
    Ok(())
}

pub(crate) fn empty_folder(
    atx: &mut AccountTx<'_>,
    folder: FolderId,
    delete_subfolders: bool,
) -> Result<usize> {
    let f = folders::require(atx.conn, atx.account, folder)?;
    let m = atx.next_modseq();
    let n = atx.conn.execute(
        "INSERT INTO item_tombstones (account_id, folder_id, server_id, created_modseq, modseq)
         SELECT account_id, folder_id, server_id, created_modseq, ?2 FROM items
         WHERE folder_id = ?1",
        params![folder.0, m.0],
    )?;
    atx.conn
        .execute("DELETE FROM items WHERE folder_id = ?1", [folder.0])?;
    if n > 0 {
        atx.touch_folder(folder, m);
    }
    if delete_subfolders {
        let children: Vec<i64> = atx
            .conn
            .prepare_cached(
                "SELECT id FROM folders WHERE account_id = ?1 AND parent_server_id = ?2",
            )?
            .query_map(params![atx.account.0, f.server_id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for child in children {
            let child = folders::require(atx.conn, atx.account, FolderId(child))?;
            folders::delete_tree(atx, &child)?;
        }
    }
    Ok(n)
}

fn summary_from_row(r: &Row<'_>) -> rusqlite::Result<ItemSummary> {
    Ok(ItemSummary {
        id: ItemId(r.get(0)?),
        server_id: r.get(1)?,
        modseq: Modseq(r.get(2)?),
        created_modseq: Modseq(r.get(3)?),
        date_received: r.get(4)?,
    })
}

pub(crate) fn list(conn: &Connection, account: AccountId, folder: FolderId) -> Result<FolderItems> {
    let f = folders::require(conn, account, folder)?;
    // Served from the covering index items_folder_date.
    let items = conn
        .prepare_cached(
            "SELECT id, server_id, modseq, created_modseq, date_received FROM items
             WHERE folder_id = ?1 ORDER BY date_received DESC, id DESC",
        )?
        .query_map([folder.0], summary_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(FolderItems {
        items,
        modseq: f.content_modseq,
    })
}

pub(crate) fn changed_since(
    conn: &Connection,
    account: AccountId,
    folder: FolderId,
    since: Modseq,
) -> Result<ItemChanges> {
    let f = folders::require(conn, account, folder)?;
    let changed = conn
        .prepare_cached(
            "SELECT id, server_id, modseq, created_modseq, date_received FROM items
             WHERE folder_id = ?1 AND modseq > ?2 ORDER BY modseq, id",
        )?
        .query_map([folder.0, since.0], summary_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    let deleted = conn
        .prepare_cached(
            "SELECT server_id FROM item_tombstones
             WHERE folder_id = ?1 AND modseq > ?2 AND created_modseq <= ?2
             ORDER BY modseq, id",
        )?
        .query_map([folder.0, since.0], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let pruned: i64 = conn
        .prepare_cached("SELECT tombstones_pruned FROM folders WHERE id = ?1")?
        .query_row([folder.0], |r| r.get(0))?;
    Ok(ItemChanges {
        changed,
        deleted,
        modseq: f.content_modseq,
        truncated: since.0 < pruned,
    })
}

pub(crate) fn prune_tombstones(
    conn: &Connection,
    account: AccountId,
    folder: FolderId,
    through: Modseq,
) -> Result<usize> {
    folders::require(conn, account, folder)?;
    conn.execute(
        "UPDATE folders SET tombstones_pruned = max(tombstones_pruned, ?2) WHERE id = ?1",
        [folder.0, through.0],
    )?;
    Ok(conn.execute(
        "DELETE FROM item_tombstones WHERE folder_id = ?1 AND modseq <= ?2",
        [folder.0, through.0],
    )?)
}
