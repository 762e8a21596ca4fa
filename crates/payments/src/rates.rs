//! Euro exchange rates in the European Central Bank's reference-rate format
//! (`eurofxref-daily.xml`: `<Cube time='YYYY-MM-DD'><Cube currency='USD' rate='1.0842'/>...`),
//! used only to show a guest an approximate price in the currency they prefer: every charge
//! stays in the property's own currency.

use crate::xml_tree::{Element, parse};
use innkeep_core::{Currency, Money};
use jiff::civil::Date;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The rates built into the program: the ECB's of one day (see the file's comment for which).
const BUNDLED: &str = include_str!("../rates/eurofxref.xml");

/// Rates against the euro on one day.
#[derive(Debug, Clone, PartialEq)]
pub struct Rates {
    /// The day the rates are of.
    pub date: Date,
    /// Units of each currency one euro buys (the euro itself is 1).
    per_euro: HashMap<Currency, f64>,
}

/// Why a rates file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RatesError {
    #[error("not XML: {0}")]
    Xml(String),
    #[error("no <Cube time='...'> with rates")]
    NoDay,
    #[error("bad date {0:?}")]
    Date(String),
    #[error("bad rate for {currency}: {rate:?}")]
    Rate { currency: String, rate: String },
}

impl Rates {
    /// Read an ECB reference-rates document. Currencies Innkeep does not know are skipped.
    pub fn parse_ecb(xml: &str) -> Result<Rates, RatesError> {
        let root = parse(xml.as_bytes()).map_err(|e| RatesError::Xml(e.to_string()))?;
        let day = find_day(&root).ok_or(RatesError::NoDay)?;
        let time = day.attribute("time").unwrap_or_default();
        let date: Date = time.parse().map_err(|_| RatesError::Date(time.to_string()))?;
        let mut per_euro = HashMap::new();
        if let Ok(eur) = Currency::parse("EUR") {
            per_euro.insert(eur, 1.0);
        }
        for cube in day.children("Cube") {
            let (Some(code), Some(rate)) = (cube.attribute("currency"), cube.attribute("rate")) else { continue };
            let value: f64 = rate.trim().parse().map_err(|_| bad(code, rate))?;
            if !value.is_finite() || value <= 0.0 {
                return Err(bad(code, rate));
            }
            if let Ok(c) = Currency::parse(code) {
                per_euro.insert(c, value);
            }
        }
        Ok(Rates { date, per_euro })
    }

    /// The rates built into the program.
    pub fn bundled() -> Option<&'static Rates> {
        static RATES: OnceLock<Option<Rates>> = OnceLock::new();
        RATES.get_or_init(|| Rates::parse_ecb(BUNDLED).ok()).as_ref()
    }

    /// `money` in `to`, approximately (through the euro, rounded to `to`'s minor unit);
    /// `None` when either currency has no rate.
    pub fn convert(&self, money: Money, to: Currency) -> Option<Money> {
        let from = *self.per_euro.get(&money.currency)?;
        let into = *self.per_euro.get(&to)?;
        let major = money.minor as f64 / 10f64.powi(i32::from(money.currency.exponent()));
        let minor = (major / from * into * 10f64.powi(i32::from(to.exponent()))).round();
        (minor.abs() < 9.0e15).then(|| Money::new(minor as i64, to))
    }
}

fn bad(currency: &str, rate: &str) -> RatesError {
    RatesError::Rate { currency: currency.to_string(), rate: rate.to_string() }
}

/// The `<Cube time=...>` element, wherever it sits.
fn find_day(el: &Element) -> Option<&Element> {
    if el.name == "Cube" && el.attribute("time").is_some() {
        return Some(el);
    }
    el.children.iter().find_map(find_day)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn c(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    const ECB: &str = "<?xml version='1.0' encoding='UTF-8'?>
<gesmes:Envelope xmlns:gesmes='http://www.gesmes.org/xml/2002-08-01' xmlns='http://www.ecb.int/vocabulary/2002-08-01/eurofxref'>
  <gesmes:subject>Reference rates</gesmes:subject>
  <Cube><Cube time='2025-01-10'>
    <Cube currency='USD' rate='1.0304'/><Cube currency='JPY' rate='162.88'/><Cube currency='GBP' rate='0.83713'/>
    <Cube currency='XAU' rate='0.0004'/>
  </Cube></Cube>
</gesmes:Envelope>";

    #[test]
    fn an_ecb_document_is_read_with_its_date() {
        let r = Rates::parse_ecb(ECB).unwrap();
        assert_eq!(r.date, jiff::civil::date(2025, 1, 10));
        // EUR 100.00 is USD 103.04; USD 103.04 back is EUR 100.00.
        assert_eq!(r.convert(Money::new(10_000, c("EUR")), c("USD")), Some(Money::new(10_304, c("USD"))));
        assert_eq!(r.convert(Money::new(10_304, c("USD")), c("EUR")), Some(Money::new(10_000, c("EUR"))));
        // Through the euro: USD 10.00 = EUR 9.7049... = JPY 1,580.73... -> JPY 1581 (no minor unit).
        assert_eq!(r.convert(Money::new(1_000, c("USD")), c("JPY")), Some(Money::new(1_581, c("JPY"))));
        // GBP 50.00 = EUR 59.73 = USD 61.54.
        assert_eq!(r.convert(Money::new(5_000, c("GBP")), c("USD")), Some(Money::new(6_154, c("USD"))));
        // No rate, no conversion.
        assert_eq!(r.convert(Money::new(1_000, c("EUR")), c("CHF")), None);
    }

    #[test]
    fn broken_documents_are_refused() {
        assert!(matches!(Rates::parse_ecb("<Cube>"), Err(RatesError::Xml(_))));
        assert_eq!(Rates::parse_ecb("<Envelope><Cube/></Envelope>"), Err(RatesError::NoDay));
        let bad = "<Cube><Cube time='2025-01-10'><Cube currency='USD' rate='-1'/></Cube></Cube>";
        assert!(matches!(Rates::parse_ecb(bad), Err(RatesError::Rate { .. })));
        let bad = "<Cube><Cube time='tomorrow'><Cube currency='USD' rate='1'/></Cube></Cube>";
        assert!(matches!(Rates::parse_ecb(bad), Err(RatesError::Date(_))));
    }

    #[test]
    fn the_bundled_rates_parse_and_carry_their_date() {
        let r = Rates::bundled().unwrap();
        // The ECB's figures of 2026-10-30 (1.1172 dollars a euro).
        assert_eq!(r.date, jiff::civil::date(2026, 10, 30));
        assert_eq!(r.convert(Money::new(10_000, c("EUR")), c("USD")), Some(Money::new(11_172, c("USD"))));
        for code in ["USD", "GBP", "CHF", "JPY", "CZK"] {
            assert!(r.convert(Money::new(100, c("EUR")), c(code)).is_some(), "{code}");
        }
    }
}
