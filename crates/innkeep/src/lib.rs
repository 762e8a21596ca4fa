//! The Innkeep program: configuration, wiring of ports to backends, the server's
//! lifecycle. The only crate that knows every backend; the demo data and the benchmarks
//! are their own crates (`innkeep-demo`, `innkeep-bench`).

pub mod alerts;
pub mod analytics;
pub mod backup;
pub mod channels;
pub mod config;
pub mod notify;
pub mod parts;
pub mod startup;
pub mod suggest;
pub mod telemetry;
