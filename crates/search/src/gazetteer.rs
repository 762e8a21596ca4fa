//! The gazetteer: world cities of 15,000 people or more (GeoNames, CC BY 4.0, see
//! `data/ATTRIBUTION.md`), shipped inside the binary, for place-name autocomplete and
//! reverse geocoding.

use crate::analysis::{fold, text_analyzer};
use crate::error::SearchError;
use crate::geo::valid_point;
use rstar::RTree;
use rstar::primitives::GeomWithData;
use serde::Serialize;

/// The shipped data: one city per line, tab-separated (see `data/README.md`).
const CITIES_TSV: &str = include_str!("../data/cities15000.tsv");

/// Queries of at least this many characters also match names one edit away.
const TYPO_MIN_CHARS: usize = 4;

/// A populated place.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Place {
    /// The GeoNames id.
    pub id: u32,
    pub name: String,
    /// The name folded to ASCII (best effort; equal to `name` when no folding exists).
    pub ascii_name: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    /// The GeoNames first-level administrative division code (may be empty).
    pub admin1: String,
    pub latitude: f64,
    pub longitude: f64,
    pub population: u64,
    /// IANA time zone name.
    pub time_zone: String,
}

/// In autocomplete ranking, an exact name counts this many times its population.
pub const EXACT_WEIGHT: u64 = 10;

/// How well a name matched an autocomplete query; lower ranks first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Tier {
    Exact,
    Prefix,
    Typo,
}

type Point = GeomWithData<[f64; 3], u32>;

/// World cities, searchable by name prefix and by position.
pub struct Gazetteer {
    /// Sorted by id.
    places: Vec<Place>,
    /// Folded names (and folded ASCII names where they differ), sorted, with the index of
    /// their place.
    keys: Vec<(Box<str>, u32)>,
    /// Places as points on the unit sphere: the nearest by chord is the nearest by
    /// great circle, with no trouble at the poles or the antimeridian.
    tree: RTree<Point>,
}

impl std::fmt::Debug for Gazetteer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gazetteer").field("places", &self.places.len()).finish()
    }
}

impl Gazetteer {
    /// Parse the shipped city list and build the name and position indexes.
    pub fn load() -> Result<Gazetteer, SearchError> {
        Gazetteer::from_tsv(CITIES_TSV)
    }

    /// Build a gazetteer from lines in the shipped format (tests use small lists).
    pub fn from_tsv(tsv: &str) -> Result<Gazetteer, SearchError> {
        let mut places = Vec::with_capacity(tsv.len() / 70);
        for (i, line) in tsv.lines().enumerate() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            places.push(parse_line(line).map_err(|reason| SearchError::Gazetteer { line: i + 1, reason })?);
        }
        places.sort_by_key(|p| p.id);
        if let Some(w) = places.windows(2).find(|w| w[0].id == w[1].id) {
            return Err(SearchError::Gazetteer { line: 0, reason: format!("duplicate id {}", w[0].id) });
        }

