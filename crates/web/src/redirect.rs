//! Where a page may send the browser next. Every redirect of the web pages goes through
//! `to`, and every target a visitor supplies (`next=`) through `local_path` first.

use crate::page::PageError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Where a redirect goes when its target is refused.
pub const DEFAULT: &str = "/";

/// `target` if it is a path on this site: exactly one `/` first, then no `/` or `\`, and
/// nothing but visible ASCII other than `\` anywhere. Browsers drop tabs and newlines from
/// URLs and read `\` as `/`, so `/\t/evil.example/` or `/\evil.example` would leave the site.
pub fn local_path(target: &str) -> Option<&str> {
    let rest = target.strip_prefix('/')?;
    let only_visible = target.chars().all(|c| c.is_ascii_graphic() && c != '\\');
    (only_visible && !rest.starts_with('/')).then_some(target)
}

/// A target a visitor sent with a form, checked before the form acts: a control character
/// cannot be meant and is refused (400); anything else that is not a local path becomes
/// "" (no target).
pub fn requested(target: &str) -> Result<String, PageError> {
    if target.chars().any(char::is_control) {
        return Err(PageError::Message(
            StatusCode::BAD_REQUEST,
            crate::i18n::t("The page to go to next is not valid.").into(),
        ));
    }
    Ok(local_path(target).unwrap_or_default().to_string())
}

/// A 303 See Other to a local path (to `DEFAULT` when `target` is not one).
pub fn to(target: &str) -> Response {
    let path = local_path(target).unwrap_or_else(|| {
        tracing::warn!("redirect target refused");
        DEFAULT
    });
    let mut r = StatusCode::SEE_OTHER.into_response();
    // A local path is visible ASCII, which is always a valid header value.
    if let Ok(v) = HeaderValue::from_str(path) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn only_paths_on_this_site_are_local() {
        for ok in ["/", "/trips", "/host/bookings?property=&status=held&done=1", "/stays?city=Lisbon%20Centre"] {
            assert_eq!(local_path(ok), Some(ok), "{ok:?}");
        }
        for bad in [
            "",
            "trips",
            "//evil.example/",
            "/\\evil.example/",
            "\\/evil.example/",
            "/\t/evil.example/",
            "/\n/evil.example/",
            "/trips\r\nSet-Cookie: x=1",
            "/trips\u{7f}",
            "/caf\u{e9}",
            "/a b",
            "https://evil.example/",
            " /trips",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_requested_target_with_a_control_character_is_refused() {
        assert!(requested("/trips\n").is_err());
        assert!(requested("/\t/evil.example/").is_err());
        assert_eq!(requested("//evil.example/").unwrap(), "");
        assert_eq!(requested("/trips").unwrap(), "/trips");
    }

    #[test]
    fn a_refused_target_redirects_home() {
        let r = to("//evil.example/");
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()[header::LOCATION], "/");
        assert_eq!(to("/trips").headers()[header::LOCATION], "/trips");
    }
}
