//! Photos of a property: which image formats are accepted (recognised by their first
//! bytes, never by a name or a claimed type) and how large one may be.

use serde::{Deserialize, Serialize};

/// Largest photo accepted, in bytes (10 MiB).
pub const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;

/// The image formats a photo may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageKind {
    Jpeg,
    Png,
    Webp,
}

/// Why bytes are not an acceptable photo.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhotoError {
    #[error("the photo is empty")]
    Empty,
    #[error("the photo is {size} bytes; the limit is {max} bytes")]
    TooLarge { size: usize, max: usize },
    #[error("the photo is not a JPEG, PNG or WebP image")]
    UnsupportedType,
    #[error("the photo could not be read: {0}")]
    Unreadable(String),
}

impl ImageKind {
    /// The format the bytes start with, if it is one we accept.
    pub fn sniff(bytes: &[u8]) -> Option<ImageKind> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageKind::Jpeg)
        } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
            Some(ImageKind::Png)
        } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(ImageKind::Webp)
        } else {
            None
        }
    }

    /// Check a would-be photo: not empty, within the size limit, a format we accept.
    pub fn check(bytes: &[u8]) -> Result<ImageKind, PhotoError> {
        if bytes.is_empty() {
            return Err(PhotoError::Empty);
        }
        if bytes.len() > MAX_PHOTO_BYTES {
            return Err(PhotoError::TooLarge { size: bytes.len(), max: MAX_PHOTO_BYTES });
        }
        ImageKind::sniff(bytes).ok_or(PhotoError::UnsupportedType)
    }

    /// The media type to serve it with.
    pub fn content_type(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Png => "image/png",
            ImageKind::Webp => "image/webp",
        }
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "jpg",
            ImageKind::Png => "png",
            ImageKind::Webp => "webp",
        }
    }

    /// The kind named by a stored media type.
    pub fn from_content_type(s: &str) -> Option<ImageKind> {
        match s {
            "image/jpeg" => Some(ImageKind::Jpeg),
            "image/png" => Some(ImageKind::Png),
            "image/webp" => Some(ImageKind::Webp),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_recognised_by_their_first_bytes() {
        assert_eq!(ImageKind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some(ImageKind::Jpeg));
        assert_eq!(ImageKind::sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some(ImageKind::Png));
        assert_eq!(ImageKind::sniff(b"RIFF\x24\0\0\0WEBPVP8 "), Some(ImageKind::Webp));
        assert_eq!(ImageKind::sniff(b"GIF89a"), None);
        assert_eq!(ImageKind::sniff(b"<svg xmlns="), None);
        assert_eq!(ImageKind::sniff(b"RIFF\x24\0\0\0WAVE"), None);
    }

    #[test]
    fn empty_and_oversized_photos_are_refused() {
        assert_eq!(ImageKind::check(&[]), Err(PhotoError::Empty));
        let mut big = vec![0u8; MAX_PHOTO_BYTES + 1];
        big[..3].copy_from_slice(&[0xFF, 0xD8, 0xFF]);
        assert!(matches!(ImageKind::check(&big), Err(PhotoError::TooLarge { .. })));
        big.truncate(MAX_PHOTO_BYTES);
        assert_eq!(ImageKind::check(&big), Ok(ImageKind::Jpeg));
        assert_eq!(ImageKind::check(b"plain text"), Err(PhotoError::UnsupportedType));
    }
}
