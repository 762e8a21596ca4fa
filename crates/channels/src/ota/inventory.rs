//! `OTA_HotelAvailNotifRQ`: a channel manager sets a hotel's inventory (units for sale),
//! its open or closed status and its stay lengths, night by night.

use super::OtaError;
use super::document::Element;
use super::fields::{boolean, count, nights_span, required};
use jiff::civil::Date;

/// What an `OTA_HotelAvailNotifRQ` sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvailNotif {
    /// `AvailStatusMessages/@HotelCode`.
    pub hotel_code: String,
    /// AlpineBits: `UniqueID/@Instance="CompleteSet"` says the message holds the whole
    /// inventory, so anything it does not mention is no longer for sale.
    pub complete_set: bool,
    /// One per `AvailStatusMessage`, in order.
    pub statuses: Vec<AvailStatus>,
}

/// One `AvailStatusMessage`: what applies to the nights `[first_night, last_night]` of a
/// room type and/or rate plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvailStatus {
    /// `StatusApplicationControl/@Start`.
    pub first_night: Date,
    /// `StatusApplicationControl/@End`: the last night it applies to (included).
    pub last_night: Date,
    /// `@InvTypeCode`, else `@InvCode` (OTA 2011B names the room type in `InvCode`).
    pub room_type_code: Option<String>,
    /// `@InvCode` when `@InvTypeCode` is there too (AlpineBits: one physical unit).
    pub unit_code: Option<String>,
    /// `@RatePlanCode`.
    pub rate_plan_code: Option<String>,
    /// `@BookingLimit` with `@BookingLimitMessageType`.
    pub limit: Option<BookingLimit>,
    /// `RestrictionStatus`.
    pub restriction: Option<RestrictionStatus>,
    /// `LengthsOfStay/LengthOfStay`, in order.
    pub stay_lengths: Vec<StayLength>,
}

/// Units for sale (`BookingLimit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingLimit {
    /// `SetLimit` (or no message type): this many units.
    Set(u32),
    /// `AdjustLimit`: this many more units.
    Adjust(u32),
    /// `RemoveLimit`: no limit set by the channel any more.
    Remove,
}

/// `RestrictionStatus`: open or close sales, arrivals or departures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestrictionStatus {
    /// `@Status`: `Open` (true) or `Close` (false).
    pub open: bool,
    /// `@Restriction`, `Master` when absent.
    pub applies_to: Restriction,
}

/// What a [`RestrictionStatus`] opens or closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restriction {
    /// Sales as a whole.
    Master,
    /// Arrivals on these nights.
    Arrival,
    /// Departures on these dates.
    Departure,
}

/// One `LengthOfStay` (`TimeUnit` Day): its `MinMaxMessageType` and `Time` in nights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StayLength {
    /// `SetMinLOS` (or `MinLOS`).
    SetMin(u16),
    /// `SetMaxLOS` (or `MaxLOS`).
    SetMax(u16),
    /// `RemoveMinLOS`.
    RemoveMin,
    /// `RemoveMaxLOS`.
    RemoveMax,
    /// `FullPatternLOS`: a stay of `nights` may (open) or may not start on these nights.
    Pattern { nights: u16, open: bool },
}

