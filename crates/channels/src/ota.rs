//! OpenTravel (OTA 2011B) hotel messages, as channel managers send them to Innkeep's
//! `/ota` endpoint: read from a request body, and their responses written. The format only:
//! checking credentials, hotel codes and inventory is the server's.
//!
//! # Reading a request
//!
//! [`read`] takes the body bytes: an OTA request inside a SOAP 1.1 or SOAP 1.2 envelope,
//! or a bare OTA document. Elements are matched by namespace and local name (quick-xml's
//! `NsReader`), so prefixes do not matter; OTA elements are read in the OTA namespace
//! (`http://www.opentravel.org/OTA/2003/05`) or, for a document sent without one, in none.
//!
//! - **Faults**: a body that is not UTF-8 XML, that has a `DOCTYPE` (entities are never
//!   expanded; only the five predefined ones and character references are read), that
//!   nests deeper than 64 elements, holds more than 100,000 elements or an element with
//!   more than 64 attributes, whose envelope has an unknown namespace (`VersionMismatch`),
//!   whose `Body` is empty, or whose OTA element is not one of [`Message`], is a
//!   [`Fault`], answered with [`render_fault`]. The size of the body is the caller's to
//!   limit.
//! - **Credentials**: WS-Security `Header/Security/UsernameToken` (`Username`, `Password`
//!   of type `PasswordText`; a `PasswordDigest` is a fault); without one, the OTA
//!   `POS/Source/RequestorID/@ID` and `@MessagePassword`. See [`Credentials::source`].
//! - **Messages** ([`Request`]): `OTA_HotelAvailRQ` ([`AvailQuery`]),
//!   `OTA_HotelResRQ` and `OTA_HotelResNotifRQ` ([`Booking`]), `OTA_HotelAvailNotifRQ`
//!   ([`AvailNotif`]), `OTA_HotelRateAmountNotifRQ` ([`RateNotif`]) and `OTA_CancelRQ`
//!   ([`CancelRequest`]). Each type's fields say which element or attribute they come
//!   from.
//! - **Missing or unreadable data** is not a fault: [`Envelope::request`] is an
//!   [`OtaError`] (321 required field missing, naming the path; 15 invalid date;
//!   404 end not after start; 320 invalid value; 61 currency Innkeep does not price in;
//!   450 with type 2 for what OTA allows but Innkeep does not do), so the server answers
//!   the RS of [`Envelope::message`] with `Errors`.
//! - **Dates**: `TimeSpan` and `StayDateRange` give a stay's `[check_in, check_out)`
//!   (`End` is the departure; `Duration` `P3N` or `P3D` counts nights);
//!   `StatusApplicationControl` and rate `Start`/`End` give `[first_night, last_night]`
//!   (OTA's `End` there is the last night the status applies to). A date-time's date is
//!   taken as written.
//! - **Amounts** become [`Money`](innkeep_core::Money) in minor units of the currency,
//!   exactly: a decimal point is read as written (`450.00`); without one, `DecimalPlaces`
//!   decimals are implied (`DecimalPlaces="2"` `45000` is 450.00). Decimals beyond the
//!   currency's must be zeros; negative amounts are refused. `AmountAfterTax` is preferred
//!   to `AmountBeforeTax` ([`Amount::after_tax`] says which). A booking's total is the one
//!   the channel states (`RoomRate/Total`, `RoomStay/Total`, `ResGlobalInfo/Total`), never
//!   one made up from per-night or per-rate amounts.
//! - **Guests**: `GuestCount/@Count` by `AgeQualifyingCode`: 8 child, 7 infant and the other
//!   child ages (3, 4, 5, 9, 14, 18, 19) count as children, 10 and every other code as
//!   adults; without a code, an `Age` under 18 is a child (AlpineBits) and no age an adult.
//!
//! # Writing a response
//!
//! [`render`] writes the RS answering a request ([`Answer`]) in the request's envelope
//! ([`Envelope::reply`]: SOAP 1.1, SOAP 1.2 or bare), with the request's `EchoToken`, the
//! caller's `now` as `TimeStamp` and the 2011B schema's `Version`. Each RS validates
//! against the OpenTravel 2011B schemas when the codes given fit their lengths (room type
//! and rate plan codes 16 characters, `UniqueID/@ID` 32). Every value is escaped.
//!
//! Errors: [`Fault`] when a body is not a request at all, [`OtaError`] for the rest; both
//! are values the server answers with, never panics.

mod amount;
mod avail;
mod booking;
mod cancel;
mod document;
mod envelope;
mod error;
mod fields;
mod inventory;
mod rates;
mod writer;

pub use amount::Amount;
pub use avail::{AvailAnswer, AvailOffer, AvailQuery, NightAmount, RoomCandidate};
pub use booking::{BookedRoom, Booking, Confirmation, Guest, ResStatus};
pub use cancel::{CancelRequest, Cancellation, UniqueId};
pub use envelope::{CredentialSource, Credentials, Envelope, SoapVersion, read};
pub use error::{Fault, FaultCode, OtaError, err, ewt};
pub use inventory::{AvailNotif, AvailStatus, BookingLimit, Restriction, RestrictionStatus, StayLength};
pub use rates::{GuestAmount, RateAmount, RateNotif};
pub use writer::{Reply, render_fault};

