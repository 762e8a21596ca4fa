//! Users: roles, e-mail addresses and passwords as they are accepted.

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Guest,
    Host,
    Admin,
}

impl Role {
    /// The snake_case name used in the API and the database.
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Guest => "guest",
            Role::Host => "host",
            Role::Admin => "admin",
        }
    }

    /// Parse the snake_case name.
    pub fn parse(s: &str) -> Option<Role> {
        [Role::Guest, Role::Host, Role::Admin].into_iter().find(|r| r.as_str() == s)
    }
}

/// A syntactically plausible e-mail address in its normal form: trimmed, Unicode NFC,
/// lower-cased, so that two spellings of one address (a precomposed `é` or `e` with a
/// combining accent) are one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

/// Why an e-mail address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a valid e-mail address")]
pub struct EmailError(pub String);

impl Email {
    /// Accept `local@domain.tld` with no spaces, at most 254 characters, in its normal form.
    pub fn parse(s: &str) -> Result<Email, EmailError> {
        // Lower-casing can leave a string that is not NFC, so compose again after it.
        let s: String = s.trim().nfc().collect::<String>().to_lowercase().nfc().collect();
        let ok = s.len() <= 254
            && !s.chars().any(|c| c.is_whitespace() || c.is_control())
            && match s.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && local.len() <= 64
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                }
                None => false,
            };
        if ok { Ok(Email(s)) } else { Err(EmailError(s)) }
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password that meets the length rule (12 to 256 characters).
pub struct Password(String);

/// Why a password was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("password must be between 12 and 256 characters")]
pub struct PasswordError;

impl Password {
    /// Accept a password of 12 to 256 characters.
    pub fn parse(s: &str) -> Result<Password, PasswordError> {
        let n = s.chars().count();
        if (12..=256).contains(&n) { Ok(Password(s.to_string())) } else { Err(PasswordError) }
    }

    /// The secret itself; only the hasher reads it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(Email::parse(" Ana@Example.COM ").unwrap().as_str(), "ana@example.com");
        for bad in ["", "ana", "ana@", "@x.com", "ana@com", "a b@x.com", "a@b@c.com", "ana@x.com."] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn two_spellings_of_one_address_are_one_email() {
        let precomposed = Email::parse("ren\u{e9}e@x.org").unwrap();
        let combining = Email::parse("rene\u{301}e@x.org").unwrap();
        assert_eq!(precomposed, combining);
        assert_eq!(combining.as_str(), "ren\u{e9}e@x.org");
        assert_eq!(Email::parse("REN\u{C9}E@X.ORG").unwrap(), precomposed);
        assert_eq!(Email::parse("RENE\u{301}E@Caf\u{c9}.org").unwrap().as_str(), "ren\u{e9}e@caf\u{e9}.org");
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("long enough pass").is_ok());
    }
}
