//! The two ways a request goes wrong: a [`Fault`] when the body is not an OTA request
//! Innkeep takes at all (answered with a SOAP Fault), and an [`OtaError`] for everything
//! else (answered with `Errors` inside the RS of the request's message).

use super::SoapVersion;

/// OpenTravel code list "Error Warning Type" (EWT): the `Type` of an `Error`.
pub mod ewt {
    pub const UNKNOWN: u16 = 1;
    pub const NO_IMPLEMENTATION: u16 = 2;
    pub const BIZ_RULE: u16 = 3;
    pub const AUTHENTICATION: u16 = 4;
    pub const AUTHORIZATION: u16 = 6;
    pub const REQUIRED_FIELD_MISSING: u16 = 10;
    pub const PROCESSING_EXCEPTION: u16 = 12;
    pub const APPLICATION_ERROR: u16 = 13;
}

/// OpenTravel code list "Error Codes" (ERR): the `Code` of an `Error`.
pub mod err {
    pub const INVALID_DATE: u16 = 15;
    pub const INVALID_CURRENCY_CODE: u16 = 61;
    pub const BOOKING_ALREADY_CANCELLED: u16 = 95;
    pub const INVALID_CONFIRMATION_OR_CANCELLATION_NUMBER: u16 = 245;
    pub const INVALID_VALUE: u16 = 320;
    pub const REQUIRED_FIELD_MISSING: u16 = 321;
    pub const NO_AVAILABILITY: u16 = 322;
    pub const INVALID_HOTEL_CODE: u16 = 392;
    pub const INVALID_PROPERTY_CODE: u16 = 400;
    pub const INVALID_ROOM_TYPE: u16 = 402;
    pub const INVALID_START_END_DATE_COMBINATION: u16 = 404;
    pub const SYSTEM_ERROR: u16 = 448;
    pub const UNABLE_TO_PROCESS: u16 = 450;
    pub const AUTHORIZATION_ERROR: u16 = 497;
}

/// One OTA `Error`: `<Error Type="{kind}" Code="{code}">{text}</Error>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("OTA error {code} (type {kind}): {text}")]
pub struct OtaError {
    /// EWT code ([`ewt`]).
    pub kind: u16,
    /// ERR code ([`err`]).
    pub code: u16,
    /// What went wrong, for the channel's developer (no secrets, no guest data).
    pub text: String,
}

impl OtaError {
    /// An error of any type and code.
    pub fn new(kind: u16, code: u16, text: impl Into<String>) -> Self {
        OtaError { kind, code, text: text.into() }
    }

    /// Something Innkeep needs is not in the request (`what` names it as a path).
    pub fn missing(what: impl std::fmt::Display) -> Self {
        Self::new(ewt::REQUIRED_FIELD_MISSING, err::REQUIRED_FIELD_MISSING, format!("{what} is missing"))
    }

    /// A value that is there but cannot be read.
    pub fn invalid(what: impl std::fmt::Display) -> Self {
        Self::new(ewt::BIZ_RULE, err::INVALID_VALUE, what.to_string())
    }

    /// A date that cannot be read.
    pub fn invalid_date(what: impl std::fmt::Display) -> Self {
        Self::new(ewt::BIZ_RULE, err::INVALID_DATE, what.to_string())
    }

    /// Something the OTA specification allows but Innkeep does not do.
    pub fn unsupported(what: impl std::fmt::Display) -> Self {
        Self::new(ewt::NO_IMPLEMENTATION, err::UNABLE_TO_PROCESS, what.to_string())
    }

    /// Credentials missing or wrong (the text does not say which part was wrong). Type 6
    /// with code 497, as channel managers expect it.
    pub fn not_authorized() -> Self {
        Self::new(ewt::AUTHORIZATION, err::AUTHORIZATION_ERROR, "authorization error: check the username and password")
    }

    /// The hotel code names no property this channel may use.
    pub fn unknown_hotel(code: &str) -> Self {
        Self::new(ewt::BIZ_RULE, err::INVALID_HOTEL_CODE, format!("invalid hotel code {code}"))
    }

    /// The room type code names no room type of the property.
    pub fn unknown_room_type(code: &str) -> Self {
        Self::new(ewt::BIZ_RULE, err::INVALID_ROOM_TYPE, format!("invalid room type {code}"))
    }

    /// Nothing can be booked for the stay asked.
    pub fn no_availability(text: impl Into<String>) -> Self {
        Self::new(ewt::BIZ_RULE, err::NO_AVAILABILITY, text)
    }

    /// The reservation reference names no booking of this channel.
    pub fn unknown_booking(channel_ref: &str) -> Self {
        Self::new(
            ewt::BIZ_RULE,
            err::INVALID_CONFIRMATION_OR_CANCELLATION_NUMBER,
            format!("invalid confirmation or cancellation number {channel_ref}"),
        )
    }

    /// The booking was cancelled before.
    pub fn already_cancelled(channel_ref: &str) -> Self {
        Self::new(ewt::BIZ_RULE, err::BOOKING_ALREADY_CANCELLED, format!("booking {channel_ref} is already cancelled"))
    }

    /// Innkeep failed (the details stay in Innkeep's log).
    pub fn system() -> Self {
        Self::new(ewt::APPLICATION_ERROR, err::SYSTEM_ERROR, "system error: try again later")
    }
}

/// The fault code of a SOAP Fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultCode {
    /// The envelope is not SOAP 1.1 or 1.2.
    VersionMismatch,
    /// The request is wrong (SOAP 1.1 `Client`, SOAP 1.2 `Sender`).
    Sender,
    /// Innkeep failed (SOAP 1.1 `Server`, SOAP 1.2 `Receiver`).
    Receiver,
}

/// A body that is not an OTA request Innkeep takes: answered with a SOAP Fault
/// ([`render_fault`](super::render_fault)) in [`Fault::version`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Fault {
    /// The envelope's version when one was read; SOAP 1.1 otherwise.
    pub version: SoapVersion,
    pub code: FaultCode,
    /// Why, for the channel's developer.
    pub reason: String,
}

impl Fault {
    pub(crate) fn sender(version: SoapVersion, reason: impl Into<String>) -> Self {
        Fault { version, code: FaultCode::Sender, reason: reason.into() }
    }

    /// The HTTP status of the answer: SOAP 1.1 answers every fault with 500; SOAP 1.2
    /// answers a `Sender` fault with 400 (SOAP 1.2 part 2, 7.5.1.2).
    pub fn http_status(&self) -> u16 {
        match (self.version, self.code) {
            (SoapVersion::Soap12, FaultCode::Sender) => 400,
            _ => 500,
        }
    }
}
