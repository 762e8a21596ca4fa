//! The audit middleware: after every write (any method but GET, HEAD and OPTIONS, on the
//! API and the pages' form posts) it writes an audit entry when the request was made by
//! an authenticated actor and succeeded, or was refused (401, 403, 429). Every refused
//! request, reads included, and every failed sign-in also feeds the node's
//! unauthorized-access detector (`innkeep_app::intrusion`).
//!
//! Who acted is learned while the request is handled: the middleware puts an
//! [`AuditNote`] in the request's extensions and the extractors that authenticate
//! (`Auth`, `MaybeAuth`, the pages' `Visitor`) fill it in. A sign-in's e-mail address is
//! read from its body here (JSON or a form), so that a failed sign-in names the account it
//! tried without its handler knowing about the log.
//!
//! The entry is written after the answer, by the node's audit writer (entries waiting
//! are written together, one transaction a batch): it never delays or fails the
//! response. A write that fails is logged and counted (`innkeep_audit_failures_total`);
//! an entry is lost if the node dies between the change's commit and the entry's write.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use innkeep_app::Clock;
use innkeep_app::audit::{AuditNote, Entry, MAX_USER_AGENT};
use innkeep_app::intrusion::{Detector, Observation, Scope, Signal};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError, Weak};

/// What each write is recorded as: (method, route template, action). A route not listed is
/// recorded as `request`.
const ACTIONS: &[(Method, &str, &str)] = &[
    (Method::POST, "/api/v1/users", "user_registered"),
    (Method::POST, "/api/v1/sessions", "sign_in"),
    (Method::DELETE, "/api/v1/sessions/current", "sign_out"),
    (Method::PATCH, "/api/v1/me", "profile_changed"),
    (Method::DELETE, "/api/v1/me", "account_erased"),
    (Method::POST, "/api/v1/me/password", "password_changed"),
    (Method::DELETE, "/api/v1/me/sessions", "sessions_ended"),
    (Method::POST, "/api/v1/me/email-verification", "email_verification_requested"),
    (Method::POST, "/api/v1/email-verifications", "email_verified"),
    (Method::POST, "/api/v1/password-resets", "password_reset_requested"),
    (Method::POST, "/api/v1/password-resets/confirm", "password_reset"),
    (Method::POST, "/api/v1/properties", "property_created"),
    (Method::PATCH, "/api/v1/properties/{id}", "property_changed"),
    (Method::POST, "/api/v1/properties/{id}/room-types", "room_type_created"),
    (Method::POST, "/api/v1/properties/{id}/photos", "photo_added"),
    (Method::PATCH, "/api/v1/room-types/{id}", "room_type_changed"),
    (Method::PUT, "/api/v1/room-types/{id}/calendar", "calendar_changed"),
    (Method::POST, "/api/v1/room-types/{id}/ical-export", "calendar_export_created"),
    (Method::DELETE, "/api/v1/room-types/{id}/ical-export", "calendar_export_revoked"),
    (Method::POST, "/api/v1/room-types/{id}/ical-feeds", "calendar_feed_added"),
    (Method::DELETE, "/api/v1/ical-feeds/{id}", "calendar_feed_removed"),
    (Method::POST, "/api/v1/ical-feeds/{id}/sync", "calendar_feed_sync_requested"),
    (Method::PUT, "/api/v1/properties/{id}/ota-codes", "channel_codes_changed"),
    (Method::POST, "/ota", "channel_message"),
    (Method::POST, "/api/v1/tenant-data", "tenant_data_imported"),
    (Method::POST, "/api/v1/tenant-data/{file}", "rates_imported"),
    (Method::POST, "/api/v1/bookings", "booking_placed"),
    (Method::POST, "/api/v1/bookings/{id}/confirm", "booking_confirmed"),
    (Method::POST, "/api/v1/bookings/{id}/cancel", "booking_cancelled"),
    (Method::POST, "/api/v1/bookings/{id}/check-in", "booking_checked_in"),
    (Method::POST, "/api/v1/bookings/{id}/complete", "booking_completed"),
    (Method::POST, "/api/v1/bookings/{id}/no-show", "booking_no_show"),
    (Method::POST, "/api/v1/bookings/{id}/payments", "payment_created"),
    (Method::POST, "/api/v1/bookings/{id}/review", "review_written"),
    (Method::POST, "/api/v1/reviews/{id}/reply", "review_answered"),
    (Method::POST, "/api/v1/reviews/{id}/reports", "review_reported"),
    (Method::PUT, "/api/v1/reviews/{id}/hidden", "review_hidden"),
    (Method::DELETE, "/api/v1/reviews/{id}/hidden", "review_shown"),
    (Method::POST, "/api/v1/payments/{id}/refunds", "refund_created"),
    (Method::PUT, "/api/v1/tenants/{id}/commission", "commission_changed"),
    (Method::PUT, "/api/v1/payouts/account", "payout_account_changed"),
    (Method::POST, "/api/v1/webhooks", "webhook_created"),
    (Method::DELETE, "/api/v1/webhooks/{id}", "webhook_deleted"),
    (Method::POST, "/api/v1/payments/webhooks/stripe", "provider_event"),
    (Method::POST, "/api/v1/payments/statements", "statement_imported"),
    (Method::POST, "/api/v1/events", "client_events"),
    (Method::POST, "/api/v1/me/two-factor", "two_factor_started"),
    (Method::POST, "/api/v1/me/two-factor/confirm", "two_factor_enabled"),
    (Method::DELETE, "/api/v1/me/two-factor", "two_factor_disabled"),
    (Method::POST, "/api/v1/team/invitations", "member_invited"),
    (Method::DELETE, "/api/v1/team/invitations/{id}", "invitation_withdrawn"),
    (Method::POST, "/api/v1/invitations/accept", "invitation_accepted"),
    (Method::PATCH, "/api/v1/team/members/{id}", "member_role_changed"),
    (Method::DELETE, "/api/v1/team/members/{id}", "member_removed"),
    (Method::POST, "/api/v1/api-keys", "key_created"),
    (Method::DELETE, "/api/v1/api-keys/{id}", "key_revoked"),
    (Method::PUT, "/api/v1/ops/users/{id}/suspension", "user_suspended"),
    (Method::DELETE, "/api/v1/ops/users/{id}/suspension", "user_restored"),
    (Method::PUT, "/api/v1/ops/tenants/{id}/suspension", "tenant_suspended"),
    (Method::DELETE, "/api/v1/ops/tenants/{id}/suspension", "tenant_restored"),
    (Method::POST, "/join", "invitation_accepted"),
    (Method::POST, "/host/team/invitations", "member_invited"),
    (Method::POST, "/host/team/invitations/{id}/withdraw", "invitation_withdrawn"),
    (Method::POST, "/host/team/members/{id}/role", "member_role_changed"),
    (Method::POST, "/host/team/members/{id}/remove", "member_removed"),
    (Method::POST, "/host/team/keys", "key_created"),
    (Method::POST, "/host/team/keys/{id}/revoke", "key_revoked"),
    (Method::POST, "/ops/people/users/{id}/{action}", "user_suspension_changed"),
    (Method::POST, "/ops/people/tenants/{id}/{action}", "tenant_suspension_changed"),
    (Method::POST, "/checkout", "booking_placed"),
    (Method::POST, "/checkout/{id}/confirm", "booking_confirmed"),
    (Method::POST, "/checkout/{id}/pay", "payment_created"),
    (Method::POST, "/trips/{id}/cancel", "booking_cancelled"),
    (Method::POST, "/trips/{id}/review", "review_written"),
    (Method::POST, "/host/reviews/{id}/reply", "review_answered"),
    (Method::POST, "/signin", "sign_in"),
    (Method::POST, "/signup", "user_registered"),
    (Method::POST, "/signout", "sign_out"),
    (Method::POST, "/forgot-password", "password_reset_requested"),
    (Method::POST, "/reset-password", "password_reset"),
    (Method::POST, "/verify-email", "email_verified"),
    (Method::POST, "/host/properties/new", "property_created"),
    (Method::POST, "/host/properties/{id}", "room_type_created"),
    (Method::POST, "/host/properties/{id}/photos", "photo_added"),
    (Method::POST, "/host/room-types/{id}/calendar", "calendar_changed"),
    (Method::POST, "/host/room-types/{id}/ical-export", "calendar_export_changed"),
    (Method::POST, "/host/data/import", "tenant_data_imported"),
    (Method::POST, "/host/data/rates", "rates_imported"),
    (Method::POST, "/host/room-types/{id}/ical-feeds", "calendar_feed_added"),
    (Method::POST, "/host/ical-feeds/{id}/{action}", "calendar_feed_changed"),
    (Method::POST, "/host/bookings/{id}/cancel", "booking_cancelled"),
    (Method::POST, "/host/bookings/{id}/{action}", "booking_changed"),
    (Method::POST, "/host/properties/locate", "place_looked_up"),
    (Method::POST, "/host/money", "payout_account_changed"),
    (Method::POST, "/unsubscribe/{token}", "reminders_stopped"),
    (Method::POST, "/account/profile", "profile_changed"),
    (Method::POST, "/account/password", "password_changed"),
    (Method::POST, "/account/sessions/end", "sessions_ended"),
    (Method::POST, "/account/delete", "account_erased"),
];

