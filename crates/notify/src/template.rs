//! The messages Innkeep sends to guests and hosts about a booking, in each locale.
//!
//! Each message is written once, as a list of [`Part`]s in the reader's language; the
//! plain text, the HTML document and the SMS are all rendered from that one list, so the
//! three can never say different things. Every value is HTML-escaped when the HTML is
//! rendered, including the static wording, so no caller-supplied string (a property name,
//! a provider's failure reason) can inject markup.

use crate::format;
use innkeep_core::{BookingId, Locale, Money};
use jiff::Timestamp;
use jiff::civil::{Date, Time};

/// The longest SMS body, in characters (two concatenated GSM segments of 160).
const SMS_MAX_CHARS: usize = 320;

/// What a booking message says about the stay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingFacts {
    /// The booking the message is about.
    pub booking_id: BookingId,
    /// The guest's name as they gave it.
    pub guest_name: String,
    /// The property's display name.
    pub property_name: String,
    /// The property's address on one line.
    pub address: String,
    /// The booked room type's display name.
    pub room_type_name: String,
    /// First night of the stay.
    pub check_in: Date,
    /// The morning the stay ends (not a night of the stay).
    pub check_out: Date,
    /// Earliest check-in time, local to the property.
    pub check_in_time: Time,
    /// Latest check-out time, local to the property.
    pub check_out_time: Time,
    /// IANA name of the property's time zone.
    pub time_zone: String,
    /// Number of adults.
    pub adults: u16,
    /// Number of children.
    pub children: u16,
    /// Total price of the booking.
    pub total: Money,
    /// Absolute URL of the booking page.
    pub link: String,
}

/// Which message to write, with what only that message says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Template {
    /// To the guest: the booking is held until `expires_at` (shown in the property's zone).
    BookingHeld { expires_at: Timestamp },
    /// To the guest: the booking is confirmed.
    BookingConfirmed,
    /// To the guest: the booking was cancelled, with the refund if one is due.
    BookingCancelled { refund: Option<Money> },
    /// To the guest: a payment arrived.
    PaymentReceived { amount: Money },
    /// To the guest: a payment failed, with the provider's reason.
    PaymentFailed { reason: String },
    /// To the guest: the stay begins in `days` days.
    Reminder { days: u32 },
    /// To the host: a new confirmed booking.
    HostBooking,
    /// To the host: a booking was cancelled, with the refund due to the guest if any.
    HostCancellation { refund: Option<Money> },
}

impl Template {
    /// Stable name stored in the delivery log: "booking.held", "booking.confirmed", "booking.cancelled", "payment.received", "payment.failed", "reminder", "host.booking", "host.cancellation".
    pub fn name(&self) -> &'static str {
        match self {
            Template::BookingHeld { .. } => "booking.held",
            Template::BookingConfirmed => "booking.confirmed",
            Template::BookingCancelled { .. } => "booking.cancelled",
            Template::PaymentReceived { .. } => "payment.received",
            Template::PaymentFailed { .. } => "payment.failed",
            Template::Reminder { .. } => "reminder",
            Template::HostBooking => "host.booking",
            Template::HostCancellation { .. } => "host.cancellation",
        }
    }

    /// Whether it is transactional (all but Reminder).
    pub fn transactional(&self) -> bool {
        !matches!(self, Template::Reminder { .. })
    }

    /// Whether the message goes to the host rather than the guest.
    fn to_host(&self) -> bool {
        matches!(self, Template::HostBooking | Template::HostCancellation { .. })
    }
}

/// A message rendered for every channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// E-mail subject line.
    pub subject: String,
    /// Plain-text e-mail body.
    pub text: String,
    /// HTML e-mail body: a complete document without external resources.
    pub html: String,
    /// One line of at most 320 characters with the property, the dates and the link.
    pub sms: String,
}

