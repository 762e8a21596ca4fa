//! Guest pages: search, results with a map, a property, checkout, and my trips.

use crate::i18n::{t, tf};
use crate::page::{Ctx, Fields, FormErrors, PageError, PageResult, day, money, render};
use crate::seams::{StayQuery, destinations, find_stays};
use crate::session::Visitor;
use askama::Template;
use axum::extract::{Path, Query, State};
use innkeep_app::booking::{Action, PlaceBooking, act, list_bookings, place_booking, visible_booking};
use innkeep_app::node::AppState;
use innkeep_app::report::utc_day as utc_today;
use innkeep_app::store::{Booking, BookingFilter, GuestContact, Property};
use innkeep_app::{Actor, AppError, Ports};
use innkeep_core::{BookingId, BookingStatus, Money, Party, PropertyId, PropertyType, Quote, RoomTypeId, Stay};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Deserialize;

/// The search as typed (strings, so any input re-renders rather than failing).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SearchForm {
    pub city: String,
    pub check_in: String,
    pub check_out: String,
    pub adults: String,
    pub children: String,
    /// Rooms of one room type the party shares ("" or "1" for one).
    pub rooms: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub max_price: String,
    /// Only stays rated at least this (7, 8 or 9; "" for any).
    pub min_rating: String,
    /// Per night, in each property's own currency (major units; "" for any).
    pub min_price: String,
    /// "1": only stays cancelled for free until a deadline (flexible or moderate policy).
    pub free_cancellation: String,
    pub sort: String,
    /// A map view, `south,west,north,east` as the API takes it: searches that box instead
    /// of the area around the city.
    pub bbox: String,
    /// "out" while the date picker waits for the check-out day.
    pub pick: String,
    /// The month the date picker shows (`YYYY-MM`; "" for the check-in's).
    pub month: String,
    /// Each child's age, as chosen (repeated `age` parameters, read from the raw query).
    #[serde(skip)]
    pub ages: Vec<String>,
}

// The most children whose ages a form asks for: as many as a party names.
use innkeep_core::MAX_CHILD_AGES;

/// Every value of a repeated query parameter.
pub(crate) fn repeated(raw: Option<&str>, name: &str) -> Vec<String> {
    form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .collect()
}

fn plus_days(d: Date, n: i64) -> Date {
    d.checked_add(jiff::Span::new().days(n)).unwrap_or(d)
}

impl SearchForm {
    /// Fill empty dates and party with sensible defaults (a month from now, 3 nights, 2 adults).
    fn with_defaults(mut self, now: Timestamp) -> SearchForm {
        let today = utc_today(now);
        if self.check_in.is_empty() {
            self.check_in = plus_days(today, 30).to_string();
        }
        if self.check_out.is_empty() {
            let ci = self.check_in.parse::<Date>().unwrap_or(plus_days(today, 30));
            self.check_out = plus_days(ci, 3).to_string();
        }
        if self.adults.is_empty() {
            self.adults = "2".into();
        }
        if self.children.is_empty() {
            self.children = "0".into();
        }
        if self.rooms.is_empty() {
            self.rooms = "1".into();
        }
        self
    }

    /// The form with the children's ages of a query (`age=4&age=7`).
    pub(crate) fn with_ages(mut self, raw: Option<&str>) -> SearchForm {
        self.ages = repeated(raw, "age").into_iter().take(MAX_CHILD_AGES).collect();
        self
    }

    /// The rooms (when more than one) and the ages as query parameters to append to a link
    /// that already carries the adults and children ("&rooms=2&age=4&age=7").
    pub(crate) fn rooms_and_ages_query(&self) -> String {
        let rooms = match self.rooms.trim() {
            "" | "1" => String::new(),
            r => format!("&rooms={}", crate::session::url_encode(r)),
        };
        rooms + &self.ages.iter().map(|a| format!("&age={}", crate::session::url_encode(a))).collect::<String>()
    }

    /// The rooms asked for (1 when none), or a message saying what to do; whether the party
    /// takes that many is `Party::check`'s to say.
    pub(crate) fn room_count(&self) -> Result<u16, String> {
        match self.rooms.trim() {
            "" => Ok(1),
            r => r.parse::<u16>().map_err(|_| tf("Rooms must be a number from 1 to {}.", &[&innkeep_core::MAX_ROOMS])),
        }
    }

    /// An age field for each child: (number of the child, age chosen or "").
    pub(crate) fn age_slots(&self) -> Vec<(usize, String)> {
        let children = self.children.parse::<usize>().unwrap_or(0).min(MAX_CHILD_AGES);
        (0..children).map(|i| (i + 1, self.ages.get(i).cloned().unwrap_or_default())).collect()
    }