/// The sign-in routes: a refusal there is a failed sign-in (`sign_in_failed`).
const SIGN_INS: &[&str] = &["/api/v1/sessions", "/signin"];

/// The longest target kept.
const MAX_TARGET: usize = 500;

/// The action a write to `route` is recorded as, given its answer.
pub fn action(method: &Method, route: &str, status: StatusCode) -> &'static str {
    if *method == Method::POST && SIGN_INS.contains(&route) {
        return if status.is_success() || status.is_redirection() { "sign_in" } else { "sign_in_failed" };
    }
    ACTIONS.iter().find(|(m, r, _)| m == method && *r == route).map_or("request", |(_, _, a)| a)
}

/// The middleware (a route layer, so the route template is known and the final status is
/// seen).
pub async fn record(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_default();
    let path = req.uri().path().to_string();
    let address = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(MAX_USER_AGENT).collect::<String>());
    let note = AuditNote::default();
    req.extensions_mut().insert(note.clone());
    let sign_in = method == Method::POST && SIGN_INS.contains(&route.as_str());
    if sign_in {
        req = match with_subject(req, &note).await {
            Ok(r) => r,
            Err(res) => return res,
        };
    }
    let write = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);

    let res = next.run(req).await;

    let status = res.status();
    let refused = matches!(status.as_u16(), 401 | 403 | 429);
    let noted = note.get();
    let now = state.ports.clock.now();
    if refused {
        let signal = match status.as_u16() {
            _ if sign_in => Signal::FailedSignIn,
            429 => Signal::Throttled,
            _ => Signal::Refused,
        };
        let user = noted.actor.map(|a| a.user_id.to_string());
        let observation = Observation {
            signal,
            address: address.as_deref(),
            account: noted.subject.as_deref().or(user.as_deref()),
            tenant: noted.actor.and_then(|a| a.tenant_id),
        };
        state.access.observe(&observation, now);
    }
    let succeeded = status.is_success() || status.is_redirection();
    if write && (refused || (succeeded && (noted.actor.is_some() || noted.subject.is_some()))) {
        let target = match (&noted.subject, sign_in) {
            (Some(email), true) => email.clone(),
            _ => path.chars().take(MAX_TARGET).collect(),
        };
        let entry = Entry {
            id: uuid::Uuid::now_v7(),
            at: now,
            tenant_id: noted.actor.and_then(|a| a.tenant_id),
            actor_user_id: noted.actor.map(|a| a.user_id),
            actor_key_id: noted.key_id.clone(),
            action: action(&method, &route, status).to_string(),
            target,
            method: method.as_str().to_string(),
            status: status.as_u16(),
            address,
            user_agent,
        };
        match (sign_in && succeeded && entry.actor_user_id.is_none()).then_some(noted.subject).flatten() {
            Some(email) => {
                tokio::spawn(with_signed_in_user(state.clone(), entry, email));
            }
            None => state.audit.write(entry),
        }
    }
    res
}

