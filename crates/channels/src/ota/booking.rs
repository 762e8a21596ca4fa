//! `OTA_HotelResRQ` and `OTA_HotelResNotifRQ` (a channel books, or tells of a booking it
//! took) and their RS (Innkeep's booking id for each).

use super::OtaError;
use super::amount::{Amount, read_amount};
use super::document::Element;
use super::fields::{Guests, guest_counts, optional, optional_count, required, stay};
use super::writer::Xml;
use jiff::civil::Date;
use std::collections::HashMap;

/// One `HotelReservation` of a channel, in Innkeep's words a booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    /// The channel's reference: `UniqueID/@ID` (the one of `Type` 14, reservation, when
    /// there are two), else `ResGlobalInfo/HotelReservationIDs/HotelReservationID/@ResID_Value`
    /// (the one of `ResID_Type` 14 first).
    pub channel_ref: String,
    /// `@ResStatus` as given (`Book`, `Commit`, `Modify`, `Cancel`, `Reserved`, ...).
    pub status: Option<String>,
    /// `@CreateDateTime` as given.
    pub created: Option<String>,
    /// `RoomStay/BasicPropertyInfo/@HotelCode` (the same in every room stay), else
    /// `ResGlobalInfo/BasicPropertyInfo/@HotelCode`.
    pub hotel_code: String,
    /// One per room type of each `RoomStay`.
    pub rooms: Vec<BookedRoom>,
    /// The primary `ResGuest` (`PrimaryIndicator`), else the first.
    pub guest: Guest,
    /// `ResGlobalInfo/Total`, else the sum of the rooms' totals when each has one.
    pub total: Option<Amount>,
}

/// A room type booked for a stay: a `RoomType` of a `RoomStay` with the `RoomRate` of
/// the same `RoomTypeCode`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookedRoom {
    /// `RoomType/@RoomTypeCode`, else `RoomRate/@RoomTypeCode`.
    pub room_type_code: String,
    /// `RoomRate/@RatePlanCode`, else the code of the room stay's only `RatePlan`.
    pub rate_plan_code: Option<String>,
    /// Units booked: `RoomType/@Quantity` (or `@NumberOfUnits`), 1 when absent: rooms of
    /// the type for the party below, shared between them.
    pub units: u16,
    /// `TimeSpan/@Start` of the room stay (else of `ResGlobalInfo`).
    pub check_in: Date,
    /// `TimeSpan/@End`, or `@Start` plus `@Duration`.
    pub check_out: Date,
    /// From the `GuestCounts` of the `RoomRate`, else of the room stay when it holds one
    /// room type, else of `ResGlobalInfo`, else one per `ResGuest` when the booking holds
    /// one room type: everyone in all the units (counts marked `IsPerRoom` are taken once
    /// for each unit).
    pub adults: u16,
    pub children: u16,
    /// The children's ages when the channel gave each child's (`GuestCount/@Age`, or a
    /// `ResGuest`'s); empty otherwise.
    pub child_ages: Vec<u8>,
    /// `RoomRate/Total`, else the room stay's `Total` when it holds one room type.
    pub total: Option<Amount>,
}

/// The guest a booking is under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guest {
    /// `PersonName/GivenName` (empty when the channel sends only a surname).
    pub given: String,
    /// `PersonName/Surname`.
    pub surname: String,
    /// `Customer/Email`.
    pub email: Option<String>,
    /// `Customer/Telephone/@PhoneNumber`.
    pub phone: Option<String>,
}

/// Reads every `HotelReservations/HotelReservation` of an `OTA_HotelResRQ` or
/// `OTA_HotelResNotifRQ`.
pub(crate) fn read(rq: &Element) -> Result<Vec<Booking>, OtaError> {
    let reservations: Vec<&Element> =
        rq.child("HotelReservations").into_iter().flat_map(|r| r.children("HotelReservation")).collect();
    if reservations.is_empty() {
        return Err(OtaError::missing("HotelReservations/HotelReservation"));
    }
    reservations.iter().enumerate().map(|(i, res)| reservation(res, &format!("HotelReservation[{}]", i + 1))).collect()
}