    /// The ages of the children (0 to 17 each, one per child), or a message saying what to do.
    fn child_ages(&self, children: u16) -> Result<Vec<u8>, String> {
        let ages: Vec<u8> = self
            .ages
            .iter()
            .filter_map(|a| a.trim().parse::<u8>().ok())
            .filter(|a| *a <= innkeep_core::MAX_CHILD_AGE)
            .collect();
        if usize::from(children) > MAX_CHILD_AGES {
            return Err(tf("A search takes at most {} children.", &[&MAX_CHILD_AGES]));
        }
        if ages.len() != usize::from(children) || self.ages.len() != usize::from(children) {
            return Err(t("Choose the age of each child (0 to 17): the right room and price depend on it.").into());
        }
        Ok(ages)
    }

    /// The dates and party, or a message saying what is wrong.
    fn stay(&self) -> Result<(Date, Date, Party), String> {
        let ci: Date = self.check_in.parse().map_err(|_| t("Check-in is not a valid date.").to_string())?;
        let co: Date = self.check_out.parse().map_err(|_| t("Check-out is not a valid date.").to_string())?;
        if co <= ci {
            return Err(t("Check-out must be after check-in.").into());
        }
        let adults: u16 = self.adults.parse().map_err(|_| t("Adults must be a number.").to_string())?;
        let children: u16 = if self.children.is_empty() {
            0
        } else {
            self.children.parse().map_err(|_| t("Children must be a number."))?
        };
        if adults == 0 {
            return Err(t("A party needs at least one adult.").into());
        }
        let ages = self.child_ages(children)?;
        let ages = innkeep_core::ChildAges::new(&ages).unwrap_or_default();
        let party = Party::new(adults, children).in_rooms(self.room_count()?).with_ages(ages);
        party.check().map_err(|e| crate::page::words(&AppError::from(e)))?;
        Ok((ci, co, party))
    }

    fn party_label(&self) -> String {
        let a = self.adults.parse::<u16>().unwrap_or(0);
        let c = self.children.parse::<u16>().unwrap_or(0);
        let mut label = party_label(a, c, self.room_count().unwrap_or(1));
        if let Ok(ages) = self.child_ages(c)
            && !ages.is_empty()
        {
            let ages: Vec<String> = ages.iter().map(u8::to_string).collect();
            label.push_str(&format!(" ({})", tf("aged {}", &[&ages.join(", ")])));
        }
        label
    }
}

fn party_label(adults: u16, children: u16, rooms: u16) -> String {
    let mut s = if adults == 1 { t("1 adult").to_string() } else { tf("{} adults", &[&adults]) };
    match children {
        0 => {}
        1 => s.push_str(&format!(", {}", t("1 child"))),
        n => s.push_str(&format!(", {}", tf("{} children", &[&n]))),
    }
    if rooms > 1 {
        s.push_str(&format!(", {}", rooms_label(rooms)));
    }
    s
}

fn rooms_label(rooms: u16) -> String {
    if rooms == 1 { t("1 room").to_string() } else { tf("{} rooms", &[&rooms]) }
}

fn nights_between(a: Date, b: Date) -> i64 {
    Stay::range(a, b).map(|s| i64::from(s.nights())).unwrap_or(0)
}

fn type_label(kind: PropertyType) -> String {
    match kind {
        PropertyType::Hotel => t("Hotel"),
        PropertyType::Apartment => t("Apartment"),
        PropertyType::House => t("House"),
        PropertyType::Hostel => t("Hostel"),
        PropertyType::Guesthouse => t("Guesthouse"),
        PropertyType::BedAndBreakfast => t("Bed and breakfast"),
        PropertyType::Villa => t("Villa"),
        PropertyType::Resort => t("Resort"),
        PropertyType::Cabin => t("Cabin"),
    }
    .to_string()
}

fn initial(name: &str) -> String {
    name.chars().find(|c| c.is_alphanumeric()).map(|c| c.to_uppercase().to_string()).unwrap_or_default()
}

/// The price lines of a quote: nights, discount, taxes and fees.
pub fn quote_lines(q: &Quote) -> Vec<(String, String)> {
    let n = q.nights.len();
    let stay = match q.rooms {
        0 | 1 => nights_label(n),
        rooms => format!("{} × {}", nights_label(n), rooms_label(rooms)),
    };
    let mut lines = vec![(stay, money(q.subtotal))];
    if q.discount.minor != 0 {
        lines.push((t("Length-of-stay discount").into(), format!("−{}", money(q.discount))));
    }
    if let Some(c) = q.children {
        lines.push((t("Children's rates").into(), money(c)));
    }
    for c in &q.charges {
        lines.push((c.name.clone(), money(c.amount)));
    }
    lines
}

