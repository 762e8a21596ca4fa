//! The body of `POST /v1/payment_intents`, form-encoded as Stripe's API expects.

use super::amount::{AmountError, to_stripe_amount};
use innkeep_core::Money;

/// Which payment methods the guest may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentMethods {
    /// Cards only: `payment_method_types[]=card`.
    Card,
    /// Whatever the Stripe dashboard enables: `automatic_payment_methods[enabled]=true`.
    Automatic,
}

/// A request to create a PaymentIntent for one of Innkeep's payments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatePaymentIntent {
    /// What the guest pays.
    pub amount: Money,
    /// Innkeep's booking id, kept in the intent's metadata to find the booking from a webhook.
    pub booking_id: String,
    /// Innkeep's payment id, kept in the intent's metadata; also the natural idempotency key.
    pub payment_id: String,
    pub methods: PaymentMethods,
    /// Confirm on creation. Stripe then needs a payment method, and with
    /// [`PaymentMethods::Automatic`] a `return_url` for redirecting methods; without
    /// confirming, the browser confirms with the returned `client_secret`.
    pub confirm: bool,
}

impl CreatePaymentIntent {
    /// The `application/x-www-form-urlencoded` body: fields in a fixed order, nested keys
    /// in Stripe's bracket form with the brackets left literal (as Stripe's Node library
    /// sends them), values percent-encoded with `+` for spaces.
    pub fn form_encode(&self) -> Result<String, AmountError> {
        let amount = to_stripe_amount(self.amount)?.to_string();
        let currency = self.amount.currency.code().to_ascii_lowercase();
        let mut fields: Vec<(&str, &str)> = vec![
            ("amount", &amount),
            ("currency", &currency),
            ("metadata[booking_id]", &self.booking_id),
            ("metadata[payment_id]", &self.payment_id),
        ];
        fields.push(match self.methods {
            PaymentMethods::Card => ("payment_method_types[]", "card"),
            PaymentMethods::Automatic => ("automatic_payment_methods[enabled]", "true"),
        });
        fields.push(("confirm", if self.confirm { "true" } else { "false" }));
        let pairs: Vec<String> = fields.iter().map(|(key, value)| format!("{key}={}", form_value(value))).collect();
        Ok(pairs.join("&"))
    }
}

/// A request to refund (part of) a PaymentIntent, for one of Innkeep's refunds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateRefund {
    /// The PaymentIntent's id (`pi_...`).
    pub payment_intent: String,
    pub amount: Money,
    /// Innkeep's refund and payment ids, kept in the refund's metadata.
    pub refund_id: String,
    pub payment_id: String,
}

impl CreateRefund {
    /// The `application/x-www-form-urlencoded` body of `POST /v1/refunds`, encoded as
    /// [`CreatePaymentIntent::form_encode`] encodes its own.
    pub fn form_encode(&self) -> Result<String, AmountError> {
        let amount = to_stripe_amount(self.amount)?.to_string();
        let fields = [
            ("payment_intent", self.payment_intent.as_str()),
            ("amount", &amount),
            ("metadata[refund_id]", &self.refund_id),
            ("metadata[payment_id]", &self.payment_id),
        ];
        let pairs: Vec<String> = fields.iter().map(|(key, value)| format!("{key}={}", form_value(value))).collect();
        Ok(pairs.join("&"))
    }
}

/// A value for a form body: unreserved ASCII as is, space as `+`, every other byte `%XX`.
fn form_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(char::from(byte)),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use innkeep_core::Currency;

    fn request(minor: i64, code: &str, methods: PaymentMethods, confirm: bool) -> CreatePaymentIntent {
        CreatePaymentIntent {
            amount: Money::new(minor, Currency::parse(code).unwrap()),
            booking_id: "0190f3a2-7c1e-7d3a-9f00-1a2b3c4d5e6f".into(),
            payment_id: "0190f3a2-7c1e-7d3a-9f00-aaaaaaaaaaaa".into(),
            methods,
            confirm,
        }
    }

    #[test]
    fn a_card_payment_intent_is_encoded_exactly() {
        assert_eq!(
            request(12050, "EUR", PaymentMethods::Card, false).form_encode().unwrap(),
            "amount=12050&currency=eur\
             &metadata[booking_id]=0190f3a2-7c1e-7d3a-9f00-1a2b3c4d5e6f\
             &metadata[payment_id]=0190f3a2-7c1e-7d3a-9f00-aaaaaaaaaaaa\
             &payment_method_types[]=card&confirm=false"
        );
    }

    #[test]
    fn automatic_methods_and_confirm_are_encoded_exactly() {
        assert_eq!(
            request(500, "JPY", PaymentMethods::Automatic, true).form_encode().unwrap(),
            "amount=500&currency=jpy\
             &metadata[booking_id]=0190f3a2-7c1e-7d3a-9f00-1a2b3c4d5e6f\
             &metadata[payment_id]=0190f3a2-7c1e-7d3a-9f00-aaaaaaaaaaaa\
             &automatic_payment_methods[enabled]=true&confirm=true"
        );
    }

    #[test]
    fn values_are_percent_encoded_and_isk_is_in_hundredths() {
        let mut r = request(5, "ISK", PaymentMethods::Card, false);
        r.booking_id = "a b&c=d/é".into();
        let body = r.form_encode().unwrap();
        assert!(body.starts_with("amount=500&currency=isk&metadata[booking_id]=a+b%26c%3Dd%2F%C3%A9&"), "{body}");
    }

    #[test]
    fn a_refund_is_encoded_exactly() {
        let r = CreateRefund {
            payment_intent: "pi_1 a&b".into(),
            amount: Money::new(5, Currency::parse("ISK").unwrap()),
            refund_id: "r".into(),
            payment_id: "p".into(),
        };
        assert_eq!(
            r.form_encode().unwrap(),
            "payment_intent=pi_1+a%26b&amount=500&metadata[refund_id]=r&metadata[payment_id]=p"
        );
    }

    #[test]
    fn an_amount_stripe_refuses_is_an_error() {
        assert_eq!(request(-1, "EUR", PaymentMethods::Card, false).form_encode(), Err(AmountError::Negative));
    }
}
