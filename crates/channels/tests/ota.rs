//! OpenTravel messages: every sample request of the corpus (tests/corpus/ota, see its
//! SOURCES.md), bare and inside SOAP 1.1 and 1.2 envelopes with a UsernameToken, read into
//! the values the files hold; every response validated against the OpenTravel 2011B
//! schemas with xmllint (required when INNKEEP_TEST_REQUIRE_SERVERS=1, as in CI); and bad
//! input (garbage, truncations, entities, huge and deep documents, mutated samples) never
//! panics.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use innkeep_channels::ota::{
    Amount, Answer, AvailAnswer, AvailOffer, AvailQuery, BookedRoom, Booking, BookingLimit, CancelRequest,
    Cancellation, Confirmation, CredentialSource, Credentials, Envelope, Fault, FaultCode, Guest, Message, NightAmount,
    OtaError, Request, ResStatus, Restriction, RestrictionStatus, RoomCandidate, SoapVersion, StayLength, UniqueId,
    read, render, render_fault,
};
use innkeep_core::{Currency, Money};
use jiff::Timestamp;
use jiff::civil::date;
use proptest::prelude::*;
use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const SOAP11: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const SOAP12: &str = "http://www.w3.org/2003/05/soap-envelope";
const WSSE: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
const PASSWORD_TEXT: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText";

const SAMPLES: [&str; 7] = [
    "2011B-OTA_CancelRQ.xml",
    "2011B-OTA_HotelAvailNotifRQ3.xml",
    "2011B-OTA_HotelAvailRQ2.xml",
    "2011B-OTA_HotelRateAmountNotifRQ.xml",
    "2011B-OTA_HotelResNotifRQ2.xml",
    "2011B-OTA_HotelResRQ105.xml",
    "alpinebits-2018-10-FreeRooms-OTA_HotelAvailNotifRQ.xml",
];

fn corpus_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/ota");
    assert!(dir.is_dir(), "the OTA corpus is missing at {}", dir.display());
    dir
}

fn sample(name: &str) -> String {
    let path = corpus_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// `text` with `snippet` put right after the first `anchor`.
fn insert_after(text: &str, anchor: &str, snippet: &str) -> String {
    let at = text.find(anchor).unwrap_or_else(|| panic!("{anchor} not in the sample")) + anchor.len();
    format!("{}{snippet}{}", &text[..at], &text[at..])
}

/// `text` with `snippet` put right before the first `anchor`.
fn insert_before(text: &str, anchor: &str, snippet: &str) -> String {
    let at = text.find(anchor).unwrap_or_else(|| panic!("{anchor} not in the sample"));
    format!("{}{snippet}{}", &text[..at], &text[at..])
}

const USERNAME: &str = "channel-7";
const PASSWORD: &str = "p&ss <w0rd>";

/// An OTA document inside an envelope of `version` with a WS-Security UsernameToken
/// (`PASSWORD`, escaped), its XML declaration dropped; bare documents stay as they are.
fn wrap(document: &str, version: SoapVersion) -> String {
    let (prefix, ns) = match version {
        SoapVersion::Soap11 => ("soapenv", SOAP11),
        SoapVersion::Soap12 => ("s12", SOAP12),
        SoapVersion::Bare => return document.to_owned(),
    };
    let body = match document.strip_prefix("<?xml") {
        Some(rest) => &rest[rest.find("?>").unwrap() + 2..],
        None => document,
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<{prefix}:Envelope xmlns:{prefix}=\"{ns}\" \
         xmlns:wsse=\"{WSSE}\"><{prefix}:Header><wsse:Security {prefix}:mustUnderstand=\"1\"><wsse:UsernameToken>\
         <wsse:Username> {USERNAME} </wsse:Username><wsse:Password Type=\"{PASSWORD_TEXT}\">p&amp;ss &lt;w0rd&gt;\
         </wsse:Password></wsse:UsernameToken></wsse:Security></{prefix}:Header>\n<{prefix}:Body>{body}\
         </{prefix}:Body></{prefix}:Envelope>"
    )
}

const VERSIONS: [SoapVersion; 3] = [SoapVersion::Bare, SoapVersion::Soap11, SoapVersion::Soap12];

/// Reads `document` in each envelope and checks the envelope's own parts; returns the
/// envelopes for the request's checks.
fn read_all_ways(document: &str, message: Message) -> Vec<Envelope> {
    VERSIONS
        .into_iter()
        .map(|version| {
            let envelope = read(wrap(document, version).as_bytes()).unwrap_or_else(|f| panic!("{version:?}: {f:?}"));
            assert_eq!(envelope.version, version);
            assert_eq!(envelope.message, message);
            if version != SoapVersion::Bare {
                let token = Credentials {
                    username: USERNAME.into(),
                    password: PASSWORD.into(),
                    source: CredentialSource::UsernameToken,
                };
                assert_eq!(envelope.credentials, Some(token));
            }
            envelope
        })
        .collect()
}

fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::parse("USD").unwrap())
}

fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::parse("EUR").unwrap())
}

fn missing(envelope: &Envelope) -> OtaError {
    let error = envelope.request.clone().expect_err("the sample misses something Innkeep needs");
    assert_eq!((error.kind, error.code), (10, 321), "{error:?}");
    error
}

// ---------------------------------------------------------------------------------------
// The corpus, read
// ---------------------------------------------------------------------------------------

#[test]
fn the_cancel_sample_reads_into_its_two_reservation_references() {
    for envelope in read_all_ways(&sample("2011B-OTA_CancelRQ.xml"), Message::Cancel) {
        assert_eq!(envelope.echo_token.as_deref(), Some("892345"));
        let Ok(Request::Cancel(cancel)) = envelope.request else { panic!("{:?}", envelope.request) };
        let id = |id: &str| UniqueId { id: id.into(), id_type: Some("14".into()), context: None };
        assert_eq!(
            cancel,
            CancelRequest {
                unique_ids: vec![id("7H39B4"), id("X2A382")],
                hotel_code: None,
                cancel_type: Some("Initiate".into()),
            }
        );
        assert_eq!(cancel.channel_ref(), "7H39B4");
        if envelope.version == SoapVersion::Bare {
            // The POS has a RequestorID, but no MessagePassword.
            assert_eq!(envelope.credentials, None);
        }
    }
}