/// The refund schedule of a stay as sentences, deadlines in the property's local time:
/// shown before booking, on the trip page and on the receipt.
pub(crate) fn refund_terms(p: &Property, check_in: Date, total: Money) -> Result<Vec<String>, PageError> {
    let schedule = innkeep_app::booking::refund_schedule(p, check_in, total)?;
    let zone = p.draft.time_zone.zone();
    let share = |m: Money| {
        if m == total {
            tf("a full refund ({})", &[&money(m)])
        } else if m.minor == 0 {
            t("no refund").to_string()
        } else {
            tf("{} back", &[&money(m)])
        }
    };
    let mut out = Vec::new();
    for (until, refund) in schedule {
        out.push(match until {
            Some(until) => {
                let local = until.to_zoned_datetime(zone.clone());
                let when = format!("{}, {}", day(local.date()), local.strftime("%H:%M"));
                tf("Cancel by {} ({} time): {}.", &[&when, &p.draft.address.city, &share(refund)])
            }
            None if out.is_empty() => tf("Cancelling at any time gives {}.", &[&share(refund)]),
            None => tf("After that: {}.", &[&share(refund)]),
        });
    }
    Ok(out)
}

/// A price in the signed-in guest's preferred currency, approximately ("≈ USD 236.85"), from
/// the bundled euro reference rates; "" when they prefer none, the same one, or it has no rate.
pub(crate) fn approx(v: &Visitor, m: Money) -> String {
    let Some(to) = v.user.as_ref().and_then(|(_, u)| u.currency) else { return String::new() };
    if to == m.currency {
        return String::new();
    }
    innkeep_payments::rates::Rates::bundled()
        .and_then(|r| r.convert(m, to))
        .map(|c| format!("≈ {}", money(c)))
        .unwrap_or_default()
}

/// What an approximate price means, for the page that shows one.
pub(crate) fn approx_note(currency: innkeep_core::Currency) -> String {
    let day = innkeep_payments::rates::Rates::bundled().map(|r| day(r.date)).unwrap_or_default();
    tf("Prices marked ≈ are approximate, at exchange rates of {}; you are charged in {}.", &[&day, &currency.code()])
}

/// A review as the pages show it.
pub(crate) struct ReviewLine {
    pub id: String,
    pub author: String,
    pub overall: String,
    pub aspects: Vec<(String, u8)>,
    pub text: String,
    pub date: String,
    pub reply: String,
    /// Hidden by an operator (only the property's staff see it).
    pub hidden: bool,
}

impl ReviewLine {
    pub(crate) fn of(r: &innkeep_app::review::Review) -> ReviewLine {
        ReviewLine {
            id: r.id.to_string(),
            author: r.author.clone(),
            overall: innkeep_core::review::score_label(r.overall),
            aspects: r.scores.aspects().iter().map(|(a, s)| (aspect_label(a), *s)).collect(),
            text: r.text.clone(),
            date: {
                let d = r.created_at.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
                innkeep_core::format::month_year(d.year(), d.month(), crate::i18n::lang())
            },
            reply: r.reply.clone().unwrap_or_default(),
            hidden: r.hidden_at.is_some(),
        }
    }
}

/// An aspect's name as people read it.
pub(crate) fn aspect_label(aspect: &str) -> String {
    match aspect {
        "cleanliness" => t("Cleanliness"),
        "location" => t("Location"),
        "value" => t("Value"),
        "staff" => t("Staff"),
        "comfort" => t("Comfort"),
        other => other,
    }
    .to_string()
}

/// A cancellation policy's name in a sentence ("flexible", "non-refundable").
pub(crate) fn policy_label(p: innkeep_core::CancellationPolicy) -> String {
    use innkeep_core::CancellationPolicy as C;
    match p {
        C::Flexible => t("flexible"),
        C::Moderate => t("moderate"),
        C::Strict => t("strict"),
        C::NonRefundable => t("non-refundable"),
    }
    .to_string()
}

/// "1 night", "3 nights" in the page's language.
pub(crate) fn nights_label(n: usize) -> String {
    if n == 1 { t("1 night").to_string() } else { tf("{} nights", &[&n]) }
}

/// A rating in words: "8.6 · 12 reviews" ("" without reviews).
pub(crate) fn rating_label(r: Option<&innkeep_app::review::Rating>) -> String {
    match r {
        Some(r) if r.count == 1 => {
            format!("{} · {}", innkeep_core::review::score_label(r.average), t("1 review"))
        }
        Some(r) => format!("{} · {}", innkeep_core::review::score_label(r.average), tf("{} reviews", &[&r.count])),
        None => String::new(),
    }
}

mod checkout;
mod property;
mod search;
mod trips;

pub use checkout::*;
pub use property::*;
pub use search::*;
pub use trips::*;
