//! Two-factor sign-in: a time-based one-time code (TOTP, RFC 6238: HMAC-SHA-1, 6 digits,
//! 30-second steps) from an authenticator app, or one of ten single-use recovery codes.
//!
//! Enrolment is two steps: `start` makes a 20-byte secret and shows it once (base32 and an
//! `otpauth://` URI); `confirm` turns two-factor sign-in on when a code from the app is
//! right, and shows the recovery codes once (only their SHA-256 is kept). A code is
//! accepted one step early or late (clock drift), and each step works once per user: the
//! last step used is kept, and only a later one is accepted (no replay).
//!
//! Operators (admins), and host owners when `Settings::two_factor_required_for_owners` is
//! on, must have it. One who has not enrolled may still sign in, but the session is marked
//! setup-pending (`setup_pending`): the front ends let it do no more than enrol, read the
//! account and sign out. Confirming the enrolment lifts the mark from that session and ends
//! the user's other setup-pending sessions.

use crate::auth::token_hash;
use crate::event::Event;
use crate::store::{StoreError, User};
use crate::{Actor, AppError, Ports, Settings};
use async_trait::async_trait;
use innkeep_core::{Role, UserId};
use jiff::Timestamp;
use rand::{Rng, RngCore};
use totp_rs::{Algorithm, Builder, Secret, Totp};

/// The issuer an authenticator app shows beside the account.
pub const ISSUER: &str = "Innkeep";
/// Digits of a code.
pub const DIGITS: u8 = 6;
/// Seconds per step.
pub const STEP_SECONDS: u64 = 30;
/// Steps of clock drift accepted either way.
pub const DRIFT_STEPS: u16 = 1;
/// Recovery codes made at confirmation.
pub const RECOVERY_CODES: usize = 10;

/// The problem code of a sign-in that needs a code and was sent none (answered 401).
pub const REQUIRED: &str = "two_factor_required";
/// The problem code of a wrong, used or expired code (401 at sign-in, 400 elsewhere).
pub const BAD_CODE: &str = "bad_code";
/// The problem code of a request from a session that must set up two-factor first (403).
pub const SETUP_REQUIRED: &str = "two_factor_setup_required";

/// Letters and digits of recovery codes: no 0/o, 1/l/i to confuse.
const RECOVERY_ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";

/// A user's two-factor state as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwoFactorRecord {
    /// The base32 secret, once enrolment started (confirmed or not).
    pub secret: Option<String>,
    /// When it was confirmed; `None` while the enrolment is unconfirmed or absent.
    pub enabled_at: Option<Timestamp>,
    /// Recovery codes not used yet.
    pub recovery_codes_left: u32,
    /// Whether the user owns a host tenant.
    pub tenant_owner: bool,
}

/// The store's two-factor role.
#[async_trait]
pub trait TwoFactorStore: Send + Sync {
    /// The user's two-factor state (`None` for an unknown user).
    async fn two_factor(&self, user: UserId) -> Result<Option<TwoFactorRecord>, StoreError>;
    /// Keep a new unconfirmed secret, replacing an unconfirmed one; false (and nothing
    /// written) when two-factor sign-in is on.
    async fn start_two_factor(&self, user: UserId, secret: &str, now: Timestamp) -> Result<bool, StoreError>;
    /// Turn an unconfirmed enrolment on, with `step` as the last step used and these
    /// recovery code hashes (replacing any); lift the setup mark from the session
    /// `keep_session` (a token hash) and end the user's other setup-pending sessions, with a
    /// `session.ended` event each. `None` (nothing written) when there was no unconfirmed
    /// enrolment.
    async fn enable_two_factor(
        &self,
        user: UserId,
        step: i64,
        recovery_hashes: &[String],
        keep_session: &str,
        now: Timestamp,
    ) -> Result<Option<Vec<Event>>, StoreError>;
    /// Record `step` as used if two-factor sign-in is on and it is later than the last step
    /// used; whether it was.
    async fn use_two_factor_step(&self, user: UserId, step: i64) -> Result<bool, StoreError>;
    /// Use an unused recovery code (by hash) of a user whose two-factor sign-in is on; whether
    /// there was one.
    async fn use_recovery_code(&self, user: UserId, code_hash: &str, now: Timestamp) -> Result<bool, StoreError>;
    /// Remove the user's secret and recovery codes; whether two-factor sign-in was on.
    async fn disable_two_factor(&self, user: UserId) -> Result<bool, StoreError>;
    /// Record a session that may only set up two-factor sign-in (its token's hash).
    async fn create_setup_session(
        &self,
        token_hash: &str,
        user: UserId,
        expires_at: Timestamp,
    ) -> Result<(), StoreError>;
    /// Whether the session of this token hash is marked setup-pending (false if unknown).
    async fn session_setup_pending(&self, token_hash: &str) -> Result<bool, StoreError>;
}