fn reservation(res: &Element, at: &str) -> Result<Booking, OtaError> {
    let channel_ref = channel_ref(res).ok_or_else(|| {
        OtaError::missing(format!(
            "{at}/UniqueID/@ID (or ResGlobalInfo/HotelReservationIDs/HotelReservationID/@ResID_Value)"
        ))
    })?;
    let global = res.child("ResGlobalInfo");
    let stays: Vec<&Element> = res.child("RoomStays").into_iter().flat_map(|s| s.children("RoomStay")).collect();

    let mut hotel_codes =
        stays.iter().filter_map(|s| s.child("BasicPropertyInfo")).filter_map(|b| b.attr("HotelCode")).peekable();
    let hotel_code = match hotel_codes.next() {
        Some(first) if hotel_codes.all(|other| other == first) => first.to_owned(),
        Some(_) => return Err(OtaError::unsupported(format!("{at}: room stays of different hotels"))),
        None => global
            .and_then(|g| g.child("BasicPropertyInfo"))
            .and_then(|b| b.attr("HotelCode"))
            .ok_or_else(|| OtaError::missing(format!("{at}/RoomStays/RoomStay/BasicPropertyInfo/@HotelCode")))?
            .to_owned(),
    };

    if stays.is_empty() {
        return Err(OtaError::missing(format!("{at}/RoomStays/RoomStay")));
    }
    let res_guests: Vec<&Element> = res.child("ResGuests").into_iter().flat_map(|g| g.children("ResGuest")).collect();
    let single_room = stays.len() == 1 && room_entries(stays[0]).len() == 1;
    let mut rooms = Vec::new();
    for (j, room_stay) in stays.iter().enumerate() {
        let here = format!("{at}/RoomStays/RoomStay[{}]", j + 1);
        rooms.extend(booked_rooms(room_stay, global, &res_guests, single_room, &here)?);
    }

    let guest = guest(global, &res_guests, at)?;
    let total = match global.and_then(|g| g.child("Total")) {
        Some(total) => read_amount(total, None, &format!("{at}/ResGlobalInfo/Total"))?,
        None => sum(rooms.iter().map(|r| r.total)),
    };
    Ok(Booking {
        channel_ref,
        status: optional(res, "ResStatus"),
        created: optional(res, "CreateDateTime"),
        hotel_code,
        rooms,
        guest,
        total,
    })
}

fn channel_ref(res: &Element) -> Option<String> {
    let ids: Vec<&Element> = res.children("UniqueID").filter(|u| u.attr("ID").is_some()).collect();
    let unique = ids.iter().find(|u| u.attr("Type") == Some("14")).or(ids.first());
    if let Some(id) = unique.and_then(|u| u.attr("ID")) {
        return Some(id.to_owned());
    }
    let ids: Vec<&Element> = res
        .path(&["ResGlobalInfo", "HotelReservationIDs"])
        .into_iter()
        .flat_map(|h| h.children("HotelReservationID"))
        .filter(|h| h.attr("ResID_Value").is_some())
        .collect();
    let id = ids.iter().find(|h| h.attr("ResID_Type") == Some("14")).or(ids.first());
    id.and_then(|h| h.attr("ResID_Value")).map(str::to_owned)
}

/// The room types of a room stay: its `RoomTypes/RoomType`, else its `RoomRates/RoomRate`.
fn room_entries(room_stay: &Element) -> Vec<&Element> {
    let types: Vec<&Element> = room_stay.child("RoomTypes").into_iter().flat_map(|t| t.children("RoomType")).collect();
    if !types.is_empty() {
        return types;
    }
    room_stay.child("RoomRates").into_iter().flat_map(|r| r.children("RoomRate")).collect()
}

