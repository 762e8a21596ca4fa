//! The languages Innkeep writes to people in, and how one is chosen from a browser's
//! `Accept-Language` header.

use serde::{Deserialize, Serialize};

/// A language Innkeep's messages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    En,
    De,
    Pt,
}

impl Locale {
    /// Every locale, the default first.
    pub const ALL: [Locale; 3] = [Locale::En, Locale::De, Locale::Pt];

    /// The BCP 47 primary language tag (`en`, `de`, `pt`), as stored and in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::De => "de",
            Locale::Pt => "pt",
        }
    }

    /// The locale of a language tag (`de`, `pt-BR`, `EN-gb`), if Innkeep writes in it.
    pub fn parse(tag: &str) -> Option<Locale> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
        Locale::ALL.into_iter().find(|l| l.as_str() == primary)
    }

    /// The best locale for an `Accept-Language` header (RFC 9110 §12.5.4): the supported
    /// language with the highest weight, the earlier one on a tie; `q=0` refuses a
    /// language. English when nothing listed is supported.
    pub fn negotiate(header: &str) -> Locale {
        let mut best: Option<(u16, Locale)> = None;
        for item in header.split(',').take(32) {
            let mut parts = item.split(';');
            let Some(locale) = parts.next().and_then(Locale::parse) else { continue };
            // A weight that does not read (or is out of range) makes the item unusable.
            let q = match parts.find_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q="))) {
                Some(q) => match q.trim().parse::<f32>() {
                    Ok(q) if (0.0..=1.0).contains(&q) => q,
                    _ => continue,
                },
                None => 1.0,
            };
            let weight = (q * 1000.0).round() as u16;
            if weight > 0 && best.is_none_or(|(w, _)| weight > w) {
                best = Some((weight, locale));
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }
}

impl std::fmt::Display for Locale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_names_its_primary_language() {
        assert_eq!(Locale::parse("pt-BR"), Some(Locale::Pt));
        assert_eq!(Locale::parse("DE"), Some(Locale::De));
        assert_eq!(Locale::parse("en_GB"), Some(Locale::En));
        assert_eq!(Locale::parse("fr"), None);
        assert_eq!(Locale::parse(""), None);
    }

    #[test]
    fn the_heaviest_supported_language_wins() {
        assert_eq!(Locale::negotiate("de-DE,de;q=0.9,en;q=0.8"), Locale::De);
        assert_eq!(Locale::negotiate("fr-FR, pt;q=0.5, en;q=0.4"), Locale::Pt);
        assert_eq!(Locale::negotiate("en;q=0.2, de;q=0.7"), Locale::De);
        assert_eq!(Locale::negotiate("pt, de"), Locale::Pt, "a tie goes to the earlier");
        assert_eq!(Locale::negotiate("de;q=0, pt;q=0.1"), Locale::Pt, "q=0 refuses a language");
    }

    #[test]
    fn nothing_usable_means_english() {
        for h in ["", "fr", "*", "de;q=abc", "de;q=2", ";;;,,,", "zz-ZZ;q=0.9"] {
            assert_eq!(Locale::negotiate(h), Locale::En, "{h:?}");
        }
    }
}