/// A started enrolment, shown once: the secret for an authenticator app.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Enrolment {
    /// The secret in base32 (RFC 4648, no padding), to type in.
    pub secret: String,
    /// The `otpauth://totp/...` URI, to scan as a QR code.
    pub otpauth_uri: String,
}

/// Whether two-factor sign-in is on for a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Status {
    pub enabled: bool,
    /// Recovery codes not used yet (0 when off).
    pub recovery_codes_left: u32,
    /// Whether the user's role requires it.
    pub required: bool,
}

/// What a sign-in's password and code lead to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInFactor {
    /// Every factor the user has was given: a full session.
    Passed,
    /// The user must enrol and has not: a session that may only set it up.
    SetupRequired,
}

/// Whether a role (with tenant ownership) must use two-factor sign-in.
pub fn required(settings: &Settings, role: Role, tenant_owner: bool) -> bool {
    match role {
        Role::Admin => true,
        Role::Host => tenant_owner && settings.two_factor_required_for_owners,
        Role::Guest => false,
    }
}

fn totp(secret: &[u8], digits: u8) -> Result<Totp, AppError> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(digits)
        .with_skew(DRIFT_STEPS)
        .with_step_duration(STEP_SECONDS)
        .with_secret(secret.to_vec())
        .build()
        .map_err(|e| AppError::Store(StoreError::Corrupt(format!("two-factor secret: {e}"))))
}

fn secret_bytes(base32: &str) -> Result<Vec<u8>, AppError> {
    Secret::try_from_base32(base32)
        .map(|s| s.as_bytes().to_vec())
        .map_err(|e| AppError::Store(StoreError::Corrupt(format!("two-factor secret: {e}"))))
}

fn unix_seconds(at: Timestamp) -> u64 {
    u64::try_from(at.as_second()).unwrap_or(0)
}

/// The code an authenticator app shows at `at` for a base32 secret (as the tests and
/// scripts that sign in with two factors compute it).
pub fn code_at(secret: &str, at: Timestamp) -> Result<String, AppError> {
    Ok(totp(&secret_bytes(secret)?, DIGITS)?.generate(unix_seconds(at)).to_string())
}

/// The step (Unix seconds / 30) whose code is `code`, within `DRIFT_STEPS` of `at`.
pub fn matching_step(secret: &[u8], code: &str, at: Timestamp) -> Result<Option<i64>, AppError> {
    let step = totp(secret, DIGITS)?.check(code, unix_seconds(at));
    Ok(step.and_then(|s| i64::try_from(s).ok()))
}

/// The `otpauth://` URI of a secret for an account.
pub fn otpauth_uri(secret: &str, account: &str) -> String {
    format!(
        "otpauth://totp/{ISSUER}:{}?secret={secret}&issuer={ISSUER}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        uri_escape(account)
    )
}

fn uri_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A recovery code's normal form (lower case, without separators), if it can be one.
fn recovery_normal(code: &str) -> Option<String> {
    let plain: String =
        code.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_lowercase()).collect();
    (plain.len() == 8 && plain.bytes().all(|b| RECOVERY_ALPHABET.contains(&b))).then_some(plain)
}

fn new_recovery_code() -> String {
    let mut rng = rand::rng();
    let mut code = String::with_capacity(9);
    for i in 0..8 {
        if i == 4 {
            code.push('-');
        }
        code.push(RECOVERY_ALPHABET[rng.random_range(0..RECOVERY_ALPHABET.len())] as char);
    }
    code
}

fn bad_code() -> AppError {
    AppError::invalid("code", BAD_CODE, "the code is not right, or it was used already")
}

fn record_of(found: Option<TwoFactorRecord>) -> Result<TwoFactorRecord, AppError> {
    found.ok_or(AppError::Unauthenticated)
}

