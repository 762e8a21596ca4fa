//! Host pages: properties, room types, the rates and availability calendar, bookings
//! with actions, a CSV export, the messages sent, and photo upload (a multipart form; the bytes go to the
//! object-storage port).

use crate::guest::Names;
use crate::page::{
    Ctx, Fields, FormErrors, PageError, PageResult, amount, day, money, parse_amount, render, render_status,
};
use crate::session::Visitor;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use innkeep_app::booking::{Action, act, list_bookings};
use innkeep_app::catalog::{
    calendar as read_calendar, create_property, create_room_type, managed_property, set_calendar,
};
use innkeep_app::node::AppState;
use innkeep_app::store::BookingFilter;
use innkeep_app::{Actor, AppError};
use innkeep_core::{
    Address, Amenity, BookingId, BookingStatus, CancellationPolicy, Charge, ChargeKind, ChildRate, CountryCode,
    Currency, NightOverride, Occupancy, PropertyDraft, PropertyId, PropertyType, RatePlan, Role, RoomTypeDraft,
    RoomTypeId, TimeZoneName,
};
use jiff::civil::{Date, Time};
use serde::Deserialize;

fn host(v: &Visitor) -> Result<Actor, PageError> {
    let a = v.actor()?;
    if a.role != Role::Host {
        return Err(PageError::Forbidden(
            crate::i18n::t("Only hosts can see this page. Sign up as a host to list a property.").into(),
        ));
    }
    Ok(a)
}

struct PropertyRow {
    id: String,
    initial: String,
    name: String,
    city: String,
    kind: String,
}

#[derive(Template)]
#[template(path = "host_dashboard.html")]
struct Dashboard {
    ctx: Ctx,
    properties: Vec<PropertyRow>,
}

/// GET /host
pub async fn dashboard(State(s): State<AppState>, v: Visitor) -> PageResult {
    let a = host(&v)?;
    let list = s.ports.store.list_properties(a.tenant_id, 200, 0).await.map_err(AppError::from)?;
    let properties = list
        .iter()
        .map(|p| PropertyRow {
            id: p.id.to_string(),
            initial: p.draft.name.chars().next().map(|c| c.to_uppercase().to_string()).unwrap_or_default(),
            name: p.draft.name.clone(),
            city: p.draft.address.city.clone(),
            kind: p.draft.property_type.as_str().replace('_', " "),
        })
        .collect();
    Ok(render(&Dashboard { ctx: v.ctx("My properties"), properties }))
}

mod bookings;
mod calendar;
mod data;
mod messages;
mod money;
mod properties;
mod team;

pub use bookings::*;
pub use calendar::*;
pub use data::*;
pub use messages::*;
pub use money::*;
pub use properties::*;
pub use team::*;
