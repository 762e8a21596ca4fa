//! The property index: one Tantivy document per property, with the text of the property
//! and its room types, its position, lowest base rate and largest occupancy as fast
//! fields. Geo filters run as range queries on the latitude/longitude fast fields (the
//! bounding box), then exactly by great-circle distance here.

use crate::analysis::{TEXT_ANALYZER, fold, text_analyzer, words};
use crate::error::SearchError;
use crate::geo::haversine_km;
use crate::query::{Candidate, Facets, Geo, IndexQuery, MAX_LIMIT, MAX_QUERY_WORDS, PRICE_BANDS, Sort};
use innkeep_app::search::Listing;
use innkeep_app::store::{Property, RoomType};
use innkeep_core::{Amenity, PropertyId, PropertyType};
use std::cmp::Ordering;
use std::collections::HashMap;
use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::directory::MmapDirectory;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, Query, RangeQuery, TermQuery,
    TermSetQuery, Weight,
};
use tantivy::schema::{FAST, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions};
use tantivy::{
    DocId, Index, IndexReader, IndexWriter, ReloadPolicy, Score, SegmentOrdinal, SegmentReader, TantivyDocument, Term,
};

/// The writer's memory budget: large enough that a rebuild of 100k properties flushes
/// few segments. Tantivy allocates it as needed, not up front.
const WRITER_HEAP_BYTES: usize = 200_000_000;

/// Words of at least this many characters also match terms one edit away.
const FUZZY_MIN_CHARS: usize = 4;

/// The lowest rate of a property with no room types: sorts last, passes no price filter.
const NO_RATE: i64 = i64::MAX;

/// Text fields and their weight in relevance.
const TEXT_FIELDS: [(&str, f32); 6] =
    [("name", 3.0), ("city", 2.0), ("country", 1.0), ("features", 1.0), ("rooms", 1.0), ("description", 0.5)];

/// A typo match counts this much of an exact match of the same word.
const FUZZY_WEIGHT: f32 = 0.3;

/// A query equal to the whole property name adds this much.
const EXACT_NAME_BOOST: f32 = 10.0;

#[derive(Debug, Clone, Copy)]
struct Fields {
    id: Field,
    id_hi: Field,
    id_lo: Field,
    property_type_ord: Field,
    amenity_mask: Field,
    name_exact: Field,
    property_type: Field,
    amenity: Field,
    currency: Field,
    lat: Field,
    lon: Field,
    cell: Field,
    min_rate: Field,
    max_occupancy: Field,
    text: [Field; TEXT_FIELDS.len()],
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text_options = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TEXT_ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let id = b.add_text_field("id", STRING | STORED);
    let id_hi = b.add_u64_field("id_hi", FAST);
    let id_lo = b.add_u64_field("id_lo", FAST);
    let name_exact = b.add_text_field("name_exact", STRING);
    let property_type = b.add_text_field("property_type", STRING);
    let property_type_ord = b.add_u64_field("property_type_ord", FAST);
    let amenity = b.add_text_field("amenity", STRING);
    let amenity_mask = b.add_u64_field("amenity_mask", FAST);
    let currency = b.add_text_field("currency", STRING);
    let lat = b.add_f64_field("lat", FAST);
    let cell = b.add_text_field("cell", STRING);
    let lon = b.add_f64_field("lon", FAST);
    let min_rate = b.add_i64_field("min_rate", FAST);
    let max_occupancy = b.add_u64_field("max_occupancy", FAST);
    let text = TEXT_FIELDS.map(|(name, _)| b.add_text_field(name, text_options.clone()));
    let fields = Fields {
        id,
        id_hi,
        id_lo,
        property_type_ord,
        amenity_mask,
        name_exact,
        property_type,
        amenity,
        currency,
        lat,
        lon,
        cell,
        min_rate,
        max_occupancy,
        text,
    };
    (b.build(), fields)
}

/// The property index, in memory or in a directory. Safe to share between threads:
/// writes are serialised by a lock, searches run on the last committed state.
///
/// Beside the documents it keeps each property's listing (the property and its room types
/// as last indexed), so that pricing a candidate reads only its nights from the store.
pub struct SearchIndex {
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    listings: RwLock<HashMap<PropertyId, Arc<Listing>>>,
    fields: Fields,
    /// The outbox position the index reflects (set by whoever feeds it), for freshness.
    position: std::sync::atomic::AtomicI64,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex").field("docs", &self.reader.searcher().num_docs()).finish()
    }
}