#[test]
fn the_availability_notification_sample_reads_its_length_of_stay_patterns() {
    let open_lengths = [("Expedia1", vec![2, 3, 4]), ("Expedia2", vec![]), ("Expedia3", vec![3, 4, 7])];
    for envelope in read_all_ways(&sample("2011B-OTA_HotelAvailNotifRQ3.xml"), Message::HotelAvailNotif) {
        assert_eq!(envelope.echo_token.as_deref(), Some("54638383"));
        let Ok(Request::HotelAvailNotif(notif)) = envelope.request else { panic!("{:?}", envelope.request) };
        assert_eq!(notif.hotel_code, "HOTEL");
        assert!(!notif.complete_set);
        assert_eq!(notif.statuses.len(), 3);
        for (status, (plan, open)) in notif.statuses.iter().zip(&open_lengths) {
            assert_eq!((status.first_night, status.last_night), (date(2004, 6, 1), date(2004, 6, 1)));
            assert_eq!(status.room_type_code.as_deref(), Some("STD"));
            assert_eq!(status.unit_code, None);
            assert_eq!(status.rate_plan_code.as_deref(), Some(*plan));
            assert_eq!((status.limit, status.restriction), (None, None));
            let pattern: Vec<StayLength> =
                (1..=8).map(|nights| StayLength::Pattern { nights, open: open.contains(&nights) }).collect();
            assert_eq!(status.stay_lengths, pattern);
        }
    }
}

#[test]
fn the_alpinebits_free_rooms_sample_reads_units_per_room_category() {
    let document = sample("alpinebits-2018-10-FreeRooms-OTA_HotelAvailNotifRQ.xml");
    for envelope in read_all_ways(&document, Message::HotelAvailNotif) {
        assert_eq!(envelope.echo_token, None);
        let Ok(Request::HotelAvailNotif(notif)) = envelope.request else { panic!("{:?}", envelope.request) };
        assert_eq!(notif.hotel_code, "123");
        assert!(notif.complete_set);
        let runs: Vec<_> = notif.statuses.iter().map(|s| (s.first_night, s.last_night)).collect();
        assert_eq!(runs, [(date(2010, 8, 1), date(2010, 8, 10)), (date(2010, 8, 21), date(2010, 8, 30))]);
        for status in &notif.statuses {
            assert_eq!(status.room_type_code.as_deref(), Some("double"));
            assert_eq!(status.unit_code.as_deref(), Some("101S"));
            assert_eq!(status.rate_plan_code, None);
            assert_eq!(status.limit, Some(BookingLimit::Set(1)));
            assert!(status.stay_lengths.is_empty());
        }
    }
}

#[test]
fn the_availability_sample_lacks_a_hotel_code_and_reads_once_it_has_one() {
    let document = sample("2011B-OTA_HotelAvailRQ2.xml");
    for envelope in read_all_ways(&document, Message::HotelAvail) {
        assert_eq!(envelope.echo_token, None);
        assert!(missing(&envelope).text.contains("HotelRef/@HotelCode"));
    }
    let with_hotel = insert_after(&document, "<Criterion>", "<HotelRef HotelCode=\"H1\"/>");
    for envelope in read_all_ways(&with_hotel, Message::HotelAvail) {
        let Ok(Request::HotelAvail(query)) = envelope.request else { panic!("{:?}", envelope.request) };
        let room =
            |adults| RoomCandidate { quantity: 1, adults, children: 0, child_ages: vec![], room_type_code: None };
        assert_eq!(
            query,
            AvailQuery {
                hotel_code: "H1".into(),
                check_in: date(2010, 8, 30),
                check_out: date(2010, 9, 2),
                rooms: vec![room(2), room(3)],
                rate_plan_codes: vec![],
                currency: Some(Currency::parse("EUR").unwrap()),
            }
        );
        assert!(query.room_type_codes().is_empty());
    }
}

#[test]
fn the_rate_amount_sample_reads_a_price_before_tax_in_cents() {
    for envelope in read_all_ways(&sample("2011B-OTA_HotelRateAmountNotifRQ.xml"), Message::HotelRateAmountNotif) {
        let Ok(Request::HotelRateAmountNotif(notif)) = envelope.request else { panic!("{:?}", envelope.request) };
        assert_eq!(notif.hotel_code, "ATLPE");
        assert_eq!(notif.rates.len(), 1);
        let rate = &notif.rates[0];
        assert_eq!((rate.first_night, rate.last_night), (date(2005, 4, 1), date(2005, 4, 1)));
        assert_eq!(rate.room_type_code.as_deref(), Some("STD"));
        assert_eq!(rate.rate_plan_code.as_deref(), Some("BARA00"));
        assert_eq!(rate.amounts.len(), 1);
        assert_eq!(rate.amounts[0].amount, Amount { money: usd(10_000), after_tax: false });
        assert_eq!(rate.amounts[0].guests, None);
    }
}

#[test]
fn the_reservation_notification_sample_lacks_references_and_reads_once_it_has_them() {
    let document = sample("2011B-OTA_HotelResNotifRQ2.xml");
    for envelope in read_all_ways(&document, Message::HotelResNotif) {
        assert_eq!(envelope.echo_token.as_deref(), Some("7656"));
        assert!(missing(&envelope).text.contains("UniqueID/@ID"));
        if envelope.version == SoapVersion::Bare {
            let pos = Credentials {
                username: "1234567".into(),
                password: "ek^4$327F21".into(),
                source: CredentialSource::RequestorId,
            };
            assert_eq!(envelope.credentials, Some(pos));
        }
    }
    let with_ref = insert_after(&document, "<HotelReservation>", "<UniqueID Type=\"14\" ID=\"RES-2\"/>");
    for envelope in read_all_ways(&with_ref, Message::HotelResNotif) {
        assert!(missing(&envelope).text.contains("BasicPropertyInfo/@HotelCode"));
    }
    let complete = insert_before(&with_ref, "</RoomStay>", "<BasicPropertyInfo HotelCode=\"ABC\"/>");
    for envelope in read_all_ways(&complete, Message::HotelResNotif) {
        let Ok(Request::HotelResNotif(bookings)) = envelope.request else { panic!("{:?}", envelope.request) };
        // Only a Rate/Total (AmountAfterTax="200" DecimalPlaces="2", a daily charge): no
        // total of the stay is made up from it.
        let total = None;
        assert_eq!(
            bookings,
            [Booking {
                channel_ref: "RES-2".into(),
                status: None,
                created: None,
                hotel_code: "ABC".into(),
                rooms: vec![BookedRoom {
                    room_type_code: "A1K".into(),
                    rate_plan_code: Some("RMTXFD".into()),
                    units: 1,
                    check_in: date(2011, 6, 1),
                    check_out: date(2011, 6, 6),
                    // No GuestCounts: the three adult ResGuests.
                    adults: 3,
                    children: 0,
                    child_ages: vec![],
                    total,
                }],
                guest: Guest {
                    given: "Jane".into(),
                    surname: "Smith".into(),
                    email: Some("janesmith@anycompany.com".into()),
                    phone: Some("999-999-9999".into()),
                },
                total,
            }]
        );
    }
}

