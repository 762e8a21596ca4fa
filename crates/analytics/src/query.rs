//! SQL over the lake with DataFusion, in process: the tables and views a query sees, the
//! read-only rule, and the time, row and memory limits.
//!
//! Tables: `lake` (every file, every column, partitioned by `kind` and `date`), the views
//! `events` (outbox events), `booking_events` (each step of each booking), `bookings` (each
//! booking's latest state), `client_events` (searches, views, clicks), and `properties`
//! (the snapshot of the catalogue).

use crate::lake::{Lake, PROPERTIES};
use crate::schema::table_schema;
use async_trait::async_trait;
use datafusion::arrow::array::{Array, ArrayRef, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::execution::context::{SQLOptions, SessionConfig, SessionContext};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use innkeep_app::analytics::{Analytics, AnalyticsError, Limits, Report, Table};
use innkeep_core::TenantId;
use object_store::ObjectStoreExt;
use std::sync::Arc;

/// The outbox kinds of a booking's steps.
pub const BOOKING_KINDS: &str = "'booking.held','booking.confirmed','booking.checked_in','booking.completed',\
'booking.expired','booking.cancelled','booking.no_show'";
/// The kinds of client events.
pub const CLIENT_KINDS: &str = "'search','view','click','funnel'";

/// Memory a query may hold before it fails (sorts and joins spill no further).
const MEMORY: usize = 1 << 30;

fn df(e: datafusion::error::DataFusionError) -> AnalyticsError {
    use datafusion::error::DataFusionError as E;
    match e {
        E::SQL(..) | E::Plan(_) | E::SchemaError(..) | E::NotImplemented(_) => AnalyticsError::Invalid(e.to_string()),
        E::ObjectStore(_) | E::IoError(_) => AnalyticsError::Unavailable(e.to_string()),
        E::ResourcesExhausted(m) => AnalyticsError::Invalid(format!("the query needs too much memory: {m}")),
        E::Context(c, inner) => match df(*inner) {
            AnalyticsError::Invalid(m) => AnalyticsError::Invalid(format!("{c}: {m}")),
            other => other,
        },
        other => AnalyticsError::Invalid(other.to_string()),
    }
}

/// The lake, queried with DataFusion in this process.
#[derive(Clone)]
pub struct LakeSql {
    lake: Lake,
}

impl LakeSql {
    pub fn new(lake: Lake) -> LakeSql {
        LakeSql { lake }
    }

    /// A session over the lake as it is now, with its tables and views.
    pub async fn session(&self) -> Result<SessionContext, AnalyticsError> {
        let runtime = RuntimeEnvBuilder::new().with_memory_limit(MEMORY, 1.0).build_arc().map_err(df)?;
        // DataFusion's own settings may be tuned from the environment (`DATAFUSION_*`, such as
        // `DATAFUSION_EXECUTION_BATCH_SIZE`); a value it cannot read is an error, not ignored.
        let config = SessionConfig::from_env().map_err(df)?.with_information_schema(true);
        let ctx = SessionContext::new_with_config_rt(config, runtime);
        let url = url::Url::parse("lake://lake/").map_err(|e| AnalyticsError::Unavailable(e.to_string()))?;
        ctx.register_object_store(&url, self.lake.objects.clone());
        let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
            .with_file_extension(".parquet")
            .with_table_partition_cols(vec![("kind".into(), DataType::Utf8), ("date".into(), DataType::Date32)]);
        let root = ListingTableUrl::parse("lake://lake/").map_err(df)?;
        let config = ListingTableConfig::new(root).with_listing_options(options).with_schema(table_schema());
        ctx.register_table("lake", Arc::new(ListingTable::try_new(config).map_err(df)?)).map_err(df)?;
        let has_properties = self.lake.objects.head(&object_store::path::Path::from(PROPERTIES)).await.is_ok();
        if has_properties {
            // The directory, not the file: a file's URL is listed as a prefix, which an S3 API
            // answers with nothing.
            let dir = PROPERTIES.rsplit_once('/').map(|(d, _)| d).unwrap_or(PROPERTIES);
            ctx.register_parquet("properties", format!("lake://lake/{dir}/"), Default::default()).await.map_err(df)?;
        } else {
            ctx.register_table("properties", Arc::new(empty_properties().map_err(df)?)).map_err(df)?;
        }
        for view in VIEWS {
            ctx.sql(view).await.map_err(df)?;
        }
        Ok(ctx)
    }

    /// Run one read-only query within `limits`.
    pub async fn query(&self, sql: &str, limits: Limits) -> Result<Table, AnalyticsError> {
        let ctx = self.session().await?;
        let options = SQLOptions::new().with_allow_ddl(false).with_allow_dml(false).with_allow_statements(false);
        let run = async {
            let frame = ctx.sql_with_options(sql, options).await.map_err(|e| match e {
                e @ datafusion::error::DataFusionError::Plan(_) if e.to_string().contains("not supported") => {
                    AnalyticsError::NotReadOnly(e.to_string())
                }
                e => df(e),
            })?;
            let frame = frame.limit(0, Some(limits.rows.saturating_add(1))).map_err(df)?;
            frame.collect().await.map_err(df)
        };
        let batches =
            tokio::time::timeout(limits.time, run).await.map_err(|_| AnalyticsError::TimedOut(limits.time))??;
        to_table(&batches, limits.rows)
    }
}

impl LakeSql {
    /// A report's statement in two steps ([`crate::reports::steps`]): `shared` run once and
    /// kept as the table `name`, then `rest` over it; both within `limits`.
    async fn in_steps(&self, name: &str, shared: &str, rest: &str, limits: Limits) -> Result<Table, AnalyticsError> {
        let ctx = self.session().await?;
        let run = async {
            let kept = ctx.sql(shared).await.map_err(df)?;
            let schema = Arc::new(kept.schema().as_arrow().clone());
            let batches = kept.collect().await.map_err(df)?;
            ctx.register_table(name, Arc::new(MemTable::try_new(schema, vec![batches]).map_err(df)?)).map_err(df)?;
            let frame = ctx.sql(rest).await.map_err(df)?;
            frame.limit(0, Some(limits.rows.saturating_add(1))).map_err(df)?.collect().await.map_err(df)
        };
        let batches =
            tokio::time::timeout(limits.time, run).await.map_err(|_| AnalyticsError::TimedOut(limits.time))??;
        to_table(&batches, limits.rows)
    }
}

fn empty_properties() -> Result<MemTable, datafusion::error::DataFusionError> {
    MemTable::try_new(crate::lake::properties_schema(), vec![vec![]])
}

const VIEWS: [&str; 4] = [
    "CREATE VIEW events AS SELECT event_id, seq, kind, date, occurred_at, tenant_id, aggregate_id, payload, \
     schema_version FROM lake WHERE kind NOT IN ('search','view','click','funnel')",
    "CREATE VIEW booking_events AS SELECT event_id, seq, kind, date, occurred_at, tenant_id, booking_id, status, \
     property_id, room_type_id, user_id, check_in, check_out, nights, adults, children, COALESCE(rooms, 1) AS rooms, \
     total_minor, currency, created_at FROM lake WHERE kind IN ('booking.held','booking.confirmed','booking.checked_in', \
     'booking.completed','booking.expired','booking.cancelled','booking.no_show')",
    "CREATE VIEW client_events AS SELECT event_id, kind, date, occurred_at, received_at, client_id, user_id, \
     property_id, city, data FROM lake WHERE kind IN ('search','view','click','funnel')",
    // Each booking's latest event: its highest position, joined back (a hash aggregate and a
    // hash join; with a `row_number()` window over every booking event instead, the occupancy
    // report took 2.6 times as long over 2.7 million booking events).
    "CREATE VIEW bookings AS SELECT e.booking_id, e.status, e.tenant_id, e.property_id, e.room_type_id, e.user_id, \
     e.check_in, e.check_out, e.nights, e.adults, e.children, e.rooms, e.total_minor, e.currency, e.created_at, \
     e.occurred_at AS updated_at FROM booking_events e \
     JOIN (SELECT booking_id, MAX(seq) AS seq FROM booking_events GROUP BY booking_id) l \
     ON e.booking_id = l.booking_id AND e.seq = l.seq",
];

/// Record batches as a table of JSON values: integers and floats as numbers, everything
/// else (dates, times, text) as its text; at most `rows` rows.
pub fn to_table(batches: &[RecordBatch], rows: usize) -> Result<Table, AnalyticsError> {
    let mut table = Table::default();
    if let Some(b) = batches.first() {
        table.columns = b.schema().fields().iter().map(|f| f.name().clone()).collect();
    }
    let options = FormatOptions::default();
    'batches: for b in batches {
        let mut columns: Vec<(ArrayRef, Kind)> = Vec::new();
        for a in b.columns() {
            let t = a.data_type();
            let c = if t.is_integer() {
                (cast(a, &DataType::Int64).map_err(|e| AnalyticsError::Invalid(e.to_string()))?, Kind::Int)
            } else if t.is_floating() || matches!(t, DataType::Decimal128(..) | DataType::Decimal256(..)) {
                (cast(a, &DataType::Float64).map_err(|e| AnalyticsError::Invalid(e.to_string()))?, Kind::Float)
            } else if *t == DataType::Boolean {
                (a.clone(), Kind::Bool)
            } else {
                (a.clone(), Kind::Text)
            };
            columns.push(c);
        }
        let formatters: Vec<ArrayFormatter> = columns
            .iter()
            .map(|(a, _)| ArrayFormatter::try_new(a.as_ref(), &options))
            .collect::<Result<_, _>>()
            .map_err(|e| AnalyticsError::Invalid(e.to_string()))?;
        for i in 0..b.num_rows() {
            if table.rows.len() == rows {
                table.truncated = true;
                break 'batches;
            }
            let row = columns.iter().zip(&formatters).map(|((a, kind), f)| cell(a.as_ref(), *kind, f, i)).collect();
            table.rows.push(row);
        }
    }
    Ok(table)
}

