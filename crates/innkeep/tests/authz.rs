//! The authorization matrix (issues 13 and 23): every route of the JSON API, and the web
//! pages that show or change a host's or a guest's things, tried by ten actors (anonymous,
//! guest A, guest B, host A (its owner), host B, an admin, host A's manager, front desk and
//! accountant, and a `channel` API key of host A) on objects that belong to host A and
//! guest A. A key is no session: on the pages it is a signed-out visitor.
//!
//! A row is data: one request (with `{name}` placeholders for the world's ids) and the
//! status each actor must get. After every request the objects of both tenants and both
//! guests, read back by their owners, must be as they were; a request an actor is allowed
//! to make that changes things runs on a fresh copy of host A's and guest A's objects, so
//! every other attempt meets the originals. A new endpoint joins by adding a row to
//! `api_rows` (the test `every_route_in_the_api_document_has_a_row` fails until it does) or
//! to `page_rows`.

use crate::common;

use common::{TestApp, spawn_app};
use futures::future::join_all;
use innkeep_app::auth::{Register, register};
use innkeep_core::{Role, StaffRole};
use reqwest::{Client, Method, header};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

const PASSWORD: &str = "correct horse battery";

/// Cells known to fail: each is a real authorization bug, kept here (row name, actor) so
/// the matrix still passes while it is open. Remove the entry when the bug is fixed (the
/// test fails while a listed cell passes, so the list stays true).
const KNOWN_FAILURES: &[(&str, Who)] = &[];

/// A 1x1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D,
    0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

/// Who makes a request; a row's statuses are in the order of `ACTORS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    GuestA,
    GuestB,
    HostA,
    HostB,
    Admin,
    ManagerA,
    DeskA,
    AccountantA,
    KeyA,
}

const ACTORS: [Who; 10] = [
    Who::Anonymous,
    Who::GuestA,
    Who::GuestB,
    Who::HostA,
    Who::HostB,
    Who::Admin,
    Who::ManagerA,
    Who::DeskA,
    Who::AccountantA,
    Who::KeyA,
];

impl Who {
    fn label(self) -> &'static str {
        match self {
            Who::Anonymous => "anon",
            Who::GuestA => "guest A",
            Who::GuestB => "guest B",
            Who::HostA => "host A",
            Who::HostB => "host B",
            Who::Admin => "admin",
            Who::ManagerA => "mgr A",
            Who::DeskA => "desk A",
            Who::AccountantA => "acct A",
            Who::KeyA => "key A",
        }
    }

    /// Host A's staff role, for its members.
    fn staff(self) -> Option<StaffRole> {
        match self {
            Who::ManagerA => Some(StaffRole::Manager),
            Who::DeskA => Some(StaffRole::FrontDesk),
            Who::AccountantA => Some(StaffRole::Accountant),
            _ => None,
        }
    }

    /// Signed out on this face: the anonymous visitor, and a key on the pages.
    fn signed_out(self, face: Face) -> bool {
        self == Who::Anonymous || (self == Who::KeyA && face == Face::Page)
    }

    fn index(self) -> usize {
        ACTORS.iter().position(|w| *w == self).unwrap_or(0)
    }
}

// Masks of `Row::shows`, in the order of ACTORS.
const Y: bool = true;
const N: bool = false;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Face {
    /// JSON with a bearer token; errors are problem documents.
    Api,
    /// HTML pages with the session cookie; every POST carries the actor's CSRF token.
    Page,
}

#[derive(Debug, Clone, Copy)]
enum Payload {
    Empty,
    /// JSON text with placeholders.
    Json(&'static str),
    /// CSV text with placeholders.
    Csv(&'static str),
    /// The PNG as the body.
    Png,
    /// A url-encoded form (values with placeholders); the CSRF token is added.
    Form(&'static [(&'static str, &'static str)]),
    /// A multipart form with the PNG as `photo`; the CSRF token is added.
    PhotoForm,
}

/// One request of the matrix and the status each actor must get.
struct Row {
    face: Face,
    method: Method,
    /// Path and query, with `{name}` placeholders for the world's values and `{unique}`
    /// for a number never used twice.
    path: &'static str,
    note: &'static str,
    payload: Payload,
    headers: Vec<(&'static str, &'static str)>,
    /// The status each actor gets, in the order of `ACTORS`.
    expect: [u16; 10],
    /// The request changes what it names: an actor allowed to make it acts on a fresh copy
    /// of host A's and guest A's objects, and such rows run after every read.
    changes: bool,
    /// A world value that must appear in the answer to exactly the actors marked `Y`.
    shows: Vec<(&'static str, [bool; 10])>,
    /// Each actor signs in anew for this request (it ends the session it uses).
    own_session: bool,
    /// Each actor is a new user of its role for this request (it ends every session of
    /// the user, which the cast's own sessions must survive).
    fresh_user: bool,
}

fn api(method: Method, path: &'static str, expect: [u16; 10]) -> Row {
    Row {
        face: Face::Api,
        method,
        path,
        note: "",
        payload: Payload::Empty,
        headers: Vec::new(),
        expect,
        changes: false,
        shows: Vec::new(),
        own_session: false,
        fresh_user: false,
    }
}

fn page(method: Method, path: &'static str, expect: [u16; 10]) -> Row {
    let payload = if method == Method::POST { Payload::Form(&[]) } else { Payload::Empty };
    Row { face: Face::Page, payload, ..api(method, path, expect) }
}

impl Row {
    fn name(&self) -> String {
        let face = match self.face {
            Face::Api => "",
            Face::Page => "page ",
        };
        let note = if self.note.is_empty() { String::new() } else { format!(" ({})", self.note) };
        format!("{face}{} {}{note}", self.method, self.path)
    }
    fn note(self, note: &'static str) -> Row {
        Row { note, ..self }
    }
    fn json(self, body: &'static str) -> Row {
        Row { payload: Payload::Json(body), ..self }
    }
    fn png(self) -> Row {
        Row { payload: Payload::Png, ..self }
    }
    fn csv(self, body: &'static str) -> Row {
        Row { payload: Payload::Csv(body), ..self }
    }
    fn form(self, fields: &'static [(&'static str, &'static str)]) -> Row {
        Row { payload: Payload::Form(fields), ..self }
    }
    fn photo_form(self) -> Row {
        Row { payload: Payload::PhotoForm, ..self }
    }
    fn header(mut self, name: &'static str, value: &'static str) -> Row {
        self.headers.push((name, value));
        self
    }
    fn changes(self) -> Row {
        Row { changes: true, ..self }
    }
    fn shows(mut self, name: &'static str, to: [bool; 10]) -> Row {
        self.shows.push((name, to));
        self
    }
    fn own_session(self) -> Row {
        Row { own_session: true, ..self }
    }

    fn fresh_user(self) -> Row {
        Row { fresh_user: true, ..self }
    }
}

const NEW_USER: &str =
    r#"{"email": "new{unique}@example.com", "password": "correct horse battery", "name": "New", "role": "guest"}"#;
const SIGN_IN: &str = r#"{"email": "{signin_email}", "password": "correct horse battery"}"#;
const NEW_PROPERTY: &str = r#"{"name": "Casa Nova", "property_type": "house",
    "address": {"lines": ["Rua Nova 1"], "city": "Lisbon", "country": "PT"},
    "latitude": 38.71, "longitude": -9.14, "time_zone": "Europe/Lisbon", "currency": "EUR"}"#;
const NEW_ROOM_TYPE: &str = r#"{"name": "Annex", "occupancy": {"max_adults": 2, "max_children": 0, "max_total": 2},
    "units": 1, "base_rate_minor": 5000}"#;
/// The body guest A's held booking was placed with (see `objects_of_a`), to replay its key.
const HOLD: &str = r#"{"room_type_id": "{room_type_a}", "check_in": "2027-02-01", "check_out": "2027-02-03",
    "adults": 2, "children": 0,
    "guest": {"name": "Ana Silva", "email": "ana@example.com", "phone": "+351 912 345 678"}}"#;
const NEW_BOOKING: &str = r#"{"room_type_id": "{room_type_a}", "check_in": "2027-02-15", "check_out": "2027-02-17",
    "adults": 1, "guest": {"name": "Someone", "email": "someone@example.com"}}"#;
const REVIEW: &str = r#"{"scores": {"cleanliness": 9, "location": 10, "value": 8, "staff": 9, "comfort": 8}, "text": "Quiet and bright."}"#;
const EVENTS: &str = r#"[{"type": "view", "client_id": "authz-matrix", "occurred_at": "2027-01-04T09:59:00Z", "property_id": "{property_a}"}]"#;