/// Start enrolment: a new secret, shown once; it replaces an unconfirmed one. A conflict
/// when two-factor sign-in is on already.
#[tracing::instrument(skip_all)]
pub async fn start(ports: &Ports, actor: &Actor, now: Timestamp) -> Result<Enrolment, AppError> {
    actor.person()?;
    let user: User = ports.store.user(actor.user_id).await?.ok_or(AppError::Unauthenticated)?;
    let mut raw = [0u8; 20];
    rand::rng().fill_bytes(&mut raw);
    let secret = Secret::from(raw.to_vec()).to_base32();
    if !ports.store.start_two_factor(user.id, &secret, now).await? {
        return Err(AppError::Conflict("two-factor sign-in is on already; turn it off first".into()));
    }
    let otpauth_uri = otpauth_uri(&secret, user.email.as_str());
    Ok(Enrolment { secret, otpauth_uri })
}

/// Confirm enrolment with a code from the app: two-factor sign-in is on, and the recovery
/// codes (shown only now) are returned. `token` is this session's, which keeps working
/// without the setup mark.
#[tracing::instrument(skip_all)]
pub async fn confirm(
    ports: &Ports,
    actor: &Actor,
    token: &str,
    code: &str,
    now: Timestamp,
) -> Result<Vec<String>, AppError> {
    actor.person()?;
    limit(ports, actor.user_id).await?;
    let record = record_of(ports.store.two_factor(actor.user_id).await?)?;
    let (Some(secret), None) = (&record.secret, record.enabled_at) else {
        return Err(AppError::Conflict(
            "there is no enrolment to confirm; start one with POST /api/v1/me/two-factor".into(),
        ));
    };
    let step = matching_step(&secret_bytes(secret)?, code.trim(), now)?.ok_or_else(bad_code)?;
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
    let hashes: Vec<String> = codes.iter().filter_map(|c| recovery_normal(c)).map(|c| token_hash(&c)).collect();
    let events = ports
        .store
        .enable_two_factor(actor.user_id, step, &hashes, &token_hash(token), now)
        .await?
        .ok_or_else(|| AppError::Conflict("the enrolment changed meanwhile; start again".into()))?;
    for e in &events {
        crate::cache::invalidate_after(ports, e).await;
    }
    tracing::info!(user_id = %actor.user_id, ended = events.len(), "two-factor sign-in turned on");
    Ok(codes)
}

/// Turn two-factor sign-in off (or drop an unconfirmed enrolment); the current password must
/// be right.
#[tracing::instrument(skip_all)]
pub async fn disable(ports: &Ports, actor: &Actor, password: &str) -> Result<(), AppError> {
    actor.person()?;
    crate::credentials::check_password(ports, actor.user_id, "password", password).await?;
    if ports.store.disable_two_factor(actor.user_id).await? {
        tracing::info!(user_id = %actor.user_id, "two-factor sign-in turned off");
    }
    Ok(())
}

/// Whether two-factor sign-in is on for the actor, and how many recovery codes are left.
pub async fn status(ports: &Ports, actor: &Actor) -> Result<Status, AppError> {
    actor.person()?;
    let record = record_of(ports.store.two_factor(actor.user_id).await?)?;
    let enabled = record.enabled_at.is_some();
    Ok(Status {
        enabled,
        recovery_codes_left: if enabled { record.recovery_codes_left } else { 0 },
        required: required(&ports.settings, actor.role, record.tenant_owner),
    })
}

/// The second factor of a sign-in whose password was right: checks `code` (a TOTP code or
/// a recovery code, each usable once) when the user has two-factor sign-in on.
pub async fn at_sign_in(
    ports: &Ports,
    user: &User,
    code: Option<&str>,
    now: Timestamp,
) -> Result<SignInFactor, AppError> {
    let record = record_of(ports.store.two_factor(user.id).await?)?;
    let (Some(secret), Some(_)) = (&record.secret, record.enabled_at) else {
        return Ok(if required(&ports.settings, user.role, record.tenant_owner) {
            SignInFactor::SetupRequired
        } else {
            SignInFactor::Passed
        });
    };
    let code: String = code.unwrap_or("").chars().filter(|c| !c.is_whitespace()).collect();
    if code.is_empty() {
        return Err(AppError::invalid(
            "code",
            REQUIRED,
            "two-factor sign-in is on: send `code` from the authenticator app (or a recovery code)",
        ));
    }
    let passed = if code.len() == usize::from(DIGITS) && code.bytes().all(|b| b.is_ascii_digit()) {
        match matching_step(&secret_bytes(secret)?, &code, now)? {
            Some(step) => ports.store.use_two_factor_step(user.id, step).await?,
            None => false,
        }
    } else {
        match recovery_normal(&code) {
            Some(plain) => ports.store.use_recovery_code(user.id, &token_hash(&plain), now).await?,
            None => false,
        }
    };
    if !passed {
        tracing::info!(user_id = %user.id, "two-factor code refused");
        return Err(bad_code());
    }
    Ok(SignInFactor::Passed)
}

