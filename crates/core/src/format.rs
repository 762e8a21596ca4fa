//! Dates, times and amounts written the way a reader of each locale expects them.
//!
//! The patterns follow CLDR: English as in en-GB (day before month, 12-hour clock as
//! en-US users also read it), German as de-DE, Portuguese as pt-PT (Innkeep's Portuguese
//! messages are European Portuguese: "A sua reserva").

use crate::{Locale, Money};
use jiff::Timestamp;
use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;

/// No-break space: keeps an amount and its currency on one line.
const NBSP: char = '\u{a0}';

/// A long date with its weekday: "Monday, 4 January 2027", "Montag, 4. Januar 2027",
/// "segunda-feira, 4 de janeiro de 2027".
pub fn date(d: Date, locale: Locale) -> String {
    let weekday = weekday_name(d.weekday(), locale);
    let month = month_name(d.month(), locale);
    let (day, year) = (d.day(), d.year());
    match locale {
        Locale::En => format!("{weekday}, {day} {month} {year}"),
        Locale::De => format!("{weekday}, {day}. {month} {year}"),
        Locale::Pt => format!("{weekday}, {day} de {month} de {year}"),
    }
}

/// A time of day: "3:00 PM" in English, "15:00" in German and Portuguese.
pub fn time(t: Time, locale: Locale) -> String {
    let (hour, minute) = (t.hour(), t.minute());
    match locale {
        Locale::En => {
            let suffix = if hour < 12 { "AM" } else { "PM" };
            let twelve = match hour % 12 {
                0 => 12,
                h => h,
            };
            format!("{twelve}:{minute:02} {suffix}")
        }
        Locale::De | Locale::Pt => format!("{hour:02}:{minute:02}"),
    }
}

/// A date and time as seen in the IANA time zone `tz` ("Monday, 4 January 2027 at
/// 3:00 PM"); an unknown zone falls back to UTC rather than failing a message.
pub fn timestamp(ts: Timestamp, tz: &str, locale: Locale) -> String {
    let zone = TimeZone::get(tz).unwrap_or(TimeZone::UTC);
    let local = ts.to_zoned_datetime(zone);
    let (d, t) = (date(local.date(), locale), time(local.time(), locale));
    match locale {
        Locale::En => format!("{d} at {t}"),
        Locale::De => format!("{d} um {t}"),
        Locale::Pt => format!("{d} às {t}"),
    }
}

/// An amount with its currency: "€1,234.50", "1.234,50 €", "1234,50 €".
///
/// English puts a symbol (€, $, £) or the ISO code before the number; German and
/// Portuguese put it after, behind a no-break space. Portuguese follows CLDR pt-PT: a
/// no-break space groups thousands, and only from five integer digits on (minimum
/// grouping digits 2), so "1234,50 €" but "1 234 567,89 €".
pub fn money(m: Money, locale: Locale) -> String {
    let number = amount(m, locale);
    let (sign, number) = match number.strip_prefix('-') {
        Some(n) => ("-", n.to_string()),
        None => ("", number),
    };
    let code = m.currency.code();
    let symbol = match code {
        "EUR" => Some("€"),
        "USD" => Some("$"),
        "GBP" => Some("£"),
        _ => None,
    };
    match (locale, symbol) {
        (Locale::En, Some(symbol)) => format!("{sign}{symbol}{number}"),
        (Locale::En, None) => format!("{sign}{code} {number}"),
        (Locale::De | Locale::Pt, unit) => format!("{sign}{number}{NBSP}{}", unit.unwrap_or(code)),
    }
}

