//! Amounts as Stripe's API writes them: integers in Stripe's smallest unit of a currency.
//!
//! That unit is Innkeep's minor unit for every currency Innkeep accepts except two cases
//! Stripe documents under "special cases" of its currency list: ISK, which Innkeep counts in
//! whole krónur and Stripe in hundredths (always a multiple of 100), and three-decimal
//! currencies (KWD), where Stripe refuses an amount whose last digit is not 0.

use innkeep_core::{Currency, Money};

/// Why an amount cannot cross between Innkeep and Stripe.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("currency {0:?} is not one Innkeep accepts")]
    UnknownCurrency(String),
    #[error("Stripe refuses negative amounts")]
    Negative,
    #[error("amount out of range")]
    Overflow,
    #[error("Stripe takes {0} only in multiples of 10 minor units (a last digit of 0)")]
    ThreeDecimalNotRound(Money),
    #[error("Stripe amount {0} ISK is not a whole number of krónur")]
    FractionalIsk(i64),
}

/// The `amount` Stripe expects for `money`.
pub fn to_stripe_amount(money: Money) -> Result<i64, AmountError> {
    if money.minor < 0 {
        return Err(AmountError::Negative);
    }
    if money.currency.code() == "ISK" {
        return money.minor.checked_mul(100).ok_or(AmountError::Overflow);
    }
    if money.currency.exponent() == 3 && money.minor % 10 != 0 {
        return Err(AmountError::ThreeDecimalNotRound(money));
    }
    Ok(money.minor)
}

/// The money a Stripe `amount` and `currency` (`"eur"`, any case) stand for.
pub fn from_stripe_amount(amount: i64, currency: &str) -> Result<Money, AmountError> {
    let currency = Currency::parse(&currency.to_ascii_uppercase())
        .map_err(|_| AmountError::UnknownCurrency(currency.to_string()))?;
    if currency.code() == "ISK" {
        if amount % 100 != 0 {
            return Err(AmountError::FractionalIsk(amount));
        }
        return Ok(Money::new(amount / 100, currency));
    }
    Ok(Money::new(amount, currency))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(minor: i64, code: &str) -> Money {
        Money::new(minor, Currency::parse(code).unwrap())
    }

    #[test]
    fn most_currencies_use_minor_units_both_ways() {
        for (minor, code) in [(1099, "EUR"), (500, "JPY"), (12345, "HUF"), (0, "USD")] {
            assert_eq!(to_stripe_amount(money(minor, code)), Ok(minor));
            assert_eq!(from_stripe_amount(minor, &code.to_lowercase()), Ok(money(minor, code)));
        }
    }

    #[test]
    fn isk_is_counted_in_hundredths_by_stripe() {
        assert_eq!(to_stripe_amount(money(5, "ISK")), Ok(500));
        assert_eq!(from_stripe_amount(500, "isk"), Ok(money(5, "ISK")));
        assert_eq!(from_stripe_amount(510, "isk"), Err(AmountError::FractionalIsk(510)));
        assert_eq!(to_stripe_amount(money(i64::MAX, "ISK")), Err(AmountError::Overflow));
    }

    #[test]
    fn three_decimal_amounts_must_end_in_zero() {
        assert_eq!(to_stripe_amount(money(5120, "KWD")), Ok(5120));
        assert_eq!(to_stripe_amount(money(5124, "KWD")), Err(AmountError::ThreeDecimalNotRound(money(5124, "KWD"))));
    }

    #[test]
    fn negative_and_unknown_are_refused() {
        assert_eq!(to_stripe_amount(money(-1, "EUR")), Err(AmountError::Negative));
        assert_eq!(from_stripe_amount(1, "xts"), Err(AmountError::UnknownCurrency("xts".into())));
    }
}