#[derive(Clone, Copy)]
enum Kind {
    Int,
    Float,
    Bool,
    Text,
}

fn cell(a: &dyn Array, kind: Kind, f: &ArrayFormatter, i: usize) -> serde_json::Value {
    use datafusion::arrow::array::{AsArray, types};
    if a.is_null(i) {
        return serde_json::Value::Null;
    }
    match kind {
        Kind::Int => a.as_primitive::<types::Int64Type>().value(i).into(),
        Kind::Float => {
            let v = a.as_primitive::<types::Float64Type>().value(i);
            serde_json::Number::from_f64(v).map(serde_json::Value::Number).unwrap_or(serde_json::Value::Null)
        }
        Kind::Bool => a.as_boolean().value(i).into(),
        Kind::Text => f.value(i).to_string().into(),
    }
}

#[async_trait]
impl Analytics for LakeSql {
    async fn sql(&self, query: &str, limits: Limits) -> Result<Table, AnalyticsError> {
        self.query(query, limits).await
    }

    async fn report(&self, report: Report, tenant: Option<TenantId>, limits: Limits) -> Result<Table, AnalyticsError> {
        match crate::reports::steps(report, tenant) {
            Some((name, shared, rest)) => self.in_steps(name, &shared, &rest, limits).await,
            None => self.query(&crate::reports::sql(report, tenant), limits).await,
        }
    }
}
