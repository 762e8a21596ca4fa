//! Reviews of stays: a guest reviews a completed stay once, within a window after
//! check-out; the property's staff answer once; anyone signed in reports abuse; operators
//! hide or show a review. A property's rating is the mean of its shown reviews.

use crate::event::{Change, Event};
use crate::{Actor, AppError, Ports, StoreError};
use async_trait::async_trait;
use innkeep_core::review::{check_reply, check_review, may_review};
use innkeep_core::{BookingId, Duty, PropertyId, ReviewError, ReviewId, Role, Scores, TenantId, UserId};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A review as kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    pub id: ReviewId,
    pub booking_id: BookingId,
    pub property_id: PropertyId,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    /// The name shown: the guest's first name as booked.
    pub author: String,
    pub scores: Scores,
    /// The overall score in tenths (86 = 8.6).
    pub overall: u16,
    pub text: String,
    pub created_at: Timestamp,
    pub reply: Option<String>,
    pub replied_at: Option<Timestamp>,
    /// Hidden by an operator (after reports of abuse); hidden reviews count in no rating.
    pub hidden_at: Option<Timestamp>,
    /// How many people reported it.
    pub reports: u32,
}

/// A property's rating: the mean overall score of its shown reviews, in tenths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    pub property_id: PropertyId,
    pub average: u16,
    pub count: u32,
}

/// What a write of a review found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Done,
    /// There is one already (a booking is reviewed once; a review answered once; a person
    /// reports a review once).
    AlreadyDone,
}

