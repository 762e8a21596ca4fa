//! The pages in English, German and Portuguese (issue 19): chosen by the browser's
//! `Accept-Language` or the switch, with dates and money as each language writes them; the
//! date picker with prices per night; the children's ages.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use innkeep_core::Role;
use support::*;

/// A page as a browser asking for `language` sees it.
async fn get_in(t: &TestWeb, path: &str, language: &str) -> Reply {
    let req = Request::get(path).header(header::ACCEPT_LANGUAGE, language).body(Body::empty()).unwrap();
    send(t, req).await
}

#[tokio::test]
async fn the_browsers_language_chooses_the_pages_language_with_its_dates_and_money() {
    let t = test_web().await;
    let host = user(&t, "host@example.com", Role::Host).await;
    listing(&t, &host, "Casa Azul").await;
    let stays = "/stays?city=Lisbon&check_in=2027-02-10&check_out=2027-02-12";

    let de = get_in(&t, "/", "de-DE,de;q=0.9,en;q=0.5").await;
    assert_eq!(de.status, StatusCode::OK);
    assert!(de.body.contains("<html lang=\"de\">"), "{}", de.body);
    assert!(de.body.contains("Finden Sie eine Unterkunft") && de.body.contains(">Reiseziel<"), "{}", de.body);
    assert_eq!(de.headers.get(header::CONTENT_LANGUAGE).unwrap(), "de");
    assert!(de.headers.get_all(header::VARY).iter().any(|v| v.to_str().unwrap().contains("Accept-Language")));

    let pt = get_in(&t, stays, "pt-PT,pt;q=0.9").await;
    assert!(pt.body.contains("<html lang=\"pt\">"), "{}", pt.body);
    assert!(pt.body.contains("Estadias em Lisbon") && pt.body.contains("1 estadias para 2 noites"), "{}", pt.body);
    // 2 nights of EUR 100 with 6% VAT, as a Portuguese reader writes it.
    assert!(pt.body.contains("212,00\u{a0}€"), "{}", pt.body);
    assert!(pt.body.contains("Pensão"), "the property type in Portuguese: {}", pt.body);

    // A language Innkeep does not write falls back to English.
    let fr = get_in(&t, stays, "fr-FR,fr;q=0.9").await;
    assert!(fr.body.contains("<html lang=\"en\">") && fr.body.contains("EUR 212.00"), "{}", fr.body);
}

#[tokio::test]
async fn the_switch_remembers_a_language_over_the_browsers_and_goes_back_only_to_this_site() {
    let t = test_web().await;
    let mut b = Browser::default();
    let home = b.get(&t, "/").await;
    // The switch offers the other two languages, each named in itself.
    assert!(home.body.contains("hreflang=\"de\">Deutsch<") && home.body.contains("hreflang=\"pt\">Português<"));
    assert!(!home.body.contains("hreflang=\"en\""), "{}", home.body);

    let r = b.get(&t, "/language?to=pt&back=%2Fstays%3Fcity%3DLisbon").await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/stays?city=Lisbon".to_string()));
    assert_eq!(b.cookies.get("innkeep_lang").map(String::as_str), Some("pt"));
    // The chosen language wins over the browser's.
    let req = Request::get("/")
        .header(header::COOKIE, b.cookie_header())
        .header(header::ACCEPT_LANGUAGE, "de")
        .body(Body::empty())
        .unwrap();
    let page = send(&t, req).await;
    assert!(page.body.contains("<html lang=\"pt\">") && page.body.contains("Encontre onde ficar"), "{}", page.body);

    // Only a path of this site is a way back; a language it does not know changes nothing.
    let r = b.get(&t, "/language?to=de&back=%2F%2Fevil.example%2F").await;
    assert_eq!(r.location(), "/");
    let r = b.get(&t, "/language?to=xx&back=%2Ftrips").await;
    assert_eq!(r.location(), "/trips");
    assert_eq!(b.cookies.get("innkeep_lang").map(String::as_str), Some("de"));
}

