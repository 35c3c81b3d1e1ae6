//! Partnerships and their sync states.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::changes::{bump_counter, KIND_PARTNERSHIP};
use super::now;
use crate::error::{Result, StoreError};
use crate::types::{
    AccessState, AccountId, Partnership, PartnershipActivity, PartnershipId, WipeState,
};

const P_COLS: &str = "id, account_id, device_id, device_type, user_agent, protocol_version, \
     model, imei, friendly_name, os, os_language, phone_number, mobile_operator, created_at, \
     first_sync, last_sync, last_sync_attempt, last_ping, last_heartbeat, policy_key, \
     policy_status, provisioned_policy, access_state, access_reason, wipe_state, \
     wipe_requested_at, wipe_acked_at, items_sent, items_received, last_error, ping_folders, \
     ping_heartbeat, provisioned_at, last_error_at";

fn conversion(col: usize, msg: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(col, rusqlite::types::Type::Text, msg.into())
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Partnership> {
    let access: String = r.get(22)?;
    let wipe: String = r.get(24)?;
    let ping_folders: String = r.get(30)?;
    Ok(Partnership {
        id: PartnershipId(r.get(0)?),
        account: AccountId(r.get(1)?),
        device_id: r.get(2)?,
        device_type: r.get(3)?,
        user_agent: r.get(4)?,
        protocol_version: r.get(5)?,
        model: r.get(6)?,
        imei: r.get(7)?,
        friendly_name: r.get(8)?,
        os: r.get(9)?,
        os_language: r.get(10)?,
        phone_number: r.get(11)?,
        mobile_operator: r.get(12)?,
        created_at: r.get(13)?,
        first_sync: r.get(14)?,
        last_sync: r.get(15)?,
        last_sync_attempt: r.get(16)?,
        last_ping: r.get(17)?,
        last_heartbeat: r.get(18)?,
        policy_key: r.get(19)?,
        policy_status: r.get(20)?,
        provisioned_policy: r.get(21)?,
        access_state: AccessState::parse(&access)
            .ok_or_else(|| conversion(22, format!("unknown access state {access:?}")))?,
        access_reason: r.get(23)?,
        wipe_state: WipeState::parse(&wipe)
            .ok_or_else(|| conversion(24, format!("unknown wipe state {wipe:?}")))?,
        wipe_requested_at: r.get(25)?,
        wipe_acked_at: r.get(26)?,
        items_sent: r.get(27)?,
        items_received: r.get(28)?,
        last_error: r.get(29)?,
        ping_folders: serde_json::from_str(&ping_folders)
            .map_err(|e| conversion(30, e.to_string()))?,
        ping_heartbeat: r.get(31)?,
        provisioned_at: r.get(32)?,
        last_error_at: r.get(33)?,
    })
}

pub(crate) fn get(
    conn: &Connection,
    account: AccountId,
    device_id: &str,
) -> Result<Option<Partnership>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {P_COLS} FROM partnerships WHERE account_id = ?1 AND device_id = ?2"
        ))?
        .query_row(params![account.0, device_id], from_row)
        .optional()?)
}

pub(crate) fn by_id(conn: &Connection, id: PartnershipId) -> Result<Option<Partnership>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {P_COLS} FROM partnerships WHERE id = ?1"))?
        .query_row([id.0], from_row)
        .optional()?)
}

pub(crate) fn list(conn: &Connection, account: Option<AccountId>) -> Result<Vec<Partnership>> {
    let rows = match account {
        Some(a) => conn
            .prepare_cached(&format!(
                "SELECT {P_COLS} FROM partnerships WHERE account_id = ?1 ORDER BY id"
            ))?
            .query_map([a.0], from_row)?
            .collect::<rusqlite::Result<_>>()?,
        None => conn
            .prepare_cached(&format!("SELECT {P_COLS} FROM partnerships ORDER BY id"))?
            .query_map([], from_row)?
            .collect::<rusqlite::Result<_>>()?,
    };
    Ok(rows)
}

pub(crate) fn by_device_id(conn: &Connection, device_id: &str) -> Result<Vec<Partnership>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {P_COLS} FROM partnerships WHERE device_id = ?1 ORDER BY id"
        ))?
        .query_map([device_id], from_row)?
        .collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn create(
    conn: &Connection,
    account: AccountId,
    device_id: &str,
    device_type: &str,
    user_agent: &str,
) -> Result<Partnership> {
    if let Some(p) = get(conn, account, device_id)? {
        return Ok(p);
    }
    if super::accounts::get(conn, account)?.is_none() {
        return Err(StoreError::NotFound("account"));
    }
    conn.execute(
        "INSERT INTO partnerships (account_id, device_id, device_type, user_agent, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![account.0, device_id, device_type, user_agent, now()],
    )?;
    get(conn, account, device_id)?.ok_or(StoreError::NotFound("partnership"))
}