/// Reads an `OTA_HotelAvailNotifRQ`.
pub(crate) fn read(rq: &Element) -> Result<AvailNotif, OtaError> {
    let messages = rq.child("AvailStatusMessages").ok_or_else(|| OtaError::missing("AvailStatusMessages"))?;
    let hotel_code = required(messages, "HotelCode", "AvailStatusMessages")?.to_owned();
    let complete_set = rq.children("UniqueID").any(|u| u.attr("Instance") == Some("CompleteSet"));
    let statuses = messages
        .children("AvailStatusMessage")
        .enumerate()
        .map(|(i, message)| status(message, &format!("AvailStatusMessages/AvailStatusMessage[{}]", i + 1)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(AvailNotif { hotel_code, complete_set, statuses })
}

fn status(message: &Element, at: &str) -> Result<AvailStatus, OtaError> {
    let control_at = format!("{at}/StatusApplicationControl");
    let control = message.child("StatusApplicationControl").ok_or_else(|| OtaError::missing(&control_at))?;
    let (first_night, last_night) = nights_span(control, &control_at)?;
    let (inv_type, inv) = (control.attr("InvTypeCode"), control.attr("InvCode"));
    let limit = match message.attr("BookingLimit") {
        Some(value) => {
            let units: u32 = value
                .parse()
                .map_err(|_| OtaError::invalid(format!("{at}/@BookingLimit: {value:?} is not a number of units")))?;
            Some(match message.attr("BookingLimitMessageType") {
                None | Some("SetLimit") => BookingLimit::Set(units),
                Some("AdjustLimit") => BookingLimit::Adjust(units),
                Some("RemoveLimit") => BookingLimit::Remove,
                Some(other) => return Err(OtaError::invalid(format!("{at}/@BookingLimitMessageType: {other:?}"))),
            })
        }
        None if message.attr("BookingLimitMessageType") == Some("RemoveLimit") => Some(BookingLimit::Remove),
        None => None,
    };
    let restriction = message.child("RestrictionStatus").map(|r| restriction(r, &format!("{at}/RestrictionStatus")));
    let stay_lengths = message
        .child("LengthsOfStay")
        .into_iter()
        .flat_map(|l| l.children("LengthOfStay"))
        .enumerate()
        .map(|(i, los)| stay_length(los, &format!("{at}/LengthsOfStay/LengthOfStay[{}]", i + 1)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(AvailStatus {
        first_night,
        last_night,
        room_type_code: inv_type.or(inv).map(str::to_owned),
        unit_code: inv_type.and(inv).map(str::to_owned),
        rate_plan_code: control.attr("RatePlanCode").map(str::to_owned),
        limit,
        restriction: restriction.transpose()?,
        stay_lengths,
    })
}

fn restriction(el: &Element, at: &str) -> Result<RestrictionStatus, OtaError> {
    let open = match required(el, "Status", at)? {
        "Open" => true,
        "Close" => false,
        other => return Err(OtaError::unsupported(format!("{at}/@Status {other:?}: only Open and Close"))),
    };
    let applies_to = match el.attr("Restriction") {
        None | Some("Master") => Restriction::Master,
        Some("Arrival") => Restriction::Arrival,
        Some("Departure") => Restriction::Departure,
        Some(other) => {
            return Err(OtaError::unsupported(format!(
                "{at}/@Restriction {other:?}: only one of Master, Arrival, Departure"
            )));
        }
    };
    Ok(RestrictionStatus { open, applies_to })
}

fn stay_length(los: &Element, at: &str) -> Result<StayLength, OtaError> {
    if let Some(unit) = los.attr("TimeUnit").filter(|u| *u != "Day") {
        return Err(OtaError::unsupported(format!("{at}/@TimeUnit {unit:?}: only Day")));
    }
    let time = || -> Result<u16, OtaError> { count(required(los, "Time", at)?, &format!("{at}/@Time")) };
    Ok(match required(los, "MinMaxMessageType", at)? {
        "SetMinLOS" | "MinLOS" => StayLength::SetMin(time()?),
        "SetMaxLOS" | "MaxLOS" => StayLength::SetMax(time()?),
        "RemoveMinLOS" => StayLength::RemoveMin,
        "RemoveMaxLOS" => StayLength::RemoveMax,
        "FullPatternLOS" => StayLength::Pattern {
            nights: time()?,
            open: boolean(required(los, "OpenStatusIndicator", at)?, &format!("{at}/@OpenStatusIndicator"))?,
        },
        other => return Err(OtaError::unsupported(format!("{at}/@MinMaxMessageType {other:?}"))),
    })
}