/// Text made safe in HTML text and attribute values: the five special characters escaped.
pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// An amount without its currency, grouped and with the decimal mark of the locale:
/// "1,234.50", "1.234,50", "1234,50" (as [`money`] writes the number).
pub fn amount(m: Money, locale: Locale) -> String {
    let exponent = u32::from(m.currency.exponent());
    let scale = 10_i128.pow(exponent);
    let minor = i128::from(m.minor);
    let units = (minor / scale).unsigned_abs();
    let fraction = (minor % scale).unsigned_abs();
    let sign = if minor < 0 { "-" } else { "" };
    let (group, decimal, min_grouping) = match locale {
        Locale::En => (",", ".", 1),
        Locale::De => (".", ",", 1),
        Locale::Pt => ("\u{a0}", ",", 2),
    };
    let mut number = grouped(units, group, min_grouping);
    if exponent > 0 {
        let width = exponent as usize;
        number.push_str(&format!("{decimal}{fraction:0width$}"));
    }
    format!("{sign}{number}")
}

/// A short date with its weekday, as lists and forms show it: "Mon 4 Jan 2027",
/// "Mo., 4. Jan. 2027", "seg., 4 de jan. de 2027".
pub fn short_date(d: Date, locale: Locale) -> String {
    let weekday = weekday_short(d.weekday(), locale);
    let month = month_short(d.month(), locale);
    let (day, year) = (d.day(), d.year());
    match locale {
        Locale::En => format!("{weekday} {day} {month} {year}"),
        Locale::De => format!("{weekday}, {day}. {month} {year}"),
        Locale::Pt => format!("{weekday}, {day} de {month} de {year}"),
    }
}

/// A month of a year, as a calendar heads it: "January 2027", "Januar 2027", "janeiro de 2027".
pub fn month_year(year: i16, month: i8, locale: Locale) -> String {
    let name = month_name(month, locale);
    match locale {
        Locale::En | Locale::De => format!("{name} {year}"),
        Locale::Pt => format!("{name} de {year}"),
    }
}

/// The weekday's abbreviation as a calendar's column heads it: "Mon", "Mo.", "seg.".
pub fn weekday_short(w: Weekday, locale: Locale) -> &'static str {
    let names: [&str; 7] = match locale {
        Locale::En => ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
        Locale::De => ["Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So."],
        Locale::Pt => ["seg.", "ter.", "qua.", "qui.", "sex.", "sáb.", "dom."],
    };
    let index = usize::from(w.to_monday_zero_offset().unsigned_abs());
    names.get(index).copied().unwrap_or_default()
}

/// The month's abbreviation (1 = January): "Jan", "Jan.", "jan.".
fn month_short(month: i8, locale: Locale) -> &'static str {
    let names: [&str; 12] = match locale {
        Locale::En => ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
        Locale::De => ["Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sept.", "Okt.", "Nov.", "Dez."],
        Locale::Pt => ["jan.", "fev.", "mar.", "abr.", "mai.", "jun.", "jul.", "ago.", "set.", "out.", "nov.", "dez."],
    };
    let index = usize::from(month.unsigned_abs()).saturating_sub(1);
    names.get(index).copied().unwrap_or_default()
}

/// The integer digits of `n` in groups of three, joined by `separator`, ungrouped when
/// the number has fewer than `3 + min_grouping` digits.
fn grouped(n: u128, separator: &str, min_grouping: usize) -> String {
    let digits = n.to_string();
    if digits.len() < 3 + min_grouping {
        return digits;
    }
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * separator.len());
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(separator);
        }
        out.push(c);
    }
    out
}

/// The weekday's name as it starts a long date (German capitalised, Portuguese not).
fn weekday_name(w: Weekday, locale: Locale) -> &'static str {
    let names: [&str; 7] = match locale {
        Locale::En => ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
        Locale::De => ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"],
        Locale::Pt => {
            ["segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira", "sábado", "domingo"]
        }
    };
    let index = usize::from(w.to_monday_zero_offset().unsigned_abs());
    names.get(index).copied().unwrap_or_default()
}