/// Queue the entry of a sign-in that succeeded, with the user it signed in.
async fn with_signed_in_user(state: AppState, mut entry: Entry, email: String) {
    if let Ok(email) = innkeep_core::Email::parse(&email)
        && let Ok(Some((user, _))) = state.ports.store.user_credentials(&email).await
    {
        entry.actor_user_id = Some(user.id);
        entry.tenant_id = user.tenant_id;
    }
    state.audit.write(entry);
}

/// Read the e-mail address a sign-in names from its body (JSON or a form) into the note,
/// and hand the body on.
async fn with_subject(req: Request, note: &AuditNote) -> Result<Request, Response> {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, crate::BODY_LIMIT).await else {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "the body is larger than the limit",
        )
        .into_response());
    };
    let form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    let email = if form {
        form_value(&bytes, "email")
    } else {
        serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v.get("email").and_then(|e| e.as_str()).map(str::to_string))
    };
    if let Some(email) = email.filter(|e| !e.trim().is_empty()) {
        note.subject(&email);
    }
    Ok(Request::from_parts(parts, axum::body::Body::from(bytes)))
}

/// The first value of `name` in a form body, decoded.
fn form_value(body: &[u8], name: &str) -> Option<String> {
    form_urlencoded::parse(body).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// The note of the request being handled, for a handler that learns who acts (a sign-in
/// step that names its account): absent outside the audit middleware.
pub struct Noted(pub Option<AuditNote>);

impl<S: Send + Sync> FromRequestParts<S> for Noted {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Noted(parts.extensions.get::<AuditNote>().cloned()))
    }
}

