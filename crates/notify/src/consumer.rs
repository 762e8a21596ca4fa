//! The notifications consumer: turns outbox events into messages in the delivery log,
//! rendered in each recipient's language, never sending anything itself (the dispatcher
//! does). Writing the same event's messages again writes nothing new (each message's dedup
//! key names the event, the template, the channel and the recipient), so the consumer is
//! idempotent and may handle events of different bookings side by side.

use crate::template::{BookingFacts, CALENDAR_CONFLICT, ConflictFacts, Template, render, render_conflict};
use async_trait::async_trait;
use innkeep_app::event::{Change, Consumer, EventKind, HandleError, StoredEvent};
use innkeep_app::notify::{Attachment, Channel, Content, NewMessage};
use innkeep_app::payment::Payment;
use innkeep_app::store::Booking;
use innkeep_app::{Ports, StoreError};
use innkeep_core::{BookingStatus, Locale, PaymentStatus};
use jiff::Timestamp;
use uuid::Uuid;

/// What the consumer writes, from the node's settings.
#[derive(Debug, Clone)]
pub struct NotifySettings {
    /// The site's public address, for the links in messages (`https://innkeep.example`).
    pub public_url: String,
    /// Whether SMS is configured: only then are SMS written for guests with a phone.
    pub sms: bool,
    /// Days before check-in the reminder goes out (0: none).
    pub reminder_days: u32,
    /// The local time (in the property's zone) the reminder goes out at.
    pub reminder_time: jiff::civil::Time,
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            public_url: "http://127.0.0.1:8080".into(),
            sms: false,
            reminder_days: 2,
            reminder_time: jiff::civil::time(9, 0, 0, 0),
        }
    }
}

/// The consumer's name (its position in the outbox).
pub const NAME: &str = "notifications";

/// The template name of the pre-arrival reminder (cancelled with its booking).
pub const REMINDER: &str = "reminder";

/// The consumer of the outbox that writes guest, host and webhook messages.
pub struct Notifications {
    pub ports: Ports,
    pub settings: NotifySettings,
}

#[async_trait]
impl Consumer for Notifications {
    fn name(&self) -> &str {
        NAME
    }

    async fn handle(&self, event: &StoredEvent) -> Result<(), HandleError> {
        let mut messages = self.webhook_messages(event).await?;
        match event.event.change() {
            Ok(Change::Booking(b)) => messages.extend(self.booking_messages(event, &b).await?),
            Ok(Change::CalendarConflict(c)) => messages.extend(self.conflict_messages(event, &c).await?),
            Ok(Change::PaymentSucceeded(p)) => messages
                .extend(self.payment_messages(event, &p, Template::PaymentReceived { amount: p.received }).await?),
            Ok(Change::PaymentUpdated(p)) if p.status == PaymentStatus::Failed => {
                let reason = p.failure.clone().unwrap_or_default();
                messages.extend(self.payment_messages(event, &p, Template::PaymentFailed { reason }).await?)
            }
            Ok(_) => {}
            // A payload that does not read is a bug of its producer; it would fail again.
            Err(e) => return Err(Box::new(e)),
        }
        if !messages.is_empty() {
            let added = self.ports.store.enqueue(&messages).await?;
            tracing::debug!(event_id = %event.event.id, added, "messages written");
        }
        Ok(())
    }

    fn idempotent(&self) -> bool {
        true
    }

    fn concurrency(&self) -> usize {
        8
    }
}