impl SearchIndex {
    /// Open (or create) the index in `dir`, or a fresh one in memory when `dir` is `None`.
    pub fn open(dir: Option<&Path>) -> Result<SearchIndex, SearchError> {
        let (schema, fields) = schema();
        let index = match dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                Index::open_or_create(MmapDirectory::open(dir)?, schema)?
            }
            None => Index::create_in_ram(schema),
        };
        index.tokenizers().register(TEXT_ANALYZER, text_analyzer());
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4);
        let writer = index.writer_with_num_threads(threads, WRITER_HEAP_BYTES)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(SearchIndex {
            reader,
            writer: Mutex::new(writer),
            listings: RwLock::new(HashMap::new()),
            fields,
            position: std::sync::atomic::AtomicI64::new(-1),
        })
    }

    /// Record the outbox position the index now reflects.
    pub fn set_position(&self, seq: i64) {
        self.position.store(seq, std::sync::atomic::Ordering::Relaxed);
    }

    /// The outbox position the index reflects; -1 before it was first built.
    pub fn position(&self) -> i64 {
        self.position.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Add a property or replace its earlier version (visible after [`commit`](Self::commit)).
    pub fn upsert(&self, property: &Property, room_types: &[RoomType]) -> Result<(), SearchError> {
        let doc = self.document(property, room_types);
        let writer = self.writer.lock().map_err(|_| SearchError::Poisoned)?;
        writer.delete_term(self.id_term(property.id));
        writer.add_document(doc)?;
        let listing = Listing { property: property.clone(), room_types: room_types.to_vec() };
        self.listings.write().map_err(|_| SearchError::Poisoned)?.insert(property.id, Arc::new(listing));
        Ok(())
    }

    /// Remove a property (visible after [`commit`](Self::commit)).
    pub fn delete(&self, id: PropertyId) -> Result<(), SearchError> {
        let writer = self.writer.lock().map_err(|_| SearchError::Poisoned)?;
        writer.delete_term(self.id_term(id));
        self.listings.write().map_err(|_| SearchError::Poisoned)?.remove(&id);
        Ok(())
    }

    /// Make the changes so far durable and searchable; when this returns, searches see them.
    pub fn commit(&self) -> Result<(), SearchError> {
        let mut writer = self.writer.lock().map_err(|_| SearchError::Poisoned)?;
        writer.commit()?;
        drop(writer);
        self.reader.reload()?;
        Ok(())
    }

    /// Replace the whole index with these properties and commit; returns how many.
    pub fn rebuild<I>(&self, properties: I) -> Result<u64, SearchError>
    where
        I: IntoIterator<Item = (Property, Vec<RoomType>)>,
    {
        let mut writer = self.writer.lock().map_err(|_| SearchError::Poisoned)?;
        writer.delete_all_documents()?;
        let mut listings = HashMap::new();
        for (property, room_types) in properties {
            writer.add_document(self.document(&property, &room_types))?;
            listings.insert(property.id, Arc::new(Listing { property, room_types }));
        }
        writer.commit()?;
        drop(writer);
        let count = listings.len() as u64;
        *self.listings.write().map_err(|_| SearchError::Poisoned)? = listings;
        self.reader.reload()?;
        Ok(count)
    }

    /// The listings kept for these properties, in this order (`None` for one not indexed).
    pub fn listings(&self, ids: &[PropertyId]) -> Vec<Option<Arc<Listing>>> {
        match self.listings.read() {
            Ok(kept) => ids.iter().map(|id| kept.get(id).cloned()).collect(),
            Err(_) => ids.iter().map(|_| None).collect(),
        }
    }

    /// How many properties are searchable.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// The properties matching `query`, ordered by `query.sort`, at most `query.limit`
    /// (capped at [`MAX_LIMIT`]).
    pub fn search(&self, query: &IndexQuery) -> Result<Vec<Candidate>, SearchError> {
        Ok(rank(query, self.matching(query, true)?))
    }

    /// Counts per property type, amenity and price band among the properties matching
    /// `query` (see [`Facets`] for how the query's own type and amenity filters count).
    pub fn facets(&self, query: &IndexQuery) -> Result<Facets, SearchError> {
        Ok(count_facets(query, &self.matching(query, false)?))
    }

    /// [`search`](Self::search) and [`facets`](Self::facets) of one query, in one pass
    /// over the index.
    pub fn search_with_facets(&self, query: &IndexQuery) -> Result<(Vec<Candidate>, Facets), SearchError> {
        let hits = self.matching(query, false)?;
        let facets = count_facets(query, &hits);
        let (types, required) = type_and_amenity_masks(query);
        let hits = hits.into_iter().filter(|h| passes(h, types, required)).collect();
        Ok((rank(query, hits), facets))
    }

    /// Every matching property (geo radius applied exactly), unsorted. Without
    /// `type_and_amenity_filters` those two filters are left to the caller (facets).
    fn matching(&self, query: &IndexQuery, type_and_amenity_filters: bool) -> Result<Vec<Hit>, SearchError> {
        let geo_box = query.geo_box()?;
        let f = &self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let filter =
            |q: Box<dyn Query>| -> (Occur, Box<dyn Query>) { (Occur::Must, Box::new(ConstScoreQuery::new(q, 0.0))) };

        let mut analyzer = text_analyzer();
        let text = query.q.as_deref().unwrap_or("");
        let terms: Vec<String> = words(&mut analyzer, text).into_iter().take(MAX_QUERY_WORDS).collect();
        for word in &terms {
            clauses.push((Occur::Must, self.word_query(word)));
        }
        if !terms.is_empty() {
            let whole = fold(&mut analyzer, text);
            let exact = TermQuery::new(Term::from_field_text(f.name_exact, &whole), IndexRecordOption::Basic);
            clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(exact), EXACT_NAME_BOOST))));
        }

        // The box is found through the grid cells it touches (posting lists, no scan of a
        // column) when they are few, else through a latitude range; the exact edges and the
        // party size are checked per document in the collector, which reads those fast fields
        // anyway.
        if let Some(b) = &geo_box {
            match cells_of(b) {
                Some(cells) => {
                    let terms = cells.into_iter().map(|c| Term::from_field_text(f.cell, &c));
                    clauses.push(filter(any_term(terms)));
                }
                None => clauses.push(filter(Box::new(f64_range(f.lat, b.lat.0, b.lat.1)))),
            }
        }
        if type_and_amenity_filters {
            if !query.property_types.is_empty() {
                let terms = query.property_types.iter().map(|t| Term::from_field_text(f.property_type, t.as_str()));
                clauses.push(filter(any_term(terms)));
            }
            for a in &query.amenities {
                let term = Term::from_field_text(f.amenity, &amenity_name(*a));
                clauses.push(filter(Box::new(TermQuery::new(term, IndexRecordOption::Basic))));
            }
        }
        if let Some(max) = query.max_price_minor {
            let upper = Bound::Included(Term::from_field_i64(f.min_rate, max));
            clauses.push(filter(Box::new(RangeQuery::new(Bound::Unbounded, upper))));
        }
        if let Some(currency) = query.currency {
            let term = Term::from_field_text(f.currency, currency.code());
            clauses.push(filter(Box::new(TermQuery::new(term, IndexRecordOption::Basic))));
        }

        let tantivy_query: Box<dyn Query> =
            if clauses.is_empty() { Box::new(AllQuery) } else { Box::new(BooleanQuery::new(clauses)) };
        let searcher = self.reader.searcher();
        let collector = HitCollector {
            scoring: !terms.is_empty(),
            lats: geo_box.as_ref().map(|b| b.lat),
            lons: geo_box.map(|b| b.lons),
            party: query.party.map(u64::from),
        };
        let mut hits = searcher.search(&tantivy_query, &collector)?;
        if let Some(Geo::Radius { lat, lon, km }) = query.geo {
            hits.retain(|h| haversine_km(lat, lon, h.lat, h.lon) <= km);
        }
        Ok(hits)
    }

    /// One word of the free text: an exact match in any text field, or (for longer words)
    /// a match one edit away, worth less.
    fn word_query(&self, word: &str) -> Box<dyn Query> {
        let fuzzy = word.chars().count() >= FUZZY_MIN_CHARS;
        let mut alternatives: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (field, (_, weight)) in self.fields.text.iter().zip(TEXT_FIELDS) {
            let term = Term::from_field_text(*field, word);
            let exact = TermQuery::new(term.clone(), IndexRecordOption::WithFreqs);
            alternatives.push((Occur::Should, Box::new(BoostQuery::new(Box::new(exact), weight))));
            if fuzzy {
                let near = FuzzyTermQuery::new(term, 1, true);
                alternatives.push((Occur::Should, Box::new(BoostQuery::new(Box::new(near), weight * FUZZY_WEIGHT))));
            }
        }
        Box::new(BooleanQuery::new(alternatives))
    }

    fn id_term(&self, id: PropertyId) -> Term {
        Term::from_field_text(self.fields.id, &id.0.to_string())
    }

    fn document(&self, property: &Property, room_types: &[RoomType]) -> TantivyDocument {
        let f = &self.fields;
        let d = &property.draft;
        let mut analyzer = text_analyzer();
        let mut doc = TantivyDocument::default();
        let (hi, lo) = property.id.0.as_u64_pair();
        doc.add_text(f.id, property.id.0.to_string());
        doc.add_u64(f.id_hi, hi);
        doc.add_u64(f.id_lo, lo);
        doc.add_text(f.name_exact, fold(&mut analyzer, &d.name));
        doc.add_text(f.property_type, d.property_type.as_str());
        doc.add_u64(f.property_type_ord, type_ord(d.property_type));
        for a in &d.amenities {
            doc.add_text(f.amenity, amenity_name(*a));
        }
        doc.add_u64(f.amenity_mask, amenity_mask(&d.amenities));
        doc.add_text(f.currency, d.currency.code());
        doc.add_f64(f.lat, d.latitude);
        doc.add_text(f.cell, cell_name(cell_index(d.latitude), cell_index(d.longitude)));
        doc.add_f64(f.lon, d.longitude);
        doc.add_i64(f.min_rate, room_types.iter().map(|r| r.draft.base_rate_minor).min().unwrap_or(NO_RATE));
        doc.add_u64(
            f.max_occupancy,
            room_types.iter().map(|r| u64::from(r.draft.occupancy.max_total)).max().unwrap_or(0),
        );

        let [name, city, country, features, rooms, description] = f.text;
        doc.add_text(name, &d.name);
        doc.add_text(city, &d.address.city);
        if let Some(region) = &d.address.region {
            doc.add_text(city, region);
        }
        doc.add_text(country, d.address.country.as_str());
        doc.add_text(features, d.property_type.as_str().replace('_', " "));
        for a in &d.amenities {
            doc.add_text(features, amenity_name(*a).replace('_', " "));
        }
        for r in room_types {
            doc.add_text(rooms, &r.draft.name);
            doc.add_text(rooms, &r.draft.beds);
        }
        doc.add_text(description, &d.description);
        doc
    }
}

