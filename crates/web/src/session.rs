//! Cookie sessions and CSRF tokens.
//!
//! The session cookie holds the token from `auth::sign_in`. Every form carries a CSRF
//! token, HMAC(key, binding), where the binding is the session cookie when there is one
//! and otherwise a random pre-session cookie (`innkeep_csrf`). `guard` checks the token of
//! every POST before a handler runs and answers 403 when it does not match.

use crate::Web;
use crate::page::{Ctx, PageError, UserView};
use axum::body::Body;
use axum::extract::{FromRequestParts, Request};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use innkeep_app::Actor;
use innkeep_app::node::AppState;
use innkeep_app::store::User;
use sha2::Sha256;
use std::sync::Arc;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "innkeep_session";
/// The pre-session CSRF cookie's name.
pub const CSRF_COOKIE: &str = "innkeep_csrf";
/// Largest form body the guard reads.
const FORM_LIMIT: usize = 64 * 1024;
/// Largest multipart form (a photo and its fields) the guard reads.
pub const UPLOAD_LIMIT: usize = innkeep_core::MAX_PHOTO_BYTES + 64 * 1024;

/// 32 random bytes (from two v4 UUIDs, which come from the OS generator).
pub fn random_key() -> Vec<u8> {
    let mut k = uuid::Uuid::new_v4().as_bytes().to_vec();
    k.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    k
}

/// A cookie's value from the request headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, v)| *k == name && !v.is_empty())
        .map(|(_, v)| v.to_string())
}

/// The pre-session seed minted for a request that had none.
#[derive(Clone)]
struct FreshSeed(String);

/// What a CSRF token is bound to for this request.
fn binding(parts_headers: &HeaderMap, fresh: Option<&FreshSeed>) -> Option<String> {
    cookie(parts_headers, SESSION_COOKIE)
        .map(|s| format!("s:{s}"))
        .or_else(|| cookie(parts_headers, CSRF_COOKIE).map(|c| format!("a:{c}")))
        .or_else(|| fresh.map(|f| format!("a:{}", f.0)))
}

/// The CSRF token for a binding.
pub fn csrf_token(key: &[u8], binding: &str) -> String {
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(binding.as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

fn csrf_ok(key: &[u8], binding: &str, token: &str) -> bool {
    let Ok(raw) = hex::decode(token) else { return false };
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(binding.as_bytes());
            mac.verify_slice(&raw).is_ok()
        }
        Err(_) => false,
    }
}

