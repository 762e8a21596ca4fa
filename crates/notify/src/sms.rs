//! The SMS sender: a delivery's text through Twilio's Messages API (or a gateway that
//! speaks it).

use crate::sender::{SendError, body_start, detail, http_client, http_failure, http_status};
use innkeep_app::notify::Delivery;
use std::time::Duration;

/// Which gateway account sends SMS, from which number.
#[derive(Debug, Clone)]
pub struct SmsOptions {
    /// The API's root, `https://api.twilio.com`.
    pub base_url: String,
    /// The account (the user name of basic auth).
    pub account_sid: String,
    /// The account's secret (the password of basic auth).
    pub auth_token: String,
    /// The sending number (E.164) or messaging service's sender.
    pub from: String,
    /// How long one request may take, from connecting to the last byte of the answer.
    pub timeout: Duration,
}

/// Sends SMS deliveries: `POST {base}/2010-04-01/Accounts/{sid}/Messages.json`.
pub struct SmsSender {
    client: reqwest::Client,
    url: String,
    account_sid: String,
    auth_token: String,
    from: String,
}

impl SmsSender {
    /// A sender for `options`.
    pub fn new(options: &SmsOptions) -> Result<SmsSender, String> {
        let client =
            http_client(options.timeout).build().map_err(|e| format!("the SMS client cannot be built: {e}"))?;
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            options.base_url.trim_end_matches('/'),
            options.account_sid
        );
        reqwest::Url::parse(&url).map_err(|e| format!("the SMS gateway URL does not parse: {e}"))?;
        Ok(SmsSender {
            client,
            url,
            account_sid: options.account_sid.clone(),
            auth_token: options.auth_token.clone(),
            from: options.from.clone(),
        })
    }

    /// Send one SMS delivery: its text to its recipient's number.
    pub async fn send(&self, d: &Delivery) -> Result<(), SendError> {
        let form = [("To", d.recipient.as_str()), ("From", self.from.as_str()), ("Body", d.content.text.as_str())];
        let response = self
            .client
            .post(&self.url)
            .basic_auth(&self.account_sid, Some(&self.auth_token))
            .form(&form)
            .send()
            .await
            .map_err(|e| http_failure("the SMS gateway", e))?;
        let status = response.status();
        if status == reqwest::StatusCode::CREATED || status == reqwest::StatusCode::OK {
            return Ok(());
        }
        let body = body_start(response).await;
        Err(http_status("the SMS gateway", status, &detail(&gateway_words(&body), &d.recipient)))
    }
}

/// Twilio's reason (`{"code": 21211, "message": "..."}`) as `message (code 21211)`, or
/// the answer as it came.
fn gateway_words(body: &str) -> String {
    let Ok(json) = serde_json::from_str::<serde_json::Value>(body) else {
        return body.to_string();
    };
    let message = json.get("message").and_then(|m| m.as_str());
    let code = json.get("code").filter(|c| !c.is_null());
    match (message, code) {
        (Some(m), Some(c)) => format!("{m} (code {c})"),
        (Some(m), None) => m.to_string(),
        (None, Some(c)) => format!("code {c}"),
        (None, None) => body.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twilio_errors_read_as_message_and_code() {
        let body = r#"{"code": 21211, "message": "The 'To' number is not valid.", "status": 400}"#;
        assert_eq!(gateway_words(body), "The 'To' number is not valid. (code 21211)");
        assert_eq!(gateway_words("Bad Gateway"), "Bad Gateway");
    }
}
