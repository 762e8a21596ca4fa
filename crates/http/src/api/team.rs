//! A host tenant's team (members with roles, invitations by e-mail) and its API keys.

use crate::AppState;
use crate::api::problems::{
    BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, ServiceUnavailable, TooManyRequests, Unauthorized,
    UnprocessableEntity, UnsupportedMediaType,
};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Body, Id};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use innkeep_app::team::{self, ApiKey, Invitation, Member};
use innkeep_core::{Scope, StaffRole, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Whom to invite, and as what.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    pub email: String,
    /// `owner`, `manager`, `front_desk` or `accountant`
    #[schema(value_type = String, example = "front_desk")]
    pub role: StaffRole,
}

/// An open invitation.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationView {
    pub id: Uuid,
    #[schema(value_type = String)]
    pub email: String,
    #[schema(value_type = String, example = "front_desk")]
    pub role: StaffRole,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: jiff::Timestamp,
}

impl From<Invitation> for InvitationView {
    fn from(i: Invitation) -> Self {
        InvitationView {
            id: i.id,
            email: i.email.as_str().to_string(),
            role: i.role,
            created_at: i.created_at,
            expires_at: i.expires_at,
        }
    }
}

/// A member of the team.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    pub name: String,
    #[schema(value_type = String)]
    pub email: String,
    #[schema(value_type = String, example = "manager")]
    pub role: StaffRole,
    #[schema(value_type = String, format = DateTime)]
    pub joined_at: jiff::Timestamp,
}

impl From<Member> for MemberView {
    fn from(m: Member) -> Self {
        MemberView {
            user_id: m.user_id,
            name: m.name,
            email: m.email.as_str().to_string(),
            role: m.role,
            joined_at: m.joined_at,
        }
    }
}

/// The team: its members and open invitations.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamView {
    pub members: Vec<MemberView>,
    pub invitations: Vec<InvitationView>,
}

/// An invitation's token, and the new member's name and password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptBody {
    pub token: String,
    pub name: String,
    /// 12 to 256 characters.
    pub password: String,
}

/// The account made by accepting an invitation.
#[derive(Debug, Serialize, ToSchema)]
pub struct JoinedView {
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    #[schema(value_type = String)]
    pub email: String,
    #[schema(value_type = String, example = "front_desk")]
    pub role: Option<StaffRole>,
}

/// A member's new role.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    #[schema(value_type = String, example = "manager")]
    pub role: StaffRole,
}

/// A key to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyBody {
    /// What the key is for (1 to 80 characters), e.g. the channel manager's name.
    pub name: String,
    /// Any of `read`, `bookings`, `rates_and_availability`, `channel`.
    #[schema(value_type = Vec<String>, example = json!(["channel"]))]
    pub scopes: Vec<Scope>,
}

/// An API key (its secret only in the answer that made it).
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView {
    pub id: Uuid,
    pub name: String,
    #[schema(value_type = Vec<String>)]
    pub scopes: Vec<Scope>,
    /// The key's first characters.
    pub prefix: String,
    #[schema(value_type = String, format = Uuid)]
    pub created_by: UserId,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<jiff::Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<jiff::Timestamp>,
    /// The key, shown once: use it as `Authorization: Bearer <key>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

impl KeyView {
    fn of(k: ApiKey, key: Option<String>) -> KeyView {
        KeyView {
            id: k.id,
            name: k.name,
            scopes: k.scopes,
            prefix: k.prefix,
            created_by: k.created_by,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
            key,
        }
    }
}

/// The caller's team (owners).
#[utoipa::path(get, path = "/api/v1/team", operation_id = "get_team", tag = "team", security(("bearer" = [])),
    responses((status = 200, description = "members, oldest first, and open invitations", body = TeamView),
        (status = 401, response = inline(Unauthorized)), (status = 403, response = inline(Forbidden)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn get(State(s): State<AppState>, Auth(a): Auth) -> ApiResult<Json<TeamView>> {
    let (members, invitations) = team::team(&s.ports, &a).await?;
    Ok(Json(TeamView {
        members: members.into_iter().map(MemberView::from).collect(),
        invitations: invitations.into_iter().map(InvitationView::from).collect(),
    }))
}

/// Invite a colleague by e-mail (owners); the link in the e-mail works once, for 7 days.
#[utoipa::path(post, path = "/api/v1/team/invitations", operation_id = "invite_member", tag = "team", security(("bearer" = [])),
    request_body = InviteBody,
    responses((status = 201, description = "invited; the e-mail is on its way", body = InvitationView),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 409, response = inline(Conflict)), (status = 413, response = inline(PayloadTooLarge)),
        (status = 415, response = inline(UnsupportedMediaType)), (status = 422, response = inline(UnprocessableEntity)),
        (status = 429, response = inline(TooManyRequests)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn invite(
    State(s): State<AppState>,
    Auth(a): Auth,
    Body(b): Body<InviteBody>,
) -> ApiResult<(StatusCode, Json<InvitationView>)> {
    let mail = s.account_mail.clone().ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "account e-mails are not enabled on this node")
    })?;
    let i = team::invite(&s.ports, mail.as_ref(), &a, &b.email, b.role, s.ports.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(i.into())))
}

