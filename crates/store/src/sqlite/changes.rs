//! The change log: per-account modseq allocation inside a write transaction, the global
//! change counter and its events.

use std::collections::BTreeMap;

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::{Result, StoreError};
use crate::types::{AccountChanges, AccountId, ChangesSince, FolderId, Modseq, PartnershipId};

/// Prune once every this many counter values (or `keep_events`, if smaller), to keep
/// ordinary writes cheap. Events older than `counter.keep_events` counter values are pruned;
/// a poller further behind is told `truncated` and wakes everyone.
const PRUNE_EVERY: i64 = 256;

pub(crate) const KIND_FOLDER: i64 = 0;
pub(crate) const KIND_HIERARCHY: i64 = 1;
pub(crate) const KIND_PARTNERSHIP: i64 = 2;
pub(crate) const KIND_SETTINGS: i64 = 3;

/// Bump the global change counter and record what changed. Call once per write
/// transaction that others may want to hear about.
pub(crate) fn bump_counter(conn: &Connection, events: &[(AccountId, i64, i64)]) -> Result<i64> {
    let (value, keep): (i64, i64) = conn
        .prepare_cached(
            "UPDATE counter SET value = value + 1 WHERE id = 1 RETURNING value, keep_events",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    {
        let mut ins = conn.prepare_cached(
            "INSERT INTO change_events (counter, account_id, kind, ref_id) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for (account, kind, ref_id) in events {
            ins.execute(params![value, account.0, kind, ref_id])?;
        }
    }
    if value % PRUNE_EVERY.min(keep).max(1) == 0 && value > keep {
        let through = value - keep;
        conn.execute("DELETE FROM change_events WHERE counter <= ?1", [through])?;
        conn.execute(
            "UPDATE counter SET pruned_through = ?1 WHERE id = 1",
            [through],
        )?;
    }
    Ok(value)
}

pub(crate) fn set_keep_events(conn: &Connection, keep: i64) -> Result<()> {
    conn.execute(
        "UPDATE counter SET keep_events = ?1 WHERE id = 1",
        [keep.max(1)],
    )?;
    Ok(())
}

pub(crate) fn change_counter(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT value FROM counter WHERE id = 1")?
        .query_row([], |r| r.get(0))?)
}

pub(crate) fn changes_since(conn: &Connection, since: i64) -> Result<ChangesSince> {
    let (counter, pruned_through): (i64, i64) = conn
        .prepare_cached("SELECT value, pruned_through FROM counter WHERE id = 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let mut out = ChangesSince {
        counter,
        truncated: since < pruned_through,
        ..Default::default()
    };
    if since >= counter {
        return Ok(out);
    }
    let mut by_account: BTreeMap<i64, AccountChanges> = BTreeMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT account_id, kind, ref_id FROM change_events WHERE counter > ?1 ORDER BY id",
    )?;
    let mut rows = stmt.query([since])?;
    while let Some(r) = rows.next()? {
        let (account, kind, ref_id): (i64, i64, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
        if kind == KIND_SETTINGS {
            out.settings = true;
            continue;
        }
        let entry = by_account.entry(account).or_insert_with(|| AccountChanges {
            account: AccountId(account),
            ..Default::default()
        });
        match kind {
            KIND_FOLDER if !entry.folders.contains(&FolderId(ref_id)) => {
                entry.folders.push(FolderId(ref_id))
            }
            KIND_HIERARCHY => entry.hierarchy = true,
            KIND_PARTNERSHIP if !entry.partnerships.contains(&PartnershipId(ref_id)) => {
                entry.partnerships.push(PartnershipId(ref_id))
            }
            _ => {}
        }
    }
    out.accounts = by_account.into_values().collect();
    Ok(out)
}

/// A write transaction on one account's folders and items. Allocates modseqs and ServerId
/// numbers in memory and writes the counters back in `finish`, so a bulk import of n items
/// does not update the account row n times. Must be finished before the transaction commits.
pub(crate) struct AccountTx<'c> {
    pub conn: &'c Connection,
    pub account: AccountId,
    modseq: i64,
    next_folder_num: i64,
    next_item_num: i64,
    /// folder -> highest content modseq given out in this transaction.
    folders: BTreeMap<i64, i64>,
    hierarchy: bool,
}

impl<'c> AccountTx<'c> {
    /// NotFound("account") if the account does not exist.
    pub fn begin(conn: &'c Connection, account: AccountId) -> Result<Self> {
        let row = conn
            .prepare_cached(
                "SELECT modseq, next_folder_num, next_item_num FROM accounts WHERE id = ?1",
            )?
            .query_row([account.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let (modseq, next_folder_num, next_item_num) =
            row.ok_or(StoreError::NotFound("account"))?;
        Ok(AccountTx {
            conn,
            account,
            modseq,
            next_folder_num,
            next_item_num,
            folders: BTreeMap::new(),
            hierarchy: false,
        })
    }

    pub fn next_modseq(&mut self) -> Modseq {
        self.modseq += 1;
        Modseq(self.modseq)
    }

    pub fn alloc_folder_num(&mut self) -> i64 {
        let n = self.next_folder_num;
        self.next_folder_num += 1;
        n
    }

    pub fn alloc_item_num(&mut self) -> i64 {
        let n = self.next_item_num;
        self.next_item_num += 1;
        n
    }

    /// Record an item change (or tombstone) in a folder at `modseq`.
    pub fn touch_folder(&mut self, folder: FolderId, modseq: Modseq) {
        let e = self.folders.entry(folder.0).or_insert(0);
        *e = (*e).max(modseq.0);
    }

    pub fn touch_hierarchy(&mut self) {
        self.hierarchy = true;
    }

    /// Whether anything was changed.
    pub fn dirty(&self) -> bool {
        self.hierarchy || !self.folders.is_empty()
    }

    /// Write the counters back and record change events. Returns the global counter value
    /// (or None if nothing changed).
    pub fn finish(self) -> Result<Option<i64>> {
        if !self.dirty() {
            return Ok(None);
        }
        self.conn
            .prepare_cached(
                "UPDATE accounts SET modseq = ?2, next_folder_num = ?3, next_item_num = ?4
                 WHERE id = ?1",
            )?
            .execute(params![
                self.account.0,
                self.modseq,
                self.next_folder_num,
                self.next_item_num
            ])?;
        let mut events = Vec::with_capacity(self.folders.len() + 1);
        {
            let mut upd = self.conn.prepare_cached(
                "UPDATE folders SET content_modseq = max(content_modseq, ?2) WHERE id = ?1",
            )?;
            for (&folder, &modseq) in &self.folders {
                // A folder deleted in this same transaction simply matches no row.
                upd.execute(params![folder, modseq])?;
                events.push((self.account, KIND_FOLDER, folder));
            }
        }
        if self.hierarchy {
            events.push((self.account, KIND_HIERARCHY, 0));
        }
        Ok(Some(bump_counter(self.conn, &events)?))
    }
}