impl Notifications {
    /// The messages of a booking's move: to its guest, to its hosts, and its reminder.
    async fn booking_messages(&self, event: &StoredEvent, b: &Booking) -> Result<Vec<NewMessage>, StoreError> {
        let (guest_template, host_template) = match b.status {
            BookingStatus::Held => {
                (Some(Template::BookingHeld { expires_at: b.hold_expires_at.unwrap_or(b.created_at) }), None)
            }
            BookingStatus::Confirmed => (Some(Template::BookingConfirmed), Some(Template::HostBooking)),
            BookingStatus::Cancelled => (
                Some(Template::BookingCancelled { refund: b.refund }),
                Some(Template::HostCancellation { refund: b.refund }),
            ),
            _ => (None, None),
        };
        if matches!(b.status, BookingStatus::Cancelled | BookingStatus::Expired | BookingStatus::NoShow) {
            let n = self.ports.store.cancel_pending(b.id, REMINDER).await?;
            if n > 0 {
                tracing::info!(booking_id = %b.id, "reminder cancelled");
            }
        }
        if guest_template.is_none() && host_template.is_none() {
            return Ok(Vec::new());
        }
        let Some(facts) = self.facts(b).await? else { return Ok(Vec::new()) };
        let now = event.event.occurred_at;
        let mut out = Vec::new();
        let guest_locale = self.ports.store.user(b.user_id).await?.map(|u| u.locale).unwrap_or_default();
        if let Some(t) = guest_template {
            out.extend(self.to_guest(event, b, &facts, &t, guest_locale, now, now));
        }
        if let Some(t) = host_template {
            let host_facts = BookingFacts { link: format!("{}/host/bookings", self.base()), ..facts.clone() };
            for host in self.ports.store.tenant_users(b.tenant_id).await? {
                let r = render(&t, host.locale, &host_facts);
                out.push(self.message(
                    event,
                    b,
                    &t,
                    Channel::Email,
                    host.email.as_str(),
                    Content {
                        subject: r.subject,
                        text: r.text,
                        html: Some(r.html),
                        transactional: true,
                        ..Content::default()
                    },
                    now,
                ));
            }
        }
        if b.status == BookingStatus::Confirmed && self.settings.reminder_days > 0 {
            let t = Template::Reminder { days: self.settings.reminder_days };
            let due = self.reminder_at(b, &facts.time_zone).filter(|at| *at > now);
            if let (Some(at), true) = (due, self.ports.store.wants_reminders(b.user_id).await?) {
                let mut key = [0u8; 24];
                rand::RngCore::fill_bytes(&mut rand::rng(), &mut key);
                let token = self.ports.store.unsubscribe_token(b.user_id, &hex::encode(key)).await?;
                let mut reminder = self.to_guest(event, b, &facts, &t, guest_locale, at, now);
                for m in &mut reminder {
                    m.content.unsubscribe_url = Some(format!("{}/unsubscribe/{token}", self.base()));
                }
                out.extend(reminder);
            }
        }
        Ok(out)
    }

    /// A calendar conflict, mailed to the tenant's hosts in each one's language.
    async fn conflict_messages(
        &self,
        event: &StoredEvent,
        c: &innkeep_app::channels::CalendarConflict,
    ) -> Result<Vec<NewMessage>, StoreError> {
        let Some(tenant) = event.event.tenant_id else { return Ok(Vec::new()) };
        let Some(rt) = self.ports.store.room_type(c.room_type_id).await? else { return Ok(Vec::new()) };
        let Some(p) = self.ports.store.property(rt.property_id).await? else { return Ok(Vec::new()) };
        let facts = ConflictFacts {
            feed_name: c.feed_name.clone(),
            property_name: p.draft.name.clone(),
            room_type_name: rt.draft.name.clone(),
            nights: c.nights.clone(),
            link: format!("{}/host/room-types/{}/calendar#channels", self.base(), rt.id),
        };
        let now = event.event.occurred_at;
        let mut out = Vec::new();
        for host in self.ports.store.tenant_users(tenant).await? {
            let r = render_conflict(host.locale, &facts);
            let recipient = host.email.as_str().to_string();
            out.push(NewMessage {
                id: Uuid::now_v7(),
                dedup_key: format!("{}/{CALENDAR_CONFLICT}/{}/{recipient}", event.event.id, Channel::Email.as_str()),
                event_id: Some(event.event.id),
                tenant_id: Some(tenant),
                booking_id: None,
                webhook_id: None,
                template: CALENDAR_CONFLICT.to_string(),
                channel: Channel::Email,
                recipient,
                content: Content {
                    subject: r.subject,
                    text: r.text,
                    html: Some(r.html),
                    transactional: true,
                    ..Content::default()
                },
                not_before: now,
                created_at: now,
            });
        }
        Ok(out)
    }