/// A `Set-Cookie` value.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age: Option<i64>) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(a) = max_age {
        c.push_str(&format!("; Max-Age={a}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

/// Middleware for every page: mints the pre-session cookie, checks the CSRF token of
/// every POST, and adds the security headers to every answer.
pub async fn guard(req: Request, next: Next) -> Response {
    let Some(web) = req.extensions().get::<Arc<Web>>().cloned() else {
        return next.run(req).await;
    };
    let (mut parts, body) = req.into_parts();
    let fresh = if cookie(&parts.headers, SESSION_COOKIE).is_none() && cookie(&parts.headers, CSRF_COOKIE).is_none() {
        let seed = FreshSeed(hex::encode(random_key()));
        parts.extensions.insert(seed.clone());
        Some(seed)
    } else {
        None
    };
    // An unsubscribe link's token is its own authority (see `unsubscribe`); mail clients
    // post to it without cookies.
    let req = if parts.method == Method::POST && !parts.uri.path().starts_with("/unsubscribe/") {
        // A multipart form (a photo upload) may be large; its token is one of its parts.
        let multipart =
            parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).and_then(crate::multipart::boundary);
        let limit = if multipart.is_some() { UPLOAD_LIMIT } else { FORM_LIMIT };
        let bytes = match axum::body::to_bytes(body, limit).await {
            Ok(b) => b,
            Err(_) => return with_headers(&web, PageError::TooLarge.into_response(), None),
        };
        let token = match &multipart {
            Some(b) => crate::multipart::parts(&bytes, b)
                .await
                .and_then(|ps| ps.into_iter().find(|p| p.name == "csrf"))
                .and_then(|p| String::from_utf8(p.bytes).ok())
                .unwrap_or_default(),
            None => form_pairs(&bytes).into_iter().find(|(k, _)| k == "csrf").map(|(_, v)| v).unwrap_or_default(),
        };
        // A freshly minted seed was never seen by the client, so it cannot validate a post.
        let bound = if fresh.is_some() { None } else { binding(&parts.headers, None) };
        if !bound.is_some_and(|b| csrf_ok(&web.csrf_key, &b, &token)) {
            return with_headers(&web, PageError::Csrf.into_response(), fresh.as_ref());
        }
        Request::from_parts(parts, Body::from(bytes))
    } else {
        Request::from_parts(parts, body)
    };
    let res = next.run(req).await;
    with_headers(&web, res, fresh.as_ref())
}

fn with_headers(web: &Web, mut res: Response, fresh: Option<&FreshSeed>) -> Response {
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&web.csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if let Some(seed) = fresh
        && let Ok(v) = HeaderValue::from_str(&set_cookie(CSRF_COOKIE, &seed.0, web.config.secure_cookies, None))
    {
        h.append(SET_COOKIE, v);
    }
    res
}

/// Decode an `application/x-www-form-urlencoded` body into pairs.
pub fn form_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    bytes
        .split(|b| *b == b'&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = match p.iter().position(|b| *b == b'=') {
                Some(i) => (&p[..i], &p[i + 1..]),
                None => (p, &p[p.len()..]),
            };
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &[u8]) -> String {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < s.len() => {
                match std::str::from_utf8(&s[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encode a string for a URL query value.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Whoever is looking at a page: signed in or not, with the CSRF token for its forms.
pub struct Visitor {
    pub user: Option<(Actor, User)>,
    pub token: Option<String>,
    pub csrf: String,
    pub web: Arc<Web>,
    /// Path and query of the request, for "sign in to continue" links.
    pub here: String,
}

impl Visitor {
    /// The layout context of a page.
    pub fn ctx(&self, title: impl Into<String>) -> Ctx {
        let title: String = title.into();
        Ctx {
            title: crate::i18n::t(&title).to_string(),
            csrf: self.csrf.clone(),
            user: self.user.as_ref().map(|(a, u)| UserView {
                name: u.name.clone(),
                host: a.role == innkeep_core::Role::Host,
                admin: a.role == innkeep_core::Role::Admin,
                money: a.duties.contains(innkeep_core::Duty::SeeMoney),
                messages: a.duties.contains(innkeep_core::Duty::Messages),
                team: a.duties.contains(innkeep_core::Duty::Team),
            }),
            asset_version: crate::assets::version().to_string(),
            tile_url: self.web.config.tile_url.clone().unwrap_or_default(),
            lang: crate::i18n::lang(),
            here: self.here.clone(),
        }
    }

    /// The signed-in actor, or a redirect to the sign-in page.
    pub fn actor(&self) -> Result<Actor, PageError> {
        self.user.as_ref().map(|(a, _)| *a).ok_or_else(|| PageError::SignIn(self.here.clone()))
    }

    /// The signed-in user, or a redirect to the sign-in page.
    pub fn signed_in(&self) -> Result<(Actor, &User), PageError> {
        self.user.as_ref().map(|(a, u)| (*a, u)).ok_or_else(|| PageError::SignIn(self.here.clone()))
    }
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let web = parts.extensions.get::<Arc<Web>>().cloned().ok_or(PageError::Internal)?;
        let fresh = parts.extensions.get::<FreshSeed>().cloned();
        let csrf = binding(&parts.headers, fresh.as_ref()).map(|b| csrf_token(&web.csrf_key, &b)).unwrap_or_default();
        let token = cookie(&parts.headers, SESSION_COOKIE);
        let mut user = None;
        if let Some(t) = &token {
            let now = state.ports.clock.now();
            match innkeep_app::auth::session_user(&state.ports, t, now).await {
                Ok(Some(u)) => user = Some((Actor::of(&u), u)),
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(error = %e, "session lookup failed");
                    return Err(PageError::Internal);
                }
            }
        }
        // One who must have two-factor sign-in and has not set it up may only do that (and
        // sign out), as on the API.
        if let (Some((actor, _)), Some(t)) = (&user, &token) {
            let owner = actor.duties.contains(innkeep_core::Duty::Team);
            let path = parts.uri.path();
            let open = path.starts_with(crate::security::PATH) || path == "/signout";
            if !open
                && innkeep_app::two_factor::required(&state.ports.settings, actor.role, owner)
                && innkeep_app::two_factor::setup_pending(&state.ports, &innkeep_app::auth::token_hash(t)).await?
            {
                return Err(PageError::TwoFactorSetup);
            }
        }
        // Who acts, for the audit entry written after the answer.
        if let (Some((actor, _)), Some(note)) = (&user, parts.extensions.get::<innkeep_app::audit::AuditNote>()) {
            note.actor(actor);
        }
        let here = parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
        Ok(Visitor { user, token, csrf, web, here })
    }
}
