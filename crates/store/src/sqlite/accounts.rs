use rusqlite::{params, Connection, OptionalExtension, Row};

use super::changes::{bump_counter, AccountTx, KIND_HIERARCHY};
use super::folders::insert_folder;
use super::now;
use crate::error::{Result, StoreError};
use crate::types::{Account, AccountId, Modseq, DEFAULT_FOLDERS, ROOT_SERVER_ID};

const ACCOUNT_COLS: &str =
    "id, email, password_hash, display_name, credential_generation, created_at";

pub(crate) fn normalize_address(s: &str) -> String {
    s.trim().to_lowercase()
}

fn account_from_row(r: &Row<'_>) -> rusqlite::Result<Account> {
    Ok(Account {
        id: AccountId(r.get(0)?),
        email: r.get(1)?,
        password_hash: r.get(2)?,
        display_name: r.get(3)?,
        aliases: Vec::new(),
        credential_generation: r.get(4)?,
        created_at: r.get(5)?,
    })
}

fn with_aliases(conn: &Connection, mut a: Account) -> Result<Account> {
    let mut stmt = conn.prepare_cached(
        "SELECT address FROM account_aliases WHERE account_id = ?1 ORDER BY address",
    )?;
    a.aliases = stmt
        .query_map([a.id.0], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(a)
}

pub(crate) fn get(conn: &Connection, id: AccountId) -> Result<Option<Account>> {
    let a = conn
        .prepare_cached(&format!(
            "SELECT {ACCOUNT_COLS} FROM accounts WHERE id = ?1"
        ))?
        .query_row([id.0], account_from_row)
        .optional()?;
    a.map(|a| with_aliases(conn, a)).transpose()
}

pub(crate) fn by_email(conn: &Connection, email: &str) -> Result<Option<Account>> {
    let a = conn
        .prepare_cached(&format!(
            "SELECT {ACCOUNT_COLS} FROM accounts WHERE email = ?1"
        ))?
        .query_row([normalize_address(email)], account_from_row)
        .optional()?;
    a.map(|a| with_aliases(conn, a)).transpose()
}

pub(crate) fn by_address(conn: &Connection, address: &str) -> Result<Option<Account>> {
    if let Some(a) = by_email(conn, address)? {
        return Ok(Some(a));
    }
    let id: Option<i64> = conn
        .prepare_cached("SELECT account_id FROM account_aliases WHERE address = ?1")?
        .query_row([normalize_address(address)], |r| r.get(0))
        .optional()?;
    match id {
        Some(id) => get(conn, AccountId(id)),
        None => Ok(None),
    }
}

pub(crate) fn list(conn: &Connection) -> Result<Vec<Account>> {
    let accounts: Vec<Account> = conn
        .prepare_cached(&format!("SELECT {ACCOUNT_COLS} FROM accounts ORDER BY id"))?
        .query_map([], account_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    accounts
        .into_iter()
        .map(|a| with_aliases(conn, a))
        .collect()
}

fn address_taken(conn: &Connection, address: &str) -> Result<bool> {
    let n: i64 = conn.query_row(
        "SELECT (SELECT count(*) FROM accounts WHERE email = ?1)
              + (SELECT count(*) FROM account_aliases WHERE address = ?1)",
        [address],
        |r| r.get(0),
    )?;
    Ok(n > 0)
}

pub(crate) fn create(conn: &Connection, email: &str, password_hash: &str) -> Result<Account> {
    let email = normalize_address(email);
    if email.is_empty() {
        return Err(StoreError::Invalid("empty email address"));
    }
    if address_taken(conn, &email)? {
        return Err(StoreError::AlreadyExists("account"));
    }
    conn.execute(
        "INSERT INTO accounts (email, password_hash, credential_generation, created_at)
         VALUES (?1, ?2, 0, ?3)",
        params![email, password_hash, now()],
    )?;
    let id = AccountId(conn.last_insert_rowid());
    let mut atx = AccountTx::begin(conn, id)?;
    for (name, ty) in DEFAULT_FOLDERS {
        insert_folder(&mut atx, ROOT_SERVER_ID, name, *ty, true)?;
    }
    let counter = atx.finish()?.unwrap_or(0);
    // Generations come from the global counter so they are never reused (see Account).
    conn.execute(
        "UPDATE accounts SET credential_generation = ?2 WHERE id = ?1",
        params![id.0, counter],
    )?;
    get(conn, id)?.ok_or(StoreError::NotFound("account"))
}

pub(crate) fn set_password(conn: &Connection, id: AccountId, hash: &str) -> Result<i64> {
    if get(conn, id)?.is_none() {
        return Err(StoreError::NotFound("account"));
    }
    let generation = bump_counter(conn, &[])?;
    conn.execute(
        "UPDATE accounts SET password_hash = ?2, credential_generation = ?3 WHERE id = ?1",
        params![id.0, hash, generation],
    )?;
    Ok(generation)
}

pub(crate) fn set_display_name(conn: &Connection, id: AccountId, name: &str) -> Result<()> {
    let n = conn.execute(
        "UPDATE accounts SET display_name = ?2 WHERE id = ?1",
        params![id.0, name],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound("account"));
    }
    Ok(())
}

pub(crate) fn add_alias(conn: &Connection, id: AccountId, address: &str) -> Result<()> {
    let address = normalize_address(address);
    if address.is_empty() {
        return Err(StoreError::Invalid("empty alias"));
    }
    if get(conn, id)?.is_none() {
        return Err(StoreError::NotFound("account"));
    }
    if address_taken(conn, &address)? {
        return Err(StoreError::AlreadyExists("address"));
    }
    conn.execute(
        "INSERT INTO account_aliases (address, account_id) VALUES (?1, ?2)",
        params![address, id.0],
    )?;
    Ok(())
}

pub(crate) fn remove_alias(conn: &Connection, id: AccountId, address: &str) -> Result<()> {
    let n = conn.execute(
        "DELETE FROM account_aliases WHERE address = ?1 AND account_id = ?2",
        params![normalize_address(address), id.0],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound("alias"));
    }
    Ok(())
}

pub(crate) fn remove(conn: &Connection, id: AccountId) -> Result<()> {
    // Foreign keys cascade to folders, items, content, tombstones, partnerships, sync
    // states, OOF and device logs.
    let n = conn.execute("DELETE FROM accounts WHERE id = ?1", [id.0])?;
    if n == 0 {
        return Err(StoreError::NotFound("account"));
    }
    // A hierarchy event wakes the account's parked Pings, which then find it gone.
    bump_counter(conn, &[(id, KIND_HIERARCHY, 0)])?;
    Ok(())
}

pub(crate) fn modseq(conn: &Connection, id: AccountId) -> Result<Modseq> {
    conn.prepare_cached("SELECT modseq FROM accounts WHERE id = ?1")?
        .query_row([id.0], |r| r.get(0))
        .optional()?
        .map(Modseq)
        .ok_or(StoreError::NotFound("account"))
}