        let mut analyzer = text_analyzer();
        let mut keys = Vec::with_capacity(places.len() + places.len() / 8);
        let mut points = Vec::with_capacity(places.len());
        for (i, p) in places.iter().enumerate() {
            let i =
                u32::try_from(i).map_err(|_| SearchError::Gazetteer { line: 0, reason: "too many places".into() })?;
            let name = fold(&mut analyzer, &p.name);
            let ascii = if p.ascii_name == p.name { String::new() } else { fold(&mut analyzer, &p.ascii_name) };
            if ascii != name && !ascii.is_empty() {
                keys.push((ascii.into_boxed_str(), i));
            }
            if !name.is_empty() {
                keys.push((name.into_boxed_str(), i));
            }
            points.push(GeomWithData::new(unit_vector(p.latitude, p.longitude), i));
        }
        keys.sort_unstable();
        Ok(Gazetteer { places, keys, tree: RTree::bulk_load(points) })
    }

    /// How many places there are.
    pub fn len(&self) -> usize {
        self.places.len()
    }

    /// Whether there are no places.
    pub fn is_empty(&self) -> bool {
        self.places.is_empty()
    }

    /// A place by its GeoNames id.
    pub fn get(&self, id: u32) -> Option<&Place> {
        self.places.binary_search_by_key(&id, |p| p.id).ok().and_then(|i| self.places.get(i))
    }

    /// Places whose name starts with `q`, ignoring case, accents and punctuation; for a
    /// query of 4 or more characters also names one edit (insert, delete, substitute or
    /// swap two neighbours, not in the first letter) away from starting with it.
    ///
    /// Exact and prefix matches come before typo matches; within each group the most
    /// populous first, an exact name counting [`EXACT_WEIGHT`] times its population (so
    /// "kara" gives Karachi, then Karaj, then Kara, and "san" gives Santiago first rather
    /// than the small town named San).
    pub fn autocomplete(&self, q: &str, limit: usize) -> Vec<Place> {
        let mut analyzer = text_analyzer();
        let q = fold(&mut analyzer, q);
        if q.is_empty() || limit == 0 {
            return Vec::new();
        }
        let qb = q.as_bytes();
        let mut hits: Vec<(Tier, u32)> = Vec::new();

        let start = self.keys.partition_point(|(k, _)| k.as_ref() < q.as_str());
        for (key, i) in self.keys[start..].iter().take_while(|(k, _)| k.starts_with(q.as_str())) {
            hits.push((if key.len() == q.len() { Tier::Exact } else { Tier::Prefix }, *i));
        }

        // Typo matches rank after every exact and prefix match, so they are looked for only
        // when those name fewer places than asked for.
        let prefix_places = hits.iter().map(|(_, i)| *i).collect::<std::collections::HashSet<_>>().len();
        if prefix_places < limit
            && q.chars().count() >= TYPO_MIN_CHARS
            && let Some(&first) = qb.first()
        {
            let from = self.keys.partition_point(|(k, _)| k.as_bytes().first() < Some(&first));
            let to = self.keys.partition_point(|(k, _)| k.as_bytes().first() <= Some(&first));
            for (key, i) in &self.keys[from..to] {
                let kb = key.as_bytes();
                if typo_prefix(qb, kb) {
                    hits.push((Tier::Typo, *i));
                }
            }
        }

        // Rank once per hit, then keep each place's first (best) entry.
        let mut ranked: Vec<(u8, std::cmp::Reverse<u64>, u32)> = hits
            .into_iter()
            .map(|(tier, i)| {
                let population = self.places.get(i as usize).map_or(0, |p| p.population);
                match tier {
                    Tier::Exact => (0, std::cmp::Reverse(population.saturating_mul(EXACT_WEIGHT)), i),
                    Tier::Prefix => (0, std::cmp::Reverse(population), i),
                    Tier::Typo => (1, std::cmp::Reverse(population), i),
                }
            })
            .collect();
        ranked.sort_unstable();
        let mut out: Vec<Place> = Vec::with_capacity(limit.min(ranked.len()));
        let mut taken = std::collections::HashSet::with_capacity(limit.min(ranked.len()));
        for (_, _, i) in ranked {
            if out.len() == limit {
                break;
            }
            if !taken.insert(i) {
                continue;
            }
            if let Some(p) = self.places.get(i as usize) {
                out.push(p.clone());
            }
        }
        out
    }

    /// The place nearest to a point, by great-circle distance; `None` for an invalid point.
    pub fn reverse(&self, lat: f64, lon: f64) -> Option<Place> {
        if !valid_point(lat, lon) {
            return None;
        }
        let nearest = self.tree.nearest_neighbor(unit_vector(lat, lon))?;
        self.places.get(nearest.data as usize).cloned()
    }
}

fn parse_line(line: &str) -> Result<Place, String> {
    let f: Vec<&str> = line.split('\t').collect();
    let [id, name, ascii, country, admin1, lat, lon, population, tz] = f.as_slice() else {
        return Err(format!("expected 9 tab-separated fields, found {}", f.len()));
    };
    let num_err = |what: &str, v: &str| format!("bad {what} {v:?}");
    let latitude: f64 = lat.parse().map_err(|_| num_err("latitude", lat))?;
    let longitude: f64 = lon.parse().map_err(|_| num_err("longitude", lon))?;
    if !valid_point(latitude, longitude) {
        return Err(format!("coordinates out of range: {lat},{lon}"));
    }
    Ok(Place {
        id: id.parse().map_err(|_| num_err("id", id))?,
        name: (*name).to_string(),
        ascii_name: (*ascii).to_string(),
        country: (*country).to_string(),
        admin1: (*admin1).to_string(),
        latitude,
        longitude,
        population: population.parse().map_err(|_| num_err("population", population))?,
        time_zone: (*tz).to_string(),
    })
}

