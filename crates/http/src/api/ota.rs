//! POST /ota: the OpenTravel (OTA 2011B) interface for channel managers. A request comes
//! in a SOAP 1.1 or 1.2 envelope (or bare), its credentials a WS-Security `UsernameToken`
//! whose password is one of the tenant's API keys (`ik_...`, with the `channel` scope, or
//! any scope whose duties the message needs). The answer is the message's RS in the same
//! envelope: `Success` with what was done, or `Errors` with OTA's codes and nothing
//! changed; a body that is no OTA request at all is a SOAP Fault (400). The rules are the
//! JSON API's (`innkeep_app::ota`): this file only reads and writes the XML.

use crate::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use innkeep_app::AppError;
use innkeep_app::ota::{self as uc, AvailQuery, ChannelReservation, ChannelRoom, Push};
use innkeep_app::store::GuestContact;
use innkeep_channels::ota::{
    self, Answer, AvailAnswer, AvailOffer, BookingLimit, Cancellation, Confirmation, Envelope, OtaError, Request,
    ResStatus, Restriction, SoapVersion, StayLength, err, ewt,
};
use innkeep_core::{ChildAges, NightOverride, Party};
use jiff::Timestamp;

/// The largest request taken.
pub const MAX_OTA_BYTES: usize = 1024 * 1024;

/// The answer's body with the content type of its SOAP version.
fn xml(version: SoapVersion, status: StatusCode, body: Vec<u8>) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(version.content_type()));
    r
}

/// POST /ota
pub async fn post(State(s): State<AppState>, body: Bytes) -> Response {
    if s.channels.is_none() {
        return crate::error::ApiError::not_found("channel interface").into_response();
    }
    let now = s.ports.clock.now();
    let envelope = match ota::read(&body) {
        Ok(e) => e,
        // Never a 5xx for what the client sent, whatever SOAP 1.1 says of faults.
        Err(fault) => return xml(fault.version, StatusCode::BAD_REQUEST, ota::render_fault(&fault)),
    };
    let answer = answer(&s, &envelope, now).await;
    let unavailable =
        matches!(&answer, Answer::Errors(_, errors) if errors.iter().any(|e| e.code == err::SYSTEM_ERROR));
    let status = if unavailable { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK };
    xml(envelope.version, status, ota::render(&envelope.reply(now), &answer))
}

async fn answer(s: &AppState, envelope: &Envelope, now: Timestamp) -> Answer {
    let message = envelope.message;
    let refused = |e: OtaError| Answer::Errors(message, vec![e]);
    let actor = match &envelope.credentials {
        Some(c) if innkeep_app::team::is_key(&c.password) => {
            match innkeep_app::team::key_actor(&s.ports, &c.password, now).await {
                Ok(a) => a,
                Err(e) if e.unavailable().is_some() => return refused(OtaError::system()),
                Err(_) => return refused(OtaError::not_authorized()),
            }
        }
        _ => return refused(OtaError::not_authorized()),
    };
    let request = match &envelope.request {
        Ok(r) => r,
        Err(e) => return refused(e.clone()),
    };
    let done = match request {
        Request::HotelAvail(q) => avail(s, &actor, q, now).await.map(Answer::HotelAvail),
        Request::HotelRes(bookings) => reserve(s, &actor, bookings, now).await.map(Answer::HotelRes),
        Request::HotelResNotif(bookings) => reserve(s, &actor, bookings, now).await.map(Answer::HotelResNotif),
        Request::HotelAvailNotif(n) => match inventory(n) {
            Ok(p) => push(s, &actor, &n.hotel_code, &p, now).await.map(|()| Answer::HotelAvailNotif),
            Err(e) => Err(e),
        },
        Request::HotelRateAmountNotif(n) => match rates(s, &actor, n).await {
            Ok(p) => push(s, &actor, &n.hotel_code, &p, now).await.map(|()| Answer::HotelRateAmountNotif),
            Err(e) => Err(e),
        },
        Request::Cancel(c) => cancel(s, &actor, c, now).await.map(Answer::Cancel),
    };
    done.unwrap_or_else(|e| Answer::Errors(message, vec![e]))
}

/// A channel's party: its children's ages only when it gave one for each child, at most
/// `MAX_CHILD_AGES` (else none: a room type priced by age then asks for them).
fn party(adults: u16, children: u16, rooms: u16, ages: &[u8]) -> Party {
    let ages = ChildAges::new(ages).filter(|a| a.as_slice().len() == usize::from(children)).unwrap_or_default();
    Party::new(adults, children).in_rooms(rooms).with_ages(ages)
}