fn booked_rooms(
    room_stay: &Element,
    global: Option<&Element>,
    res_guests: &[&Element],
    single_room: bool,
    at: &str,
) -> Result<Vec<BookedRoom>, OtaError> {
    let span = room_stay
        .child("TimeSpan")
        .or_else(|| global.and_then(|g| g.child("TimeSpan")))
        .ok_or_else(|| OtaError::missing(format!("{at}/TimeSpan")))?;
    let (check_in, check_out) = stay(span, &format!("{at}/TimeSpan"))?;
    let entries = room_entries(room_stay);
    if entries.is_empty() {
        return Err(OtaError::missing(format!("{at}/RoomTypes/RoomType")));
    }
    let rates: Vec<&Element> = room_stay.child("RoomRates").into_iter().flat_map(|r| r.children("RoomRate")).collect();
    let plans: Vec<&Element> = room_stay.child("RatePlans").into_iter().flat_map(|r| r.children("RatePlan")).collect();
    let one_type = entries.len() == 1;
    // Looked up per room type: a map keeps a stay of many room types linear.
    let mut rate_of: HashMap<&str, &Element> = HashMap::new();
    for rate in &rates {
        if let Some(code) = rate.attr("RoomTypeCode") {
            rate_of.entry(code).or_insert(rate);
        }
    }

    let mut rooms = Vec::new();
    for (k, entry) in entries.iter().enumerate() {
        let here = format!("{at}/{}[{}]", entry.name, k + 1);
        let room_type_code = required(entry, "RoomTypeCode", &here)?.to_owned();
        let rate = rate_of.get(room_type_code.as_str()).or(if one_type { rates.first() } else { None }).copied();
        let rate_plan_code = rate
            .and_then(|r| r.attr("RatePlanCode"))
            .or(if plans.len() == 1 { plans[0].attr("RatePlanCode") } else { None })
            .map(str::to_owned);
        let units = match optional_count(entry, "Quantity", &here)? {
            Some(n) => n,
            None => optional_count(entry, "NumberOfUnits", &here)?.unwrap_or(1),
        };

        let counts = rate
            .and_then(|r| r.child("GuestCounts"))
            .or(if one_type { room_stay.child("GuestCounts") } else { None })
            .or(if single_room { global.and_then(|g| g.child("GuestCounts")) } else { None });
        let guests = match counts {
            Some(counts) => guest_counts(counts, units, &format!("{here}/GuestCounts"))?,
            None if single_room && !res_guests.is_empty() => guests_listed(res_guests, at)?,
            None => return Err(OtaError::missing(format!("{here}: GuestCounts"))),
        };
        let Guests { adults, children, child_ages, .. } = guests;

        // A Rate's own Total is left alone: whether it is per night or for the stay
        // depends on its ChargeType and dates, and a price misread is worse than none.
        let total = match rate.and_then(|r| r.child("Total")).or(if one_type { room_stay.child("Total") } else { None })
        {
            Some(total) => read_amount(total, None, &format!("{here}/Total"))?,
            None => None,
        };
        rooms.push(BookedRoom {
            room_type_code,
            rate_plan_code,
            units,
            check_in,
            check_out,
            adults,
            children,
            child_ages,
            total,
        });
    }
    Ok(rooms)
}

/// The sum of amounts when there is at least one, each is there, and all are in one
/// currency and on one tax basis.
fn sum(amounts: impl IntoIterator<Item = Option<Amount>>) -> Option<Amount> {
    let mut total: Option<Amount> = None;
    for amount in amounts {
        let amount = amount?;
        total = Some(match total {
            None => amount,
            Some(t) if t.after_tax == amount.after_tax => {
                Amount { money: t.money.checked_add(amount.money).ok()?, after_tax: t.after_tax }
            }
            Some(_) => return None,
        });
    }
    total
}

