//! Connections: one writer behind a mutex, a small pool of readers. WAL lets readers run
//! alongside the writer, in this process and in others (`easd deliver`, the CLI).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::error::{Result, StoreError};

/// How long a statement waits for another connection's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Idle reader connections kept open.
const MAX_IDLE_READERS: usize = 4;

pub(crate) struct Connections {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic inside an operation rolls its transaction back (Transaction's Drop), so the
    // connection behind a poisoned mutex is still sound.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn configure(conn: &Connection, reader: bool) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // The store has a few dozen distinct statements; the default cache of 16 would thrash.
    conn.set_prepared_statement_cache_capacity(96);
    // FULL: the WAL is fsynced at every commit, so an acknowledged write (LMTP 250, Sync
    // Status 1) survives power loss and kill -9 (invariant 1).
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    if reader {
        conn.pragma_update(None, "query_only", true)?;
    }
    Ok(())
}

fn open_conn(path: &Path) -> rusqlite::Result<Connection> {
    Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )
}

/// Switch to WAL. The mode is persistent in the file; switching needs an exclusive lock for
/// a moment, and the busy handler is not consulted for it, so retry briefly when another
/// process is doing the same.
fn enable_wal(conn: &Connection) -> Result<()> {
    let mut tries = 0;
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)) {
            Ok(mode) if mode.eq_ignore_ascii_case("wal") => return Ok(()),
            Ok(mode) => {
                return Err(StoreError::Corrupt {
                    op: "open",
                    detail: format!("cannot enable WAL, journal_mode is {mode}"),
                })
            }
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && tries < 100 =>
            {
                tries += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => {
                return Err(StoreError::Sqlite {
                    op: "open",
                    source: e,
                })
            }
        }
    }
}

impl Connections {
    pub(crate) fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                    path: dir.to_path_buf(),
                    source,
                })?;
            }
        }
        let mut writer = open_conn(path).map_err(|e| StoreError::from(e).in_op("open"))?;
        configure(&writer, false).map_err(|e| StoreError::from(e).in_op("open"))?;
        enable_wal(&writer)?;
        super::schema::migrate(&mut writer).map_err(|e| e.in_op("migrate"))?;
        Ok(Connections {
            path: path.to_path_buf(),
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
        })
    }

    fn take_reader(&self) -> Result<Connection> {
        if let Some(c) = lock(&self.readers).pop() {
            return Ok(c);
        }
        let c = open_conn(&self.path)?;
        configure(&c, true)?;
        Ok(c)
    }

    fn put_reader(&self, c: Connection) {
        let mut idle = lock(&self.readers);
        if idle.len() < MAX_IDLE_READERS {
            idle.push(c);
        }
    }

    /// Run a read-only operation in one read transaction (a consistent snapshot).
    pub(crate) fn read<T>(
        &self,
        op: &'static str,
        f: impl FnOnce(&Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        let run = |conn: &mut Connection| -> Result<T> {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        };
        let mut conn = self.take_reader().map_err(|e| e.in_op(op))?;
        let out = run(&mut conn);
        // A connection whose transaction failed to end is dropped rather than reused.
        if conn.is_autocommit() {
            self.put_reader(conn);
        }
        out.map_err(|e| e.in_op(op))
    }

    /// Run a write operation in one IMMEDIATE transaction: the write lock is taken up front,
    /// so two processes never deadlock upgrading read locks, and the busy timeout applies.
    pub(crate) fn write<T>(
        &self,
        op: &'static str,
        f: impl FnOnce(&Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut conn = lock(&self.writer);
        let run = |conn: &mut Connection| -> Result<T> {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        };
        run(&mut conn).map_err(|e| e.in_op(op))
    }
}