/// What an error of the use cases is in OTA's words. `code` names what was looked for.
fn ota_error(e: AppError, code: &str) -> OtaError {
    match e {
        AppError::NotFound { what: "hotel" } => OtaError::unknown_hotel(code),
        AppError::NotFound { what: "room type" } => OtaError::unknown_room_type(code),
        AppError::NotFound { what: "reservation" } => OtaError::unknown_booking(code),
        AppError::SoldOut { night } => OtaError::no_availability(format!("no unit is left on the night of {night}")),
        AppError::Unauthenticated | AppError::Forbidden(_) | AppError::Suspended => OtaError::not_authorized(),
        e if e.unavailable().is_some() => OtaError::system(),
        AppError::Store(_) => OtaError::system(),
        AppError::Invalid { field, message, .. } => {
            OtaError::new(ewt::BIZ_RULE, err::INVALID_VALUE, format!("{field}: {message}"))
        }
        e => OtaError::new(ewt::BIZ_RULE, err::UNABLE_TO_PROCESS, e.to_string()),
    }
}

async fn avail(
    s: &AppState,
    actor: &innkeep_app::Actor,
    q: &ota::AvailQuery,
    now: Timestamp,
) -> Result<AvailAnswer, OtaError> {
    // One party per request: the first room stay asked for, in as many rooms as it asks
    // (two adults in one room when none is named).
    let party = q
        .rooms
        .first()
        .filter(|r| r.adults > 0)
        .map_or(Party::new(2, 0), |r| party(r.adults, r.children, r.quantity.max(1), &r.child_ages));
    let query = AvailQuery {
        hotel_code: q.hotel_code.clone(),
        check_in: q.check_in,
        check_out: q.check_out,
        party,
        only: q.room_type_codes(),
    };
    let offers = uc::availability(&s.ports, actor, &query, now).await.map_err(|e| ota_error(e, &q.hotel_code))?;
    Ok(AvailAnswer {
        hotel_code: q.hotel_code.clone(),
        check_in: q.check_in,
        check_out: q.check_out,
        adults: party.adults,
        children: party.children,
        offers: offers
            .into_iter()
            .map(|(code, o)| AvailOffer {
                room_type_code: code,
                room_type_name: Some(o.room_type.draft.name.clone()),
                units: o.units_left,
                rate_plan_code: RATE_PLAN.to_string(),
                total: o.quote.total,
                // The quote's nights are before the charges and taxes the total includes.
                nights: Vec::new(),
            })
            .collect(),
    })
}

/// The one rate plan of an Innkeep room type, as OTA names it.
const RATE_PLAN: &str = "STANDARD";

async fn reserve(
    s: &AppState,
    actor: &innkeep_app::Actor,
    bookings: &[ota::Booking],
    now: Timestamp,
) -> Result<Vec<Confirmation>, OtaError> {
    let mut out = Vec::with_capacity(bookings.len());
    for b in bookings {
        let cancelling = matches!(b.status.as_deref(), Some("Cancel" | "Cancelled"));
        if cancelling {
            let done =
                uc::cancel(&s.ports, actor, &b.channel_ref, now).await.map_err(|e| ota_error(e, &b.channel_ref))?;
            let id = done.first().map(|d| d.id.to_string()).unwrap_or_default();
            out.push(Confirmation { channel_ref: b.channel_ref.clone(), booking_id: id, status: ResStatus::Cancelled });
            continue;
        }
        let email = b.guest.email.clone().ok_or_else(|| OtaError::missing("ResGuest/Profile/Customer/Email"))?;
        let name = format!("{} {}", b.guest.given, b.guest.surname).trim().to_string();
        let mut rooms = Vec::new();
        for room in &b.rooms {
            // The units of a room type are one booking of that many rooms, the party shared
            // between them.
            rooms.push(ChannelRoom {
                room_type_code: room.room_type_code.clone(),
                check_in: room.check_in,
                check_out: room.check_out,
                party: party(room.adults.max(1), room.children, room.units.max(1), &room.child_ages),
            });
        }
        let r = ChannelReservation {
            channel_ref: b.channel_ref.clone(),
            hotel_code: b.hotel_code.clone(),
            rooms,
            guest: GuestContact { name, email, phone: b.guest.phone.clone() },
        };
        let code = match b.rooms.first() {
            Some(room) => room.room_type_code.clone(),
            None => b.hotel_code.clone(),
        };
        let booked = uc::reserve(&s.ports, actor, r, now).await.map_err(|e| match e {
            AppError::NotFound { what: "hotel" } => ota_error(e, &b.hotel_code),
            e => ota_error(e, &code),
        })?;
        let id = booked.first().map(|d| d.id.to_string()).unwrap_or_default();
        out.push(Confirmation { channel_ref: b.channel_ref.clone(), booking_id: id, status: ResStatus::Commit });
    }
    Ok(out)
}