#[tokio::test]
async fn errors_are_sentences_in_the_readers_language_next_to_their_field() {
    let t = test_web().await;
    let host = user(&t, "host@example.com", Role::Host).await;
    let (_, rt) = listing(&t, &host, "Casa Azul").await;
    user(&t, "ana@example.com", Role::Guest).await;
    let mut b = Browser::default();
    b.sign_in(&t, "ana@example.com").await;
    b.get(&t, "/language?to=de&back=%2F").await;
    let form = b
        .get(&t, &format!("/checkout?room_type={rt}&check_in=2027-02-10&check_out=2027-02-12&adults=2&children=0"))
        .await;
    assert!(form.body.contains("Wer übernachtet") && form.body.contains("Stornierung bis"), "{}", form.body);
    let csrf = form.input("csrf");
    let key = form.input("idempotency_key");
    let r = b
        .post(
            &t,
            "/checkout",
            &[
                ("csrf", &csrf),
                ("idempotency_key", &key),
                ("room_type", &rt),
                ("check_in", "2027-02-10"),
                ("check_out", "2027-02-12"),
                ("adults", "2"),
                ("children", "0"),
                ("guest_name", ""),
                ("guest_email", "ana@example.com"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains(
            "id=\"guest_name_err\">Geben Sie den vollständigen Namen des Gastes ein (höchstens 120 Zeichen).</p>"
        ),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn the_date_picker_shows_prices_per_night_and_chooses_check_in_then_check_out_without_script() {
    let t = test_web().await;
    let host = user(&t, "host@example.com", Role::Host).await;
    let (property, _) = listing(&t, &host, "Casa Azul").await;
    let mut b = Browser::default();
    let page = b.get(&t, &format!("/properties/{property}?check_in=2027-02-10&check_out=2027-02-12&adults=2")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("id=\"picker-month\">February 2027<"), "{}", page.body);
    // Each free night shows its price (EUR 100 a night before VAT); the stay is marked.
    assert!(page.body.contains("<span class=\"p\" aria-hidden=\"true\">100</span>"), "{}", page.body);
    // A screen reader hears the whole date and the price.
    assert!(page.body.contains("<span class=\"sr\">Mon 15 Feb 2027, from EUR 100.00</span>"), "{}", page.body);
    assert!(page.body.contains("class=\"day check-in\"") && page.body.contains("class=\"day check-out\""));
    assert!(page.body.contains("class=\"day in-range\""), "{}", page.body);

    // Choosing a day makes it the check-in, for one night, and asks for the check-out.
    let first = format!(
        "/properties/{property}?check_in=2027-02-15&#38;check_out=2027-02-16&#38;adults=2&#38;children=0&#38;pick=out&#38;month=2027-02#dates"
    );
    assert!(page.body.contains(&format!("href=\"{first}\"")), "{}", page.body);
    let chosen = b.get(&t, &first.replace("&#38;", "&").replace("#dates", "")).await;
    assert!(chosen.body.contains("Now choose your check-out day."), "{}", chosen.body);
    // A day after the check-in ends the stay there.
    let second = format!(
        "/properties/{property}?check_in=2027-02-15&#38;check_out=2027-02-18&#38;adults=2&#38;children=0&#38;month=2027-02#dates"
    );
    assert!(chosen.body.contains(&format!("href=\"{second}\"")), "{}", chosen.body);
    let stay = b.get(&t, &second.replace("&#38;", "&").replace("#dates", "")).await;
    assert!(stay.body.contains("Rooms for 3 nights"), "{}", stay.body);
    // Days before today cannot be chosen, and the months go on.
    assert!(stay.body.contains("rel=\"next\""), "{}", stay.body);
}

#[tokio::test]
async fn children_need_their_ages_which_go_with_the_stay_to_checkout() {
    let t = test_web().await;
    let host = user(&t, "host@example.com", Role::Host).await;
    let (property, rt) = listing(&t, &host, "Casa Azul").await;
    let mut b = Browser::default();
    let stays = "/stays?city=Lisbon&check_in=2027-02-10&check_out=2027-02-12&adults=2&children=1";
    // Without the age the page asks for it (a field for the child), in words, with no results.
    let asked = b.get(&t, stays).await;
    assert_eq!(asked.status, StatusCode::OK);
    assert!(asked.body.contains("Choose the age of each child (0 to 17)"), "{}", asked.body);
    assert!(asked.body.contains("<label for=\"age-1\">Age of child 1</label>"), "{}", asked.body);
    let found = b.get(&t, &format!("{stays}&age=5")).await;
    assert!(found.body.contains("Casa Azul"), "{}", found.body);
    assert!(
        found.body.contains("&#38;children=1&#38;age=5\""),
        "the link to the property keeps the age: {}",
        found.body
    );
    // An age out of range is refused in words.
    let wrong = b.get(&t, &format!("{stays}&age=18")).await;
    assert!(wrong.body.contains("Choose the age of each child"), "{}", wrong.body);

    user(&t, "ana@example.com", Role::Guest).await;
    b.sign_in(&t, "ana@example.com").await;
    let checkout = b
        .get(
            &t,
            &format!("/checkout?room_type={rt}&check_in=2027-02-10&check_out=2027-02-12&adults=2&children=1&age=5"),
        )
        .await;
    assert!(checkout.body.contains("2 adults, 1 child (aged 5)"), "{}", checkout.body);
    assert!(checkout.body.contains("<input type=\"hidden\" name=\"age\" value=\"5\">"), "{}", checkout.body);
    // The property's page keeps the age too (its date form and its booking forms).
    let page = b
        .get(&t, &format!("/properties/{property}?check_in=2027-02-10&check_out=2027-02-12&adults=2&children=1&age=5"))
        .await;
    assert!(page.body.contains("<option value=\"5\" selected>5</option>"), "{}", page.body);
    assert!(page.body.contains("<input type=\"hidden\" name=\"age\" value=\"5\">"), "{}", page.body);
}

#[tokio::test]
async fn a_language_saved_on_the_account_is_the_pages_language_at_once() {
    let t = test_web().await;
    user(&t, "ana@example.com", Role::Guest).await;
    let mut b = Browser::default();
    b.sign_in(&t, "ana@example.com").await;
    let page = b.get(&t, "/account").await;
    let csrf = page.input("csrf");
    let r =
        b.post(&t, "/account/profile", &[("csrf", &csrf), ("name", "Ana"), ("locale", "de"), ("currency", "")]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("<html lang=\"de\">") && r.body.contains("Gespeichert."), "{}", r.body);
    assert_eq!(b.cookies.get("innkeep_lang").map(String::as_str), Some("de"));
    let trips = b.get(&t, "/trips").await;
    assert!(trips.body.contains("Meine Reisen"), "{}", trips.body);
}
