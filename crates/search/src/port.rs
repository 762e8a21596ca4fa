//! The app's search ports, implemented on the Tantivy index and the gazetteer.

use crate::SearchError;
use crate::gazetteer::{Gazetteer, Place};
use crate::index::SearchIndex;
use crate::query::{Geo, IndexQuery, Sort};
use innkeep_app::search::{
    Area, Candidate, CandidateQuery, FacetCounts, IndexError, IndexOrder, Listing, PlaceView, Places, PropertyIndex,
};
use innkeep_app::store::{Property, RoomType};
use innkeep_core::PropertyId;
use std::sync::Arc;

fn index_query(q: &CandidateQuery) -> IndexQuery {
    IndexQuery {
        q: q.text.clone(),
        geo: q.area.map(|a| match a {
            Area::Radius { lat, lon, km } => Geo::Radius { lat, lon, km },
            Area::BBox { south, west, north, east } => Geo::BBox { south, west, north, east },
        }),
        property_types: q.property_types.clone(),
        amenities: q.amenities.clone(),
        party: Some(q.party),
        max_price_minor: None,
        currency: None,
        sort: match q.order {
            IndexOrder::Relevance => Sort::Relevance,
            IndexOrder::Distance { lat, lon } => Sort::Distance { lat, lon },
        },
        limit: q.limit,
    }
}

/// A query the index cannot run is the caller's mistake; anything else is the index's.
fn index_error(e: SearchError) -> IndexError {
    match e {
        SearchError::InvalidQuery(m) => IndexError::Query(m),
        other => IndexError::Failed(other.to_string()),
    }
}

impl PropertyIndex for SearchIndex {
    fn candidates(&self, q: &CandidateQuery) -> Result<Vec<Candidate>, IndexError> {
        let found = self.search(&index_query(q)).map_err(index_error)?;
        Ok(found.into_iter().map(candidate).collect())
    }

    fn facets(&self, q: &CandidateQuery) -> Result<FacetCounts, IndexError> {
        let f = SearchIndex::facets(self, &index_query(q)).map_err(index_error)?;
        Ok(facet_counts(f))
    }

    fn candidates_and_facets(&self, q: &CandidateQuery) -> Result<(Vec<Candidate>, FacetCounts), IndexError> {
        let (found, f) = self.search_with_facets(&index_query(q)).map_err(index_error)?;
        Ok((found.into_iter().map(candidate).collect(), facet_counts(f)))
    }

    fn listings(&self, ids: &[PropertyId]) -> Vec<Option<Arc<Listing>>> {
        SearchIndex::listings(self, ids)
    }

    fn upsert(&self, property: &Property, room_types: &[RoomType]) -> Result<(), IndexError> {
        SearchIndex::upsert(self, property, room_types).map_err(index_error)
    }

    fn commit(&self) -> Result<(), IndexError> {
        SearchIndex::commit(self).map_err(index_error)
    }
}

fn candidate(c: crate::query::Candidate) -> Candidate {
    Candidate { property_id: c.property_id, score: c.score, distance_km: c.distance_km }
}

fn facet_counts(f: crate::query::Facets) -> FacetCounts {
    FacetCounts {
        property_types: f.property_types,
        amenities: f.amenities,
        price_bands: f.price_bands,
        ratings: Vec::new(),
    }
}

fn view(p: &Place) -> PlaceView {
    PlaceView {
        id: p.id,
        name: p.name.clone(),
        country: p.country.clone(),
        admin1: p.admin1.clone(),
        latitude: p.latitude,
        longitude: p.longitude,
        population: p.population,
        time_zone: p.time_zone.clone(),
    }
}

impl Places for Gazetteer {
    fn autocomplete(&self, q: &str, limit: usize) -> Vec<PlaceView> {
        Gazetteer::autocomplete(self, q, limit).iter().map(view).collect()
    }

    fn reverse(&self, lat: f64, lon: f64) -> Option<PlaceView> {
        Gazetteer::reverse(self, lat, lon).as_ref().map(view)
    }

    fn place(&self, id: u32) -> Option<PlaceView> {
        self.get(id).map(view)
    }
}
