//! The pages' languages: which one a request is answered in, and the words in each.
//!
//! Pages are written in English; `t("...")` gives a phrase in the visitor's language from
//! the catalog `i18n/words.tsv` (one line per phrase: English, German, Portuguese, tab
//! separated), so a translator edits one file and a phrase can never be missing in one
//! language only (a test reads every `t(...)` of the pages and the code against it).
//! The language is the one the visitor chose with the switch (a cookie), else the best of
//! the browser's `Accept-Language`, else English. It is set for the whole handling of a
//! request, so dates and money written anywhere on the way read it too.

use axum::extract::{Query, Request};
use axum::http::header::{CONTENT_LANGUAGE, SET_COOKIE, VARY};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use innkeep_core::{Locale, Money};
use std::collections::HashMap;
use std::fmt::Display;
use std::sync::LazyLock;

/// The cookie that keeps the language a visitor chose.
pub const COOKIE: &str = "innkeep_lang";
/// How long a chosen language is remembered: a year.
const COOKIE_SECONDS: i64 = 365 * 24 * 3600;

tokio::task_local! {
    static LANG: Locale;
}

/// The catalog: an English phrase and its German and Portuguese words.
static CATALOG: LazyLock<HashMap<&'static str, [&'static str; 2]>> =
    LazyLock::new(|| catalog_lines(include_str!("../i18n/words.tsv")).map(|(en, de, pt)| (en, [de, pt])).collect());

/// The phrases of a catalog file: English, German, Portuguese (comments and blank lines skipped).
fn catalog_lines(text: &str) -> impl Iterator<Item = (&str, &str, &str)> {
    text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).filter_map(|l| {
        let mut cols = l.split('\t');
        Some((cols.next()?, cols.next()?, cols.next()?))
    })
}

/// Every phrase passed to `t`/`tf` (or a template's `ctx.t`/`ctx.t1`/`ctx.t2`, or a page's title
/// given to `ctx`) in a source text.
fn phrases_in(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for call in ["t(", "tf(", "t1(", "t2(", "h1(", "h2(", "h3(", "ctx("] {
        let mut from = 0;
        while let Some(i) = text[from..].find(call) {
            let start = from + i;
            from = start + call.len();
            // A call of `t` itself, not of `get(` or `set(`.
            let before = text[..start].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            // The phrase is the first argument, when it is a literal (rustfmt may break the line).
            let Some(quoted) = text[from..].trim_start().strip_prefix('"') else { continue };
            if let Some(end) = quoted.find('"') {
                out.push(quoted[..end].to_string());
            }
        }
    }
    out
}

/// The phrases the pages' script writes (its `t("...")` and `tf("...")`).
static SCRIPT_PHRASES: LazyLock<Vec<String>> = LazyLock::new(|| phrases_in(include_str!("../static/app.js")));

/// The script's phrases in each language, as JSON for the page (`{}` in English), made once.
static SCRIPT_WORDS: LazyLock<[String; 3]> = LazyLock::new(|| {
    Locale::ALL.map(|locale| {
        let words: serde_json::Map<String, serde_json::Value> = match locale {
            Locale::En => serde_json::Map::new(),
            _ => SCRIPT_PHRASES.iter().map(|p| (p.clone(), serde_json::Value::from(words(p, locale)))).collect(),
        };
        serde_json::Value::Object(words).to_string()
    })
});

/// The script's phrases in a language, as JSON for the page (`{}` in English).
pub fn script_words(locale: Locale) -> &'static str {
    let index = Locale::ALL.iter().position(|l| *l == locale).unwrap_or(0);
    SCRIPT_WORDS[index].as_str()
}

/// The language this request is answered in (English outside a request).
pub fn lang() -> Locale {
    LANG.try_with(|l| *l).unwrap_or_default()
}

/// A phrase in the request's language.
pub fn t(en: &str) -> &str {
    words(en, lang())
}

/// A phrase in a language (the English phrase when the catalog has none).
pub fn words(en: &str, locale: Locale) -> &str {
    let index = match locale {
        Locale::En => return en,
        Locale::De => 0,
        Locale::Pt => 1,
    };
    CATALOG.get(en).map(|w| w[index]).unwrap_or(en)
}

/// A phrase with values, in the request's language: each `{}` takes the next value.
pub fn tf(en: &str, values: &[&dyn Display]) -> String {
    let mut out = String::new();
    let mut values = values.iter();
    let mut rest = t(en);
    while let Some(i) = rest.find("{}") {
        out.push_str(&rest[..i]);
        if let Some(v) = values.next() {
            out.push_str(&v.to_string());
        }
        rest = &rest[i + 2..];
    }
    out.push_str(rest);
    out
}

