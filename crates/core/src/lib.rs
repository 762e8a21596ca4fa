//! Innkeep's domain: the values and rules of stays, pricing, policies and bookings.
//!
//! Glossary: a *tenant* is a host organisation; a *property* belongs to one tenant and
//! has *room types*; a *unit* is one physical room of a room type; a *night* is a local
//! date; a *stay* is the half-open range of nights `[check_in, check_out)`; *inventory*
//! is units and sold per room type per night; a *quote* prices a stay; a *hold* is a
//! booking not yet confirmed, which expires; an *event* is an outbox row.
//!
//! Nothing in this crate does I/O, awaits, or reads a clock: time comes in as arguments.

pub mod booking;
pub mod cancellation;
pub mod format;
pub mod geo;
pub mod ids;
pub mod ledger;
pub mod locale;
pub mod money;
pub mod night;
pub mod payment;
pub mod photo;
pub mod property;
pub mod quote;
pub mod review;
pub mod room_type;
pub mod stay;
pub mod team;
pub mod user;

pub use booking::{BookingStatus, TransitionError};
pub use cancellation::CancellationPolicy;
pub use ids::*;
pub use locale::Locale;
pub use money::{Currency, Money, MoneyError};
pub use night::{CalendarNight, NightRow, OfferError};
pub use payment::{PaymentMethod, PaymentStatus, PaymentTiming};
pub use photo::{ImageKind, MAX_PHOTO_BYTES, PhotoError};
pub use property::{Address, Amenity, CountryCode, PropertyDraft, PropertyError, PropertyType, TimeZoneName};
pub use quote::{NightPrice, Quote, QuoteLine};
pub use review::{ReviewError, Scores};
pub use room_type::{
    Charge, ChargeKind, ChildRate, LosDiscount, NightOverride, Occupancy, RatePlan, RoomTypeDraft, RoomTypeError,
    SeasonalRule,
};
pub use stay::{ChildAges, MAX_CHILD_AGE, MAX_CHILD_AGES, MAX_ROOMS, Party, Stay, StayError, StayLimits, one_room};
pub use team::{Duties, Duty, Scope, StaffRole};
pub use user::{Email, EmailError, Password, PasswordError, Role};