#[test]
fn the_reservation_sample_says_what_is_missing_until_it_reads() {
    let document = sample("2011B-OTA_HotelResRQ105.xml");
    for envelope in read_all_ways(&document, Message::HotelRes) {
        assert_eq!(envelope.echo_token.as_deref(), Some("12345"));
        assert!(missing(&envelope).text.contains("UniqueID/@ID"));
    }
    let with_ref = insert_before(&document, "<RoomStays>", "<UniqueID Type=\"14\" ID=\"ABC-105\"/>");
    let with_hotel = insert_before(&with_ref, "</RoomStay>", "<BasicPropertyInfo HotelCode=\"ABC\"/>");
    assert!(missing(&read(with_ref.as_bytes()).unwrap()).text.contains("BasicPropertyInfo/@HotelCode"));
    assert!(missing(&read(with_hotel.as_bytes()).unwrap()).text.contains("ResGuests/ResGuest"));
    let guests = "<ResGuests><ResGuest><Profiles><ProfileInfo><Profile><Customer><PersonName>\
                  <GivenName>John</GivenName><Surname>Smith</Surname></PersonName></Customer></Profile>\
                  </ProfileInfo></Profiles></ResGuest></ResGuests>";
    let complete = insert_before(&with_hotel, "</HotelReservation>", guests);
    for envelope in read_all_ways(&complete, Message::HotelRes) {
        let Ok(Request::HotelRes(bookings)) = envelope.request else { panic!("{:?}", envelope.request) };
        let room = |code: &str, plan: &str, adults| BookedRoom {
            room_type_code: code.into(),
            rate_plan_code: Some(plan.into()),
            units: 1,
            check_in: date(2011, 9, 18),
            check_out: date(2011, 9, 22),
            adults,
            children: 0,
            child_ages: vec![],
            // Only per-night Base amounts: no total is made up.
            total: None,
        };
        assert_eq!(
            bookings,
            [Booking {
                channel_ref: "ABC-105".into(),
                status: Some("Book".into()),
                created: Some("2011-06-17T09:30:47-05:00".into()),
                hotel_code: "ABC".into(),
                rooms: vec![room("1KDLXE", "RPKINGDLX", 2), room("A2DL", "RPDBLSTD", 1)],
                guest: Guest { given: "John".into(), surname: "Smith".into(), email: None, phone: None },
                total: None,
            }]
        );
    }
}

