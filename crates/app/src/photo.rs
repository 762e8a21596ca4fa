//! Photos of a property: a host uploads one (checked by its first bytes, size-limited,
//! only for a property of the host's tenant); it is decoded (at most [`MAX_SIDE`] pixels a
//! side, turned upright by its EXIF orientation) and written again as JPEG in up to three
//! widths ([`WIDTHS`], never wider than the original), which leaves every piece of metadata
//! (EXIF with its GPS location, XMP, comments) behind; those sizes go to object storage
//! (`photos/{property}/{photo}/w{width}.jpg`), the record (its key the full size's, the
//! other sizes beside it) and its
//! `photo.added` event to the store in one transaction. Photos uploaded before sizes were
//! made keep their one key (`photos/{property}/{photo}.{ext}`) and are served as they are.

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

/// The widths made of each photo: a thumbnail (search results, the host's gallery), a card
/// (the property page on a phone) and the full photo.
pub const WIDTHS: [u32; 3] = [320, 640, 1600];
/// The longest side decoded, in pixels: beyond it an upload is a decompression bomb, not a
/// photo (a 10 MiB file can claim a billion pixels).
pub const MAX_SIDE: u32 = 12_000;
/// The JPEG quality the sizes are written with.
const JPEG_QUALITY: u8 = 82;

/// The sizes of one photo: `(width, JPEG bytes)`, narrowest first, the last the full size.
#[derive(Debug, Clone)]
pub struct Sizes(pub Vec<(u32, Vec<u8>)>);

/// The widths a photo whose full size is `full` pixels wide is kept in (narrowest first;
/// a narrow photo has fewer).
pub fn widths_of(full: u32) -> Vec<u32> {
    let mut out: Vec<u32> = WIDTHS.iter().map(|w| (*w).min(full)).collect();
    out.dedup();
    out
}

/// Decode an uploaded image and write its sizes (CPU-bound: call it off the async threads).
pub fn make_sizes(bytes: &[u8]) -> Result<Sizes, PhotoError> {
    use image::{DynamicImage, ImageDecoder, ImageReader, imageops::FilterType};
    let unreadable = |e: image::ImageError| PhotoError::Unreadable(e.to_string());
    let mut reader = ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| PhotoError::Unreadable(e.to_string()))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(1024 * 1024 * 1024);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(unreadable)?;
    let orientation = decoder.orientation().map_err(unreadable)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    image.apply_orientation(orientation);
    // JPEG has no transparency: a transparent PNG or WebP is laid on white.
    let image = if image.color().has_alpha() {
        let mut rgba = image.into_rgba8();
        for px in rgba.pixels_mut() {
            let [r, g, b, a] = px.0;
            let over = |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
            px.0 = [over(r), over(g), over(b), 255];
        }
        DynamicImage::ImageRgba8(rgba).into_rgb8()
    } else {
        image.into_rgb8()
    };
    let (w, h) = image.dimensions();
    if w == 0 || h == 0 {
        return Err(PhotoError::Unreadable("the image has no pixels".into()));
    }
    let mut out = Vec::new();
    for width in widths_of(w.min(WIDTHS[WIDTHS.len() - 1])) {
        let height = ((u64::from(h) * u64::from(width) + u64::from(w) / 2) / u64::from(w)).max(1) as u32;
        let sized = if width == w {
            image.clone()
        } else {
            image::imageops::resize(&image, width, height, FilterType::CatmullRom)
        };
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, JPEG_QUALITY)
            .encode_image(&sized)
            .map_err(unreadable)?;
        out.push((width, jpeg));
    }
    Ok(Sizes(out))
}

/// The object key of one size of a photo.
pub fn sized_key(property_id: PropertyId, id: PhotoId, width: u32) -> String {
    format!("photos/{property_id}/{id}/w{width}.jpg")
}

/// The full size's width of a photo kept in sizes (its key ends `/w{width}.jpg`, the other
/// sizes beside it); `None` for one kept as uploaded.
pub fn full_width(photo: &Photo) -> Option<u32> {
    let (_, file) = photo.key.rsplit_once('/')?;
    file.strip_prefix('w')?.strip_suffix(".jpg")?.parse().ok()
}

