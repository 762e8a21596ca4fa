//! The host's team (owners only): members with their roles, open invitations, inviting by
//! e-mail, and the tenant's API keys (a new key is shown once, on the answer that made it).

use super::*;
use crate::page::form_status;
use innkeep_app::team::{self, ApiKey, Invitation, Member};
use innkeep_core::{Duty, Scope, StaffRole, UserId};
use uuid::Uuid;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TeamQuery {
    done: String,
}

struct MemberRow {
    id: String,
    name: String,
    email: String,
    role: &'static str,
    joined: String,
    /// (value, label, selected) for the member's role select.
    roles: Vec<(&'static str, &'static str, bool)>,
}

struct InvitationRow {
    id: String,
    email: String,
    role: &'static str,
    expires: String,
}

struct KeyRow {
    id: String,
    name: String,
    scopes: String,
    prefix: String,
    created: String,
    last_used: String,
    revoked: String,
}

/// A key just made: its secret, shown on this answer only.
struct NewKeyView {
    name: String,
    secret: String,
}

#[derive(Template)]
#[template(path = "host_team.html")]
struct TeamPage {
    ctx: Ctx,
    flash: String,
    /// Why an action on a member, an invitation or a key did not work.
    error: String,
    members: Vec<MemberRow>,
    invitations: Vec<InvitationRow>,
    keys: Vec<KeyRow>,
    /// (value, label, selected) for the invitation's role.
    invite_roles: Vec<(&'static str, &'static str, bool)>,
    invite_email: String,
    invite_errors: FormErrors,
    /// (value, label, checked)
    scopes: Vec<(&'static str, &'static str, bool)>,
    key_name: String,
    key_errors: FormErrors,
    new_key: Option<NewKeyView>,
}

fn role_label(r: StaffRole) -> &'static str {
    match r {
        StaffRole::Owner => crate::i18n::t("Owner"),
        StaffRole::Manager => crate::i18n::t("Manager"),
        StaffRole::FrontDesk => crate::i18n::t("Front desk"),
        StaffRole::Accountant => crate::i18n::t("Accountant"),
    }
}

fn scope_label(s: Scope) -> &'static str {
    match s {
        Scope::Read => crate::i18n::t("Read bookings"),
        Scope::Bookings => crate::i18n::t("Bookings"),
        Scope::RatesAndAvailability => crate::i18n::t("Rates and availability"),
        Scope::Channel => crate::i18n::t("Channel manager"),
    }
}

fn role_choices(selected: Option<StaffRole>) -> Vec<(&'static str, &'static str, bool)> {
    StaffRole::ALL.iter().map(|r| (r.as_str(), role_label(*r), Some(*r) == selected)).collect()
}

fn when(t: jiff::Timestamp) -> String {
    t.to_zoned_datetime(jiff::tz::TimeZone::UTC).strftime("%a %-d %b %Y %H:%M").to_string()
}

/// A host of the tenant whose role runs the team (an owner).
fn owner(v: &Visitor) -> Result<Actor, PageError> {
    let a = host(v)?;
    a.host_tenant(Duty::Team).map_err(|_| {
        PageError::Forbidden(crate::i18n::t("Only the team's owners can manage the team and its API keys.").into())
    })?;
    Ok(a)
}

/// The page as it stands, with empty forms.
async fn team_page(s: &AppState, v: &Visitor, a: &Actor) -> Result<TeamPage, PageError> {
    let (members, invitations) = team::team(&s.ports, a).await?;
    let keys = team::keys(&s.ports, a).await?;
    Ok(TeamPage {
        ctx: v.ctx("Team and API keys"),
        flash: String::new(),
        error: String::new(),
        members: members.iter().map(member_row).collect(),
        invitations: invitations.iter().map(invitation_row).collect(),
        keys: keys.iter().map(key_row).collect(),
        invite_roles: role_choices(Some(StaffRole::FrontDesk)),
        invite_email: String::new(),
        invite_errors: FormErrors::default(),
        scopes: Scope::ALL.iter().map(|s| (s.as_str(), scope_label(*s), false)).collect(),
        key_name: String::new(),
        key_errors: FormErrors::default(),
        new_key: None,
    })
}

fn member_row(m: &Member) -> MemberRow {
    MemberRow {
        id: m.user_id.to_string(),
        name: m.name.clone(),
        email: m.email.as_str().to_string(),
        role: role_label(m.role),
        joined: day(m.joined_at.to_zoned_datetime(jiff::tz::TimeZone::UTC).date()),
        roles: role_choices(Some(m.role)),
    }
}

fn invitation_row(i: &Invitation) -> InvitationRow {
    InvitationRow {
        id: i.id.to_string(),
        email: i.email.as_str().to_string(),
        role: role_label(i.role),
        expires: when(i.expires_at),
    }
}

fn key_row(k: &ApiKey) -> KeyRow {
    KeyRow {
        id: k.id.to_string(),
        name: k.name.clone(),
        scopes: k.scopes.iter().map(|s| scope_label(*s)).collect::<Vec<_>>().join(", "),
        prefix: k.prefix.clone(),
        created: when(k.created_at),
        last_used: k.last_used_at.map(when).unwrap_or_else(|| "never".into()),
        revoked: k.revoked_at.map(when).unwrap_or_default(),
    }
}

/// The page again after an action on a member, an invitation or a key was refused.
async fn refused(s: &AppState, v: &Visitor, a: &Actor, e: AppError) -> PageResult {
    let status = form_status(&e);
    let mut page = team_page(s, v, a).await?;
    page.error = FormErrors::from_app(e, &[])?.general;
    Ok(render_status(status, &page))
}

