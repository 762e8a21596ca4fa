//! Web pages (being built).

/// The page routes, merged into the application by the binary.
pub fn routes() -> axum::Router<innkeep_http::AppState> {
    axum::Router::new()
}
