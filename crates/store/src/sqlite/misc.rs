//! OOF settings, the server-wide key/value settings and device logs.

use rusqlite::{params, Connection, OptionalExtension};

use super::changes::{bump_counter, KIND_SETTINGS};
use crate::error::{Result, StoreError};
use crate::types::{AccountId, DeviceLogEntry, NewDeviceLog, PartnershipId};

pub(crate) fn oof(conn: &Connection, account: AccountId) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT settings FROM oof WHERE account_id = ?1")?
        .query_row([account.0], |r| r.get(0))
        .optional()?)
}

pub(crate) fn set_oof(conn: &Connection, account: AccountId, settings: Option<&str>) -> Result<()> {
    if super::accounts::get(conn, account)?.is_none() {
        return Err(StoreError::NotFound("account"));
    }
    match settings {
        Some(s) => conn.execute(
            "INSERT INTO oof (account_id, settings) VALUES (?1, ?2)
             ON CONFLICT (account_id) DO UPDATE SET settings = excluded.settings",
            params![account.0, s],
        )?,
        None => conn.execute("DELETE FROM oof WHERE account_id = ?1", [account.0])?,
    };
    Ok(())
}

pub(crate) fn kv_get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM kv WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

/// Settings changes are announced through the change counter so a running server reloads
/// access rules and policies the CLI changed.
pub(crate) fn kv_set(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO kv (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    bump_counter(conn, &[(AccountId(0), KIND_SETTINGS, 0)])?;
    Ok(())
}

pub(crate) fn kv_delete(conn: &Connection, key: &str) -> Result<bool> {
    let n = conn.execute("DELETE FROM kv WHERE key = ?1", [key])?;
    if n > 0 {
        bump_counter(conn, &[(AccountId(0), KIND_SETTINGS, 0)])?;
    }
    Ok(n > 0)
}

pub(crate) fn kv_list(conn: &Connection, prefix: &str) -> Result<Vec<(String, String)>> {
    // substr comparison rather than LIKE: keys may contain % and _.
    Ok(conn
        .prepare_cached(
            "SELECT key, value FROM kv WHERE substr(key, 1, length(?1)) = ?1 ORDER BY key",
        )?
        .query_map([prefix], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn add_device_log(conn: &Connection, e: &NewDeviceLog) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO device_log (account_id, device_id, partnership_id, at, command,
             request_xml, response_xml, meta)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        e.account.map(|a| a.0),
        e.device_id,
        e.partnership.map(|p| p.0),
        e.at,
        e.command,
        e.request_xml,
        e.response_xml,
        serde_json::to_string(&e.meta).unwrap_or_else(|_| "null".into()),
    ])?;
    Ok(conn.last_insert_rowid())
}

pub(crate) fn device_logs(
    conn: &Connection,
    account: Option<AccountId>,
    device_id: Option<&str>,
    limit: usize,
) -> Result<Vec<DeviceLogEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, account_id, device_id, partnership_id, at, command, request_xml,
             response_xml, meta
         FROM device_log
         WHERE (?1 IS NULL OR account_id = ?1) AND (?2 IS NULL OR device_id = ?2)
         ORDER BY id DESC LIMIT ?3",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt
        .query_map(params![account.map(|a| a.0), device_id, limit], |r| {
            let meta: String = r.get(8)?;
            Ok(DeviceLogEntry {
                id: r.get(0)?,
                entry: NewDeviceLog {
                    account: r.get::<_, Option<i64>>(1)?.map(AccountId),
                    device_id: r.get(2)?,
                    partnership: r.get::<_, Option<i64>>(3)?.map(PartnershipId),
                    at: r.get(4)?,
                    command: r.get(5)?,
                    request_xml: r.get(6)?,
                    response_xml: r.get(7)?,
                    meta: serde_json::from_str(&meta).unwrap_or(serde_json::Value::Null),
                },
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

pub(crate) fn prune_device_logs(conn: &Connection, before: i64) -> Result<usize> {
    Ok(conn.execute("DELETE FROM device_log WHERE at < ?1", [before])?)
}