/// Adults and children counted from the `ResGuest` list (each guest's `AgeQualifyingCode`
/// or `Age`).
fn guests_listed(res_guests: &[&Element], at: &str) -> Result<Guests, OtaError> {
    let mut guests = Guests::default();
    for guest in res_guests {
        guests.add(guest, 1, at)?;
    }
    Ok(guests.done())
}

fn guest(global: Option<&Element>, res_guests: &[&Element], at: &str) -> Result<Guest, OtaError> {
    let primary = res_guests
        .iter()
        .find(|g| matches!(g.attr("PrimaryIndicator"), Some("true" | "1")))
        .or(res_guests.first())
        .copied();
    let customer_path = ["Profiles", "ProfileInfo", "Profile", "Customer"];
    let customer = primary
        .and_then(|g| g.path(&customer_path))
        .or_else(|| global.and_then(|g| g.path(&customer_path)))
        .ok_or_else(|| OtaError::missing(format!("{at}/ResGuests/ResGuest/Profiles/ProfileInfo/Profile/Customer")))?;
    let name = customer.child("PersonName");
    let surname = name.and_then(|n| n.child("Surname")).and_then(|s| s.text()).ok_or_else(|| {
        OtaError::missing(format!("{at}/ResGuests/ResGuest/Profiles/ProfileInfo/Profile/Customer/PersonName/Surname"))
    })?;
    let given = name.and_then(|n| n.child("GivenName")).and_then(|g| g.text()).unwrap_or_default();
    Ok(Guest {
        given: given.to_owned(),
        surname: surname.to_owned(),
        email: customer.child("Email").and_then(|e| e.text()).map(str::to_owned),
        phone: customer.children("Telephone").find_map(|t| t.attr("PhoneNumber")).map(str::to_owned),
    })
}

/// The `ResStatus` Innkeep answers with (OTA `HotelResStatusType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResStatus {
    Book,
    Commit,
    Modify,
    Cancel,
    Hold,
    Requested,
    Reserved,
    Waitlisted,
    Cancelled,
}

impl ResStatus {
    /// The value written.
    pub fn as_str(self) -> &'static str {
        match self {
            ResStatus::Book => "Book",
            ResStatus::Commit => "Commit",
            ResStatus::Modify => "Modify",
            ResStatus::Cancel => "Cancel",
            ResStatus::Hold => "Hold",
            ResStatus::Requested => "Requested",
            ResStatus::Reserved => "Reserved",
            ResStatus::Waitlisted => "Waitlisted",
            ResStatus::Cancelled => "Cancelled",
        }
    }
}

/// What Innkeep answers for one booking of a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    /// The channel's reference, written as `UniqueID` of `Type` 14 (at most 32 characters).
    pub channel_ref: String,
    /// Innkeep's booking id, written as `HotelReservationID` of `ResID_Type` 14 and
    /// `ResID_Source` "Innkeep" (at most 64 characters).
    pub booking_id: String,
    pub status: ResStatus,
}

/// `Success` then one `HotelReservation` per confirmation.
pub(crate) fn write(xml: &mut Xml, confirmations: &[Confirmation]) {
    xml.empty("Success", &[]);
    if confirmations.is_empty() {
        return;
    }
    xml.open("HotelReservations", &[]);
    for confirmation in confirmations {
        xml.open("HotelReservation", &[("ResStatus", confirmation.status.as_str())]);
        xml.empty("UniqueID", &[("Type", "14"), ("ID", &confirmation.channel_ref)]);
        xml.open("ResGlobalInfo", &[]);
        xml.open("HotelReservationIDs", &[]);
        xml.empty(
            "HotelReservationID",
            &[("ResID_Type", "14"), ("ResID_Value", &confirmation.booking_id), ("ResID_Source", "Innkeep")],
        );
        xml.close("HotelReservationIDs");
        xml.close("ResGlobalInfo");
        xml.close("HotelReservation");
    }
    xml.close("HotelReservations");
}
