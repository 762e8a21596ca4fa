//! The account e-mails: a password reset link and an e-mail verification link, in the
//! user's language, as text and HTML from one list of lines.

use crate::template::escape;
use innkeep_app::credentials::AccountMail;
use innkeep_app::notify::Content;
use innkeep_app::store::User;
use innkeep_app::team::Invitation;
use innkeep_core::{Locale, StaffRole};
use jiff::Timestamp;

/// Renders the account e-mails with links to the site at `public_url`.
pub struct AccountMails {
    pub public_url: String,
}

struct Words {
    subject: &'static str,
    greeting: &'static str,
    body: &'static str,
    action: &'static str,
    expiry: &'static str,
    ignore: &'static str,
}

fn reset_words(locale: Locale) -> Words {
    match locale {
        Locale::En => Words {
            subject: "Set a new password for Innkeep",
            greeting: "Hello",
            body: "Someone asked to set a new password for your Innkeep account.",
            action: "Set a new password",
            expiry: "The link works once, until",
            ignore: "If it was not you, ignore this e-mail: your password stays as it is.",
        },
        Locale::De => Words {
            subject: "Neues Passwort für Innkeep festlegen",
            greeting: "Hallo",
            body: "Jemand möchte ein neues Passwort für Ihr Innkeep-Konto festlegen.",
            action: "Neues Passwort festlegen",
            expiry: "Der Link funktioniert einmal, bis",
            ignore: "Falls Sie das nicht waren, ignorieren Sie diese E-Mail: Ihr Passwort bleibt unverändert.",
        },
        Locale::Pt => Words {
            subject: "Defina uma nova palavra-passe no Innkeep",
            greeting: "Olá",
            body: "Alguém pediu para definir uma nova palavra-passe para a sua conta Innkeep.",
            action: "Definir nova palavra-passe",
            expiry: "A ligação funciona uma vez, até",
            ignore: "Se não foi você, ignore este e-mail: a sua palavra-passe mantém-se.",
        },
    }
}

fn verify_words(locale: Locale) -> Words {
    match locale {
        Locale::En => Words {
            subject: "Confirm your e-mail address for Innkeep",
            greeting: "Hello",
            body: "Please confirm that this is your e-mail address.",
            action: "Confirm my address",
            expiry: "The link works once, until",
            ignore: "If you have no Innkeep account, ignore this e-mail.",
        },
        Locale::De => Words {
            subject: "Bestätigen Sie Ihre E-Mail-Adresse für Innkeep",
            greeting: "Hallo",
            body: "Bitte bestätigen Sie, dass dies Ihre E-Mail-Adresse ist.",
            action: "Adresse bestätigen",
            expiry: "Der Link funktioniert einmal, bis",
            ignore: "Falls Sie kein Innkeep-Konto haben, ignorieren Sie diese E-Mail.",
        },
        Locale::Pt => Words {
            subject: "Confirme o seu endereço de e-mail no Innkeep",
            greeting: "Olá",
            body: "Confirme, por favor, que este é o seu endereço de e-mail.",
            action: "Confirmar o meu endereço",
            expiry: "A ligação funciona uma vez, até",
            ignore: "Se não tem conta Innkeep, ignore este e-mail.",
        },
    }
}

fn invitation_words(locale: Locale) -> Words {
    match locale {
        Locale::En => Words {
            subject: "You are invited to a team on Innkeep",
            greeting: "Hello",
            body: "{inviter} invites you to help run their properties on Innkeep, as {role}.",
            action: "Accept the invitation",
            expiry: "The link works once, until",
            ignore: "If you were not expecting this, ignore this e-mail.",
        },
        Locale::De => Words {
            subject: "Einladung in ein Team auf Innkeep",
            greeting: "Hallo",
            body: "{inviter} lädt Sie ein, die Unterkünfte auf Innkeep mitzuführen, als {role}.",
            action: "Einladung annehmen",
            expiry: "Der Link funktioniert einmal, bis",
            ignore: "Falls Sie das nicht erwartet haben, ignorieren Sie diese E-Mail.",
        },
        Locale::Pt => Words {
            subject: "Convite para uma equipa no Innkeep",
            greeting: "Olá",
            body: "{inviter} convida-o a ajudar a gerir os alojamentos no Innkeep, como {role}.",
            action: "Aceitar o convite",
            expiry: "A ligação funciona uma vez, até",
            ignore: "Se não esperava este convite, ignore este e-mail.",
        },
    }
}