/// Whether the session of a token hash may only set up two-factor sign-in (see the module
/// doc): read on every request of a signed-in host or admin, never cached.
pub async fn setup_pending(ports: &Ports, token_hash: &str) -> Result<bool, AppError> {
    Ok(ports.store.session_setup_pending(token_hash).await?)
}

/// Code attempts (confirmations, turning it off) count against the sign-in allowance.
async fn limit(ports: &Ports, user: UserId) -> Result<(), AppError> {
    ports
        .limiter
        .take(&crate::limit::SIGN_IN, &format!("two-factor:{user}"))
        .await
        .map_err(|wait| AppError::RateLimited { code: "too_many_attempts", wait })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B's SHA-1 secret: the ASCII of "12345678901234567890".
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    fn at(unix: i64) -> Timestamp {
        Timestamp::from_second(unix).expect("a time")
    }

    #[test]
    fn the_rfc_6238_sha1_test_vectors_give_their_codes() {
        // (time, the 8-digit code of Appendix B)
        let vectors = [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        let eight = totp(RFC_SECRET, 8).expect("a generator");
        let six = totp(RFC_SECRET, 6).expect("a generator");
        for (time, code) in vectors {
            assert_eq!(eight.generate(time).to_string(), code, "8 digits at {time}");
            // Six digits are the last six of the same truncated value (mod 10^6).
            assert_eq!(six.generate(time).to_string(), &code[2..], "6 digits at {time}");
        }
    }

    #[test]
    fn a_code_one_step_early_or_late_is_accepted_and_two_steps_are_not() {
        let secret = [7u8; 20];
        let now = at(1_800_000_015);
        let step = 1_800_000_015 / 30;
        let code_of =
            |offset: i64| code_at(&Secret::from(secret.to_vec()).to_base32(), at(1_800_000_015 + offset * 30));
        for offset in [-1, 0, 1] {
            let code = code_of(offset).expect("a code");
            assert_eq!(matching_step(&secret, &code, now).expect("checked"), Some(step + offset), "drift {offset}");
        }
        for offset in [-2, 2] {
            let code = code_of(offset).expect("a code");
            // A code of another step may collide by chance with one in the window; these do not.
            assert_eq!(matching_step(&secret, &code, now).expect("checked"), None, "drift {offset}");
        }
    }

    #[test]
    fn codes_that_are_not_six_digits_never_match() {
        let now = at(59);
        for code in ["", "28708", "2870822", "+87082", "28 082", "abcdef"] {
            assert_eq!(matching_step(RFC_SECRET, code, now).expect("checked"), None, "{code:?}");
        }
    }

    #[test]
    fn recovery_codes_are_two_groups_of_four_and_read_back_in_any_case() {
        let code = new_recovery_code();
        assert_eq!(code.len(), 9);
        assert_eq!(&code[4..5], "-");
        let plain = recovery_normal(&code).expect("its own form");
        assert_eq!(recovery_normal(&code.to_uppercase()), Some(plain.clone()));
        assert_eq!(recovery_normal(&plain), Some(plain));
        assert_eq!(recovery_normal("0000-1111"), None, "0 and 1 are not in the alphabet");
        assert_eq!(recovery_normal("abc"), None);
    }

    #[test]
    fn the_otpauth_uri_names_issuer_account_and_parameters() {
        let uri = otpauth_uri("JBSWY3DPEHPK3PXP", "ana+x@example.com");
        assert_eq!(
            uri,
            "otpauth://totp/Innkeep:ana%2Bx%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Innkeep&algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn operators_always_need_it_and_owners_when_switched_on() {
        let mut s = Settings::default();
        assert!(required(&s, Role::Admin, false));
        assert!(!required(&s, Role::Host, true));
        assert!(!required(&s, Role::Guest, false));
        s.two_factor_required_for_owners = true;
        assert!(required(&s, Role::Host, true));
        assert!(!required(&s, Role::Host, false), "staff who do not own the tenant");
    }
}
