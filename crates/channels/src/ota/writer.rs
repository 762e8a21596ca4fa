//! Writing responses: a small XML builder that escapes every value, the SOAP envelope
//! around an RS, and SOAP Faults.

use super::amount::decimal;
use super::document::{OTA_NS, SOAP11_NS, SOAP12_NS};
use super::error::{Fault, FaultCode};
use super::{Message, OtaError, SoapVersion};
use innkeep_core::Money;
use jiff::Timestamp;

/// XML text being written, starting with the XML declaration.
pub(crate) struct Xml {
    out: String,
}

impl Xml {
    fn new() -> Self {
        Xml { out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>") }
    }

    /// `<name a="v" ...>`.
    pub fn open(&mut self, name: &str, attributes: &[(&str, &str)]) {
        self.tag(name, attributes);
        self.out.push('>');
    }

    /// `<name a="v" .../>`.
    pub fn empty(&mut self, name: &str, attributes: &[(&str, &str)]) {
        self.tag(name, attributes);
        self.out.push_str("/>");
    }

    /// `</name>`.
    pub fn close(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    /// `<name a="v" ...>text</name>`.
    pub fn text(&mut self, name: &str, attributes: &[(&str, &str)], text: &str) {
        self.open(name, attributes);
        escape_into(&mut self.out, text, false);
        self.close(name);
    }

    /// `<name AmountAfterTax="450.00" CurrencyCode="EUR" DecimalPlaces="2" .../>`.
    pub fn amount(&mut self, name: &str, money: Money, attributes: &[(&str, &str)]) {
        let (value, places) = decimal(money);
        let places = places.to_string();
        let mut all = vec![("AmountAfterTax", value.as_str()), ("CurrencyCode", money.currency.code())];
        all.push(("DecimalPlaces", places.as_str()));
        all.extend_from_slice(attributes);
        self.empty(name, &all);
    }

    fn tag(&mut self, name: &str, attributes: &[(&str, &str)]) {
        self.out.push('<');
        self.out.push_str(name);
        for (key, value) in attributes {
            self.out.push(' ');
            self.out.push_str(key);
            self.out.push_str("=\"");
            escape_into(&mut self.out, value, true);
            self.out.push('"');
        }
    }

    fn into_bytes(self) -> Vec<u8> {
        self.out.into_bytes()
    }
}

/// Escapes markup characters; in attributes also tabs and line ends (which a reader would
/// otherwise turn into spaces). Characters XML 1.0 cannot hold become U+FFFD.
fn escape_into(out: &mut String, text: &str, attribute: bool) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// What every response to one request shares: the envelope to answer in, the request's
/// `EchoToken` and the response's time stamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub version: SoapVersion,
    pub echo_token: Option<String>,
    /// Written as the RS's `TimeStamp`; the caller's clock, never read here.
    pub now: Timestamp,
}

/// Writes a whole response body: the envelope of `reply.version` (none when bare) around
/// the RS element `rs`, whose root attributes are `EchoToken`, `TimeStamp`, `Version` and
/// `extra`, and whose content `content` writes.
pub(crate) fn response(reply: &Reply, rs: &str, extra: &[(&str, &str)], content: impl FnOnce(&mut Xml)) -> Vec<u8> {
    let mut xml = Xml::new();
    let body = open_envelope(&mut xml, reply.version);
    let now = reply.now.to_string();
    let mut attributes = vec![("xmlns", OTA_NS)];
    if let Some(token) = &reply.echo_token {
        attributes.push(("EchoToken", token.as_str()));
    }
    attributes.extend([("TimeStamp", now.as_str()), ("Version", version_of(rs))]);
    attributes.extend_from_slice(extra);
    xml.open(rs, &attributes);
    content(&mut xml);
    xml.close(rs);
    close_envelope(&mut xml, body);
    xml.into_bytes()
}

/// The `Version` of each RS: the version of its 2011B schema.
fn version_of(rs: &str) -> &'static str {
    match rs {
        "OTA_HotelAvailRS" => "6.001",
        "OTA_HotelResRS" | "OTA_HotelResNotifRS" => "5.000",
        "OTA_HotelAvailNotifRS" | "OTA_HotelRateAmountNotifRS" => "2.000",
        "OTA_CancelRS" => "3.500",
        _ => "1.000",
    }
}

