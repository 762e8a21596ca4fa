//! The integration tests of a whole node: every file of this folder is one module of a
//! single test binary, so the node (SQL engine and all) is linked once for all of them,
//! not once per file. Run one file's tests with `cargo test -p innkeep --test node payments::`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod accounts;
mod analytics;
mod audit;
mod authz;
mod backup;
mod bad_input;
mod billing;
mod booking_flow;
mod browser;
mod cache;
mod card_payments;
mod channels;
mod cluster;
mod concurrency;
mod cost;
mod crash;
mod credentials;
mod cross_node;
mod data_rights;
mod durability;
mod ingest;
mod notifications;
mod openapi;
mod operations;
mod operator;
mod ota;
mod payment_interleavings;
mod payments;
mod photos;
mod recommend;
mod replica;
mod reviews;
mod search;
mod storage_faults;
mod tenant_data;
mod two_factor;