/// GET /host/team
pub async fn team_overview(State(s): State<AppState>, v: Visitor, Query(q): Query<TeamQuery>) -> PageResult {
    let a = owner(&v)?;
    let mut page = team_page(&s, &v, &a).await?;
    page.flash = match q.done.as_str() {
        "invited" => crate::i18n::t("Invitation sent."),
        "withdrawn" => crate::i18n::t("Invitation withdrawn."),
        "role" => crate::i18n::t("Role changed. The member signs in again to use it."),
        "removed" => crate::i18n::t("Member removed from the team."),
        "revoked" => crate::i18n::t("Key revoked. It stops working at once."),
        _ => "",
    }
    .to_string();
    Ok(render(&page))
}

/// POST /host/team/invitations: invite someone by e-mail.
pub async fn team_invite(State(s): State<AppState>, v: Visitor, f: Fields) -> PageResult {
    let a = owner(&v)?;
    let email = f.get("email");
    let role = StaffRole::parse(&f.get("role"));
    let mut errors = FormErrors::default();
    let status = match (role, s.account_mail.clone()) {
        (None, _) => {
            errors.set("role", crate::i18n::t("Choose a role."));
            StatusCode::UNPROCESSABLE_ENTITY
        }
        (Some(_), None) => {
            errors.general =
                crate::i18n::t("Invitations cannot be sent: this site is not set up to send e-mail.").into();
            StatusCode::SERVICE_UNAVAILABLE
        }
        (Some(role), Some(mail)) => {
            match team::invite(&s.ports, mail.as_ref(), &a, &email, role, s.ports.clock.now()).await {
                Ok(_) => return Ok(crate::redirect::to("/host/team?done=invited")),
                Err(e) => {
                    let status = form_status(&e);
                    errors = FormErrors::from_app(e, &["email", "role"])?;
                    status
                }
            }
        }
    };
    // The form again with what was typed, and why it was refused.
    let mut page = team_page(&s, &v, &a).await?;
    page.invite_email = email;
    page.invite_roles = role_choices(role);
    page.invite_errors = errors;
    Ok(render_status(status, &page))
}

/// POST /host/team/invitations/{id}/withdraw
pub async fn team_withdraw(State(s): State<AppState>, v: Visitor, Path(id): Path<String>) -> PageResult {
    let a = owner(&v)?;
    let id: Uuid = id.parse().map_err(|_| PageError::NotFound)?;
    team::withdraw(&s.ports, &a, id).await?;
    Ok(crate::redirect::to("/host/team?done=withdrawn"))
}

/// POST /host/team/members/{id}/role
pub async fn member_role_set(State(s): State<AppState>, v: Visitor, Path(id): Path<String>, f: Fields) -> PageResult {
    let a = owner(&v)?;
    let id: UserId = id.parse().map_err(|_| PageError::NotFound)?;
    let role = StaffRole::parse(&f.get("role"))
        .ok_or_else(|| PageError::Message(StatusCode::BAD_REQUEST, crate::i18n::t("Not a role.").into()))?;
    match team::set_role(&s.ports, &a, id, Some(role), s.ports.clock.now()).await {
        Ok(()) => Ok(crate::redirect::to("/host/team?done=role")),
        Err(e @ AppError::Conflict(_)) => refused(&s, &v, &a, e).await,
        Err(e) => Err(e.into()),
    }
}

/// POST /host/team/members/{id}/remove
pub async fn member_remove(State(s): State<AppState>, v: Visitor, Path(id): Path<String>) -> PageResult {
    let a = owner(&v)?;
    let id: UserId = id.parse().map_err(|_| PageError::NotFound)?;
    match team::set_role(&s.ports, &a, id, None, s.ports.clock.now()).await {
        // Owners who removed themselves have no team page left to return to.
        Ok(()) if id == a.user_id => Ok(crate::redirect::to("/")),
        Ok(()) => Ok(crate::redirect::to("/host/team?done=removed")),
        Err(e @ AppError::Conflict(_)) => refused(&s, &v, &a, e).await,
        Err(e) => Err(e.into()),
    }
}

/// POST /host/team/keys: make a key and show it, this once.
pub async fn key_create(State(s): State<AppState>, v: Visitor, f: Fields) -> PageResult {
    let a = owner(&v)?;
    let name = f.get("name");
    let mut scopes = Vec::new();
    for raw in f.all("scopes") {
        scopes.push(
            Scope::parse(&raw)
                .ok_or_else(|| PageError::Message(StatusCode::BAD_REQUEST, crate::i18n::t("Not a scope.").into()))?,
        );
    }
    match team::create_key(&s.ports, &a, &name, &scopes, s.ports.clock.now()).await {
        Ok(made) => {
            let mut page = team_page(&s, &v, &a).await?;
            page.new_key = Some(NewKeyView { name: made.key.name, secret: made.secret });
            let mut r = render(&page);
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(r)
        }
        Err(e) => {
            let status = form_status(&e);
            let mut page = team_page(&s, &v, &a).await?;
            page.key_name = name;
            page.scopes = Scope::ALL.iter().map(|sc| (sc.as_str(), scope_label(*sc), scopes.contains(sc))).collect();
            page.key_errors = FormErrors::from_app(e, &["name", "scopes"])?;
            Ok(render_status(status, &page))
        }
    }
}

/// POST /host/team/keys/{id}/revoke
pub async fn key_revoke(State(s): State<AppState>, v: Visitor, Path(id): Path<String>) -> PageResult {
    let a = owner(&v)?;
    let id: Uuid = id.parse().map_err(|_| PageError::NotFound)?;
    team::revoke_key(&s.ports, &a, id, s.ports.clock.now()).await?;
    Ok(crate::redirect::to("/host/team?done=revoked"))
}