    /// A payment's message to the guest of its booking.
    async fn payment_messages(
        &self,
        event: &StoredEvent,
        p: &Payment,
        t: Template,
    ) -> Result<Vec<NewMessage>, StoreError> {
        let Some(b) = self.ports.store.booking(p.booking_id).await? else { return Ok(Vec::new()) };
        let Some(facts) = self.facts(&b).await? else { return Ok(Vec::new()) };
        let locale = self.ports.store.user(b.user_id).await?.map(|u| u.locale).unwrap_or_default();
        let now = event.event.occurred_at;
        Ok(self.to_guest(event, &b, &facts, &t, locale, now, now))
    }

    /// A guest's e-mail (with the stay's `.ics` on a confirmation) and, when they gave a
    /// phone number and SMS is configured, an SMS; due at `at`.
    #[allow(clippy::too_many_arguments)]
    fn to_guest(
        &self,
        event: &StoredEvent,
        b: &Booking,
        facts: &BookingFacts,
        t: &Template,
        locale: Locale,
        at: Timestamp,
        now: Timestamp,
    ) -> Vec<NewMessage> {
        // The guest erased their account: nobody is left to write to.
        if innkeep_app::data_rights::is_erased_address(&b.guest.email) {
            return Vec::new();
        }
        let r = render(t, locale, facts);
        let mut attachments = Vec::new();
        if matches!(t, Template::BookingConfirmed) {
            attachments.push(Attachment {
                filename: "stay.ics".into(),
                content_type: "text/calendar; charset=UTF-8; method=PUBLISH".into(),
                body: crate::ics::stay(facts, &format!("{}@innkeep", b.id), now),
            });
        }
        let email = Content {
            subject: r.subject.clone(),
            text: r.text,
            html: Some(r.html),
            attachments,
            json: None,
            transactional: t.transactional(),
            unsubscribe_url: None,
            secret: false,
        };
        let mut out = vec![NewMessage {
            not_before: at,
            ..self.message(event, b, t, Channel::Email, &b.guest.email, email, now)
        }];
        let phone = b.guest.phone.as_deref().and_then(e164);
        if let (true, Some(phone)) = (self.settings.sms, phone) {
            let sms =
                Content { subject: r.subject, text: r.sms, transactional: t.transactional(), ..Content::default() };
            out.push(NewMessage { not_before: at, ..self.message(event, b, t, Channel::Sms, &phone, sms, now) });
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn message(
        &self,
        event: &StoredEvent,
        b: &Booking,
        t: &Template,
        channel: Channel,
        recipient: &str,
        content: Content,
        now: Timestamp,
    ) -> NewMessage {
        // A reminder is one per booking, whichever confirmation event scheduled it.
        let key = if t.name() == REMINDER {
            format!("{REMINDER}/{}/{}/{recipient}", b.id, channel.as_str())
        } else {
            format!("{}/{}/{}/{recipient}", event.event.id, t.name(), channel.as_str())
        };
        NewMessage {
            id: Uuid::now_v7(),
            dedup_key: key,
            event_id: Some(event.event.id),
            tenant_id: Some(b.tenant_id),
            booking_id: Some(b.id),
            webhook_id: None,
            template: t.name().to_string(),
            channel,
            recipient: recipient.to_string(),
            content,
            not_before: now,
            created_at: now,
        }
    }

    /// The webhook deliveries of an event: one per subscription of its tenant to its kind.
    async fn webhook_messages(&self, event: &StoredEvent) -> Result<Vec<NewMessage>, StoreError> {
        let e = &event.event;
        let Some(tenant) = e.tenant_id else { return Ok(Vec::new()) };
        if !innkeep_app::notify::subscribable(e.kind) {
            return Ok(Vec::new());
        }
        let hooks = self.ports.store.webhooks(Some(tenant)).await?;
        let body = serde_json::json!({
            "id": e.id,
            "type": e.kind,
            "version": e.version,
            "occurred_at": e.occurred_at,
            "tenant_id": e.tenant_id,
            "aggregate_id": e.aggregate_id,
            "data": e.payload,
        });
        Ok(hooks
            .into_iter()
            .filter(|w| w.events.contains(&e.kind))
            .map(|w| NewMessage {
                id: Uuid::now_v7(),
                dedup_key: format!("{}/webhook/{}", e.id, w.id),
                event_id: Some(e.id),
                tenant_id: Some(tenant),
                booking_id: booking_of(e.kind, e.aggregate_id),
                webhook_id: Some(w.id),
                template: e.kind.as_str().to_string(),
                channel: Channel::Webhook,
                recipient: w.url,
                content: Content {
                    subject: e.kind.as_str().to_string(),
                    json: Some(body.clone()),
                    transactional: true,
                    ..Content::default()
                },
                not_before: e.occurred_at,
                created_at: e.occurred_at,
            })
            .collect())
    }

    /// What a booking's messages say about its stay; `None` if its property or room type
    /// is gone.
    async fn facts(&self, b: &Booking) -> Result<Option<BookingFacts>, StoreError> {
        let Some((room_type, property)) = self.ports.store.room_type_with_property(b.room_type_id).await? else {
            return Ok(None);
        };
        let p = &property.draft;
        Ok(Some(BookingFacts {
            booking_id: b.id,
            guest_name: b.guest.name.clone(),
            property_name: p.name.clone(),
            address: p.address.one_line(),
            // "Double Room × 2" for a booking of two rooms.
            room_type_name: match b.rooms {
                0 | 1 => room_type.draft.name.clone(),
                rooms => format!("{} × {rooms}", room_type.draft.name),
            },
            check_in: b.check_in,
            check_out: b.check_out,
            check_in_time: p.check_in_time,
            check_out_time: p.check_out_time,
            time_zone: p.time_zone.as_str().to_string(),
            adults: b.adults,
            children: b.children,
            total: b.total,
            link: format!("{}/checkout/{}", self.base(), b.id),
        }))
    }

    /// When a booking's reminder goes out: `reminder_days` before check-in at
    /// `reminder_time`, in the property's zone.
    fn reminder_at(&self, b: &Booking, zone: &str) -> Option<Timestamp> {
        let tz = jiff::tz::TimeZone::get(zone).ok()?;
        let day = b.check_in.checked_sub(jiff::Span::new().days(i64::from(self.settings.reminder_days))).ok()?;
        day.to_datetime(self.settings.reminder_time).to_zoned_datetime(tz).ok().map(|z| z.timestamp())
    }

    fn base(&self) -> &str {
        self.settings.public_url.trim_end_matches('/')
    }
}

/// A phone number as an SMS gateway takes it (E.164: `+` and 8 to 15 digits), from what a
/// guest typed (`+351 912 345 678`, `+1 (415) 555-0100`); `None` if it is not one.
fn e164(typed: &str) -> Option<String> {
    let t = typed.trim();
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    let only_separators = t.chars().skip(1).all(|c| c.is_ascii_digit() || " -.()".contains(c));
    (t.starts_with('+') && only_separators && (8..=15).contains(&digits.len())).then(|| format!("+{digits}"))
}

/// The booking an event is about, for the delivery log (booking events only).
fn booking_of(kind: EventKind, aggregate: Uuid) -> Option<innkeep_core::BookingId> {
    kind.as_str().starts_with("booking.").then_some(innkeep_core::BookingId(aggregate))
}

#[cfg(test)]
mod tests {
    use super::e164;

    #[test]
    fn a_typed_phone_number_is_sent_in_e164_or_not_at_all() {
        assert_eq!(e164("+351 912 345 678").as_deref(), Some("+351912345678"));
        assert_eq!(e164(" +1 (415) 555-0100 ").as_deref(), Some("+14155550100"));
        for bad in ["912 345 678", "+12", "+1234567890123456", "+351 912 ext 5", "", "+"] {
            assert_eq!(e164(bad), None, "{bad:?}");
        }
    }
}
