//! Formats of the channels (Airbnb, Booking.com, a host's own calendar), read and written
//! without I/O.
//!
//! - [`ical`]: iCalendar (RFC 5545) feeds. [`read_feed`] turns a channel's feed into the
//!   [`Block`]s of nights it keeps busy; [`write_feed`] writes the feed a channel imports
//!   from Innkeep.
//!
//! Every function here takes text and values and returns values: fetching a feed, the
//! size limit of what is fetched and the clock belong to the caller (the time stamp of an
//! export is an argument). No input makes anything here panic, and the work of a read is
//! bounded (see [`ical`] for the limits on recurrences).
//!
//! Errors: [`FeedError`] when a text is not a readable iCalendar feed at all; an event that
//! could not be read is not an error but a note in [`Feed::skipped`].

pub mod ical;
pub mod ota;
pub mod rates_csv;

pub use ical::{Block, ExportEvent, Feed, FeedError, Window, nights, read_feed, runs, write_feed};