/// Order matching properties by the query's sort and keep the first `limit`.
fn rank(query: &IndexQuery, mut hits: Vec<Hit>) -> Vec<Candidate> {
    let limit = query.limit.min(MAX_LIMIT);
    let origin = query.distance_origin();
    if let Some((lat, lon)) = origin {
        for h in &mut hits {
            h.distance_km = Some(haversine_km(lat, lon, h.lat, h.lon));
        }
    }
    let cmp = |a: &Hit, b: &Hit| -> Ordering {
        let by_score = b.score.total_cmp(&a.score);
        let primary = match query.sort {
            Sort::Relevance => by_score,
            Sort::Distance { .. } => {
                a.distance_km.unwrap_or(f64::MAX).total_cmp(&b.distance_km.unwrap_or(f64::MAX)).then(by_score)
            }
            Sort::Price => a.min_rate.cmp(&b.min_rate).then(by_score),
        };
        primary.then(a.id.cmp(&b.id))
    };
    if limit == 0 {
        return Vec::new();
    }
    if hits.len() > limit {
        hits.select_nth_unstable_by(limit - 1, cmp);
        hits.truncate(limit);
    }
    hits.sort_unstable_by(cmp);
    hits.into_iter()
        .map(|h| Candidate {
            property_id: PropertyId(uuid::Uuid::from_u64_pair(h.id.0, h.id.1)),
            score: h.score,
            distance_km: h.distance_km,
            min_rate_minor: (h.min_rate != NO_RATE).then_some(h.min_rate),
        })
        .collect()
}

