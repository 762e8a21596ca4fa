//! Payments: when a guest pays, how, the states a payment goes through, how much may still
//! be refunded, commission, and the structured reference a bank transfer quotes.

use crate::{Money, MoneyError};
use serde::{Deserialize, Serialize};

/// When a property's guests pay (the property's choice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentTiming {
    /// A held booking is confirmed only by a successful payment.
    Prepay,
    /// The guest pays the property; the platform bills its commission to the host.
    #[default]
    AtProperty,
}

/// How a guest pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    Card,
    BankTransfer,
}

impl PaymentMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::Card => "card",
            PaymentMethod::BankTransfer => "bank_transfer",
        }
    }

    pub fn parse(s: &str) -> Option<PaymentMethod> {
        [PaymentMethod::Card, PaymentMethod::BankTransfer].into_iter().find(|m| m.as_str() == s)
    }
}

/// Where a payment is: `requires_action -> processing -> succeeded | failed | canceled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Created; the guest (card details, the transfer) or the provider must act.
    RequiresAction,
    /// The provider is working on it.
    Processing,
    Succeeded,
    Failed,
    Canceled,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::RequiresAction => "requires_action",
            PaymentStatus::Processing => "processing",
            PaymentStatus::Succeeded => "succeeded",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Canceled => "canceled",
        }
    }

    pub fn parse(s: &str) -> Option<PaymentStatus> {
        Some(match s {
            "requires_action" => PaymentStatus::RequiresAction,
            "processing" => PaymentStatus::Processing,
            "succeeded" => PaymentStatus::Succeeded,
            "failed" => PaymentStatus::Failed,
            "canceled" => PaymentStatus::Canceled,
            _ => return None,
        })
    }

    /// Whether nothing more happens to the payment.
    pub fn is_final(self) -> bool {
        matches!(self, PaymentStatus::Succeeded | PaymentStatus::Failed | PaymentStatus::Canceled)
    }

    /// Whether a payment in this state may move to `next` (staying put is allowed: a
    /// provider may say the same thing twice). A failed card payment may still succeed:
    /// the guest can try another card on the same provider payment, and captured money is
    /// always recorded.
    pub fn can_become(self, next: PaymentStatus) -> bool {
        use PaymentStatus::*;
        self == next
            || matches!(
                (self, next),
                (RequiresAction, Processing | Succeeded | Failed | Canceled)
                    | (Processing, Succeeded | Failed | Canceled)
                    | (Failed, Succeeded)
            )
    }

    /// Whether the payment is still waiting for money (at most one per booking).
    pub fn is_open(self) -> bool {
        matches!(self, PaymentStatus::RequiresAction | PaymentStatus::Processing)
    }
}

/// Why a refund cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefundError {
    #[error("a refund must be more than zero")]
    NotPositive,
    #[error("only {left} of the payment is left to refund")]
    MoreThanCaptured { left: Money },
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// Check a refund of `amount` against what was captured and what was already refunded;
/// returns what is left after it.
pub fn check_refund(captured: Money, refunded: Money, amount: Money) -> Result<Money, RefundError> {
    if amount.minor <= 0 {
        return Err(RefundError::NotPositive);
    }
    let left = captured.checked_sub(refunded)?;
    if amount.checked_sub(left)?.minor > 0 {
        return Err(RefundError::MoreThanCaptured { left });
    }
    Ok(left.checked_sub(amount)?)
}

/// A commission rate in basis points (1500 = 15%).
pub const DEFAULT_COMMISSION_BP: i64 = 1500;

/// Commission on a stay's total at a rate, and the tax on it at `tax_bp`: (net, tax).
/// Each is rounded half away from zero to the currency's minor unit.
pub fn commission(total: Money, rate_bp: i64, tax_bp: i64) -> Result<(Money, Money), MoneyError> {
    let net = total.percent_bp(rate_bp)?;
    Ok((net, net.percent_bp(tax_bp)?))
}

/// `s` as a normalised IBAN (whitespace removed, upper case) when it is one under ISO 13616:
/// two letters, two check digits (02 to 98), up to 30 letters or digits, 15 to 34
/// characters in all, and the ISO 7064 mod-97 check equal to 1. Country codes and
/// per-country lengths are not checked.
pub fn valid_iban(s: &str) -> Option<String> {
    let iban: String = s.chars().filter(|c| !c.is_whitespace()).map(|c| c.to_ascii_uppercase()).collect();
    let bytes = iban.as_bytes();
    if !(15..=34).contains(&bytes.len()) {
        return None;
    }
    let (head, bban) = bytes.split_at(4);
    let shape = head[..2].iter().all(u8::is_ascii_uppercase)
        && head[2..].iter().all(u8::is_ascii_digit)
        && bban.iter().all(u8::is_ascii_alphanumeric);
    if !shape || matches!(&head[2..], b"00" | b"01" | b"99") {
        return None;
    }
    let mut remainder = 0u32;
    for &b in bban.iter().chain(head) {
        remainder = if b.is_ascii_digit() {
            (remainder * 10 + u32::from(b - b'0')) % 97
        } else {
            (remainder * 100 + u32::from(b - b'A') + 10) % 97
        };
    }
    (remainder == 1).then_some(iban)
}