#[test]
fn every_sample_request_reads_in_every_envelope() {
    for name in SAMPLES {
        for version in VERSIONS {
            let envelope = read(wrap(&sample(name), version).as_bytes()).unwrap_or_else(|f| panic!("{name}: {f:?}"));
            assert!(name.contains(envelope.message.request_name()), "{name}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Reading: the rules beyond the corpus
// ---------------------------------------------------------------------------------------

#[test]
fn prefixes_do_not_matter_only_namespaces() {
    let document = format!(
        "<e:Envelope xmlns:e=\"{SOAP12}\"><e:Header><s:Security xmlns:s=\"{WSSE}\"><s:UsernameToken>\
         <s:Username>u</s:Username><s:Password>pw</s:Password></s:UsernameToken></s:Security></e:Header>\
         <e:Body><o:OTA_CancelRQ xmlns:o=\"http://www.opentravel.org/OTA/2003/05\" Version=\"1.0\">\
         <o:UniqueID Type=\"14\" ID=\"R1\"/><x:UniqueID xmlns:x=\"urn:other\" Type=\"14\" ID=\"NOT-OTA\"/>\
         </o:OTA_CancelRQ></e:Body></e:Envelope>"
    );
    let envelope = read(document.as_bytes()).unwrap();
    assert_eq!(envelope.version, SoapVersion::Soap12);
    assert_eq!(envelope.credentials.as_ref().map(|c| (c.username.as_str(), c.password.as_str())), Some(("u", "pw")));
    let Ok(Request::Cancel(cancel)) = envelope.request else { panic!() };
    assert_eq!(cancel.unique_ids.len(), 1);
    assert_eq!(cancel.channel_ref(), "R1");
}

#[test]
fn an_ota_document_without_namespace_is_read_too() {
    let envelope = read(b"<OTA_CancelRQ><UniqueID Type=\"14\" ID=\"R1\"/></OTA_CancelRQ>").unwrap();
    assert_eq!(envelope.message, Message::Cancel);
    assert!(envelope.request.is_ok());
}

const OTA: &str = "xmlns=\"http://www.opentravel.org/OTA/2003/05\"";

#[test]
fn a_full_booking_reads_every_part() {
    let document = format!(
        "<OTA_HotelResNotifRQ {OTA} Version=\"1.0\"><HotelReservations>\
         <HotelReservation ResStatus=\"Commit\" CreateDateTime=\"2026-01-02T03:04:05Z\">\
         <UniqueID Type=\"16\" ID=\"OTHER\"/><UniqueID Type=\"14\" ID=\"BDC-1\"/>\
         <RoomStays><RoomStay><RoomTypes><RoomType RoomTypeCode=\"DBL\" NumberOfUnits=\"2\"/></RoomTypes>\
         <RoomRates><RoomRate RoomTypeCode=\"DBL\" RatePlanCode=\"BAR\"><GuestCounts>\
         <GuestCount AgeQualifyingCode=\"10\" Count=\"2\"/><GuestCount AgeQualifyingCode=\"8\" Count=\"1\"/>\
         <GuestCount AgeQualifyingCode=\"7\" Count=\"1\"/></GuestCounts>\
         <Total AmountAfterTax=\"45000\" DecimalPlaces=\"2\" CurrencyCode=\"EUR\"/></RoomRate></RoomRates>\
         <TimeSpan Start=\"2026-07-01\" Duration=\"P3N\"/><BasicPropertyInfo HotelCode=\"SEA\"/></RoomStay></RoomStays>\
         <ResGuests><ResGuest><Profiles><ProfileInfo><Profile><Customer><PersonName><GivenName>Ann</GivenName>\
         <Surname>Other</Surname></PersonName></Customer></Profile></ProfileInfo></Profiles></ResGuest>\
         <ResGuest PrimaryIndicator=\"1\"><Profiles><ProfileInfo><Profile><Customer><PersonName>\
         <GivenName>Zoë</GivenName><Surname>O&apos;Brien &amp; Co</Surname></PersonName>\
         <Telephone PhoneNumber=\"+351 1\"/><Email> zoe@example.com </Email></Customer></Profile></ProfileInfo>\
         </Profiles></ResGuest></ResGuests>\
         <ResGlobalInfo><Total AmountAfterTax=\"460.5\" CurrencyCode=\"EUR\"/></ResGlobalInfo>\
         </HotelReservation></HotelReservations></OTA_HotelResNotifRQ>"
    );
    let envelope = read(document.as_bytes()).unwrap();
    let Ok(Request::HotelResNotif(bookings)) = envelope.request else { panic!("{:?}", envelope.request) };
    let booking = &bookings[0];
    assert_eq!(booking.channel_ref, "BDC-1");
    assert_eq!(booking.status.as_deref(), Some("Commit"));
    assert_eq!(booking.created.as_deref(), Some("2026-01-02T03:04:05Z"));
    assert_eq!(booking.hotel_code, "SEA");
    assert_eq!(
        booking.rooms,
        [BookedRoom {
            room_type_code: "DBL".into(),
            rate_plan_code: Some("BAR".into()),
            units: 2,
            check_in: date(2026, 7, 1),
            check_out: date(2026, 7, 4),
            adults: 2,
            children: 2,
            child_ages: vec![],
            total: Some(Amount { money: eur(45_000), after_tax: true }),
        }]
    );
    assert_eq!(
        booking.guest,
        Guest {
            given: "Zoë".into(),
            surname: "O'Brien & Co".into(),
            email: Some("zoe@example.com".into()),
            phone: Some("+351 1".into()),
        }
    );
    assert_eq!(booking.total, Some(Amount { money: eur(46_050), after_tax: true }));
}

#[test]
fn hotel_reservation_ids_stand_in_for_a_unique_id_and_ages_count_children() {
    let document = format!(
        "<OTA_HotelResRQ {OTA}><HotelReservations><HotelReservation><RoomStays><RoomStay>\
         <RoomTypes><RoomType RoomTypeCode=\"S\"/></RoomTypes><GuestCounts><GuestCount Count=\"1\"/>\
         <GuestCount Count=\"1\" Age=\"9\"/><GuestCount Count=\"1\" Age=\"40\"/></GuestCounts>\
         <TimeSpan Start=\"2026-01-01\" End=\"2026-01-02\"/><BasicPropertyInfo HotelCode=\"H\"/></RoomStay></RoomStays>\
         <ResGuests><ResGuest><Profiles><ProfileInfo><Profile><Customer><PersonName><Surname>S</Surname>\
         </PersonName></Customer></Profile></ProfileInfo></Profiles></ResGuest></ResGuests>\
         <ResGlobalInfo><HotelReservationIDs><HotelReservationID ResID_Type=\"10\" ResID_Value=\"PMS\"/>\
         <HotelReservationID ResID_Type=\"14\" ResID_Value=\"CH-9\"/></HotelReservationIDs></ResGlobalInfo>\
         </HotelReservation></HotelReservations></OTA_HotelResRQ>"
    );
    let Ok(Request::HotelRes(bookings)) = read(document.as_bytes()).unwrap().request else { panic!() };
    assert_eq!(bookings[0].channel_ref, "CH-9");
    assert_eq!(bookings[0].guest.given, "");
    // AlpineBits sends children as a GuestCount with an Age and no AgeQualifyingCode.
    let room = &bookings[0].rooms[0];
    assert_eq!((room.adults, room.children, room.units), (2, 1, 1));
    assert_eq!(room.child_ages, [9]);
}

#[test]
fn children_s_ages_are_kept_when_each_child_has_one_and_per_room_counts_cover_every_unit() {
    let reservation = |units: &str, counts: &str| {
        format!(
            "<OTA_HotelResNotifRQ {OTA}><HotelReservations><HotelReservation><UniqueID Type=\"14\" ID=\"R\"/>\
             <RoomStays><RoomStay><RoomTypes><RoomType RoomTypeCode=\"FAM\" NumberOfUnits=\"{units}\"/></RoomTypes>\
             {counts}<TimeSpan Start=\"2027-01-01\" End=\"2027-01-03\"/><BasicPropertyInfo HotelCode=\"H\"/>\
             </RoomStay></RoomStays><ResGuests><ResGuest><Profiles><ProfileInfo><Profile><Customer><PersonName>\
             <Surname>S</Surname></PersonName></Customer></Profile></ProfileInfo></Profiles></ResGuest></ResGuests>\
             </HotelReservation></HotelReservations></OTA_HotelResNotifRQ>"
        )
    };
    let room = |units: &str, counts: &str| {
        let Ok(Request::HotelResNotif(b)) = read(reservation(units, counts).as_bytes()).unwrap().request else {
            panic!()
        };
        let r = &b[0].rooms[0];
        (r.units, r.adults, r.children, r.child_ages.clone())
    };
    // Two rooms for the whole party: the counts are everyone's.
    let aged = "<GuestCounts><GuestCount AgeQualifyingCode=\"10\" Count=\"3\"/>\
                <GuestCount AgeQualifyingCode=\"8\" Age=\"7\" Count=\"2\"/><GuestCount Age=\"1\" Count=\"1\"/></GuestCounts>";
    assert_eq!(room("2", aged), (2, 3, 3, vec![7, 7, 1]));
    // Counts per room are taken for each unit.
    let per_room = aged.replace("<GuestCounts>", "<GuestCounts IsPerRoom=\"true\">");
    assert_eq!(room("2", &per_room), (2, 6, 6, vec![7, 7, 1, 7, 7, 1]));
    // One child without an age: no ages at all (never a guess), the count still right.
    let unaged =
        aged.replace("<GuestCount Age=\"1\" Count=\"1\"/>", "<GuestCount AgeQualifyingCode=\"7\" Count=\"1\"/>");
    assert_eq!(room("1", &unaged), (1, 3, 3, vec![]));
    // A child's code with an adult's age is no child's age either.
    let odd = aged.replace("Age=\"7\"", "Age=\"30\"");
    assert_eq!(room("1", &odd), (1, 3, 3, vec![]));
    let Err(e) = read(reservation("2", &aged.replace("<GuestCounts>", "<GuestCounts IsPerRoom=\"maybe\">")).as_bytes())
        .unwrap()
        .request
    else {
        panic!()
    };
    assert!(e.text.contains("IsPerRoom"), "{e:?}");
}

#[test]
fn inventory_limits_restrictions_and_stay_lengths_read() {
    let document = format!(
        "<OTA_HotelAvailNotifRQ {OTA}><AvailStatusMessages HotelCode=\"H\">\
         <AvailStatusMessage BookingLimit=\"4\"><StatusApplicationControl Start=\"2026-05-01\" End=\"2026-05-31\" \
         InvTypeCode=\"DBL\" RatePlanCode=\"BAR\"/><LengthsOfStay><LengthOfStay MinMaxMessageType=\"SetMinLOS\" \
         Time=\"2\" TimeUnit=\"Day\"/><LengthOfStay MinMaxMessageType=\"SetMaxLOS\" Time=\"14\"/>\
         <LengthOfStay MinMaxMessageType=\"RemoveMinLOS\"/></LengthsOfStay>\
         <RestrictionStatus Status=\"Close\" Restriction=\"Arrival\"/></AvailStatusMessage>\
         <AvailStatusMessage BookingLimitMessageType=\"RemoveLimit\"><StatusApplicationControl Start=\"2026-06-01\" \
         End=\"2026-06-01\" InvCode=\"SGL\"/><RestrictionStatus Status=\"Open\"/></AvailStatusMessage>\
         </AvailStatusMessages></OTA_HotelAvailNotifRQ>"
    );
    let Ok(Request::HotelAvailNotif(notif)) = read(document.as_bytes()).unwrap().request else { panic!() };
    let [first, second] = &notif.statuses[..] else { panic!("{:?}", notif.statuses) };
    assert_eq!(first.limit, Some(BookingLimit::Set(4)));
    assert_eq!(first.restriction, Some(RestrictionStatus { open: false, applies_to: Restriction::Arrival }));
    assert_eq!(first.stay_lengths, [StayLength::SetMin(2), StayLength::SetMax(14), StayLength::RemoveMin]);
    assert_eq!((first.room_type_code.as_deref(), first.rate_plan_code.as_deref()), (Some("DBL"), Some("BAR")));
    assert_eq!(second.limit, Some(BookingLimit::Remove));
    assert_eq!(second.restriction, Some(RestrictionStatus { open: true, applies_to: Restriction::Master }));
    assert_eq!(second.room_type_code.as_deref(), Some("SGL"));
}

#[test]
fn a_cancel_finds_the_hotel_code_in_its_verification() {
    let document = format!(
        "<OTA_CancelRQ {OTA} CancelType=\"Commit\"><UniqueID Type=\"14\" ID=\"R\" ID_Context=\"BDC\"/>\
         <Verification><TPA_Extensions><BasicPropertyInfo HotelCode=\"H7\"/></TPA_Extensions></Verification>\
         </OTA_CancelRQ>"
    );
    let Ok(Request::Cancel(cancel)) = read(document.as_bytes()).unwrap().request else { panic!() };
    assert_eq!(cancel.hotel_code.as_deref(), Some("H7"));
    assert_eq!(cancel.unique_ids[0].context.as_deref(), Some("BDC"));
    assert_eq!(cancel.cancel_type.as_deref(), Some("Commit"));
}

/// The error of reading `document` (bare).
fn error_of(document: &str) -> OtaError {
    read(document.as_bytes()).unwrap().request.expect_err(document)
}

#[test]
fn unreadable_values_are_ota_errors_with_their_codes() {
    let avail = |range: &str| {
        format!(
            "<OTA_HotelAvailRQ {OTA}><AvailRequestSegments><AvailRequestSegment><HotelSearchCriteria><Criterion>\
             <HotelRef HotelCode=\"H\"/>{range}</Criterion></HotelSearchCriteria></AvailRequestSegment>\
             </AvailRequestSegments></OTA_HotelAvailRQ>"
        )
    };
    assert_eq!(error_of(&avail("<StayDateRange Start=\"2026-02-30\" End=\"2026-03-02\"/>")).code, 15);
    assert_eq!(error_of(&avail("<StayDateRange Start=\"2026-03-02\" End=\"2026-03-02\"/>")).code, 404);
    assert_eq!(error_of(&avail("<StayDateRange Start=\"2026-03-02\"/>")).code, 321);
    assert_eq!(error_of(&avail("")).code, 321);
    let rate = |amount: &str| {
        format!(
            "<OTA_HotelRateAmountNotifRQ {OTA}><RateAmountMessages HotelCode=\"H\"><RateAmountMessage>\
             <StatusApplicationControl Start=\"2026-01-01\" End=\"2026-01-31\" InvTypeCode=\"D\"/><Rates><Rate>\
             <BaseByGuestAmts><BaseByGuestAmt {amount}/></BaseByGuestAmts></Rate></Rates></RateAmountMessage>\
             </RateAmountMessages></OTA_HotelRateAmountNotifRQ>"
        )
    };
    assert_eq!(error_of(&rate("AmountAfterTax=\"10.005\" CurrencyCode=\"EUR\"")).code, 320);
    assert_eq!(error_of(&rate("AmountAfterTax=\"-1\" CurrencyCode=\"EUR\"")).code, 320);
    assert_eq!(error_of(&rate("AmountAfterTax=\"10\" CurrencyCode=\"XXX\"")).code, 61);
    assert_eq!(error_of(&rate("AmountAfterTax=\"10\"")).code, 321);
    let Ok(Request::HotelRateAmountNotif(notif)) =
        read(rate("AmountAfterTax=\"1200\" CurrencyCode=\"JPY\" NumberOfGuests=\"2\"").as_bytes()).unwrap().request
    else {
        panic!()
    };
    assert_eq!(notif.rates[0].amounts[0].amount.money, Money::new(1200, Currency::parse("JPY").unwrap()));
    assert_eq!(notif.rates[0].amounts[0].guests, Some(2));
    let unsupported = error_of(&format!(
        "<OTA_HotelAvailNotifRQ {OTA}><AvailStatusMessages HotelCode=\"H\"><AvailStatusMessage>\
         <StatusApplicationControl Start=\"2026-01-01\" End=\"2026-01-01\"/><LengthsOfStay>\
         <LengthOfStay MinMaxMessageType=\"SetForwardMinStay\" Time=\"2\"/></LengthsOfStay></AvailStatusMessage>\
         </AvailStatusMessages></OTA_HotelAvailNotifRQ>"
    ));
    assert_eq!((unsupported.kind, unsupported.code), (2, 450));
}

fn fault_of(body: &[u8]) -> Fault {
    read(body).expect_err(&String::from_utf8_lossy(body))
}

#[test]
fn what_is_not_an_ota_request_is_a_fault() {
    assert_eq!(fault_of(b"").code, FaultCode::Sender);
    assert_eq!(fault_of(b"{\"json\": true}").code, FaultCode::Sender);
    assert_eq!(fault_of(b"<html><body>hi</body></html>").code, FaultCode::Sender);
    assert_eq!(fault_of(sample("2011B-OTA_HotelResRS.xml").as_bytes()).code, FaultCode::Sender);
    let other_ns = "<OTA_CancelRQ xmlns=\"urn:not-ota\"><UniqueID Type=\"14\" ID=\"R\"/></OTA_CancelRQ>";
    assert_eq!(fault_of(other_ns.as_bytes()).code, FaultCode::Sender);
    let ping = wrap(&format!("<OTA_PingRQ {OTA}><EchoData>x</EchoData></OTA_PingRQ>"), SoapVersion::Soap12);
    assert_eq!(fault_of(ping.as_bytes()).version, SoapVersion::Soap12);
    let old = b"<s:Envelope xmlns:s=\"http://example.com/soap\"><s:Body/></s:Envelope>";
    assert_eq!(fault_of(old).code, FaultCode::VersionMismatch);
    let empty = format!("<s:Envelope xmlns:s=\"{SOAP11}\"><s:Body> </s:Body></s:Envelope>");
    assert_eq!(fault_of(empty.as_bytes()).version, SoapVersion::Soap11);
    let no_body = format!("<s:Envelope xmlns:s=\"{SOAP11}\"><s:Header/></s:Envelope>");
    assert_eq!(fault_of(no_body.as_bytes()).code, FaultCode::Sender);
    let digest =
        wrap(&sample("2011B-OTA_CancelRQ.xml"), SoapVersion::Soap11).replace("#PasswordText", "#PasswordDigest");
    assert!(fault_of(digest.as_bytes()).reason.contains("PasswordText"));
    let utf16: Vec<u8> = "<OTA_CancelRQ/>".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    assert_eq!(fault_of(&utf16).code, FaultCode::Sender);
    let latin1 = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><OTA_CancelRQ/>";
    assert!(fault_of(latin1).reason.contains("encoding"));
    let two_roots = format!("<OTA_CancelRQ {OTA}/><OTA_CancelRQ {OTA}/>");
    assert_eq!(fault_of(two_roots.as_bytes()).code, FaultCode::Sender);
}

#[test]
fn a_doctype_and_unknown_entities_are_refused_never_expanded() {
    let laughs = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">\
         <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\
         <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]>\
         <OTA_CancelRQ {OTA}><UniqueID Type=\"14\" ID=\"&lol3;\"/></OTA_CancelRQ>"
    );
    assert!(fault_of(laughs.as_bytes()).reason.contains("DOCTYPE"));
    let external =
        format!("<!DOCTYPE r [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><OTA_CancelRQ {OTA}>&xxe;</OTA_CancelRQ>");
    assert!(fault_of(external.as_bytes()).reason.contains("DOCTYPE"));
    let undeclared = format!("<OTA_CancelRQ {OTA}><UniqueID Type=\"14\" ID=\"R\"/>&xxe;</OTA_CancelRQ>");
    assert!(fault_of(undeclared.as_bytes()).reason.contains("xxe"));
    let in_attribute = format!("<OTA_CancelRQ {OTA}><UniqueID Type=\"14\" ID=\"&xxe;\"/></OTA_CancelRQ>");
    assert_eq!(fault_of(in_attribute.as_bytes()).code, FaultCode::Sender);
    let predefined = format!("<OTA_CancelRQ {OTA}><UniqueID Type=\"14\" ID=\"a&amp;b&#x41;&#66;\"/></OTA_CancelRQ>");
    let Ok(Request::Cancel(cancel)) = read(predefined.as_bytes()).unwrap().request else { panic!() };
    assert_eq!(cancel.channel_ref(), "a&bAB");
}

#[test]
fn an_echo_token_longer_than_the_schema_allows_is_not_echoed() {
    let long = "e".repeat(129);
    let document = format!("<OTA_CancelRQ {OTA} EchoToken=\"{long}\"><UniqueID Type=\"14\" ID=\"R\"/></OTA_CancelRQ>");
    assert_eq!(read(document.as_bytes()).unwrap().echo_token, None);
}

// ---------------------------------------------------------------------------------------
// Responses: content, and validation against the OpenTravel 2011B schemas
// ---------------------------------------------------------------------------------------

fn now() -> Timestamp {
    "2026-08-22T07:36:47Z".parse().unwrap()
}

/// One answer of each kind, both outcomes, with values that need escaping.
fn answers() -> Vec<(&'static str, Answer)> {
    let offer = |code: &str, nights: Vec<NightAmount>| AvailOffer {
        room_type_code: code.into(),
        room_type_name: Some("Double <sea view> & balcony".into()),
        units: 3,
        rate_plan_code: "BAR".into(),
        total: eur(24_000),
        nights,
    };
    let nights = vec![
        NightAmount { night: date(2026, 7, 1), amount: eur(12_000) },
        NightAmount { night: date(2026, 7, 2), amount: eur(12_000) },
    ];
    let avail = |offers, children| AvailAnswer {
        hotel_code: "SEA".into(),
        check_in: date(2026, 7, 1),
        check_out: date(2026, 7, 3),
        adults: 2,
        children,
        offers,
    };
    let confirmations = vec![
        Confirmation {
            channel_ref: "BDC-1".into(),
            booking_id: "0190f7a8-1c2d-7e3f-8a9b-0c1d2e3f4a5b".into(),
            status: ResStatus::Book,
        },
        Confirmation { channel_ref: "BDC-2\"&".into(), booking_id: "b2".into(), status: ResStatus::Reserved },
    ];
    let unique = UniqueId { id: "7H39B4".into(), id_type: Some("14".into()), context: Some("1P".into()) };
    let errors =
        |message| Answer::Errors(message, vec![OtaError::not_authorized(), OtaError::missing("UniqueID/@ID <&\"'>")]);
    let mut all = vec![
        ("avail offers per stay", Answer::HotelAvail(avail(vec![offer("DBL", vec![])], 0))),
        (
            "avail offers per night",
            Answer::HotelAvail(avail(vec![offer("DBL", nights.clone()), offer("TRP", nights)], 1)),
        ),
        ("avail nothing", Answer::HotelAvail(avail(vec![], 0))),
        ("res", Answer::HotelRes(confirmations.clone())),
        ("res none", Answer::HotelRes(vec![])),
        ("res notif", Answer::HotelResNotif(confirmations)),
        ("avail notif", Answer::HotelAvailNotif),
        ("rate notif", Answer::HotelRateAmountNotif),
        ("cancel", Answer::Cancel(Cancellation { unique_ids: vec![unique.clone()], cancellation_id: None, fee: None })),
        (
            "cancel with fee",
            Answer::Cancel(Cancellation {
                unique_ids: vec![unique],
                cancellation_id: Some("C-1".into()),
                fee: Some(Money::new(1, Currency::parse("KWD").unwrap())),
            }),
        ),
        ("no errors given", Answer::Errors(Message::HotelRes, vec![])),
    ];
    all.extend(Message::ALL.map(|m| ("errors", errors(m))));
    all
}

fn reply(version: SoapVersion) -> innkeep_channels::ota::Reply {
    innkeep_channels::ota::Reply { version, echo_token: Some("echo <1>".into()), now: now() }
}

/// The local name and namespace of the root element and of its first child element.
fn root_and_first_child(xml: &[u8]) -> Vec<(String, String)> {
    let mut reader = NsReader::from_reader(xml);
    let mut buf = Vec::new();
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let (ns, event) = reader.read_resolved_event_into(&mut buf).unwrap();
        let ns = match ns {
            ResolveResult::Bound(ns) => String::from_utf8_lossy(ns.as_ref()).into_owned(),
            _ => String::new(),
        };
        match event {
            Event::Start(e) | Event::Empty(e) => {
                seen.push((String::from_utf8_lossy(e.local_name().as_ref()).into_owned(), ns));
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    seen
}

/// The OTA element of a rendered body, as a document of its own.
fn inner_rs(xml: &str, rs: &str) -> String {
    let start = xml.find(&format!("<{rs} ")).unwrap_or_else(|| panic!("no {rs} in {xml}"));
    let close = format!("</{rs}>");
    let end = xml.find(&close).unwrap_or_else(|| panic!("no {close} in {xml}")) + close.len();
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>{}", &xml[start..end])
}

#[test]
fn responses_carry_the_echo_token_time_stamp_and_escaped_values() {
    let body = render(&reply(SoapVersion::Bare), &answers()[0].1);
    let text = String::from_utf8(body).unwrap();
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><OTA_HotelAvailRS "), "{text}");
    assert!(text.contains("EchoToken=\"echo &lt;1&gt;\""), "{text}");
    assert!(text.contains("TimeStamp=\"2026-08-22T07:36:47Z\""), "{text}");
    assert!(text.contains("Version=\"6.001\""), "{text}");
    assert!(text.contains("<Text>Double &lt;sea view&gt; &amp; balcony</Text>"), "{text}");
    assert!(text.contains("AmountAfterTax=\"240.00\" CurrencyCode=\"EUR\" DecimalPlaces=\"2\""), "{text}");
    let errors = String::from_utf8(render(&reply(SoapVersion::Bare), &answers().last().unwrap().1)).unwrap();
    assert!(
        errors.contains("<Error Type=\"10\" Code=\"321\">UniqueID/@ID &lt;&amp;\"'&gt; is missing</Error>"),
        "{errors}"
    );
    assert!(errors.contains("Status=\"Unsuccessful\""), "{errors}");
}

#[test]
fn an_envelope_is_answered_in_its_own_soap_version() {
    let envelope = read(wrap(&sample("2011B-OTA_CancelRQ.xml"), SoapVersion::Soap12).as_bytes()).unwrap();
    let reply = envelope.reply(now());
    assert_eq!(reply.echo_token.as_deref(), Some("892345"));
    let Ok(Request::Cancel(cancel)) = &envelope.request else { panic!() };
    let answer =
        Answer::Cancel(Cancellation { unique_ids: cancel.unique_ids.clone(), cancellation_id: None, fee: None });
    let body = render(&reply, &answer);
    let parts = root_and_first_child(&body);
    assert_eq!(parts[0], ("Envelope".to_owned(), SOAP12.to_owned()));
    assert_eq!(parts[1], ("Body".to_owned(), SOAP12.to_owned()));
    assert_eq!(SoapVersion::Soap12.content_type(), "application/soap+xml; charset=utf-8");
}

#[test]
fn faults_name_their_code_in_each_soap_version() {
    let fault = fault_of(b"<nope/>");
    let soap11 = String::from_utf8(render_fault(&fault)).unwrap();
    assert!(soap11.contains("<faultcode>soap:Client</faultcode>"), "{soap11}");
    assert_eq!(root_and_first_child(soap11.as_bytes())[0].1, SOAP11);
    assert_eq!(fault.http_status(), 500);
    let fault = Fault { version: SoapVersion::Soap12, ..fault };
    let soap12 = String::from_utf8(render_fault(&fault)).unwrap();
    assert!(soap12.contains("<env:Value>env:Sender</env:Value>"), "{soap12}");
    assert!(soap12.contains("<env:Text xml:lang=\"en\">"), "{soap12}");
    assert_eq!(root_and_first_child(soap12.as_bytes())[0].1, SOAP12);
    assert_eq!(fault.http_status(), 400);
}

/// xmllint and the 2011B schemas unpacked in a temporary folder; `None` (with a note) when
/// xmllint or tar is missing, unless INNKEEP_TEST_REQUIRE_SERVERS=1.
fn schema_tools() -> Option<tempfile::TempDir> {
    let works = |tool: &str| Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success());
    if !works("xmllint") || !works("tar") {
        assert!(
            std::env::var("INNKEEP_TEST_REQUIRE_SERVERS").as_deref() != Ok("1"),
            "xmllint (libxml2-utils) and tar are required when INNKEEP_TEST_REQUIRE_SERVERS=1"
        );
        eprintln!("skipped: xmllint or tar is not installed (apt-get install libxml2-utils)");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let tarball = corpus_dir().join("xsd/opentravel-2011B-hotel-xsd.tar.xz");
    let status = Command::new("tar").arg("-xJf").arg(&tarball).arg("-C").arg(dir.path()).status().unwrap();
    assert!(status.success(), "tar -xJf {}", tarball.display());
    Some(dir)
}

/// Validates `files` against `schema` in one xmllint run.
fn xmllint(schema: &Path, files: &[PathBuf]) {
    let output = Command::new("xmllint").arg("--noout").arg("--schema").arg(schema).args(files).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "xmllint --schema {}:\n{stderr}", schema.display());
    assert_eq!(stderr.matches(" validates").count(), files.len(), "{stderr}");
}

#[test]
fn every_response_validates_against_the_2011b_schemas() {
    let Some(xsd) = schema_tools() else { return };
    let out = tempfile::tempdir().unwrap();
    let mut by_schema: BTreeMap<&str, Vec<PathBuf>> = BTreeMap::new();
    for (i, (label, answer)) in answers().iter().enumerate() {
        let rs = answer.message().response_name();
        for version in VERSIONS {
            let body = String::from_utf8(render(&reply(version), answer)).unwrap();
            let document = match version {
                SoapVersion::Bare => body,
                _ => {
                    let ns = if version == SoapVersion::Soap11 { SOAP11 } else { SOAP12 };
                    let parts = root_and_first_child(body.as_bytes());
                    assert_eq!(parts, [("Envelope".into(), ns.into()), ("Body".into(), ns.into())], "{label}");
                    inner_rs(&body, rs)
                }
            };
            assert_eq!(root_and_first_child(document.as_bytes())[0].0, rs, "{label}");
            let file = out.path().join(format!("{i:02}-{version:?}-{rs}.xml"));
            std::fs::write(&file, document).unwrap();
            by_schema.entry(rs).or_default().push(file);
        }
    }
    assert_eq!(by_schema.len(), 6, "one schema per RS");
    for (rs, files) in &by_schema {
        xmllint(&xsd.path().join(format!("{rs}.xsd")), files);
    }
}

#[test]
fn the_corpus_requests_validate_against_their_schemas() {
    let Some(xsd) = schema_tools() else { return };
    for name in SAMPLES.iter().filter(|n| n.starts_with("2011B")) {
        let message = name.trim_start_matches("2011B-").trim_end_matches(".xml").trim_end_matches(char::is_numeric);
        xmllint(&xsd.path().join(format!("{message}.xsd")), &[corpus_dir().join(name)]);
    }
    // AlpineBits' schema is one self-contained file.
    let alpinebits = corpus_dir().join("xsd/alpinebits-2018-10.xsd");
    xmllint(&alpinebits, &[corpus_dir().join("alpinebits-2018-10-FreeRooms-OTA_HotelAvailNotifRQ.xml")]);
}

// ---------------------------------------------------------------------------------------
// Bad input never panics
// ---------------------------------------------------------------------------------------

/// Reads `body` and, whatever it is, renders an answer: a fault, or the message's RS with
/// the request's error or a success.
fn read_and_answer(body: &[u8]) -> Result<Envelope, Fault> {
    let result = read(body);
    match &result {
        Err(fault) => {
            let _ = render_fault(fault);
        }
        Ok(envelope) => {
            let reply = envelope.reply(now());
            let answer = match &envelope.request {
                Err(error) => Answer::Errors(envelope.message, vec![error.clone()]),
                Ok(Request::Cancel(c)) => {
                    Answer::Cancel(Cancellation { unique_ids: c.unique_ids.clone(), cancellation_id: None, fee: None })
                }
                Ok(Request::HotelRes(b) | Request::HotelResNotif(b)) => Answer::HotelRes(
                    b.iter()
                        .map(|b| Confirmation {
                            channel_ref: b.channel_ref.clone(),
                            booking_id: "x".into(),
                            status: ResStatus::Book,
                        })
                        .collect(),
                ),
                Ok(_) => Answer::Errors(envelope.message, vec![OtaError::system()]),
            };
            let _ = render(&reply, &answer);
        }
    }
    result
}

#[test]
fn every_prefix_of_every_sample_reads_or_faults() {
    for name in SAMPLES {
        for version in VERSIONS {
            let whole = wrap(&sample(name), version).into_bytes();
            // Cut before the root element's end tag is complete.
            let content = whole.trim_ascii_end().len();
            for cut in (0..content).step_by(13).chain([content - 1]) {
                let result = read_and_answer(&whole[..cut]);
                assert!(result.is_err(), "{name} cut at {cut} of {} read as a request", whole.len());
            }
            assert!(read_and_answer(&whole).is_ok());
        }
    }
}

#[test]
fn huge_values_deep_nesting_and_many_attributes_are_handled() {
    let huge = "H".repeat(2 << 20);
    let document =
        format!("<OTA_CancelRQ {OTA} EchoToken=\"{huge}\"><UniqueID Type=\"14\" ID=\"{huge}\"/></OTA_CancelRQ>");
    let envelope = read_and_answer(document.as_bytes()).unwrap();
    assert_eq!(envelope.echo_token, None);
    let Ok(Request::Cancel(cancel)) = &envelope.request else { panic!() };
    assert_eq!(cancel.channel_ref().len(), huge.len());

    let deep = format!("{}{}", "<a>".repeat(200_000), "</a>".repeat(200_000));
    assert!(fault_of(deep.as_bytes()).reason.contains("deeper"));
    let deep_in_body = wrap(&format!("<OTA_CancelRQ {OTA}>{}</OTA_CancelRQ>", "<x>".repeat(100)), SoapVersion::Soap11);
    assert!(fault_of(deep_in_body.as_bytes()).reason.contains("deeper"));

    let many: String = (0..200_000).map(|i| format!(" a{i}=\"\"")).collect();
    assert!(fault_of(format!("<OTA_CancelRQ{many}/>").as_bytes()).reason.contains("attributes"));
    let prefixes: String = (0..200_000).map(|i| format!(" xmlns:p{i}=\"urn:{i}\"")).collect();
    assert!(fault_of(format!("<OTA_CancelRQ{prefixes}/>").as_bytes()).reason.contains("attributes"));
    let wide = format!("<OTA_CancelRQ {OTA}>{}</OTA_CancelRQ>", "<UniqueID/>".repeat(200_000));
    assert!(fault_of(wide.as_bytes()).reason.contains("elements"));
    let room_types: String = (0..20_000).map(|i| format!("<RoomType RoomTypeCode=\"T{i}\"/>")).collect();
    let room_rates: String = (0..20_000)
        .map(|i| {
            format!("<RoomRate RoomTypeCode=\"T{i}\"><GuestCounts><GuestCount Count=\"1\"/></GuestCounts></RoomRate>")
        })
        .collect();
    let many_rooms = format!(
        "<OTA_HotelResRQ {OTA}><HotelReservations><HotelReservation><UniqueID Type=\"14\" ID=\"R\"/><RoomStays>\
         <RoomStay><RoomTypes>{room_types}</RoomTypes><RoomRates>{room_rates}</RoomRates>\
         <TimeSpan Start=\"2026-01-01\" End=\"2026-01-02\"/><BasicPropertyInfo HotelCode=\"H\"/></RoomStay>\
         </RoomStays></HotelReservation></HotelReservations></OTA_HotelResRQ>"
    );
    let error = read_and_answer(many_rooms.as_bytes()).unwrap().request.unwrap_err();
    // Every room type was read (each found its rate), up to the missing guest.
    assert!(error.text.contains("ResGuests/ResGuest"), "{error:?}");
    let duplicate = format!("<OTA_CancelRQ {OTA}><UniqueID Type=\"14\" ID=\"A\" ID=\"B\"/></OTA_CancelRQ>");
    assert_eq!(fault_of(duplicate.as_bytes()).code, FaultCode::Sender);
}

/// Pieces of XML and OTA that matter to the reader, so that mutations hit interesting cases.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("<".to_owned()),
        Just(">".to_owned()),
        Just("/>".to_owned()),
        Just("\"".to_owned()),
        Just("&".to_owned()),
        Just("&amp;".to_owned()),
        Just("&#0;".to_owned()),
        Just("&#x10FFFF;".to_owned()),
        Just("<![CDATA[x]]>".to_owned()),
        Just("<!-- c -->".to_owned()),
        Just("<!DOCTYPE x>".to_owned()),
        Just(" xmlns=\"urn:x\"".to_owned()),
        Just(" xmlns=\"\"".to_owned()),
        Just(" xmlns:p=\"http://www.opentravel.org/OTA/2003/05\"".to_owned()),
        Just("p:".to_owned()),
        Just(" Start=\"2026-13-01\"".to_owned()),
        Just(" End=\"0000-01-01\"".to_owned()),
        Just(" Duration=\"P999N\"".to_owned()),
        Just(" Count=\"65536\"".to_owned()),
        Just(" AmountAfterTax=\"99999999999999999999.99\"".to_owned()),
        Just(" DecimalPlaces=\"99\"".to_owned()),
        Just(" CurrencyCode=\"JPY\"".to_owned()),
        Just(" ID=\"\"".to_owned()),
        Just("<UniqueID Type=\"14\" ID=\"Z\"/>".to_owned()),
        Just("<HotelRef HotelCode=\"H\"/>".to_owned()),
        Just("<BasicPropertyInfo HotelCode=\"H\"/>".to_owned()),
        Just("<GuestCount Count=\"2\" AgeQualifyingCode=\"8\"/>".to_owned()),
        Just("</RoomStay>".to_owned()),
        Just("\u{0}".to_owned()),
        Just("é".to_owned()),
        "[a-zA-Z0-9 =\"<>/:.&;#-]{0,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn mutated_samples_never_panic(
        file in 0..SAMPLES.len(),
        version in 0..3usize,
        cut in 0.5f64..=1.0,
        edits in prop::collection::vec((0.0f64..1.0, piece()), 0..6),
    ) {
        let mut text = wrap(&sample(SAMPLES[file]), VERSIONS[version]).into_bytes();
        text.truncate((text.len() as f64 * cut) as usize);
        for (at, replacement) in edits {
            let i = ((text.len() as f64) * at) as usize;
            let end = (i + 1).min(text.len());
            text.splice(i..end, replacement.into_bytes());
        }
        let _ = read_and_answer(&text);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = read_and_answer(&bytes);
    }

    #[test]
    fn arbitrary_markup_never_panics(text in "[<>/a-zA-Z=\" &;#:!?\\[\\]-]{0,200}") {
        let _ = read_and_answer(text.as_bytes());
    }
}