fn unit_vector(lat: f64, lon: f64) -> [f64; 3] {
    let (lat, lon) = (lat.to_radians(), lon.to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

/// Whether some prefix of `key` is at most one edit (Damerau: a swap of neighbours
/// counts as one) from `q`.
/// Whether `key` does not start with `q` but its start is one edit away from it (the typo
/// tier): one pass, since after the common prefix the edit sits at its end and the rest must
/// match. Names are scanned by the thousand, and their tails are a few bytes, so they are
/// compared in place (a library call per comparison cost more than the comparison).
fn typo_prefix(q: &[u8], key: &[u8]) -> bool {
    let n = q.len();
    let c = q.iter().zip(key).take_while(|(a, b)| a == b).count();
    if c >= n {
        return false;
    }
    let same = |a: &[u8], b: &[u8]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y);
    let substituted = key.len() >= n && same(&q[c + 1..], &key[c + 1..n]);
    let dropped = n > 1 && key.len() >= n - 1 && same(&q[c + 1..], &key[c..n - 1]);
    let inserted = key.len() > n && same(&q[c..], &key[c + 1..n + 1]);
    let swapped =
        c + 1 < n && key.len() >= n && q[c] == key[c + 1] && q[c + 1] == key[c] && same(&q[c + 2..], &key[c + 2..n]);
    substituted || dropped || inserted || swapped
}

/// `key` starts with `q` or with a string one edit away from it.
#[cfg(test)]
fn prefix_within_one_edit(q: &[u8], key: &[u8]) -> bool {
    key.starts_with(q) || typo_prefix(q, key)
}

/// The definition `prefix_within_one_edit` implements: `q` is within one edit (substitution,
/// insertion, deletion or swap of neighbours) of the first n-1, n or n+1 bytes of `key`.
#[cfg(test)]
fn prefix_within_one_edit_by_definition(q: &[u8], key: &[u8]) -> bool {
    let n = q.len();
    [n.saturating_sub(1), n, n + 1]
        .into_iter()
        .any(|len| len > 0 && len <= key.len() && within_one_edit(q, &key[..len]))
}

#[cfg(test)]
fn within_one_edit(a: &[u8], b: &[u8]) -> bool {
    let (la, lb) = (a.len(), b.len());
    if la.abs_diff(lb) > 1 {
        return false;
    }
    let Some(i) = a.iter().zip(b).position(|(x, y)| x != y) else {
        return true;
    };
    if la == lb {
        a[i + 1..] == b[i + 1..] || (i + 1 < la && a[i] == b[i + 1] && a[i + 1] == b[i] && a[i + 2..] == b[i + 2..])
    } else if la > lb {
        a[i + 1..] == b[i..]
    } else {
        a[i..] == b[i + 1..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_edit() {
        assert!(within_one_edit(b"lisbn", b"lisbon"));
        assert!(within_one_edit(b"lisbon", b"lisbn"));
        assert!(within_one_edit(b"lisbom", b"lisbon"));
        assert!(within_one_edit(b"lsibon", b"lisbon"));
        assert!(!within_one_edit(b"lsbn", b"lisbon"));
        assert!(prefix_within_one_edit(b"lisbn", b"lisbon"));
        assert!(prefix_within_one_edit(b"madird", b"madrid"));
        assert!(prefix_within_one_edit(b"zurch", b"zurich kreis 11"));
        assert!(!prefix_within_one_edit(b"paris", b"lisbon"));
    }

    #[test]
    fn the_one_pass_prefix_check_agrees_with_the_definition() {
        // Every query of 1 to 4 letters and key of 0 to 6 letters over a three-letter alphabet.
        fn words(max: usize) -> Vec<Vec<u8>> {
            let mut all = vec![Vec::new()];
            let mut last = vec![Vec::new()];
            for _ in 0..max {
                last = last
                    .iter()
                    .flat_map(|w: &Vec<u8>| b"abc".iter().map(move |c| [w.as_slice(), &[*c]].concat()))
                    .collect();
                all.extend(last.iter().cloned());
            }
            all
        }
        let (queries, keys) = (words(4), words(6));
        for q in queries.iter().filter(|q| !q.is_empty()) {
            for k in &keys {
                assert_eq!(
                    prefix_within_one_edit(q, k),
                    prefix_within_one_edit_by_definition(q, k),
                    "{:?} against {:?}",
                    String::from_utf8_lossy(q),
                    String::from_utf8_lossy(k)
                );
            }
        }
    }

    #[test]
    fn bad_lines_are_reported_with_their_number() {
        let err = Gazetteer::from_tsv("#header\n1\tA\tA\tPT\t\t1.0\t2.0\t10\tEurope/Lisbon\n2\tB\n").unwrap_err();
        assert!(matches!(err, SearchError::Gazetteer { line: 3, .. }), "{err}");
    }
}
