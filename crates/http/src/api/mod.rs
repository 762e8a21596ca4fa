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
