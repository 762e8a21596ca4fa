//! Great-circle distances and the bounding boxes that pre-filter geo queries.

pub use innkeep_core::geo::{EARTH_RADIUS_KM, haversine_km};

/// Whether a latitude/longitude pair is finite and on the globe.
pub fn valid_point(lat: f64, lon: f64) -> bool {
    lat.is_finite() && lon.is_finite() && (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)
}

/// A box on the globe as one latitude range and one or two longitude ranges (two when it
/// crosses the antimeridian). Bounds are inclusive, in degrees.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DegreeBox {
    pub lat: (f64, f64),
    pub lons: Vec<(f64, f64)>,
}

impl DegreeBox {
    /// The smallest box holding every point within `km` of the centre.
    pub fn around(lat: f64, lon: f64, km: f64) -> DegreeBox {
        let r = km / EARTH_RADIUS_KM;
        let dlat = r.to_degrees();
        let (south, north) = (lat - dlat, lat + dlat);
        if south <= -90.0 || north >= 90.0 {
            // A pole is inside the circle: every longitude is.
            return DegreeBox { lat: (south.max(-90.0), north.min(90.0)), lons: vec![(-180.0, 180.0)] };
        }
        let s = r.sin() / lat.to_radians().cos();
        if s >= 1.0 {
            return DegreeBox { lat: (south, north), lons: vec![(-180.0, 180.0)] };
        }
        let dlon = s.asin().to_degrees();
        DegreeBox { lat: (south, north), lons: wrap(lon - dlon, lon + dlon) }
    }

    /// A box given by its edges; `west > east` means it crosses the antimeridian.
    pub fn edges(south: f64, west: f64, north: f64, east: f64) -> DegreeBox {
        let lons = if west <= east { vec![(west, east)] } else { vec![(west, 180.0), (-180.0, east)] };
        DegreeBox { lat: (south, north), lons }
    }
}

fn wrap(west: f64, east: f64) -> Vec<(f64, f64)> {
    if west < -180.0 {
        vec![(west + 360.0, 180.0), (-180.0, east)]
    } else if east > 180.0 {
        vec![(west, 180.0), (-180.0, east - 360.0)]
    } else {
        vec![(west, east)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_close(got: f64, want: f64) {
        let err = (got - want).abs() / want;
        assert!(err < 0.005, "got {got} km, want {want} km ({:.3}% off)", err * 100.0);
    }

    // References: great-circle distances on a sphere of radius 6371.0088 km between the
    // GeoNames coordinates of the cities (the same as `data/cities15000.tsv`):
    // Lisbon 38.72509,-9.1498; Madrid 40.4165,-3.70256; London 51.50853,-0.12574;
    // Paris 48.85341,2.3488; New York 40.71427,-74.00597; Los Angeles 34.05223,-118.24368.
    // Cross-checked against the published city-centre distances (Lisbon-Madrid 503 km,
    // London-Paris 344 km, New York-Los Angeles 3936 km, e.g. by Vincenty on WGS84 within
    // 0.3%).
    #[test]
    fn distances_match_published_great_circle_values() {
        assert_close(haversine_km(38.72509, -9.1498, 40.4165, -3.70256), 503.0);
        assert_close(haversine_km(51.50853, -0.12574, 48.85341, 2.3488), 344.0);
        assert_close(haversine_km(40.71427, -74.00597, 34.05223, -118.24368), 3936.0);
    }

    #[test]
    fn distance_is_symmetric_and_zero_on_the_spot() {
        assert_eq!(haversine_km(10.0, 20.0, 10.0, 20.0), 0.0);
        let a = haversine_km(-33.9, 151.2, 35.7, 139.7);
        let b = haversine_km(35.7, 139.7, -33.9, 151.2);
        assert!((a - b).abs() < 1e-9);
        // Antipodes: half the circumference.
        assert_close(haversine_km(0.0, 0.0, 0.0, 180.0), std::f64::consts::PI * EARTH_RADIUS_KM);
    }

    #[test]
    fn a_box_around_a_point_holds_the_circle() {
        let b = DegreeBox::around(38.7, -9.1, 50.0);
        assert_eq!(b.lons.len(), 1);
        // 50 km north and east of the centre are inside.
        assert!(b.lat.1 >= 38.7 + 50.0 / 111.2 - 1e-3);
        assert!(b.lons[0].1 > -9.1 + 50.0 / (111.2 * 38.7f64.to_radians().cos()) - 1e-3);
    }

    #[test]
    fn boxes_split_at_the_antimeridian() {
        let b = DegreeBox::around(-17.7, 179.9, 30.0);
        assert_eq!(b.lons.len(), 2);
        assert_eq!(b.lons[0].1, 180.0);
        assert_eq!(b.lons[1].0, -180.0);
        assert_eq!(DegreeBox::edges(-20.0, 170.0, -10.0, -170.0).lons, vec![(170.0, 180.0), (-180.0, -170.0)]);
        assert_eq!(DegreeBox::around(89.9, 0.0, 50.0).lons, vec![(-180.0, 180.0)]);
    }
}
