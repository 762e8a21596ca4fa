//! Search: the property index and the gazetteer (being built).
