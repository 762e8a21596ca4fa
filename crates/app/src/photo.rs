//! Photos of a property: a host uploads one (checked by its first bytes, size-limited,
//! only for a property of the host's tenant); the bytes go to object storage, the record
//! and its `photo.added` event to the store in one transaction.

use crate::catalog::managed_property;
use crate::event::{Change, Event, PhotoAdded};
use crate::objects::{ObjectError, ObjectStorage};
use crate::store::Photo;
use crate::{Actor, AppError, Ports, StoreError};
use innkeep_core::{Duty, ImageKind, PhotoError, PhotoId, PropertyId};
use jiff::Timestamp;

/// Most photos one property may have.
pub const MAX_PHOTOS_PER_PROPERTY: usize = 40;
/// Longest description (alt text) of a photo, in characters.
pub const MAX_ALT_CHARS: usize = 200;

/// A photo to add: its bytes and a short description for people who cannot see it.
#[derive(Debug, Clone)]
pub struct NewPhoto {
    pub bytes: Vec<u8>,
    pub alt: String,
}

/// An object-storage failure: nothing was saved, so a write answers 503 to try again (a
/// full disk as `storage_full`); a key we made ourselves that is refused is internal.
fn internal(e: ObjectError) -> AppError {
    AppError::Store(match e {
        ObjectError::Full(m) => StoreError::Full(m),
        ObjectError::Backend(m) => StoreError::Unavailable(m),
        ObjectError::InvalidKey(_) => StoreError::Database(e.to_string()),
    })
}

impl From<PhotoError> for AppError {
    fn from(e: PhotoError) -> Self {
        let code = match e {
            PhotoError::Empty => "photo_empty",
            PhotoError::TooLarge { .. } => "photo_too_large",
            PhotoError::UnsupportedType => "unsupported_media_type",
        };
        AppError::invalid("photo", code, e.to_string())
    }
}

/// Add a photo to a property the actor manages (another tenant's property is not found).
#[tracing::instrument(skip_all, fields(property_id = %property_id))]
pub async fn add_photo(
    ports: &Ports,
    objects: &dyn ObjectStorage,
    actor: &Actor,
    property_id: PropertyId,
    new: NewPhoto,
    now: Timestamp,
) -> Result<Photo, AppError> {
    let property = managed_property(ports, actor, property_id, Duty::Listings).await?;
    let kind = ImageKind::check(&new.bytes)?;
    let alt = new.alt.trim().to_string();
    if alt.chars().count() > MAX_ALT_CHARS {
        return Err(AppError::invalid("alt", "alt_too_long", format!("at most {MAX_ALT_CHARS} characters")));
    }
    let alt = if alt.is_empty() { format!("Photo of {}", property.draft.name) } else { alt };
    if ports.store.photos_of(property_id).await?.len() >= MAX_PHOTOS_PER_PROPERTY {
        return Err(AppError::Conflict(format!("a property has at most {MAX_PHOTOS_PER_PROPERTY} photos")));
    }
    let id = PhotoId::new_v7(now);
    let photo = Photo {
        id,
        property_id,
        tenant_id: property.tenant_id,
        kind,
        size: new.bytes.len() as u64,
        alt,
        key: format!("photos/{property_id}/{id}.{}", kind.extension()),
        created_at: now,
    };
    objects.put(&photo.key, new.bytes).await.map_err(internal)?;
    let added =
        PhotoAdded { photo_id: id, property_id, content_type: kind.content_type().to_string(), size: photo.size };
    let event = Event::new(&Change::PhotoAdded(added), now, Some(photo.tenant_id), property_id.0);
    if let Err(e) = ports.store.insert_photo(&photo, &event).await {
        // The record was not written, so nothing refers to the bytes: remove them.
        if let Err(cleanup) = objects.delete(&photo.key).await {
            tracing::warn!(error = %cleanup, photo_id = %id, "orphan photo bytes left in object storage");
        }
        return Err(e.into());
    }
    tracing::info!(photo_id = %id, property_id = %property_id, size = photo.size, "photo added");
    Ok(photo)
}

/// The photos of a property, in upload order (public, like the property).
pub async fn photos(ports: &Ports, property_id: PropertyId) -> Result<Vec<Photo>, AppError> {
    crate::catalog::property(ports, property_id).await?;
    Ok(ports.store.photos_of(property_id).await?)
}

/// A photo's record and bytes, to serve it.
pub async fn photo_bytes(
    ports: &Ports,
    objects: &dyn ObjectStorage,
    id: PhotoId,
) -> Result<(Photo, Vec<u8>), AppError> {
    let photo = ports.store.photo(id).await?.ok_or(AppError::NotFound { what: "photo" })?;
    let bytes =
        objects.get(&photo.key).await.map_err(internal)?.ok_or_else(|| {
            AppError::Store(StoreError::Corrupt(format!("photo {id} has no bytes in object storage")))
        })?;
    Ok((photo, bytes))
}
