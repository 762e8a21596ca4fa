//! Analytics over the history of what happened: read-only SQL and the reports for hosts
//! and operators. The engine (a Parquet lake queried in process, or Spark over the same
//! files) sits behind [`Analytics`]; the front ends only see tables.

use crate::{Actor, AppError, StoreError};
use async_trait::async_trait;
use innkeep_core::{Duty, Role, TenantId};
use std::time::Duration;

/// A query's answer: named columns and rows of JSON values (numbers, strings, null).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<serde_json::Value>>,
    /// More rows matched than the row limit let through.
    pub truncated: bool,
}

impl Table {
    /// The table as CSV with a header line (RFC 4180 quoting).
    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let cell = |v: &serde_json::Value| match v {
            serde_json::Value::Null => String::new(),
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        // Writing to a Vec cannot fail; a row the writer refused would only be left out.
        let _ = w.write_record(&self.columns);
        for row in &self.rows {
            let _ = w.write_record(row.iter().map(cell));
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }

    /// The index of a column by name.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }
}

/// How much one query may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Rows answered at most (the rest are cut, and the table says so).
    pub rows: usize,
    /// Time the query may run before it is stopped.
    pub time: Duration,
}

/// The limits of an operator's query through the API.
pub const API_LIMITS: Limits = Limits { rows: 10_000, time: Duration::from_secs(10) };

/// How the occupancy report groups its figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Grouping {
    Property,
    City,
    Month,
}

/// The reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// Occupancy (sold room-nights over available room-nights), ADR (room revenue per
    /// sold night) and RevPAR (room revenue per available night), per month and grouping.
    Occupancy(Grouping),
    /// Days between booking and arrival, in bands.
    LeadTime,
    /// Nights per booking.
    LengthOfStay,
    /// Bookings made and cancelled, per month.
    Cancellations,
    /// Searches, property views, holds and confirmations, per month.
    Funnel,
    /// The cities with the most confirmed bookings.
    TopDestinations,
    /// Confirmed room revenue per tenant and currency.
    RevenuePerTenant,
}

impl Report {
    /// Every report, with its name in the API.
    pub const ALL: [(&'static str, Report); 9] = [
        ("occupancy", Report::Occupancy(Grouping::Property)),
        ("occupancy-by-city", Report::Occupancy(Grouping::City)),
        ("occupancy-by-month", Report::Occupancy(Grouping::Month)),
        ("lead-time", Report::LeadTime),
        ("length-of-stay", Report::LengthOfStay),
        ("cancellations", Report::Cancellations),
        ("funnel", Report::Funnel),
        ("top-destinations", Report::TopDestinations),
        ("revenue-per-tenant", Report::RevenuePerTenant),
    ];

    /// The report of an API name.
    pub fn named(name: &str) -> Option<Report> {
        Report::ALL.iter().find(|(n, _)| *n == name).map(|(_, r)| *r)
    }

    /// Its API name.
    pub fn name(&self) -> &'static str {
        Report::ALL.iter().find(|(_, r)| r == self).map(|(n, _)| *n).unwrap_or("occupancy")
    }

    /// Whether a host may see it (over its own tenant): every report but the operator's
    /// revenue per tenant and the platform's search funnel.
    pub fn for_hosts(&self) -> bool {
        !matches!(self, Report::RevenuePerTenant | Report::Funnel)
    }
}

/// Why a query has no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnalyticsError {
    /// The SQL does not parse, names an unknown table or column, or does not type-check.
    #[error("{0}")]
    Invalid(String),
    /// The statement would change something (DDL, DML, SET ...): only queries are taken.
    #[error("only read-only queries (SELECT, WITH, EXPLAIN) are allowed: {0}")]
    NotReadOnly(String),
    /// The query ran past its time limit and was stopped.
    #[error("the query ran longer than {} s and was stopped", .0.as_secs_f64())]
    TimedOut(Duration),
    /// The lake could not be read; a retry may work.
    #[error("the analytics lake could not be read: {0}")]
    Unavailable(String),
}

impl From<AnalyticsError> for AppError {
    fn from(e: AnalyticsError) -> AppError {
        match e {
            AnalyticsError::Invalid(m) => AppError::invalid("query", "invalid_query", m),
            e @ AnalyticsError::NotReadOnly(_) => AppError::invalid("query", "read_only", e.to_string()),
            e @ AnalyticsError::TimedOut(_) => AppError::invalid("query", "query_timeout", e.to_string()),
            AnalyticsError::Unavailable(m) => AppError::Store(StoreError::Unavailable(m)),
        }
    }
}

/// SQL and reports over the lake.
#[async_trait]
pub trait Analytics: Send + Sync {
    /// Run one read-only SQL query.
    async fn sql(&self, query: &str, limits: Limits) -> Result<Table, AnalyticsError>;
    /// One report, over one tenant's properties or (for operators) all.
    async fn report(&self, report: Report, tenant: Option<TenantId>, limits: Limits) -> Result<Table, AnalyticsError>;
}

/// An operator's SQL query.
pub async fn sql(analytics: &dyn Analytics, actor: &Actor, query: &str) -> Result<Table, AppError> {
    if actor.role != Role::Admin {
        return Err(AppError::Forbidden("operators"));
    }
    if query.trim().is_empty() {
        return Err(AppError::invalid("query", "required", "the query is empty"));
    }
    Ok(analytics.sql(query, API_LIMITS).await?)
}

/// A report: an operator's over every tenant (or one), a host member's (who may see the
/// tenant's money) over its own tenant only.
pub async fn report(
    analytics: &dyn Analytics,
    actor: &Actor,
    report: Report,
    tenant: Option<TenantId>,
) -> Result<Table, AppError> {
    let scope = match actor.role {
        Role::Admin => tenant,
        Role::Host if report.for_hosts() => {
            // The reports carry revenue: members who may see the tenant's money.
            let own = actor.host_tenant(Duty::SeeMoney)?;
            if tenant.is_some_and(|t| t != own) {
                return Err(AppError::Forbidden("the tenant's own staff and operators"));
            }
            Some(own)
        }
        Role::Host => return Err(AppError::Forbidden("operators")),
        Role::Guest => return Err(AppError::Forbidden("hosts and operators")),
    };
    Ok(analytics.report(report, scope, API_LIMITS).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_it() {
        let t = Table {
            columns: vec!["city".into(), "n".into()],
            rows: vec![vec!["Lisbon, PT".into(), 3.into()], vec![serde_json::Value::Null, 1.5.into()]],
            truncated: false,
        };
        assert_eq!(t.to_csv(), "city,n\n\"Lisbon, PT\",3\n,1.5\n");
    }

    #[test]
    fn reports_have_unique_names() {
        for (name, r) in Report::ALL {
            assert_eq!(Report::named(name), Some(r));
            assert_eq!(r.name(), name);
        }
        assert_eq!(Report::named("nope"), None);
    }
}
