//! Stripe's webhook signature: `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256>`.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;

/// Why a webhook's signature was refused. The messages are those of Stripe's own libraries,
/// so that a log line can be looked up in Stripe's documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `t=<unix seconds>` in the header.
    #[error("Unable to extract timestamp and signatures from header")]
    MalformedHeader,
    /// No `v1=` signature in the header (`v0` is Stripe's old test scheme and is ignored).
    #[error("No signatures found with expected scheme v1")]
    NoV1Signature,
    /// No `v1` signature matches the payload under the secret: forged, altered, or signed
    /// with another endpoint's secret.
    #[error("No signatures found matching the expected signature for payload")]
    NoMatchingSignature,
    /// Signed more than `tolerance` before `now`: possibly a replay.
    #[error("Timestamp outside the tolerance zone")]
    TimestampOutsideTolerance,
}

/// Check a webhook's `Stripe-Signature` header against its raw body and the endpoint's
/// signing secret (`whsec_...`, used as is); returns the signed timestamp (Unix seconds).
///
/// The header is `t=<unix>,v1=<hex>[,v1=<hex>...]`; each `v1` is
/// `HMAC-SHA256(secret, "<t>." + payload)` and one match suffices (Stripe sends several
/// while a secret is being rolled). Signatures are compared in constant time. As in
/// Stripe's libraries, the signature is checked before the age, and only a timestamp
/// *older* than `now_unix - tolerance` is refused: a timestamp ahead of our clock passes,
/// since only the holder of the secret can produce it. Unlike those libraries, a zero
/// tolerance does not switch the check off; `Duration::MAX` does in effect. Stripe
/// suggests 300 seconds.
pub fn verify_signature(
    payload: &[u8],
    header: &str,
    secret: &str,
    tolerance: Duration,
    now_unix: i64,
) -> Result<i64, SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for item in header.split(',') {
        let Some((key, value)) = item.split_once('=') else { continue };
        match key.trim() {
            "t" if timestamp.is_none() => {
                timestamp = Some(value.trim().parse::<i64>().map_err(|_| SignatureError::MalformedHeader)?);
            }
            "v1" => signatures.push(value.trim()),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::MalformedHeader)?;
    if signatures.is_empty() {
        return Err(SignatureError::NoV1Signature);
    }

    // HMAC takes keys of any length, so this cannot fail; refusing is the safe answer anyway.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| SignatureError::NoMatchingSignature)?;
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    let matches = |signature: &&str| hex::decode(signature).is_ok_and(|tag| mac.clone().verify_slice(&tag).is_ok());
    if !signatures.iter().any(matches) {
        return Err(SignatureError::NoMatchingSignature);
    }

    let tolerance = i64::try_from(tolerance.as_secs()).unwrap_or(i64::MAX);
    if timestamp < now_unix.saturating_sub(tolerance) {
        return Err(SignatureError::TimestampOutsideTolerance);
    }
    Ok(timestamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(payload: &[u8], secret: &str, t: i64) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.").as_bytes());
        mac.update(payload);
        hex::encode(mac.finalize().into_bytes())
    }

    const FIVE_MINUTES: Duration = Duration::from_secs(300);

    #[test]
    fn a_fresh_signature_returns_its_timestamp() {
        let header = format!("t=1000,v1={}", sign(b"{}", "whsec_x", 1000));
        assert_eq!(verify_signature(b"{}", &header, "whsec_x", FIVE_MINUTES, 1300), Ok(1000));
        assert_eq!(
            verify_signature(b"{}", &header, "whsec_x", FIVE_MINUTES, 1301),
            Err(SignatureError::TimestampOutsideTolerance)
        );
    }

    #[test]
    fn zero_tolerance_accepts_only_the_current_second() {
        let header = format!("t=1000,v1={}", sign(b"{}", "whsec_x", 1000));
        assert_eq!(verify_signature(b"{}", &header, "whsec_x", Duration::ZERO, 1000), Ok(1000));
        assert_eq!(
            verify_signature(b"{}", &header, "whsec_x", Duration::ZERO, 1001),
            Err(SignatureError::TimestampOutsideTolerance)
        );
    }

    #[test]
    fn a_truncated_or_uppercase_signature_is_judged_by_its_bytes() {
        let sig = sign(b"{}", "whsec_x", 1000);
        let short = format!("t=1000,v1={}", &sig[..32]);
        assert_eq!(
            verify_signature(b"{}", &short, "whsec_x", FIVE_MINUTES, 1000),
            Err(SignatureError::NoMatchingSignature)
        );
        let upper = format!("t=1000,v1={}", sig.to_uppercase());
        assert_eq!(verify_signature(b"{}", &upper, "whsec_x", FIVE_MINUTES, 1000), Ok(1000));
    }

    #[test]
    fn odd_headers_are_refused_not_panicked_on() {
        for header in ["", "t=", "t=abc,v1=00", "v1=00", ",,,", "t=99999999999999999999,v1=00", "t=1,v1", "=,="] {
            let result = verify_signature(b"{}", header, "whsec_x", FIVE_MINUTES, 0);
            assert!(result.is_err(), "{header:?}");
        }
        let extreme = format!("t={},v1={}", i64::MIN, sign(b"", "s", i64::MIN));
        assert_eq!(
            verify_signature(b"", &extreme, "s", Duration::MAX, i64::MAX),
            Err(SignatureError::TimestampOutsideTolerance)
        );
        assert_eq!(verify_signature(b"", &extreme, "s", Duration::MAX, i64::MIN), Ok(i64::MIN));
    }
}
