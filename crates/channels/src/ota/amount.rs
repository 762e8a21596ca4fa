//! OTA amounts (`AmountAfterTax="450.00"`, or `DecimalPlaces="2" AmountAfterTax="45000"`)
//! to money in minor units and back, exactly: no floats.

use super::OtaError;
use super::document::Element;
use super::error::{err, ewt};
use innkeep_core::{Currency, Money};

/// An amount of an OTA message: the money and whether taxes are in it (`AmountAfterTax`)
/// or not (`AmountBeforeTax`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount {
    pub money: Money,
    pub after_tax: bool,
}

/// The currency of `code`, or an error 61 when Innkeep does not price in it.
pub(crate) fn currency(code: &str, at: &str) -> Result<Currency, OtaError> {
    Currency::parse(code).map_err(|_| {
        OtaError::new(ewt::BIZ_RULE, err::INVALID_CURRENCY_CODE, format!("{at}: invalid currency code {code}"))
    })
}

/// The `AmountAfterTax` (preferred) or `AmountBeforeTax` of `el` in its `CurrencyCode` and
/// `DecimalPlaces`, each taken from `inherited` (an enclosing element) when `el` lacks it.
/// `Ok(None)` when `el` has neither amount.
pub(crate) fn read_amount(el: &Element, inherited: Option<&Element>, at: &str) -> Result<Option<Amount>, OtaError> {
    let (value, after_tax) = match (el.attr("AmountAfterTax"), el.attr("AmountBeforeTax")) {
        (Some(v), _) => (v, true),
        (None, Some(v)) => (v, false),
        (None, None) => return Ok(None),
    };
    let inherit = |name: &str| el.attr(name).or_else(|| inherited.and_then(|i| i.attr(name)));
    let code = inherit("CurrencyCode").ok_or_else(|| OtaError::missing(format!("{at}/@CurrencyCode")))?;
    let currency = currency(code, at)?;
    let minor = minor_units(value, inherit("DecimalPlaces"), currency.exponent())
        .map_err(|why| OtaError::invalid(format!("{at}: amount {value:?} {why}")))?;
    Ok(Some(Amount { money: Money::new(minor, currency), after_tax }))
}

/// `value` in minor units of a currency with `exponent` decimals. A value with a decimal
/// point is read as written (the point wins over `DecimalPlaces`); a value without one has
/// `decimal_places` implied decimals (none when absent). Decimals beyond the currency's
/// must be zeros. Negative amounts are refused.
pub(crate) fn minor_units(value: &str, decimal_places: Option<&str>, exponent: u8) -> Result<i64, &'static str> {
    if !value.is_ascii() || value.is_empty() {
        return Err("is not a decimal number");
    }
    let padded: String;
    let (whole, fraction) = match value.split_once('.') {
        Some(parts) => parts,
        None => {
            let places: usize = match decimal_places {
                Some(p) => p.parse().ok().filter(|p| *p <= 18).ok_or("has an unreadable DecimalPlaces")?,
                None => 0,
            };
            // "5" with two implied decimals is 0.05.
            padded = format!("{value:0>places$}");
            padded.split_at(padded.len() - places)
        }
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(fraction) || (whole.is_empty() && fraction.is_empty()) {
        return Err("is not a decimal number");
    }
    let exponent = usize::from(exponent);
    let (kept, dropped) = fraction.split_at(fraction.len().min(exponent));
    if dropped.bytes().any(|b| b != b'0') {
        return Err("has more decimals than its currency");
    }
    let mut minor: i64 = 0;
    let padding = std::iter::repeat_n(b'0', exponent - kept.len());
    for digit in whole.bytes().chain(kept.bytes()).chain(padding) {
        minor = minor.checked_mul(10).and_then(|m| m.checked_add(i64::from(digit - b'0'))).ok_or("is too large")?;
    }
    Ok(minor)
}

/// `money` as an OTA decimal (`450.00`), and its currency's exponent for `DecimalPlaces`.
pub(crate) fn decimal(money: Money) -> (String, u8) {
    let exponent = money.currency.exponent();
    let sign = if money.minor < 0 { "-" } else { "" };
    let abs = money.minor.unsigned_abs();
    if exponent == 0 {
        return (format!("{sign}{abs}"), 0);
    }
    let scale = 10u64.pow(u32::from(exponent));
    (format!("{sign}{}.{:0width$}", abs / scale, abs % scale, width = usize::from(exponent)), exponent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_become_minor_units_exactly() {
        assert_eq!(minor_units("450.00", None, 2), Ok(45_000));
        assert_eq!(minor_units("450", None, 2), Ok(45_000));
        assert_eq!(minor_units("45000", Some("2"), 2), Ok(45_000));
        assert_eq!(minor_units("310.00", Some("2"), 2), Ok(31_000));
        assert_eq!(minor_units("200", Some("2"), 2), Ok(200));
        assert_eq!(minor_units("5", Some("2"), 2), Ok(5));
        assert_eq!(minor_units("0.1", None, 2), Ok(10));
        assert_eq!(minor_units(".5", None, 2), Ok(50));
        assert_eq!(minor_units("1000", Some("0"), 0), Ok(1000));
        assert_eq!(minor_units("1000.000", None, 0), Ok(1000));
        assert_eq!(minor_units("12.345", None, 3), Ok(12_345));
        assert_eq!(minor_units("12345", Some("3"), 2), Err("has more decimals than its currency"));
        assert_eq!(minor_units("12340", Some("3"), 2), Ok(1234));
        assert_eq!(minor_units("1.005", None, 2), Err("has more decimals than its currency"));
        assert!(minor_units("-1.00", None, 2).is_err());
        assert!(minor_units("1e3", None, 2).is_err());
        assert!(minor_units("", None, 2).is_err());
        assert!(minor_units(".", None, 2).is_err());
        assert!(minor_units("1.2.3", None, 2).is_err());
        assert!(minor_units("99999999999999999999", None, 2).is_err());
        assert!(minor_units("12", Some("x"), 2).is_err());
        assert!(minor_units("1é", Some("1"), 2).is_err());
        assert!(minor_units("", Some("2"), 2).is_err());
    }

    #[test]
    fn money_is_written_with_its_currency_decimals() {
        let eur = Currency::parse("EUR").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(decimal(Money::new(45_000, eur)), ("450.00".to_owned(), 2));
        assert_eq!(decimal(Money::new(5, eur)), ("0.05".to_owned(), 2));
        assert_eq!(decimal(Money::new(-5, eur)), ("-0.05".to_owned(), 2));
        assert_eq!(decimal(Money::new(1200, jpy)), ("1200".to_owned(), 0));
        assert_eq!(decimal(Money::new(1, kwd)), ("0.001".to_owned(), 3));
    }
}