/// One block of a message, rendered once as text and once as HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    /// The message's title.
    Heading(String),
    /// A paragraph.
    Para(String),
    /// Labelled values, one per line.
    Facts(Vec<(&'static str, String)>),
    /// A link with its label.
    Link { label: &'static str, url: String },
}

/// Write `template` in `locale` about the booking in `facts`.
pub fn render(template: &Template, locale: Locale, facts: &BookingFacts) -> Rendered {
    let subject = subject(template, locale, facts);
    let parts = parts(template, locale, facts, &subject);
    Rendered { text: text(&parts), html: html(&parts, locale, &subject), sms: sms(&subject, locale, facts), subject }
}

/// What a calendar conflict message says: an imported calendar blocks nights that bookings
/// here already have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictFacts {
    /// The imported calendar's name, as the host gave it ("Airbnb").
    pub feed_name: String,
    pub property_name: String,
    pub room_type_name: String,
    /// The nights in conflict, in order.
    pub nights: Vec<Date>,
    /// Absolute URL of the room type's calendar page.
    pub link: String,
}

/// The template name of a calendar conflict in the delivery log.
pub const CALENDAR_CONFLICT: &str = "host.calendar_conflict";

/// Write the message to a host about a calendar conflict in `locale`.
pub fn render_conflict(locale: Locale, facts: &ConflictFacts) -> Rendered {
    let place = format!("{} ({})", facts.property_name, facts.room_type_name);
    let feed = &facts.feed_name;
    let n = facts.nights.len();
    let (subject, lead, label, nights_label, greeting) = match locale {
        Locale::En => (
            format!("Calendar conflict at {place}"),
            format!(
                "The calendar \u{201c}{feed}\u{201d} shows {n} night(s) as busy that bookings here already have. \
                 No booking was changed: check the other channel, or cancel one of the stays."
            ),
            "Open the calendar",
            "Nights",
            "Hello,",
        ),
        Locale::De => (
            format!("Kalenderkonflikt im {place}"),
            format!(
                "Der Kalender \u{201e}{feed}\u{201c} zeigt {n} Nacht/Nächte als belegt, die hier bereits gebucht sind. \
                 Keine Buchung wurde geändert: Prüfen Sie den anderen Kanal oder stornieren Sie einen der Aufenthalte."
            ),
            "Kalender öffnen",
            "Nächte",
            "Guten Tag,",
        ),
        Locale::Pt => (
            format!("Conflito de calendário em {place}"),
            format!(
                "O calendário \u{201c}{feed}\u{201d} mostra {n} noite(s) ocupada(s) que já têm reservas aqui. \
                 Nenhuma reserva foi alterada: verifique o outro canal ou cancele uma das estadias."
            ),
            "Abrir o calendário",
            "Noites",
            "Olá,",
        ),
    };
    let nights = facts.nights.iter().map(|d| format::date(*d, locale)).collect::<Vec<_>>().join("; ");
    let parts = vec![
        Part::Heading(subject.clone()),
        Part::Para(greeting.to_string()),
        Part::Para(lead),
        Part::Facts(vec![(nights_label, nights)]),
        Part::Link { label, url: facts.link.clone() },
    ];
    let sms = format!("{subject}: {}", facts.link).chars().take(SMS_MAX_CHARS).collect();
    Rendered { text: text(&parts), html: html(&parts, locale, &subject), sms, subject }
}

/// Escape the five characters that are special in HTML text and attribute values.
pub use crate::format::html_escape as escape;

/// The message's one source: what it says, in order.
fn parts(template: &Template, locale: Locale, facts: &BookingFacts, subject: &str) -> Vec<Part> {
    let mut parts = vec![Part::Heading(subject.to_string()), Part::Para(greeting(template, locale, facts))];
    parts.extend(lead(template, locale, facts).into_iter().map(Part::Para));
    parts.push(Part::Facts(fact_rows(template, locale, facts)));
    parts.push(Part::Link { label: link_label(template, locale), url: facts.link.clone() });
    parts
}

/// The subject line, which also heads the message.
fn subject(template: &Template, locale: Locale, facts: &BookingFacts) -> String {
    let p = &facts.property_name;
    match (template, locale) {
        (Template::BookingHeld { .. }, Locale::En) => format!("Your booking at {p} is on hold"),
        (Template::BookingHeld { .. }, Locale::De) => format!("Ihre Buchung im {p} ist vorgemerkt"),
        (Template::BookingHeld { .. }, Locale::Pt) => format!("A sua reserva em {p} está pendente"),
        (Template::BookingConfirmed, Locale::En) => format!("Your booking at {p} is confirmed"),
        (Template::BookingConfirmed, Locale::De) => format!("Ihre Buchung im {p} ist bestätigt"),
        (Template::BookingConfirmed, Locale::Pt) => format!("A sua reserva em {p} está confirmada"),
        (Template::BookingCancelled { .. }, Locale::En) => format!("Your booking at {p} has been cancelled"),
        (Template::BookingCancelled { .. }, Locale::De) => format!("Ihre Buchung im {p} wurde storniert"),
        (Template::BookingCancelled { .. }, Locale::Pt) => format!("A sua reserva em {p} foi cancelada"),
        (Template::PaymentReceived { .. }, Locale::En) => format!("Payment received for your booking at {p}"),
        (Template::PaymentReceived { .. }, Locale::De) => format!("Zahlung für Ihre Buchung im {p} erhalten"),
        (Template::PaymentReceived { .. }, Locale::Pt) => format!("Pagamento recebido da sua reserva em {p}"),
        (Template::PaymentFailed { .. }, Locale::En) => format!("Payment for your booking at {p} failed"),
        (Template::PaymentFailed { .. }, Locale::De) => format!("Zahlung für Ihre Buchung im {p} fehlgeschlagen"),
        (Template::PaymentFailed { .. }, Locale::Pt) => format!("O pagamento da sua reserva em {p} falhou"),
        (Template::Reminder { days }, Locale::En) => format!("Your stay at {p} begins {}", when(*days, locale)),
        (Template::Reminder { days }, Locale::De) => format!("Ihr Aufenthalt im {p} beginnt {}", when(*days, locale)),
        (Template::Reminder { days }, Locale::Pt) => format!("A sua estadia em {p} começa {}", when(*days, locale)),
        (Template::HostBooking, Locale::En) => format!("New booking at {p}"),
        (Template::HostBooking, Locale::De) => format!("Neue Buchung im {p}"),
        (Template::HostBooking, Locale::Pt) => format!("Nova reserva em {p}"),
        (Template::HostCancellation { .. }, Locale::En) => format!("A booking at {p} has been cancelled"),
        (Template::HostCancellation { .. }, Locale::De) => format!("Eine Buchung im {p} wurde storniert"),
        (Template::HostCancellation { .. }, Locale::Pt) => format!("Uma reserva em {p} foi cancelada"),
    }
}

/// "Hello Ada," to a guest; a plain "Hello," to a host.
fn greeting(template: &Template, locale: Locale, facts: &BookingFacts) -> String {
    let name = if template.to_host() { None } else { Some(facts.guest_name.as_str()) };
    match (locale, name) {
        (Locale::En, Some(name)) => format!("Hello {name},"),
        (Locale::En, None) => "Hello,".to_string(),
        (Locale::De, Some(name)) => format!("Guten Tag {name},"),
        (Locale::De, None) => "Guten Tag,".to_string(),
        (Locale::Pt, Some(name)) => format!("Olá {name},"),
        (Locale::Pt, None) => "Olá,".to_string(),
    }
}

/// The paragraphs that say what only this message says.
fn lead(template: &Template, locale: Locale, facts: &BookingFacts) -> Vec<String> {
    let p = &facts.property_name;
    let guest = &facts.guest_name;
    let room = &facts.room_type_name;
    let money = |m: &Money| format::money(*m, locale);
    match (template, locale) {
        (Template::BookingHeld { expires_at }, _) => {
            let until = format::timestamp(*expires_at, &facts.time_zone, locale);
            vec![match locale {
                Locale::En => format!(
                    "We are holding your booking at {p} until {until}. Please complete the payment before then to confirm it."
                ),
                Locale::De => format!(
                    "Wir halten Ihre Buchung im {p} bis {until} für Sie bereit. Bitte schließen Sie die Zahlung bis dahin ab, um sie zu bestätigen."
                ),
                Locale::Pt => {
                    format!("Guardamos a sua reserva em {p} até {until}. Conclua o pagamento até lá para a confirmar.")
                }
            }]
        }
        (Template::BookingConfirmed, Locale::En) => {
            vec![format!("Your booking at {p} is confirmed. We look forward to welcoming you.")]
        }
        (Template::BookingConfirmed, Locale::De) => {
            vec![format!("Ihre Buchung im {p} ist bestätigt. Wir freuen uns auf Ihren Besuch.")]
        }
        (Template::BookingConfirmed, Locale::Pt) => {
            vec![format!("A sua reserva em {p} está confirmada. Aguardamos a sua visita.")]
        }
        (Template::BookingCancelled { refund }, Locale::En) => vec![
            format!("Your booking at {p} has been cancelled."),
            match refund {
                Some(m) => format!("A refund of {} is on its way to you.", money(m)),
                None => "No refund is due for this booking.".to_string(),
            },
        ],
        (Template::BookingCancelled { refund }, Locale::De) => vec![
            format!("Ihre Buchung im {p} wurde storniert."),
            match refund {
                Some(m) => format!("Wir erstatten Ihnen {}.", money(m)),
                None => "Für diese Buchung erfolgt keine Erstattung.".to_string(),
            },
        ],
        (Template::BookingCancelled { refund }, Locale::Pt) => vec![
            format!("A sua reserva em {p} foi cancelada."),
            match refund {
                Some(m) => format!("Vamos reembolsar-lhe {}.", money(m)),
                None => "Esta reserva não dá direito a reembolso.".to_string(),
            },
        ],
        (Template::PaymentReceived { amount }, Locale::En) => {
            vec![format!("We have received your payment of {}. Thank you.", money(amount))]
        }
        (Template::PaymentReceived { amount }, Locale::De) => {
            vec![format!("Wir haben Ihre Zahlung über {} erhalten. Vielen Dank.", money(amount))]
        }
        (Template::PaymentReceived { amount }, Locale::Pt) => {
            vec![format!("Recebemos o seu pagamento de {}. Obrigado.", money(amount))]
        }
        (Template::PaymentFailed { reason }, Locale::En) => vec![
            format!("Your payment for the booking at {p} could not be completed: {reason}"),
            "Please try again from your booking page.".to_string(),
        ],
        (Template::PaymentFailed { reason }, Locale::De) => vec![
            format!("Ihre Zahlung für die Buchung im {p} konnte nicht abgeschlossen werden: {reason}"),
            "Bitte versuchen Sie es auf Ihrer Buchungsseite erneut.".to_string(),
        ],
        (Template::PaymentFailed { reason }, Locale::Pt) => vec![
            format!("Não foi possível concluir o pagamento da sua reserva em {p}: {reason}"),
            "Tente novamente na página da sua reserva.".to_string(),
        ],
        (Template::Reminder { days }, Locale::En) => {
            vec![format!("Your stay at {p} begins {}. Here are the details.", when(*days, locale))]
        }
        (Template::Reminder { days }, Locale::De) => {
            vec![format!("Ihr Aufenthalt im {p} beginnt {}. Hier sind die Einzelheiten.", when(*days, locale))]
        }
        (Template::Reminder { days }, Locale::Pt) => {
            vec![format!("A sua estadia em {p} começa {}. Eis os detalhes.", when(*days, locale))]
        }
        (Template::HostBooking, Locale::En) => vec![format!("{guest} has booked {room} at {p}.")],
        (Template::HostBooking, Locale::De) => vec![format!("{guest} hat {room} im {p} gebucht.")],
        (Template::HostBooking, Locale::Pt) => vec![format!("{guest} reservou {room} em {p}.")],
        (Template::HostCancellation { refund }, Locale::En) => vec![
            format!("The booking by {guest} at {p} has been cancelled."),
            match refund {
                Some(m) => format!("The guest is refunded {}.", money(m)),
                None => "No refund is due to the guest.".to_string(),
            },
        ],
        (Template::HostCancellation { refund }, Locale::De) => vec![
            format!("Die Buchung von {guest} im {p} wurde storniert."),
            match refund {
                Some(m) => format!("Dem Gast werden {} erstattet.", money(m)),
                None => "Dem Gast wird nichts erstattet.".to_string(),
            },
        ],
        (Template::HostCancellation { refund }, Locale::Pt) => vec![
            format!("A reserva de {guest} em {p} foi cancelada."),
            match refund {
                Some(m) => format!("O hóspede será reembolsado em {}.", money(m)),
                None => "Não há lugar a reembolso do hóspede.".to_string(),
            },
        ],
    }
}

/// "in 3 days", "tomorrow" or "today" as it ends a sentence.
fn when(days: u32, locale: Locale) -> String {
    match (locale, days) {
        (Locale::En, 0) => "today".to_string(),
        (Locale::En, 1) => "tomorrow".to_string(),
        (Locale::En, n) => format!("in {n} days"),
        (Locale::De, 0) => "heute".to_string(),
        (Locale::De, 1) => "morgen".to_string(),
        (Locale::De, n) => format!("in {n} Tagen"),
        (Locale::Pt, 0) => "hoje".to_string(),
        (Locale::Pt, 1) => "amanhã".to_string(),
        (Locale::Pt, n) => format!("dentro de {n} dias"),
    }
}

/// The labelled facts of the stay, the guest's name included for a host.
fn fact_rows(template: &Template, locale: Locale, facts: &BookingFacts) -> Vec<(&'static str, String)> {
    let label = |en, de, pt| match locale {
        Locale::En => en,
        Locale::De => de,
        Locale::Pt => pt,
    };
    let (from, until) = match locale {
        Locale::En => ("from", "until"),
        Locale::De => ("ab", "bis"),
        Locale::Pt => ("a partir das", "até às"),
    };
    let check_in =
        format!("{}, {from} {}", format::date(facts.check_in, locale), format::time(facts.check_in_time, locale));
    let check_out =
        format!("{}, {until} {}", format::date(facts.check_out, locale), format::time(facts.check_out_time, locale));
    let mut rows = Vec::with_capacity(9);
    if template.to_host() {
        rows.push((label("Guest", "Gast", "Hóspede"), facts.guest_name.clone()));
    }
    rows.extend([
        (label("Property", "Unterkunft", "Alojamento"), facts.property_name.clone()),
        (label("Address", "Adresse", "Morada"), facts.address.clone()),
        (label("Room type", "Zimmertyp", "Tipo de quarto"), facts.room_type_name.clone()),
        (label("Check-in", "Anreise", "Check-in"), check_in),
        (label("Check-out", "Abreise", "Check-out"), check_out),
        (label("Guests", "Gäste", "Hóspedes"), guests(facts.adults, facts.children, locale)),
        (label("Total", "Gesamtbetrag", "Total"), format::money(facts.total, locale)),
        (label("Booking number", "Buchungsnummer", "Número da reserva"), facts.booking_id.to_string()),
    ]);
    rows
}

/// "2 adults, 1 child"; children are left out when there are none.
fn guests(adults: u16, children: u16, locale: Locale) -> String {
    let adults_word = match (locale, adults) {
        (Locale::En, 1) => "adult",
        (Locale::En, _) => "adults",
        (Locale::De, 1) => "Erwachsener",
        (Locale::De, _) => "Erwachsene",
        (Locale::Pt, 1) => "adulto",
        (Locale::Pt, _) => "adultos",
    };
    let children_word = match (locale, children) {
        (Locale::En, 1) => "child",
        (Locale::En, _) => "children",
        (Locale::De, 1) => "Kind",
        (Locale::De, _) => "Kinder",
        (Locale::Pt, 1) => "criança",
        (Locale::Pt, _) => "crianças",
    };
    if children == 0 {
        format!("{adults} {adults_word}")
    } else {
        format!("{adults} {adults_word}, {children} {children_word}")
    }
}

/// The label of the link to the booking page.
fn link_label(template: &Template, locale: Locale) -> &'static str {
    match (locale, template.to_host()) {
        (Locale::En, false) => "View your booking",
        (Locale::En, true) => "View the booking",
        (Locale::De, false) => "Ihre Buchung ansehen",
        (Locale::De, true) => "Buchung ansehen",
        (Locale::Pt, false) => "Ver a sua reserva",
        (Locale::Pt, true) => "Ver a reserva",
    }
}