/// The key of one width of a photo kept in sizes.
fn key_of_width(photo: &Photo, width: u32) -> String {
    let dir = photo.key.rsplit_once('/').map_or("", |(dir, _)| dir);
    format!("{dir}/w{width}.jpg")
}

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
            PhotoError::Unreadable(_) => "photo_unreadable",
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
    ImageKind::check(&new.bytes)?;
    let alt = new.alt.trim().to_string();
    if alt.chars().count() > MAX_ALT_CHARS {
        return Err(AppError::invalid("alt", "alt_too_long", format!("at most {MAX_ALT_CHARS} characters")));
    }
    let alt = if alt.is_empty() { format!("Photo of {}", property.draft.name) } else { alt };
    if ports.store.photos_of(property_id).await?.len() >= MAX_PHOTOS_PER_PROPERTY {
        return Err(AppError::Conflict(format!("a property has at most {MAX_PHOTOS_PER_PROPERTY} photos")));
    }
    let bytes = new.bytes;
    let Sizes(sizes) = tokio::task::spawn_blocking(move || make_sizes(&bytes))
        .await
        .map_err(|e| AppError::Store(StoreError::Database(format!("sizing a photo: {e}"))))??;
    let id = PhotoId::new_v7(now);
    let (full, full_bytes) = sizes.last().map(|(w, b)| (*w, b.len())).unwrap_or_default();
    let photo = Photo {
        id,
        property_id,
        tenant_id: property.tenant_id,
        kind: ImageKind::Jpeg,
        size: full_bytes as u64,
        alt,
        key: sized_key(property_id, id, full),
        created_at: now,
    };
    let mut stored = Vec::new();
    let mut failed = None;
    for (width, bytes) in sizes {
        let key = sized_key(property_id, id, width);
        match objects.put(&key, bytes).await {
            Ok(()) => stored.push(key),
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    let added = PhotoAdded {
        photo_id: id,
        property_id,
        content_type: ImageKind::Jpeg.content_type().to_string(),
        size: photo.size,
    };
    let event = Event::new(&Change::PhotoAdded(added), now, Some(photo.tenant_id), property_id.0);
    let result = match failed {
        Some(e) => Err(internal(e)),
        None => ports.store.insert_photo(&photo, &event).await.map_err(AppError::from),
    };
    if let Err(e) = result {
        // The record was not written, so nothing refers to the bytes: remove them.
        for key in stored {
            if let Err(cleanup) = objects.delete(&key).await {
                tracing::warn!(error = %cleanup, photo_id = %id, "orphan photo bytes left in object storage");
            }
        }
        return Err(e);
    }
    tracing::info!(photo_id = %id, property_id = %property_id, size = photo.size, "photo added");
    Ok(photo)
}

/// The photos of a property, in upload order (public, like the property).
pub async fn photos(ports: &Ports, property_id: PropertyId) -> Result<Vec<Photo>, AppError> {
    crate::catalog::property(ports, property_id).await?;
    Ok(ports.store.photos_of(property_id).await?)
}

/// A photo's record and bytes, to serve it: the size `width` pixels wide when it is one of
/// the photo's (see [`widths_of`]), else the full size.
pub async fn photo_bytes(
    ports: &Ports,
    objects: &dyn ObjectStorage,
    id: PhotoId,
    width: Option<u32>,
) -> Result<(Photo, Vec<u8>), AppError> {
    let photo = ports.store.photo(id).await?.ok_or(AppError::NotFound { what: "photo" })?;
    let key = match (full_width(&photo), width) {
        (Some(full), Some(w)) if widths_of(full).contains(&w) => key_of_width(&photo, w),
        _ => photo.key.clone(),
    };
    let bytes =
        objects.get(&key).await.map_err(internal)?.ok_or_else(|| {
            AppError::Store(StoreError::Corrupt(format!("photo {id} has no bytes in object storage")))
        })?;
    Ok((photo, bytes))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use image::{GenericImageView, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};

    fn encode(image: &image::DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        image.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    fn decode(bytes: &[u8]) -> image::DynamicImage {
        image::load_from_memory_with_format(bytes, ImageFormat::Jpeg).unwrap()
    }

    #[test]
    fn a_large_photo_is_kept_in_three_widths_as_jpeg_and_transparency_becomes_white() {
        // 2000 x 1000, its left half transparent, its right half opaque red.
        let png =
            RgbaImage::from_fn(2000, 1000, |x, _| if x < 1000 { Rgba([0, 0, 0, 0]) } else { Rgba([200, 0, 0, 255]) });
        let Sizes(sizes) = make_sizes(&encode(&png.into(), ImageFormat::Png)).unwrap();
        let widths: Vec<u32> = sizes.iter().map(|(w, _)| *w).collect();
        assert_eq!(widths, vec![320, 640, 1600]);
        for (w, bytes) in &sizes {
            let img = decode(bytes);
            assert_eq!(img.dimensions(), (*w, *w / 2));
            let left = img.get_pixel(w / 8, w / 4).0;
            let right = img.get_pixel(w - w / 8, w / 4).0;
            assert!(left[..3].iter().all(|c| *c > 240), "transparent shows white: {left:?}");
            assert!(right[0] > 170 && right[1] < 40, "red stays red: {right:?}");
        }
    }

    #[test]
    fn a_small_photo_is_never_made_larger() {
        let png = RgbImage::from_pixel(500, 250, Rgb([10, 120, 200]));
        let Sizes(sizes) = make_sizes(&encode(&png.into(), ImageFormat::Png)).unwrap();
        assert_eq!(sizes.iter().map(|(w, _)| *w).collect::<Vec<_>>(), vec![320, 500]);
        assert_eq!(widths_of(500), vec![320, 500]);
        assert_eq!(widths_of(200), vec![200]);
        assert_eq!(widths_of(4000), vec![320, 640, 1600]);
    }

    /// A JPEG with an EXIF block: orientation 6 (turn 90 degrees clockwise to show) and a
    /// GPS latitude.
    fn jpeg_with_exif(width: u32, height: u32) -> Vec<u8> {
        let plain = encode(&RgbImage::from_pixel(width, height, Rgb([90, 160, 90])).into(), ImageFormat::Jpeg);
        let mut tiff = b"MM\x00\x2a\x00\x00\x00\x08".to_vec();
        tiff.extend_from_slice(&[0, 2]); // two entries
        tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]); // Orientation = 6
        tiff.extend_from_slice(&[0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 38]); // GPS IFD at 38
        tiff.extend_from_slice(&[0, 0, 0, 0]); // no next IFD
        tiff.extend_from_slice(&[0, 1]); // GPS IFD: one entry
        tiff.extend_from_slice(&[0x00, 0x01, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0]); // GPSLatitudeRef = "N"
        tiff.extend_from_slice(&[0, 0, 0, 0]);
        let mut app1 = b"Exif\x00\x00".to_vec();
        app1.extend_from_slice(&tiff);
        let len = (app1.len() + 2) as u16;
        let mut out = plain[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&app1);
        out.extend_from_slice(&plain[2..]);
        out
    }

    #[test]
    fn exif_is_left_behind_and_its_orientation_applied() {
        let upload = jpeg_with_exif(300, 200);
        assert!(upload.windows(4).any(|w| w == b"Exif"));
        let Sizes(sizes) = make_sizes(&upload).unwrap();
        for (_, bytes) in &sizes {
            assert!(!bytes.windows(4).any(|w| w == b"Exif"), "no EXIF (and so no location) in a size");
        }
        // Upright: 300 x 200 turned a quarter is 200 wide and 300 tall.
        let (w, full) = sizes.last().unwrap();
        assert_eq!((*w, decode(full).dimensions()), (200, (200, 300)));
    }

    #[test]
    fn broken_and_enormous_images_are_refused() {
        let mut broken = encode(&RgbImage::from_pixel(50, 50, Rgb([1, 2, 3])).into(), ImageFormat::Jpeg);
        broken.truncate(40);
        assert!(matches!(make_sizes(&broken), Err(PhotoError::Unreadable(_))));
        // A PNG whose header claims 20,000 x 20,000 pixels: refused before any is decoded.
        let mut png = encode(&RgbImage::from_pixel(1, 1, Rgb([0, 0, 0])).into(), ImageFormat::Png);
        png[16..20].copy_from_slice(&20_000u32.to_be_bytes());
        png[20..24].copy_from_slice(&20_000u32.to_be_bytes());
        // The header's CRC (over its type and data) made right, so only the size is wrong.
        let crc = png[12..29].iter().fold(!0u32, |mut c, b| {
            c ^= u32::from(*b);
            for _ in 0..8 {
                c = if c & 1 == 1 { (c >> 1) ^ 0xEDB8_8320 } else { c >> 1 };
            }
            c
        });
        png[29..33].copy_from_slice(&(!crc).to_be_bytes());
        match make_sizes(&png) {
            Err(PhotoError::Unreadable(why)) => assert!(why.to_lowercase().contains("limit"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
}