fn role_name(role: StaffRole, locale: Locale) -> &'static str {
    match (locale, role) {
        (Locale::En, StaffRole::Owner) => "owner",
        (Locale::En, StaffRole::Manager) => "manager",
        (Locale::En, StaffRole::FrontDesk) => "front desk",
        (Locale::En, StaffRole::Accountant) => "accountant",
        (Locale::De, StaffRole::Owner) => "Inhaber",
        (Locale::De, StaffRole::Manager) => "Manager",
        (Locale::De, StaffRole::FrontDesk) => "Rezeption",
        (Locale::De, StaffRole::Accountant) => "Buchhaltung",
        (Locale::Pt, StaffRole::Owner) => "proprietário",
        (Locale::Pt, StaffRole::Manager) => "gestor",
        (Locale::Pt, StaffRole::FrontDesk) => "receção",
        (Locale::Pt, StaffRole::Accountant) => "contabilista",
    }
}

impl AccountMails {
    fn render(&self, words: Words, user: &User, link: String, expires_at: Timestamp) -> Content {
        let greeting = format!("{}, {}", words.greeting, user.name);
        self.render_as(&words, greeting, words.body.to_string(), user.locale, link, expires_at)
    }

    fn render_as(
        &self,
        words: &Words,
        greeting: String,
        body: String,
        locale: Locale,
        link: String,
        expires_at: Timestamp,
    ) -> Content {
        let until = crate::format::timestamp(expires_at, "UTC", locale);
        let expiry = format!("{} {until} (UTC).", words.expiry);
        let text = format!("{greeting}\n\n{body}\n\n{}:\n{link}\n\n{expiry}\n{}\n", words.action, words.ignore);
        let html = format!(
            "<!doctype html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n</head>\n<body style=\"font-family:sans-serif;line-height:1.5;color:#222;max-width:40em;margin:0 auto;padding:1em\">\n<p>{}</p>\n<p>{}</p>\n<p><a href=\"{}\">{}</a></p>\n<p>{}<br>{}</p>\n</body>\n</html>\n",
            locale.as_str(),
            escape(words.subject),
            escape(&greeting),
            escape(&body),
            escape(&link),
            escape(words.action),
            escape(&expiry),
            escape(words.ignore),
        );
        Content {
            subject: words.subject.to_string(),
            text,
            html: Some(html),
            transactional: true,
            ..Content::default()
        }
    }

    fn base(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }
}

impl AccountMail for AccountMails {
    fn password_reset(&self, user: &User, token: &str, expires_at: Timestamp) -> Content {
        let link = format!("{}/reset-password?token={token}", self.base());
        self.render(reset_words(user.locale), user, link, expires_at)
    }

    fn email_verification(&self, user: &User, token: &str, expires_at: Timestamp) -> Content {
        let link = format!("{}/verify-email?token={token}", self.base());
        self.render(verify_words(user.locale), user, link, expires_at)
    }

    fn invitation(&self, invitation: &Invitation, inviter: &User, token: &str) -> Content {
        let link = format!("{}/join?token={token}", self.base());
        // The invitee has no account yet: written in the inviter's language.
        let locale = inviter.locale;
        let words = invitation_words(locale);
        let body = words.body.replace("{inviter}", &inviter.name).replace("{role}", role_name(invitation.role, locale));
        self.render_as(&words, words.greeting.to_string(), body, locale, link, invitation.expires_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use innkeep_core::{Email, Role, UserId};

    fn user(locale: Locale, name: &str) -> User {
        User {
            id: UserId(uuid::Uuid::nil()),
            email: Email::parse("ana@example.com").expect("address"),
            name: name.into(),
            role: Role::Guest,
            tenant_id: None,
            staff_role: None,
            created_at: Timestamp::UNIX_EPOCH,
            locale,
            currency: None,
        }
    }

    #[test]
    fn a_reset_mail_carries_its_link_in_the_users_language_and_escapes_the_name() {
        let m = AccountMails { public_url: "https://stay.example/".into() };
        let at: Timestamp = "2027-01-04T10:30:00Z".parse().expect("time");
        for locale in Locale::ALL {
            let c = m.password_reset(&user(locale, "<b>Ana</b>"), "abc123", at);
            assert!(c.text.contains("https://stay.example/reset-password?token=abc123"), "{}", c.text);
            let html = c.html.expect("html");
            assert!(html.contains(&format!("lang=\"{}\"", locale.as_str())));
            assert!(!html.contains("<b>Ana</b>") && html.contains("&lt;b&gt;Ana&lt;/b&gt;"), "{html}");
            assert!(c.transactional);
        }
        let de = m.password_reset(&user(Locale::De, "Ana"), "t", at);
        assert_ne!(de.subject, m.password_reset(&user(Locale::En, "Ana"), "t", at).subject);
        let v = m.email_verification(&user(Locale::Pt, "Ana"), "tok", at);
        assert!(v.text.contains("https://stay.example/verify-email?token=tok"), "{}", v.text);
    }
}