/// The store's role for reviews.
#[async_trait]
pub trait ReviewStore {
    /// Keep a new review with its event; `AlreadyDone` if the booking has one.
    async fn insert_review(&self, review: &Review, event: &Event) -> Result<Written, StoreError>;
    async fn review(&self, id: ReviewId) -> Result<Option<Review>, StoreError>;
    /// The reviews a person wrote, newest first (their data, for their copy of it).
    async fn reviews_by(&self, user: UserId) -> Result<Vec<Review>, StoreError>;
    /// The review of a booking, if it has one.
    async fn review_of_booking(&self, booking: BookingId) -> Result<Option<Review>, StoreError>;
    /// A property's reviews, newest first (hidden ones only when asked).
    async fn reviews_of(
        &self,
        property: PropertyId,
        hidden_too: bool,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Review>, StoreError>;
    /// The ratings of these properties (those without shown reviews are left out).
    async fn ratings(&self, properties: &[PropertyId]) -> Result<Vec<Rating>, StoreError>;
    /// Answer a review once; `AlreadyDone` if it was answered.
    async fn reply_review(
        &self,
        id: ReviewId,
        text: &str,
        now: Timestamp,
        event: &Event,
    ) -> Result<Written, StoreError>;
    /// Count a person's report once; `AlreadyDone` if they reported it before.
    async fn report_review(
        &self,
        id: ReviewId,
        user: UserId,
        reason: &str,
        now: Timestamp,
    ) -> Result<Written, StoreError>;
    /// Hide (`Some`) or show (`None`) a review.
    async fn set_review_hidden(&self, id: ReviewId, hidden: Option<Timestamp>, event: &Event)
    -> Result<(), StoreError>;
}

/// A review to write.
#[derive(Debug, Clone, Deserialize)]
pub struct NewReview {
    pub scores: Scores,
    #[serde(default)]
    pub text: String,
}

impl From<ReviewError> for AppError {
    fn from(e: ReviewError) -> Self {
        let (field, code) = match e {
            ReviewError::Score { aspect } => (aspect, "invalid_score"),
            ReviewError::TextTooLong => ("text", "review_too_long"),
            ReviewError::ReplyLength => ("text", "invalid_reply"),
            ReviewError::NotCompleted => return AppError::Conflict(e.to_string()),
            ReviewError::WindowClosed => return AppError::Conflict(e.to_string()),
        };
        AppError::invalid(field, code, e.to_string())
    }
}

/// The first word of a name (what a review shows of its author).
fn first_name(name: &str) -> String {
    name.split_whitespace().next().unwrap_or("Guest").chars().take(40).collect()
}

/// The guest of a completed stay reviews it, once, within the window after check-out.
#[tracing::instrument(skip_all, fields(booking_id = %booking))]
pub async fn write_review(
    ports: &Ports,
    actor: &Actor,
    booking: BookingId,
    new: NewReview,
    now: Timestamp,
) -> Result<Review, AppError> {
    let person = actor.person()?;
    let b = ports.store.booking(booking).await?.ok_or(AppError::NotFound { what: "booking" })?;
    if b.user_id != person {
        return Err(AppError::NotFound { what: "booking" });
    }
    let text = new.text.trim().to_string();
    check_review(&new.scores, &text)?;
    let property = ports.store.property(b.property_id).await?.ok_or(AppError::NotFound { what: "property" })?;
    may_review(b.status, b.check_out, property.draft.time_zone.today(now))?;
    let review = Review {
        id: ReviewId::new_v7(now),
        booking_id: b.id,
        property_id: b.property_id,
        tenant_id: b.tenant_id,
        user_id: person,
        author: first_name(&b.guest.name),
        scores: new.scores,
        overall: new.scores.overall_tenths(),
        text,
        created_at: now,
        reply: None,
        replied_at: None,
        hidden_at: None,
        reports: 0,
    };
    let event = Event::new(&Change::ReviewPublished(review.clone()), now, Some(b.tenant_id), review.id.0);
    match ports.store.insert_review(&review, &event).await? {
        Written::Done => Ok(review),
        Written::AlreadyDone => Err(AppError::Conflict("this stay has been reviewed already".into())),
    }
}

/// A review anyone may read: shown, or any to an operator and to the property's staff.
pub async fn visible_review(ports: &Ports, actor: Option<&Actor>, id: ReviewId) -> Result<Review, AppError> {
    let r = ports.store.review(id).await?.ok_or(AppError::NotFound { what: "review" })?;
    let staff = actor.is_some_and(|a| a.may(Duty::SeeTenant, r.tenant_id));
    if r.hidden_at.is_some() && !staff {
        return Err(AppError::NotFound { what: "review" });
    }
    Ok(r)
}

/// The property's staff (whose role changes listings) answer a review, once.
pub async fn reply(ports: &Ports, actor: &Actor, id: ReviewId, text: &str, now: Timestamp) -> Result<Review, AppError> {
    let mut r = ports.store.review(id).await?.ok_or(AppError::NotFound { what: "review" })?;
    if actor.role == Role::Admin {
        return Err(AppError::Forbidden("the property's staff"));
    }
    actor.check(Duty::Listings, r.tenant_id, "review")?;
    let text = text.trim().to_string();
    check_reply(&text)?;
    r.reply = Some(text.clone());
    r.replied_at = Some(now);
    let event = Event::new(&Change::ReviewChanged(r.clone()), now, Some(r.tenant_id), r.id.0);
    match ports.store.reply_review(id, &text, now, &event).await? {
        Written::Done => Ok(r),
        Written::AlreadyDone => Err(AppError::Conflict("this review has been answered already".into())),
    }
}

/// Anyone signed in reports a shown review as abusive, once; operators see the count.
pub async fn report(ports: &Ports, actor: &Actor, id: ReviewId, reason: &str, now: Timestamp) -> Result<(), AppError> {
    let person = actor.person()?;
    visible_review(ports, Some(actor), id).await?;
    let reason: String = reason.trim().chars().take(500).collect();
    ports.store.report_review(id, person, &reason, now).await?;
    Ok(())
}

/// An operator hides a review (it leaves the page and the rating) or shows it again.
pub async fn set_hidden(
    ports: &Ports,
    actor: &Actor,
    id: ReviewId,
    hide: bool,
    now: Timestamp,
) -> Result<Review, AppError> {
    if actor.role != Role::Admin {
        return Err(AppError::Forbidden("operators"));
    }
    let mut r = ports.store.review(id).await?.ok_or(AppError::NotFound { what: "review" })?;
    r.hidden_at = if hide { Some(r.hidden_at.unwrap_or(now)) } else { None };
    let event = Event::new(&Change::ReviewChanged(r.clone()), now, Some(r.tenant_id), r.id.0);
    ports.store.set_review_hidden(id, r.hidden_at, &event).await?;
    Ok(r)
}

/// A property's shown reviews, newest first, with its rating.
pub async fn property_reviews(
    ports: &Ports,
    property: PropertyId,
    limit: u32,
    offset: u32,
) -> Result<(Option<Rating>, Vec<Review>), AppError> {
    ports.store.property(property).await?.ok_or(AppError::NotFound { what: "property" })?;
    let rating = ports.store.ratings(&[property]).await?.into_iter().next();
    Ok((rating, ports.store.reviews_of(property, false, limit.clamp(1, 100), offset).await?))
}
