//! Money: an integer number of minor units in an ISO 4217 currency.
//!
//! Rounding rule (used by every percentage in a quote or a refund): the exact value
//! `amount * basis_points / 10_000` is rounded to the nearest minor unit, halves away
//! from zero. Percentages are applied once to a total, never per night, so the
//! rounding error of a whole quote is at most half a minor unit per percentage line.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An ISO 4217 currency code that Innkeep accepts, with its minor-unit exponent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

/// ISO 4217 codes accepted for prices, with the number of minor-unit digits.
const CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("BRL", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("CZK", 2),
    ("DKK", 2),
    ("EGP", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("ISK", 0),
    ("JPY", 0),
    ("KES", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("MAD", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("NGN", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("PEN", 2),
    ("PHP", 2),
    ("PLN", 2),
    ("QAR", 2),
    ("RON", 2),
    ("SAR", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("THB", 2),
    ("TRY", 2),
    ("TWD", 2),
    ("UAH", 2),
    ("USD", 2),
    ("VND", 0),
    ("ZAR", 2),
];

/// Why a currency or amount was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("unknown ISO 4217 currency code {0:?}")]
    UnknownCurrency(String),
    #[error("currencies differ: {0} and {1}")]
    CurrencyMismatch(Currency, Currency),
    #[error("amount out of range")]
    Overflow,
    #[error("amount must not be negative")]
    Negative,
}

impl Currency {
    /// Parse an ISO 4217 code ("EUR"); only codes in Innkeep's list are accepted.
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        CURRENCIES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(c, _)| {
                let b = c.as_bytes();
                Currency([b[0], b[1], b[2]])
            })
            .ok_or_else(|| MoneyError::UnknownCurrency(code.to_string()))
    }

    /// Every currency Innkeep accepts, by code.
    pub fn all() -> impl Iterator<Item = Currency> {
        CURRENCIES.iter().filter_map(|(c, _)| Currency::parse(c).ok())
    }

    /// The three-letter code.
    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// Number of minor-unit digits (2 for EUR, 0 for JPY).
    pub fn exponent(&self) -> u8 {
        CURRENCIES.iter().find(|(c, _)| *c == self.code()).map(|(_, e)| *e).unwrap_or(2)
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Currency::parse(&s)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.code().to_string()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An amount of money in minor units (cents for EUR, yen for JPY).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    /// An amount in minor units.
    pub fn new(minor: i64, currency: Currency) -> Self {
        Money { minor, currency }
    }

    /// Zero in a currency.
    pub fn zero(currency: Currency) -> Self {
        Money { minor: 0, currency }
    }

    /// Sum of two amounts of the same currency.
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch(self.currency, other.currency));
        }
        let minor = self.minor.checked_add(other.minor).ok_or(MoneyError::Overflow)?;
        Ok(Money { minor, currency: self.currency })
    }

    /// Difference of two amounts of the same currency.
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.checked_add(Money { minor: other.minor.checked_neg().ok_or(MoneyError::Overflow)?, ..other })
    }

    /// Multiply by a whole count (nights, guests).
    pub fn times(self, n: i64) -> Result<Money, MoneyError> {
        let minor = self.minor.checked_mul(n).ok_or(MoneyError::Overflow)?;
        Ok(Money { minor, currency: self.currency })
    }

    /// `self * bp / 10_000`, rounded half away from zero (the module's rounding rule).
    pub fn percent_bp(self, basis_points: i64) -> Result<Money, MoneyError> {
        Ok(Money { minor: round_div(self.minor as i128 * basis_points as i128, 10_000)?, currency: self.currency })
    }
}

/// `num / den` rounded to nearest, halves away from zero; `den > 0`.
fn round_div(num: i128, den: i128) -> Result<i64, MoneyError> {
    let q = num / den;
    let r = num % den;
    let q = if 2 * r.abs() >= den { q + num.signum() } else { q };
    i64::try_from(q).map_err(|_| MoneyError::Overflow)
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exp = self.currency.exponent() as u32;
        if exp == 0 {
            return write!(f, "{} {}", self.minor, self.currency);
        }
        let div = 10i64.pow(exp);
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        write!(f, "{sign}{}.{:0width$} {}", abs / div as u64, abs % div as u64, self.currency, width = exp as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(minor: i64) -> Money {
        Money::new(minor, Currency::parse("EUR").unwrap())
    }

    #[test]
    fn percentages_round_half_away_from_zero() {
        // 10% of 1.05 = 0.105 -> 0.11; 10% of 1.04 = 0.104 -> 0.10
        assert_eq!(eur(105).percent_bp(1000).unwrap().minor, 11);
        assert_eq!(eur(104).percent_bp(1000).unwrap().minor, 10);
        assert_eq!(eur(-105).percent_bp(1000).unwrap().minor, -11);
        assert_eq!(eur(12345).percent_bp(10_000).unwrap().minor, 12345);
    }

    #[test]
    fn unknown_currency_is_refused() {
        assert!(Currency::parse("EURO").is_err());
        assert!(Currency::parse("eur").is_err());
        assert_eq!(Currency::parse("JPY").unwrap().exponent(), 0);
    }

    #[test]
    fn adding_different_currencies_fails() {
        let usd = Money::new(1, Currency::parse("USD").unwrap());
        assert!(matches!(eur(1).checked_add(usd), Err(MoneyError::CurrencyMismatch(..))));
    }

    #[test]
    fn display_uses_the_currency_exponent() {
        assert_eq!(eur(12345).to_string(), "123.45 EUR");
        assert_eq!(Money::new(500, Currency::parse("JPY").unwrap()).to_string(), "500 JPY");
    }
}