/// The changes of an availability message, each over its nights.
fn inventory(n: &ota::AvailNotif) -> Result<Vec<Push>, OtaError> {
    let mut pushes = Vec::with_capacity(n.statuses.len());
    for st in &n.statuses {
        let code = st
            .room_type_code
            .clone()
            .ok_or_else(|| OtaError::missing("AvailStatusMessage/StatusApplicationControl/@InvTypeCode"))?;
        let mut change = NightOverride::default();
        match st.limit {
            Some(BookingLimit::Set(units)) => change.units = Some(units),
            Some(BookingLimit::Adjust(_) | BookingLimit::Remove) => {
                return Err(OtaError::unsupported("BookingLimit: only SetLimit (the units for sale) is taken"));
            }
            None => {}
        }
        if let Some(r) = st.restriction {
            if r.applies_to != Restriction::Master {
                return Err(OtaError::unsupported("RestrictionStatus: only Master (open or closed) is taken"));
            }
            change.closed = Some(!r.open);
        }
        for l in &st.stay_lengths {
            match l {
                StayLength::SetMin(nights) => change.min_stay = Some(*nights),
                _ => return Err(OtaError::unsupported("LengthOfStay: only SetMinLOS is taken")),
            }
        }
        pushes.push(push_of(code, st.first_night, st.last_night, change)?);
    }
    Ok(pushes)
}

fn push_of(
    code: String,
    first: jiff::civil::Date,
    last: jiff::civil::Date,
    change: NightOverride,
) -> Result<Push, OtaError> {
    let to = last.tomorrow().map_err(|_| OtaError::invalid_date("End"))?;
    Ok(Push { room_type_code: code, from: first, to, change })
}

/// The prices of a rate message, each night's price before the room type's charges, in
/// the property's currency.
async fn rates(s: &AppState, actor: &innkeep_app::Actor, n: &ota::RateNotif) -> Result<Vec<Push>, OtaError> {
    let (_, property) = uc::hotel(&s.ports, actor, &n.hotel_code).await.map_err(|e| ota_error(e, &n.hotel_code))?;
    let currency = property.draft.currency;
    let mut pushes = Vec::with_capacity(n.rates.len());
    for rate in &n.rates {
        let code = rate
            .room_type_code
            .clone()
            .ok_or_else(|| OtaError::missing("RateAmountMessage/StatusApplicationControl/@InvTypeCode"))?;
        // Innkeep prices a room, not a head: the amount for the most guests stands.
        let amount = rate
            .amounts
            .iter()
            .max_by_key(|a| a.guests.unwrap_or(u16::MAX))
            .ok_or_else(|| OtaError::missing("BaseByGuestAmts/BaseByGuestAmt"))?;
        if amount.amount.money.currency != currency {
            return Err(OtaError::new(
                ewt::BIZ_RULE,
                err::INVALID_CURRENCY_CODE,
                format!("this hotel prices in {}", currency.code()),
            ));
        }
        if amount.amount.after_tax {
            return Err(OtaError::unsupported(
                "AmountAfterTax: send AmountBeforeTax (the room type's charges and taxes are added to it)",
            ));
        }
        let change = NightOverride { price_minor: Some(amount.amount.money.minor), ..NightOverride::default() };
        pushes.push(push_of(code, rate.first_night, rate.last_night, change)?);
    }
    Ok(pushes)
}

async fn push(
    s: &AppState,
    actor: &innkeep_app::Actor,
    hotel: &str,
    pushes: &[Push],
    now: Timestamp,
) -> Result<(), OtaError> {
    let code = pushes.iter().map(|p| p.room_type_code.as_str()).next().unwrap_or(hotel);
    uc::push(&s.ports, actor, hotel, pushes, now).await.map_err(|e| match e {
        AppError::NotFound { what: "hotel" } => ota_error(e, hotel),
        e => ota_error(e, code),
    })
}

async fn cancel(
    s: &AppState,
    actor: &innkeep_app::Actor,
    c: &ota::CancelRequest,
    now: Timestamp,
) -> Result<Cancellation, OtaError> {
    let reference = c.channel_ref().to_string();
    if reference.is_empty() {
        return Err(OtaError::missing("UniqueID/@ID"));
    }
    let done = uc::cancel(&s.ports, actor, &reference, now).await.map_err(|e| ota_error(e, &reference))?;
    Ok(Cancellation {
        unique_ids: c.unique_ids.clone(),
        // OTA keeps ids to 32 characters: the booking id without its hyphens.
        cancellation_id: done.first().map(|b| b.id.0.simple().to_string()),
        fee: None,
    })
}
