//! The gazetteer: autocomplete (prefix, accents, typos, ranking) and reverse geocoding.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use innkeep_search::{Gazetteer, Place};
use std::sync::OnceLock;

fn gazetteer() -> &'static Gazetteer {
    static G: OnceLock<Gazetteer> = OnceLock::new();
    G.get_or_init(|| Gazetteer::load().unwrap())
}

fn names(places: &[Place]) -> Vec<&str> {
    places.iter().map(|p| p.name.as_str()).collect()
}

#[test]
fn the_shipped_list_holds_every_city_of_15000_people() {
    assert!(gazetteer().len() > 30_000, "{}", gazetteer().len());
    let lisbon = gazetteer().get(2267057).unwrap();
    assert_eq!((lisbon.name.as_str(), lisbon.country.as_str()), ("Lisbon", "PT"));
    assert_eq!(lisbon.time_zone, "Europe/Lisbon");
    assert!(gazetteer().get(1).is_none());
}

#[test]
fn a_prefix_finds_lisbon_first() {
    let hits = gazetteer().autocomplete("lisb", 5);
    assert_eq!((hits[0].name.as_str(), hits[0].country.as_str()), ("Lisbon", "PT"));
    assert_eq!(gazetteer().autocomplete("LISBON", 1)[0].id, 2267057);
    assert_eq!(gazetteer().autocomplete("new york", 1)[0].name, "New York City");
}

#[test]
fn one_typo_still_finds_lisbon() {
    assert_eq!(gazetteer().autocomplete("lisbn", 5)[0].name, "Lisbon");
    assert_eq!(gazetteer().autocomplete("lsibon", 5)[0].name, "Lisbon");
    assert_eq!(gazetteer().autocomplete("madird", 5)[0].name, "Madrid");
    // Short queries get no typo pass: "lisn" is not one edit from a prefix of "lisbon"
    // anyway, but "lis" must only return true prefixes.
    assert!(gazetteer().autocomplete("lis", 50).iter().all(|p| p.ascii_name.to_lowercase().starts_with("lis")));
}

#[test]
fn accents_and_case_are_ignored_both_ways() {
    assert_eq!(gazetteer().autocomplete("sao paulo", 3)[0].name, "São Paulo");
    assert_eq!(gazetteer().autocomplete("sao pa", 3)[0].name, "São Paulo");
    assert_eq!(gazetteer().autocomplete("SÃO-PAULO", 3)[0].name, "São Paulo");
    assert_eq!(gazetteer().autocomplete("zur", 3)[0].name, "Zürich");
    assert_eq!(gazetteer().autocomplete("zürich", 3)[0].name, "Zürich");
}

#[test]
fn bigger_cities_come_first() {
    let hits = gazetteer().autocomplete("san", 10);
    assert_eq!(hits.len(), 10);
    assert_eq!(names(&hits)[..3], ["Santiago", "Santo Domingo", "Sanaa"]);
    // Apart from the exact "San" (ranked at ten times its population), by population.
    let prefixes: Vec<_> = hits.iter().filter(|p| p.name != "San").collect();
    assert!(prefixes.windows(2).all(|w| w[0].population >= w[1].population), "{:?}", names(&hits));
}

#[test]
fn an_exact_name_counts_ten_times_its_population() {
    // Kara (Togo, 104k) is named exactly that: it passes Karagandy (498k) but not Karaj (1.4M).
    let hits = gazetteer().autocomplete("kara", 5);
    assert_eq!(names(&hits)[..4], ["Karachi", "Karaj", "Kara", "Karagandy"]);
    assert_eq!(names(&gazetteer().autocomplete("mexico", 2)), ["Mexico City", "Mexico"]);
}

#[test]
fn empty_queries_and_zero_limits_give_nothing() {
    assert!(gazetteer().autocomplete("", 10).is_empty());
    assert!(gazetteer().autocomplete("  --- ", 10).is_empty());
    assert!(gazetteer().autocomplete("lisbon", 0).is_empty());
    assert!(gazetteer().autocomplete("qqqqqqqq", 10).is_empty());
}

#[test]
fn non_latin_queries_do_not_panic() {
    let _ = gazetteer().autocomplete("東京", 5);
    let _ = gazetteer().autocomplete("Москва", 5);
    let _ = gazetteer().autocomplete("ü", 5);
}

#[test]
fn a_point_in_central_lisbon_is_in_lisbon() {
    // Avenida da Liberdade.
    assert_eq!(gazetteer().reverse(38.7205, -9.1459).unwrap().name, "Lisbon");
    // Times Square.
    assert_eq!(gazetteer().reverse(40.758, -73.9855).unwrap().country, "US");
    // Across the antimeridian: Suva, Fiji, from just east of 180.
    assert_eq!(gazetteer().reverse(-18.14, 178.44).unwrap().country, "FJ");
    assert!(gazetteer().reverse(91.0, 0.0).is_none());
    assert!(gazetteer().reverse(f64::NAN, 0.0).is_none());
}

#[test]
fn places_serialize_with_their_fields() {
    let json = serde_json::to_value(gazetteer().get(2267057).unwrap()).unwrap();
    assert_eq!(json["name"], "Lisbon");
    assert_eq!(json["country"], "PT");
    assert_eq!(json["time_zone"], "Europe/Lisbon");
}