/// A phrase with values as HTML, in the request's language: the phrase and every value are
/// escaped; a `{}` takes the next value as text, a `{*}` in `<strong>`, a `{*refund}` in
/// `<strong class="refund">` (the catalog's class names, letters and `-` only).
pub fn html(en: &str, values: &[&dyn Display]) -> String {
    let mut out = String::new();
    let mut values = values.iter();
    let mut rest = t(en);
    while let Some(i) = rest.find('{') {
        let Some(j) = rest[i..].find('}') else { break };
        out.push_str(&innkeep_core::format::html_escape(&rest[..i]));
        let hole = &rest[i + 1..i + j];
        let value = innkeep_core::format::html_escape(&values.next().map(|v| v.to_string()).unwrap_or_default());
        match hole.strip_prefix('*') {
            None => out.push_str(&value),
            Some("") => out.push_str(&format!("<strong>{value}</strong>")),
            Some(class) if class.chars().all(|c| c.is_ascii_lowercase() || c == '-') => {
                out.push_str(&format!("<strong class=\"{class}\">{value}</strong>"))
            }
            Some(_) => out.push_str(&value),
        }
        rest = &rest[i + j + 1..];
    }
    out.push_str(&innkeep_core::format::html_escape(rest));
    out
}

/// Money as the request's language writes it: "EUR 1,234.50", "1.234,50 €", "1234,50 €".
pub fn money(m: Money) -> String {
    match lang() {
        Locale::En => format!("{} {}", m.currency.code(), crate::page::amount(m.minor, m.currency)),
        other => innkeep_core::format::money(m, other),
    }
}

/// An amount without its currency as the request's language writes it: "1,234.50", "1.234,50".
pub fn amount(m: Money) -> String {
    innkeep_core::format::amount(m, lang())
}

/// A date as the request's language writes it in lists: "Mon 4 Jan 2027", "Mo., 4. Jan. 2027".
pub fn day(d: jiff::civil::Date) -> String {
    innkeep_core::format::short_date(d, lang())
}

/// The language a request asks for: the visitor's choice, else the browser's.
fn chosen(headers: &header::HeaderMap) -> Locale {
    if let Some(l) = crate::session::cookie(headers, COOKIE).and_then(|c| Locale::parse(&c)) {
        return l;
    }
    headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).map(Locale::negotiate).unwrap_or_default()
}

/// Middleware for every page: answers the request in its language, and says which.
pub async fn scope(req: Request, next: Next) -> Response {
    let locale = chosen(req.headers());
    let mut res = LANG.scope(locale, next.run(req)).await;
    let h = res.headers_mut();
    h.insert(CONTENT_LANGUAGE, HeaderValue::from_static(locale.as_str()));
    h.append(VARY, HeaderValue::from_static("Accept-Language, Cookie"));
    res
}

/// Run `work` (the rendering of an answer) in another language: the one just chosen.
pub async fn within<T>(locale: Locale, work: impl std::future::Future<Output = T>) -> T {
    LANG.scope(locale, work).await
}

/// Remember a language for the visitor's next pages (the switch's cookie).
pub fn remember(res: &mut Response, locale: Locale, secure: bool) {
    let cookie = crate::session::set_cookie(COOKIE, locale.as_str(), secure, Some(COOKIE_SECONDS));
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(SET_COOKIE, v);
    }
}

/// The language switch's query: the language and the page to go back to.
#[derive(serde::Deserialize)]
pub struct Switch {
    to: String,
    #[serde(default)]
    back: String,
}

/// `GET /language?to=de&back=/stays?...`: remember the language and go back to the page
/// (a local path only; anything else goes home).
pub async fn switch(axum::Extension(web): axum::Extension<std::sync::Arc<crate::Web>>, q: Query<Switch>) -> Response {
    let mut res = crate::redirect::to(crate::redirect::local_path(&q.back).unwrap_or(crate::redirect::DEFAULT));
    if let Some(locale) = Locale::parse(&q.to) {
        remember(&mut res, locale, web.config.secure_cookies);
    }
    res
}

/// The languages the switch offers: tag and name in that language.
pub fn choices() -> Vec<(&'static str, &'static str)> {
    Locale::ALL.iter().map(|l| (l.as_str(), name(*l))).collect()
}