/// `s` as a normalised BIC (whitespace removed, upper case) when it has the shape the
/// pain.001.001.03 schema takes from ISO 9362: six letters, a letter or a digit 2 to 9, a
/// letter other than O or a digit, then optionally three letters or digits for the branch.
pub fn valid_bic(s: &str) -> Option<String> {
    let bic: String = s.chars().filter(|c| !c.is_whitespace()).map(|c| c.to_ascii_uppercase()).collect();
    let b = bic.as_bytes();
    if b.len() != 8 && b.len() != 11 {
        return None;
    }
    let shape = b[..6].iter().all(u8::is_ascii_uppercase)
        && (b[6].is_ascii_uppercase() || (b'2'..=b'9').contains(&b[6]))
        && ((b[7].is_ascii_uppercase() && b[7] != b'O') || b[7].is_ascii_digit())
        && b[8..].iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    shape.then_some(bic)
}

/// An ISO 11649 structured creditor reference (`RF` + two check digits + up to 21
/// letters and digits) for `body`, which must be 1 to 21 ASCII letters or digits.
pub fn rf_reference(body: &str) -> Option<String> {
    if body.is_empty() || body.len() > 21 || !body.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let body = body.to_ascii_uppercase();
    let check = 98 - mod97(&format!("{body}RF00"))?;
    Some(format!("RF{check:02}{body}"))
}

/// The reference in `text` if it is a valid ISO 11649 reference (spaces ignored, any case).
pub fn parse_rf(text: &str) -> Option<String> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
    if compact.len() < 5 || compact.len() > 25 || !compact.starts_with("RF") {
        return None;
    }
    if !compact.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let (head, body) = compact.split_at(4);
    (mod97(&format!("{body}{head}"))? == 1).then_some(compact)
}

/// The number made of `s` (letters as 10..35) modulo 97, digit by digit.
fn mod97(s: &str) -> Option<u32> {
    let mut r: u32 = 0;
    for c in s.chars() {
        let v = c.to_digit(36)?;
        r = if v < 10 { (r * 10 + v) % 97 } else { (r * 100 + v) % 97 };
    }
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;

    fn eur(minor: i64) -> Money {
        Money::new(minor, Currency::parse("EUR").unwrap())
    }

    #[test]
    fn payments_move_forward_only() {
        use PaymentStatus::*;
        assert!(RequiresAction.can_become(Processing));
        assert!(Processing.can_become(Succeeded));
        assert!(Succeeded.can_become(Succeeded));
        assert!(!Succeeded.can_become(Failed));
        assert!(!Failed.can_become(Processing));
        assert!(Failed.can_become(Succeeded), "captured money is recorded");
        assert!(!Canceled.can_become(Succeeded));
        assert!(Processing.is_open() && !Failed.is_open());
        assert!(!Processing.can_become(RequiresAction));
        for s in [RequiresAction, Processing, Succeeded, Failed, Canceled] {
            assert_eq!(PaymentStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn never_more_is_refunded_than_was_captured() {
        assert_eq!(check_refund(eur(10_000), eur(0), eur(4_000)), Ok(eur(6_000)));
        assert_eq!(check_refund(eur(10_000), eur(4_000), eur(6_000)), Ok(eur(0)));
        assert_eq!(
            check_refund(eur(10_000), eur(4_000), eur(6_001)),
            Err(RefundError::MoreThanCaptured { left: eur(6_000) })
        );
        assert_eq!(check_refund(eur(10_000), eur(0), eur(0)), Err(RefundError::NotPositive));
        let usd = Money::new(1, Currency::parse("USD").unwrap());
        assert!(matches!(check_refund(eur(10_000), eur(0), usd), Err(RefundError::Money(_))));
    }

    #[test]
    fn commission_and_its_tax_round_half_away_from_zero() {
        // 15% of 333.33 = 49.9995 -> 50.00; 19% VAT on 50.00 = 9.50
        assert_eq!(commission(eur(33_333), 1500, 1900), Ok((eur(5_000), eur(950))));
        assert_eq!(commission(eur(0), 1500, 1900), Ok((eur(0), eur(0))));
    }

    #[test]
    fn creditor_references_follow_iso_11649() {
        // The standard's own example: RF18 5390 0754 7034.
        assert_eq!(rf_reference("539007547034").as_deref(), Some("RF18539007547034"));
        assert_eq!(parse_rf("RF18 5390 0754 7034").as_deref(), Some("RF18539007547034"));
        assert_eq!(parse_rf("rf18539007547034").as_deref(), Some("RF18539007547034"));
        assert_eq!(parse_rf("RF19539007547034"), None, "a wrong check digit");
        assert_eq!(parse_rf("RF18539007547035"), None, "a mistyped digit");
        assert_eq!(rf_reference(""), None);
        assert_eq!(rf_reference("TOO-LONG-AND-NOT-ALNUM"), None);
        let r = rf_reference("IK7Q2M9X4").unwrap();
        assert_eq!(parse_rf(&r), Some(r.clone()));
    }
}
