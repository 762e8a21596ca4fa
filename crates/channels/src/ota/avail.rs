//! `OTA_HotelAvailRQ` (a channel asks what a hotel can sell for a stay) and
//! `OTA_HotelAvailRS` (the room types Innkeep offers, with their prices).

use super::OtaError;
use super::amount::currency;
use super::document::Element;
use super::fields::{Guests, guest_counts, optional_count, stay};
use super::writer::Xml;
use innkeep_core::{Currency, Money};
use jiff::civil::Date;

/// What an `OTA_HotelAvailRQ` asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvailQuery {
    /// `HotelRef/@HotelCode` of the search criteria.
    pub hotel_code: String,
    /// `StayDateRange/@Start`.
    pub check_in: Date,
    /// `StayDateRange/@End`, or `@Start` plus `@Duration`.
    pub check_out: Date,
    /// One per `RoomStayCandidate`; empty when the request names none (any occupancy).
    pub rooms: Vec<RoomCandidate>,
    /// `RatePlanCandidates/RatePlanCandidate/@RatePlanCode`: only these rate plans.
    pub rate_plan_codes: Vec<String>,
    /// `@RequestedCurrency` of the request.
    pub currency: Option<Currency>,
}

impl AvailQuery {
    /// The room type codes the candidates name, each once, in order: only these are asked
    /// for (any room type when empty).
    pub fn room_type_codes(&self) -> Vec<String> {
        let mut codes: Vec<String> = Vec::new();
        for code in self.rooms.iter().filter_map(|r| r.room_type_code.as_ref()) {
            if !codes.contains(code) {
                codes.push(code.clone());
            }
        }
        codes
    }
}

/// One `RoomStayCandidate`: rooms wanted for a party (0 adults and 0 children when it has
/// no `GuestCounts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomCandidate {
    /// `@Quantity`, 1 when absent.
    pub quantity: u16,
    /// `GuestCounts`: adults (age qualifying code 10 and every code that is not a child's).
    pub adults: u16,
    /// `GuestCounts`: children (age qualifying codes 8 child, 7 infant and the other child ages).
    pub children: u16,
    /// The children's ages when each child's `GuestCount` gave an `Age`; empty otherwise.
    pub child_ages: Vec<u8>,
    /// `@RoomTypeCode`: only this room type.
    pub room_type_code: Option<String>,
}

/// Reads an `OTA_HotelAvailRQ`: its first (and only) `AvailRequestSegment`, whose
/// `HotelSearchCriteria/Criterion` elements give the hotel, the stay and the rooms (each
/// looked for in the criteria first, then in the segment itself as in pre-2006 messages).
pub(crate) fn read(rq: &Element) -> Result<AvailQuery, OtaError> {
    let currency =
        rq.attr("RequestedCurrency").map(|c| currency(c, "OTA_HotelAvailRQ/@RequestedCurrency")).transpose()?;
    let mut segments = rq.child("AvailRequestSegments").into_iter().flat_map(|s| s.children("AvailRequestSegment"));
    let segment = segments.next().ok_or_else(|| OtaError::missing("AvailRequestSegments/AvailRequestSegment"))?;
    if segments.next().is_some() {
        return Err(OtaError::unsupported("one AvailRequestSegment per request: send one request per stay"));
    }
    let criteria: Vec<&Element> =
        segment.child("HotelSearchCriteria").into_iter().flat_map(|c| c.children("Criterion")).collect();
    let in_criteria = |name: &str| criteria.iter().find_map(|c| c.child(name)).or_else(|| segment.child(name));

    let mut hotel_codes = criteria.iter().flat_map(|c| c.children("HotelRef")).filter_map(|h| h.attr("HotelCode"));
    let hotel_code = hotel_codes
        .next()
        .ok_or_else(|| OtaError::missing("HotelSearchCriteria/Criterion/HotelRef/@HotelCode"))?
        .to_owned();
    if hotel_codes.any(|other| other != hotel_code) {
        return Err(OtaError::unsupported("one hotel per request: send one request per HotelCode"));
    }

    let range = in_criteria("StayDateRange").ok_or_else(|| OtaError::missing("Criterion/StayDateRange"))?;
    let (check_in, check_out) = stay(range, "StayDateRange")?;

    let mut rooms = Vec::new();
    if let Some(candidates) = in_criteria("RoomStayCandidates") {
        for (i, candidate) in candidates.children("RoomStayCandidate").enumerate() {
            let at = format!("RoomStayCandidates/RoomStayCandidate[{}]", i + 1);
            let quantity = optional_count(candidate, "Quantity", &at)?.unwrap_or(1);
            let guests = match candidate.child("GuestCounts") {
                Some(counts) => guest_counts(counts, quantity, &format!("{at}/GuestCounts"))?,
                None => Guests::default(),
            };
            rooms.push(RoomCandidate {
                quantity,
                adults: guests.adults,
                children: guests.children,
                child_ages: guests.child_ages,
                room_type_code: candidate.attr("RoomTypeCode").map(str::to_owned),
            });
        }
    }

    let rate_plan_codes = in_criteria("RatePlanCandidates")
        .into_iter()
        .flat_map(|c| c.children("RatePlanCandidate"))
        .filter_map(|c| c.attr("RatePlanCode").map(str::to_owned))
        .collect();
    Ok(AvailQuery { hotel_code, check_in, check_out, rooms, rate_plan_codes, currency })
}

