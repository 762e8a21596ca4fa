//! `OTA_CancelRQ` (a channel cancels a booking it made) and `OTA_CancelRS`.

use super::OtaError;
use super::amount::decimal;
use super::document::Element;
use super::fields::{optional, required};
use super::writer::Xml;
use innkeep_core::Money;

/// What an `OTA_CancelRQ` asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelRequest {
    /// Every `UniqueID` (at least one): the references of the booking to cancel.
    pub unique_ids: Vec<UniqueId>,
    /// `Verification//BasicPropertyInfo/@HotelCode` (often in `TPA_Extensions`), when given.
    pub hotel_code: Option<String>,
    /// `@CancelType` as given (`Initiate`, `Commit`, `Cancel`, ...).
    pub cancel_type: Option<String>,
}

impl CancelRequest {
    /// The channel's reference of the booking: the first `UniqueID` of `Type` 14
    /// (reservation), else the first.
    pub fn channel_ref(&self) -> &str {
        let reservation = self.unique_ids.iter().find(|u| u.id_type.as_deref() == Some("14"));
        reservation.or(self.unique_ids.first()).map(|u| u.id.as_str()).unwrap_or_default()
    }
}

/// An OTA `UniqueID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UniqueId {
    /// `@ID`.
    pub id: String,
    /// `@Type` (OTA code list UIT: 14 reservation, 15 cancellation, ...).
    pub id_type: Option<String>,
    /// `@ID_Context`.
    pub context: Option<String>,
}

/// Reads an `OTA_CancelRQ`.
pub(crate) fn read(rq: &Element) -> Result<CancelRequest, OtaError> {
    let unique_ids = rq
        .children("UniqueID")
        .enumerate()
        .map(|(i, u)| {
            let at = format!("UniqueID[{}]", i + 1);
            Ok(UniqueId {
                id: required(u, "ID", &at)?.to_owned(),
                id_type: optional(u, "Type"),
                context: optional(u, "ID_Context"),
            })
        })
        .collect::<Result<Vec<_>, OtaError>>()?;
    if unique_ids.is_empty() {
        return Err(OtaError::missing("UniqueID"));
    }
    let hotel_code = rq
        .child("Verification")
        .and_then(|v| v.descendant("BasicPropertyInfo"))
        .and_then(|b| b.attr("HotelCode"))
        .map(str::to_owned);
    Ok(CancelRequest { unique_ids, hotel_code, cancel_type: optional(rq, "CancelType") })
}

/// What Innkeep answers when it cancelled a booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cancellation {
    /// Written back as `UniqueID`s (the request's, at most 5).
    pub unique_ids: Vec<UniqueId>,
    /// Innkeep's cancellation number, written as `CancelInfoRS/UniqueID` of `Type` 15.
    pub cancellation_id: Option<String>,
    /// The fee charged for cancelling, written as `CancelInfoRS/CancelRules/CancelRule`.
    pub fee: Option<Money>,
}

/// `Success`, the `UniqueID`s and `CancelInfoRS` (the RS's `Status` is `Cancelled`).
pub(crate) fn write(xml: &mut Xml, cancellation: &Cancellation) {
    xml.empty("Success", &[]);
    for unique_id in cancellation.unique_ids.iter().take(5) {
        let mut attributes = vec![("Type", unique_id.id_type.as_deref().unwrap_or("14")), ("ID", &unique_id.id)];
        if let Some(context) = &unique_id.context {
            attributes.push(("ID_Context", context));
        }
        xml.empty("UniqueID", &attributes);
    }
    if cancellation.cancellation_id.is_none() && cancellation.fee.is_none() {
        return;
    }
    xml.open("CancelInfoRS", &[]);
    if let Some(fee) = cancellation.fee {
        let (amount, places) = decimal(fee);
        let places = places.to_string();
        xml.open("CancelRules", &[]);
        xml.empty(
            "CancelRule",
            &[
                ("Amount", &amount),
                ("CurrencyCode", fee.currency.code()),
                ("DecimalPlaces", &places),
                ("Type", "Charge"),
            ],
        );
        xml.close("CancelRules");
    }
    if let Some(id) = &cancellation.cancellation_id {
        xml.empty("UniqueID", &[("Type", "15"), ("ID", id), ("ID_Context", "Innkeep")]);
    }
    xml.close("CancelInfoRS");
}
