//! Guest pages: search, results with a map, a property, checkout, and my trips.

use crate::page::{Ctx, Fields, FormErrors, PageError, PageResult, amount, day, money, render};
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
        self
    }

    /// The dates and party, or a message saying what is wrong.
    fn stay(&self) -> Result<(Date, Date, Party), String> {
        let ci: Date = self.check_in.parse().map_err(|_| "Check-in is not a valid date.".to_string())?;
        let co: Date = self.check_out.parse().map_err(|_| "Check-out is not a valid date.".to_string())?;
        if co <= ci {
            return Err("Check-out must be after check-in.".into());
        }
        let adults: u16 = self.adults.parse().map_err(|_| "Adults must be a number.".to_string())?;
        let children: u16 = if self.children.is_empty() {
            0
        } else {
            self.children.parse().map_err(|_| "Children must be a number.")?
        };
        if adults == 0 {
            return Err("A party needs at least one adult.".into());
        }
        Ok((ci, co, Party { adults, children }))
    }

    fn party_label(&self) -> String {
        let a = self.adults.parse::<u16>().unwrap_or(0);
        let c = self.children.parse::<u16>().unwrap_or(0);
        party_label(a, c)
    }
}

fn party_label(adults: u16, children: u16) -> String {
    let mut s = format!("{adults} adult{}", if adults == 1 { "" } else { "s" });
    if children > 0 {
        s.push_str(&format!(", {children} child{}", if children == 1 { "" } else { "ren" }));
    }
    s
}

fn nights_between(a: Date, b: Date) -> i64 {
    Stay::range(a, b).map(|s| i64::from(s.nights())).unwrap_or(0)
}

fn type_label(t: PropertyType) -> String {
    let s = t.as_str().replace('_', " ");
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

fn initial(name: &str) -> String {
    name.chars().find(|c| c.is_alphanumeric()).map(|c| c.to_uppercase().to_string()).unwrap_or_default()
}

/// The price lines of a quote: nights, discount, taxes and fees.
pub fn quote_lines(q: &Quote) -> Vec<(String, String)> {
    let n = q.nights.len();
    let mut lines = vec![(format!("{n} night{}", if n == 1 { "" } else { "s" }), money(q.subtotal))];
    if q.discount.minor != 0 {
        lines.push(("Length-of-stay discount".into(), format!("−{}", money(q.discount))));
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
            format!("a full refund ({})", money(m))
        } else if m.minor == 0 {
            "no refund".to_string()
        } else {
            format!("{} back", money(m))
        }
    };
    let mut out = Vec::new();
    for (until, refund) in schedule {
        out.push(match until {
            Some(t) => format!(
                "Cancel by {} ({} time): {}.",
                t.to_zoned_datetime(zone.clone()).strftime("%a %-d %b %Y, %H:%M"),
                p.draft.address.city,
                share(refund)
            ),
            None if out.is_empty() => format!("Cancelling at any time gives {}.", share(refund)),
            None => format!("After that: {}.", share(refund)),
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
    format!("Prices marked ≈ are approximate, at exchange rates of {day}; you are charged in {}.", currency.code())
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
            date: r.created_at.strftime("%B %Y").to_string(),
            reply: r.reply.clone().unwrap_or_default(),
            hidden: r.hidden_at.is_some(),
        }
    }
}

/// An aspect's name as people read it.
pub(crate) fn aspect_label(aspect: &str) -> String {
    let mut c = aspect.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

/// A rating in words: "8.6 · 12 reviews" ("" without reviews).
pub(crate) fn rating_label(r: Option<&innkeep_app::review::Rating>) -> String {
    match r {
        Some(r) => format!(
            "{} · {} review{}",
            innkeep_core::review::score_label(r.average),
            r.count,
            if r.count == 1 { "" } else { "s" }
        ),
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
