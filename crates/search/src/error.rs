//! The one error type of the search crate.

/// What went wrong in the gazetteer or the property index.
///
/// `InvalidQuery` is the caller's fault (answer 400); the others are internal.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The query cannot be run as given (coordinates out of range, a bad bounding box, ...).
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    /// A line of the shipped gazetteer data could not be read.
    #[error("gazetteer data line {line}: {reason}")]
    Gazetteer { line: usize, reason: String },
    /// Tantivy failed (I/O, a locked index, a schema mismatch, ...).
    #[error("index: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// The index directory could not be opened.
    #[error("index directory: {0}")]
    Directory(#[from] tantivy::directory::error::OpenDirectoryError),
    /// The index directory could not be created.
    #[error("index directory: {0}")]
    Io(#[from] std::io::Error),
    /// The database could not be read (rebuilding or following the outbox).
    #[error("store: {0}")]
    Store(#[from] innkeep_app::StoreError),
    /// A stored document could not be read back (or written).
    #[error("a stored document: {0}")]
    Corrupt(String),
    /// A thread panicked while holding the index writer.
    #[error("the index writer lock is poisoned")]
    Poisoned,
}

impl SearchError {
    /// Whether the index is held by another writer (another process, or one not yet gone).
    pub fn is_locked(&self) -> bool {
        matches!(self, SearchError::Index(tantivy::TantivyError::LockFailure(..)))
    }
}
