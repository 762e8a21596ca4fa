//! `OTA_HotelRateAmountNotifRQ`: a channel manager sets the nightly prices of a hotel's
//! room types and rate plans.

use super::OtaError;
use super::amount::{Amount, read_amount};
use super::document::Element;
use super::fields::{nights_span, optional_count, required};
use jiff::civil::Date;

/// What an `OTA_HotelRateAmountNotifRQ` sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateNotif {
    /// `RateAmountMessages/@HotelCode`.
    pub hotel_code: String,
    /// One per `Rates/Rate` of each `RateAmountMessage`, in order.
    pub rates: Vec<RateAmount>,
}

/// The nightly price of a room type and/or rate plan over `[first_night, last_night]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateAmount {
    /// `Rate/@Start`, else `StatusApplicationControl/@Start`.
    pub first_night: Date,
    /// `Rate/@End`, else `StatusApplicationControl/@End` (the last night, included).
    pub last_night: Date,
    /// `StatusApplicationControl/@InvTypeCode`, else `@InvCode`.
    pub room_type_code: Option<String>,
    /// `StatusApplicationControl/@RatePlanCode`.
    pub rate_plan_code: Option<String>,
    /// `BaseByGuestAmts/BaseByGuestAmt`: at least one.
    pub amounts: Vec<GuestAmount>,
}

/// One `BaseByGuestAmt`: the price of a night for a number of guests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestAmount {
    /// `@AmountAfterTax` or `@AmountBeforeTax`, in `@CurrencyCode` (of the `Rate` when the
    /// amount has none).
    pub amount: Amount,
    /// `@NumberOfGuests`: the price is for this many guests; for any number when absent.
    pub guests: Option<u16>,
    /// `@AgeQualifyingCode`.
    pub age_qualifying_code: Option<String>,
}

/// Reads an `OTA_HotelRateAmountNotifRQ`.
pub(crate) fn read(rq: &Element) -> Result<RateNotif, OtaError> {
    let messages = rq.child("RateAmountMessages").ok_or_else(|| OtaError::missing("RateAmountMessages"))?;
    let hotel_code = required(messages, "HotelCode", "RateAmountMessages")?.to_owned();
    let mut rates = Vec::new();
    for (i, message) in messages.children("RateAmountMessage").enumerate() {
        let at = format!("RateAmountMessages/RateAmountMessage[{}]", i + 1);
        let control_at = format!("{at}/StatusApplicationControl");
        let control = message.child("StatusApplicationControl").ok_or_else(|| OtaError::missing(&control_at))?;
        let (first, last) = nights_span(control, &control_at)?;
        let room_type_code = control.attr("InvTypeCode").or(control.attr("InvCode")).map(str::to_owned);
        let rate_plan_code = control.attr("RatePlanCode").map(str::to_owned);
        let listed: Vec<&Element> = message.child("Rates").into_iter().flat_map(|r| r.children("Rate")).collect();
        if listed.is_empty() {
            return Err(OtaError::missing(format!("{at}/Rates/Rate")));
        }
        for (j, rate) in listed.iter().enumerate() {
            let here = format!("{at}/Rates/Rate[{}]", j + 1);
            if let Some(unit) = rate.attr("RateTimeUnit").filter(|u| *u != "Day") {
                return Err(OtaError::unsupported(format!("{here}/@RateTimeUnit {unit:?}: only Day")));
            }
            let (first_night, last_night) = match (rate.attr("Start"), rate.attr("End")) {
                (None, None) => (first, last),
                _ => nights_span(rate, &here)?,
            };
            let mut amounts = Vec::new();
            for (k, by_guest) in
                rate.child("BaseByGuestAmts").into_iter().flat_map(|b| b.children("BaseByGuestAmt")).enumerate()
            {
                let amount_at = format!("{here}/BaseByGuestAmts/BaseByGuestAmt[{}]", k + 1);
                let amount = read_amount(by_guest, Some(rate), &amount_at)?
                    .ok_or_else(|| OtaError::missing(format!("{amount_at}/@AmountAfterTax")))?;
                amounts.push(GuestAmount {
                    amount,
                    guests: optional_count(by_guest, "NumberOfGuests", &amount_at)?,
                    age_qualifying_code: by_guest.attr("AgeQualifyingCode").map(str::to_owned),
                });
            }
            if amounts.is_empty() {
                return Err(OtaError::missing(format!("{here}/BaseByGuestAmts/BaseByGuestAmt")));
            }
            rates.push(RateAmount {
                first_night,
                last_night,
                room_type_code: room_type_code.clone(),
                rate_plan_code: rate_plan_code.clone(),
                amounts,
            });
        }
    }
    Ok(RateNotif { hotel_code, rates })
}
