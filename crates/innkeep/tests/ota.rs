//! The OpenTravel (OTA) interface at /ota on a running node (issue 22): a channel manager,
//! authenticated by a WS-Security UsernameToken carrying the tenant's `channel` API key,
//! pushes rates and availability, reads offers, books (idempotent by its reference) and
//! cancels; a booking it makes is on the host's calendar and in the export feed, and races a
//! booking on the web for the last unit without overselling; bad XML, bad credentials,
//! another tenant's hotel and unknown room types get OTA errors (or a SOAP fault) and change
//! nothing. Every answer is checked against OpenTravel's 2011B schemas with `xmllint`, and
//! every sample request of the corpus gets a valid answer.

use crate::common;

use common::TestApp;
use reqwest::Method;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const SOAP11: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const SOAP12: &str = "http://www.w3.org/2003/05/soap-envelope";
const WSSE: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
const OTA: &str = "http://www.opentravel.org/OTA/2003/05";

/// A node with calendar sync (and so the OTA interface) on, on SQLite.
async fn app() -> TestApp {
    common::spawn_app().await
}

/// A host with a one-unit room type mapped as hotel `hotel` / room `DBL`, and its channel
/// key: (host token, room type, key).
async fn hotel(app: &TestApp, hotel: &str) -> (String, String, String) {
    let host = app.user("host").await;
    let property = app.property(&host, "flexible").await;
    let room_type = app.room_type(&host, &property, 1).await;
    let codes = json!({"hotel_code": hotel, "room_types": {"DBL": room_type}});
    let r = app.call(Method::PUT, &format!("/api/v1/properties/{property}/ota-codes"), Some(&host), Some(codes)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app.post("/api/v1/api-keys", Some(&host), json!({"name": "Channel manager", "scopes": ["channel"]})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    (host, room_type, r.body["key"].as_str().unwrap().to_string())
}

/// `inner` (an OTA request) in a SOAP 1.1 envelope with a UsernameToken.
fn soap11(key: &str, inner: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{SOAP11}"><soap:Header><wsse:Security xmlns:wsse="{WSSE}"><wsse:UsernameToken><wsse:Username>channel</wsse:Username><wsse:Password>{key}</wsse:Password></wsse:UsernameToken></wsse:Security></soap:Header><soap:Body>{inner}</soap:Body></soap:Envelope>"#
    )
}

fn soap12(key: &str, inner: &str) -> String {
    soap11(key, inner).replace(SOAP11, SOAP12)
}

/// POST a body to /ota: (status, content type, body).
async fn post(app: &TestApp, body: String) -> (u16, String, String) {
    let r = app
        .client
        .post(app.url("/ota"))
        .header("Content-Type", "text/xml; charset=utf-8")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    (status, ct, r.text().await.unwrap())
}

/// OpenTravel's 2011B schemas, unpacked once per test; `None` (with a note) where xmllint or
/// tar is missing and servers are not required.
fn schemas() -> Option<tempfile::TempDir> {
    let tools = ["xmllint", "tar"]
        .iter()
        .all(|t| std::process::Command::new("which").arg(t).output().is_ok_and(|o| o.status.success()));
    if !tools {
        assert!(!common::receivers::servers_required(), "xmllint (libxml2-utils) and tar are required");
        eprintln!("skipped: xmllint or tar is missing");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let tarball = corpus().join("xsd/opentravel-2011B-hotel-xsd.tar.xz");
    let ok = std::process::Command::new("tar").arg("-xJf").arg(&tarball).arg("-C").arg(dir.path()).status().unwrap();
    assert!(ok.success(), "unpacking {}", tarball.display());
    Some(dir)
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../channels/tests/corpus/ota")
}

/// The OTA response inside `body` (its element `name`), checked against its schema.
fn valid(schemas: Option<&tempfile::TempDir>, body: &str, name: &str) -> String {
    let start = body.find(&format!("<{name}")).unwrap_or_else(|| panic!("no {name} in {body}"));
    let end = body.rfind(&format!("</{name}>")).map(|e| e + name.len() + 3).unwrap_or_else(|| panic!("{body}"));
    let inner = &body[start..end];
    assert!(inner.contains(OTA), "{inner}");
    if let Some(dir) = schemas {
        let file = dir.path().join(format!("{name}-answer.xml"));
        std::fs::write(&file, inner).unwrap();
        let out = std::process::Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(dir.path().join(format!("{name}.xsd")))
            .arg(&file)
            .output()
            .unwrap();
        assert!(out.status.success(), "{name} does not validate: {}\n{inner}", String::from_utf8_lossy(&out.stderr));
    }
    inner.to_string()
}

async fn calendar(app: &TestApp, host: &str, room_type: &str, from: &str, to: &str) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/room-types/{room_type}/calendar?from={from}&to={to}"), Some(host)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["nights"].as_array().unwrap().clone()
}

fn res_rq(hotel: &str, reference: &str, room: &str, from: &str, to: &str) -> String {
    format!(
        r#"<OTA_HotelResRQ xmlns="{OTA}" EchoToken="res-{reference}" Version="1.003"><HotelReservations><HotelReservation><UniqueID Type="14" ID="{reference}"/><RoomStays><RoomStay><RoomTypes><RoomType RoomTypeCode="{room}"/></RoomTypes><GuestCounts><GuestCount AgeQualifyingCode="10" Count="2"/></GuestCounts><TimeSpan Start="{from}" End="{to}"/><BasicPropertyInfo HotelCode="{hotel}"/></RoomStay></RoomStays><ResGuests><ResGuest><Profiles><ProfileInfo><Profile><Customer><PersonName><GivenName>Maria</GivenName><Surname>Costa</Surname></PersonName><Email>maria@example.com</Email></Customer></Profile></ProfileInfo></Profiles></ResGuest></ResGuests></HotelReservation></HotelReservations></OTA_HotelResRQ>"#
    )
}

#[tokio::test]
async fn a_channel_manager_pushes_rates_and_availability_books_and_cancels() {
    let app = app().await;
    let xsd = schemas();
    let (host, room_type, key) = hotel(&app, "LISBOA").await;

    // Rates: 150.00 a night before charges, 2027-03-01 to 03-09 (End is the last night).
    let rates = format!(
        r#"<OTA_HotelRateAmountNotifRQ xmlns="{OTA}" Version="1.0"><RateAmountMessages HotelCode="LISBOA"><RateAmountMessage><StatusApplicationControl Start="2027-03-01" End="2027-03-09" InvTypeCode="DBL" RatePlanCode="STANDARD"/><Rates><Rate><BaseByGuestAmts><BaseByGuestAmt AmountBeforeTax="150.00" CurrencyCode="EUR"/></BaseByGuestAmts></Rate></Rates></RateAmountMessage></RateAmountMessages></OTA_HotelRateAmountNotifRQ>"#
    );
    let (status, ct, body) = post(&app, soap11(&key, &rates)).await;
    assert_eq!((status, ct.as_str()), (200, "text/xml; charset=utf-8"), "{body}");
    assert!(valid(xsd.as_ref(), &body, "OTA_HotelRateAmountNotifRS").contains("<Success"), "{body}");
    let nights = calendar(&app, &host, &room_type, "2027-03-01", "2027-03-11").await;
    assert!(nights[..9].iter().all(|n| n["price"] == 15000), "{nights:?}");
    assert_eq!(nights[9]["price"], 10000, "the 10th is not in the range");

    // Availability: 03-05 closed, and SOAP 1.2 this time.
    let avail = format!(
        r#"<OTA_HotelAvailNotifRQ xmlns="{OTA}" Version="1.0"><AvailStatusMessages HotelCode="LISBOA"><AvailStatusMessage><StatusApplicationControl Start="2027-03-05" End="2027-03-05" InvTypeCode="DBL"/><RestrictionStatus Status="Close" Restriction="Master"/></AvailStatusMessage></AvailStatusMessages></OTA_HotelAvailNotifRQ>"#
    );
    let (status, ct, body) = post(&app, soap12(&key, &avail)).await;
    assert_eq!((status, ct.as_str()), (200, "application/soap+xml; charset=utf-8"), "{body}");
    assert!(body.contains(SOAP12), "answered in the request's envelope: {body}");
    assert!(valid(xsd.as_ref(), &body, "OTA_HotelAvailNotifRS").contains("<Success"), "{body}");
    let nights = calendar(&app, &host, &room_type, "2027-03-04", "2027-03-06").await;
    assert_eq!((nights[0]["closed"].as_bool(), nights[1]["closed"].as_bool()), (Some(false), Some(true)));

    // Offers for two nights: the room at 2 x 150.00 plus 6% VAT.
    let ask = format!(
        r#"<OTA_HotelAvailRQ xmlns="{OTA}" EchoToken="ask-1" Version="1.0"><AvailRequestSegments><AvailRequestSegment><HotelSearchCriteria><Criterion><HotelRef HotelCode="LISBOA"/><StayDateRange Start="2027-03-01" End="2027-03-03"/><RoomStayCandidates><RoomStayCandidate Quantity="1"><GuestCounts><GuestCount AgeQualifyingCode="10" Count="2"/></GuestCounts></RoomStayCandidate></RoomStayCandidates></Criterion></HotelSearchCriteria></AvailRequestSegment></AvailRequestSegments></OTA_HotelAvailRQ>"#
    );
    let (status, _, body) = post(&app, soap11(&key, &ask)).await;
    assert_eq!(status, 200, "{body}");
    let rs = valid(xsd.as_ref(), &body, "OTA_HotelAvailRS");
    assert!(rs.contains("EchoToken=\"ask-1\"") && rs.contains("RoomTypeCode=\"DBL\""), "{rs}");
    assert!(rs.contains("AmountAfterTax=\"318.00\""), "two nights at 150.00 plus 6%: {rs}");

    // A reservation: confirmed, on the calendar, in the export feed; sent again, the same one.
    let (status, _, body) =
        post(&app, soap11(&key, &res_rq("LISBOA", "CHM-1001", "DBL", "2027-03-01", "2027-03-03"))).await;
    assert_eq!(status, 200, "{body}");
    let rs = valid(xsd.as_ref(), &body, "OTA_HotelResRS");
    let id = rs
        .split("ResID_Value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("{rs}"))
        .to_string();
    let b = app.get(&format!("/api/v1/bookings/{id}"), Some(&host)).await;
    assert_eq!(
        (b.body["status"].as_str(), b.body["guest"]["name"].as_str()),
        (Some("confirmed"), Some("Maria Costa")),
        "{}",
        b.body
    );
    let (_, _, again) =
        post(&app, soap11(&key, &res_rq("LISBOA", "CHM-1001", "DBL", "2027-03-01", "2027-03-03"))).await;
    assert!(again.contains(&format!("ResID_Value=\"{id}\"")), "the same booking: {again}");
    let nights = calendar(&app, &host, &room_type, "2027-03-01", "2027-03-03").await;
    assert!(nights.iter().all(|n| n["sold"] == 1), "{nights:?}");
    let r = app.post(&format!("/api/v1/room-types/{room_type}/ical-export"), Some(&host), json!({})).await;
    let url = r.body["url"].as_str().unwrap();
    let feed = app.client.get(app.url(&url[url.find("/ical/").unwrap()..])).send().await.unwrap().text().await.unwrap();
    assert!(
        feed.contains("DTSTART;VALUE=DATE:20270301\r\n") && feed.contains("DTEND;VALUE=DATE:20270303\r\n"),
        "{feed}"
    );

    // Cancelled by reference; cancelling again answers the same.
    let cancel = format!(
        r#"<OTA_CancelRQ xmlns="{OTA}" Version="1.0" CancelType="Commit"><UniqueID Type="14" ID="CHM-1001"/></OTA_CancelRQ>"#
    );
    for _ in 0..2 {
        let (status, _, body) = post(&app, soap11(&key, &cancel)).await;
        assert_eq!(status, 200, "{body}");
        assert!(valid(xsd.as_ref(), &body, "OTA_CancelRS").contains("<Success"), "{body}");
    }
    let b = app.get(&format!("/api/v1/bookings/{id}"), Some(&host)).await;
    assert_eq!(b.body["status"], "cancelled", "{}", b.body);
    assert!(calendar(&app, &host, &room_type, "2027-03-01", "2027-03-03").await.iter().all(|n| n["sold"] == 0));
    app.stop().await;
}

#[tokio::test]
async fn bad_xml_bad_credentials_and_other_tenants_hotels_get_ota_errors_and_change_nothing() {
    let app = app().await;
    let xsd = schemas();
    let (host, room_type, key) = hotel(&app, "LISBOA").await;
    let (_, _, other_key) = hotel(&app, "PORTO").await;
    let book = res_rq("LISBOA", "CHM-2001", "DBL", "2027-04-01", "2027-04-03");

    // Not XML, a DOCTYPE (entities), an unknown message: SOAP faults, 400.
    for body in [
        "this is not xml".to_string(),
        soap11(&key, "<OTA_Unknown xmlns=\"http://www.opentravel.org/OTA/2003/05\"/>"),
        format!(
            "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaa\">]>{}",
            soap11(&key, &book).replace("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", "")
        ),
    ] {
        let (status, _, answer) = post(&app, body).await;
        assert_eq!(status, 400, "{answer}");
        assert!(answer.contains("Fault"), "{answer}");
    }
    // Wrong or missing credentials: 497, in the message's own answer.
    for body in [soap11("ik_not_a_key", &book), soap11("", &book), book.clone()] {
        let (status, _, answer) = post(&app, body).await;
        assert_eq!(status, 200, "{answer}");
        let rs = valid(xsd.as_ref(), &answer, "OTA_HotelResRS");
        assert!(rs.contains("Code=\"497\""), "{rs}");
    }
    // Another tenant's key does not know this hotel: 392, as an unknown one.
    let (_, _, answer) = post(&app, soap11(&other_key, &book)).await;
    assert!(valid(xsd.as_ref(), &answer, "OTA_HotelResRS").contains("Code=\"392\""), "{answer}");
    // An unknown room type: 402; a reservation without its reference: 321.
    let (_, _, answer) =
        post(&app, soap11(&key, &res_rq("LISBOA", "CHM-2002", "SUITE", "2027-04-01", "2027-04-03"))).await;
    assert!(valid(xsd.as_ref(), &answer, "OTA_HotelResRS").contains("Code=\"402\""), "{answer}");
    let (_, _, answer) = post(&app, soap11(&key, &book.replace("<UniqueID Type=\"14\" ID=\"CHM-2001\"/>", ""))).await;
    assert!(valid(xsd.as_ref(), &answer, "OTA_HotelResRS").contains("Code=\"321\""), "{answer}");
    // Cancelling what was never booked: 245.
    let cancel =
        format!(r#"<OTA_CancelRQ xmlns="{OTA}" Version="1.0"><UniqueID Type="14" ID="NOPE-1"/></OTA_CancelRQ>"#);
    let (_, _, answer) = post(&app, soap11(&key, &cancel)).await;
    assert!(valid(xsd.as_ref(), &answer, "OTA_CancelRS").contains("Code=\"245\""), "{answer}");
    // Nothing changed.
    let nights = calendar(&app, &host, &room_type, "2027-04-01", "2027-04-03").await;
    assert!(nights.iter().all(|n| n["sold"] == 0 && n["closed"] == false), "{nights:?}");
    let bookings = app.get("/api/v1/bookings", Some(&host)).await;
    assert_eq!(bookings.body.as_array().map(Vec::len), Some(0), "{}", bookings.body);
    app.stop().await;
}

#[tokio::test]
async fn every_sample_request_of_the_corpus_gets_a_valid_answer() {
    let app = app().await;
    let xsd = schemas();
    let (_, _, key) = hotel(&app, "LISBOA").await;
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus()).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut answered = 0;
    for file in files.iter().filter(|f| f.to_string_lossy().ends_with("RQ.xml") || f.to_string_lossy().contains("RQ")) {
        let text = std::fs::read_to_string(file).unwrap();
        let Some(start) = text.find("<OTA_") else { continue };
        let name = text[start + 1..].split([' ', '>', '\n', '\t']).next().unwrap().to_string();
        let rs = name.trim_end_matches("RQ").to_string() + "RS";
        let (status, _, answer) = post(&app, soap11(&key, &text[start..])).await;
        assert_eq!(status, 200, "{}: {answer}", file.display());
        valid(xsd.as_ref(), &answer, &rs);
        answered += 1;
    }
    assert_eq!(answered, 7, "the seven sample requests");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_channel_booking_and_a_web_booking_of_the_last_unit_at_once_sell_it_once() {
    let app = Arc::new(app().await);
    let (host, room_type, key) = hotel(&app, "LISBOA").await;
    let guest = app.user("guest").await;
    for day in 1..=10 {
        let (from, to) = (format!("2027-05-{day:02}"), format!("2027-05-{:02}", day + 1));
        let ota = {
            let (app, key, from, to) = (app.clone(), key.clone(), from.clone(), to.clone());
            tokio::spawn(async move {
                post(&app, soap11(&key, &res_rq("LISBOA", &format!("RACE-{day}"), "DBL", &from, &to))).await
            })
        };
        let web = {
            let (app, guest, room_type, from, to) =
                (app.clone(), guest.clone(), room_type.clone(), from.clone(), to.clone());
            tokio::spawn(async move { app.book(&guest, &room_type, &from, &to, None).await })
        };
        let (ota, web) = (ota.await.unwrap(), web.await.unwrap());
        let ota_won = ota.2.contains("<Success");
        let web_won = web.status == 201;
        assert!(
            ota_won != web_won,
            "exactly one of them gets the unit on {from}: ota {}, web {} {}",
            ota.2,
            web.status,
            web.body
        );
        if !ota_won {
            assert!(ota.2.contains("Code=\"322\""), "the channel is told there is no availability: {}", ota.2);
        }
        let nights = calendar(&app, &host, &room_type, &from, &to).await;
        assert_eq!(nights[0]["sold"], 1, "{nights:?}");
    }
}

#[tokio::test]
async fn a_channel_reservation_of_two_units_with_a_child_s_age_is_one_booking_of_two_rooms_priced_by_age() {
    let app = app().await;
    let xsd = schemas();
    let host = app.user("host").await;
    let property = app.property(&host, "flexible").await;
    let mut body = common::room_type_body(3);
    body["rate_plan"]["child_rates"] = json!([{"max_age": 11, "per_night_minor": 2000}]);
    let r = app.post(&format!("/api/v1/properties/{property}/room-types"), Some(&host), body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let room_type = r.body["id"].as_str().unwrap().to_string();
    let codes = json!({"hotel_code": "FAMILIA", "room_types": {"FAM": room_type}});
    let r = app.call(Method::PUT, &format!("/api/v1/properties/{property}/ota-codes"), Some(&host), Some(codes)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app.post("/api/v1/api-keys", Some(&host), json!({"name": "Channel manager", "scopes": ["channel"]})).await;
    let key = r.body["key"].as_str().unwrap().to_string();

    let res = |reference: &str, units: u16, counts: &str| {
        format!(
            r#"<OTA_HotelResNotifRQ xmlns="{OTA}" Version="1.0"><HotelReservations><HotelReservation ResStatus="Commit"><UniqueID Type="14" ID="{reference}"/><RoomStays><RoomStay><RoomTypes><RoomType RoomTypeCode="FAM" NumberOfUnits="{units}"/></RoomTypes><GuestCounts>{counts}</GuestCounts><TimeSpan Start="2027-04-01" End="2027-04-03"/><BasicPropertyInfo HotelCode="FAMILIA"/></RoomStay></RoomStays><ResGuests><ResGuest><Profiles><ProfileInfo><Profile><Customer><PersonName><GivenName>Rui</GivenName><Surname>Lopes</Surname></PersonName><Email>rui@example.com</Email></Customer></Profile></ProfileInfo></Profiles></ResGuest></ResGuests></HotelReservation></HotelReservations></OTA_HotelResNotifRQ>"#
        )
    };
    let family =
        r#"<GuestCount AgeQualifyingCode="10" Count="3"/><GuestCount AgeQualifyingCode="8" Age="7" Count="1"/>"#;

    // The channel's offers for two rooms price the child by age.
    let ask = format!(
        r#"<OTA_HotelAvailRQ xmlns="{OTA}" Version="1.0"><AvailRequestSegments><AvailRequestSegment><HotelSearchCriteria><Criterion><HotelRef HotelCode="FAMILIA"/><StayDateRange Start="2027-04-01" End="2027-04-03"/><RoomStayCandidates><RoomStayCandidate Quantity="2"><GuestCounts>{family}</GuestCounts></RoomStayCandidate></RoomStayCandidates></Criterion></HotelSearchCriteria></AvailRequestSegment></AvailRequestSegments></OTA_HotelAvailRQ>"#
    );
    let (status, _, body) = post(&app, soap11(&key, &ask)).await;
    assert_eq!(status, 200, "{body}");
    let rs = valid(xsd.as_ref(), &body, "OTA_HotelAvailRS");
    // Two rooms at 2 x 100.00 and the child at 2 x 20.00, plus 6% VAT.
    assert!(rs.contains("AmountAfterTax=\"466.40\""), "{rs}");

    // Without the child's age the room type cannot price the stay: refused, nothing sold.
    let unaged = r#"<GuestCount AgeQualifyingCode="10" Count="3"/><GuestCount AgeQualifyingCode="8" Count="1"/>"#;
    let (status, _, body) = post(&app, soap11(&key, &res("FAM-0", 2, unaged))).await;
    assert_eq!(status, 200, "{body}");
    let rs = valid(xsd.as_ref(), &body, "OTA_HotelResNotifRS");
    assert!(rs.contains("<Errors>") && rs.contains("child_ages"), "{rs}");
    // Two units for three adults cannot seat a lone adult in three rooms: refused as well.
    let (_, _, body) = post(&app, soap11(&key, &res("FAM-1", 4, family))).await;
    assert!(body.contains("<Errors>"), "{body}");
    assert!(calendar(&app, &host, &room_type, "2027-04-01", "2027-04-03").await.iter().all(|n| n["sold"] == 0));

    let (status, _, body) = post(&app, soap11(&key, &res("FAM-2", 2, family))).await;
    assert_eq!(status, 200, "{body}");
    let rs = valid(xsd.as_ref(), &body, "OTA_HotelResNotifRS");
    let id = rs.split("ResID_Value=\"").nth(1).and_then(|s| s.split('"').next()).unwrap_or_else(|| panic!("{rs}"));
    let b = app.get(&format!("/api/v1/bookings/{id}"), Some(&host)).await;
    assert_eq!(b.status, 200, "{}", b.body);
    assert_eq!(
        (b.body["rooms"].as_u64(), b.body["adults"].as_u64(), b.body["child_ages"][0].as_u64()),
        (Some(2), Some(3), Some(7)),
        "{}",
        b.body
    );
    assert_eq!(b.body["total"]["minor"], 46_640, "{}", b.body);
    let nights = calendar(&app, &host, &room_type, "2027-04-01", "2027-04-03").await;
    assert!(nights.iter().all(|n| n["sold"] == 2), "one booking, two units each night: {nights:?}");
    app.stop().await;
}
