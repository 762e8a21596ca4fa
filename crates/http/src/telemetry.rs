//! Request metrics (Prometheus text at /metrics) and health endpoints.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
/// The process's own figures (`process_cpu_seconds_total`, memory, open files, threads), as
/// the Prometheus clients export them; an autoscaler reads the CPU from here.
static PROCESS: OnceLock<metrics_process::Collector> = OnceLock::new();

/// The process's metrics recorder (installed on first use; one per process).
pub fn metrics_handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &buckets)
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// Count requests and time them per route template and status class.
/// Requests also go into the node's rolling window (static assets and probes excluded,
/// so the dashboard's latency is that of pages and the API).
pub async fn track(
    State(window): State<std::sync::Arc<innkeep_app::requests::RequestStats>>,
    req: Request,
    next: Next,
) -> Response {
    let route =
        req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let start = Instant::now();
    let res = next.run(req).await;
    let elapsed = start.elapsed();
    if !(route.starts_with("/static/") || matches!(route.as_str(), "/metrics" | "/healthz" | "/readyz")) {
        window.record(elapsed, res.status().as_u16());
    }
    let status = format!("{}xx", res.status().as_u16() / 100);
    metrics::counter!("innkeep_http_requests_total", "route" => route.clone(), "method" => method.clone(), "status" => status).increment(1);
    metrics::histogram!("innkeep_http_request_duration_seconds", "route" => route, "method" => method)
        .record(elapsed.as_secs_f64());
    res
}

/// Prometheus text.
pub async fn metrics_text(State(s): State<AppState>) -> Response {
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], render(s.ports.store.as_ref())).into_response()
}

/// The metrics text, with the gauges that are read at scrape time (the process, the read
/// replicas, the store's write faults) read now: what `/metrics` answers, and what the
/// built-in alert evaluator reads.
pub fn render(store: &dyn innkeep_app::Store) -> String {
    PROCESS
        .get_or_init(|| {
            let c = metrics_process::Collector::default();
            c.describe();
            c
        })
        .collect();
    for r in store.replicas() {
        metrics::gauge!("innkeep_db_replica_up", "replica" => r.name.clone()).set(if r.up { 1.0 } else { 0.0 });
        if let Some(lag) = r.lag_seconds {
            metrics::gauge!("innkeep_db_replica_lag_seconds", "replica" => r.name).set(lag);
        }
    }
    // 1 while writes fail for that reason (a full disk, a storage I/O error), else 0.
    let fault = store.write_fault();
    for reason in ["storage_full", "storage_error"] {
        let on = fault.as_ref().is_some_and(|f| f.reason == reason);
        metrics::gauge!("innkeep_store_write_fault", "reason" => reason).set(if on { 1.0 } else { 0.0 });
    }
    crate::audit::publish_bursts();
    metrics_handle().render()
}

/// Alive.
pub async fn healthz() -> &'static str {
    "ok"
}

/// Ready: the database answers and its migrations are applied. A read replica that is
/// down or too far behind leaves the node serving (reads go to the primary), and so do
/// writes refused by the storage (a full disk: reads still work), so the answer stays 200
/// with status "degraded" and says why.
pub async fn readyz(State(s): State<AppState>) -> Response {
    if s.draining.load(std::sync::atomic::Ordering::SeqCst) {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "draining",
            "shutting down: finishing requests in flight",
        )
        .into_response();
    }
    if s.starting.load(std::sync::atomic::Ordering::SeqCst) {
        return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "starting", "still getting ready (loading data)")
            .into_response();
    }
    match s.ports.store.ready().await {
        Ok(()) => {
            let replicas = s.ports.store.replicas();
            let mut body = serde_json::json!({"status": "ready", "database": "ok"});
            if !replicas.is_empty() {
                if replicas.iter().any(|r| !r.serving) {
                    body["status"] = "degraded".into();
                }
                body["replicas"] = serde_json::to_value(&replicas).unwrap_or_default();
            }
            if let Some(fault) = s.ports.store.write_fault() {
                body["status"] = "degraded".into();
                body["writes"] = serde_json::to_value(&fault).unwrap_or_default();
            }
            axum::Json(body).into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            let mut r =
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", format!("database: {e}")).into_response();
            *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            r
        }
    }
}