/// What Innkeep answers to an [`AvailQuery`]: the stay asked and one offer per room type
/// and rate plan that can be sold for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvailAnswer {
    pub hotel_code: String,
    pub check_in: Date,
    pub check_out: Date,
    pub adults: u16,
    pub children: u16,
    /// Empty when nothing is available (the RS is then `Success` without `RoomStays`).
    pub offers: Vec<AvailOffer>,
}

/// One room type offered at one rate plan; amounts include taxes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvailOffer {
    pub room_type_code: String,
    /// Written as `RoomDescription/Text`.
    pub room_type_name: Option<String>,
    /// Units of the room type free for the whole stay.
    pub units: u32,
    pub rate_plan_code: String,
    /// The price of the whole stay for one unit.
    pub total: Money,
    /// The price of each night, when known (written as one `Rate` per night).
    pub nights: Vec<NightAmount>,
}

/// The price of one night of an offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NightAmount {
    pub night: Date,
    pub amount: Money,
}

/// `Success` then `RoomStays`, one `RoomStay` per offer.
pub(crate) fn write(xml: &mut Xml, answer: &AvailAnswer) {
    xml.empty("Success", &[]);
    if answer.offers.is_empty() {
        return;
    }
    let (check_in, check_out) = (answer.check_in.to_string(), answer.check_out.to_string());
    xml.open("RoomStays", &[]);
    for offer in &answer.offers {
        let units = offer.units.to_string();
        xml.open("RoomStay", &[]);

        xml.open("RoomTypes", &[]);
        let room_type = [("RoomTypeCode", offer.room_type_code.as_str()), ("NumberOfUnits", units.as_str())];
        match &offer.room_type_name {
            Some(name) => {
                xml.open("RoomType", &room_type);
                xml.open("RoomDescription", &[]);
                xml.text("Text", &[], name);
                xml.close("RoomDescription");
                xml.close("RoomType");
            }
            None => xml.empty("RoomType", &room_type),
        }
        xml.close("RoomTypes");

        xml.open("RatePlans", &[]);
        xml.empty("RatePlan", &[("RatePlanCode", &offer.rate_plan_code)]);
        xml.close("RatePlans");

        xml.open("RoomRates", &[]);
        xml.open(
            "RoomRate",
            &[
                ("RoomTypeCode", &offer.room_type_code),
                ("NumberOfUnits", &units),
                ("RatePlanCode", &offer.rate_plan_code),
            ],
        );
        xml.open("Rates", &[]);
        if offer.nights.is_empty() {
            let span = [("EffectiveDate", check_in.as_str()), ("ExpireDate", check_out.as_str())];
            rate(xml, &span, None, offer.total);
        }
        for night in &offer.nights {
            let (first, next) = (night.night.to_string(), night.night.tomorrow().unwrap_or(night.night).to_string());
            let span = [("EffectiveDate", first.as_str()), ("ExpireDate", next.as_str()), ("RateTimeUnit", "Day")];
            rate(xml, &span, Some(night.amount), night.amount);
        }
        xml.close("Rates");
        xml.amount("Total", offer.total, &[]);
        xml.close("RoomRate");
        xml.close("RoomRates");

        guests(xml, answer.adults, answer.children);
        xml.empty("TimeSpan", &[("Start", &check_in), ("End", &check_out)]);
        xml.amount("Total", offer.total, &[]);
        xml.empty("BasicPropertyInfo", &[("HotelCode", &answer.hotel_code)]);
        xml.close("RoomStay");
    }
    xml.close("RoomStays");
}

/// `GuestCounts` of the stay asked; left out when the query named no guests (a `Count` is
/// 1 to 999).
fn guests(xml: &mut Xml, adults: u16, children: u16) {
    let counts: Vec<(&str, String)> = [("10", adults), ("8", children)]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(code, n)| (code, n.min(999).to_string()))
        .collect();
    if counts.is_empty() {
        return;
    }
    xml.open("GuestCounts", &[]);
    for (code, n) in &counts {
        xml.empty("GuestCount", &[("AgeQualifyingCode", code), ("Count", n)]);
    }
    xml.close("GuestCounts");
}

/// One `Rate` over `[EffectiveDate, ExpireDate)`, with its `Base` when per night.
fn rate(xml: &mut Xml, span: &[(&str, &str)], base: Option<Money>, total: Money) {
    let mut attributes = span.to_vec();
    attributes.push(("ExpireDateExclusiveIndicator", "true"));
    xml.open("Rate", &attributes);
    if let Some(base) = base {
        xml.amount("Base", base, &[]);
    }
    xml.amount("Total", total, &[]);
    xml.close("Rate");
}