/// Facet counts over properties matched without the type and amenity filters.
fn count_facets(query: &IndexQuery, hits: &[Hit]) -> Facets {
    let (wanted_types, required) = type_and_amenity_masks(query);
    let mut types = [0u64; PropertyType::ALL.len()];
    let mut amenities = [0u64; Amenity::ALL.len()];
    let mut bands = [0u64; PRICE_BANDS.len()];
    for h in hits {
        if h.amenities & required == required
            && let Some(n) = types.get_mut(h.property_type as usize)
        {
            *n += 1;
        }
        if !passes(h, wanted_types, required) {
            continue;
        }
        for (i, n) in amenities.iter_mut().enumerate() {
            if h.amenities & (1 << i) != 0 {
                *n += 1;
            }
        }
        if let Some(i) =
            PRICE_BANDS.iter().position(|(from, to)| h.min_rate >= *from && to.is_none_or(|to| h.min_rate < to))
            && h.min_rate != NO_RATE
            && let Some(n) = bands.get_mut(i)
        {
            *n += 1;
        }
    }
    let named = |counts: &[u64], name: &dyn Fn(usize) -> String| {
        let mut out: Vec<(String, u64)> =
            counts.iter().enumerate().filter(|(_, n)| **n > 0).map(|(i, n)| (name(i), *n)).collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out
    };
    Facets {
        property_types: named(&types, &|i| PropertyType::ALL.get(i).map_or("", |t| t.as_str()).to_string()),
        amenities: named(&amenities, &|i| Amenity::ALL.get(i).map_or(String::new(), |a| amenity_name(*a))),
        price_bands: PRICE_BANDS
            .iter()
            .zip(bands)
            .map(|((from, to), n)| (to.map_or(format!("{from}.."), |to| format!("{from}..{to}")), n))
            .collect(),
    }
}

