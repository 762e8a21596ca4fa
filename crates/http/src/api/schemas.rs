//! OpenAPI schemas of the domain values the API answers as they serialize (bookings,
//! properties, room types, quotes, search pages): `core` and `app` know nothing of OpenAPI,
//! so their JSON shape is described here, field for field. The integration test
//! `crates/innkeep/tests/openapi.rs` checks real answers against these schemas.

use utoipa::ToSchema;

/// An amount in minor units of a currency (cents for EUR).
#[derive(ToSchema)]
pub struct Money {
    pub minor: i64,
    /// ISO 4217 code
    #[schema(example = "EUR")]
    pub currency: String,
}

/// The price of one night.
#[derive(ToSchema)]
pub struct NightPrice {
    #[schema(format = Date)]
    pub date: String,
    pub price: Money,
}

/// A tax or fee line of a quote.
#[derive(ToSchema)]
pub struct QuoteLine {
    pub name: String,
    pub tax: bool,
    pub amount: Money,
}

/// The full price of a stay.
#[derive(ToSchema)]
pub struct Quote {
    pub currency: String,
    /// The price of each night for one room
    pub nights: Vec<NightPrice>,
    /// Rooms the stay takes: the subtotal is the nights' prices times this
    pub rooms: u16,
    pub subtotal: Money,
    pub discount: Money,
    /// What the children pay by the room type's children's rates (their ages, every night);
    /// absent where it has none or nobody is a child
    pub children: Option<Money>,
    pub charges: Vec<QuoteLine>,
    pub total: Money,
}

/// Who stays and how to reach them.
#[derive(ToSchema)]
pub struct GuestContact {
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
}

