//! The /api/v1 JSON resources, one file per group, and the OpenAPI document that lists them.

pub mod accounts;
pub mod analytics;
pub mod audit;
pub mod billing;
pub mod bookings;
pub mod catalog;
pub mod channels;
pub mod credentials;
pub mod data_rights;
pub mod history;
pub mod ingest;
pub mod notifications;
pub mod openapi;
pub mod operator;
pub mod ota;
pub mod payments;
pub mod photos;
pub mod problems;
pub mod reviews;
pub mod schemas;
pub mod search;
pub mod suggestions;
pub mod team;
pub mod tenant_data;
pub mod two_factor;
pub mod waiting;

/// Children's ages as a client gave them (at most `MAX_CHILD_AGES`; their range and count
/// are the party's to check).
pub(crate) fn child_ages(ages: &[u8]) -> Result<innkeep_core::ChildAges, crate::error::ApiError> {
    innkeep_core::ChildAges::new(ages).ok_or_else(|| {
        crate::error::ApiError::invalid(
            "child_ages",
            "invalid_child_ages",
            format!("at most {} children's ages", innkeep_core::MAX_CHILD_AGES),
        )
    })
}

/// Children's ages from a query, comma separated (`4,9`); none when absent or empty.
pub(crate) fn child_ages_listed(text: Option<&str>) -> Result<innkeep_core::ChildAges, crate::error::ApiError> {
    let mut ages = Vec::new();
    for a in text.unwrap_or("").split(',').map(str::trim).filter(|a| !a.is_empty()) {
        let age = a.parse::<u8>().ok().filter(|a| *a <= innkeep_core::MAX_CHILD_AGE).ok_or_else(|| {
            crate::error::ApiError::invalid(
                "child_ages",
                "invalid_child_ages",
                format!("child_ages are whole numbers from 0 to 17, comma separated, not {a:?}"),
            )
        })?;
        ages.push(age);
    }
    child_ages(&ages)
}
