//! Photos for the demo properties, drawn by the program (no outside images, nothing to
//! attribute): a few scenes (a sky at some hour, the sea or hills, a building with its
//! windows and roof), each drawn at every width a photo is kept in and written as JPEG once,
//! then stored for each property as an upload's sizes are (about 70 kB a property; a
//! photo's object is its own, as the store's unique object keys require).

use image::{Rgb, RgbImage};
use innkeep_app::Ports;
use innkeep_app::event::{Change, Event, PhotoAdded};
use innkeep_app::objects::ObjectStorage;
use innkeep_app::photo::{sized_key, widths_of};
use innkeep_app::store::{Photo, Property};
use innkeep_core::{ImageKind, PhotoId};

/// How many scenes are drawn.
pub const SCENES: usize = 8;
/// The full width of a demo photo (its height two thirds of it).
pub const FULL_WIDTH: u32 = 960;
/// The most properties given a photo: the default demo's 1,000 (a benchmark's
/// 100,000-property demo gets them on its first 1,000 only).
pub const MAX_PROPERTIES: usize = 1_000;

/// One scene: what is drawn, and the words that say so.
struct Scene {
    sky_top: [u8; 3],
    sky_bottom: [u8; 3],
    sun: [u8; 3],
    ground: [u8; 3],
    sea: bool,
    wall: [u8; 3],
    roof: [u8; 3],
    storeys: u32,
    describe: &'static str,
}

static SCENE_LIST: [Scene; SCENES] = [
    Scene {
        sky_top: [70, 140, 215],
        sky_bottom: [180, 215, 240],
        sun: [255, 236, 160],
        ground: [40, 110, 170],
        sea: true,
        wall: [245, 240, 228],
        roof: [190, 80, 50],
        storeys: 3,
        describe: "a white house with a red roof by the sea on a clear day",
    },
    Scene {
        sky_top: [40, 50, 110],
        sky_bottom: [240, 150, 90],
        sun: [255, 200, 120],
        ground: [30, 70, 120],
        sea: true,
        wall: [90, 140, 200],
        roof: [60, 60, 70],
        storeys: 5,
        describe: "a blue hotel by the sea at sunset",
    },
    Scene {
        sky_top: [90, 160, 220],
        sky_bottom: [200, 225, 240],
        sun: [255, 245, 200],
        ground: [90, 150, 70],
        sea: false,
        wall: [230, 200, 150],
        roof: [120, 60, 40],
        storeys: 2,
        describe: "a sand-coloured cottage in green hills",
    },
    Scene {
        sky_top: [20, 25, 60],
        sky_bottom: [70, 80, 140],
        sun: [235, 235, 250],
        ground: [50, 80, 60],
        sea: false,
        wall: [200, 190, 170],
        roof: [70, 50, 50],
        storeys: 4,
        describe: "a stone guesthouse under the moon, its windows lit",
    },
    Scene {
        sky_top: [110, 170, 230],
        sky_bottom: [220, 235, 245],
        sun: [255, 250, 210],
        ground: [20, 130, 160],
        sea: true,
        wall: [250, 210, 90],
        roof: [200, 100, 40],
        storeys: 6,
        describe: "a yellow apartment block over a turquoise sea",
    },
    Scene {
        sky_top: [150, 120, 180],
        sky_bottom: [250, 190, 150],
        sun: [255, 220, 170],
        ground: [120, 140, 80],
        sea: false,
        wall: [200, 90, 80],
        roof: [90, 40, 40],
        storeys: 3,
        describe: "a terracotta villa among olive hills at dawn",
    },
    Scene {
        sky_top: [60, 120, 200],
        sky_bottom: [170, 205, 235],
        sun: [255, 240, 180],
        ground: [70, 120, 60],
        sea: false,
        wall: [120, 90, 70],
        roof: [40, 60, 40],
        storeys: 2,
        describe: "a wooden lodge at the edge of a forest",
    },
    Scene {
        sky_top: [200, 215, 230],
        sky_bottom: [235, 240, 245],
        sun: [250, 250, 250],
        ground: [60, 90, 130],
        sea: true,
        wall: [240, 245, 250],
        roof: [80, 90, 110],
        storeys: 8,
        describe: "a tall white resort over a grey sea on a hazy day",
    },
];

fn mix(a: [u8; 3], b: [u8; 3], t: f32) -> Rgb<u8> {
    let m = |x: u8, y: u8| (f32::from(x) + (f32::from(y) - f32::from(x)) * t).round().clamp(0.0, 255.0) as u8;
    Rgb([m(a[0], b[0]), m(a[1], b[1]), m(a[2], b[2])])
}

