//! Decimal amount text (`120.50`, `18.150`, `-30`) to integer minor units, without floats.

/// An amount read from text: its magnitude in minor units and what was lost on the way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Minor {
    /// Never negative; the sign is in `negative`.
    pub magnitude: i64,
    pub negative: bool,
    /// A non-zero digit beyond the currency's minor unit was dropped (toward zero).
    pub truncated: bool,
}

/// Why amount text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DecimalError {
    #[error("not a decimal number")]
    Syntax,
    #[error("out of range")]
    Overflow,
}

/// Read `[+-]digits[.digits]` (at least one digit; no exponent, spaces or thousands
/// separators) as minor units of a currency with `exponent` minor digits. Digits beyond
/// the minor unit are dropped: trailing zeros silently, anything else with `truncated`.
pub(crate) fn parse_minor(text: &str, exponent: u8) -> Result<Minor, DecimalError> {
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction) {
        return Err(DecimalError::Syntax);
    }
    let push = |acc: i64, digit: u8| -> Result<i64, DecimalError> {
        acc.checked_mul(10).and_then(|v| v.checked_add(i64::from(digit - b'0'))).ok_or(DecimalError::Overflow)
    };
    let mut magnitude = 0i64;
    for d in whole.bytes() {
        magnitude = push(magnitude, d)?;
    }
    let exponent = usize::from(exponent);
    for i in 0..exponent {
        magnitude = push(magnitude, fraction.as_bytes().get(i).copied().unwrap_or(b'0'))?;
    }
    let truncated = fraction.bytes().skip(exponent).any(|b| b != b'0');
    Ok(Minor { magnitude, negative, truncated })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str, exponent: u8) -> (i64, bool, bool) {
        let m = parse_minor(text, exponent).unwrap();
        (m.magnitude, m.negative, m.truncated)
    }

    #[test]
    fn plain_amounts_become_minor_units() {
        assert_eq!(ok("120.50", 2), (12050, false, false));
        assert_eq!(ok("474.4", 2), (47440, false, false));
        assert_eq!(ok("2700", 0), (2700, false, false));
        assert_eq!(ok("0", 2), (0, false, false));
        assert_eq!(ok(".5", 2), (50, false, false));
        assert_eq!(ok("7.", 2), (700, false, false));
        assert_eq!(ok("1.234", 3), (1234, false, false));
    }

    #[test]
    fn signs_are_reported_not_applied() {
        assert_eq!(ok("-30.00", 2), (3000, true, false));
        assert_eq!(ok("+5", 2), (500, false, false));
    }

    #[test]
    fn trailing_zeros_beyond_the_minor_unit_are_accepted() {
        assert_eq!(ok("18.150", 2), (1815, false, false));
        assert_eq!(ok("8.85000", 2), (885, false, false));
        assert_eq!(ok("100.00", 0), (100, false, false));
    }

    #[test]
    fn extra_precision_truncates_toward_zero_and_says_so() {
        assert_eq!(ok("18.155", 2), (1815, false, true));
        assert_eq!(ok("-18.159", 2), (1815, true, true));
        assert_eq!(ok("0.001", 2), (0, false, true));
        assert_eq!(ok("5.5", 0), (5, false, true));
    }

    #[test]
    fn malformed_text_is_refused() {
        for text in ["", "-", "+", ".", "1.2.3", "1e5", "1,50", " 1", "1 ", "--1", "0x10", "١٢"] {
            assert_eq!(parse_minor(text, 2), Err(DecimalError::Syntax), "{text:?}");
        }
    }

    #[test]
    fn amounts_beyond_i64_are_refused() {
        assert_eq!(parse_minor("92233720368547758.08", 2), Err(DecimalError::Overflow));
        assert_eq!(parse_minor("99999999999999999999", 0), Err(DecimalError::Overflow));
        assert_eq!(ok("92233720368547758.07", 2), (i64::MAX, false, false));
    }
}