/// `<Errors>` with at most the 99 errors the schema allows (a system error when given none).
pub(crate) fn errors(xml: &mut Xml, errors: &[OtaError]) {
    let fallback = [OtaError::system()];
    let errors = if errors.is_empty() { &fallback[..] } else { errors };
    xml.open("Errors", &[]);
    for error in errors.iter().take(99) {
        let (kind, code) = (error.kind.to_string(), error.code.to_string());
        xml.text("Error", &[("Type", &kind), ("Code", &code)], &error.text);
    }
    xml.close("Errors");
}

/// The RS of `message` holding only `Errors`.
pub(crate) fn errors_response(reply: &Reply, message: Message, list: &[OtaError]) -> Vec<u8> {
    let extra: &[(&str, &str)] = match message {
        Message::Cancel => &[("Status", "Unsuccessful")],
        _ => &[],
    };
    response(reply, message.response_name(), extra, |xml| errors(xml, list))
}

/// Opens `Envelope` and `Body` for SOAP; returns the prefix used, `None` when bare.
fn open_envelope(xml: &mut Xml, version: SoapVersion) -> Option<&'static str> {
    let (prefix, ns) = match version {
        SoapVersion::Soap11 => ("soap", SOAP11_NS),
        SoapVersion::Soap12 => ("env", SOAP12_NS),
        SoapVersion::Bare => return None,
    };
    xml.open(&format!("{prefix}:Envelope"), &[(&format!("xmlns:{prefix}"), ns)]);
    xml.open(&format!("{prefix}:Body"), &[]);
    Some(prefix)
}

fn close_envelope(xml: &mut Xml, prefix: Option<&str>) {
    if let Some(prefix) = prefix {
        xml.close(&format!("{prefix}:Body"));
        xml.close(&format!("{prefix}:Envelope"));
    }
}

/// A SOAP Fault in `fault.version` (SOAP 1.1 for a bare request: a fault needs an envelope).
pub fn render_fault(fault: &Fault) -> Vec<u8> {
    let mut xml = Xml::new();
    let version = match fault.version {
        SoapVersion::Bare => SoapVersion::Soap11,
        v => v,
    };
    let prefix = open_envelope(&mut xml, version).unwrap_or("soap");
    let fault_tag = format!("{prefix}:Fault");
    xml.open(&fault_tag, &[]);
    if version == SoapVersion::Soap12 {
        let code = match fault.code {
            FaultCode::VersionMismatch => "env:VersionMismatch",
            FaultCode::Sender => "env:Sender",
            FaultCode::Receiver => "env:Receiver",
        };
        xml.open("env:Code", &[]);
        xml.text("env:Value", &[], code);
        xml.close("env:Code");
        xml.open("env:Reason", &[]);
        xml.text("env:Text", &[("xml:lang", "en")], &fault.reason);
        xml.close("env:Reason");
    } else {
        let code = match fault.code {
            FaultCode::VersionMismatch => "soap:VersionMismatch",
            FaultCode::Sender => "soap:Client",
            FaultCode::Receiver => "soap:Server",
        };
        xml.text("faultcode", &[], code);
        xml.text("faultstring", &[], &fault.reason);
    }
    xml.close(&fault_tag);
    close_envelope(&mut xml, Some(prefix));
    xml.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_and_unwritable_characters_replaced() {
        let mut out = String::new();
        escape_into(&mut out, "a<b>&\"c\"\t\n\r\u{1}\u{FFFF}é", true);
        assert_eq!(out, "a&lt;b&gt;&amp;&quot;c&quot;&#9;&#10;&#13;\u{FFFD}\u{FFFD}é");
        let mut out = String::new();
        escape_into(&mut out, "a<\"b\"\n", false);
        assert_eq!(out, "a&lt;\"b\"\n");
    }
}