/// Every route of the JSON API. Targets belong to host A (`property_a`, `room_type_a`,
/// `photo_a`) and guest A (`held_a`, `confirmed_a`, `checked_in_a`, all on `room_type_a`);
/// guest B's `booking_b` is on host B's `room_type_b`. Another tenant's object is 404 (its id
/// does not leak), a signed-in route is 401 for anonymous, a wrong role 403.
fn api_rows() -> Vec<Row> {
    use Method as M;
    vec![
        //                                                                   anon gst A gst B hst A hst B admin
        api(M::POST, "/api/v1/users", [201; 10]).json(NEW_USER),
        api(M::POST, "/api/v1/sessions", [201; 10]).json(SIGN_IN),
        api(M::DELETE, "/api/v1/sessions/current", [401, 204, 204, 204, 204, 204, 204, 204, 204, 204]).own_session(),
        api(M::GET, "/api/v1/me", [401, 200, 200, 200, 200, 200, 200, 200, 200, 403]).shows("guest_a_user", [N, Y, N, N, N, N, N, N, N, N]),
        api(M::POST, "/api/v1/me/password", [401, 400, 400, 400, 400, 400, 400, 400, 400, 403])
            .note("a wrong current password")
            .json(r#"{"current_password": "not the password at all", "new_password": "a brand new password"}"#),
        api(M::GET, "/api/v1/me/sessions", [401, 200, 200, 200, 200, 200, 200, 200, 200, 403]),
        api(M::DELETE, "/api/v1/me/sessions", [401, 204, 204, 204, 204, 204, 204, 204, 204, 403]).fresh_user(),
        api(M::POST, "/api/v1/me/email-verification", [401, 202, 202, 202, 202, 202, 202, 202, 202, 403]).fresh_user(),
        api(M::POST, "/api/v1/email-verifications", [400; 10])
            .note("an unknown token")
            .json(r#"{"token": "00112233445566778899aabbccddeeff"}"#),
        api(M::POST, "/api/v1/password-resets", [202; 10])
            .note("any address, with an account or not")
            .json(r#"{"email": "reset-{unique}@example.com"}"#),
        api(M::POST, "/api/v1/password-resets/confirm", [400; 10])
            .note("an unknown token")
            .json(r#"{"token": "00112233445566778899aabbccddeeff", "password": "a brand new password"}"#),
        api(M::PATCH, "/api/v1/me", [401, 200, 200, 200, 200, 200, 200, 200, 200, 403])
            .note("one's own language, set to what it is")
            .json(r#"{"locale": "en"}"#),
        api(M::GET, "/api/v1/me/export", [401, 200, 200, 200, 200, 200, 200, 200, 200, 403])
            .shows("guest_a_user", [N, Y, N, N, N, N, N, N, N, N]),
        api(M::DELETE, "/api/v1/me", [401, 400, 400, 400, 400, 400, 400, 400, 400, 403])
            .note("a wrong password")
            .json(r#"{"password": "not the password at all"}"#),
        api(M::GET, "/api/v1/me/searches", [401, 200, 200, 200, 200, 200, 200, 200, 200, 403]).shows("search_secret", [N, Y, N, N, N, N, N, N, N, N]),
        api(M::POST, "/api/v1/properties", [401, 403, 403, 201, 201, 403, 201, 403, 403, 403]).json(NEW_PROPERTY),
        api(M::GET, "/api/v1/properties?limit=100", [200; 10])
            .shows("property_a", [Y, Y, Y, Y, N, Y, Y, Y, Y, Y]),
        api(M::GET, "/api/v1/properties/{property_a}", [200; 10]),
        api(M::PATCH, "/api/v1/properties/{property_a}", [401, 404, 404, 200, 404, 200, 200, 403, 403, 403])
            .json(r#"{"name": "Taken over"}"#)
            .changes(),
        api(M::GET, "/api/v1/properties/{property_a}/room-types", [200; 10]),
        api(M::POST, "/api/v1/properties/{property_a}/room-types", [401, 404, 404, 201, 404, 201, 201, 403, 403, 403])
            .json(NEW_ROOM_TYPE)
            .changes(),
        api(M::GET, "/api/v1/properties/{property_a}/photos", [200; 10])
            .shows("photo_a", [Y, Y, Y, Y, Y, Y, Y, Y, Y, Y]),
        api(M::POST, "/api/v1/properties/{property_a}/photos", [401, 404, 404, 201, 404, 201, 201, 403, 403, 403]).png().changes(),
        api(M::GET, "/photos/{photo_a}", [200; 10]),
        api(M::GET, "/api/v1/room-types/{room_type_a}", [200; 10]),
        api(M::PATCH, "/api/v1/room-types/{room_type_a}", [401, 404, 404, 200, 404, 200, 200, 403, 403, 403])
            .json(r#"{"name": "Broom cupboard"}"#)
            .changes(),
        api(
            M::GET,
            "/api/v1/room-types/{room_type_a}/calendar?from=2027-02-01&to=2027-02-10",
            [401, 404, 404, 200, 404, 200, 200, 200, 200, 200],
        ),
        api(M::PUT, "/api/v1/room-types/{room_type_a}/calendar", [401, 404, 404, 204, 404, 204, 204, 403, 403, 204])
            .json(r#"{"from": "2027-02-20", "to": "2027-02-22", "price": 99900, "closed": true}"#)
            .changes(),
        api(M::GET, "/api/v1/tenant-data", [401, 403, 403, 200, 200, 403, 403, 403, 403, 403]),
        api(M::GET, "/api/v1/tenant-data/{bookings_csv}", [401, 403, 403, 200, 200, 403, 403, 403, 403, 403]),
        api(M::POST, "/api/v1/tenant-data/{rates_csv}", [401, 404, 404, 200, 404, 200, 200, 403, 403, 200])
            .csv("room_type_id,night,price_minor\n{room_type_a},2027-02-24,12300\n")
            .changes(),
        api(M::POST, "/api/v1/tenant-data", [401, 403, 403, 201, 201, 403, 403, 403, 403, 403])
            .note("an empty document")
            .json(r#"{"format": "innkeep-tenant", "version": 1, "exported_at": "2027-01-04T10:00:00Z", "tenant_id": "{tenant_a}", "properties": [], "room_types": [], "rates": [], "bookings": []}"#)
            .changes(),
        api(M::PUT, "/api/v1/properties/{property_a}/ota-codes", [401, 404, 404, 200, 404, 200, 200, 403, 403, 403])
            .json(r#"{"hotel_code": "{hotel_a}", "room_types": {"DBL": "{room_type_a}"}}"#)
            .changes(),
        api(M::GET, "/api/v1/properties/{property_a}/ota-codes", [401, 404, 404, 200, 404, 200, 200, 200, 200, 200]),
        api(M::POST, "/api/v1/room-types/{room_type_a}/ical-export", [401, 404, 404, 201, 404, 201, 201, 403, 403, 201])
            .changes(),
        api(M::GET, "/api/v1/room-types/{room_type_a}/ical-export", [401, 404, 404, 200, 404, 200, 200, 200, 200, 200]),
        api(M::DELETE, "/api/v1/room-types/{room_type_a}/ical-export", [401, 404, 404, 204, 404, 204, 204, 403, 403, 204])
            .changes(),
        api(M::POST, "/api/v1/room-types/{room_type_a}/ical-feeds", [401, 404, 404, 201, 404, 201, 201, 403, 403, 201])
            .json(r#"{"name": "Another channel", "url": "https://calendar.example.com/b.ics"}"#)
            .changes(),
        api(M::GET, "/api/v1/room-types/{room_type_a}/ical-feeds", [401, 404, 404, 200, 404, 200, 200, 200, 200, 200])
            .shows("feed_a", [N, N, N, Y, N, Y, Y, Y, Y, Y]),
        api(M::GET, "/api/v1/ical-feeds/{feed_a}", [401, 404, 404, 200, 404, 200, 200, 200, 200, 200])
            .shows("feed_a", [N, N, N, Y, N, Y, Y, Y, Y, Y]),
        api(M::POST, "/api/v1/ical-feeds/{feed_a}/sync", [401, 404, 404, 202, 404, 202, 202, 403, 403, 202]).changes(),
        api(M::DELETE, "/api/v1/ical-feeds/{feed_a}", [401, 404, 404, 204, 404, 204, 204, 403, 403, 204]).changes(),
        api(
            M::GET,
            "/api/v1/availability?property_id={property_a}&check_in=2027-02-15&check_out=2027-02-17",
            [200; 10],
        ),
        api(M::GET, "/api/v1/search?destination=Lisbon&check_in=2027-02-15&check_out=2027-02-17", [200; 10]),
        api(M::GET, "/api/v1/places?q=Lisb", [200; 10]),
        api(M::GET, "/api/v1/places/reverse?lat=38.71&lon=-9.14", [200; 10]),
        api(M::POST, "/api/v1/bookings", [401, 201, 201, 201, 201, 201, 201, 201, 201, 403]).json(NEW_BOOKING).changes(),
        api(M::POST, "/api/v1/bookings", [401, 200, 201, 201, 201, 201, 201, 201, 201, 403])
            .note("guest A's Idempotency-Key and body")
            .json(HOLD)
            .header("Idempotency-Key", "{hold_key_a}")
            .shows("held_a", [N, Y, N, N, N, N, N, N, N, N])
            .changes(),
        api(M::GET, "/api/v1/bookings", [401, 200, 200, 200, 200, 200, 200, 200, 200, 200])
            .shows("held_a", [N, Y, N, Y, N, Y, Y, Y, Y, Y])
            .shows("booking_b", [N, N, Y, N, Y, Y, N, N, N, N]),
        api(M::GET, "/api/v1/bookings?property_id={property_a}", [401, 200, 200, 200, 200, 200, 200, 200, 200, 200])
            .shows("held_a", [N, Y, N, Y, N, Y, Y, Y, Y, Y]),
        api(M::GET, "/api/v1/bookings/{held_a}", [401, 200, 404, 200, 404, 200, 200, 200, 200, 200]).shows("held_a", [N, Y, N, Y, N, Y, Y, Y, Y, Y]),
        api(M::POST, "/api/v1/bookings/{held_a}/confirm", [401, 200, 404, 200, 404, 200, 200, 403, 403, 200]).changes(),
        api(M::POST, "/api/v1/bookings/{held_a}/cancel", [401, 200, 404, 200, 404, 200, 200, 403, 403, 200]).note("held").changes(),
        api(M::POST, "/api/v1/bookings/{confirmed_a}/cancel", [401, 200, 404, 200, 404, 200, 200, 403, 403, 200])
            .note("confirmed")
            .changes(),
        api(M::POST, "/api/v1/bookings/{confirmed_a}/check-in", [401, 403, 404, 200, 404, 200, 200, 200, 403, 403]).changes(),
        api(M::POST, "/api/v1/bookings/{checked_in_a}/complete", [401, 403, 404, 200, 404, 200, 200, 200, 403, 403]).changes(),
        api(M::POST, "/api/v1/bookings/{confirmed_a}/no-show", [401, 403, 404, 200, 404, 200, 200, 200, 403, 403]).changes(),
        api(M::POST, "/api/v1/bookings/{completed_a}/review", [401, 201, 404, 404, 404, 404, 404, 404, 404, 403])
            .note("the guest of a completed stay reviews it")
            .json(REVIEW)
            .changes(),
        api(M::GET, "/api/v1/properties/{property_a}/reviews", [200; 10]),
        api(M::GET, "/api/v1/reviews/{review_a}", [200; 10]),
        api(M::POST, "/api/v1/reviews/{review_a}/reply", [401, 404, 404, 200, 404, 403, 200, 403, 403, 403])
            .json(r#"{"text": "Thank you for staying."}"#)
            .changes(),
        api(M::POST, "/api/v1/reviews/{review_a}/reports", [401, 204, 204, 204, 204, 204, 204, 204, 204, 403])
            .json(r#"{"reason": "spam"}"#)
            .changes(),
        api(M::PUT, "/api/v1/reviews/{review_a}/hidden", [401, 403, 403, 403, 403, 200, 403, 403, 403, 403]).changes(),
        api(M::DELETE, "/api/v1/reviews/{review_a}/hidden", [401, 403, 403, 403, 403, 200, 403, 403, 403, 403]).changes(),
        api(M::POST, "/api/v1/bookings/{held_a}/payments", [401, 201, 404, 403, 404, 403, 403, 403, 403, 403])
            .json(r#"{"method": "bank_transfer"}"#)
            .header("Idempotency-Key", "authz-pay-key")
            .changes(),
        api(M::GET, "/api/v1/bookings/{paying_a}/payments", [401, 200, 404, 200, 404, 200, 200, 403, 200, 403])
            .shows("payment_a", [N, Y, N, Y, N, Y, Y, N, Y, N]),
        api(M::GET, "/api/v1/payments/{payment_a}", [401, 200, 404, 200, 404, 200, 200, 403, 200, 403])
            .shows("payment_a", [N, Y, N, Y, N, Y, Y, N, Y, N]),
        api(M::POST, "/api/v1/payments/{payment_a}/refunds", [401, 403, 404, 409, 404, 409, 409, 403, 403, 403])
            .note("an open payment: nothing to refund yet")
            .json(r#"{"amount": 100}"#)
            .header("Idempotency-Key", "authz-refund"),
        api(M::GET, "/api/v1/payments/{payment_a}/refunds", [401, 200, 404, 200, 404, 200, 200, 403, 200, 403]),
        api(M::POST, "/api/v1/payments/statements", [401, 403, 403, 403, 403, 200, 403, 403, 403, 403])
            .note("a transfer quoting another payment's reference")
            .csv("date,amount,currency,reference\n2027-01-05,1.00,EUR,unknown transfer\n")
            .header("Idempotency-Key", "authz-statement")
            .changes(),
        api(M::GET, "/api/v1/payments/statement-lines", [401, 403, 403, 403, 403, 200, 403, 403, 403, 403]),
        api(
            M::POST,
            "/api/v1/payments/statement-lines/{nothing}/match",
            [401, 403, 403, 403, 403, 404, 403, 403, 403, 403],
        )
        .note("a line that is not there: only admins get to find that out")
        .json(r#"{"payment_id": "01a2e024-3900-7000-8000-0000000000ab"}"#)
        .header("Idempotency-Key", "authz-match"),
        api(M::PUT, "/api/v1/tenants/{tenant_a}/commission", [401, 403, 403, 403, 403, 200, 403, 403, 403, 403])
            .json(r#"{"rate_bp": 1200}"#)
            .changes(),
        api(M::GET, "/api/v1/tenants/{tenant_a}/commission", [401, 404, 404, 200, 404, 200, 200, 403, 200, 403]),
        api(M::GET, "/api/v1/invoices", [401, 403, 403, 200, 200, 200, 200, 403, 200, 403]),
        api(M::GET, "/api/v1/invoices/{nothing}", [401, 404, 404, 404, 404, 404, 404, 404, 404, 404])
            .note("no such invoice; another tenant's is 404 too (tests/billing.rs)"),
        api(M::GET, "/api/v1/payouts", [401, 403, 403, 200, 200, 200, 200, 403, 200, 403]),
        api(M::PUT, "/api/v1/payouts/account", [401, 403, 403, 200, 200, 403, 403, 403, 403, 403])
            .json(r#"{"name": "Casa Azul Lda", "iban": "GB82 WEST 1234 5698 7654 32"}"#)
            .changes(),
        api(M::GET, "/api/v1/payouts/batches/{nothing}?format=csv", [401, 403, 403, 403, 403, 404, 403, 403, 403, 403])
            .note("no such batch"),
        api(M::POST, "/api/v1/payments/webhooks/stripe", [404; 10])
            .note("no card provider here; with one, only the provider's signature admits an event (tests/card_payments.rs)")
            .json(r#"{"id": "evt_1", "type": "payment_intent.succeeded"}"#),
        api(M::POST, "/api/v1/webhooks", [401, 403, 403, 201, 201, 400, 403, 403, 403, 403])
            .note("an admin must name the tenant")
            .json(r#"{"url": "https://hooks.example.com/innkeep", "events": ["booking.confirmed"]}"#)
            .changes(),
        api(M::POST, "/api/v1/webhooks", [401, 403, 403, 403, 201, 201, 403, 403, 403, 403])
            .note("naming tenant B")
            .json(r#"{"url": "https://hooks.example.com/innkeep", "events": ["booking.confirmed"], "tenant_id": "{tenant_b}"}"#)
            .changes(),
        api(M::GET, "/api/v1/webhooks", [401, 403, 403, 200, 200, 200, 403, 403, 403, 403]).shows("webhook_a", [N, N, N, Y, N, Y, N, N, N, N]),
        api(M::GET, "/api/v1/webhooks/{webhook_a}", [401, 404, 404, 200, 404, 200, 404, 404, 404, 404])
            .shows("webhook_a", [N, N, N, Y, N, Y, N, N, N, N]),
        api(M::GET, "/api/v1/webhooks/{webhook_a}/deliveries", [401, 404, 404, 200, 404, 200, 404, 404, 404, 404]),
        api(M::DELETE, "/api/v1/webhooks/{webhook_a}", [401, 404, 404, 204, 404, 204, 404, 404, 404, 404]).changes(),
        api(M::GET, "/api/v1/notifications", [401, 403, 403, 200, 200, 200, 200, 403, 403, 403]),
        api(M::POST, "/api/v1/events", [202; 10]).json(EVENTS),
        //                                           anon gst A gst B hst A hst B admin  mgr desk acct  key
        api(M::GET, "/api/v1/team", [401, 403, 403, 200, 200, 403, 403, 403, 403, 403])
            .shows("spare_a", [N, N, N, Y, N, N, N, N, N, N]),
        api(M::POST, "/api/v1/team/invitations", [401, 403, 403, 201, 201, 403, 403, 403, 403, 403])
            .json(r#"{"email": "invitee{unique}@example.com", "role": "front_desk"}"#)
            .changes(),
        api(M::DELETE, "/api/v1/team/invitations/{nothing}", [401, 403, 403, 404, 404, 403, 403, 403, 403, 403])
            .note("no such invitation"),
        api(M::POST, "/api/v1/invitations/accept", [400; 10])
            .note("an unknown token")
            .json(r#"{"token": "00112233445566778899aabbccddeeff", "name": "X", "password": "correct horse battery"}"#),
        api(M::PATCH, "/api/v1/team/members/{spare_a}", [401, 403, 403, 204, 404, 403, 403, 403, 403, 403])
            .note("to the role it has")
            .json(r#"{"role": "front_desk"}"#)
            .changes(),
        api(M::DELETE, "/api/v1/team/members/{spare_a}", [401, 403, 403, 204, 404, 403, 403, 403, 403, 403]).changes(),
        api(M::POST, "/api/v1/api-keys", [401, 403, 403, 201, 201, 403, 403, 403, 403, 403])
            .json(r#"{"name": "Reporting", "scopes": ["read"]}"#)
            .changes(),
        api(M::GET, "/api/v1/api-keys", [401, 403, 403, 200, 200, 403, 403, 403, 403, 403])
            .shows("key_a", [N, N, N, Y, N, N, N, N, N, N]),
        api(M::DELETE, "/api/v1/api-keys/{spare_key_a}", [401, 403, 403, 204, 404, 403, 403, 403, 403, 403]).changes(),
        api(M::GET, "/api/v1/openapi.json", [200; 10]),
        api(M::GET, "/api/v1/me/two-factor", [401, 200, 200, 200, 200, 200, 200, 200, 200, 403]),
        api(M::POST, "/api/v1/me/two-factor", [401, 201, 201, 201, 201, 409, 201, 201, 201, 403])
            .note("an admin has it already"),
        api(M::POST, "/api/v1/me/two-factor/confirm", [401, 400, 400, 400, 400, 409, 400, 400, 400, 403])
            .note("a wrong code")
            .json(r#"{"code": "000000"}"#),
        api(M::DELETE, "/api/v1/me/two-factor", [401, 400, 400, 400, 400, 400, 400, 400, 400, 403])
            .note("a wrong password")
            .json(r#"{"password": "not the password at all"}"#),
        api(M::GET, "/api/v1/audit", [401, 403, 403, 200, 200, 200, 403, 403, 403, 403]),
        api(M::GET, "/api/v1/analytics/reports/{report}", [401, 403, 403, 200, 200, 200, 200, 403, 200, 403])
            .note("occupancy: a host's own tenant; members who may see its money"),
        api(M::GET, "/api/v1/analytics/reports/occupancy?tenant_id={tenant_b}", [401, 403, 403, 403, 200, 200, 403, 403, 403, 403]),
        api(M::GET, "/api/v1/analytics/reports/funnel", [401, 403, 403, 403, 403, 200, 403, 403, 403, 403]),
        api(M::GET, "/api/v1/history/bookings?q=guest", [401, 403, 403, 200, 200, 200, 200, 200, 200, 200])
            .note("a host's staff who may see bookings, over their own tenant"),
        api(M::GET, "/api/v1/history/bookings?tenant_id={tenant_b}", [401, 403, 403, 403, 200, 200, 403, 403, 403, 403]),
        api(M::GET, "/api/v1/recommendations", [200; 10]).note("a guest's own; popular stays for anyone else"),
        api(M::GET, "/api/v1/properties/{property_a}/similar", [200; 10]),
        api(M::GET, "/api/v1/trending?window=day", [200; 10]),
        api(M::POST, "/api/v1/analytics/sql", [401, 403, 403, 403, 403, 200, 403, 403, 403, 403])
            .json(r#"{"query": "SELECT COUNT(*) FROM bookings"}"#),
        api(M::GET, "/api/v1/ops/access-bursts", [401, 403, 403, 403, 403, 200, 403, 403, 403, 403]),
        api(M::GET, "/api/v1/ops/users?q=example", [401, 403, 403, 403, 403, 200, 403, 403, 403, 403]),
        api(M::GET, "/api/v1/ops/tenants", [401, 403, 403, 403, 403, 200, 403, 403, 403, 403]),
        api(M::PUT, "/api/v1/ops/users/{nothing}/suspension", [401, 403, 403, 403, 403, 404, 403, 403, 403, 403])
            .note("no such user"),
        api(M::DELETE, "/api/v1/ops/users/{nothing}/suspension", [401, 403, 403, 403, 403, 404, 403, 403, 403, 403])
            .note("no such user"),
        api(M::PUT, "/api/v1/ops/tenants/{nothing}/suspension", [401, 403, 403, 403, 403, 404, 403, 403, 403, 403])
            .note("no such tenant"),
        api(M::DELETE, "/api/v1/ops/tenants/{nothing}/suspension", [401, 403, 403, 403, 403, 404, 403, 403, 403, 403])
            .note("no such tenant"),
    ]
}

const NEW_ROOM_FORM: &[(&str, &str)] = &[
    ("name", "Annex"),
    ("units", "1"),
    ("max_adults", "2"),
    ("max_children", "0"),
    ("max_total", "2"),
    ("min_stay", "1"),
    ("max_stay", "30"),
    ("beds", "1 bed"),
    ("base_rate", "50.00"),
];
/// A load profile with its own capacity, for the operators' cost page.
const COST_PROFILE: &str = "name = \"authz\"\n[load]\nbookings_per_day = 100\npeak_bookings_per_hour = 20\n\
    peak_searches_per_s = 2\nclient_events_per_day = 1000\nproperties = 10\nphotos_per_property = 1\nphoto_mb = 1\n\
    database_gb = 1\ndata_growth_gb_per_month = 0\nretention_months = 1\navailability_target_pct = 99.9\nregions = 1\n\
    [capacity]\nbookings_per_s = 100\nsearch_req_per_s = 100\navailability_req_per_s = 100\nevents_per_s = 1000\n";
const REVIEW_FORM: &[(&str, &str)] =
    &[("cleanliness", "9"), ("location", "9"), ("value", "8"), ("staff", "9"), ("comfort", "9"), ("text", "Nice.")];
const CALENDAR_FORM: &[(&str, &str)] = &[("from", "2027-02-20"), ("to", "2027-02-21"), ("price", "999.00")];

/// The web pages of hosts and guests that show or change host A's and guest A's things.
/// The host pages are for hosts only (403 for guests and admins, whose tools are the API
/// and /ops), another tenant's object is 404, and anonymous visitors are sent to sign in.
fn page_rows() -> Vec<Row> {
    use Method as M;
    vec![
        //                                                                   anon gst A gst B hst A hst B admin
        page(M::GET, "/host", [303, 403, 403, 200, 200, 403, 200, 200, 200, 303])
            .shows("property_a", [N, N, N, Y, N, N, Y, Y, Y, N]),
        page(M::GET, "/host/properties/{property_a}", [303, 403, 403, 200, 404, 403, 200, 200, 200, 303]),
        page(M::POST, "/host/properties/{property_a}", [303, 403, 403, 303, 404, 403, 303, 403, 403, 403])
            .note("add a room type")
            .form(NEW_ROOM_FORM)
            .changes(),
        page(M::POST, "/host/properties/{property_a}/photos", [303, 403, 403, 303, 404, 403, 303, 403, 403, 403])
            .photo_form()
            .changes(),
        page(M::POST, "/host/properties/locate", [303, 403, 403, 422, 422, 403, 422, 422, 422, 403])
            .note("find a city for the new-property form: nothing is saved"),
        page(M::GET, "/host/room-types/{room_type_a}/calendar", [303, 403, 403, 200, 404, 403, 200, 200, 200, 303]),
        page(M::POST, "/host/room-types/{room_type_a}/calendar", [303, 403, 403, 303, 404, 403, 303, 403, 403, 403])
            .form(CALENDAR_FORM)
            .changes(),
        page(M::GET, "/host/bookings", [303, 403, 403, 200, 200, 403, 200, 200, 200, 303])
            .shows("held_a", [N, N, N, Y, N, N, Y, Y, Y, N]),
        page(M::GET, "/host/bookings?property={property_a}", [303, 403, 403, 200, 200, 403, 200, 200, 200, 303])
            .shows("held_a", [N, N, N, Y, N, N, Y, Y, Y, N]),
        page(M::GET, "/host/bookings.csv", [303, 403, 403, 200, 200, 403, 200, 200, 200, 303])
            .shows("held_a", [N, N, N, Y, N, N, Y, Y, Y, N]),
        page(M::POST, "/host/bookings/{held_a}/confirm", [303, 403, 403, 303, 404, 403, 303, 403, 403, 403]).changes(),
        page(M::GET, "/host/bookings/{confirmed_a}/cancel", [303, 403, 403, 200, 404, 403, 200, 403, 403, 303])
            .note("the question before cancelling"),
        page(M::POST, "/host/bookings/{confirmed_a}/cancel", [303, 403, 403, 303, 404, 403, 303, 403, 403, 403])
            .form(&[("confirm", "yes")])
            .changes(),
        page(M::POST, "/host/bookings/{confirmed_a}/check-in", [303, 403, 403, 303, 404, 403, 303, 303, 403, 403])
            .changes(),
        page(M::POST, "/host/bookings/{checked_in_a}/complete", [303, 403, 403, 303, 404, 403, 303, 303, 403, 403])
            .changes(),
        page(M::POST, "/host/bookings/{confirmed_a}/no-show", [303, 403, 403, 303, 404, 403, 303, 303, 403, 403])
            .changes(),
        page(M::GET, "/properties/{property_a}", [200; 10]),
        page(M::GET, "/checkout/{held_a}", [303, 200, 404, 200, 404, 200, 200, 403, 200, 303])
            .note("front desk: it shows payments"),
        page(M::POST, "/checkout/{held_a}/confirm", [303, 303, 404, 303, 404, 303, 303, 403, 403, 403]).changes(),
        page(M::GET, "/trips", [303, 200, 200, 200, 200, 200, 200, 200, 200, 303])
            .shows("held_a", [N, Y, N, N, N, N, N, N, N, N]),
        page(M::GET, "/trips/{confirmed_a}", [303, 200, 404, 404, 404, 404, 404, 404, 404, 303]),
        page(M::GET, "/trips/{confirmed_a}/calendar.ics", [303, 200, 404, 404, 404, 404, 404, 404, 404, 303]),
        page(M::GET, "/trips/{confirmed_a}/receipt", [303, 200, 404, 404, 404, 404, 404, 404, 404, 303]),
        page(M::POST, "/host/reviews/{review_a}/reply", [303, 403, 403, 303, 404, 403, 303, 403, 403, 403])
            .form(&[("text", "Thank you for staying.")])
            .changes(),
        page(M::POST, "/trips/{completed_a}/review", [303, 303, 404, 404, 404, 404, 404, 404, 404, 403])
            .form(REVIEW_FORM)
            .changes(),
        page(M::GET, "/trips/{confirmed_a}/cancel", [303, 200, 404, 200, 404, 200, 200, 200, 200, 303]),
        page(M::POST, "/trips/{confirmed_a}/cancel", [303, 303, 404, 303, 404, 303, 303, 403, 403, 403]).changes(),
        page(M::POST, "/checkout/{held_a}/pay", [303, 303, 404, 403, 404, 403, 403, 403, 403, 403])
            .note("by bank transfer: only the booking's guest pays")
            .form(&[("method", "bank_transfer")])
            .changes(),
        page(M::GET, "/host/messages", [303, 403, 403, 200, 200, 403, 200, 403, 403, 303]),
        page(M::GET, "/host/money", [303, 403, 403, 200, 200, 403, 200, 403, 200, 303]),
        page(M::POST, "/host/money", [303, 403, 403, 303, 303, 403, 403, 403, 403, 403])
            .note("each host sets its own tenant's payout account")
            .form(&[("name", "Casa Azul Lda"), ("iban", "GB82 WEST 1234 5698 7654 32")])
            .changes(),
        page(M::GET, "/host/invoices/{nothing}", [303, 403, 403, 404, 404, 403, 404, 404, 404, 303]),
        page(M::GET, "/host/team", [303, 403, 403, 200, 200, 403, 403, 403, 403, 303]),
        page(M::POST, "/host/team/invitations", [303, 403, 403, 303, 303, 403, 403, 403, 403, 403])
            .form(&[("email", "invitee{unique}@example.com"), ("role", "front_desk")])
            .changes(),
        page(M::GET, "/join?token=unknown", [200; 10]).note("the form only: a GET spends nothing"),
        page(M::GET, "/account", [303, 200, 200, 200, 200, 200, 200, 200, 200, 303]),
        page(M::GET, "/account/export", [303, 200, 200, 200, 200, 200, 200, 200, 200, 303])
            .shows("guest_a_user", [N, Y, N, N, N, N, N, N, N, N]),
        page(M::POST, "/account/delete", [303, 422, 422, 422, 422, 422, 422, 422, 422, 403])
            .note("a wrong password")
            .form(&[("delete_password", "not the password at all"), ("confirm", "delete")]),
        page(M::GET, "/ops/people", [303, 403, 403, 403, 403, 200, 403, 403, 403, 303]),
        page(M::POST, "/ops/people/users/{nothing}/suspend", [303, 403, 403, 403, 403, 404, 403, 403, 403, 403])
            .note("no such user"),
        page(M::GET, "/ops", [303, 403, 403, 403, 403, 200, 403, 403, 403, 303]),
        page(M::GET, "/ops/cost", [303, 403, 403, 403, 403, 200, 403, 403, 403, 303]),
        page(M::GET, "/ops/history?q=guest", [303, 403, 403, 403, 403, 200, 403, 403, 403, 303]),
        page(M::GET, "/ops/analytics", [303, 403, 403, 403, 403, 200, 403, 403, 403, 303]),
        page(M::GET, "/host/analytics", [303, 403, 403, 200, 200, 403, 200, 403, 200, 303]),
        page(M::POST, "/ops/cost", [303, 403, 403, 403, 403, 200, 403, 403, 403, 403])
            .note("a pasted profile is priced, nothing is stored")
            .form(&[("profile", COST_PROFILE)]),
    ]
}

/// The actors' credentials: a bearer token (also the session cookie of the pages) and the
/// CSRF token the pages give each of them.
struct Cast {
    emails: [String; 10],
    tokens: [Option<String>; 10],
    csrf: [String; 10],
    /// The anonymous visitor's pre-session cookie, to which its CSRF token is bound.
    anonymous_seed: String,
    /// The admin's two-factor recovery codes, one per sign-in after the first.
    admin_codes: std::sync::Mutex<Vec<String>>,
}

impl Cast {
    fn token(&self, who: Who) -> Option<&str> {
        self.tokens[who.index()].as_deref()
    }
}

async fn sign_in(app: &TestApp, email: &str) -> String {
    sign_in_with(app, email, None).await
}

/// Sign in with a two-factor code (an admin's, after the first sign-in).
async fn sign_in_with(app: &TestApp, email: &str, code: Option<String>) -> String {
    let r = app.post("/api/v1/sessions", None, json!({"email": email, "password": PASSWORD, "code": code})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["token"].as_str().expect("token").to_string()
}

async fn sign_up(app: &TestApp, email: &str, role: Role) {
    if role == Role::Admin {
        // Admins are made by the operator (`innkeep admin create-user`), not by the API.
        let ports = &app.server.as_ref().expect("server").ports;
        let cmd = Register {
            email: email.into(),
            password: PASSWORD.into(),
            name: "Olga Operator".into(),
            role,
            locale: Default::default(),
        };
        register(ports, cmd, app.clock.now_for_tests()).await.expect("admin registered");
        return;
    }
    let body = json!({"email": email, "password": PASSWORD, "name": "Test User", "role": role.as_str()});
    let r = app.post("/api/v1/users", None, body).await;
    assert_eq!(r.status, 201, "{}", r.body);
}

/// A new member of the owner's tenant with `role`, by an invitation accepted (the
/// invitation is written straight to the store: its e-mail is tested in tests/team.rs).
async fn join(app: &TestApp, owner: &str, email: &str, role: StaffRole) -> String {
    let me = app.get("/api/v1/me", Some(owner)).await;
    let tenant: innkeep_core::TenantId = me.body["tenant_id"].as_str().expect("tenant").parse().expect("tenant id");
    let owner_id: innkeep_core::UserId = me.body["user_id"].as_str().expect("user").parse().expect("user id");
    let ports = &app.server.as_ref().expect("server").ports;
    let now = app.clock.now_for_tests();
    let token = format!("invitation-{}", uuid::Uuid::now_v7().simple());
    let invitation = innkeep_app::team::Invitation {
        id: uuid::Uuid::now_v7(),
        tenant_id: tenant,
        email: innkeep_core::Email::parse(email).expect("address"),
        role,
        invited_by: owner_id,
        created_at: now,
        expires_at: now.checked_add(innkeep_app::team::INVITATION_TTL).expect("expiry"),
    };
    ports.store.add_invitation(&invitation, &innkeep_app::auth::token_hash(&token)).await.expect("invitation kept");
    let user = innkeep_app::team::accept(ports, &token, "Staff Member", PASSWORD, Default::default(), now)
        .await
        .expect("invitation accepted");
    user.id.to_string()
}

/// The value of the first hidden `csrf` input of a page.
fn csrf_input(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let at = html.find(marker).unwrap_or_else(|| panic!("no csrf input in {html}")) + marker.len();
    html[at..at + html[at..].find('"').expect("end of value")].to_string()
}

async fn cast(app: &TestApp, client: &Client) -> Cast {
    let roles = [Role::Guest, Role::Guest, Role::Host, Role::Host, Role::Admin];
    assert_eq!(ACTORS[1..6], [Who::GuestA, Who::GuestB, Who::HostA, Who::HostB, Who::Admin]);
    let mut emails: [String; 10] = Default::default();
    let mut tokens: [Option<String>; 10] = Default::default();
    let mut csrf: [String; 10] = Default::default();
    let mut host_a = String::new();
    let mut admin_codes = Vec::new();
    for (i, who) in ACTORS.into_iter().enumerate().skip(1) {
        let email = format!("{}@example.com", who.label().replace(' ', "-"));
        let token = match (who, who.staff()) {
            (Who::KeyA, _) => {
                let body = json!({"name": "Channel manager", "scopes": ["channel"]});
                let r = app.post("/api/v1/api-keys", Some(&host_a), body).await;
                assert_eq!(r.status, 201, "{}", r.body);
                tokens[i] = Some(r.body["key"].as_str().expect("key").to_string());
                continue;
            }
            (_, Some(role)) => {
                join(app, &host_a, &email, role).await;
                sign_in(app, &email).await
            }
            _ => {
                sign_up(app, &email, roles[i - 1]).await;
                sign_in(app, &email).await
            }
        };
        if who == Who::HostA {
            host_a = token.clone();
        }
        if who == Who::Admin {
            admin_codes = common::enrol_two_factor(app, &token).await;
        }
        let home = client
            .get(app.url("/"))
            .header(header::COOKIE, format!("innkeep_session={token}"))
            .send()
            .await
            .expect("home page");
        csrf[i] = csrf_input(&home.text().await.expect("home page body"));
        emails[i] = email;
        tokens[i] = Some(token);
    }
    let signin = client.get(app.url("/signin")).send().await.expect("sign-in page");
    let anonymous_seed = signin
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("innkeep_csrf="))
        .and_then(|c| c.split(';').next())
        .expect("a pre-session cookie")
        .to_string();
    csrf[0] = csrf_input(&signin.text().await.expect("sign-in page body"));
    // A key on the pages is a signed-out visitor: it sends the visitor's form token too.
    csrf[Who::KeyA.index()] = csrf[0].clone();
    Cast { emails, tokens, csrf, anonymous_seed, admin_codes: std::sync::Mutex::new(admin_codes) }
}

/// The values a row's placeholders name.
#[derive(Clone, Default)]
struct World(BTreeMap<&'static str, String>);

impl World {
    fn get(&self, name: &str) -> &str {
        self.0.get(name).map(String::as_str).unwrap_or_else(|| panic!("the world has no {name}"))
    }

    fn fill(&self, template: &str) -> String {
        let mut out = template.to_string();
        for (name, value) in &self.0 {
            out = out.replace(&format!("{{{name}}}"), value);
        }
        out
    }
}

async fn upload_photo(app: &TestApp, host: &str, property: &str) -> String {
    let r = app
        .client
        .post(app.url(&format!("/api/v1/properties/{property}/photos")))
        .bearer_auth(host)
        .header(header::CONTENT_TYPE, "image/png")
        .body(PNG.to_vec())
        .send()
        .await
        .expect("upload sent");
    let r = common::Reply::from(r).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().expect("photo id").to_string()
}

async fn booking(app: &TestApp, guest: &str, room_type: &str, check_in: &str, check_out: &str) -> String {
    let r = app.book(guest, room_type, check_in, check_out, None).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().expect("booking id").to_string()
}

async fn act(app: &TestApp, token: &str, booking: &str, action: &str) {
    let r = app.post(&format!("/api/v1/bookings/{booking}/{action}"), Some(token), json!({})).await;
    assert_eq!(r.status, 200, "{action}: {}", r.body);
}

/// Host A's property (with a room type, a calendar change and a photo) and guest A's
/// bookings on it: held (placed with an Idempotency-Key and the body `HOLD`), confirmed
/// and checked in.
async fn objects_of_a(app: &TestApp, cast: &Cast, n: usize) -> Vec<(&'static str, String)> {
    let host = cast.token(Who::HostA).expect("host A");
    let guest = cast.token(Who::GuestA).expect("guest A");
    let property = app.property(host, "flexible").await;
    let room_type = app.room_type(host, &property, 5).await;
    let calendar = json!({"from": "2027-02-20", "to": "2027-02-23", "price": 15000});
    let r =
        app.call(Method::PUT, &format!("/api/v1/room-types/{room_type}/calendar"), Some(host), Some(calendar)).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let photo = upload_photo(app, host, &property).await;
    let tenant = app.get(&format!("/api/v1/properties/{property}"), None).await.body["tenant_id"]
        .as_str()
        .expect("tenant id")
        .to_string();
    let key = format!("hold-a-{n}");
    let r = app.book(guest, &room_type, "2027-02-01", "2027-02-03", Some(&key)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let held = r.body["id"].as_str().expect("booking id").to_string();
    let confirmed = booking(app, guest, &room_type, "2027-02-05", "2027-02-07").await;
    act(app, guest, &confirmed, "confirm").await;
    let checked_in = booking(app, guest, &room_type, "2027-02-08", "2027-02-10").await;
    act(app, guest, &checked_in, "confirm").await;
    act(app, host, &checked_in, "check-in").await;
    // Two completed stays: one to review, one reviewed.
    let mut completed = Vec::new();
    for (check_in, check_out) in [("2027-02-14", "2027-02-16"), ("2027-02-17", "2027-02-19")] {
        let b = booking(app, guest, &room_type, check_in, check_out).await;
        act(app, guest, &b, "confirm").await;
        act(app, host, &b, "check-in").await;
        act(app, host, &b, "complete").await;
        completed.push(b);
    }
    let r = app
        .post(
            &format!("/api/v1/bookings/{}/review", completed[1]),
            Some(guest),
            serde_json::from_str::<Value>(REVIEW).expect("a review body"),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let review = r.body["id"].as_str().expect("review id").to_string();
    let paying = booking(app, guest, &room_type, "2027-02-11", "2027-02-13").await;
    let r = app
        .client
        .post(app.url(&format!("/api/v1/bookings/{paying}/payments")))
        .bearer_auth(guest)
        .header("Idempotency-Key", format!("pay-a-{n}"))
        .json(&json!({"method": "bank_transfer"}))
        .send()
        .await
        .expect("payment sent");
    let r = common::Reply::from(r).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let payment = r.body["id"].as_str().expect("payment id").to_string();
    // A tenant may have only so many webhooks: a fresh copy's replaces the last copy's,
    // and the world's own (the oldest) stays.
    let hooks = app.get("/api/v1/webhooks", Some(host)).await.body.as_array().cloned().unwrap_or_default();
    for old in hooks.iter().skip(1) {
        let id = old["id"].as_str().expect("webhook id");
        let r = app.call(Method::DELETE, &format!("/api/v1/webhooks/{id}"), Some(host), None).await;
        assert_eq!(r.status, 204, "{}", r.body);
    }
    let hook = json!({"url": "https://hooks.example.com/a", "events": ["booking.confirmed", "booking.cancelled"]});
    let r = app.post("/api/v1/webhooks", Some(host), hook).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let webhook = r.body["id"].as_str().expect("webhook id").to_string();
    let r = app.post(&format!("/api/v1/room-types/{room_type}/ical-export"), Some(host), json!({})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let feed = json!({"name": "Elsewhere", "url": "https://calendar.example.com/a.ics"});
    let r = app.post(&format!("/api/v1/room-types/{room_type}/ical-feeds"), Some(host), feed).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let feed = r.body["id"].as_str().expect("feed id").to_string();
    let hotel = format!("HOTEL-A-{n}");
    let codes = json!({"hotel_code": hotel, "room_types": {"DBL": room_type}});
    let r = app.call(Method::PUT, &format!("/api/v1/properties/{property}/ota-codes"), Some(host), Some(codes)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    vec![
        ("feed_a", feed),
        ("hotel_a", hotel),
        ("bookings_csv", "bookings.csv".to_string()),
        ("rates_csv", "rates.csv".to_string()),
        ("webhook_a", webhook),
        ("property_a", property),
        ("tenant_a", tenant),
        ("nothing", uuid::Uuid::nil().to_string()),
        ("report", "occupancy".to_string()),
        ("room_type_a", room_type),
        ("photo_a", photo),
        ("hold_key_a", key),
        ("held_a", held),
        ("confirmed_a", confirmed),
        ("checked_in_a", checked_in),
        ("paying_a", paying),
        ("completed_a", completed[0].clone()),
        ("review_a", review),
        ("payment_a", payment),
    ]
}

async fn world(app: &TestApp, cast: &Cast) -> World {
    let mut w = World::default();
    w.0.extend(objects_of_a(app, cast, 0).await);
    let host_b = cast.token(Who::HostB).expect("host B");
    let property_b = app.property(host_b, "moderate").await;
    let room_type_b = app.room_type(host_b, &property_b, 2).await;
    w.0.insert("photo_b", upload_photo(app, host_b, &property_b).await);
    let guest_b = cast.token(Who::GuestB).expect("guest B");
    w.0.insert("booking_b", booking(app, guest_b, &room_type_b, "2027-02-01", "2027-02-03").await);
    let tenant_b = app.get(&format!("/api/v1/properties/{property_b}"), None).await.body["tenant_id"]
        .as_str()
        .expect("tenant id")
        .to_string();
    w.0.insert("tenant_b", tenant_b);
    w.0.insert("property_b", property_b);
    w.0.insert("room_type_b", room_type_b);

    let guest_a = cast.token(Who::GuestA).expect("guest A");
    let me = app.get("/api/v1/me", Some(guest_a)).await;
    w.0.insert("guest_a_user", me.body["user_id"].as_str().expect("user id").to_string());
    let secret = "zanzibarsecret";
    let search = format!("/api/v1/search?destination=Lisbon&check_in=2027-02-15&check_out=2027-02-17&q={secret}");
    let r = app.get(&search, Some(guest_a)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    w.0.insert("search_secret", secret.to_string());

    let host_a = cast.token(Who::HostA).expect("host A");
    w.0.insert("spare_a", join(app, host_a, "spare-a@example.com", StaffRole::FrontDesk).await);
    let keys = app.get("/api/v1/api-keys", Some(host_a)).await;
    w.0.insert("key_a", keys.body[0]["id"].as_str().expect("the cast's key").to_string());
    let r = app.post("/api/v1/api-keys", Some(host_a), json!({"name": "Spare", "scopes": ["read"]})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    w.0.insert("spare_key_a", r.body["id"].as_str().expect("key id").to_string());

    let email = "signin-target@example.com";
    sign_up(app, email, Role::Guest).await;
    w.0.insert("signin_email", email.to_string());
    w
}

/// What the owners read back of their things; after every request it must be unchanged.
const OWNER_READS: &[(Who, &str)] = &[
    (Who::HostA, "/api/v1/properties/{property_a}"),
    (Who::HostA, "/api/v1/properties/{property_a}/room-types"),
    (Who::HostA, "/api/v1/properties/{property_a}/photos"),
    (Who::HostA, "/api/v1/room-types/{room_type_a}"),
    (Who::HostA, "/api/v1/room-types/{room_type_a}/calendar?from=2027-01-30&to=2027-02-25"),
    (Who::GuestA, "/api/v1/bookings/{held_a}"),
    (Who::GuestA, "/api/v1/bookings/{confirmed_a}"),
    (Who::GuestA, "/api/v1/bookings/{checked_in_a}"),
    (Who::GuestA, "/api/v1/me"),
    (Who::GuestA, "/api/v1/payments/{payment_a}"),
    (Who::GuestA, "/api/v1/bookings/{held_a}/payments"),
    (Who::GuestA, "/api/v1/reviews/{review_a}"),
    (Who::HostA, "/api/v1/webhooks/{webhook_a}"),
    (Who::HostA, "/api/v1/room-types/{room_type_a}/ical-export"),
    (Who::HostA, "/api/v1/properties/{property_a}/ota-codes"),
    (Who::HostB, "/api/v1/properties/{property_b}"),
    (Who::HostB, "/api/v1/properties/{property_b}/room-types"),
    (Who::HostB, "/api/v1/properties/{property_b}/photos"),
    (Who::HostB, "/api/v1/room-types/{room_type_b}/calendar?from=2027-01-30&to=2027-02-25"),
    (Who::GuestB, "/api/v1/bookings/{booking_b}"),
];

type Snapshot = Vec<(String, u16, Value)>;

struct Matrix {
    app: TestApp,
    /// Does not follow redirects, so a page's 303 and where it points are seen.
    client: Client,
    cast: Cast,
    world: World,
    counter: AtomicUsize,
}

/// What a request got.
struct Answer {
    status: u16,
    content_type: String,
    location: String,
    body: String,
}

/// One actor's try at one row.
struct Cell {
    expected: u16,
    got: u16,
    problems: Vec<String>,
    known: bool,
}

impl Cell {
    fn failed(&self) -> bool {
        self.problems.is_empty() == self.known
    }
}

/// Whether an actor getting this status was allowed to do what the row asks.
fn allowed(who: Who, face: Face, status: u16) -> bool {
    match status {
        200..=299 => true,
        // A page's success is a redirect; a signed-out visitor's redirect is to sign in.
        303 => !who.signed_out(face),
        _ => false,
    }
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl Matrix {
    fn unique(&self) -> usize {
        self.counter.fetch_add(1, Ordering::SeqCst)
    }

    async fn snapshot(&self) -> Snapshot {
        let reads = OWNER_READS.iter().map(|(who, path)| async move {
            let path = self.world.fill(path);
            let r = self.app.get(&path, self.cast.token(*who)).await;
            (format!("{} GET {path}", who.label()), r.status.as_u16(), r.body)
        });
        join_all(reads).await
    }

    async fn send(&self, row: &Row, who: Who, world: &World, token: Option<&str>) -> Answer {
        let n = self.unique().to_string();
        let fill = |t: &str| world.fill(&t.replace("{unique}", &n));
        let mut req = self.client.request(row.method.clone(), self.app.url(&fill(row.path)));
        for (name, value) in &row.headers {
            req = req.header(*name, fill(value));
        }
        match (row.face, token) {
            (Face::Api, Some(t)) => req = req.bearer_auth(t),
            (Face::Api, None) => {}
            (Face::Page, Some(t)) if who == Who::KeyA => {
                let seed = &self.cast.anonymous_seed;
                req = req.header(header::COOKIE, format!("innkeep_session={t}; innkeep_csrf={seed}"))
            }
            (Face::Page, Some(t)) => req = req.header(header::COOKIE, format!("innkeep_session={t}")),
            (Face::Page, None) => {
                req = req.header(header::COOKIE, format!("innkeep_csrf={}", self.cast.anonymous_seed))
            }
        }
        let csrf = &self.cast.csrf[who.index()];
        req = match row.payload {
            Payload::Empty => req,
            Payload::Json(t) => req.header(header::CONTENT_TYPE, "application/json").body(fill(t)),
            Payload::Png => req.header(header::CONTENT_TYPE, "image/png").body(PNG.to_vec()),
            Payload::Csv(t) => req.header(header::CONTENT_TYPE, "text/csv").body(fill(t)),
            Payload::Form(fields) => {
                let mut pairs: Vec<String> =
                    fields.iter().map(|(k, v)| format!("{}={}", url_encode(k), url_encode(&fill(v)))).collect();
                pairs.push(format!("csrf={}", url_encode(csrf)));
                req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded").body(pairs.join("&"))
            }
            Payload::PhotoForm => {
                let boundary = "----innkeepAuthzBoundary";
                let mut body = Vec::new();
                for (k, v) in [("csrf", csrf.as_str()), ("alt", "Not yours")] {
                    body.extend_from_slice(
                        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                            .as_bytes(),
                    );
                }
                body.extend_from_slice(
                    format!(
                        "--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.png\"\r\n\
                         Content-Type: image/png\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(PNG);
                body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
                req.header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}")).body(body)
            }
        };
        let r = req.send().await.expect("request sent");
        let text =
            |name: header::HeaderName| r.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let (content_type, location) = (text(header::CONTENT_TYPE), text(header::LOCATION));
        let status = r.status().as_u16();
        Answer { status, content_type, location, body: r.text().await.unwrap_or_default() }
    }

    /// One actor tries one row; `baseline` is what the owners read before.
    async fn cell(&self, row: &Row, who: Who, baseline: &mut Snapshot) -> Cell {
        let expected = row.expect[who.index()];
        let world = if row.changes && allowed(who, row.face, expected) {
            let mut fresh = self.world.clone();
            fresh.0.extend(objects_of_a(&self.app, &self.cast, self.unique()).await);
            fresh
        } else {
            self.world.clone()
        };
        let token = match (row.own_session, who) {
            (_, Who::Anonymous) => None,
            // A key has no session of its own nor a person behind it: it is always itself.
            (_, Who::KeyA) => self.cast.token(who).map(str::to_string),
            _ if row.fresh_user => {
                let email = format!("fresh-{}@example.com", self.unique());
                if let Some(role) = who.staff() {
                    join(&self.app, self.cast.token(Who::HostA).expect("host A"), &email, role).await;
                } else {
                    let role = match who {
                        Who::GuestA | Who::GuestB => Role::Guest,
                        Who::HostA | Who::HostB => Role::Host,
                        _ => Role::Admin,
                    };
                    sign_up(&self.app, &email, role).await;
                }
                let token = sign_in(&self.app, &email).await;
                if who == Who::Admin {
                    common::enrol_two_factor(&self.app, &token).await;
                }
                Some(token)
            }
            (true, Who::Admin) => {
                let code = self.cast.admin_codes.lock().expect("codes").pop().expect("a recovery code left");
                Some(sign_in_with(&self.app, &self.cast.emails[who.index()], Some(code)).await)
            }
            (true, _) => Some(sign_in(&self.app, &self.cast.emails[who.index()]).await),
            (false, _) => self.cast.token(who).map(str::to_string),
        };
        let answer = self.send(row, who, &world, token.as_deref()).await;
        let mut problems = Vec::new();
        if answer.status != expected {
            let body: String = answer.body.chars().take(200).collect();
            problems.push(format!("expected {expected}, got {}: {body}", answer.status));
        }
        if row.face == Face::Api && answer.status >= 400 {
            if answer.content_type != "application/problem+json" {
                problems.push(format!("error answered as {:?}, not application/problem+json", answer.content_type));
            }
            let code = serde_json::from_str::<Value>(&answer.body).ok().map(|b| b["code"].clone()).unwrap_or_default();
            let want = match answer.status {
                401 => Some("unauthenticated"),
                403 => Some("forbidden"),
                404 => Some("not_found"),
                _ => None,
            };
            if want.is_some_and(|w| code != w) {
                problems.push(format!("problem code {code}, expected {want:?}"));
            }
        }
        if row.face == Face::Page && answer.status == 303 {
            let to_sign_in = answer.location.starts_with("/signin");
            if to_sign_in != who.signed_out(row.face) {
                problems.push(format!("redirected to {}", answer.location));
            }
        }
        for (name, to) in &row.shows {
            let seen = answer.body.contains(world.get(name));
            if seen != to[who.index()] {
                problems.push(if seen { format!("sees {name}") } else { format!("does not see {name}") });
            }
        }
        let now = self.snapshot().await;
        if let Some(i) = (0..now.len()).find(|&i| now[i] != baseline[i]) {
            let ((read, was, before), (_, is, after)) = (&baseline[i], &now[i]);
            problems.push(format!("changed what {read} answers: {was} -> {is}, {}", difference(before, after)));
            *baseline = now;
        }
        let known = KNOWN_FAILURES.iter().any(|(name, w)| *name == row.name() && *w == who);
        Cell { expected, got: answer.status, problems, known }
    }
}

fn clip(v: &Value) -> String {
    v.to_string().chars().take(200).collect()
}

/// The fields of two JSON objects that differ, or both values when they are not objects.
fn difference(before: &Value, after: &Value) -> String {
    match (before.as_object(), after.as_object()) {
        (Some(b), Some(a)) => {
            let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
            keys.into_iter()
                .map(|k| (k, b.get(k).unwrap_or(&Value::Null), a.get(k).unwrap_or(&Value::Null)))
                .filter(|(_, was, is)| was != is)
                .map(|(k, was, is)| format!("{k}: {} -> {}", clip(was), clip(is)))
                .collect::<Vec<_>>()
                .join(", ")
        }
        _ => format!("{} -> {}", clip(before), clip(after)),
    }
}

/// The matrix as a table: a failed cell is `*got*`, a known failure `~got~`; the details of
/// every failed cell follow.
fn summary(rows: &[Row], cells: &[Vec<Cell>]) -> String {
    let names: Vec<String> = rows.iter().map(Row::name).collect();
    let width = names.iter().map(|n| n.len()).max().unwrap_or(0);
    let mut out = format!("{:width$}", "row (*got* failed, ~got~ known failure)");
    for who in ACTORS {
        out.push_str(&format!(" {:>8}", who.label()));
    }
    out.push('\n');
    let mut details = String::new();
    for (name, row) in names.iter().zip(cells) {
        out.push_str(&format!("{name:width$}"));
        for (who, c) in ACTORS.iter().zip(row) {
            let mark = match (c.failed(), c.known) {
                (true, _) => format!("*{}*", c.got),
                (false, true) => format!("~{}~", c.got),
                (false, false) => c.got.to_string(),
            };
            out.push_str(&format!(" {mark:>8}"));
            if c.failed() {
                let why = if c.problems.is_empty() {
                    format!("listed in KNOWN_FAILURES but now gets {}, as expected: remove it", c.expected)
                } else {
                    c.problems.join("; ")
                };
                details.push_str(&format!("- {name} / {}: {why}\n", who.label()));
            }
        }
        out.push('\n');
    }
    format!("{out}\n{details}")
}

#[tokio::test]
async fn every_actor_gets_the_status_it_must_and_changes_nothing_it_must_not() {
    let started = Instant::now();
    let app = spawn_app().await;
    let client = Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let cast = cast(&app, &client).await;
    let world = world(&app, &cast).await;
    let m = Matrix { app, client, cast, world, counter: AtomicUsize::new(1) };

    let mut rows = api_rows();
    rows.extend(page_rows());
    // Reads first: the copies made for allowed changes add properties and bookings to host A
    // and guest A, which must not push the originals off the first page of a list.
    rows.sort_by_key(|r| r.changes);
    let mut baseline = m.snapshot().await;
    assert!(baseline.iter().all(|(_, status, _)| *status == 200), "the owners read their things: {baseline:?}");
    let mut cells = Vec::new();
    for row in &rows {
        let mut line = Vec::new();
        for who in ACTORS {
            line.push(m.cell(row, who, &mut baseline).await);
        }
        cells.push(line);
    }
    let failed = cells.iter().flatten().filter(|c| c.failed()).count();
    assert!(
        failed == 0,
        "{failed} of {} cells failed ({} rows x {} actors, {:.1} s):\n{}",
        rows.len() * ACTORS.len(),
        rows.len(),
        ACTORS.len(),
        started.elapsed().as_secs_f64(),
        summary(&rows, &cells)
    );
    m.app.stop().await;
}

/// A route as the API document names it: `GET /api/v1/properties/{id}` (query dropped).
fn route(method: &Method, path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    let mut out = String::new();
    let mut in_name = false;
    for c in path.chars() {
        match c {
            '{' => in_name = true,
            '}' => {
                in_name = false;
                out.push_str("{id}");
            }
            _ if !in_name => out.push(c),
            _ => {}
        }
    }
    format!("{method} {out}")
}

#[tokio::test]
async fn every_route_in_the_api_document_has_a_row() {
    let app = spawn_app().await;
    let doc = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(doc.status, 200);
    let rows: BTreeSet<String> = api_rows().iter().map(|r| route(&r.method, r.path)).collect();
    let mut missing = Vec::new();
    for (path, item) in doc.body["paths"].as_object().expect("paths") {
        for method in [Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            let key = route(&method, path);
            if item.get(method.as_str().to_lowercase()).is_some() && !rows.contains(&key) {
                missing.push(key);
            }
        }
    }
    assert!(missing.is_empty(), "routes without a row in api_rows (tests/authz.rs): {missing:?}");
    app.stop().await;
}