/// Draw a scene `width` pixels wide (two thirds as tall): every length a fraction of the
/// size, so each width is the same picture.
fn draw(scene: &Scene, width: u32) -> RgbImage {
    let height = width * 2 / 3;
    let (w, h) = (width as f32, height as f32);
    let horizon = h * 0.62;
    let night = scene.describe.contains("moon");
    let (sun_x, sun_y, sun_r) = (w * 0.78, h * 0.2, w * 0.06);
    let (left, right) = (w * 0.22, w * 0.58);
    let storey = h * 0.07;
    let top = horizon + h * 0.12 - storey * scene.storeys as f32;
    let base = horizon + h * 0.12;
    let roof_peak = top - h * 0.08;
    RgbImage::from_fn(width, height, |x, y| {
        let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
        // The building: walls with rows of windows, and a pitched roof.
        if fx >= left && fx <= right && fy >= top && fy <= base {
            let col = ((fx - left) / (w * 0.06)) as u32;
            let row = ((fy - top) / storey) as u32;
            let in_col = ((fx - left) / (w * 0.06)).fract();
            let in_row = ((fy - top) / storey).fract();
            let window = col % 2 == 1 && (0.2..0.8).contains(&in_row) && (0.15..0.85).contains(&in_col);
            if window && row < scene.storeys {
                return if night { Rgb([250, 220, 130]) } else { mix([60, 90, 120], [170, 200, 220], in_row) };
            }
            return mix(scene.wall, [0, 0, 0], 0.08 * (fx - left) / (right - left));
        }
        let half = (right - left) / 2.0 + w * 0.02;
        let mid = (left + right) / 2.0;
        if fy >= roof_peak && fy < top && (fx - mid).abs() <= half * (fy - roof_peak) / (top - roof_peak) {
            return Rgb(scene.roof);
        }
        if fy < horizon {
            let d = ((fx - sun_x).powi(2) + (fy - sun_y).powi(2)).sqrt();
            if d <= sun_r {
                return Rgb(scene.sun);
            }
            let glow = (1.0 - (d - sun_r) / (w * 0.25)).clamp(0.0, 1.0) * 0.35;
            let sky = mix(scene.sky_top, scene.sky_bottom, fy / horizon);
            return mix(sky.0, scene.sun, glow);
        }
        if scene.sea {
            // Water, lighter in bands toward the horizon, with the sun's path on it.
            let t = (fy - horizon) / (h - horizon);
            let wave = (((fy - horizon) / (h * 0.02)).sin() * 0.5 + 0.5) * 0.12;
            let path = if (fx - sun_x).abs() < w * 0.04 * (1.0 + t) { 0.25 } else { 0.0 };
            return mix(mix(scene.ground, [255, 255, 255], wave * (1.0 - t)).0, scene.sun, path * (1.0 - t));
        }
        // Hills: two rolling lines, the nearer darker.
        let far = horizon + h * 0.04 * (fx / w * 6.0).sin();
        let shade = if fy > far + h * 0.1 { 0.25 } else { 0.0 };
        mix(scene.ground, [0, 0, 0], shade + 0.15 * (fy - horizon) / (h - horizon))
    })
}

fn jpeg(image: &RgbImage) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 82).encode_image(image)?;
    Ok(out)
}

/// Draw the scenes into object storage and give each of the first [`MAX_PROPERTIES`]
/// properties of a demo just loaded (none has a photo yet) one of them (a `photo.added`
/// event each, as an upload). The number of properties given one.
pub async fn load(ports: &Ports, objects: &dyn ObjectStorage) -> anyhow::Result<usize> {
    let mut drawn: Vec<Vec<(u32, Vec<u8>)>> = Vec::new();
    for scene in SCENE_LIST.iter() {
        let mut sizes = Vec::new();
        for width in widths_of(FULL_WIDTH) {
            sizes.push((width, tokio::task::spawn_blocking(move || jpeg(&draw(scene, width))).await??));
        }
        drawn.push(sizes);
    }
    let now = ports.clock.now();
    let mut given = 0;
    let mut offset = 0;
    while offset < MAX_PROPERTIES {
        let page: Vec<Property> = ports.store.list_properties(None, 500, offset as u32).await?;
        if page.is_empty() {
            break;
        }
        offset += page.len();
        for p in page {
            let scene = (p.id.0.as_u128() % SCENES as u128) as usize;
            let id = PhotoId::new_v7(now);
            for (width, bytes) in &drawn[scene] {
                objects.put(&sized_key(p.id, id, *width), bytes.clone()).await?;
            }
            let photo = Photo {
                id,
                property_id: p.id,
                tenant_id: p.tenant_id,
                kind: ImageKind::Jpeg,
                size: drawn[scene].last().map_or(0, |(_, b)| b.len() as u64),
                alt: format!("{}: {}", p.draft.name, SCENE_LIST[scene].describe),
                key: sized_key(p.id, id, FULL_WIDTH),
                created_at: now,
            };
            let added = PhotoAdded {
                photo_id: id,
                property_id: p.id,
                content_type: ImageKind::Jpeg.content_type().to_string(),
                size: photo.size,
            };
            let event = Event::new(&Change::PhotoAdded(added), now, Some(p.tenant_id), p.id.0);
            ports.store.insert_photo(&photo, &event).await?;
            given += 1;
        }
    }
    Ok(given)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_scene_draws_the_same_picture_at_every_width() {
        for scene in &SCENE_LIST {
            let small = draw(scene, 320);
            let large = draw(scene, 960);
            assert_eq!((small.width(), small.height(), large.height()), (320, 213, 640));
            // The large one scaled down is close to the small one, pixel by pixel on average.
            let down = image::imageops::resize(&large, 320, 213, image::imageops::FilterType::Triangle);
            let diff: u64 = small
                .pixels()
                .zip(down.pixels())
                .map(|(a, b)| (0..3).map(|c| a.0[c].abs_diff(b.0[c]) as u64).sum::<u64>())
                .sum();
            let mean = diff as f64 / (320.0 * 213.0 * 3.0);
            assert!(mean < 12.0, "{}: {mean}", scene.describe);
            // Not one flat colour: a sky, a building and ground or sea.
            let distinct: std::collections::HashSet<_> = small.pixels().map(|p| p.0).collect();
            assert!(distinct.len() > 50, "{}", scene.describe);
            assert!(jpeg(&small).unwrap().starts_with(&[0xFF, 0xD8, 0xFF]));
        }
    }
}