/// A booking, whatever its status.
#[derive(ToSchema)]
pub struct Booking {
    #[schema(format = Uuid)]
    pub id: String,
    /// held, confirmed, checked_in, completed, expired, cancelled or no_show
    pub status: String,
    #[schema(format = Uuid)]
    pub tenant_id: String,
    #[schema(format = Uuid)]
    pub property_id: String,
    #[schema(format = Uuid)]
    pub room_type_id: String,
    #[schema(format = Uuid)]
    pub user_id: String,
    #[schema(format = Date)]
    pub check_in: String,
    #[schema(format = Date)]
    pub check_out: String,
    pub adults: u16,
    pub children: u16,
    /// Units of the room type taken on each night, the party shared between them
    pub rooms: u16,
    /// The children's ages as given when booking (absent if not given)
    pub child_ages: Option<Vec<u8>>,
    pub guest: GuestContact,
    pub quote: Quote,
    pub total: Money,
    /// The refund of a cancelled booking.
    pub refund: Option<Money>,
    /// When a held booking expires unless confirmed.
    #[schema(format = DateTime)]
    pub hold_expires_at: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// A property.
#[derive(ToSchema)]
pub struct Property {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub tenant_id: String,
    pub name: String,
    pub description: String,
    pub property_type: String,
    /// {lines: [..], city, region?, postal_code?, country}
    #[schema(value_type = Object)]
    pub address: (),
    pub latitude: f64,
    pub longitude: f64,
    pub time_zone: String,
    pub currency: String,
    pub check_in_time: String,
    pub check_out_time: String,
    pub amenities: Vec<String>,
    pub cancellation_policy: String,
    /// at_property or prepay
    pub payment_timing: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// A room type.
#[derive(ToSchema)]
pub struct RoomType {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub property_id: String,
    #[schema(format = Uuid)]
    pub tenant_id: String,
    pub name: String,
    pub description: String,
    /// {max_adults, max_children, max_total}
    #[schema(value_type = Object)]
    pub occupancy: (),
    pub beds: String,
    pub units: u32,
    pub base_rate_minor: i64,
    pub min_stay: u16,
    pub max_stay: u16,
    /// {weekend, seasons, los_discounts, charges}
    #[schema(value_type = Object)]
    pub rate_plan: (),
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// A bookable room type with the full quote for the stay.
#[derive(ToSchema)]
pub struct Offer {
    pub room_type: RoomType,
    /// Fewest units free on any night of the stay.
    pub units_left: u32,
    pub quote: Quote,
}

/// One night of a calendar as a host sees it.
#[derive(ToSchema)]
pub struct CalendarNight {
    #[schema(format = Date)]
    pub date: String,
    pub units: u32,
    pub sold: u32,
    pub available: u32,
    /// Price of the night in minor units.
    pub price: i64,
    pub closed: bool,
    pub min_stay: u16,
}

/// A place of the gazetteer.
#[derive(ToSchema)]
pub struct Place {
    pub id: u32,
    pub name: String,
    pub country: String,
    pub admin1: String,
    pub latitude: f64,
    pub longitude: f64,
    pub population: u64,
    pub time_zone: String,
}

/// One bookable stay.
#[derive(ToSchema)]
pub struct Hit {
    pub property: Property,
    pub distance_km: Option<f64>,
    /// The cheapest bookable room type for the stay and party.
    #[schema(format = Uuid)]
    pub room_type_id: String,
    pub room_type_name: String,
    pub total: Money,
    pub nightly: Money,
    pub offers: u32,
    /// The property's rating, if any of its reviews is shown.
    pub rating: Option<crate::api::reviews::RatingView>,
}

/// Facet counts over the candidates: `[value, count]` pairs.
#[derive(ToSchema)]
pub struct FacetCounts {
    #[schema(value_type = Vec<Vec<Value>>)]
    pub property_types: (),
    #[schema(value_type = Vec<Vec<Value>>)]
    pub amenities: (),
    #[schema(value_type = Vec<Vec<Value>>)]
    pub price_bands: (),
    /// Candidates rated at least `9+`, `8+`, `7+`, `6+` points of 10.
    #[schema(value_type = Vec<Vec<Value>>)]
    pub ratings: (),
}

/// A page of search results.
#[derive(ToSchema)]
pub struct SearchPage {
    pub place: Option<Place>,
    pub hits: Vec<Hit>,
    pub page: u32,
    pub per_page: u32,
    pub total: u32,
    pub facets: FacetCounts,
}

/// A search a user made.
#[derive(ToSchema)]
pub struct RecentSearch {
    /// The query string, to run the search again: `GET /api/v1/search?{query}`.
    pub query: String,
    pub summary: String,
    #[schema(format = DateTime)]
    pub searched_at: String,
}

/// An event of a batch that was refused, and why.
#[derive(ToSchema)]
pub struct Rejected {
    pub index: u32,
    pub reason: String,
}

/// What a batch of client events did.
#[derive(ToSchema)]
pub struct Ingested {
    pub accepted: u32,
    pub rejected: Vec<Rejected>,
}

/// A payment of a booking.
#[derive(ToSchema)]
pub struct Payment {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub booking_id: String,
    #[schema(format = Uuid)]
    pub tenant_id: String,
    #[schema(format = Uuid)]
    pub user_id: String,
    /// card or bank_transfer
    pub method: String,
    /// requires_action, processing, succeeded, failed or canceled
    pub status: String,
    /// What is asked.
    pub amount: Money,
    /// What arrived so far.
    pub received: Money,
    pub refunded: Money,
    /// The ISO 11649 reference a bank transfer quotes.
    pub reference: Option<String>,
    /// The payment provider's id of a card payment.
    pub provider_id: Option<String>,
    /// What the paying guest's client confirms a card payment with at the provider (shown
    /// to that guest only, once the provider's payment is made).
    pub client_secret: Option<String>,
    /// Where the paying guest's browser confirms a card payment (the provider's hosted
    /// step), where one is configured.
    pub checkout_url: Option<String>,
    pub failure: Option<String>,
    /// Where to send an open bank transfer.
    pub instructions: Option<TransferInstructions>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// Where and how to send a bank transfer.
#[derive(ToSchema)]
pub struct TransferInstructions {
    pub beneficiary: String,
    pub iban: String,
    pub bic: String,
    /// Quote it exactly: the payment is matched by it.
    pub reference: String,
    /// What is still to pay.
    pub amount: Money,
}

/// A refund of (part of) a payment.
#[derive(ToSchema)]
pub struct Refund {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub payment_id: String,
    pub amount: Money,
    /// pending (owed to the guest) until paid back: succeeded once the provider refunded
    /// the card; failed if the provider refused (see failure)
    pub status: String,
    /// requested, cancellation or booking_not_held
    pub reason: String,
    pub failure: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
}