/// A language's name in itself.
pub fn name(l: Locale) -> &'static str {
    match l {
        Locale::En => "English",
        Locale::De => "Deutsch",
        Locale::Pt => "Português",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use std::path::Path;

    fn sources(dir: &Path, ext: &str, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, ext, out);
            } else if path.extension().is_some_and(|e| e == ext) && !path.ends_with("i18n.rs") {
                out.push(std::fs::read_to_string(&path).unwrap());
            }
        }
    }

    #[test]
    fn every_phrase_of_the_pages_is_in_the_catalog_in_every_language_and_none_is_left_over() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut texts = Vec::new();
        sources(&root.join("templates"), "html", &mut texts);
        sources(&root.join("src"), "rs", &mut texts);
        texts.push(include_str!("../static/app.js").to_string());
        let mut used: std::collections::BTreeSet<String> = texts.iter().flat_map(|t| phrases_in(t)).collect();
        // Amenity names come from the domain, shown through `t(a.label())`.
        used.extend(innkeep_core::Amenity::ALL.iter().map(|a| a.label().to_string()));
        assert!(used.len() > 100, "only {} phrases found: is the scan broken?", used.len());
        let catalog = include_str!("../i18n/words.tsv");
        let mut seen = std::collections::BTreeSet::new();
        for (n, line) in catalog.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#')) {
            let cols: Vec<&str> = line.split('\t').collect();
            assert_eq!(cols.len(), 3, "line {}: English, German and Portuguese, tab separated: {line}", n + 1);
            assert!(cols.iter().all(|c| !c.trim().is_empty()), "line {}: an empty translation", n + 1);
            let holes = |s: &str| -> Vec<String> {
                s.split('{').skip(1).filter_map(|h| h.split_once('}')).map(|(h, _)| h.to_string()).collect()
            };
            assert!(
                holes(cols[1]) == holes(cols[0]) && holes(cols[2]) == holes(cols[0]),
                "line {}: every language takes the same values: {line}",
                n + 1
            );
            assert!(seen.insert(cols[0].to_string()), "line {}: twice in the catalog: {}", n + 1, cols[0]);
        }
        let missing: Vec<_> = used.difference(&seen).collect();
        assert!(missing.is_empty(), "phrases with no translation: {missing:#?}");
        let unused: Vec<_> = seen.difference(&used).collect();
        assert!(unused.is_empty(), "phrases no page uses: {unused:#?}");
    }

    #[tokio::test]
    async fn a_phrase_comes_in_the_request_language_with_its_values() {
        assert_eq!(t("My trips"), "My trips");
        let de = LANG.scope(Locale::De, async { (t("My trips").to_string(), tf("{} nights", &[&3])) }).await;
        assert_eq!(de, ("Meine Reisen".to_string(), "3 Nächte".to_string()));
        let pt = LANG.scope(Locale::Pt, async { tf("{} nights", &[&3]) }).await;
        assert_eq!(pt, "3 noites");
        // A phrase the catalog lacks stays English rather than vanishing.
        assert_eq!(words("Not a phrase of the catalog", Locale::De), "Not a phrase of the catalog");
    }

    #[tokio::test]
    async fn a_phrase_as_html_escapes_the_values_and_marks_them() {
        let page = LANG
            .scope(Locale::En, async {
                html(
                    "You paid {*}. Under the {} policy, cancelling now refunds {*refund}.",
                    &[&"<b>1</b>", &"flexible", &"EUR 1.00"],
                )
            })
            .await;
        assert_eq!(
            page,
            "You paid <strong>&lt;b&gt;1&lt;/b&gt;</strong>. Under the flexible policy, cancelling now refunds <strong class=\"refund\">EUR 1.00</strong>."
        );
    }

    #[test]
    fn the_script_gets_its_phrases_in_the_language_of_the_page() {
        assert_eq!(script_words(Locale::En), "{}");
        let de: serde_json::Value = serde_json::from_str(script_words(Locale::De)).unwrap();
        assert_eq!(de["Search this area"], "In diesem Gebiet suchen");
        assert_eq!(de["{} stays"], "{} Unterkünfte");
    }

    #[tokio::test]
    async fn money_and_dates_follow_the_language() {
        let m = Money::new(123_450, innkeep_core::Currency::parse("EUR").unwrap());
        let d = jiff::civil::date(2027, 1, 4);
        assert_eq!((money(m), day(d)), ("EUR 1,234.50".to_string(), "Mon 4 Jan 2027".to_string()));
        let de = LANG.scope(Locale::De, async { (money(m), day(d)) }).await;
        assert_eq!(de, ("1.234,50\u{a0}€".to_string(), "Mo., 4. Jan. 2027".to_string()));
    }

    #[test]
    fn a_chosen_language_wins_over_the_browser() {
        let mut h = header::HeaderMap::new();
        h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("pt-BR,pt;q=0.9,en;q=0.5"));
        assert_eq!(chosen(&h), Locale::Pt);
        h.insert(header::COOKIE, HeaderValue::from_static("innkeep_lang=de"));
        assert_eq!(chosen(&h), Locale::De);
        h.insert(header::COOKIE, HeaderValue::from_static("innkeep_lang=xx"));
        assert_eq!(chosen(&h), Locale::Pt);
    }
}