/// The month's name (1 = January) in the genitive form a long date uses.
fn month_name(month: i8, locale: Locale) -> &'static str {
    let names: [&str; 12] = match locale {
        Locale::En => [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ],
        Locale::De => [
            "Januar",
            "Februar",
            "März",
            "April",
            "Mai",
            "Juni",
            "Juli",
            "August",
            "September",
            "Oktober",
            "November",
            "Dezember",
        ],
        Locale::Pt => [
            "janeiro",
            "fevereiro",
            "março",
            "abril",
            "maio",
            "junho",
            "julho",
            "agosto",
            "setembro",
            "outubro",
            "novembro",
            "dezembro",
        ],
    };
    let index = usize::from(month.unsigned_abs()).saturating_sub(1);
    names.get(index).copied().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;
    use jiff::civil;

    fn eur(minor: i64) -> Money {
        Money::new(minor, Currency::parse("EUR").unwrap())
    }

    fn of(minor: i64, code: &str) -> Money {
        Money::new(minor, Currency::parse(code).unwrap())
    }

    #[test]
    fn long_dates_name_weekday_day_month_and_year_in_each_locale() {
        let d = civil::date(2027, 1, 4);
        assert_eq!(date(d, Locale::En), "Monday, 4 January 2027");
        assert_eq!(date(d, Locale::De), "Montag, 4. Januar 2027");
        assert_eq!(date(d, Locale::Pt), "segunda-feira, 4 de janeiro de 2027");
    }

    #[test]
    fn long_dates_cover_sunday_and_december() {
        let d = civil::date(2026, 12, 27);
        assert_eq!(date(d, Locale::En), "Sunday, 27 December 2026");
        assert_eq!(date(d, Locale::De), "Sonntag, 27. Dezember 2026");
        assert_eq!(date(d, Locale::Pt), "domingo, 27 de dezembro de 2026");
    }

    #[test]
    fn amounts_without_currency_in_each_locale() {
        assert_eq!(amount(eur(123_450), Locale::En), "1,234.50");
        assert_eq!(amount(eur(123_450), Locale::De), "1.234,50");
        assert_eq!(amount(eur(-123_450), Locale::Pt), "-1234,50");
        assert_eq!(money(eur(-999), Locale::De), "-9,99\u{a0}€");
    }

    #[test]
    fn short_dates_and_months_in_each_locale() {
        let d = civil::date(2027, 1, 4);
        assert_eq!(short_date(d, Locale::En), "Mon 4 Jan 2027");
        assert_eq!(short_date(d, Locale::De), "Mo., 4. Jan. 2027");
        assert_eq!(short_date(d, Locale::Pt), "seg., 4 de jan. de 2027");
        assert_eq!(month_year(2027, 3, Locale::De), "März 2027");
        assert_eq!(month_year(2027, 3, Locale::Pt), "março de 2027");
        assert_eq!(weekday_short(Weekday::Sunday, Locale::Pt), "dom.");
    }

    #[test]
    fn english_times_use_a_twelve_hour_clock() {
        assert_eq!(time(civil::time(15, 0, 0, 0), Locale::En), "3:00 PM");
        assert_eq!(time(civil::time(0, 5, 0, 0), Locale::En), "12:05 AM");
        assert_eq!(time(civil::time(12, 30, 0, 0), Locale::En), "12:30 PM");
        assert_eq!(time(civil::time(9, 45, 0, 0), Locale::En), "9:45 AM");
    }

    #[test]
    fn german_and_portuguese_times_use_a_twenty_four_hour_clock() {
        assert_eq!(time(civil::time(15, 0, 0, 0), Locale::De), "15:00");
        assert_eq!(time(civil::time(15, 0, 0, 0), Locale::Pt), "15:00");
        assert_eq!(time(civil::time(9, 5, 0, 0), Locale::De), "09:05");
    }

    #[test]
    fn timestamps_are_shown_in_the_property_time_zone() {
        // 14:00 UTC is 15:00 in Berlin in winter.
        let ts: Timestamp = "2027-01-04T14:00:00Z".parse().unwrap();
        assert_eq!(timestamp(ts, "Europe/Berlin", Locale::En), "Monday, 4 January 2027 at 3:00 PM");
        assert_eq!(timestamp(ts, "Europe/Berlin", Locale::De), "Montag, 4. Januar 2027 um 15:00");
        assert_eq!(timestamp(ts, "Europe/Lisbon", Locale::Pt), "segunda-feira, 4 de janeiro de 2027 às 14:00");
    }

    #[test]
    fn timestamps_cross_midnight_into_the_local_date() {
        let ts: Timestamp = "2027-01-04T23:30:00Z".parse().unwrap();
        assert_eq!(timestamp(ts, "Asia/Tokyo", Locale::De), "Dienstag, 5. Januar 2027 um 08:30");
    }

    #[test]
    fn an_unknown_time_zone_falls_back_to_utc() {
        let ts: Timestamp = "2027-01-04T14:00:00Z".parse().unwrap();
        assert_eq!(timestamp(ts, "Mars/Olympus_Mons", Locale::En), "Monday, 4 January 2027 at 2:00 PM");
        assert_eq!(timestamp(ts, "", Locale::De), "Montag, 4. Januar 2027 um 14:00");
    }

    #[test]
    fn english_amounts_put_the_symbol_first() {
        assert_eq!(money(eur(123_450), Locale::En), "€1,234.50");
        assert_eq!(money(of(123_450, "USD"), Locale::En), "$1,234.50");
        assert_eq!(money(of(123_450, "GBP"), Locale::En), "£1,234.50");
        assert_eq!(money(of(123_450, "CHF"), Locale::En), "CHF 1,234.50");
        assert_eq!(money(eur(5), Locale::En), "€0.05");
    }

    #[test]
    fn german_amounts_put_the_symbol_last_behind_a_no_break_space() {
        assert_eq!(money(eur(123_450), Locale::De), "1.234,50\u{a0}€");
        assert_eq!(money(of(123_450, "CHF"), Locale::De), "1.234,50\u{a0}CHF");
        assert_eq!(money(eur(999), Locale::De), "9,99\u{a0}€");
    }

    #[test]
    fn portuguese_amounts_group_only_from_five_digits_with_a_no_break_space() {
        assert_eq!(money(eur(123_450), Locale::Pt), "1234,50\u{a0}€");
        assert_eq!(money(eur(1_234_550), Locale::Pt), "12\u{a0}345,50\u{a0}€");
        assert_eq!(money(of(123_450, "USD"), Locale::Pt), "1234,50\u{a0}$");
    }

    #[test]
    fn large_amounts_are_grouped_in_thousands() {
        let m = eur(123_456_789);
        assert_eq!(money(m, Locale::En), "€1,234,567.89");
        assert_eq!(money(m, Locale::De), "1.234.567,89\u{a0}€");
        assert_eq!(money(m, Locale::Pt), "1\u{a0}234\u{a0}567,89\u{a0}€");
    }

    #[test]
    fn zero_exponent_currencies_print_no_decimals() {
        let yen = of(123_456, "JPY");
        assert_eq!(money(yen, Locale::En), "JPY 123,456");
        assert_eq!(money(yen, Locale::De), "123.456\u{a0}JPY");
        assert_eq!(money(of(500, "JPY"), Locale::Pt), "500\u{a0}JPY");
    }

    #[test]
    fn three_digit_exponent_currencies_print_three_decimals() {
        assert_eq!(money(of(1_234_567, "KWD"), Locale::En), "KWD 1,234.567");
    }

    #[test]
    fn negative_amounts_lead_with_a_minus() {
        assert_eq!(money(eur(-123_450), Locale::En), "-€1,234.50");
        assert_eq!(money(eur(-5), Locale::De), "-0,05\u{a0}€");
        assert_eq!(money(of(-1_000, "JPY"), Locale::Pt), "-1000\u{a0}JPY");
    }

    #[test]
    fn extreme_amounts_do_not_overflow() {
        assert_eq!(money(eur(i64::MIN), Locale::En), "-€92,233,720,368,547,758.08");
        assert_eq!(money(eur(i64::MAX), Locale::De), "92.233.720.368.547.758,07\u{a0}€");
    }
}