/// The query's property types as a bit set (0: any), and the amenities it requires.
fn type_and_amenity_masks(query: &IndexQuery) -> (u64, u64) {
    (query.property_types.iter().fold(0u64, |m, t| m | type_bit(*t)), amenity_mask(&query.amenities))
}

/// Whether a hit has one of the wanted types and every required amenity.
fn passes(h: &Hit, types: u64, required: u64) -> bool {
    (types == 0 || types & (1 << h.property_type) != 0) && h.amenities & required == required
}

/// Grid cells are this many degrees on a side.
const CELL_DEGREES: f64 = 0.5;

/// Boxes touching more cells than this are found by a latitude range instead.
const MAX_CELLS: i64 = 256;

fn cell_index(degrees: f64) -> i64 {
    (degrees / CELL_DEGREES).floor() as i64
}

fn cell_name(lat: i64, lon: i64) -> String {
    format!("{lat}:{lon}")
}

/// The names of the grid cells a box touches, or `None` if there are too many.
fn cells_of(b: &crate::geo::DegreeBox) -> Option<Vec<String>> {
    let lats = cell_index(b.lat.0)..=cell_index(b.lat.1);
    let lon_ranges: Vec<_> = b.lons.iter().map(|&(w, e)| cell_index(w)..=cell_index(e)).collect();
    let count = (lats.end() - lats.start() + 1) * lon_ranges.iter().map(|r| r.end() - r.start() + 1).sum::<i64>();
    if count > MAX_CELLS {
        return None;
    }
    Some(
        lats.flat_map(|lat| lon_ranges.iter().flat_map(move |r| r.clone().map(move |lon| cell_name(lat, lon))))
            .collect(),
    )
}

/// Documents with any of these terms: a union of term queries for a few (a term set query
/// builds an automaton per search, which costs more than the lookup for a handful of terms).
fn any_term(terms: impl Iterator<Item = Term>) -> Box<dyn Query> {
    let terms: Vec<Term> = terms.collect();
    if terms.len() > 16 {
        return Box::new(TermSetQuery::new(terms));
    }
    let clauses: Vec<(Occur, Box<dyn Query>)> = terms
        .into_iter()
        .map(|t| (Occur::Should, Box::new(TermQuery::new(t, IndexRecordOption::Basic)) as Box<dyn Query>))
        .collect();
    Box::new(BooleanQuery::new(clauses))
}

fn f64_range(field: Field, from: f64, to: f64) -> RangeQuery {
    RangeQuery::new(
        Bound::Included(Term::from_field_f64(field, from)),
        Bound::Included(Term::from_field_f64(field, to)),
    )
}

fn type_ord(t: PropertyType) -> u64 {
    PropertyType::ALL.iter().position(|x| *x == t).unwrap_or(0) as u64
}