/// The plain-text body: blocks separated by blank lines, facts aligned on their labels.
fn text(parts: &[Part]) -> String {
    let blocks: Vec<String> = parts
        .iter()
        .map(|part| match part {
            Part::Heading(s) => format!("{s}\n{}", "=".repeat(s.chars().count())),
            Part::Para(s) => s.clone(),
            Part::Facts(rows) => {
                let width = rows.iter().map(|(l, _)| l.chars().count()).max().unwrap_or(0) + 1;
                rows.iter().map(|(l, v)| format!("{:<width$} {v}", format!("{l}:"))).collect::<Vec<_>>().join("\n")
            }
            Part::Link { label, url } => format!("{label}: {url}"),
        })
        .collect();
    let mut out = blocks.join("\n\n");
    out.push('\n');
    out
}

/// The HTML body: a complete, self-contained document with inline styles only.
fn html(parts: &[Part], locale: Locale, subject: &str) -> String {
    let mut body = String::new();
    for part in parts {
        match part {
            Part::Heading(s) => {
                body.push_str(&format!("<h1 style=\"font-size:1.4em;margin:0 0 1em\">{}</h1>\n", escape(s)));
            }
            Part::Para(s) => body.push_str(&format!("<p>{}</p>\n", escape(s))),
            Part::Facts(rows) => {
                body.push_str("<table style=\"border-collapse:collapse;margin:1em 0\">\n");
                for (label, value) in rows {
                    body.push_str(&format!(
                        "<tr><th style=\"text-align:left;vertical-align:top;padding:0.2em 1em 0.2em 0\">{}</th><td style=\"padding:0.2em 0\">{}</td></tr>\n",
                        escape(label),
                        escape(value)
                    ));
                }
                body.push_str("</table>\n");
            }
            Part::Link { label, url } => body.push_str(&format!(
                "<p><a href=\"{}\" style=\"color:#1a5fb4\">{}</a></p>\n",
                escape(url),
                escape(label)
            )),
        }
    }
    format!(
        "<!doctype html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n</head>\n<body style=\"font-family:sans-serif;line-height:1.5;color:#222;max-width:40em;margin:0 auto;padding:1em\">\n{body}</body>\n</html>\n",
        locale.as_str(),
        escape(subject)
    )
}

