//! The host's data page: the tenant's properties, room types, rates and bookings to
//! download (one JSON document, or each kind as CSV), a document to import, and rates
//! edited in a spreadsheet to upload (see `innkeep_app::tenant_data`).

use super::*;

#[derive(Template)]
#[template(path = "host_data.html")]
pub(super) struct DataPage {
    ctx: Ctx,
    flash: String,
    error: String,
    files: Vec<&'static str>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DataQuery {
    imported: String,
    rates: String,
}

fn page(v: &Visitor, flash: String, error: String) -> DataPage {
    DataPage { ctx: v.ctx("Your data".to_string()), flash, error, files: innkeep_app::tenant_data::CSV_FILES.to_vec() }
}

/// GET /host/data
pub async fn data(v: Visitor, Query(q): Query<DataQuery>) -> PageResult {
    host(&v)?;
    let flash = match (q.imported.as_str(), q.rates.as_str()) {
        ("", "") => String::new(),
        (n, "") => crate::i18n::tf("Imported: {}.", &[&n]),
        (_, n) => format!("{n} rate rows set."),
    };
    Ok(render(&page(&v, flash, String::new())))
}

/// GET /host/data/{file}: `tenant.json` or one of the CSV files, as a download.
pub async fn data_file(State(s): State<AppState>, v: Visitor, Path(file): Path<String>) -> PageResult {
    let a = host(&v)?;
    let tenant = a.tenant_id.ok_or(PageError::NotFound)?;
    let known = file == "tenant.json" || innkeep_app::tenant_data::CSV_FILES.contains(&file.as_str());
    if !known {
        return Err(PageError::NotFound);
    }
    let now = s.ports.clock.now();
    let data = if file == "tenant.json" {
        innkeep_app::tenant_data::export(&s.ports, Some(&a), tenant, now).await?
    } else {
        innkeep_app::tenant_data::export_for_file(&s.ports, Some(&a), tenant, now, &file).await?
    };
    let (body, kind) = if file == "tenant.json" {
        let text = serde_json::to_string_pretty(&data)
            .map_err(|e| PageError::Message(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        (text, "application/json")
    } else {
        let text = innkeep_app::tenant_data::to_csv(&data, &file)
            .map_err(|e| PageError::Message(StatusCode::INTERNAL_SERVER_ERROR, e))?;
        (text, "text/csv; charset=utf-8")
    };
    let mut r = body.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

/// The parts of a multipart upload form.
async fn parts(
    headers: &axum::http::HeaderMap,
    body: axum::body::Body,
) -> Result<Vec<crate::multipart::Part>, PageError> {
    let bytes = axum::body::to_bytes(body, crate::session::UPLOAD_LIMIT).await.map_err(|_| PageError::TooLarge)?;
    let boundary = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).and_then(crate::multipart::boundary);
    Ok(match boundary {
        Some(b) => crate::multipart::parts(&bytes, &b).await.unwrap_or_default(),
        None => Vec::new(),
    })
}

/// The file of a multipart upload form (field `file`), or the page again saying why not.
async fn uploaded(headers: &axum::http::HeaderMap, body: axum::body::Body) -> Result<Vec<u8>, PageError> {
    Ok(parts(headers, body).await?.into_iter().find(|p| p.name == "file").map(|p| p.bytes).unwrap_or_default())
}

/// Import a document into the visitor's tenant: to the page saying what came in, or the
/// sentence saying why nothing did.
async fn import_document(
    s: &AppState,
    a: &innkeep_app::Actor,
    data: innkeep_app::tenant_data::TenantData,
) -> Result<Result<axum::response::Response, String>, PageError> {
    let owner = s.ports.store.user(a.user_id).await.map_err(AppError::from)?.ok_or(PageError::NotFound)?;
    match innkeep_app::tenant_data::import(&s.ports, &owner, data, s.ports.clock.now()).await {
        Ok(n) => {
            let said = format!(
                "{} properties, {} room types, {} rates, {} bookings",
                n.properties, n.room_types, n.rates, n.bookings
            );
            let q: String = form_urlencoded::byte_serialize(said.as_bytes()).collect();
            Ok(Ok(crate::redirect::to(&format!("/host/data?imported={q}"))))
        }
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict(_) | AppError::Forbidden(_))) => {
            Ok(Err(crate::page::words(&e)))
        }
        Err(e) => Err(e.into()),
    }
}

/// POST /host/data/import: a document (`tenant.json`) into this tenant, all or nothing.
pub async fn data_import(
    State(s): State<AppState>,
    v: Visitor,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> PageResult {
    let a = host(&v)?;
    let file = uploaded(&headers, body).await?;
    let error = if file.is_empty() {
        crate::i18n::t("Choose the file to import (a tenant.json downloaded from Innkeep).").to_string()
    } else {
        match serde_json::from_slice::<innkeep_app::tenant_data::TenantData>(&file) {
            Err(e) => crate::i18n::tf("That file is not an Innkeep data file: {}.", &[&e]),
            Ok(data) => match import_document(&s, &a, data).await? {
                Ok(done) => return Ok(done),
                Err(said) => said,
            },
        }
    };
    Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page(&v, String::new(), error)))
}

/// POST /host/data/import-csv: the four CSV files (fields `properties`, `room_types`,
/// `rates`, `bookings`; the last two may be left empty) into this tenant, all or nothing.
pub async fn data_import_csv(
    State(s): State<AppState>,
    v: Visitor,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> PageResult {
    let a = host(&v)?;
    let tenant = a.tenant_id.ok_or(PageError::NotFound)?;
    let mut files = Vec::new();
    for part in parts(&headers, body).await? {
        let name = match part.name.as_str() {
            "properties" => "properties.csv",
            "room_types" => "room-types.csv",
            "rates" => "rates.csv",
            "bookings" => "bookings.csv",
            _ => continue,
        };
        if !part.bytes.is_empty() {
            files.push((name.to_string(), part.bytes));
        }
    }
    let error = match innkeep_app::tenant_data::from_csv(&files, tenant, s.ports.clock.now()) {
        Err(e) => crate::page::words(&e),
        Ok(data) => match import_document(&s, &a, data).await? {
            Ok(done) => return Ok(done),
            Err(said) => said,
        },
    };
    Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page(&v, String::new(), error)))
}

/// POST /host/data/rates: rates edited in a spreadsheet (`rates.csv`), every line checked
/// first.
pub async fn data_rates(
    State(s): State<AppState>,
    v: Visitor,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> PageResult {
    let a = host(&v)?;
    let file = uploaded(&headers, body).await?;
    let error = match innkeep_channels::rates_csv::read_rates(&file) {
        _ if file.is_empty() => crate::i18n::t("Choose the rates file to upload (a rates.csv).").to_string(),
        Err(problems) => {
            let said: Vec<String> = problems.iter().map(ToString::to_string).collect();
            crate::i18n::tf("Nothing was set: {}.", &[&said.join("; ")])
        }
        Ok(lines) => {
            let rows: Vec<_> = lines.into_iter().map(|l| (l.room_type_id, l.night, l.change)).collect();
            match innkeep_app::tenant_data::import_rates(&s.ports, &a, &rows, s.ports.clock.now()).await {
                Ok(n) => return Ok(crate::redirect::to(&format!("/host/data?rates={n}"))),
                Err(e @ (AppError::Invalid { .. } | AppError::Conflict(_) | AppError::NotFound { .. })) => {
                    crate::page::words(&e)
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page(&v, String::new(), error)))
}