impl Noted {
    /// The request names this account (an e-mail address).
    pub fn subject(&self, email: &str) {
        if let Some(n) = &self.0 {
            n.subject(email);
        }
    }
}

/// The detectors whose offenders `/metrics` reports, each with its node's clock: one in a
/// running node (tests run several nodes in one process; their counts add up).
static WATCHED: Mutex<Vec<Watched>> = Mutex::new(Vec::new());

/// A node's detector and the clock its counts are kept by.
type Watched = (Weak<Detector>, Arc<dyn Clock>);

/// Report a node's detector in `/metrics` (for as long as the node lives).
pub fn watch(state: &AppState) {
    let mut all = WATCHED.lock().unwrap_or_else(PoisonError::into_inner);
    all.retain(|(d, _)| d.strong_count() > 0);
    all.push((Arc::downgrade(&state.access), state.ports.clock.clone()));
}

/// Set `innkeep_access_bursts{scope}`: how many addresses, accounts and tenants are over a
/// threshold now.
pub fn publish_bursts() {
    let mut counts = [0usize; 3];
    let all = WATCHED.lock().unwrap_or_else(PoisonError::into_inner);
    for (detector, clock) in all.iter() {
        if let Some(d) = detector.upgrade() {
            for (i, (_, n)) in d.offenders(clock.now()).into_iter().enumerate() {
                counts[i] += n;
            }
        }
    }
    for (scope, n) in Scope::ALL.into_iter().zip(counts) {
        metrics::gauge!("innkeep_access_bursts", "scope" => scope.as_str()).set(n as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_ins_are_named_by_their_outcome_and_writes_by_their_route() {
        assert_eq!(action(&Method::POST, "/api/v1/sessions", StatusCode::CREATED), "sign_in");
        assert_eq!(action(&Method::POST, "/api/v1/sessions", StatusCode::UNAUTHORIZED), "sign_in_failed");
        assert_eq!(action(&Method::POST, "/signin", StatusCode::SEE_OTHER), "sign_in");
        assert_eq!(action(&Method::POST, "/signin", StatusCode::TOO_MANY_REQUESTS), "sign_in_failed");
        assert_eq!(action(&Method::PUT, "/api/v1/room-types/{id}/calendar", StatusCode::OK), "calendar_changed");
        assert_eq!(action(&Method::POST, "/api/v1/nowhere", StatusCode::OK), "request");
        for (_, _, a) in ACTIONS {
            assert!(innkeep_app::audit::is_action(a), "{a}");
        }
    }

    #[test]
    fn a_form_value_is_decoded() {
        let body = b"csrf=abc&email=ana%2Bx%40example.com&password=a+b";
        assert_eq!(form_value(body, "email").as_deref(), Some("ana+x@example.com"));
        assert_eq!(form_value(body, "password").as_deref(), Some("a b"));
        assert_eq!(form_value(body, "next"), None);
        assert_eq!(form_value(b"email=%zz%4", "email").as_deref(), Some("%zz%4"));
    }
}