/// The SMS: subject, stay dates and link on one line; the link is never cut, the rest
/// is shortened with "…" when the whole would exceed [`SMS_MAX_CHARS`].
fn sms(subject: &str, locale: Locale, facts: &BookingFacts) -> String {
    let one_line = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let stay = format!("{} – {}", format::date(facts.check_in, locale), format::date(facts.check_out, locale));
    let link = one_line(&facts.link);
    let head = one_line(&format!("{subject}: {stay}."));
    let budget = SMS_MAX_CHARS.saturating_sub(link.chars().count() + 1);
    let head = if head.chars().count() <= budget {
        head
    } else {
        let mut cut: String = head.chars().take(budget.saturating_sub(1)).collect();
        cut.push('…');
        cut
    };
    let line = if head.is_empty() || budget == 0 { link } else { format!("{head} {link}") };
    line.chars().take(SMS_MAX_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use innkeep_core::Currency;
    use jiff::civil;
    use uuid::Uuid;

    fn eur(minor: i64) -> Money {
        Money::new(minor, Currency::parse("EUR").unwrap())
    }

    fn facts() -> BookingFacts {
        BookingFacts {
            booking_id: BookingId(Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0001)),
            guest_name: "Ada Lovelace".to_string(),
            property_name: "Casa do Rio".to_string(),
            address: "Rua das Flores 12, 1200-195 Lisboa, Portugal".to_string(),
            room_type_name: "Double Room".to_string(),
            check_in: civil::date(2027, 1, 4),
            check_out: civil::date(2027, 1, 8),
            check_in_time: civil::time(15, 0, 0, 0),
            check_out_time: civil::time(11, 0, 0, 0),
            time_zone: "Europe/Berlin".to_string(),
            adults: 2,
            children: 1,
            total: eur(123_450),
            link: "https://innkeep.example/bookings/0193?token=a&b=c".to_string(),
        }
    }

    fn all_templates() -> Vec<Template> {
        vec![
            Template::BookingHeld { expires_at: "2027-01-01T12:00:00Z".parse().unwrap() },
            Template::BookingConfirmed,
            Template::BookingCancelled { refund: Some(eur(50_000)) },
            Template::BookingCancelled { refund: None },
            Template::PaymentReceived { amount: eur(123_450) },
            Template::PaymentFailed { reason: "card declined".to_string() },
            Template::Reminder { days: 3 },
            Template::Reminder { days: 1 },
            Template::HostBooking,
            Template::HostCancellation { refund: Some(eur(10_000)) },
            Template::HostCancellation { refund: None },
        ]
    }

    #[test]
    fn every_template_in_every_locale_names_the_dates_and_total() {
        let f = facts();
        for template in all_templates() {
            for locale in Locale::ALL {
                let r = render(&template, locale, &f);
                let check_in = format::date(f.check_in, locale);
                let check_out = format::date(f.check_out, locale);
                let total = format::money(f.total, locale);
                assert!(!r.subject.is_empty(), "{template:?} {locale:?}");
                for body in [&r.text, &r.html] {
                    assert!(body.contains(&check_in), "{template:?} {locale:?} lacks {check_in}");
                    assert!(body.contains(&check_out), "{template:?} {locale:?} lacks {check_out}");
                    assert!(body.contains(&total), "{template:?} {locale:?} lacks {total}");
                    assert!(body.contains(&f.property_name), "{template:?} {locale:?}");
                    assert!(body.contains(&f.room_type_name), "{template:?} {locale:?}");
                    assert!(body.contains(&f.booking_id.to_string()), "{template:?} {locale:?}");
                }
                assert!(r.text.contains(&f.link), "{template:?} {locale:?}");
                assert!(r.html.contains(&format!("<a href=\"{}\"", escape(&f.link))), "{template:?} {locale:?}");
                assert!(r.html.starts_with(&format!("<!doctype html>\n<html lang=\"{}\">", locale.as_str())));
                assert!(r.html.trim_end().ends_with("</html>"));
            }
        }
    }

    #[test]
    fn every_template_is_translated_in_every_locale() {
        let f = facts();
        for template in all_templates() {
            let en = render(&template, Locale::En, &f);
            for locale in [Locale::De, Locale::Pt] {
                let r = render(&template, locale, &f);
                assert_ne!(r.subject, en.subject, "{template:?} {locale:?}");
                assert_ne!(r.text, en.text, "{template:?} {locale:?}");
            }
        }
    }

    #[test]
    fn templates_of_different_kinds_have_different_subjects() {
        let f = facts();
        for locale in Locale::ALL {
            let mut subjects: Vec<String> = all_templates()
                .iter()
                .filter(|t| !matches!(t, Template::Reminder { days: 1 }))
                .map(|t| render(t, locale, &f).subject)
                .collect();
            subjects.sort();
            subjects.dedup();
            // The two refund variants of each cancellation share a subject.
            assert_eq!(subjects.len(), 8, "{locale:?}: {subjects:?}");
        }
    }

    #[test]
    fn html_escapes_a_hostile_property_name_that_text_keeps_verbatim() {
        let hostile = "<script>alert(1)</script> & \"Co\"";
        let f = BookingFacts { property_name: hostile.to_string(), ..facts() };
        for template in all_templates() {
            for locale in Locale::ALL {
                let r = render(&template, locale, &f);
                assert!(!r.html.contains(hostile), "{template:?} {locale:?}");
                assert!(!r.html.contains("<script"), "{template:?} {locale:?}");
                assert!(r.html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot;"));
                assert!(r.text.contains(hostile), "{template:?} {locale:?}");
            }
        }
    }

    #[test]
    fn html_escapes_the_payment_failure_reason() {
        let reason = "Bank said <b>no</b> & 'retry'";
        let r = render(&Template::PaymentFailed { reason: reason.to_string() }, Locale::En, &facts());
        assert!(r.text.contains(reason));
        assert!(!r.html.contains("<b>"));
        assert!(r.html.contains("Bank said &lt;b&gt;no&lt;/b&gt; &amp; &#39;retry&#39;"));
    }

    #[test]
    fn escape_replaces_the_five_html_specials() {
        assert_eq!(escape(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
        assert_eq!(escape("plain"), "plain");
    }

    #[test]
    fn the_german_confirmation_uses_german_dates_and_amounts() {
        let r = render(&Template::BookingConfirmed, Locale::De, &facts());
        assert_eq!(r.subject, "Ihre Buchung im Casa do Rio ist bestätigt");
        for body in [&r.text, &r.html] {
            assert!(body.contains("Montag, 4. Januar 2027, ab 15:00"));
            assert!(body.contains("Freitag, 8. Januar 2027, bis 11:00"));
            assert!(body.contains("1.234,50\u{a0}€"));
            assert!(body.contains("2 Erwachsene, 1 Kind"));
            assert!(body.contains("Guten Tag Ada Lovelace,"));
        }
    }

    #[test]
    fn the_english_confirmation_reads_as_expected() {
        let r = render(&Template::BookingConfirmed, Locale::En, &facts());
        assert_eq!(r.subject, "Your booking at Casa do Rio is confirmed");
        assert!(r.text.starts_with("Your booking at Casa do Rio is confirmed\n====="));
        assert!(r.text.contains("Hello Ada Lovelace,"));
        assert!(r.text.contains("Check-in:       Monday, 4 January 2027, from 3:00 PM\n"));
        assert!(r.text.contains("Total:          €1,234.50\n"));
        assert!(r.text.ends_with("View your booking: https://innkeep.example/bookings/0193?token=a&b=c\n"));
    }

    #[test]
    fn the_portuguese_confirmation_uses_portuguese_dates_and_amounts() {
        let r = render(&Template::BookingConfirmed, Locale::Pt, &facts());
        assert_eq!(r.subject, "A sua reserva em Casa do Rio está confirmada");
        assert!(r.text.contains("segunda-feira, 4 de janeiro de 2027, a partir das 15:00"));
        assert!(r.text.contains("1234,50\u{a0}€"));
        assert!(r.text.contains("2 adultos, 1 criança"));
    }

    #[test]
    fn message_specific_lines_carry_their_values() {
        let f = facts();
        let held =
            render(&Template::BookingHeld { expires_at: "2027-01-01T12:00:00Z".parse().unwrap() }, Locale::En, &f);
        // 12:00 UTC is 13:00 in Berlin in winter.
        assert!(held.text.contains("until Friday, 1 January 2027 at 1:00 PM."));
        let refund = render(&Template::BookingCancelled { refund: Some(eur(50_000)) }, Locale::De, &f);
        assert!(refund.text.contains("Wir erstatten Ihnen 500,00\u{a0}€."));
        let no_refund = render(&Template::BookingCancelled { refund: None }, Locale::Pt, &f);
        assert!(no_refund.text.contains("não dá direito a reembolso"));
        let paid = render(&Template::PaymentReceived { amount: eur(20_000) }, Locale::En, &f);
        assert!(paid.text.contains("payment of €200.00"));
        let reminder = render(&Template::Reminder { days: 3 }, Locale::De, &f);
        assert!(reminder.subject.ends_with("beginnt in 3 Tagen"));
        let tomorrow = render(&Template::Reminder { days: 1 }, Locale::En, &f);
        assert!(tomorrow.subject.ends_with("begins tomorrow"));
    }

    #[test]
    fn host_messages_name_the_guest_and_greet_the_host_plainly() {
        let f = facts();
        let r = render(&Template::HostBooking, Locale::En, &f);
        assert!(r.text.contains("Hello,\n"));
        assert!(r.text.contains("Ada Lovelace has booked Double Room at Casa do Rio."));
        assert!(r.text.contains("Guest:          Ada Lovelace\n"));
        assert!(r.text.contains("View the booking: "));
        let c = render(&Template::HostCancellation { refund: Some(eur(10_000)) }, Locale::Pt, &f);
        assert!(c.text.contains("O hóspede será reembolsado em 100,00\u{a0}€."));
    }

    #[test]
    fn guest_counts_are_pluralised() {
        assert_eq!(guests(1, 0, Locale::En), "1 adult");
        assert_eq!(guests(2, 2, Locale::En), "2 adults, 2 children");
        assert_eq!(guests(1, 1, Locale::De), "1 Erwachsener, 1 Kind");
        assert_eq!(guests(3, 2, Locale::De), "3 Erwachsene, 2 Kinder");
        assert_eq!(guests(1, 2, Locale::Pt), "1 adulto, 2 crianças");
    }

    #[test]
    fn sms_is_one_short_line_with_property_dates_and_link() {
        let f = facts();
        for template in all_templates() {
            for locale in Locale::ALL {
                let sms = render(&template, locale, &f).sms;
                assert!(sms.chars().count() <= 320, "{sms}");
                assert!(!sms.contains('\n'), "{sms}");
                assert!(sms.contains(&f.property_name), "{sms}");
                assert!(sms.contains(&format::date(f.check_in, locale)), "{sms}");
                assert!(sms.contains(&format::date(f.check_out, locale)), "{sms}");
                assert!(sms.ends_with(&f.link), "{sms}");
            }
        }
    }

    #[test]
    fn sms_shortens_a_long_property_name_but_keeps_the_link_whole() {
        let f = BookingFacts { property_name: format!("Grand\nHotel {}", "très long ".repeat(60)), ..facts() };
        let sms = render(&Template::BookingConfirmed, Locale::Pt, &f).sms;
        assert_eq!(sms.chars().count(), 320);
        assert!(!sms.contains('\n'));
        assert!(sms.starts_with("A sua reserva em Grand Hotel très long"));
        assert!(sms.contains("… https://"));
        assert!(sms.ends_with(&f.link));
    }

    #[test]
    fn template_names_are_stable() {
        let names: Vec<&str> = all_templates().iter().map(Template::name).collect();
        assert_eq!(
            names,
            [
                "booking.held",
                "booking.confirmed",
                "booking.cancelled",
                "booking.cancelled",
                "payment.received",
                "payment.failed",
                "reminder",
                "reminder",
                "host.booking",
                "host.cancellation",
                "host.cancellation",
            ]
        );
    }

    #[test]
    fn only_reminders_are_not_transactional() {
        for template in all_templates() {
            assert_eq!(template.transactional(), !matches!(template, Template::Reminder { .. }), "{template:?}");
        }
    }
}
