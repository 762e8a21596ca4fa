//! The object-storage port: bytes stored and read by key. Photos live here; backups and
//! the analytics lake will too. Backends: a local directory (the default) or an S3 API.

use async_trait::async_trait;

/// An object-storage failure; always internal (the caller did nothing wrong).
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error("invalid object key {0:?}")]
    InvalidKey(String),
    #[error("object storage: {0}")]
    Backend(String),
    /// The storage has no room left (a full disk or quota).
    #[error("object storage full: {0}")]
    Full(String),
}

/// Bytes by key. Keys are relative paths of `[a-z0-9._-]` segments joined by `/`.
#[async_trait]
pub trait ObjectStorage: Send + Sync + 'static {
    /// Store bytes under a key, replacing whatever was there.
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), ObjectError>;
    /// The bytes under a key, or `None` if there are none.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ObjectError>;
    /// Remove a key; removing a missing key is not an error.
    async fn delete(&self, key: &str) -> Result<(), ObjectError>;
    /// Where the objects are, for operators (no secrets).
    fn describe(&self) -> String;
}

/// Whether a key is a safe relative path: non-empty segments of `[A-Za-z0-9._-]`, no `.` or `..`.
pub fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 512
        && key.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        })
}

#[cfg(test)]
mod tests {
    use super::valid_key;

    #[test]
    fn keys_cannot_escape_their_root() {
        assert!(valid_key("photos/0190-ab/0190-cd.jpg"));
        assert!(!valid_key("../etc/passwd"));
        assert!(!valid_key("/abs"));
        assert!(!valid_key("a//b"));
        assert!(!valid_key("a/./b"));
        assert!(!valid_key("a b"));
        assert!(!valid_key(""));
    }
}