pub(crate) fn update(conn: &Connection, p: &Partnership) -> Result<()> {
    let old = by_id(conn, p.id)?
        .filter(|o| o.account == p.account)
        .ok_or(StoreError::NotFound("partnership"))?;
    // The statistics columns are left alone: concurrent requests add to them in SQL
    // (`record_activity`), and a whole-row write from a stale copy would lose counts.
    conn.prepare_cached(
        "UPDATE partnerships SET device_type = ?2, user_agent = ?3, protocol_version = ?4,
             model = ?5, imei = ?6, friendly_name = ?7, os = ?8, os_language = ?9,
             phone_number = ?10, mobile_operator = ?11, last_ping = ?12, last_heartbeat = ?13,
             policy_key = ?14, policy_status = ?15, provisioned_policy = ?16,
             provisioned_at = ?17, access_state = ?18, access_reason = ?19, wipe_state = ?20,
             wipe_requested_at = ?21, wipe_acked_at = ?22, ping_folders = ?23,
             ping_heartbeat = ?24
         WHERE id = ?1",
    )?
    .execute(params![
        p.id.0,
        p.device_type,
        p.user_agent,
        p.protocol_version,
        p.model,
        p.imei,
        p.friendly_name,
        p.os,
        p.os_language,
        p.phone_number,
        p.mobile_operator,
        p.last_ping,
        p.last_heartbeat,
        p.policy_key,
        p.policy_status,
        p.provisioned_policy,
        p.provisioned_at,
        p.access_state.as_str(),
        p.access_reason,
        p.wipe_state.as_str(),
        p.wipe_requested_at,
        p.wipe_acked_at,
        serde_json::to_string(&p.ping_folders).unwrap_or_else(|_| "null".into()),
        p.ping_heartbeat,
    ])?;
    // Only decisions about the device wake its parked requests (a block or wipe from the
    // CLI must reach a running server at once); routine bookkeeping does not.
    // The device's own Provision changes the key: no event (it would end its next Ping).
    if old.access_state != p.access_state || old.wipe_state != p.wipe_state {
        bump_counter(conn, &[(p.account, KIND_PARTNERSHIP, p.id.0)])?;
    }
    Ok(())
}

/// Adds one request to the statistics in place: increments and conditional sets in SQL, so
/// concurrent requests of the device never lose each other's counts.
pub(crate) fn record_activity(
    conn: &Connection,
    id: PartnershipId,
    a: &PartnershipActivity,
) -> Result<()> {
    let n = conn
        .prepare_cached(
            "UPDATE partnerships SET
                 last_sync_attempt = max(coalesce(last_sync_attempt, 0), ?2),
                 last_sync = CASE WHEN ?3 THEN max(coalesce(last_sync, 0), ?2) ELSE last_sync END,
                 first_sync = CASE WHEN ?3 THEN coalesce(first_sync, ?2) ELSE first_sync END,
                 items_sent = items_sent + ?4,
                 items_received = items_received + ?5,
                 last_error = coalesce(?6, last_error),
                 last_error_at = CASE WHEN ?6 IS NULL THEN last_error_at ELSE ?2 END
             WHERE id = ?1",
        )?
        .execute(params![
            id.0,
            a.at,
            a.synced,
            a.items_sent,
            a.items_received,
            a.error
        ])?;
    if n == 0 {
        return Err(StoreError::NotFound("partnership"));
    }
    Ok(())
}

pub(crate) fn remove(conn: &Connection, id: PartnershipId) -> Result<()> {
    let p = by_id(conn, id)?.ok_or(StoreError::NotFound("partnership"))?;
    // Sync states go by cascade, so a re-added account starts clean.
    conn.execute("DELETE FROM partnerships WHERE id = ?1", [id.0])?;
    bump_counter(conn, &[(p.account, KIND_PARTNERSHIP, id.0)])?;
    Ok(())
}

pub(crate) fn put_sync_state(
    conn: &Connection,
    pid: PartnershipId,
    collection: &str,
    key: i64,
    blob: &[u8],
) -> Result<()> {
    if by_id(conn, pid)?.is_none() {
        return Err(StoreError::NotFound("partnership"));
    }
    conn.prepare_cached(
        "INSERT OR REPLACE INTO sync_states (partnership_id, collection, sync_key, blob, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![pid.0, collection, key, blob, now()])?;
    // Keep exactly this key and the one before (invariant 2). Deleting everything else, not
    // just older keys, also drops higher keys left from before a reset to key 1.
    conn.prepare_cached(
        "DELETE FROM sync_states WHERE partnership_id = ?1 AND collection = ?2
         AND sync_key <> ?3 AND sync_key <> ?3 - 1",
    )?
    .execute(params![pid.0, collection, key])?;
    Ok(())
}

pub(crate) fn sync_state(
    conn: &Connection,
    pid: PartnershipId,
    collection: &str,
    key: i64,
) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .prepare_cached(
            "SELECT blob FROM sync_states
             WHERE partnership_id = ?1 AND collection = ?2 AND sync_key = ?3",
        )?
        .query_row(params![pid.0, collection, key], |r| r.get(0))
        .optional()?)
}

pub(crate) fn latest_sync_state(
    conn: &Connection,
    pid: PartnershipId,
    collection: &str,
) -> Result<Option<(i64, Vec<u8>)>> {
    Ok(conn
        .prepare_cached(
            "SELECT sync_key, blob FROM sync_states
             WHERE partnership_id = ?1 AND collection = ?2 ORDER BY sync_key DESC LIMIT 1",
        )?
        .query_row(params![pid.0, collection], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

pub(crate) fn sync_state_keys(conn: &Connection, pid: PartnershipId) -> Result<Vec<(String, i64)>> {
    Ok(conn
        .prepare_cached(
            "SELECT collection, max(sync_key) FROM sync_states WHERE partnership_id = ?1
             GROUP BY collection ORDER BY collection",
        )?
        .query_map([pid.0], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn delete_sync_states(
    conn: &Connection,
    pid: PartnershipId,
    collection: Option<&str>,
) -> Result<()> {
    match collection {
        Some(c) => conn.execute(
            "DELETE FROM sync_states WHERE partnership_id = ?1 AND collection = ?2",
            params![pid.0, c],
        )?,
        None => conn.execute("DELETE FROM sync_states WHERE partnership_id = ?1", [pid.0])?,
    };
    Ok(())
}