fn type_bit(t: PropertyType) -> u64 {
    1 << type_ord(t)
}

fn amenity_mask(amenities: &[Amenity]) -> u64 {
    amenities.iter().filter_map(|a| Amenity::ALL.iter().position(|x| x == a)).fold(0, |m, i| m | (1 << i))
}

/// The snake_case name of an amenity, as in the API (`AirConditioning` -> `air_conditioning`).
pub(crate) fn amenity_name(a: Amenity) -> String {
    let debug = format!("{a:?}");
    let mut out = String::with_capacity(debug.len() + 4);
    for (i, c) in debug.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// One matching document, with what sorting and facets need.
#[derive(Debug, Clone)]
struct Hit {
    id: (u64, u64),
    score: Score,
    lat: f64,
    lon: f64,
    min_rate: i64,
    property_type: u64,
    amenities: u64,
    distance_km: Option<f64>,
}

/// Collects every matching document with its fast field values, keeping those inside the
/// longitude ranges and with a room type for the party.
struct HitCollector {
    scoring: bool,
    lats: Option<(f64, f64)>,
    lons: Option<Vec<(f64, f64)>>,
    party: Option<u64>,
}

struct HitSegmentCollector {
    id_hi: Column<u64>,
    id_lo: Column<u64>,
    lat: Column<f64>,
    lon: Column<f64>,
    min_rate: Column<i64>,
    property_type: Column<u64>,
    amenities: Column<u64>,
    max_occupancy: Column<u64>,
    lats: Option<(f64, f64)>,
    lons: Option<Vec<(f64, f64)>>,
    party: Option<u64>,
    hits: Vec<Hit>,
}

impl Collector for HitCollector {
    type Fruit = Vec<Hit>;
    type Child = HitSegmentCollector;

    fn for_segment(&self, _: SegmentOrdinal, segment: &SegmentReader) -> tantivy::Result<HitSegmentCollector> {
        let ff = segment.fast_fields();
        Ok(HitSegmentCollector {
            id_hi: ff.u64("id_hi")?,
            id_lo: ff.u64("id_lo")?,
            lat: ff.f64("lat")?,
            lon: ff.f64("lon")?,
            min_rate: ff.i64("min_rate")?,
            property_type: ff.u64("property_type_ord")?,
            amenities: ff.u64("amenity_mask")?,
            max_occupancy: ff.u64("max_occupancy")?,
            lats: self.lats,
            lons: self.lons.clone(),
            party: self.party,
            hits: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.scoring
    }

    fn merge_fruits(&self, fruits: Vec<Vec<Hit>>) -> tantivy::Result<Vec<Hit>> {
        Ok(fruits.into_iter().flatten().collect())
    }

    /// As tantivy's default, except that without scoring a segment with deleted documents
    /// is still collected a block at a time (the default falls back to one call a document).
    fn collect_segment(
        &self,
        weight: &dyn Weight,
        segment_ord: u32,
        reader: &SegmentReader,
    ) -> tantivy::Result<Vec<Hit>> {
        let mut child = self.for_segment(segment_ord, reader)?;
        match (reader.alive_bitset(), self.scoring) {
            (alive, true) => weight.for_each(reader, &mut |doc, score| {
                if alive.is_none_or(|a| a.is_alive(doc)) {
                    child.collect(doc, score);
                }
            })?,
            (None, false) => weight.for_each_no_score(reader, &mut |docs| child.collect_block(docs))?,
            (Some(alive), false) => {
                let mut living = Vec::with_capacity(64);
                weight.for_each_no_score(reader, &mut |docs| {
                    living.clear();
                    living.extend(docs.iter().copied().filter(|d| alive.is_alive(*d)));
                    child.collect_block(&living);
                })?
            }
        }
        Ok(child.harvest())
    }
}

impl HitSegmentCollector {
    /// Whether a document with this largest occupancy and position passes the party and
    /// box filters (its other fast fields are read only then).
    fn admit(&self, occupancy: Option<u64>, lat: Option<f64>, lon: Option<f64>) -> bool {
        if let Some(party) = self.party
            && occupancy.unwrap_or(0) < party
        {
            return false;
        }
        let lat = lat.unwrap_or(0.0);
        if let Some((south, north)) = self.lats
            && !(south..=north).contains(&lat)
        {
            return false;
        }
        let lon = lon.unwrap_or(0.0);
        if let Some(lons) = &self.lons
            && !lons.iter().any(|&(w, e)| (w..=e).contains(&lon))
        {
            return false;
        }
        true
    }

    fn push(&mut self, doc: DocId, score: Score, lat: f64, lon: f64) {
        self.hits.push(Hit {
            id: (self.id_hi.first(doc).unwrap_or(0), self.id_lo.first(doc).unwrap_or(0)),
            score,
            lat,
            lon,
            min_rate: self.min_rate.first(doc).unwrap_or(NO_RATE),
            property_type: self.property_type.first(doc).unwrap_or(0),
            amenities: self.amenities.first(doc).unwrap_or(0),
            distance_km: None,
        });
    }
}

impl SegmentCollector for HitSegmentCollector {
    type Fruit = Vec<Hit>;

    fn collect(&mut self, doc: DocId, score: Score) {
        let (occupancy, lat, lon) = (self.max_occupancy.first(doc), self.lat.first(doc), self.lon.first(doc));
        if self.admit(occupancy, lat, lon) {
            self.push(doc, score, lat.unwrap_or(0.0), lon.unwrap_or(0.0));
        }
    }

    /// Without scoring, documents come in blocks: the filter columns are read a block at
    /// a time (one call per column instead of one per document).
    fn collect_block(&mut self, docs: &[DocId]) {
        let n = docs.len();
        let (mut occupancy, mut lats, mut lons) = (vec![None; n], vec![None; n], vec![None; n]);
        self.max_occupancy.first_vals(docs, &mut occupancy);
        self.lat.first_vals(docs, &mut lats);
        self.lon.first_vals(docs, &mut lons);
        let admitted: Vec<usize> = (0..n).filter(|&i| self.admit(occupancy[i], lats[i], lons[i])).collect();
        if admitted.len() < n / 2 {
            for i in admitted {
                self.push(docs[i], 0.0, lats[i].unwrap_or(0.0), lons[i].unwrap_or(0.0));
            }
            return;
        }
        // Most of the block is in: read the rest of its columns a block at a time too.
        let (mut hi, mut lo, mut rates, mut types, mut amenities) =
            (vec![None; n], vec![None; n], vec![None; n], vec![None; n], vec![None; n]);
        self.id_hi.first_vals(docs, &mut hi);
        self.id_lo.first_vals(docs, &mut lo);
        self.min_rate.first_vals(docs, &mut rates);
        self.property_type.first_vals(docs, &mut types);
        self.amenities.first_vals(docs, &mut amenities);
        for i in admitted {
            self.hits.push(Hit {
                id: (hi[i].unwrap_or(0), lo[i].unwrap_or(0)),
                score: 0.0,
                lat: lats[i].unwrap_or(0.0),
                lon: lons[i].unwrap_or(0.0),
                min_rate: rates[i].unwrap_or(NO_RATE),
                property_type: types[i].unwrap_or(0),
                amenities: amenities[i].unwrap_or(0),
                distance_km: None,
            });
        }
    }

    fn harvest(self) -> Vec<Hit> {
        self.hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amenity_names_match_the_api() {
        for a in Amenity::ALL {
            assert_eq!(serde_json::to_value(a).unwrap(), serde_json::Value::String(amenity_name(a)));
        }
    }

    #[test]
    fn small_boxes_are_found_by_cells_and_large_ones_by_range() {
        let lisbon = crate::geo::DegreeBox::around(38.72, -9.14, 25.0);
        let cells = cells_of(&lisbon).unwrap();
        assert!(cells.len() <= 6, "{cells:?}");
        assert!(cells.contains(&cell_name(cell_index(38.72), cell_index(-9.14))));
        let across = crate::geo::DegreeBox::edges(-1.0, 179.8, 1.0, -179.8);
        let cells = cells_of(&across).unwrap();
        assert!(cells.contains(&cell_name(0, 359)) && cells.contains(&cell_name(0, -360)), "{cells:?}");
        assert!(cells_of(&crate::geo::DegreeBox::edges(-60.0, -170.0, 70.0, 170.0)).is_none());
    }

    #[test]
    fn every_amenity_and_type_fits_a_bit_mask() {
        assert!(Amenity::ALL.len() <= 64 && PropertyType::ALL.len() <= 64);
        assert_eq!(amenity_mask(&Amenity::ALL).count_ones() as usize, Amenity::ALL.len());
    }
}
