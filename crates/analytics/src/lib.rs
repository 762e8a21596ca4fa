//! Analytics: the Parquet lake and SQL over it.
pub mod lake;
pub mod query;
pub mod reports;
pub mod schema;

pub use lake::{ClientSource, Lake, LakeError, LakeWriter, Synced};
pub use query::LakeSql;
