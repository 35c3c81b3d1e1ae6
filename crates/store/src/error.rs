use std::path::PathBuf;

/// Errors of the store. "Not found", "already exists" and "special folder" are distinct
/// variants because the engine maps them to distinct EAS statuses.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The named thing does not exist (or belongs to another account: invariant 7).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A unique name is taken (account email, alias, folder name under a parent).
    #[error("{0} already exists")]
    AlreadyExists(&'static str),
    /// A default folder can't be deleted, renamed or moved.
    #[error("{0} is a special folder")]
    SpecialFolder(String),
    /// The request makes no sense (moving a folder under itself, same source and
    /// destination, ...).
    #[error("invalid request: {0}")]
    Invalid(&'static str),
    #[error("sqlite error in {op}: {source}")]
    Sqlite {
        op: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    #[error("cannot create data directory {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("corrupt data in {op}: {detail}")]
    Corrupt { op: &'static str, detail: String },
    #[error("database schema version {found} is newer than this build knows ({known})")]
    SchemaTooNew { found: i64, known: i64 },
}

impl StoreError {
    /// True for "not found" of any kind.
    pub fn is_not_found(&self) -> bool {
        matches!(self, StoreError::NotFound(_))
    }

    /// True when SQLite gave up waiting for a lock (another process held it longer than
    /// the busy timeout). Such an operation may be retried.
    pub fn is_busy(&self) -> bool {
        matches!(
            self,
            StoreError::Sqlite {
                source: rusqlite::Error::SqliteFailure(e, _),
                ..
            } if matches!(e.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        )
    }

    /// Fill in the operation name of errors raised by `?` inside an operation.
    pub(crate) fn in_op(self, op: &'static str) -> Self {
        match self {
            StoreError::Sqlite { op: "", source } => StoreError::Sqlite { op, source },
            StoreError::Corrupt { op: "", detail } => StoreError::Corrupt { op, detail },
            e => e,
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(source: rusqlite::Error) -> Self {
        // The operation name is filled in by the wrapper that runs the operation.
        StoreError::Sqlite { op: "", source }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