/// Withdraw an open invitation (owners).
#[utoipa::path(delete, path = "/api/v1/team/invitations/{id}", operation_id = "withdraw_invitation", tag = "team", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the invitation")),
    responses((status = 204, description = "withdrawn"),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn withdraw(State(s): State<AppState>, Auth(a): Auth, Id(id): Id<Uuid>) -> ApiResult<StatusCode> {
    team::withdraw(&s.ports, &a, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Accept an invitation: makes the member's account (with the invited address); then sign in.
#[utoipa::path(post, path = "/api/v1/invitations/accept", operation_id = "accept_invitation", tag = "team",
    request_body = AcceptBody,
    responses((status = 201, description = "the account is made", body = JoinedView),
        (status = 400, response = inline(BadRequest)), (status = 409, response = inline(Conflict)),
        (status = 413, response = inline(PayloadTooLarge)), (status = 415, response = inline(UnsupportedMediaType)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn accept(
    State(s): State<AppState>,
    headers: HeaderMap,
    Body(b): Body<AcceptBody>,
) -> ApiResult<(StatusCode, Json<JoinedView>)> {
    let locale = innkeep_core::Locale::negotiate(
        headers.get(axum::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or(""),
    );
    let u = team::accept(&s.ports, &b.token, &b.name, &b.password, locale, s.ports.clock.now()).await?;
    Ok((
        StatusCode::CREATED,
        Json(JoinedView { user_id: u.id, email: u.email.as_str().to_string(), role: u.staff_role }),
    ))
}

/// Give a member another role (owners); their sessions end so it applies at once.
#[utoipa::path(patch, path = "/api/v1/team/members/{id}", operation_id = "set_member_role", tag = "team", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the member's user id")),
    request_body = RoleBody,
    responses((status = 204, description = "changed"),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 409, response = inline(Conflict)), (status = 413, response = inline(PayloadTooLarge)),
        (status = 415, response = inline(UnsupportedMediaType)), (status = 422, response = inline(UnprocessableEntity)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn set_role(
    State(s): State<AppState>,
    Auth(a): Auth,
    Id(id): Id<UserId>,
    Body(b): Body<RoleBody>,
) -> ApiResult<StatusCode> {
    team::set_role(&s.ports, &a, id, Some(b.role), s.ports.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a member from the team (owners): their sessions end; their account stays, as a guest.
#[utoipa::path(delete, path = "/api/v1/team/members/{id}", operation_id = "remove_member", tag = "team", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the member's user id")),
    responses((status = 204, description = "removed"),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 409, response = inline(Conflict)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn remove(State(s): State<AppState>, Auth(a): Auth, Id(id): Id<UserId>) -> ApiResult<StatusCode> {
    team::set_role(&s.ports, &a, id, None, s.ports.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Make an API key for the tenant (owners); the key is in this answer only.
#[utoipa::path(post, path = "/api/v1/api-keys", operation_id = "create_api_key", tag = "team", security(("bearer" = [])),
    request_body = KeyBody,
    responses((status = 201, description = "the key, with its secret (shown once)", body = KeyView),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 409, response = inline(Conflict)),
        (status = 413, response = inline(PayloadTooLarge)), (status = 415, response = inline(UnsupportedMediaType)),
        (status = 422, response = inline(UnprocessableEntity)), (status = 503, response = inline(ServiceUnavailable))))]
pub async fn create_key(
    State(s): State<AppState>,
    Auth(a): Auth,
    Body(b): Body<KeyBody>,
) -> ApiResult<(StatusCode, Json<KeyView>)> {
    let k = team::create_key(&s.ports, &a, &b.name, &b.scopes, s.ports.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(KeyView::of(k.key, Some(k.secret)))))
}

/// The tenant's API keys, revoked ones too (owners).
#[utoipa::path(get, path = "/api/v1/api-keys", operation_id = "list_api_keys", tag = "team", security(("bearer" = [])),
    responses((status = 200, description = "the keys, newest first, without their secrets", body = Vec<KeyView>),
        (status = 401, response = inline(Unauthorized)), (status = 403, response = inline(Forbidden)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn keys(State(s): State<AppState>, Auth(a): Auth) -> ApiResult<Json<Vec<KeyView>>> {
    Ok(Json(team::keys(&s.ports, &a).await?.into_iter().map(|k| KeyView::of(k, None)).collect()))
}

/// Revoke a key (owners): the next request with it is refused, on every node.
#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", operation_id = "revoke_api_key", tag = "team", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the key")),
    responses((status = 204, description = "revoked"),
        (status = 400, response = inline(BadRequest)), (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(Forbidden)), (status = 404, response = inline(NotFound)),
        (status = 503, response = inline(ServiceUnavailable))))]
pub async fn revoke_key(State(s): State<AppState>, Auth(a): Auth, Id(id): Id<Uuid>) -> ApiResult<StatusCode> {
    team::revoke_key(&s.ports, &a, id, s.ports.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
