//! The envelope of a request: SOAP 1.1, SOAP 1.2 or none, the credentials, and which OTA
//! message it carries.

use super::document::{self, Element, Ns};
use super::error::{Fault, FaultCode};
use super::writer::Reply;
use super::{Message, OtaError, Request, avail, booking, cancel, inventory, rates};
use jiff::Timestamp;

/// How a request came, and so how its answer goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SoapVersion {
    /// SOAP 1.1 (`http://schemas.xmlsoap.org/soap/envelope/`).
    Soap11,
    /// SOAP 1.2 (`http://www.w3.org/2003/05/soap-envelope`).
    Soap12,
    /// A bare OTA document, no envelope.
    Bare,
}

impl SoapVersion {
    /// The `Content-Type` of an answer.
    pub fn content_type(self) -> &'static str {
        match self {
            SoapVersion::Soap11 => "text/xml; charset=utf-8",
            SoapVersion::Soap12 => "application/soap+xml; charset=utf-8",
            SoapVersion::Bare => "application/xml; charset=utf-8",
        }
    }
}

/// Where the credentials of a request were.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialSource {
    /// WS-Security `Header/Security/UsernameToken` (`PasswordText`).
    UsernameToken,
    /// OTA `POS/Source/RequestorID`: `@ID` and `@MessagePassword` (a bare request's only
    /// place for them).
    RequestorId,
}

/// A channel's username and password as sent. They are secrets: never log them.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
    pub source: CredentialSource,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"***")
            .field("source", &self.source)
            .finish()
    }
}

/// A request read: how it came, who sent it, which message it is, and what it asks (or
/// why that could not be read, to be answered in the message's RS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub version: SoapVersion,
    /// The `UsernameToken`, else the `POS` `RequestorID` password; `None` when neither.
    pub credentials: Option<Credentials>,
    /// The message, known even when its content could not be read.
    pub message: Message,
    /// The request's `EchoToken` (1 to 128 characters; a longer one is not echoed).
    pub echo_token: Option<String>,
    pub request: Result<Request, OtaError>,
}

impl Envelope {
    /// What the answer to this request shares with every answer: its envelope, the echo
    /// token, and `now` as its time stamp.
    pub fn reply(&self, now: Timestamp) -> Reply {
        Reply { version: self.version, echo_token: self.echo_token.clone(), now }
    }
}

/// Reads a request body. A [`Fault`] when it is not one Innkeep takes: not UTF-8 XML,
/// a `DOCTYPE`, past the size limits, not a SOAP 1.1/1.2 envelope or a bare OTA document,
/// a body that is not one of the messages of [`Message`], or a `UsernameToken` whose
/// password is not `PasswordText`. Everything else is an [`Envelope`] whose `request`
/// may be an [`OtaError`].
pub fn read(body: &[u8]) -> Result<Envelope, Fault> {
    let root = document::parse(body).map_err(|reason| Fault::sender(SoapVersion::Soap11, reason))?;
    let (version, ota, credentials) = match (root.ns, root.name.as_str()) {
        (Ns::Soap11 | Ns::Soap12, "Envelope") => {
            let version = if root.ns == Ns::Soap11 { SoapVersion::Soap11 } else { SoapVersion::Soap12 };
            let body = root.child("Body").ok_or_else(|| Fault::sender(version, "the envelope has no Body"))?;
            let ota = body.children.first().ok_or_else(|| Fault::sender(version, "the Body is empty"))?;
            let credentials = match root.child("Header").and_then(|h| h.child_in(Ns::Wsse, "Security")) {
                Some(security) => username_token(security, version)?,
                None => None,
            };
            (version, ota, credentials)
        }
        (_, "Envelope") => {
            return Err(Fault {
                version: SoapVersion::Soap11,
                code: FaultCode::VersionMismatch,
                reason: "not a SOAP 1.1 or SOAP 1.2 envelope namespace".to_owned(),
            });
        }
        _ => (SoapVersion::Bare, &root, None),
    };
    if !matches!(ota.ns, Ns::Ota | Ns::None) {
        return Err(Fault::sender(version, format!("{} is not in the OpenTravel namespace", ota.name)));
    }
    let message = Message::of_request(&ota.name)
        .ok_or_else(|| Fault::sender(version, format!("{} is not an OTA request Innkeep takes", ota.name)))?;
    let credentials = credentials.or_else(|| requestor_id(ota));
    let echo_token = ota.attr("EchoToken").filter(|t| t.chars().count() <= 128).map(str::to_owned);
    let request = match message {
        Message::HotelAvail => avail::read(ota).map(Request::HotelAvail),
        Message::HotelRes => booking::read(ota).map(Request::HotelRes),
        Message::HotelResNotif => booking::read(ota).map(Request::HotelResNotif),
        Message::HotelAvailNotif => inventory::read(ota).map(Request::HotelAvailNotif),
        Message::HotelRateAmountNotif => rates::read(ota).map(Request::HotelRateAmountNotif),
        Message::Cancel => cancel::read(ota).map(Request::Cancel),
    };
    Ok(Envelope { version, credentials, message, echo_token, request })
}

const PASSWORD_TEXT: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText";

/// `Security/UsernameToken`: `Username` and a `PasswordText` `Password`. A password digest
/// cannot be checked against Innkeep's password hashes: that is a fault, not a missing
/// credential, so that the channel's developer sees why.
fn username_token(security: &Element, version: SoapVersion) -> Result<Option<Credentials>, Fault> {
    let Some(token) = security.child("UsernameToken") else { return Ok(None) };
    let username = token.child("Username").and_then(|u| u.text()).unwrap_or_default();
    let Some(password) = token.child("Password") else { return Ok(None) };
    match password.attr("Type") {
        None | Some(PASSWORD_TEXT) => {}
        Some(t) if t.ends_with("#PasswordText") => {}
        Some(other) => {
            return Err(Fault::sender(
                version,
                format!("UsernameToken Password Type {other} is not accepted: send PasswordText (over HTTPS)"),
            ));
        }
    }
    Ok(Some(Credentials {
        username: username.to_owned(),
        password: password.text.clone(),
        source: CredentialSource::UsernameToken,
    }))
}

/// `POS/Source/RequestorID` with a `MessagePassword`.
fn requestor_id(ota: &Element) -> Option<Credentials> {
    let pos = ota.child("POS")?;
    pos.children("Source").filter_map(|s| s.child("RequestorID")).find_map(|r| {
        Some(Credentials {
            username: r.attr("ID")?.to_owned(),
            password: r.attr("MessagePassword")?.to_owned(),
            source: CredentialSource::RequestorId,
        })
    })
}
