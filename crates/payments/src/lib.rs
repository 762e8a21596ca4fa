//! Payment formats from outside Innkeep, parsed, checked and written without I/O.
//!
//! - [`camt053`]: ISO 20022 bank-to-customer statements (camt.053.001.02 to .08), the
//!   file a bank gives for reconciling bank transfers;
//! - [`pain001`]: ISO 20022 credit transfer initiations (pain.001.001.03), the file that
//!   tells a bank to pay out a batch of transfers, and a CSV of the same payouts;
//! - [`statement_csv`]: the same lines from a simple `date,amount,currency,reference` CSV,
//!   for banks without camt.053;
//! - [`stripe`]: Stripe's webhook signature check, the objects Innkeep reads from Stripe,
//!   and the form body of a PaymentIntent create request (the `innkeep-stripe` crate
//!   sends it).
//!
//! Both statement parsers produce [`StatementLine`]s. Every function here takes bytes or
//! values and returns values: reading files, HTTP and clocks belong to the caller (the
//! current time is an argument where one is needed). No input makes anything here panic.
//!
//! Errors: each module has its own `thiserror` enum ([`Camt053Error`], [`Pain001Error`],
//! [`RowError`], [`stripe::SignatureError`], [`stripe::AmountError`]). A statement line that
//! could be read but not fully trusted is not an error: it carries a
//! [`StatementLine::problem`].

pub mod camt053;
mod decimal;
pub mod pain001;
pub mod rates;
pub mod statement_csv;
mod statement_line;
pub mod stripe;
mod xml_tree;

pub use camt053::{Camt053Error, Statement};
pub use pain001::Pain001Error;
pub use statement_csv::{RowError, RowErrorKind};
pub use statement_line::StatementLine;
