//! Historical search: bookings across the whole history and the guests behind them
//! (operators over every tenant, a host's staff who may see bookings over their own).

use crate::AppState;
use crate::api::problems::{BadRequest, Forbidden, NotFound, ServiceUnavailable, Unauthorized};
use crate::api::schemas;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Params};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use innkeep_app::history::{self, BookingHit, GuestHit, HistoryAnswer, HistorySearch};
use innkeep_core::{BookingStatus, PropertyId, TenantId};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// What to look for; every criterion given must hold.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HistoryParams {
    /// Words of the guest's name or e-mail, or of the property's name (typo-tolerant)
    pub q: Option<String>,
    /// The guest's e-mail, exactly (case aside)
    pub email: Option<String>,
    /// A booking id, or the bank-transfer reference of one of its payments (RF...)
    pub reference: Option<String>,
    #[param(value_type = Option<String>, format = Uuid)]
    pub property_id: Option<PropertyId>,
    /// Operators only: one tenant's bookings (a host's are always its own)
    #[param(value_type = Option<String>, format = Uuid)]
    pub tenant_id: Option<TenantId>,
    /// held, confirmed, checked_in, completed, expired, cancelled, no_show
    pub status: Option<String>,
    /// Stays with a night on or after this date
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<Date>,
    /// Stays with a night before this date
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<Date>,
    /// 1 to 100, default 20
    pub limit: Option<usize>,
}

/// A booking found.
#[derive(Debug, Serialize, ToSchema)]
pub struct BookingHitView {
    #[schema(value_type = String, format = Uuid)]
    pub booking_id: innkeep_core::BookingId,
    pub status: String,
    #[schema(value_type = String, format = Uuid)]
    pub tenant_id: TenantId,
    #[schema(value_type = String, format = Uuid)]
    pub property_id: PropertyId,
    /// The property's name when the booking last changed
    pub property_name: String,
    #[schema(value_type = String, format = Uuid)]
    pub user_id: innkeep_core::UserId,
    pub guest_name: String,
    pub guest_email: String,
    #[schema(value_type = String, format = Date)]
    pub check_in: Date,
    #[schema(value_type = String, format = Date)]
    pub check_out: Date,
    #[schema(value_type = schemas::Money)]
    pub total: innkeep_core::Money,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
}

impl From<BookingHit> for BookingHitView {
    fn from(h: BookingHit) -> Self {
        BookingHitView {
            booking_id: h.booking_id,
            status: h.status.as_str().to_string(),
            tenant_id: h.tenant_id,
            property_id: h.property_id,
            property_name: h.property_name,
            user_id: h.user_id,
            guest_name: h.guest_name,
            guest_email: h.guest_email,
            check_in: h.check_in,
            check_out: h.check_out,
            total: h.total,
            created_at: h.created_at,
        }
    }
}

/// A guest behind the bookings found (name and e-mail as on their latest booking).
#[derive(Debug, Serialize, ToSchema)]
pub struct GuestHitView {
    #[schema(value_type = String, format = Uuid)]
    pub user_id: innkeep_core::UserId,
    pub name: String,
    pub email: String,
    /// Their bookings among all that match
    pub bookings: u64,
    #[schema(value_type = String, format = DateTime)]
    pub last_booked_at: jiff::Timestamp,
}

impl From<GuestHit> for GuestHitView {
    fn from(g: GuestHit) -> Self {
        GuestHitView {
            user_id: g.user_id,
            name: g.name,
            email: g.email,
            bookings: g.bookings,
            last_booked_at: g.last_booked_at,
        }
    }
}

/// What a search found.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryView {
    /// Bookings matching in all
    pub total: u64,
    /// The best matches for words, the newest otherwise
    pub bookings: Vec<BookingHitView>,
    /// The guests with most bookings among all that match
    pub guests: Vec<GuestHitView>,
}

impl From<HistoryAnswer> for HistoryView {
    fn from(a: HistoryAnswer) -> Self {
        HistoryView {
            total: a.total,
            bookings: a.bookings.into_iter().map(Into::into).collect(),
            guests: a.guests.into_iter().map(Into::into).collect(),
        }
    }
}

/// Find bookings and guests across the whole history by name, e-mail, reference, property,
/// status and dates (operators; a host's staff over their own tenant).
#[utoipa::path(get, path = "/api/v1/history/bookings", operation_id = "search_history", tag = "analytics",
    security(("bearer" = [])), params(HistoryParams),
    responses((status = 200, description = "what was found", body = HistoryView),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn bookings(
    State(s): State<AppState>,
    Auth(a): Auth,
    Params(q): Params<HistoryParams>,
) -> ApiResult<Json<HistoryView>> {
    let index = s.history.as_deref().ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "the booking history is not kept on this node")
    })?;
    let status = match q.status.as_deref() {
        None => None,
        Some(v) => Some(
            BookingStatus::parse(v)
                .ok_or_else(|| ApiError::invalid("status", "invalid_query", format!("unknown status {v:?}")))?,
        ),
    };
    let ask = HistorySearch {
        text: q.q,
        email: q.email,
        reference: q.reference,
        property_id: q.property_id,
        tenant_id: q.tenant_id,
        status,
        from: q.from,
        to: q.to,
        limit: q.limit,
    };
    Ok(Json(history::search(&s.ports, index, &a, &ask).await?.into()))
}
