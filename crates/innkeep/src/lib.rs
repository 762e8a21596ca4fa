//! The Innkeep program: configuration, wiring of ports to backends, the server's
//! lifecycle, demo data and benchmarks. The only crate that knows every backend.

pub mod bench;
pub mod config;
pub mod demo;
pub mod parts;
pub mod startup;
pub mod telemetry;
