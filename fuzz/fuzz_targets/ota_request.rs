//! OpenTravel requests from channel managers: any bytes into `ota::read`, and whatever it
//! reads answered with `ota::render` (a success built from the request, and its errors) or
//! `ota::render_fault`. The properties: no panic, no hang (the reader's limits bound the
//! work), and every answer is well-formed XML whatever the request echoed into it.
#![no_main]

use innkeep_channels::ota::{
    self, Answer, AvailAnswer, AvailOffer, Cancellation, Confirmation, OtaError, Request, ResStatus,
};
use innkeep_core::{Currency, Money};
use libfuzzer_sys::fuzz_target;
use quick_xml::Reader;
use quick_xml::events::Event;

fuzz_target!(|data: &[u8]| {
    let envelope = match ota::read(data) {
        Ok(envelope) => envelope,
        Err(fault) => return well_formed(&ota::render_fault(&fault)),
    };
    let reply = envelope.reply(jiff::Timestamp::UNIX_EPOCH);
    let answer = match &envelope.request {
        Err(error) => Answer::Errors(envelope.message, vec![error.clone()]),
        Ok(request) => success(request),
    };
    well_formed(&ota::render(&reply, &answer));
    let refused = Answer::Errors(envelope.message, vec![OtaError::not_authorized(), OtaError::system()]);
    well_formed(&ota::render(&reply, &refused));
});

/// A success answer echoing what the request holds.
fn success(request: &Request) -> Answer {
    let eur = Currency::parse("EUR").expect("EUR is a currency");
    match request {
        Request::HotelAvail(query) => Answer::HotelAvail(AvailAnswer {
            hotel_code: query.hotel_code.clone(),
            check_in: query.check_in,
            check_out: query.check_out,
            adults: query.rooms.iter().map(|r| r.adults).max().unwrap_or(0),
            children: query.rooms.iter().map(|r| r.children).max().unwrap_or(0),
            offers: query
                .rooms
                .iter()
                .filter_map(|r| r.room_type_code.clone())
                .map(|code| AvailOffer {
                    room_type_code: code,
                    room_type_name: None,
                    units: 1,
                    rate_plan_code: query.rate_plan_codes.first().cloned().unwrap_or_default(),
                    total: Money::new(-1, query.currency.unwrap_or(eur)),
                    nights: Vec::new(),
                })
                .collect(),
        }),
        Request::HotelRes(bookings) | Request::HotelResNotif(bookings) => {
            let confirmations = bookings
                .iter()
                .map(|b| Confirmation {
                    channel_ref: b.channel_ref.clone(),
                    booking_id: b.guest.surname.clone(),
                    status: ResStatus::Commit,
                })
                .collect();
            match request {
                Request::HotelRes(_) => Answer::HotelRes(confirmations),
                _ => Answer::HotelResNotif(confirmations),
            }
        }
        Request::HotelAvailNotif(_) => Answer::HotelAvailNotif,
        Request::HotelRateAmountNotif(_) => Answer::HotelRateAmountNotif,
        Request::Cancel(cancel) => Answer::Cancel(Cancellation {
            unique_ids: cancel.unique_ids.clone(),
            cancellation_id: cancel.hotel_code.clone(),
            fee: Some(Money::new(i64::MIN, eur)),
        }),
    }
}

/// Parses `body` to its end: one root element, tags balanced, values escaped.
fn well_formed(body: &[u8]) {
    let text = std::str::from_utf8(body).expect("answers are UTF-8");
    let mut reader = Reader::from_str(text);
    let mut depth = 0usize;
    let mut roots = 0usize;
    loop {
        match reader.read_event().unwrap_or_else(|e| panic!("answer is not well-formed: {e}\n{text}")) {
            Event::Start(_) => {
                roots += usize::from(depth == 0);
                depth += 1;
            }
            Event::Empty(_) => roots += usize::from(depth == 0),
            Event::End(_) => depth -= 1,
            Event::GeneralRef(r) => {
                let name = r.decode().expect("UTF-8");
                let known = r.resolve_char_ref().is_ok_and(|c| c.is_some())
                    || quick_xml::escape::resolve_predefined_entity(&name).is_some();
                assert!(known, "unknown entity &{name}; in\n{text}");
            }
            Event::DocType(_) => panic!("a DOCTYPE in an answer"),
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!((depth, roots), (0, 1), "{text}");
}