/// The OTA messages Innkeep takes, each answered by its RS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Message {
    /// `OTA_HotelAvailRQ` / `OTA_HotelAvailRS`.
    HotelAvail,
    /// `OTA_HotelResRQ` / `OTA_HotelResRS`.
    HotelRes,
    /// `OTA_HotelResNotifRQ` / `OTA_HotelResNotifRS`.
    HotelResNotif,
    /// `OTA_HotelAvailNotifRQ` / `OTA_HotelAvailNotifRS`.
    HotelAvailNotif,
    /// `OTA_HotelRateAmountNotifRQ` / `OTA_HotelRateAmountNotifRS`.
    HotelRateAmountNotif,
    /// `OTA_CancelRQ` / `OTA_CancelRS`.
    Cancel,
}

impl Message {
    /// Every message, in the order above.
    pub const ALL: [Message; 6] = [
        Message::HotelAvail,
        Message::HotelRes,
        Message::HotelResNotif,
        Message::HotelAvailNotif,
        Message::HotelRateAmountNotif,
        Message::Cancel,
    ];

    /// The request element's name (`OTA_HotelAvailRQ`).
    pub fn request_name(self) -> &'static str {
        match self {
            Message::HotelAvail => "OTA_HotelAvailRQ",
            Message::HotelRes => "OTA_HotelResRQ",
            Message::HotelResNotif => "OTA_HotelResNotifRQ",
            Message::HotelAvailNotif => "OTA_HotelAvailNotifRQ",
            Message::HotelRateAmountNotif => "OTA_HotelRateAmountNotifRQ",
            Message::Cancel => "OTA_CancelRQ",
        }
    }

    /// The response element's name (`OTA_HotelAvailRS`).
    pub fn response_name(self) -> &'static str {
        match self {
            Message::HotelAvail => "OTA_HotelAvailRS",
            Message::HotelRes => "OTA_HotelResRS",
            Message::HotelResNotif => "OTA_HotelResNotifRS",
            Message::HotelAvailNotif => "OTA_HotelAvailNotifRS",
            Message::HotelRateAmountNotif => "OTA_HotelRateAmountNotifRS",
            Message::Cancel => "OTA_CancelRS",
        }
    }

    fn of_request(name: &str) -> Option<Message> {
        Message::ALL.into_iter().find(|m| m.request_name() == name)
    }
}

/// What a request asks, by message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    HotelAvail(AvailQuery),
    HotelRes(Vec<Booking>),
    HotelResNotif(Vec<Booking>),
    HotelAvailNotif(AvailNotif),
    HotelRateAmountNotif(RateNotif),
    Cancel(CancelRequest),
}

/// What Innkeep answers, by message: the content of a `Success` RS, or `Errors` for any
/// message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    HotelAvail(AvailAnswer),
    HotelRes(Vec<Confirmation>),
    HotelResNotif(Vec<Confirmation>),
    HotelAvailNotif,
    HotelRateAmountNotif,
    Cancel(Cancellation),
    /// The RS of the message with `Errors` (at most 99 are written; none is written as a
    /// system error). `OTA_CancelRS` then has `Status="Unsuccessful"`.
    Errors(Message, Vec<OtaError>),
}

impl Answer {
    /// The message this answers.
    pub fn message(&self) -> Message {
        match self {
            Answer::HotelAvail(_) => Message::HotelAvail,
            Answer::HotelRes(_) => Message::HotelRes,
            Answer::HotelResNotif(_) => Message::HotelResNotif,
            Answer::HotelAvailNotif => Message::HotelAvailNotif,
            Answer::HotelRateAmountNotif => Message::HotelRateAmountNotif,
            Answer::Cancel(_) => Message::Cancel,
            Answer::Errors(message, _) => *message,
        }
    }
}

/// The whole response body for `answer`: the RS in `reply`'s envelope.
pub fn render(reply: &Reply, answer: &Answer) -> Vec<u8> {
    let rs = answer.message().response_name();
    match answer {
        Answer::HotelAvail(a) => writer::response(reply, rs, &[], |xml| avail::write(xml, a)),
        Answer::HotelRes(c) | Answer::HotelResNotif(c) => {
            writer::response(reply, rs, &[], |xml| booking::write(xml, c))
        }
        Answer::HotelAvailNotif | Answer::HotelRateAmountNotif => {
            writer::response(reply, rs, &[], |xml| xml.empty("Success", &[]))
        }
        Answer::Cancel(c) => writer::response(reply, rs, &[("Status", "Cancelled")], |xml| cancel::write(xml, c)),
        Answer::Errors(message, errors) => writer::errors_response(reply, *message, errors),
    }
}
