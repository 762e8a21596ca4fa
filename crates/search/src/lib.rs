//! Search: the property index (Tantivy: full text with typo tolerance, filters, geo,
//! facets) and the shipped gazetteer (place autocomplete and reverse geocoding).
//!
//! The index is fed downstream of the outbox (`upsert`/`delete` then `commit`) and can
//! be rebuilt from the database with `rebuild`; it knows nothing of HTTP or the store.
//! Every fallible function returns [`SearchError`].

mod analysis;
pub mod error;
pub mod freshness;
pub mod gazetteer;
pub mod geo;
pub mod history;
pub mod index;
mod port;
pub mod query;

pub use error::SearchError;
pub use gazetteer::{EXACT_WEIGHT, Gazetteer, Place};
pub use geo::{EARTH_RADIUS_KM, haversine_km};
pub use history::HistoryIndex;
pub use index::SearchIndex;
pub use query::{Candidate, Facets, Geo, IndexQuery, MAX_LIMIT, PRICE_BANDS, Sort};
